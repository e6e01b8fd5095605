/**
 * The player and scheduler over the reference game (no chain): two keepers with their own stores play
 * a game to the end; a keeper restarted from its store mid-game — even with a transaction that landed
 * just before the crash — resumes and wins without sending anything twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ReferenceGame } from "../../keeper/game/reference.ts";
import { requiredFinalStatus } from "../../keeper/game/solver.ts";
import { toyAbsolutePrestate, toyStepVerifier, toyTraces, toyWorld } from "../../keeper/game/toy.ts";
import type { DisputeTraces } from "../../keeper/game/trace-provider.ts";
import { type Action, GamePhase, type Hex, Side } from "../../keeper/game/types.ts";
import { type GameClient, referenceGameClient } from "../../keeper/src/dispute/client.ts";
import { createGamePlayer, type DisputeProgress, gameIdOf, type GamePlayer } from "../../keeper/src/dispute/player.ts";
import { createDisputeScheduler, type DisputeScheduler, type ScheduledGame } from "../../keeper/src/dispute/scheduler.ts";
import { openStore, type KeeperStore } from "../../keeper/src/store/store.ts";

const world = toyWorld(12, 30n);
const ADDRESS = "0x0000000000000000000000000000000000067a3e" as Hex;
const honest = toyTraces(world);
const cheater = toyTraces(world, { graphLieFrom: 6, vmLieFrom: 9n, vmLieStatus: requiredFinalStatus(Side.Defender), vmFinalPosition: 64n, salt: "p" });

function newGame(): ReferenceGame {
  return new ReferenceGame({
    address: ADDRESS,
    nodeCount: world.nodeCount,
    state0: honest.graph.valueAt(0n),
    stateN: [cheater.graph.valueAt(12n), honest.graph.valueAt(12n)],
    traceRoots: [cheater.graph.traceRoot, honest.graph.traceRoot],
    modelRoot: `0x${"33".repeat(32)}`,
    absolutePrestate: toyAbsolutePrestate(world),
    graphWidthBits: 1,
    vmWidthBits: 2,
    vmTraceDepth: 6,
    clockDuration: 1_000n,
    startTime: 10n,
    localContext: `0x${"00".repeat(32)}`,
    verifier: toyStepVerifier(world),
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function diskStore(): { path: string; open: () => KeeperStore } {
  const dir = mkdtempSync(join(tmpdir(), "oao-dispute-"));
  dirs.push(dir);
  const path = join(dir, "keeper.db");
  return { path, open: () => openStore(path) };
}

function keeper(store: KeeperStore, side: Side, traces: DisputeTraces, client: GameClient): DisputeScheduler {
  const s = createDisputeScheduler({
    store,
    playerFor: (g: ScheduledGame) => createGamePlayer({ client, side: g.side, traces, requestId: g.requestId, store }),
  });
  s.add({ address: ADDRESS, requestId: 7n, side });
  return s;
}

/** Ticks both keepers until the game is resolved; advances time when nobody acts. */
async function runUntilResolved(game: ReferenceGame, clock: { now: bigint }, keepers: DisputeScheduler[], maxTicks = 500): Promise<number> {
  for (let t = 0; t < maxTicks; t++) {
    if (game.resolved !== undefined) return t;
    const before = clock.now;
    for (const k of keepers) {
      for (const r of (await k.tick()).values()) if (r instanceof Error) throw r;
    }
    if (clock.now === before) clock.now += 300n;
  }
  throw new Error("the game did not end");
}

describe("dispute players and scheduler (reference game)", () => {
  it("two keepers play a game to the end; each store records the outcome and the figures", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const honestStore = openStore(":memory:");
    const cheaterStore = openStore(":memory:");
    const h = keeper(honestStore, Side.Challenger, honest, referenceGameClient(game, Side.Challenger, clock));
    const c = keeper(cheaterStore, Side.Defender, cheater, referenceGameClient(game, Side.Defender, clock));
    await runUntilResolved(game, clock, [h, c]);
    expect(game.resolved).toBe(Side.Challenger);
    await h.tick();
    await c.tick();
    const mine = honestStore.getGame<DisputeProgress>(gameIdOf(ADDRESS))!;
    expect(mine.status).toBe("won");
    expect(mine.state.winner).toBe("challenger");
    expect(mine.state.graphRounds).toBe(game.graphRounds);
    expect(mine.state.vmRounds).toBe(game.vmRounds);
    expect(mine.state.transactions).toBe(game.graphRounds + 1 + game.vmRounds + 1); // rounds, final VM state, step
    expect(cheaterStore.getGame(gameIdOf(ADDRESS))!.status).toBe("lost");
    expect(h.active()).toEqual([]);
  });

  it("a keeper restarted from its store resumes the game, even after a crash right after a transaction landed", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const disk = diskStore();
    const cheaterKeeper = keeper(openStore(":memory:"), Side.Defender, cheater, referenceGameClient(game, Side.Defender, clock));
    // The honest keeper's client "crashes" after its 4th transaction lands on chain.
    const real = referenceGameClient(game, Side.Challenger, clock);
    let sends = 0;
    const sent: Action["kind"][] = [];
    const crashing: GameClient = {
      ...real,
      async send(action) {
        const r = await real.send(action);
        sent.push(action.kind);
        if (++sends === 4) throw new Error("process killed");
        return r;
      },
    };
    let store = disk.open();
    let h = keeper(store, Side.Challenger, honest, crashing);
    await expect(runUntilResolved(game, clock, [h, cheaterKeeper])).rejects.toThrow(/process killed/);
    expect(game.resolved).toBeUndefined();
    store.close();

    // Restart: a new scheduler finds the active game in the store and rebuilds its player.
    store = disk.open();
    const counted: GameClient = {
      ...real,
      async send(action) {
        sent.push(action.kind);
        return real.send(action);
      },
    };
    h = createDisputeScheduler({
      store,
      playerFor: (g) => createGamePlayer({ client: counted, side: g.side, traces: honest, requestId: g.requestId, store }),
    });
    expect(h.active()).toEqual([ADDRESS]);
    await runUntilResolved(game, clock, [h, cheaterKeeper]);
    expect(game.resolved).toBe(Side.Challenger);
    // Exactly one post per round: the move that landed before the crash was not sent again.
    const posts = sent.filter((k) => k === "moveGraph" || k === "moveVm").length;
    expect(posts).toBe(game.graphRounds + game.vmRounds);
    await h.tick();
    expect(store.getGame<DisputeProgress>(gameIdOf(ADDRESS))!.status).toBe("won");
    store.close();
  });

  it("a silent cheater loses on time: the honest keeper claims the timeout", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const h = keeper(openStore(":memory:"), Side.Challenger, honest, referenceGameClient(game, Side.Challenger, clock));
    await runUntilResolved(game, clock, [h]);
    expect(game.resolved).toBe(Side.Challenger);
    expect(game.view(clock.now).phase).toBe(GamePhase.Resolved);
  });

  it("does not load a preimage part the oracle already holds, and refuses to play a stored game for the other side", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const store = openStore(":memory:");
    const loads: bigint[] = [];
    const base = referenceGameClient(game, Side.Challenger, clock);
    const client: GameClient = { ...base, hasPreimagePart: async () => true, send: async (a) => (a.kind === "loadPreimage" ? (loads.push(a.partOffset), base.send(a)) : base.send(a)) };
    const withPreimage: DisputeTraces = {
      graph: honest.graph,
      vm: (inputs, addr) => {
        const vm = honest.vm(inputs, addr);
        return { valueAt: (p) => vm.valueAt(p), stepData: (p) => ({ ...vm.stepData(p), preimage: { key: "0x02", oracleKey: "0x02", local: false, offset: 8n, data: "0x00" } }) };
      },
    };
    const h = keeper(store, Side.Challenger, withPreimage, client);
    const c = keeper(openStore(":memory:"), Side.Defender, cheater, referenceGameClient(game, Side.Defender, clock));
    await runUntilResolved(game, clock, [h, c]);
    expect(game.resolved).toBe(Side.Challenger);
    expect(loads).toEqual([]);
    expect(() => createGamePlayer({ client, side: Side.Defender, traces: honest, requestId: 7n, store })).toThrow(/stored as played by the challenger/);
  });

  it("a game address that comes back for another request (a reorg re-created the factory's games) is played for that request", async () => {
    // The old player (request 7) stays active, as a stored row or a round still running would keep it; the game's
    // ClaimChallenged on the new chain names request 9 at the same address.
    const store = openStore(":memory:");
    const built: bigint[] = [];
    const players: GamePlayer[] = [];
    const replaced: string[] = [];
    const s = createDisputeScheduler({
      store,
      playerFor: (g: ScheduledGame) => {
        built.push(g.requestId);
        const p = createGamePlayer({ client: referenceGameClient(newGame(), g.side, { now: 10n }), side: g.side, traces: honest, requestId: g.requestId, store });
        players.push(p);
        return p;
      },
      onReplaced: (address) => replaced.push(address),
    });
    s.add({ address: ADDRESS, requestId: 7n, side: Side.Challenger });
    s.add({ address: ADDRESS, requestId: 7n, side: Side.Challenger }); // the same game again: kept
    expect(built).toEqual([7n]);
    s.add({ address: ADDRESS, requestId: 9n, side: Side.Challenger });
    expect(built).toEqual([7n, 9n]);
    expect(replaced).toEqual([ADDRESS]);
    expect(s.watch().map((w) => w.requestId)).toEqual([9n]);
    await s.tick();
    expect(store.getGame(gameIdOf(ADDRESS))?.requestId).toBe(9n);
    // The old player, ticked by a round still running, does not save over the new game's row.
    await players[0]!.tick();
    expect(store.getGame(gameIdOf(ADDRESS))?.requestId).toBe(9n);
    // A restarted keeper resumes it for request 9.
    const again = createDisputeScheduler({ store, playerFor: (g: ScheduledGame) => (built.push(g.requestId), players[1]!) });
    expect(again.watch().map((w) => w.requestId)).toEqual([9n]);
  });
});

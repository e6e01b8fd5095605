/**
 * What the dispute scheduler reports to the keeper's watchdog (keeper/src/service/watchdog.ts, issue 13 "never
 * blind") and how it counts finished games, over the reference game (no chain): each game's end counted once
 * (a restart does not count it again), a stored game it cannot build a player for reported and retried, moves
 * failing tick after tick, our move with nothing sent, and a move saved as `pending` when the process died
 * re-read from the game and sent by the restarted keeper.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ReferenceGame } from "../../keeper/game/reference.ts";
import { requiredFinalStatus } from "../../keeper/game/solver.ts";
import { toyAbsolutePrestate, toyStepVerifier, toyTraces, toyWorld } from "../../keeper/game/toy.ts";
import { type ActionKind, GamePhase, type Hex, Side } from "../../keeper/game/types.ts";
import { type GameClient, referenceGameClient } from "../../keeper/src/dispute/client.ts";
import { createGamePlayer, freshProgress, type DisputeProgress, gameIdOf } from "../../keeper/src/dispute/player.ts";
import { createDisputeScheduler, isOurMove, type DisputeScheduler } from "../../keeper/src/dispute/scheduler.ts";
import { openStore, type KeeperStore } from "../../keeper/src/store/store.ts";
import { evaluateWatch } from "../../keeper/src/service/watchdog.ts";
import { BaseError, CallExecutionError, RawContractError, encodeErrorResult, parseAbi } from "viem";

const OPERATOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
const jailed = encodeErrorResult({ abi: parseAbi(["error OperatorJailed(address operator, uint64 jailedUntil)"]), errorName: "OperatorJailed", args: [OPERATOR, 99n] });

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
function diskPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "oao-watch-"));
  dirs.push(dir);
  return join(dir, "keeper.db");
}

type Finished = string[];
function scheduler(store: KeeperStore, side: Side, client: () => GameClient, finished: Finished, add = true): DisputeScheduler {
  const s = createDisputeScheduler({
    store,
    playerFor: (g) => createGamePlayer({ client: client(), side: g.side, traces: side === Side.Challenger ? honest : cheater, requestId: g.requestId, store }),
    onFinished: (_game, status) => void finished.push(status),
  });
  if (add) s.add({ address: ADDRESS, requestId: 7n, side });
  return s;
}

async function tickAll(keepers: DisputeScheduler[]): Promise<void> {
  for (const k of keepers) for (const r of (await k.tick()).values()) if (r instanceof Error) throw r;
}

async function runUntilResolved(game: ReferenceGame, clock: { now: bigint }, keepers: DisputeScheduler[], maxTicks = 500): Promise<void> {
  for (let t = 0; t < maxTicks && game.resolved === undefined; t++) {
    const before = clock.now;
    await tickAll(keepers);
    if (clock.now === before) clock.now += 300n;
  }
  if (game.resolved === undefined) throw new Error("the game did not end");
}

describe("dispute scheduler watch and game counts", () => {
  it("counts each finished game once: further ticks and a restart over the same store count nothing more", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const path = diskPath();
    const store = openStore(path);
    const won: Finished = [];
    const lost: Finished = [];
    const h = scheduler(store, Side.Challenger, () => referenceGameClient(game, Side.Challenger, clock), won);
    const c = scheduler(openStore(":memory:"), Side.Defender, () => referenceGameClient(game, Side.Defender, clock), lost);
    await runUntilResolved(game, clock, [h, c]);
    await tickAll([h, c]);
    await tickAll([h, c]);
    expect(won).toEqual(["won"]);
    expect(lost).toEqual(["lost"]);
    store.close();
    const again: Finished = [];
    const restarted = scheduler(openStore(path), Side.Challenger, () => referenceGameClient(game, Side.Challenger, clock), again, false);
    expect(restarted.active()).toEqual([]);
    await tickAll([restarted]);
    expect(again).toEqual([]);
  });

  it("a stored game whose player cannot be built is reported (and retried every tick until it can be played)", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const store = openStore(":memory:");
    store.upsertGame({
      gameId: gameIdOf(ADDRESS),
      requestId: 7n,
      role: "challenger",
      status: "active",
      state: freshProgress(ADDRESS, Side.Challenger),
    });
    let servable = false;
    const s = createDisputeScheduler({
      store,
      playerFor: (g) => {
        if (!servable) throw new Error(`model 1 of game ${g.address} is not served by this keeper`);
        return createGamePlayer({ client: referenceGameClient(game, Side.Challenger, clock), side: g.side, traces: honest, requestId: g.requestId, store });
      },
    });
    expect(s.active()).toEqual([]);
    expect(s.watch()).toEqual([{ game: ADDRESS.toLowerCase(), requestId: 7n, unplayable: `model 1 of game ${ADDRESS} is not served by this keeper`, failedTicks: 0, ourMoveTicks: 0 }]);
    const report = evaluateWatch({ tx: { consecutiveFailures: 0 }, games: s.watch(), due: [], now: 0n });
    expect(report.blockers.map((b) => b.reason)).toEqual(["games"]);
    await s.tick();
    expect(s.watch()[0]!.unplayable).toBeDefined();
    servable = true;
    await s.tick();
    expect(s.active()).toEqual([ADDRESS]);
    expect(s.watch()).toMatchObject([{ game: ADDRESS, requestId: 7n, failedTicks: 0, ourMoveTicks: 0 }]);
    expect(s.watch()[0]!.unplayable).toBeUndefined();
  });

  it("a new game whose player cannot be built is stored active and reported, by this scheduler and after a restart", async () => {
    const store = openStore(diskPath());
    const failing = () =>
      createDisputeScheduler({
        store,
        playerFor: (g) => {
          throw new Error(`request ${g.requestId} of game ${g.address} is not in the store`);
        },
      });
    const s = failing();
    expect(() => s.add({ address: ADDRESS, requestId: 9n, side: Side.Defender })).toThrow(/is not in the store/);
    expect(store.getGame<DisputeProgress>(gameIdOf(ADDRESS))).toMatchObject({ requestId: 9n, role: "defender", status: "active", state: { side: "defender", pending: null } });
    expect(s.watch()).toMatchObject([{ requestId: 9n, unplayable: `request 9 of game ${ADDRESS} is not in the store` }]);
    await s.tick();
    expect(s.watch()).toHaveLength(1);
    expect(failing().watch()).toMatchObject([{ requestId: 9n, unplayable: expect.stringMatching(/is not in the store/) }]);
    s.remove(9n); // a rollback forgot the request (and the store its games)
    expect(s.watch()).toEqual([]);
  });

  it("a game we cannot play is re-read from the chain: reported while it is active there (or unreadable), then stored with its result, counted once, and no longer reported", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const store = openStore(":memory:");
    const finished: Finished = [];
    let readable = true;
    const reads: string[] = [];
    const s = createDisputeScheduler({
      store,
      playerFor: (g) => {
        throw new Error(`model 1 of game ${g.address} is not served by this keeper`);
      },
      onFinished: (_game, status) => void finished.push(status),
      readView: async (address) => {
        reads.push(address);
        if (!readable) throw new Error("node down");
        return referenceGameClient(game, Side.Challenger, clock).readView();
      },
    });
    expect(() => s.add({ address: ADDRESS, requestId: 7n, side: Side.Challenger })).toThrow(/not served/);
    const blocked = () => evaluateWatch({ tx: { consecutiveFailures: 0 }, games: s.watch(), due: [], now: 0n }).blockers.map((b) => b.reason);
    await s.tick(); // the game is still being played on chain (by others): still reported
    expect(reads).toEqual([ADDRESS]);
    expect(s.watch()).toMatchObject([{ requestId: 7n, unplayable: expect.stringMatching(/not served/) }]);
    expect(blocked()).toEqual(["games"]);
    // Others play it out: an honest challenger and the cheating defender.
    const h = scheduler(openStore(":memory:"), Side.Challenger, () => referenceGameClient(game, Side.Challenger, clock), []);
    const c = scheduler(openStore(":memory:"), Side.Defender, () => referenceGameClient(game, Side.Defender, clock), []);
    await runUntilResolved(game, clock, [h, c]);
    expect(game.resolved).toBe(Side.Challenger);
    readable = false;
    await s.tick(); // resolved, but the read fails: still reported, nothing recorded
    expect(blocked()).toEqual(["games"]);
    expect(store.getGame(gameIdOf(ADDRESS))!.status).toBe("active");
    readable = true;
    await s.tick();
    expect(s.watch()).toEqual([]);
    expect(blocked()).toEqual([]);
    expect(store.getGame<DisputeProgress>(gameIdOf(ADDRESS))).toMatchObject({ status: "won", state: { phase: "Resolved", winner: "challenger" } });
    expect(finished).toEqual(["won"]);
    const readsBefore = reads.length;
    await s.tick();
    expect(reads).toHaveLength(readsBefore); // no longer re-read (nor retried: it is not active in the store)
    expect(finished).toEqual(["won"]);
  });

  it("moves failing tick after tick are counted (the contract error decoded: OperatorJailed, not custom error 0x285ec55c); our move with nothing sent is counted; both reset", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const real = referenceGameClient(game, Side.Challenger, clock);
    let mode: "fail" | "mute" | "ok" = "fail";
    const client: GameClient = {
      ...real,
      async send(action) {
        // viem's error for a revert it had no ABI for: `custom error 0x285ec55c` with the raw data.
        if (mode === "fail") throw new CallExecutionError(new RawContractError({ data: jailed }) as unknown as BaseError, { account: undefined as never });
        return real.send(action);
      },
    };
    const store = openStore(":memory:");
    const s = createDisputeScheduler({
      store,
      playerFor: (g) => {
        const p = createGamePlayer({ client, side: g.side, traces: honest, requestId: g.requestId, store });
        // "mute": the player reads the game but sends nothing (a stall), as the soak run's defender did.
        return { ...p, address: p.address, side: p.side, tick: async () => (mode === "mute" ? { view: await client.readView(), sent: [] as ActionKind[], status: "active" as const } : p.tick()) };
      },
    });
    s.add({ address: ADDRESS, requestId: 7n, side: Side.Challenger });
    for (let i = 0; i < 3; i++) await s.tick();
    expect(s.watch()).toMatchObject([{ failedTicks: 3, lastError: `OperatorJailed(${OPERATOR}, 99)` }]);
    expect(store.getGame<DisputeProgress>(gameIdOf(ADDRESS))!.state.lastError).toBe(`OperatorJailed(${OPERATOR}, 99)`);
    expect(evaluateWatch({ tx: { consecutiveFailures: 0 }, games: s.watch(), due: [], now: 0n }).blockers[0]!.message).toContain("moves failing in game");
    mode = "mute";
    expect(isOurMove(await real.readView(), Side.Challenger)).toBe(true);
    for (let i = 0; i < 4; i++) await s.tick();
    expect(s.watch()).toMatchObject([{ failedTicks: 0, ourMoveTicks: 4 }]);
    expect(evaluateWatch({ tx: { consecutiveFailures: 0 }, games: s.watch(), due: [], now: 0n }).blockers[0]!.message).toContain("our move and nothing sent");
    mode = "ok";
    await s.tick();
    expect(s.watch()).toMatchObject([{ failedTicks: 0, ourMoveTicks: 0 }]);
  });

  it("a move saved as pending when the process died is re-read from the game and sent after the restart; the game is won", async () => {
    const game = newGame();
    const clock = { now: 10n };
    const path = diskPath();
    const cheaterKeeper = scheduler(openStore(":memory:"), Side.Defender, () => referenceGameClient(game, Side.Defender, clock), []);
    const real = referenceGameClient(game, Side.Challenger, clock);
    // The honest process dies while sending its final VM state: the send never returns (nothing after it runs).
    let died = false;
    const dying: GameClient = {
      ...real,
      send: (action) => {
        if (action.kind !== "postFinalVmState") return real.send(action);
        died = true;
        return new Promise(() => {});
      },
    };
    const first = scheduler(openStore(path), Side.Challenger, () => dying, []);
    for (let t = 0; t < 200 && !died; t++) {
      const before = clock.now;
      await cheaterKeeper.tick();
      const honestTick = first.tick();
      await Promise.race([honestTick, new Promise((r) => setTimeout(r, 50))]);
      if (clock.now === before && !died) clock.now += 300n;
    }
    expect(died).toBe(true);
    const store = openStore(path);
    const saved = store.getGame<DisputeProgress>(gameIdOf(ADDRESS))!;
    expect(saved.status).toBe("active");
    expect(saved.state.pending).toBe("postFinalVmState");
    const view = game.view(clock.now);
    expect(view.phase).toBe(GamePhase.VmStart);
    expect(view.posted[Side.Challenger]).toBe(false);

    const won: Finished = [];
    const sent: ActionKind[] = [];
    const restarted = scheduler(store, Side.Challenger, () => ({ ...real, send: (a) => (sent.push(a.kind), real.send(a)) }), won, false);
    expect(restarted.active()).toEqual([ADDRESS]);
    await runUntilResolved(game, clock, [restarted, cheaterKeeper]);
    await restarted.tick();
    expect(sent[0]).toBe("postFinalVmState");
    expect(game.resolved).toBe(Side.Challenger);
    expect(won).toEqual(["won"]);
    expect(store.getGame(gameIdOf(ADDRESS))!.status).toBe("won");
  });
});

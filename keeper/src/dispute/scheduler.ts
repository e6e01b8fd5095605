/**
 * The dispute scheduler (op-challenger's `Scheduler`) and the keeper's dispute agent.
 *
 * The scheduler owns one player per game this keeper is in and ticks them in bounded batches; a
 * failing game is logged and retried on the next tick without holding up the others. Games are
 * recorded in the store when added, so a restarted keeper rebuilds its players from the store
 * (`playerFor` recomputes the traces from the request and our claim) and resumes where the chain is.
 *
 * `createDisputeAgent` plugs it into the keeper service (keeper/src/service/keeper.ts's
 * `DisputeAgent`): games come from `ClaimChallenged` events, traces from the native executor and the
 * guest program in the TypeScript VM, transactions go through the responder.
 */
import type { Address, PublicClient } from "viem";
import { MerkleGraphTrace } from "../../game/trace-provider.ts";
import { claimTraces } from "../../game/vm-provider.ts";
import { GamePhase, Side, SIDE_NAMES, WINNER_NAMES, type GameView } from "../../game/types.ts";
import type { Responder } from "../chain/responder.ts";
import type { Logger } from "../service/logger.ts";
import type { DisputeAgent } from "../service/keeper.ts";
import { shortError } from "../service/reconcile.ts";
import { decodeRequestInput } from "../service/inference.ts";
import type { LoadedModel, ModelBook } from "../service/models.ts";
import type { DisputeTraces } from "../../game/trace-provider.ts";
import type { RunResult, Tensor } from "../../graph/index.ts";
import type { KeeperStore } from "../store/store.ts";
import type { KeeperMetrics } from "../service/metrics.ts";
import type { GameWatch } from "../service/watchdog.ts";
import type { Compute } from "../service/compute.ts";
import { createChainGameClient, type GameClient } from "./client.ts";
import { createGamePlayer, freshProgress, gameIdOf, statusIn, type DisputeProgress, type GamePlayer, type TickResult } from "./player.ts";

export interface ScheduledGame {
  address: `0x${string}`;
  requestId: bigint;
  side: Side;
  /** Our native run of the request, when at hand (a game just created); else it is recomputed. */
  run?: RunResult;
}

export interface DisputeSchedulerParams {
  store: KeeperStore;
  playerFor(game: ScheduledGame): GamePlayer;
  log?: Logger;
  /** Players ticked at once (their transactions still go through the one responder lane). */
  maxConcurrent?: number;
  /** Called once per game that ends (its stored status leaves `active`: a restart does not count it again). */
  onFinished?(game: `0x${string}`, status: "won" | "lost" | "undecided"): void;
  /**
   * Reads a game from the chain. With it, every tick re-reads each game we cannot play: once it is resolved on chain
   * its stored status becomes our result (counted by `onFinished`) and it is no longer reported. Without it, such a
   * game is reported until its player can be built.
   */
  readView?(address: `0x${string}`): Promise<GameView>;
  /** Called when a game address's player is replaced by one for another request (its cached traces are stale). */
  onReplaced?(address: `0x${string}`): void;
}

export interface DisputeScheduler {
  add(game: ScheduledGame): void;
  /** Stops playing the games of a request (a reorg took them away; a re-read adds them again). */
  remove(requestId: bigint): void;
  /** Ticks every active game once; returns each game's result or error. */
  tick(): Promise<Map<string, TickResult | Error>>;
  active(): `0x${string}`[];
  /** How each game we are in is going (the watchdog's "games" input): unplayable ones included. */
  watch(): GameWatch[];
}

/** Whether the chain waits on `side` in this view: its post of the current round (or final VM state) is missing. */
export function isOurMove(view: GameView, side: Side): boolean {
  return (view.phase === GamePhase.Graph || view.phase === GamePhase.VmStart || view.phase === GamePhase.Vm) && !view.posted[side];
}

export function createDisputeScheduler(params: DisputeSchedulerParams): DisputeScheduler {
  const { store, log } = params;
  const maxConcurrent = params.maxConcurrent ?? 4;
  const players = new Map<string, GamePlayer>();
  const requestOf = new Map<string, bigint>();
  /** Per game: consecutive failed ticks, consecutive ticks of our move with nothing sent; games we cannot play. */
  const health = new Map<string, { failedTicks: number; lastError?: string; ourMoveTicks: number }>();
  const unplayable = new Map<string, { requestId: bigint; reason: string }>();

  const add = (game: ScheduledGame) => {
    const key = game.address.toLowerCase();
    if (players.has(key)) {
      if (requestOf.get(key) === game.requestId) return;
      // A game address is not unique over time: after a reorg (evm_revert) the factory re-creates games at the same
      // addresses, possibly for another request. A player of the old game (rebuilt from a stored row, or re-saved by a
      // round of ticks still running when the rollback forgot it) would play it with another request's traces and
      // never move ("our State_0 is … but the agreed value is …"): the game's own request replaces it.
      log?.warn({ game: game.address, was: requestOf.get(key)?.toString(), requestId: game.requestId.toString() }, "a game address now belongs to another request: playing it for that request");
      params.onReplaced?.(game.address);
      drop(key);
    }
    // A stored row of the address's earlier game (another request) is not this game's progress: start afresh (the old
    // player, if a round still runs it, then no longer saves over it: player.ts).
    const gameId = gameIdOf(game.address);
    const row = store.getGame(gameId);
    if (row !== undefined && row.requestId !== game.requestId) {
      store.upsertGame({ gameId, requestId: game.requestId, role: SIDE_NAMES[game.side], status: "active", state: freshProgress(game.address, game.side) });
    }
    try {
      players.set(key, params.playerFor(game));
    } catch (error) {
      unplayable.set(key, { requestId: game.requestId, reason: shortError(error) });
      // Recorded as active, so every tick (and a restarted keeper) tries again and the watchdog reports it.
      if (store.getGame(gameId) === undefined) {
        store.upsertGame({ gameId, requestId: game.requestId, role: SIDE_NAMES[game.side], status: "active", state: freshProgress(game.address, game.side) });
      }
      throw error;
    }
    unplayable.delete(key);
    requestOf.set(key, game.requestId);
    health.set(key, { failedTicks: 0, ourMoveTicks: 0 });
  };
  const drop = (key: string) => {
    players.delete(key);
    requestOf.delete(key);
    health.delete(key);
    unplayable.delete(key);
  };

  /**
   * Plays every game the store says is active: the ones a previous run (or a rollback's re-read) left there and any
   * player lost meanwhile. Each player reads its game from the chain before acting, so a saved `pending` move is
   * never trusted: it is sent again if the chain does not show it. A game whose player cannot be built is retried
   * every tick and reported (`watch`) until it can.
   */
  const resume = () => {
    for (const g of store.listGames<DisputeProgress>("active")) {
      const key = g.state.address.toLowerCase();
      if (players.has(key)) continue;
      const first = !unplayable.has(key);
      try {
        add({ address: g.state.address, requestId: g.requestId, side: g.state.side === "defender" ? Side.Defender : Side.Challenger });
        if (g.state.pending) log?.info({ game: g.state.address, pending: g.state.pending }, "resumed a game with a move in flight: re-reading it from the chain");
      } catch (error) {
        if (first) log?.error({ game: g.state.address, error: shortError(error) }, "cannot resume dispute; retrying every tick");
      }
    }
  };
  resume();

  /** A game we cannot play that is resolved on chain ends as a played one would: stored status, counted, not reported. */
  const settleUnplayable = async () => {
    if (!params.readView) return;
    for (const [key, u] of [...unplayable]) {
      const stored = store.getGame<DisputeProgress>(gameIdOf(key));
      const address = stored?.state.address ?? (key as `0x${string}`);
      const side = stored?.state.side === "defender" ? Side.Defender : Side.Challenger;
      let view: GameView;
      try {
        view = await params.readView(address);
      } catch (error) {
        log?.warn({ game: address, error: shortError(error) }, "cannot read a game we cannot play; retrying next tick");
        continue;
      }
      const status = statusIn(view, side);
      if (status === "active" || !unplayable.has(key)) continue;
      if (stored) store.upsertGame({ ...stored, status, state: { ...stored.state, phase: "Resolved", winner: WINNER_NAMES[view.winner!], pending: null } });
      drop(key);
      if (stored?.status === "active") params.onFinished?.(address, status);
      log?.info({ game: address, requestId: u.requestId.toString(), status }, "a dispute we could not play is over on chain");
    }
  };

  return {
    add,
    remove(requestId) {
      for (const [key, id] of requestOf) if (id === requestId) drop(key);
      for (const [key, u] of unplayable) if (u.requestId === requestId) drop(key);
    },
    active: () => [...players.values()].map((p) => p.address),
    watch: () => [
      ...[...players.values()].map((p) => {
        const h = health.get(p.address.toLowerCase()) ?? { failedTicks: 0, ourMoveTicks: 0 };
        return { game: p.address, requestId: requestOf.get(p.address.toLowerCase()) ?? 0n, ...h };
      }),
      ...[...unplayable].map(([game, u]) => ({ game, requestId: u.requestId, unplayable: u.reason, failedTicks: 0, ourMoveTicks: 0 })),
    ],
    async tick() {
      resume();
      await settleUnplayable();
      const results = new Map<string, TickResult | Error>();
      const queue = [...players.values()];
      while (queue.length > 0) {
        const batch = queue.splice(0, maxConcurrent);
        await Promise.all(
          batch.map(async (player) => {
            const key = player.address.toLowerCase();
            const h = health.get(key) ?? { failedTicks: 0, ourMoveTicks: 0 };
            const wasActive = store.getGame(gameIdOf(player.address))?.status === "active";
            try {
              const r = await player.tick();
              results.set(player.address, r);
              h.failedTicks = 0;
              h.lastError = undefined;
              h.ourMoveTicks = r.sent.length === 0 && r.status === "active" && isOurMove(r.view, player.side) ? h.ourMoveTicks + 1 : 0;
              if (r.status !== "active") {
                drop(key);
                if (wasActive) params.onFinished?.(player.address, r.status);
                log?.info({ game: player.address, status: r.status }, "dispute over");
              }
            } catch (error) {
              results.set(player.address, error as Error);
              h.failedTicks++;
              h.lastError = shortError(error);
              log?.warn({ game: player.address, error: h.lastError }, "dispute tick failed; retrying next tick");
            }
          }),
        );
      }
      return results;
    },
  };
}

export interface DisputeAgentParams {
  publicClient: PublicClient;
  responder: Responder;
  store: KeeperStore;
  models: ModelBook;
  /** Counts each finished game once (won, lost, undecided). */
  metrics?: Pick<KeeperMetrics, "gamesWon" | "gamesLost" | "gamesUndecided">;
  /** oao_node.elf */
  elf: Uint8Array;
  log?: Logger;
  maxConcurrent?: number;
  /**
   * The traces to play with; default: the honest traces of the request (the native executor and the
   * guest program). Fault injection (tests, demos) passes a cheater's traces here.
   */
  tracesFor?: (game: ScheduledGame, loaded: LoadedModel, input: Tensor) => DisputeTraces;
  /**
   * Where honest moves are solved (not with `tracesFor`). A compute with threads (a pool) solves them on its game
   * thread, and the agent's `tick` then only starts a round of game ticks: a round still running when the keeper ticks
   * again is left to finish (its failures are reported by the next tick), so a long solve never holds up the keeper.
   */
  compute?: Compute;
}

/** The keeper's dispute agent: honest traces of our claims, played on chain. */
export function createDisputeAgent(params: DisputeAgentParams): DisputeAgent & { scheduler: DisputeScheduler; busy(): boolean } {
  const { store, models } = params;
  /** Honest moves solved on a compute pool's game thread (in-thread compute: the traces below, as before). */
  const onPool = params.compute !== undefined && params.compute.threads > 0 && !params.tracesFor;
  const playerFor = (game: ScheduledGame): GamePlayer => {
    const request = store.getRequest(game.requestId);
    if (request === undefined) throw new Error(`request ${game.requestId} of game ${game.address} is not in the store`);
    const loaded = models.get(request.modelId);
    if (loaded === undefined) throw new Error(`model ${request.modelId} of game ${game.address} is not served by this keeper`);
    const client = createChainGameClient({ publicClient: params.publicClient, responder: params.responder, address: game.address as Address });
    if (onPool) {
      const compute = params.compute!;
      const solve = (view: Parameters<typeof compute.solve>[0]["view"], side: Side) =>
        compute.solve({ game: game.address, modelId: request.modelId, input: request.input, view, side });
      return createGamePlayer({ client, side: game.side, solve, requestId: game.requestId, store, log: params.log });
    }
    const input = decodeRequestInput(loaded.model, request.input);
    const traces = params.tracesFor
      ? params.tracesFor(game, loaded, input)
      : (() => {
          const run = game.run ?? loaded.executor.run(input);
          return claimTraces({ model: loaded.model, input, nodeOutputs: run.nodeOutputs, graph: new MerkleGraphTrace(run.trace.states), elf: params.elf });
        })();
    return createGamePlayer({ client, side: game.side, traces, requestId: game.requestId, store, log: params.log });
  };
  const m = params.metrics;
  const onFinished = (_game: `0x${string}`, status: "won" | "lost" | "undecided") =>
    (status === "won" ? m?.gamesWon : status === "lost" ? m?.gamesLost : m?.gamesUndecided)?.inc();
  /** Readers of the games we cannot play (one client each: it caches the game's configuration). */
  const readers = new Map<string, GameClient>();
  const readView = (address: `0x${string}`) => {
    let reader = readers.get(address.toLowerCase());
    if (!reader) readers.set(address.toLowerCase(), (reader = createChainGameClient({ publicClient: params.publicClient, responder: params.responder, address })));
    return reader.readView();
  };
  const scheduler = createDisputeScheduler({
    store,
    playerFor,
    log: params.log,
    maxConcurrent: params.maxConcurrent,
    onFinished,
    readView,
    onReplaced: (address) => params.compute?.forgetGame(address),
  });
  const background = onPool;
  /** The round of game ticks running in the background, and the failures of the last one that finished. */
  let round: Promise<void> | undefined;
  let roundErrors: Error[] = [];
  const forgetEnded = (results: Map<string, TickResult | Error>) => {
    for (const [address, r] of results) if (!(r instanceof Error) && r.status !== "active") params.compute?.forgetGame(address as `0x${string}`);
  };
  const failures = (errors: Error[]) => new AggregateError(errors, `${errors.length} dispute game(s) failed this tick: ${shortError(errors[0])}`);
  return {
    scheduler,
    /** Whether a background round of game ticks (on a compute pool) is still running. */
    busy: () => round !== undefined,
    forget: (requestId) => {
      for (const g of store.listGames<DisputeProgress>("active")) if (g.requestId === requestId) params.compute?.forgetGame(g.state.address);
      scheduler.remove(requestId);
    },
    watch: () => scheduler.watch(),
    onGameCreated(game) {
      params.log?.info({ game: game.game, requestId: game.requestId.toString(), side: game.ourSide }, `dispute game opened: playing the ${game.ourSide}`);
      try {
        scheduler.add({ address: game.game, requestId: game.requestId, side: game.ourSide === "defender" ? Side.Defender : Side.Challenger, run: game.ours?.run });
      } catch (error) {
        // Reported by `watch` (readiness reason "games") until a re-read can play it.
        params.log?.error({ game: game.game, requestId: game.requestId.toString(), error: shortError(error) }, "cannot play this dispute game");
      }
    },
    async tick() {
      if (background) {
        const reported = roundErrors;
        roundErrors = [];
        round ??= scheduler
          .tick()
          .then((results) => {
            forgetEnded(results);
            roundErrors = [...results.values()].filter((r): r is Error => r instanceof Error);
          })
          .finally(() => (round = undefined));
        if (reported.length > 0) throw failures(reported);
        return;
      }
      const results = await scheduler.tick();
      forgetEnded(results);
      // Every game was ticked; report the failures so the keeper's tick (and its readiness) shows them.
      const errors = [...results.values()].filter((r): r is Error => r instanceof Error);
      if (errors.length > 0) throw failures(errors);
    },
  };
}

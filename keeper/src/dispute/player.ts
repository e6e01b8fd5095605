/**
 * The player of one game (op-challenger's `GamePlayer`): each `tick` reads the game at the latest
 * block, asks the pure solver what to do, and sends it — keccak preimage parts the step reads first,
 * unless the oracle already has them. Progress is written to the store before and after every send,
 * so a keeper restarted at any point resumes: the solver is stateless over the chain's view, and a
 * send that landed before the crash shows in the view as already posted.
 */
import { solve } from "../../game/solver.ts";
import type { DisputeTraces } from "../../game/trace-provider.ts";
import { type Action, type ActionKind, GamePhase, GameWinner, type GameView, PHASE_NAMES, Side, SIDE_NAMES, WINNER_NAMES } from "../../game/types.ts";
import type { Logger } from "../service/logger.ts";
import { shortError } from "../service/reconcile.ts";
import type { KeeperStore, StoredGame } from "../store/store.ts";
import type { GameClient } from "./client.ts";

/** What the store keeps per game (the `state` column). */
export interface DisputeProgress {
  address: `0x${string}`;
  side: "defender" | "challenger";
  phase: (typeof PHASE_NAMES)[number];
  lo: string;
  hi: string;
  transactions: number;
  gasUsed: bigint;
  /** Rounds this player posted in, per phase. */
  graphRounds: number;
  vmRounds: number;
  /** The action being sent when the process stopped, if any. */
  pending: ActionKind | null;
  winner: "defender" | "challenger" | "undecided" | null;
  lastError: string | null;
}

/** `undecided`: the game found the node undecidable (§5.4): neither claim lost, the request was cancelled. */
export type DisputeStatus = "active" | "won" | "lost" | "undecided";

export interface TickResult {
  view: GameView;
  sent: ActionKind[];
  status: DisputeStatus;
}

export interface GamePlayer {
  readonly address: `0x${string}`;
  readonly side: Side;
  tick(): Promise<TickResult>;
  progress(): DisputeProgress;
}

export interface GamePlayerParams {
  client: GameClient;
  side: Side;
  /** Our traces, solved on this thread; or `solve` (e.g. a compute pool's game thread, keeper/src/service/compute.ts). */
  traces?: DisputeTraces;
  solve?: (view: GameView, side: Side) => Promise<Action[]>;
  requestId: bigint;
  store?: KeeperStore;
  log?: Logger;
}

export function gameIdOf(address: string): bigint {
  return BigInt(address);
}

/** The progress of a game nothing was played in yet. */
export function freshProgress(address: `0x${string}`, side: Side): DisputeProgress {
  return {
    address,
    side: SIDE_NAMES[side],
    phase: "Graph",
    lo: "0",
    hi: "0",
    transactions: 0,
    gasUsed: 0n,
    graphRounds: 0,
    vmRounds: 0,
    pending: null,
    winner: null,
    lastError: null,
  };
}

/** Our result in a resolved game (`active` while it is not resolved). */
export function statusIn(view: GameView, side: Side): DisputeStatus {
  if (view.phase !== GamePhase.Resolved) return "active";
  return view.winner === GameWinner.Undecided ? "undecided" : view.winner === side ? "won" : "lost";
}

export function createGamePlayer(params: GamePlayerParams): GamePlayer {
  const { client, side, traces, store, log } = params;
  if (traces === undefined && params.solve === undefined) throw new Error("a game player needs our traces or a solver");
  const address = client.address as `0x${string}`;
  const gameId = gameIdOf(address);
  const row = store?.getGame<DisputeProgress>(gameId);
  // A row of another request at this address is an earlier game there (before a reorg), not this one's progress.
  const stored = row?.requestId === params.requestId ? row : undefined;
  if (stored !== undefined && stored.state.side !== SIDE_NAMES[side]) {
    throw new Error(`game ${address} is stored as played by the ${stored.state.side}, not the ${SIDE_NAMES[side]}: check the keeper's account`);
  }
  let progress: DisputeProgress = stored?.state ?? freshProgress(address, side);
  let status: DisputeStatus = (stored?.status as DisputeStatus | undefined) ?? "active";

  const save = () => {
    // The address now holds another request's game (a reorg re-created it; the scheduler gave it a new player): this
    // player is stale and must not overwrite that game's progress.
    const current = store?.getGame(gameId);
    if (current !== undefined && current.requestId !== params.requestId) return;
    const record: StoredGame<DisputeProgress> = { gameId, requestId: params.requestId, role: SIDE_NAMES[side], status, state: progress };
    store?.upsertGame(record);
  };
  save();

  return {
    address,
    side,
    progress: () => ({ ...progress }),
    async tick() {
      const view = await client.readView();
      progress = { ...progress, phase: PHASE_NAMES[view.phase], lo: view.lo.toString(), hi: view.hi.toString(), pending: null };
      if (view.phase === GamePhase.Resolved) {
        status = statusIn(view, side);
        progress.winner = WINNER_NAMES[view.winner!];
        save();
        return { view, sent: [], status };
      }
      const sent: ActionKind[] = [];
      const actions = params.solve ? await params.solve(view, side) : solve(view, side, traces!);
      for (const action of actions) {
        if (action.kind === "loadPreimage" && (await client.hasPreimagePart(action.key, action.partOffset))) continue;
        progress.pending = action.kind;
        save();
        try {
          const { gasUsed } = await client.send(action);
          progress.transactions++;
          progress.gasUsed += gasUsed;
          if (action.kind === "moveGraph") progress.graphRounds++;
          if (action.kind === "moveVm") progress.vmRounds++;
          progress.lastError = null;
          sent.push(action.kind);
        } catch (error) {
          progress.lastError = shortError(error);
          log?.warn({ game: address, action: action.kind, error: progress.lastError }, "dispute action failed");
          throw error;
        } finally {
          progress.pending = null;
          save();
        }
        log?.info({ game: address, side: SIDE_NAMES[side], action: action.kind, phase: PHASE_NAMES[view.phase], lo: view.lo.toString(), hi: view.hi.toString() }, "dispute move");
      }
      return { view, sent, status };
    },
  };
}

export { Side };

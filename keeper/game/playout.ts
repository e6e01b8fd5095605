/**
 * Plays a game of the reference model (reference.ts) to its end between two parties, with a
 * simulated block clock: the pure counterpart of a dispute on a chain, for tests and for
 * `oao dispute simulate --offline`. Each action costs `secondsPerAction`; when nobody acts, time
 * jumps past the next deadline (a clock running out, or the Step phase's window).
 */
import { fromHex } from "../vm/hex.ts";
import { GameRevert, type ReferenceGame } from "./reference.ts";
import { solve } from "./solver.ts";
import type { DisputeTraces } from "./trace-provider.ts";
import { type Action, type ActionKind, GameError, GamePhase, type GameView, type GameWinner, Side } from "./types.ts";

export interface Party {
  readonly side: Side;
  readonly name: string;
  decide(view: GameView): Action[];
}

/** A player driven by the solver over its traces. */
export function solverParty(side: Side, traces: DisputeTraces, name = "solver"): Party {
  return { side, name, decide: (view) => solve(view, side, traces) };
}

/** A player that stops answering after `posts` posts (fault `silent`): never steps or claims. */
export function silentAfter(inner: Party, posts: number): Party {
  let made = 0;
  return {
    side: inner.side,
    name: `${inner.name} (silent after ${posts} posts)`,
    decide(view) {
      if (made >= posts) return [];
      const actions = inner.decide(view).filter((a) => a.kind !== "claimTimeout" && a.kind !== "step" && a.kind !== "loadPreimage");
      if (actions.length > 0) made++;
      return actions;
    },
  };
}

/**
 * A player that copies the opponent's round values whenever they are already posted (only in the VM
 * phase: graph values need proofs against one's own root), and otherwise plays `inner`.
 */
export function copycat(inner: Party): Party {
  return {
    side: inner.side,
    name: `${inner.name} (copycat)`,
    decide(view) {
      const them = inner.side === Side.Defender ? Side.Challenger : Side.Defender;
      if (view.phase === GamePhase.Vm && !view.posted[inner.side] && view.posted[them]) {
        return [{ kind: "moveVm", vmStateHashes: [...view.roundValues[them]] }];
      }
      return inner.decide(view);
    },
  };
}

export interface PlayedAction {
  side: Side;
  kind: ActionKind;
  at: bigint;
  /** The revert, for an action the game refused. */
  reverted?: string;
}

export interface PlayoutResult {
  winner: GameWinner;
  graphRounds: number;
  vmRounds: number;
  actions: PlayedAction[];
  endTime: bigint;
}

export interface PlayoutOptions {
  startTime: bigint;
  secondsPerAction?: bigint;
  /** Who acts first in each iteration (default: alternating, defender first). */
  firstMover?: (iteration: number) => Side;
  /** Safety net against a non-terminating model: iterations, not time. */
  maxIterations?: number;
  /** Parties whose reverted actions and solver errors are tolerated (a liar may try anything); others throw. */
  tolerateReverts?: readonly Side[];
}

export function applyAction(game: ReferenceGame, side: Side, action: Action, now: bigint): void {
  switch (action.kind) {
    case "moveGraph":
      return game.moveGraph(side, action.states, action.proofs, now);
    case "postFinalVmState":
      return game.postFinalVmState(side, action.vmStateHash, now);
    case "moveVm":
      return game.moveVm(side, action.vmStateHashes, now);
    case "loadPreimage":
      return game.oracle.loadKeccak256PreimagePart(action.partOffset, fromHex(action.preimage));
    case "step":
      return void game.step(action.preState, action.proof, now);
    case "claimTimeout":
      return void game.claimTimeout(now);
  }
}

/** The first moment after `now` at which a timeout becomes claimable. */
function nextDeadline(view: GameView): bigint {
  if (view.phase === GamePhase.Step) return view.stepPhaseSince + view.clockDuration + 1n;
  let next: bigint | undefined;
  for (const c of view.clocks) {
    if (c.runningSince === 0n) continue;
    const t = c.runningSince + (view.clockDuration - c.usedSeconds) + 1n;
    if (next === undefined || t < next) next = t;
  }
  return next === undefined || next <= view.now ? view.now + 1n : next;
}

export function playOut(game: ReferenceGame, parties: readonly [Party, Party], options: PlayoutOptions): PlayoutResult {
  const bySide = new Map(parties.map((p) => [p.side, p]));
  if (bySide.size !== 2) throw new GameError("a game needs one defender party and one challenger party");
  const perAction = options.secondsPerAction ?? 12n;
  const firstMover = options.firstMover ?? ((i: number) => (i % 2 === 0 ? Side.Defender : Side.Challenger));
  const max = options.maxIterations ?? 10_000;
  const played: PlayedAction[] = [];
  let now = options.startTime;
  for (let iteration = 0; iteration < max && game.resolved === undefined; iteration++) {
    const first = firstMover(iteration);
    let acted = false;
    for (const side of [first, first === Side.Defender ? Side.Challenger : Side.Defender]) {
      if (game.resolved !== undefined) break;
      let actions: Action[];
      try {
        actions = bySide.get(side)!.decide(game.view(now));
      } catch (e) {
        // A liar's solver may find itself unable to play on (its trace contradicts the agreed values).
        if (!(e instanceof GameError) || !options.tolerateReverts?.includes(side)) throw e;
        actions = [];
      }
      for (const action of actions) {
        now += perAction;
        try {
          applyAction(game, side, action, now);
          played.push({ side, kind: action.kind, at: now });
          acted = true;
        } catch (e) {
          if (!(e instanceof GameRevert) || !options.tolerateReverts?.includes(side)) throw e;
          played.push({ side, kind: action.kind, at: now, reverted: e.message });
          break;
        }
      }
    }
    if (!acted) now = nextDeadline(game.view(now));
  }
  if (game.resolved === undefined) throw new GameError(`the game did not end within ${max} iterations`);
  return { winner: game.resolved, graphRounds: game.graphRounds, vmRounds: game.vmRounds, actions: played, endTime: now };
}

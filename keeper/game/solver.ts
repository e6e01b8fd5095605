/**
 * The pure solver (op-challenger's `GameSolver`): from one view of a game, the side we play and our
 * traces, the transactions to send now. No I/O and no clock: the view carries `now`. Side-agnostic
 * and honest-by-construction: it only ever posts what its trace provider says, and it steps only when
 * the step's true result is the value we posted at hi — so with an honest provider it wins against
 * any opponent (docs/protocol.md §5, DESIGN §4 invariant 2), and with a lying provider it plays the
 * lie to the end and loses.
 *
 * Order of concerns in one call:
 *   1. a resolved game needs nothing;
 *   2. an opponent out of time is claimed (§5.5) before anything else;
 *   3. a post we owe in this round (graph states with proofs, the final VM state, VM states);
 *   4. in the Step phase: load the keccak preimage part the step reads, then step.
 */
import { statusOfHash, VmStatus } from "../vm/state.ts";
import type { DisputeTraces, VmTraceProvider } from "./trace-provider.ts";
import { type Action, clockUsed, GameError, GamePhase, type GameView, otherSide, Side, SIDE_NAMES } from "./types.ts";

const STATUS_NAMES = ["VALID", "INVALID", "PANIC", "UNFINISHED"] as const;

/**
 * How far a run that does not fit the game's trace is followed to say which depth it needs:
 * 2^33 steps, about 2.5 min of keeper/vm (GPT-2 small's largest node runs ~5.7·10^8).
 */
export const EXIT_SEARCH_LIMIT = 1n << 33n;

/** The least vmTraceDepth whose trace (steps 0..2^depth) holds a run that exits at step `exitStep`. */
export function vmTraceDepthFor(exitStep: bigint): number {
  if (exitStep < 0n) throw new GameError(`a run cannot exit at step ${exitStep}`);
  let depth = 0;
  while (1n << BigInt(depth) < exitStep) depth++;
  return depth;
}

/** Why a run does not fit a trace of `finalPosition` steps, and the depth it needs (for the keeper's log). */
export function unfinishedReason(vm: VmTraceProvider, finalPosition: bigint): string {
  const depth = vmTraceDepthFor(finalPosition);
  const exit = vm.exitStep?.(EXIT_SEARCH_LIMIT);
  if (vm.exitStep === undefined) return `the guest needs more steps than the game's vmTraceDepth ${depth} allows (2^${depth})`;
  if (exit === undefined) return `the guest runs more than ${EXIT_SEARCH_LIMIT} steps, beyond the game's vmTraceDepth ${depth} (2^${depth} steps): the game needs a vmTraceDepth above ${vmTraceDepthFor(EXIT_SEARCH_LIMIT)}`;
  return `the guest exits at step ${exit}, beyond the game's vmTraceDepth ${depth} (2^${depth} = ${finalPosition} steps): the game needs a vmTraceDepth of at least ${vmTraceDepthFor(exit)}`;
}
const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The final VM status a side must show at the phase start (§5.4). */
export function requiredFinalStatus(side: Side): VmStatus {
  return side === Side.Defender ? VmStatus.VALID : VmStatus.INVALID;
}

function vmTrace(view: GameView, traces: DisputeTraces): VmTraceProvider {
  if (view.vmInputs === undefined) throw new GameError(`game ${view.address} is in a VM phase but has no bound inputs in the view`);
  return traces.vm(view.vmInputs, view.address);
}

export function solve(view: GameView, side: Side, traces: DisputeTraces): Action[] {
  if (view.phase === GamePhase.Resolved) return [];
  const them = otherSide(side);

  if (view.phase === GamePhase.Step) {
    // Nobody stepped in time: the defender wins (§5.5). Cheaper than stepping, and a defender that
    // cannot win the step (a liar) can only win this way.
    if (side === Side.Defender && view.now > view.stepPhaseSince + view.clockDuration) return [{ kind: "claimTimeout" }];
    const vm = vmTrace(view, traces);
    const data = vm.stepData(view.lo);
    if (!eq(data.preStateHash, view.agreedValue)) {
      throw new GameError(
        `game ${view.address}: our VM state at step ${view.lo} is ${data.preStateHash} but the agreed value is ${view.agreedValue}; our trace cannot be the one we played`,
      );
    }
    // The step returns the truth; it only helps us if the truth is what we posted at hi.
    if (!eq(data.postStateHash, view.disputedValues[side])) return [];
    const actions: Action[] = [];
    if (data.preimage !== undefined && !data.preimage.local) {
      actions.push({ kind: "loadPreimage", key: data.preimage.key, partOffset: data.preimage.offset, preimage: data.preimage.data });
    }
    actions.push({ kind: "step", preState: data.preState, proof: data.proof });
    return actions;
  }

  const limit = view.clockDuration;
  const theirsOut = clockUsed(view.clocks[them], view.now) > limit;
  const oursOut = clockUsed(view.clocks[side], view.now) > limit;
  // A timeout decides for the side still in time, and for the defender when both are out.
  if (theirsOut && (!oursOut || side === Side.Defender)) return [{ kind: "claimTimeout" }];
  if (oursOut || view.posted[side]) return [];

  switch (view.phase) {
    case GamePhase.Graph: {
      const g = traces.graph;
      if (!eq(g.valueAt(view.lo), view.agreedValue)) {
        throw new GameError(
          `game ${view.address}: our State_${view.lo} is ${g.valueAt(view.lo)} but the agreed value is ${view.agreedValue}; our graph trace is not the one we committed`,
        );
      }
      return [
        {
          kind: "moveGraph",
          states: view.roundPoints.map((p) => g.valueAt(p)),
          proofs: view.roundPoints.map((p) => g.proofAt(p)),
        },
      ];
    }
    case GamePhase.VmStart: {
      const vm = vmTrace(view, traces);
      const final = vm.valueAt(view.vmFinalPosition);
      const status = statusOfHash(final);
      const want = requiredFinalStatus(side);
      // §5.4: our run's true state at T. UNFINISHED (the node does not fit the game's trace) and PANIC are posted
      // as they are: the game then ends undecided, never against the side telling the truth.
      if (status !== want && status !== VmStatus.UNFINISHED && status !== VmStatus.PANIC) {
        throw new GameError(
          `game ${view.address}: our run of node ${view.vmInputs!.nodeIndex} ends ${STATUS_NAMES[status]} at step ${view.vmFinalPosition}, but the ${SIDE_NAMES[side]} must post a state with status ${STATUS_NAMES[want]} (or UNFINISHED/PANIC): we are on the wrong side of this dispute`,
        );
      }
      return [{ kind: "postFinalVmState", vmStateHash: final }];
    }
    case GamePhase.Vm: {
      const vm = vmTrace(view, traces);
      if (!eq(vm.valueAt(view.lo), view.agreedValue)) {
        throw new GameError(
          `game ${view.address}: our VM state at step ${view.lo} is ${vm.valueAt(view.lo)} but the agreed value is ${view.agreedValue}; we run a different program or inputs`,
        );
      }
      return [{ kind: "moveVm", vmStateHashes: view.roundPoints.map((p) => vm.valueAt(p)) }];
    }
    default:
      return [];
  }
}

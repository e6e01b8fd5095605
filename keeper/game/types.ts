/**
 * The dispute game as the keeper sees it (docs/protocol.md §5): phases, sides, the view of one game
 * at one block, and the actions a player can take. Pure data; the chain adapter
 * (keeper/src/dispute/chain.ts) fills a `GameView` from the contract, the reference game model
 * (reference.ts) from its own state, and the solver (solver.ts) maps it to `Action`s.
 */
import type { Hex } from "../vm/hex.ts";

export type { Hex };

/** `enum GamePhase` of the contract, same order. */
export const GamePhase = { Graph: 0, VmStart: 1, Vm: 2, Step: 3, Resolved: 4 } as const;
export type GamePhase = (typeof GamePhase)[keyof typeof GamePhase];
export const PHASE_NAMES = ["Graph", "VmStart", "Vm", "Step", "Resolved"] as const;

/** `enum Side` of the contract, same order. */
export const Side = { Defender: 0, Challenger: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];
export const SIDE_NAMES = ["defender", "challenger"] as const;

/**
 * `enum GameWinner` of the contract, same order: a side, or `Undecided` when the guest could not decide the
 * disputed node (unfinished at T, or panicked; §5.4): neither claim loses and the request is cancelled.
 */
export const GameWinner = { Defender: 0, Challenger: 1, Undecided: 2 } as const;
export type GameWinner = (typeof GameWinner)[keyof typeof GameWinner];
export const WINNER_NAMES = ["defender", "challenger", "undecided"] as const;

export function otherSide(side: Side): Side {
  return side === Side.Defender ? Side.Challenger : Side.Defender;
}

/** A chess clock (§5.5): seconds used before the current run, and since when it runs (0 = stopped). */
export interface Clock {
  usedSeconds: bigint;
  runningSince: bigint;
}

/** Seconds a clock has used at `now`, counting the current run. */
export function clockUsed(clock: Clock, now: bigint): bigint {
  return clock.usedSeconds + (clock.runningSince !== 0n && now > clock.runningSince ? now - clock.runningSince : 0n);
}

/** The phase-1 local inputs the contract bound at the end of phase 2 (§5.3, event VmInputsBound). */
export interface VmInputs {
  /** Node index i (1..n). */
  nodeIndex: bigint;
  /** The agreed State_{i-1}. */
  preState: Hex;
  /** The defender's State_i. */
  postState: Hex;
  /** The local context the game localizes its local keys with. */
  localContext: Hex;
}

/** One game at one block: everything the solver decides from. */
export interface GameView {
  /** The game contract (the caller of MIPS.step, which localizes local keys with it). */
  address: Hex;
  phase: GamePhase;
  /** The current range [lo, hi] of the phase (graph leaves in Graph, VM steps in VmStart/Vm/Step). */
  lo: bigint;
  hi: bigint;
  /** Interior points of the current round (empty outside Graph/Vm). */
  roundPoints: readonly bigint[];
  /** Whether each side has posted in the current round (Graph/Vm) or its final VM state (VmStart). */
  posted: readonly [defender: boolean, challenger: boolean];
  /** The values each side posted in the current round (empty until posted). */
  roundValues: readonly [defender: readonly Hex[], challenger: readonly Hex[]];
  /** The agreed value at lo, and each side's value at hi. */
  agreedValue: Hex;
  disputedValues: readonly [defender: Hex, challenger: Hex];
  /** Bound once phase 2 ended (undefined before). */
  vmInputs: VmInputs | undefined;
  clocks: readonly [defender: Clock, challenger: Clock];
  /** Each side's budget (§5.5). */
  clockDuration: bigint;
  /** T = 2^vmTraceDepth: the VM position of the final states posted at VmStart (§5.4). */
  vmFinalPosition: bigint;
  /** Block timestamp of the view. */
  now: bigint;
  /** When the range narrowed to one VM step (the Step phase's deadline is this + clockDuration). */
  stepPhaseSince: bigint;
  /** Set once resolved. */
  winner: GameWinner | undefined;
}

/** What a player may do (each maps to one transaction). */
export type Action =
  | { kind: "moveGraph"; states: Hex[]; proofs: Hex[][] }
  | { kind: "postFinalVmState"; vmStateHash: Hex }
  | { kind: "moveVm"; vmStateHashes: Hex[] }
  /** Load one part of a keccak preimage into the PreimageOracle (permissionless). */
  | { kind: "loadPreimage"; key: Hex; partOffset: bigint; preimage: Hex }
  | { kind: "step"; preState: Hex; proof: Hex }
  | { kind: "claimTimeout" };

export type ActionKind = Action["kind"];

export class GameError extends Error {
  override name = "GameError";
}

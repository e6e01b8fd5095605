/**
 * The TraceProvider seam (op-challenger's `TraceProvider`): what one party believes the trace of a
 * phase is. The solver only asks a provider for values, proofs and step data; where they come from
 * (the native executor and the TypeScript VM, a toy hash chain, a deliberately lying wrapper) is
 * the provider's business. Pure: no I/O, no clock.
 *
 * - Graph phase (§5.2): positions are trace leaves; the value at k is State_k (State_n after n,
 *   §3.5), posted with a Merkle proof against the party's own traceRoot.
 * - VM phase (§5.4): positions are VM steps; the value at s is the state hash after s steps (the
 *   exited state after the exit); `stepData(s)` is what `step` needs to execute step s on chain.
 */
import { type Bytes32, fromHex as graphFromHex, toHex as graphToHex } from "../graph/hash.ts";
import { depthFor, merkleLevels, merkleProof, rootFromProof } from "../graph/merkle.ts";
import type { Hex, VmInputs } from "./types.ts";
import { GameError } from "./types.ts";

export interface TraceProvider {
  /** The value this party posts at `position`. */
  valueAt(position: bigint): Hex;
}

export interface GraphTraceProvider extends TraceProvider {
  /** n: the last distinct leaf (leaves past it repeat State_n). */
  readonly nodeCount: number;
  /** The root this party committed (§3.5). */
  readonly traceRoot: Hex;
  /** Proof (siblings bottom-up) of the leaf at `position` against `traceRoot`. */
  proofAt(position: bigint): Hex[];
}

/** A keccak preimage part a step reads (local data is loaded by the game itself, §5.3). */
export interface StepPreimage {
  /** The key as the guest wrote it. */
  key: Hex;
  /** The key the on-chain oracle serves the part under (localized for local keys). */
  oracleKey: Hex;
  local: boolean;
  offset: bigint;
  /** The whole unframed datum. */
  data: Hex;
}

/** What `step(preState, proof)` needs to execute the step from `position` to `position + 1`. */
export interface StepData {
  preState: Hex;
  preStateHash: Hex;
  proof: Hex;
  preimage: StepPreimage | undefined;
  /** What the step returns on chain: the true state hash at `position + 1`. */
  postStateHash: Hex;
}

export interface VmTraceProvider extends TraceProvider {
  /** The step data of executing step `position`; always the truth, whatever `valueAt` claims. */
  stepData(position: bigint): StepData;
  /**
   * The step the program exits at, running on up to `limit` steps if need be; undefined when it
   * has not exited by `limit` (an exit already found is reported whatever the limit). Optional: used
   * to say which vmTraceDepth a run needs when it does not fit.
   */
  exitStep?(limit: bigint): bigint | undefined;
}

/** A party's traces for one dispute: its graph trace, and its VM trace once the inputs are bound. */
export interface DisputeTraces {
  readonly graph: GraphTraceProvider;
  /** The VM trace for the inputs the contract bound; implementations memoize it. */
  vm(inputs: VmInputs, gameAddress: Hex): VmTraceProvider;
}

/** A graph trace over explicit leaves `[State_0 … State_n]`, padded with State_n (§3.5). */
export class MerkleGraphTrace implements GraphTraceProvider {
  readonly nodeCount: number;
  readonly traceRoot: Hex;
  readonly depth: number;
  private readonly levels: Bytes32[][];

  constructor(private readonly states: readonly Bytes32[]) {
    if (states.length < 2) throw new GameError(`a graph trace needs State_0 and at least one node state, got ${states.length} states`);
    this.nodeCount = states.length - 1;
    this.depth = depthFor(states.length);
    this.levels = merkleLevels(states, this.depth, states[this.nodeCount]!);
    this.traceRoot = graphToHex(this.levels[this.depth]![0]!) as Hex;
  }

  private leafIndex(position: bigint): number {
    if (position < 0n || position >= 1n << BigInt(this.depth)) {
      throw new GameError(`graph position ${position} is outside the trace's ${2 ** this.depth} leaves`);
    }
    return Number(position);
  }

  valueAt(position: bigint): Hex {
    const k = this.leafIndex(position);
    return graphToHex(this.states[Math.min(k, this.nodeCount)]!) as Hex;
  }

  proofAt(position: bigint): Hex[] {
    return merkleProof(this.levels, this.leafIndex(position)).map((p) => graphToHex(p) as Hex);
  }
}

/** The §3.1 proof check the game performs on every posted graph state. */
export function checkGraphProof(traceRoot: Hex, position: bigint, value: Hex, proof: readonly Hex[]): boolean {
  const leaf = graphFromHex(value as `0x${string}`);
  if (leaf.length !== 32 || position < 0n || position >= 1n << BigInt(proof.length)) return false;
  const root = rootFromProof(leaf, Number(position), proof.map((p) => graphFromHex(p as `0x${string}`)));
  return graphToHex(root).toLowerCase() === traceRoot.toLowerCase();
}

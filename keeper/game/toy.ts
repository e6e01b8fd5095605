/**
 * A toy world to test the game logic on its own, without a model or a VM: the honest graph trace is
 * `State_k = keccak("toy-graph", k)`, the honest VM "program" is a hash chain
 * `value(s) = keccak("toy-vm", s)` that exits at step E into a state with status VALID when the
 * defender's bound State_i is the honest one and INVALID otherwise, and one step of it is checked by
 * `toyStepVerifier` (the pre-state is the step number). Lying parties wrap the same truth.
 */
import { keccak as graphKeccak } from "../graph/hash.ts";
import { keccak256 } from "../vm/keccak.ts";
import { fromHex, toHex } from "../vm/hex.ts";
import { VmStatus } from "../vm/state.ts";
import { fakeStateHash, LyingVmTrace } from "./lying.ts";
import { type DisputeTraces, MerkleGraphTrace, type StepData, type VmTraceProvider } from "./trace-provider.ts";
import type { StepVerifier } from "./reference.ts";
import { GameError, type Hex, type VmInputs } from "./types.ts";

const enc = (s: string) => new TextEncoder().encode(s);

export interface ToyWorld {
  nodeCount: number;
  /** The step at which the toy program exits (≥ 1). */
  exitStep: bigint;
  honestGraphState(k: number): Uint8Array;
  /** Graph traces built so far, by lie and salt. */
  graphCache: Map<string, MerkleGraphTrace>;
}

export function toyWorld(nodeCount: number, exitStep: bigint): ToyWorld {
  if (nodeCount < 1) throw new GameError(`a toy world needs at least one node, got ${nodeCount}`);
  if (exitStep < 1n) throw new GameError(`the toy program must run at least one step, got exit step ${exitStep}`);
  return { nodeCount, exitStep, honestGraphState: (k) => graphKeccak(enc(`toy-graph/${k}`)), graphCache: new Map() };
}

/** Steps before the exit do not depend on the inputs (the absolute prestate is shared); the exit does. */
function toyVmValue(world: ToyWorld, status: VmStatus, position: bigint): Hex {
  if (position < world.exitStep) {
    const h = keccak256(enc(`toy-vm/${position}`));
    h[0] = VmStatus.UNFINISHED;
    return toHex(h);
  }
  const h = keccak256(enc(`toy-vm/exit/${status}`));
  h[0] = status;
  return toHex(h);
}

/** The toy program's absolute prestate. */
export function toyAbsolutePrestate(world: ToyWorld): Hex {
  return toyVmValue(world, VmStatus.VALID, 0n);
}

/** The 33-byte toy VM state: the final status, then the step number (uint256). */
function toyPreState(status: VmStatus, position: bigint): Hex {
  return `0x${status.toString(16).padStart(2, "0")}${position.toString(16).padStart(64, "0")}`;
}

/** The honest toy VM trace for the bound inputs. */
export class ToyVmTrace implements VmTraceProvider {
  readonly status: VmStatus;

  constructor(
    private readonly world: ToyWorld,
    inputs: VmInputs,
  ) {
    const honestPost = toHex(world.honestGraphState(Number(inputs.nodeIndex)));
    this.status = honestPost.toLowerCase() === inputs.postState.toLowerCase() ? VmStatus.VALID : VmStatus.INVALID;
  }

  valueAt(position: bigint): Hex {
    return toyVmValue(this.world, this.status, position);
  }

  stepData(position: bigint): StepData {
    const s = position < this.world.exitStep ? position : this.world.exitStep;
    return {
      preState: toyPreState(this.status, s),
      preStateHash: this.valueAt(s),
      proof: "0x",
      preimage: undefined,
      postStateHash: this.valueAt(s + 1n),
    };
  }

  exitStep(limit: bigint): bigint | undefined {
    return this.world.exitStep <= limit ? this.world.exitStep : undefined;
  }
}

/** Checks toy steps as the contract checks MIPS steps. */
export function toyStepVerifier(world: ToyWorld): StepVerifier {
  const decode = (preState: Hex) => {
    const b = fromHex(preState);
    if (b.length !== 33 || b[0]! > VmStatus.INVALID) throw new GameError(`not a toy VM state: ${preState}`);
    return { status: b[0]! as VmStatus, position: BigInt(toHex(b.subarray(1))) };
  };
  return {
    stateHashOf(preState) {
      const { status, position } = decode(preState);
      return toyVmValue(world, status, position);
    },
    step(preState) {
      const { status, position } = decode(preState);
      return toyVmValue(world, status, position >= world.exitStep ? position : position + 1n);
    },
  };
}

export interface ToyPartyOptions {
  /** Graph states from this node on are lies (1..n). */
  graphLieFrom?: number;
  /** VM values from this step on are lies; the liar's final value carries `vmLieStatus`. */
  vmLieFrom?: bigint;
  vmLieStatus?: VmStatus;
  /** T, needed to know which made-up value is the final one. */
  vmFinalPosition?: bigint;
  salt?: string;
}

/** A toy graph trace, lying from node `lieFrom` on when given (memoized: building one hashes a tree). */
export function toyGraphTrace(world: ToyWorld, lieFrom?: number, salt = "toy-liar"): MerkleGraphTrace {
  const key = `${lieFrom ?? "honest"}/${salt}`;
  let graph = world.graphCache.get(key);
  if (graph === undefined) {
    const states: Uint8Array[] = [];
    for (let k = 0; k <= world.nodeCount; k++) {
      const lie = lieFrom !== undefined && k >= 1 && k >= lieFrom;
      states.push(lie ? graphKeccak(enc(`${salt}/graph/${k}`)) : world.honestGraphState(k));
    }
    graph = new MerkleGraphTrace(states);
    world.graphCache.set(key, graph);
  }
  return graph;
}

/** A toy party's traces: honest, or lying from a graph node and/or a VM step. */
export function toyTraces(world: ToyWorld, options: ToyPartyOptions = {}): DisputeTraces {
  const salt = options.salt ?? "toy-liar";
  return {
    graph: toyGraphTrace(world, options.graphLieFrom, salt),
    vm(inputs) {
      const truth = new ToyVmTrace(world, inputs);
      if (options.vmLieFrom === undefined) return truth;
      if (options.vmFinalPosition === undefined || options.vmLieStatus === undefined) {
        throw new GameError("a lying toy VM trace needs vmFinalPosition and vmLieStatus");
      }
      return new LyingVmTrace(truth, options.vmLieFrom, options.vmFinalPosition, options.vmLieStatus, salt);
    },
  };
}

export { fakeStateHash };

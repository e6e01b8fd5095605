/**
 * The VM-phase trace (docs/protocol.md §5.3, §5.4): the guest node program (oao_node.elf) run in
 * the TypeScript VM on the local inputs the contract bound — modelRoot, node index i, the agreed
 * State_{i-1} and the defender's State_i — with every keccak preimage the guest fetches
 * (keeper/graph/preimages.ts). The value at step s is the state hash after s steps, the exited state
 * after the exit. Both sides run the same program on the same inputs, so an honest party's trace is
 * the same whichever side it plays: it ends VALID when the defender's State_i is right, INVALID
 * otherwise.
 *
 * Bisection asks for scattered steps; the trace keeps a snapshot every `snapshotInterval` steps so
 * each answer re-executes at most that many steps. On long runs (GPT-2's largest Gemm nodes: ~5.7·10^8 steps)
 * the VM trace thins its snapshots to at most DEFAULT_MAX_SNAPSHOTS (keeper/vm/trace.ts), doubling
 * the interval: memory stays bounded and an answer re-executes at most ~2^21 steps (~40 ms).
 */
import type { Model } from "../graph/model.ts";
import { nodeCheck } from "../graph/preimages.ts";
import type { Tensor } from "../graph/tensor.ts";
import { toHex as graphToHex } from "../graph/hash.ts";
import { fromHex, toHex } from "../vm/hex.ts";
import { KEY_TYPE_LOCAL, MapPreimageSource } from "../vm/preimage.ts";
import { Trace } from "../vm/trace.ts";
import type { StepWitness } from "../vm/step.ts";
import type { DisputeTraces, GraphTraceProvider, StepData, VmTraceProvider } from "./trace-provider.ts";
import { GameError, type Hex, type VmInputs } from "./types.ts";

/** Steps between VM snapshots: about 15 ms of re-execution per bisection answer. */
export const VM_SNAPSHOT_INTERVAL = 1 << 15;

export function stepDataOf(w: StepWitness): StepData {
  const p = w.preimage;
  return {
    preState: toHex(w.preState),
    preStateHash: w.preStateHash,
    proof: toHex(w.proof),
    preimage:
      p === undefined
        ? undefined
        : { key: toHex(p.key), oracleKey: toHex(p.oracleKey), local: p.key[0] === KEY_TYPE_LOCAL, offset: BigInt(p.offset), data: toHex(p.data) },
    postStateHash: w.postStateHash,
  };
}

/** A VM trace of the guest program over a fixed preimage source. */
export class GuestVmTrace implements VmTraceProvider {
  private readonly trace: Trace;

  constructor(elf: Uint8Array, preimages: MapPreimageSource, localContext: { caller: Hex; localContext: Hex }, snapshotInterval = VM_SNAPSHOT_INTERVAL) {
    this.trace = Trace.fromElf(elf, { preimages, localContext, snapshotInterval, outputLimit: 1 << 16 });
  }

  private step(position: bigint): number {
    if (position < 0n) throw new GameError(`VM position ${position} is out of range`);
    if (position > BigInt(Number.MAX_SAFE_INTEGER)) {
      // Beyond 2^53 (games of vmTraceDepth 54..64 post such positions): only the exited state is
      // there, so the run must have exited before.
      const r = this.trace.run(Number.MAX_SAFE_INTEGER);
      if (!r.exited) throw new GameError(`VM position ${position}: the guest has not exited after ${r.steps} steps`);
    }
    // Past the exit every position is the exited state: never run further than needed.
    if (this.trace.exited && position > BigInt(this.trace.headStep)) return this.trace.headStep;
    return Number(position);
  }

  valueAt(position: bigint): Hex {
    return this.trace.stateHashAt(this.step(position));
  }

  stepData(position: bigint): StepData {
    return stepDataOf(this.trace.witness(this.step(position)));
  }

  exitStep(limit: bigint): bigint | undefined {
    const r = this.run(limit);
    return r.exited ? BigInt(r.steps) : undefined;
  }

  /** Runs to `until` (or the exit) and reports where the program stands. */
  run(until: bigint): { exited: boolean; exitCode: number; steps: number; stderr: string } {
    const r = this.trace.run(Number(until > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : until));
    return { exited: r.exited, exitCode: r.exitCode, steps: r.steps, stderr: new TextDecoder().decode(r.stderr) };
  }
}

/**
 * The preimage oracle's contents for a bound dispute, checked against what this party computed:
 * the bound pre-state must be this party's own State_{i-1} (it agreed to it), else it cannot play.
 */
export function guestPreimages(model: Model, input: Tensor, nodeOutputs: readonly Tensor[], inputs: VmInputs): MapPreimageSource {
  const n = model.nodes.length;
  if (inputs.nodeIndex < 1n || inputs.nodeIndex > BigInt(n)) {
    throw new GameError(`the game bound node index ${inputs.nodeIndex}, outside the model's nodes 1..${n}`);
  }
  const k = Number(inputs.nodeIndex);
  const check = nodeCheck(model, input, nodeOutputs, k, fromHex(inputs.postState));
  if (graphToHex(check.preState).toLowerCase() !== inputs.preState.toLowerCase()) {
    throw new GameError(
      `the game bound pre-state ${inputs.preState} for node ${k}, but our State_${k - 1} is ${graphToHex(check.preState)}: our trace does not agree with the agreed state`,
    );
  }
  const source = new MapPreimageSource();
  for (const [ident, data] of check.locals) source.setLocal(ident, data);
  for (const data of check.preimages.byKey.values()) source.addKeccak(data);
  return source;
}

export interface ClaimTracesParams {
  model: Model;
  input: Tensor;
  /** What this party believes node k computed (index k-1): its claim's node outputs. */
  nodeOutputs: readonly Tensor[];
  graph: GraphTraceProvider;
  elf: Uint8Array;
  snapshotInterval?: number;
}

/** A party's real traces: its graph claim and, once bound, the guest's run in the VM. */
export function claimTraces(p: ClaimTracesParams): DisputeTraces & { guest(inputs: VmInputs, gameAddress: Hex): GuestVmTrace } {
  const cache = new Map<string, GuestVmTrace>();
  const guest = (inputs: VmInputs, gameAddress: Hex): GuestVmTrace => {
    const key = [inputs.nodeIndex, inputs.preState, inputs.postState, inputs.localContext, gameAddress].join("/").toLowerCase();
    let t = cache.get(key);
    if (t === undefined) {
      const source = guestPreimages(p.model, p.input, p.nodeOutputs, inputs);
      t = new GuestVmTrace(p.elf, source, { caller: gameAddress, localContext: inputs.localContext }, p.snapshotInterval);
      cache.set(key, t);
    }
    return t;
  };
  return { graph: p.graph, vm: guest, guest };
}

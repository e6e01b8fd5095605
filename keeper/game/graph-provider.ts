/**
 * The graph-phase trace of a claim (docs/protocol.md §3.5, §5.2) from the native executor's run of
 * the model on the request input: the honest claim, or a faulty one whose node outputs are wrong
 * from node N on (fault `graph:N`). A faulty claim is still self-consistent: its output bytes hash
 * to leaf n-1 of its final nodesRoot and every state it reveals opens against its own traceRoot, so
 * it passes the commit checks and can only be caught by the game.
 */
import { buildTrace, claimProof, type ClaimProof, type Trace } from "../graph/state.ts";
import { tensorHash, type Tensor } from "../graph/tensor.ts";
import type { RunResult } from "../graph/executor.ts";
import { MerkleGraphTrace } from "./trace-provider.ts";
import { GameError } from "./types.ts";

/** One claim about a request: what its poster believes every node computed. */
export interface GraphClaim {
  /** Node k's output at index k-1 (the poster's belief). */
  nodeOutputs: Tensor[];
  /** Node n's output: the claimed output. */
  output: Tensor;
  trace: Trace;
  /** The §3.5 commit proofs. */
  proof: ClaimProof;
  provider: MerkleGraphTrace;
}

/** A tensor with one element changed (the smallest lie that changes its hash). */
export function corruptTensor(t: Tensor, salt: number): Tensor {
  const data = t.data.slice() as typeof t.data;
  const i = salt % data.length;
  // Flip the low bit: stays in range for int8 and int32 alike.
  data[i] = (data[i]! ^ 1) as never;
  return { ...t, data } as Tensor;
}

/**
 * The claim of a run; with `wrongFrom = N` (1..n) every node output from N on is corrupted, so
 * State_k is wrong exactly for k ≥ N and the output differs from the honest one.
 */
export function graphClaim(run: RunResult, weightsRoot: Uint8Array, options: { wrongFrom?: number; salt?: number } = {}): GraphClaim {
  const n = run.nodeOutputs.length;
  const wrongFrom = options.wrongFrom;
  if (wrongFrom !== undefined && (!Number.isInteger(wrongFrom) || wrongFrom < 1 || wrongFrom > n)) {
    throw new GameError(`graph fault node ${wrongFrom} is outside the model's nodes 1..${n}`);
  }
  const salt = options.salt ?? 0;
  const nodeOutputs =
    wrongFrom === undefined ? run.nodeOutputs : run.nodeOutputs.map((t, i) => (i + 1 >= wrongFrom ? corruptTensor(t, salt + i) : t));
  const trace = wrongFrom === undefined ? run.trace : buildTrace(run.inputHash, weightsRoot, nodeOutputs.map(tensorHash));
  return {
    nodeOutputs,
    output: nodeOutputs[n - 1]!,
    trace,
    proof: claimProof(trace),
    provider: new MerkleGraphTrace(trace.states),
  };
}

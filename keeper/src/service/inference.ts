/**
 * From a request to a claim: decode the request's input bytes as the model's input tensor, run
 * the native executor, and build everything a commit carries (output bytes, traceRoot and the
 * §3.5 proof). Malformed input is an `InputError` the keeper records on the request (it never
 * commits, and never crashes on it).
 */
import {
  claimProof,
  decodeTensor,
  encodeTensor,
  Executor,
  requestInputSpec,
  toHex,
  type ClaimProof,
  type Model,
  type RunResult,
} from "../../graph/index.ts";

export interface ComputedClaim {
  output: Uint8Array;
  traceRoot: `0x${string}`;
  proof: ClaimProof;
  /** The native run, when computed on this thread (a compute worker keeps it: it is the size of the activations). */
  run?: RunResult;
}

/**
 * Decodes the canonical bytes of a request input (docs/protocol.md §3.2) for `model`: its input header's tensor, or
 * for a text model the prompt as int8 [L] (§3.4). An input the model cannot take is an InputError.
 */
export function decodeRequestInput(model: Model, input: Uint8Array) {
  const { dtype, shape } = requestInputSpec(model, input.length);
  return decodeTensor(dtype, [...shape], input);
}

export function computeClaim(executor: Executor, input: Uint8Array): ComputedClaim {
  return claimOfRun(executor.run(decodeRequestInput(executor.model, input)));
}

function claimOfRun(run: RunResult): ComputedClaim {
  return { output: encodeTensor(run.output), traceRoot: toHex(run.trace.traceRoot) as `0x${string}`, proof: claimProof(run.trace), run };
}

/**
 * The claims of several requests of one model, computed as one batch where the model batches (Executor.runBatch:
 * each claim exactly `computeClaim`'s); an input the model cannot take gives its error at its index, the others are
 * still computed.
 */
export function computeClaims(executor: Executor, inputs: readonly Uint8Array[]): (ComputedClaim | Error)[] {
  const out: (ComputedClaim | Error)[] = new Array(inputs.length);
  const decoded: { at: number; tensor: ReturnType<typeof decodeRequestInput> }[] = [];
  inputs.forEach((input, at) => {
    try {
      const tensor = decodeRequestInput(executor.model, input);
      executor.checkInput(tensor);
      decoded.push({ at, tensor });
    } catch (error) {
      out[at] = error instanceof Error ? error : new Error(String(error));
    }
  });
  const runs = executor.runBatch(decoded.map((d) => d.tensor));
  decoded.forEach((d, i) => (out[d.at] = claimOfRun(runs[i]!)));
  return out;
}

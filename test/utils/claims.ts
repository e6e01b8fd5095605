/**
 * Synthetic models and claims for chain tests that exercise the oracle and task manager rather than a real
 * model: a model descriptor (docs/protocol.md §3.3) with chosen tensor sizes, and a claim on any output whose
 * §3.5 proof is valid for the request it answers (node k < n outputs keccak256(salt ‖ k), node n the output).
 */
import type { Hex } from "viem";
import { encodeDescriptor, InputMode } from "../../keeper/graph/model.ts";
import { DType, encodeHeader, tensorHashOfBytes } from "../../keeper/graph/tensor.ts";
import { buildTrace, claimProof } from "../../keeper/graph/state.ts";
import { concatBytes, fromHex, keccak, toHex } from "../../keeper/graph/hash.ts";

const hx = (b: Uint8Array): Hex => toHex(b) as Hex;

export interface SyntheticModel {
  nodeCount?: number;
  /** Byte length of the (int8, rank-1) input tensor. */
  inputBytes?: number;
  /** Byte length of the (int8, rank-1) output tensor. */
  outputBytes?: number;
  weightsRoot?: Hex;
  /** Given: a version-2 descriptor with this inputMode (1: a text model of context `inputBytes`). */
  inputMode?: InputMode;
}

/** A model descriptor with int8 rank-1 input and output tensors (version 1, or 2 with `inputMode`). */
export function syntheticDescriptor(m: SyntheticModel = {}): Hex {
  return hx(
    encodeDescriptor({
      nodeCount: m.nodeCount ?? 6,
      weightCount: 0,
      graphRoot: keccak(new TextEncoder().encode("graphRoot")),
      weightsRoot: fromHex(m.weightsRoot ?? hx(keccak(new TextEncoder().encode("weights")))),
      metadataHash: keccak(new TextEncoder().encode("metadata")),
      inputHeader: encodeHeader(DType.int8, [m.inputBytes ?? 5]),
      outputHeader: encodeHeader(DType.int8, [m.outputBytes ?? 1]),
      inputMode: m.inputMode,
    }),
  );
}

/** What `getModelCommitment` returns, as far as the claim checks need it. */
export interface ModelCommitmentView {
  nodeCount: number;
  weightsRoot: Hex;
  inputHeader: Hex;
  outputHeader: Hex;
  /** 1: a text model, whose request input tensor is int8 [inputLength] (docs/protocol.md §3.4). */
  inputMode?: number;
}

export interface ClaimProofArg {
  traceRoot: Hex;
  leaf0Proof: Hex[];
  finalNodesRoot: Hex;
  outputProof: Hex[];
  leafNProof: Hex[];
}

/**
 * The proof of a claim on `output` for a request whose stored input hash (the input's chunk root, keccak256(input)
 * for one chunk) is `requestInputHash`, under `model`.
 * An output that does not fit the model's output header gets a proof over `keccak256(output)` (the chain
 * rejects such an output before or at the proof check, which is what tests of bad outputs want).
 */
export function syntheticClaimProof(model: ModelCommitmentView, requestInputHash: Hex, output: Hex, salt: Hex, inputLength = 0): ClaimProofArg {
  const n = model.nodeCount;
  const inputHeader = model.inputMode === InputMode.text ? encodeHeader(DType.int8, [inputLength]) : fromHex(model.inputHeader);
  const inputHash = keccak(concatBytes(inputHeader, fromHex(requestInputHash)));
  let outHash: Uint8Array;
  try {
    outHash = tensorHashOfBytes(fromHex(model.outputHeader), fromHex(output));
  } catch {
    outHash = keccak(fromHex(output));
  }
  const outs = Array.from({ length: n }, (_, k) => (k === n - 1 ? outHash : keccak(concatBytes(fromHex(salt), new Uint8Array([k + 1])))));
  const p = claimProof(buildTrace(inputHash, fromHex(model.weightsRoot), outs));
  return {
    traceRoot: /^0x0*$/.test(salt) ? (`0x${"00".repeat(32)}` as Hex) : hx(p.traceRoot),
    leaf0Proof: p.leaf0Proof.map(hx),
    finalNodesRoot: hx(p.finalNodesRoot),
    outputProof: p.outputProof.map(hx),
    leafNProof: p.leafNProof.map(hx),
  };
}

interface OracleReader {
  read: {
    getRequestHeader(args: readonly [bigint]): Promise<{ modelId: bigint; inputHash: Hex; inputLength: number }>;
    getModelCommitment(args: readonly [bigint]): Promise<{ nodeCount: number; weightsRoot: Hex; inputHeader: Hex; outputHeader: Hex; inputMode: number }>;
  };
}

/**
 * The proof of a claim on `output` for request `requestId`, read from the chain (its input hash and model).
 * `salt` picks the intermediate states; a zero salt gives a zero `traceRoot`. For an unknown request a
 * proof against a default model is returned (the chain rejects the request first).
 */
export async function claimProofFor(oracle: OracleReader, requestId: bigint, output: Hex, salt: Hex): Promise<ClaimProofArg> {
  try {
    const header = await oracle.read.getRequestHeader([requestId]);
    const model = await oracle.read.getModelCommitment([header.modelId]);
    return syntheticClaimProof(model, header.inputHash, output, salt, header.inputLength);
  } catch {
    const header = encodeHeader(DType.int8, [1]);
    return syntheticClaimProof({ nodeCount: 6, weightsRoot: hx(new Uint8Array(32)), inputHeader: hx(header), outputHeader: hx(header) }, hx(new Uint8Array(32)), output, salt);
  }
}

/**
 * Calldata of the task manager's claim-posting functions (`commit`, `challenge`): the output bytes,
 * the traceRoot and the §3.5 proof (docs/protocol.md §1, §3.5). Written once, used by the keeper
 * service, the dispute simulator and the demo.
 */
import { encodeFunctionData, type Hex } from "viem";
import { TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { toHex } from "../../graph/index.ts";
import type { ComputedClaim } from "./inference.ts";

export function encodeClaimCall(functionName: "commit" | "challenge", requestId: bigint, claim: Pick<ComputedClaim, "output" | "proof">): Hex {
  return encodeFunctionData({
    abi: TaskManagerAbi,
    functionName,
    args: [requestId, toHex(claim.output) as Hex, claimProofArg(claim.proof)],
  });
}

/** A keeper/graph `ClaimProof` as the `GraphCommitments.ClaimProof` tuple `commit`/`challenge` take. */
export function claimProofArg(p: ComputedClaim["proof"]) {
  const hx = (b: Uint8Array) => toHex(b) as Hex;
  return {
    traceRoot: hx(p.traceRoot),
    leaf0Proof: p.leaf0Proof.map(hx),
    finalNodesRoot: hx(p.finalNodesRoot),
    outputProof: p.outputProof.map(hx),
    leafNProof: p.leafNProof.map(hx),
  };
}

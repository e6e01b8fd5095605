/**
 * Calldata of the task manager's claim-posting functions (`commit`, `challenge`): the output bytes,
 * the traceRoot and the §3.5 proof (docs/protocol.md §1, §3.5). Written once, used by the keeper
 * service, the dispute simulator and the demo.
 */
import { encodeFunctionData, type Hex } from "viem";
import { TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { toHex } from "../../graph/index.ts";
import type { ComputedClaim } from "./inference.ts";

export function encodeClaimCall(functionName: "commit" | "challenge", requestId: bigint, claim: Pick<ComputedClaim, "output" | "traceRoot">): Hex {
  return encodeFunctionData({
    abi: TaskManagerAbi,
    functionName,
    args: [requestId, toHex(claim.output) as Hex, claim.traceRoot],
  });
}

/**
 * Calldata of the task manager's claim-posting functions (`commit`, `challenge`): the output bytes,
 * the traceRoot and the §3.5 proof (docs/protocol.md §1, §3.5). Written once, used by the keeper
 * service, the dispute simulator and the demo.
 */
import { encodeAbiParameters, encodeFunctionData, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { toHex } from "../../graph/index.ts";
import type { ComputedClaim } from "./inference.ts";

/** A claim's trace root and State_n (docs/protocol.md §1.8): a challenge passes the standing claim's. */
export interface ClaimOpening {
  traceRoot: Hex;
  finalState: Hex;
}

type Claim = Pick<ComputedClaim, "output" | "proof">;

/** `commit(requestId, output, proof)`, or `challenge(requestId, output, proof, standing)` against the claim `standing` opens. */
export function encodeClaimCall(functionName: "commit", requestId: bigint, claim: Claim): Hex;
export function encodeClaimCall(functionName: "challenge", requestId: bigint, claim: Claim, standing: ClaimOpening): Hex;
export function encodeClaimCall(functionName: "commit" | "challenge", requestId: bigint, claim: Claim, standing?: ClaimOpening): Hex {
  const output = toHex(claim.output) as Hex;
  const proof = claimProofArg(claim.proof);
  if (functionName === "commit") return encodeFunctionData({ abi: TaskManagerAbi, functionName, args: [requestId, output, proof] });
  if (standing === undefined) throw new Error("encodeClaimCall: a challenge needs the standing claim's opening (readClaimOpening)");
  return encodeFunctionData({ abi: TaskManagerAbi, functionName, args: [requestId, output, proof, standing] });
}

/** What `getClaimCommitment` holds for an opening: keccak256(abi.encode(traceRoot, finalState)). */
export function claimCommitment(o: ClaimOpening): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [o.traceRoot, o.finalState]));
}

const eventOf = <N extends string>(name: N) =>
  TaskManagerAbi.find((item) => item.type === "event" && item.name === name)! as Extract<(typeof TaskManagerAbi)[number], { type: "event"; name: N }>;
const CLAIM_COMMITTED = eventOf("ClaimCommitted");
const CLAIM_CHALLENGED = eventOf("ClaimChallenged");
const CHALLENGE_QUEUED = eventOf("ChallengeQueued");

/**
 * The opening of claim `claimId`, from the event that posted it (`ClaimCommitted`, `ChallengeQueued` or
 * `ClaimChallenged`, searched from `fromBlock`: the request's block), checked against the task manager's
 * `getClaimCommitment` so that a stale or wrong log from the node is never sent. Throws, saying which, when no log
 * matches.
 */
export async function readClaimOpening(client: PublicClient, taskManager: Address, claimId: bigint, fromBlock: bigint): Promise<ClaimOpening> {
  try {
    return await openingFrom(client, taskManager, claimId, fromBlock);
  } catch (error) {
    // `fromBlock` is a hint (the block a keeper read the request from, which a store may hold later than the
    // request's): the whole history is the fallback.
    if (fromBlock === 0n || !(error instanceof NoOpeningError)) throw error;
    return openingFrom(client, taskManager, claimId, 0n);
  }
}

class NoOpeningError extends Error {}

async function openingFrom(client: PublicClient, taskManager: Address, claimId: bigint, fromBlock: bigint): Promise<ClaimOpening> {
  const range = { address: taskManager, fromBlock, toBlock: "latest" } as const;
  const [commitment, committed, queued, challenged] = await Promise.all([
    client.readContract({ address: taskManager, abi: TaskManagerAbi, functionName: "getClaimCommitment", args: [claimId] }),
    client.getLogs({ ...range, event: CLAIM_COMMITTED, args: { claimId } }),
    client.getLogs({ ...range, event: CHALLENGE_QUEUED, args: { challengerClaimId: claimId } }),
    client.getLogs({ ...range, event: CLAIM_CHALLENGED, args: { challengerClaimId: claimId } }),
  ]);
  const openings = [...committed, ...queued, ...challenged].map((l) => ({ traceRoot: l.args.traceRoot as Hex, finalState: l.args.finalState as Hex }));
  const found = openings.find((o) => claimCommitment(o).toLowerCase() === commitment.toLowerCase());
  if (found === undefined) {
    throw new NoOpeningError(
      `claim ${claimId}: none of the ${openings.length} posting log(s) from block ${fromBlock} opens its commitment ${commitment} (the node's logs are incomplete or behind)`,
    );
  }
  return found;
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

/** The opening of request `requestId`'s standing claim now (what `challenge` takes), as {readClaimOpening}. */
export async function readStandingOpening(client: PublicClient, taskManager: Address, requestId: bigint, fromBlock = 0n): Promise<ClaimOpening> {
  const task = await client.readContract({ address: taskManager, abi: TaskManagerAbi, functionName: "getTask", args: [requestId] });
  if (task.standingClaimId === 0n) throw new Error(`request ${requestId} has no standing claim to challenge`);
  return readClaimOpening(client, taskManager, task.standingClaimId, fromBlock);
}

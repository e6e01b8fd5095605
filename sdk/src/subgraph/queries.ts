import type { Address, Chain, Client, Transport } from "viem";
import { getBlock, getBlockNumber } from "viem/actions";
import type { DeliveryMode } from "../contracts.ts";
import { SubgraphStaleError } from "../errors/subgraph.ts";
import type { SubgraphClient } from "./client.ts";
import { RowReader } from "./rows.ts";
import {
  type DisputeFilter,
  DisputesDocument,
  MetaDocument,
  OperatorsDocument,
  type RequestFilter,
  RequestsDocument,
  SlashesDocument,
  type SubgraphDisputeOutcome,
  type SubgraphRequestStatus,
  type DisputeRow,
} from "./documents.ts";

export interface Page {
  /** At most this many rows (graph-node caps it at 1000). Default 100. */
  first?: number;
  skip?: number;
}

const REQUEST_STATUSES = ["Requested", "Committed", "Challenged", "Finalized", "Delivered", "Expired", "Refunded", "Cancelled"] as const;
const DELIVERY_MODES = ["AtCommit", "AtFinality"] as const;
const OUTCOMES = ["Defender", "Challenger", "Undecided"] as const;
const PHASES = ["Graph", "VmStart", "Vm", "Step", "Resolved"] as const;

export interface IndexedRequest {
  requestId: bigint;
  /** msg.sender at the oracle: the consumer contract when a contract made the request. */
  requester: Address;
  /** The sender of the request's transaction (tx.from): the user behind a consumer contract. */
  txFrom: Address;
  modelId: bigint;
  status: SubgraphRequestStatus;
  output: `0x${string}` | null;
  deliveryMode: DeliveryMode;
  deadline: bigint;
  totalFee: bigint;
  createdAt: bigint;
  /** Seconds from request to first commit. */
  commitLatency: bigint | null;
  /** Seconds from request to finality. */
  finalityLatency: bigint | null;
  disputeCount: number;
  deliveries: number;
  /** Operator of the standing claim. */
  answeredBy: Address | null;
  /** When an undecided game cancelled the request (status Cancelled, or Refunded after it), else null. */
  cancelledAt: bigint | null;
}

/** A request row, checked (SubgraphResponseError for a missing or malformed field). */
function toRequest(r: RowReader): IndexedRequest {
  const claim = r.nestedOrNull("standingClaim", "Claim");
  return {
    requestId: r.bigint("requestId"),
    requester: r.address("requester"),
    txFrom: r.address("txFrom"),
    modelId: r.nested("model", "Model").bigint("modelId"),
    status: r.oneOf("status", REQUEST_STATUSES),
    output: r.hexOrNull("output"),
    deliveryMode: r.oneOf("deliveryMode", DELIVERY_MODES),
    deadline: r.bigint("deadline"),
    totalFee: r.bigint("totalFee"),
    createdAt: r.bigint("createdAt"),
    commitLatency: r.bigintOrNull("commitLatency"),
    finalityLatency: r.bigintOrNull("finalityLatency"),
    disputeCount: r.int("disputeCount"),
    deliveries: r.int("deliveries"),
    answeredBy: claim ? claim.nested("operator", "Operator").address("id") : null,
    cancelledAt: r.bigintOrNull("cancelledAt"),
  };
}

/**
 * Requests, newest first, optionally by requester (msg.sender at the oracle: your consumer contract), by the
 * transaction's sender (`txFrom`: the user, for "my requests" through a consumer contract), status and model.
 */
export async function getIndexedRequests(
  subgraph: SubgraphClient,
  {
    requester,
    txFrom,
    status,
    modelId,
    first = 100,
    skip = 0,
  }: Page & { requester?: Address; txFrom?: Address; status?: SubgraphRequestStatus[]; modelId?: bigint },
): Promise<IndexedRequest[]> {
  const where: RequestFilter = {};
  if (requester) where.requester = requester.toLowerCase();
  if (txFrom) where.txFrom = txFrom.toLowerCase();
  if (status) where.status_in = status;
  if (modelId !== undefined) where.model = modelId.toString();
  const data = await subgraph.request(RequestsDocument, { where, first, skip });
  return RowReader.list(data, "requests", "Request").map(toRequest);
}

export interface IndexedDispute {
  game: Address;
  requestId: bigint;
  defenderClaimId: bigint;
  challengerClaimId: bigint;
  defender: Address;
  challenger: Address;
  /** Defender, Challenger or Undecided (both claims released, request cancelled); null while the game is open. */
  winner: SubgraphDisputeOutcome | null;
  loserSlashed: bigint | null;
  createdAt: bigint;
  resolvedAt: bigint | null;
  /** The game's phase (docs/protocol.md §5) and the current range [lo, hi]. */
  phase: DisputeRow["phase"];
  lo: bigint;
  hi: bigint;
  /** Bisection rounds completed, both phases. */
  rounds: number;
  /** The node phase 2 ended at (null while in phase 2). */
  nodeIndex: bigint | null;
  /** "Step", "Timeout" or "Agreement" (both sides posted the same undecidable final VM state) once resolved. */
  decidedBy: string | null;
  /**
   * Chess clocks as of the last indexed event: seconds used when last stopped, and since when the
   * clock runs (null: stopped). Used by time t = used + (t − runningSince).
   */
  clocks: {
    defender: { used: bigint; runningSince: bigint | null };
    challenger: { used: bigint; runningSince: bigint | null };
  };
}

/** A dispute row, checked. */
function toDispute(d: RowReader): IndexedDispute {
  return {
    game: d.address("id"),
    requestId: d.nested("request", "Request").bigint("id"),
    defenderClaimId: d.nested("defenderClaim", "Claim").bigint("id"),
    challengerClaimId: d.nested("challengerClaim", "Claim").bigint("id"),
    defender: d.nested("defender", "Operator").address("id"),
    challenger: d.nested("challenger", "Operator").address("id"),
    winner: d.oneOfOrNull("winner", OUTCOMES),
    loserSlashed: d.bigintOrNull("loserSlashed"),
    createdAt: d.bigint("createdAt"),
    resolvedAt: d.bigintOrNull("resolvedAt"),
    phase: d.oneOf("phase", PHASES),
    lo: d.bigint("lo"),
    hi: d.bigint("hi"),
    rounds: d.int("rounds"),
    nodeIndex: d.bigintOrNull("nodeIndex"),
    decidedBy: d.stringOrNull("decidedBy"),
    clocks: {
      defender: { used: d.bigint("defenderClockUsed"), runningSince: d.bigintOrNull("defenderClockRunningSince") },
      challenger: { used: d.bigint("challengerClockUsed"), runningSince: d.bigintOrNull("challengerClockRunningSince") },
    },
  };
}

/** Dispute games, newest first: of one request, of one operator (either side), or only open ones. */
export async function getDisputes(
  subgraph: SubgraphClient,
  { requestId, operator, open, first = 100, skip = 0 }: Page & { requestId?: bigint; operator?: Address; open?: boolean },
): Promise<IndexedDispute[]> {
  const base: DisputeFilter = {};
  if (requestId !== undefined) base.request = requestId.toString();
  if (open) base.winner = null;
  // graph-node refuses `or` beside other filters at the same level: they are repeated inside each clause.
  const where: DisputeFilter = operator
    ? { or: [{ ...base, defender: operator.toLowerCase() }, { ...base, challenger: operator.toLowerCase() }] }
    : base;
  const data = await subgraph.request(DisputesDocument, { where, first, skip });
  return RowReader.list(data, "disputes", "Dispute").map(toDispute);
}

export interface OperatorScorecard {
  operator: Address;
  activeStake: bigint;
  lockedStake: bigint;
  unbondingStake: bigint;
  jailedUntil: bigint;
  answered: number;
  challenges: number;
  accepted: number;
  disputesWon: number;
  disputesLost: number;
  /** Games that ended undecided (nothing won or lost). */
  disputesUndecided: number;
  slashCount: number;
  slashedTotal: bigint;
  feesEarned: bigint;
}

function toScorecard(o: RowReader): OperatorScorecard {
  return {
    operator: o.address("id"),
    activeStake: o.bigint("activeStake"),
    lockedStake: o.bigint("lockedStake"),
    unbondingStake: o.bigint("unbondingStake"),
    jailedUntil: o.bigint("jailedUntil"),
    answered: o.int("answered"),
    challenges: o.int("challenges"),
    accepted: o.int("accepted"),
    disputesWon: o.int("disputesWon"),
    disputesLost: o.int("disputesLost"),
    disputesUndecided: o.int("disputesUndecided"),
    slashCount: o.int("slashCount"),
    slashedTotal: o.bigint("slashedTotal"),
    feesEarned: o.bigint("feesEarned"),
  };
}

/** Operator scorecards, most active first (or for the given operators). */
export async function getOperatorScorecards(
  subgraph: SubgraphClient,
  { operators, first = 100, skip = 0 }: Page & { operators?: Address[] },
): Promise<OperatorScorecard[]> {
  const where = operators ? { id_in: operators.map((o) => o.toLowerCase()) } : {};
  const data = await subgraph.request(OperatorsDocument, { where, first, skip });
  return RowReader.list(data, "operators", "Operator").map(toScorecard);
}

export interface IndexedSlash {
  operator: Address;
  amount: bigint;
  winner: Address;
  toWinner: bigint;
  requester: Address;
  toRequester: bigint;
  toTreasury: bigint;
  jailedUntil: bigint;
  timestamp: bigint;
  transactionHash: `0x${string}`;
}

function toSlash(s: RowReader): IndexedSlash {
  return {
    operator: s.nested("operator", "Operator").address("id"),
    amount: s.bigint("amount"),
    winner: s.address("winner"),
    toWinner: s.bigint("toWinner"),
    requester: s.address("requester"),
    toRequester: s.bigint("toRequester"),
    toTreasury: s.bigint("toTreasury"),
    jailedUntil: s.bigint("jailedUntil"),
    timestamp: s.bigint("timestamp"),
    transactionHash: s.hex("transactionHash"),
  };
}

/** Slashes, newest first, optionally of one operator. */
export async function getSlashes(
  subgraph: SubgraphClient,
  { operator, first = 100, skip = 0 }: Page & { operator?: Address },
): Promise<IndexedSlash[]> {
  const where = operator ? { operator: operator.toLowerCase() } : {};
  const data = await subgraph.request(SlashesDocument, { where, first, skip });
  return RowReader.list(data, "slashes", "Slash").map(toSlash);
}

export interface SubgraphFreshness {
  /** Latest block the subgraph has indexed. */
  subgraphBlock: bigint;
  /** The chain head. */
  chainBlock: bigint;
  /** chainBlock − subgraphBlock (0 if the subgraph is ahead of this node). */
  lag: bigint;
  hasIndexingErrors: boolean;
  /** No indexing errors and lag ≤ maxLag. */
  fresh: boolean;
}

/** How far the subgraph trails the chain, from `_meta.block` and the client's head. */
export async function getSubgraphFreshness(
  client: Client<Transport, Chain | undefined>,
  subgraph: SubgraphClient,
  { maxLag = 5n }: { maxLag?: bigint } = {},
): Promise<SubgraphFreshness> {
  const [data, chainBlock] = await Promise.all([subgraph.request(MetaDocument, {}), getBlockNumber(client, { cacheTime: 0 })]);
  const meta = data !== null && typeof data === "object" && data._meta ? RowReader.of(data._meta, "_Meta_", "_meta") : null;
  const metaBlock = meta?.nested("block", "_Block_");
  const subgraphBlock = metaBlock ? metaBlock.bigint("number") : 0n;
  const lag = chainBlock > subgraphBlock ? chainBlock - subgraphBlock : 0n;
  const hasIndexingErrors = meta ? meta.bool("hasIndexingErrors") : false;
  const metaHash = metaBlock?.hexOrNull("hash") ?? null;
  // A subgraph whose block hash differs from the chain's at that height indexed a reorged-out branch.
  let onOurChain = true;
  if (metaHash && subgraphBlock <= chainBlock) {
    const block = await getBlock(client, { blockNumber: subgraphBlock });
    onOurChain = block.hash.toLowerCase() === metaHash.toLowerCase();
  }
  return { subgraphBlock, chainBlock, lag, hasIndexingErrors, fresh: !hasIndexingErrors && onOurChain && lag <= maxLag };
}

/** Throws SubgraphStaleError unless the subgraph is fresh (see getSubgraphFreshness). */
export async function assertSubgraphFresh(
  client: Client<Transport, Chain | undefined>,
  subgraph: SubgraphClient,
  { maxLag = 5n }: { maxLag?: bigint } = {},
): Promise<SubgraphFreshness> {
  const f = await getSubgraphFreshness(client, subgraph, { maxLag });
  if (!f.fresh) {
    throw new SubgraphStaleError({ subgraphBlock: f.subgraphBlock, chainBlock: f.chainBlock, maxLag, hasIndexingErrors: f.hasIndexingErrors });
  }
  return f;
}

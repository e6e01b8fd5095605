import type { Address, Chain, Client, Transport } from "viem";
import { getBlock, getBlockNumber } from "viem/actions";
import type { DeliveryMode } from "../contracts.ts";
import { SubgraphStaleError } from "../errors/subgraph.ts";
import type { SubgraphClient } from "./client.ts";
import {
  type DisputeFilter,
  DisputesDocument,
  MetaDocument,
  type OperatorRow,
  OperatorsDocument,
  type RequestFilter,
  type RequestRow,
  RequestsDocument,
  type SlashRow,
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

const big = (s: string | null): bigint | null => (s === null ? null : BigInt(s));

export interface IndexedRequest {
  requestId: bigint;
  requester: Address;
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

function toRequest(r: RequestRow): IndexedRequest {
  return {
    requestId: BigInt(r.requestId),
    requester: r.requester as Address,
    modelId: BigInt(r.model.modelId),
    status: r.status,
    output: r.output as `0x${string}` | null,
    deliveryMode: r.deliveryMode,
    deadline: BigInt(r.deadline),
    totalFee: BigInt(r.totalFee),
    createdAt: BigInt(r.createdAt),
    commitLatency: big(r.commitLatency),
    finalityLatency: big(r.finalityLatency),
    disputeCount: r.disputeCount,
    deliveries: r.deliveries,
    answeredBy: (r.standingClaim?.operator.id ?? null) as Address | null,
    cancelledAt: big(r.cancelledAt),
  };
}

/** Requests, newest first, optionally by requester, status and model. */
export async function getIndexedRequests(
  subgraph: SubgraphClient,
  { requester, status, modelId, first = 100, skip = 0 }: Page & { requester?: Address; status?: SubgraphRequestStatus[]; modelId?: bigint },
): Promise<IndexedRequest[]> {
  const where: RequestFilter = {};
  if (requester) where.requester = requester.toLowerCase();
  if (status) where.status_in = status;
  if (modelId !== undefined) where.model = modelId.toString();
  const { requests } = await subgraph.request(RequestsDocument, { where, first, skip });
  return requests.map(toRequest);
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

function toDispute(d: DisputeRow): IndexedDispute {
  return {
    game: d.id as Address,
    requestId: BigInt(d.request.id),
    defenderClaimId: BigInt(d.defenderClaim.id),
    challengerClaimId: BigInt(d.challengerClaim.id),
    defender: d.defender.id as Address,
    challenger: d.challenger.id as Address,
    winner: d.winner,
    loserSlashed: big(d.loserSlashed),
    createdAt: BigInt(d.createdAt),
    resolvedAt: big(d.resolvedAt),
    phase: d.phase,
    lo: BigInt(d.lo),
    hi: BigInt(d.hi),
    rounds: d.rounds,
    nodeIndex: big(d.nodeIndex),
    decidedBy: d.decidedBy,
    clocks: {
      defender: { used: BigInt(d.defenderClockUsed), runningSince: big(d.defenderClockRunningSince) },
      challenger: { used: BigInt(d.challengerClockUsed), runningSince: big(d.challengerClockRunningSince) },
    },
  };
}

/** Dispute games, newest first: of one request, of one operator (either side), or only open ones. */
export async function getDisputes(
  subgraph: SubgraphClient,
  { requestId, operator, open, first = 100, skip = 0 }: Page & { requestId?: bigint; operator?: Address; open?: boolean },
): Promise<IndexedDispute[]> {
  const where: DisputeFilter = {};
  if (requestId !== undefined) where.request = requestId.toString();
  if (open) where.winner = null;
  if (operator) where.or = [{ defender: operator.toLowerCase() }, { challenger: operator.toLowerCase() }];
  const { disputes } = await subgraph.request(DisputesDocument, { where, first, skip });
  return disputes.map(toDispute);
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

function toScorecard(o: OperatorRow): OperatorScorecard {
  return {
    operator: o.id as Address,
    activeStake: BigInt(o.activeStake),
    lockedStake: BigInt(o.lockedStake),
    unbondingStake: BigInt(o.unbondingStake),
    jailedUntil: BigInt(o.jailedUntil),
    answered: o.answered,
    challenges: o.challenges,
    accepted: o.accepted,
    disputesWon: o.disputesWon,
    disputesLost: o.disputesLost,
    disputesUndecided: o.disputesUndecided,
    slashCount: o.slashCount,
    slashedTotal: BigInt(o.slashedTotal),
    feesEarned: BigInt(o.feesEarned),
  };
}

/** Operator scorecards, most active first (or for the given operators). */
export async function getOperatorScorecards(
  subgraph: SubgraphClient,
  { operators, first = 100, skip = 0 }: Page & { operators?: Address[] },
): Promise<OperatorScorecard[]> {
  const where = operators ? { id_in: operators.map((o) => o.toLowerCase()) } : {};
  const { operators: rows } = await subgraph.request(OperatorsDocument, { where, first, skip });
  return rows.map(toScorecard);
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

function toSlash(s: SlashRow): IndexedSlash {
  return {
    operator: s.operator.id as Address,
    amount: BigInt(s.amount),
    winner: s.winner as Address,
    toWinner: BigInt(s.toWinner),
    requester: s.requester as Address,
    toRequester: BigInt(s.toRequester),
    toTreasury: BigInt(s.toTreasury),
    jailedUntil: BigInt(s.jailedUntil),
    timestamp: BigInt(s.timestamp),
    transactionHash: s.transactionHash as `0x${string}`,
  };
}

/** Slashes, newest first, optionally of one operator. */
export async function getSlashes(
  subgraph: SubgraphClient,
  { operator, first = 100, skip = 0 }: Page & { operator?: Address },
): Promise<IndexedSlash[]> {
  const where = operator ? { operator: operator.toLowerCase() } : {};
  const { slashes } = await subgraph.request(SlashesDocument, { where, first, skip });
  return slashes.map(toSlash);
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
  const [{ _meta }, chainBlock] = await Promise.all([
    subgraph.request(MetaDocument, {}),
    getBlockNumber(client, { cacheTime: 0 }),
  ]);
  const subgraphBlock = BigInt(_meta?.block.number ?? 0);
  const lag = chainBlock > subgraphBlock ? chainBlock - subgraphBlock : 0n;
  const hasIndexingErrors = _meta?.hasIndexingErrors ?? false;
  // A subgraph whose block hash differs from the chain's at that height indexed a reorged-out branch.
  let onOurChain = true;
  if (_meta?.block.hash && subgraphBlock <= chainBlock) {
    const block = await getBlock(client, { blockNumber: subgraphBlock });
    onOurChain = block.hash.toLowerCase() === _meta.block.hash.toLowerCase();
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

/**
 * Typed GraphQL documents for the subgraph (subgraph/schema.graphql). Each is validated against
 * the query schema graph-node derives from it (sdk/test/subgraph-documents.test.ts). GraphQL
 * returns BigInt and Bytes as strings; the query functions convert them.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import type { DeliveryMode } from "../contracts.ts";

/** Request status as the subgraph stores it (the contracts' statuses but `None`). */
export type SubgraphRequestStatus =
  | "Requested"
  | "Committed"
  | "Challenged"
  | "Finalized"
  | "Delivered"
  | "Expired"
  | "Refunded"
  | "Cancelled";
/** Claim status as the subgraph stores it (the contracts' statuses but `None`). */
export type SubgraphClaimStatus = "Standing" | "Challenging" | "Defeated" | "Released" | "Accepted" | "Queued";
/** How a dispute game ended (the subgraph's DisputeOutcome, the contracts' GameWinner). */
export type SubgraphDisputeOutcome = "Defender" | "Challenger" | "Undecided";

function doc<TResult, TVariables>(source: string): TypedDocumentNode<TResult, TVariables> {
  return parse(source) as TypedDocumentNode<TResult, TVariables>;
}

const requestFields = `
  id requestId requester txFrom model { id modelId } status output outputHash deliveryMode deadline
  totalFee createdAt firstCommittedAt finalizedAt commitLatency finalityLatency disputeCount
  deliveries callbackCount lastCallbackSucceeded standingClaim { id operator { id } } cancelledAt`;

export interface RequestRow {
  id: string;
  requestId: string;
  requester: string;
  /** tx.from of the request's transaction. */
  txFrom: string;
  model: { id: string; modelId: string };
  status: SubgraphRequestStatus;
  output: string | null;
  outputHash: string | null;
  deliveryMode: DeliveryMode;
  deadline: string;
  totalFee: string;
  createdAt: string;
  firstCommittedAt: string | null;
  finalizedAt: string | null;
  commitLatency: string | null;
  finalityLatency: string | null;
  disputeCount: number;
  deliveries: number;
  callbackCount: number;
  lastCallbackSucceeded: boolean | null;
  standingClaim: { id: string; operator: { id: string } } | null;
  cancelledAt: string | null;
}

export interface RequestFilter {
  requester?: string;
  txFrom?: string;
  status_in?: SubgraphRequestStatus[];
  model?: string;
}

export const RequestsDocument = doc<
  { requests: RequestRow[] },
  { where: RequestFilter; first: number; skip: number }
>(`query Requests($where: Request_filter, $first: Int!, $skip: Int!) {
  requests(where: $where, first: $first, skip: $skip, orderBy: requestId, orderDirection: desc) {${requestFields}
  }
}`);

export interface ClaimRow {
  id: string;
  operator: { id: string };
  /** null for a queued challenge until its game opens (ChallengeQueued carries only the hash). */
  output: string | null;
  outputHash: string;
  traceRoot: string;
  /** The claim's State_n: with traceRoot, the opening a challenge against this claim passes (docs/protocol.md §1.8). */
  finalState: string;
  status: SubgraphClaimStatus;
  windowEnd: string | null;
  committedAt: string;
  /** Games against the claim still to be decided: the open one plus the queued challenges. */
  openGames: number;
  /** For a challenger's claim: the claim it challenges. */
  target: { id: string } | null;
  /** For a challenge that was queued: its place in the queue when posted (0 = next). */
  queuePosition: string | null;
}

export interface DisputeRow {
  id: string;
  request: { id: string };
  defenderClaim: { id: string };
  challengerClaim: { id: string };
  defender: { id: string };
  challenger: { id: string };
  winner: SubgraphDisputeOutcome | null;
  loserSlashed: string | null;
  createdAt: string;
  resolvedAt: string | null;
  duration: string | null;
  phase: "Graph" | "VmStart" | "Vm" | "Step" | "Resolved";
  lo: string;
  hi: string;
  rounds: number;
  nodeIndex: string | null;
  decidedBy: string | null;
  defenderClockUsed: string;
  defenderClockRunningSince: string | null;
  challengerClockUsed: string;
  challengerClockRunningSince: string | null;
}

const disputeFields = `
  id request { id } defenderClaim { id } challengerClaim { id } defender { id } challenger { id }
  winner loserSlashed createdAt resolvedAt duration phase lo hi rounds nodeIndex decidedBy
  defenderClockUsed defenderClockRunningSince challengerClockUsed challengerClockRunningSince`;

export const RequestDetailDocument = doc<
  {
    request:
      | (RequestRow & {
          claims: ClaimRow[];
          disputes: DisputeRow[];
          callbacks: { id: string; isError: boolean; success: boolean; returnData: string; timestamp: string }[];
        })
      | null;
  },
  { id: string }
>(`query RequestDetail($id: ID!) {
  request(id: $id) {${requestFields}
    claims(orderBy: claimId) { id operator { id } output outputHash traceRoot finalState status windowEnd committedAt openGames target { id } queuePosition }
    disputes(orderBy: createdAt) {${disputeFields} }
    callbacks(orderBy: timestamp) { id isError success returnData timestamp }
  }
}`);

export interface DisputeFilter {
  request?: string;
  winner?: SubgraphDisputeOutcome | null;
  or?: DisputeFilter[];
  defender?: string;
  challenger?: string;
}

export const DisputesDocument = doc<
  { disputes: DisputeRow[] },
  { where: DisputeFilter; first: number; skip: number }
>(`query Disputes($where: Dispute_filter, $first: Int!, $skip: Int!) {
  disputes(where: $where, first: $first, skip: $skip, orderBy: createdAt, orderDirection: desc) {${disputeFields}
  }
}`);

export interface OperatorRow {
  id: string;
  activeStake: string;
  lockedStake: string;
  unbondingStake: string;
  jailedUntil: string;
  answered: number;
  challenges: number;
  accepted: number;
  disputesWon: number;
  disputesLost: number;
  disputesUndecided: number;
  slashCount: number;
  slashedTotal: string;
  feesEarned: string;
}

export const OperatorsDocument = doc<
  { operators: OperatorRow[] },
  { where: { id_in?: string[] }; first: number; skip: number }
>(`query Operators($where: Operator_filter, $first: Int!, $skip: Int!) {
  operators(where: $where, first: $first, skip: $skip, orderBy: answered, orderDirection: desc) {
    id activeStake lockedStake unbondingStake jailedUntil answered challenges accepted
    disputesWon disputesLost disputesUndecided slashCount slashedTotal feesEarned
  }
}`);

export interface SlashRow {
  id: string;
  operator: { id: string };
  amount: string;
  winner: string;
  toWinner: string;
  requester: string;
  toRequester: string;
  toTreasury: string;
  jailedUntil: string;
  blockNumber: string;
  timestamp: string;
  transactionHash: string;
}

export const SlashesDocument = doc<
  { slashes: SlashRow[] },
  { where: { operator?: string }; first: number; skip: number }
>(`query Slashes($where: Slash_filter, $first: Int!, $skip: Int!) {
  slashes(where: $where, first: $first, skip: $skip, orderBy: timestamp, orderDirection: desc) {
    id operator { id } amount winner toWinner requester toRequester toTreasury jailedUntil
    blockNumber timestamp transactionHash
  }
}`);

export const MetaDocument = doc<
  { _meta: { block: { number: number; hash: string | null; timestamp: number | null }; hasIndexingErrors: boolean; deployment: string } | null },
  Record<string, never>
>(`query Meta {
  _meta { block { number hash timestamp } hasIndexingErrors deployment }
}`);

/** Every document, by name (the validation test iterates these). */
export const documents = {
  RequestsDocument,
  RequestDetailDocument,
  DisputesDocument,
  OperatorsDocument,
  SlashesDocument,
  MetaDocument,
};

import { type Account, type Address, type Chain, type Client, type Hash, type Transport, parseEventLogs } from "viem";
import { readContract } from "viem/actions";
import { aiOracleAbi, oaoErrorsAbi, requestStatuses, taskManagerAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { type ContractRevertErrorType, toOaoError } from "../errors/contract.ts";
import { send } from "./internal/send.ts";

export interface ExpireRequestParameters {
  /** The TaskManager (requests expire there; the AIOracle refunds). */
  address: Address;
  requestId: bigint;
  account?: Account | Address;
}

export interface ExpireRequestReturnType {
  hash: Hash;
  /**
   * Wei refunded: model fee + protocol fee, plus the callback fee when the request has no callback contract
   * (with one, the callback fee pays whoever runs the error callback: the caller of this action).
   */
  refunded: bigint;
  /**
   * Where the refund went (docs/protocol.md §1.5): `pushed` to `account` (the requester, the explicit refund
   * recipient, or the fallback account), or credited to `account` when no push worked (withdraw it with the
   * oracle's `withdraw(to)`; `pendingWithdrawal(account)` shows it).
   */
  paidTo: { account: Address; pushed: boolean };
  /**
   * Why it was refundable: `expired` (no claim by the deadline; error code 2 to the callback) or `undecidable`
   * (a dispute game could not decide it: refundable at once; error code 3).
   */
  reason: "expired" | "undecidable";
}

export type ExpireRequestErrorType = ContractRevertErrorType | BaseErrorType;

/**
 * Refunds a request nobody answered by its deadline, or one a dispute game cancelled (`TaskManager.expire`).
 * Anyone may call it: the caller pays the gas and, for a request with a callback contract, runs its error
 * callback and is credited the request's callback fee for that. Before the deadline it reverts with
 * `DeadlineNotPassed(requestId, deadline, now)`; a committed request with `RequestNotOpen(requestId, status)`.
 * Keepers expire the requests a game cancelled, and (keeper `expireUnanswered`, on by default where the keeper
 * has it) unanswered requests of models they serve; a requester need not wait for one.
 */
export async function expireRequest(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, requestId, account }: ExpireRequestParameters,
): Promise<ExpireRequestReturnType> {
  let status: number;
  try {
    status = await readContract(client, { address, abi: taskManagerAbi, functionName: "getStatus", args: [requestId] });
  } catch (err) {
    throw toOaoError(err, "getStatus");
  }
  const { hash, receipt } = await send(client, {
    address,
    abi: [...taskManagerAbi, ...oaoErrorsAbi],
    functionName: "expire",
    args: [requestId],
    account,
  });
  const events = parseEventLogs({ abi: aiOracleAbi, logs: receipt.logs });
  const at = events.findIndex((e) => e.eventName === "RequestRefunded");
  const refund = events[at];
  // The oracle pays the refund right after announcing it: one PaymentSent or PaymentCredited.
  const payment = events[at + 1];
  if (refund?.eventName !== "RequestRefunded" || (payment?.eventName !== "PaymentSent" && payment?.eventName !== "PaymentCredited")) {
    throw new Error(`transaction ${hash} emitted no RequestRefunded event followed by its payment`);
  }
  return {
    hash,
    refunded: refund.args.amount,
    paidTo: { account: payment.args.account, pushed: payment.eventName === "PaymentSent" },
    reason: requestStatuses[status] === "Cancelled" ? "undecidable" : "expired",
  };
}

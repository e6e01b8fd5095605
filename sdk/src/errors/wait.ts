import { BaseError } from "./base.ts";

export type WaitTimeoutErrorType = WaitTimeoutError & { name: "WaitTimeoutError" };
/** `waitForResult` gave up after `timeout` milliseconds; the request itself is unaffected. */
export class WaitTimeoutError extends BaseError {
  readonly requestId: bigint;
  readonly timeout: number;
  constructor({ requestId, timeout, lastStatus }: { requestId: bigint; timeout: number; lastStatus?: string }) {
    super(`Timed out after ${timeout} ms waiting for request ${requestId}.`, {
      name: "WaitTimeoutError",
      metaMessages: lastStatus ? [`Last status seen: ${lastStatus}`] : undefined,
      details: "Pass a larger `timeout`, or call waitForResult again: the request keeps progressing on chain.",
    });
    this.requestId = requestId;
    this.timeout = timeout;
  }
}

export type WaitAbortedErrorType = WaitAbortedError & { name: "WaitAbortedError" };
/** The caller's `AbortSignal` fired. */
export class WaitAbortedError extends BaseError {
  readonly requestId: bigint;
  constructor({ requestId, reason }: { requestId: bigint; reason?: unknown }) {
    super(`Stopped waiting for request ${requestId}: the signal was aborted.`, {
      name: "WaitAbortedError",
      cause: reason instanceof Error ? reason : undefined,
      details: reason instanceof Error ? undefined : reason !== undefined ? String(reason) : "aborted",
    });
    this.requestId = requestId;
  }
}

export type RequestNotFoundErrorType = RequestNotFoundError & { name: "RequestNotFoundError" };
/** The oracle knows no request with this id (never made, or made on another chain/deployment). */
export class RequestNotFoundError extends BaseError {
  readonly requestId: bigint;
  constructor({ requestId, oracle }: { requestId: bigint; oracle: string }) {
    super(`Request ${requestId} does not exist on oracle ${oracle}.`, {
      name: "RequestNotFoundError",
      details: "Check the request id and that the client points at the chain and oracle the request was made on.",
    });
    this.requestId = requestId;
  }
}

export type RequestCancelledErrorType = RequestCancelledError & { name: "RequestCancelledError" };
/**
 * A dispute game found the disputed node undecidable (docs/protocol.md §5.4): no claim can be verified, the
 * request is cancelled and will get no result. Anyone may call TaskManager `expire` to refund it at once.
 */
export class RequestCancelledError extends BaseError {
  readonly requestId: bigint;
  constructor({ requestId }: { requestId: bigint }) {
    super(`Request ${requestId} was cancelled: a dispute game found its computation undecidable, so no result will come.`, {
      name: "RequestCancelledError",
      details: "Both claims were released unslashed; refund it at once with expireRequest({ requestId }) (TaskManager.expire, anyone may; docs/protocol.md §1.5 says where the refund goes).",
    });
    this.requestId = requestId;
  }
}

export type RequestExpiredErrorType = RequestExpiredError & { name: "RequestExpiredError" };
/**
 * No operator answered before the deadline: the request expired and its fee is refundable. Also thrown for a
 * request already refunded after a cancellation (on chain both end `Refunded`).
 */
export class RequestExpiredError extends BaseError {
  readonly requestId: bigint;
  constructor({ requestId }: { requestId: bigint }) {
    super(`Request ${requestId} expired without an answer.`, {
      name: "RequestExpiredError",
      details: "No operator committed a result before the deadline; unless already refunded, expireRequest({ requestId }) (TaskManager.expire, anyone may) refunds the fee (docs/protocol.md §1.5).",
    });
    this.requestId = requestId;
  }
}

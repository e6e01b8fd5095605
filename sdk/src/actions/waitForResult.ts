import type { Address, Chain, Client, Transport } from "viem";
import { getBlockNumber } from "viem/actions";
import type { BaseErrorType } from "../errors/base.ts";
import {
  RequestCancelledError,
  type RequestCancelledErrorType,
  RequestExpiredError,
  type RequestExpiredErrorType,
  RequestNotFoundError,
  type RequestNotFoundErrorType,
  WaitAbortedError,
  type WaitAbortedErrorType,
  WaitTimeoutError,
  type WaitTimeoutErrorType,
} from "../errors/wait.ts";
import { type GetRequestReturnType, getRequest } from "./getRequest.ts";

export interface WaitForResultParameters {
  /** The AIOracle. */
  address: Address;
  requestId: bigint;
  /**
   * `finalized` (default): resolve when the output can no longer change (challenge window passed,
   * every dispute settled). `committed`: resolve at the first standing output, as an OAO callback
   * would see it (it may still be overturned).
   */
  until?: "committed" | "finalized";
  /** Only count a state once it is this many blocks deep (default 0: the latest block). */
  confirmations?: number;
  /** Milliseconds between polls (default: the client's pollingInterval). */
  pollingInterval?: number;
  /** Give up after this many milliseconds with a WaitTimeoutError (default: never). */
  timeout?: number;
  /** Stop with a WaitAbortedError when aborted. */
  signal?: AbortSignal;
  /**
   * Called whenever the observed status or output changes: a commit, a challenge, an overturned
   * claim, finality — and a step back when a reorg removes blocks.
   */
  onUpdate?: (update: WaitForResultUpdate) => void;
}

export type WaitForResultUpdate = GetRequestReturnType & { blockNumber: bigint };
export type WaitForResultReturnType = WaitForResultUpdate;
export type WaitForResultErrorType =
  | WaitTimeoutErrorType
  | WaitAbortedErrorType
  | RequestNotFoundErrorType
  | RequestExpiredErrorType
  | RequestCancelledErrorType
  | BaseErrorType;

/**
 * Waits for a request's result by reading the oracle at every poll, so it follows commits,
 * challenges, overturns and finality, and a reorg simply changes what the next read sees (a
 * request or commit that vanished is waited for again). Throws when the request expires, is cancelled
 * by an undecided game, does not exist, the timeout passes or the signal aborts.
 */
export async function waitForResult(
  client: Client<Transport, Chain | undefined>,
  params: WaitForResultParameters,
): Promise<WaitForResultReturnType> {
  const { address, requestId, until = "finalized", confirmations = 0, signal, onUpdate } = params;
  const interval = params.pollingInterval ?? client.pollingInterval;
  const deadline = params.timeout !== undefined ? Date.now() + params.timeout : Number.POSITIVE_INFINITY;
  let seen = false;
  let last: WaitForResultUpdate | undefined;

  for (;;) {
    if (signal?.aborted) throw new WaitAbortedError({ requestId, reason: signal.reason });
    if (Date.now() >= deadline) throw new WaitTimeoutError({ requestId, timeout: params.timeout!, lastStatus: last?.status });

    const head = await getBlockNumber(client, { cacheTime: 0 });
    const blockNumber = head > BigInt(confirmations) ? head - BigInt(confirmations) : 0n;
    let current: WaitForResultUpdate | undefined;
    try {
      current = { ...(await getRequest(client, { address, requestId, blockNumber })), blockNumber };
    } catch (err) {
      if (!(err instanceof RequestNotFoundError)) throw err;
      // Not (or no longer) at the confirmed block. Unknown even at the head, and never seen: a wrong id.
      if (!seen && blockNumber === head) throw err;
      if (!seen && blockNumber !== head) {
        await getRequest(client, { address, requestId, blockNumber: head }); // throws RequestNotFoundError if unknown
      }
    }

    if (current) {
      seen = true;
      if (!last || last.status !== current.status || last.outputHash !== current.outputHash) onUpdate?.(current);
      last = current;
      if (current.status === "Expired" || current.status === "Refunded") throw new RequestExpiredError({ requestId });
      if (current.status === "Cancelled") throw new RequestCancelledError({ requestId });
      if (until === "committed" && current.output !== "0x") return current;
      if (current.finalized) return current;
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The keeper's JSON-RPC transport wrapper: every call gets a deadline (`timeoutMs`; a frozen node fails calls
 * instead of hanging the service loop), and every call that fails at the transport or the node — timeouts, HTTP
 * errors, dropped connections, node errors — is reported (`onError`: `oao_keeper_rpc_errors_total`). Reverts are
 * answers, not RPC failures, and are not reported.
 */
import type { Transport } from "viem";

export class RpcTimeoutError extends Error {
  override name = "TimeoutError"; // classified retryable (keeper/src/chain/retry.ts)
  readonly method: string;
  constructor(method: string, timeoutMs: number) {
    super(`RPC ${method} timed out after ${timeoutMs} ms`);
    this.method = method;
  }
}

/** Whether an error is the node's answer that a call reverts (execution reverted, JSON-RPC code 3). */
export function isRevertAnswer(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 3) return true;
    if (typeof e.message === "string" && /revert/i.test(e.message)) return true;
  }
  return false;
}

export function instrumentTransport(
  transport: Transport,
  options: { timeoutMs: number; onError?: (error: unknown, method: string) => void; setTimer?: (fn: () => void, ms: number) => () => void },
): Transport {
  const setTimer =
    options.setTimer ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    });
  return ((params: Parameters<Transport>[0]) => {
    const inner = transport(params);
    const request = (async (args: { method: string; params?: unknown }, opts?: unknown) => {
      let cancel: (() => void) | undefined;
      const deadline = new Promise<never>((_, reject) => {
        cancel = setTimer(() => reject(new RpcTimeoutError(args.method, options.timeoutMs)), options.timeoutMs);
      });
      try {
        return await Promise.race([(inner.request as (a: unknown, o?: unknown) => Promise<unknown>)(args, opts), deadline]);
      } catch (error) {
        if (!isRevertAnswer(error)) options.onError?.(error, args.method);
        throw error;
      } finally {
        cancel?.();
      }
    }) as typeof inner.request;
    return { ...inner, request };
  }) as Transport;
}

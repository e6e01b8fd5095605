/**
 * Bounded retries with exponential backoff and jitter for RPC calls. Only errors classified as
 * retryable are retried (timeouts, rate limits, dropped connections, 5xx); a revert or a bad
 * request fails at once. The sleep function is injected so tests run without waiting.
 */
export interface RetryOptions {
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  isRetryable?: (error: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

const RETRYABLE_MESSAGE =
  /timeout|timed out|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|fetch failed|network|rate limit|429|502|503|504|header not found|nonce too low/i;

/** Classifies an error from viem or a transport as worth retrying. */
export function isRetryableRpcError(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const name = (e as { name?: string }).name ?? "";
    if (name === "ContractFunctionRevertedError" || name === "ContractFunctionExecutionError" && !(e as { cause?: unknown }).cause) {
      return false;
    }
    if (["TimeoutError", "HttpRequestError", "WebSocketRequestError", "SocketClosedError", "LimitExceededRpcError"].includes(name)) {
      return true;
    }
    const status = (e as { status?: number }).status;
    if (status === 429 || (typeof status === "number" && status >= 500)) return true;
    const message = (e as { message?: string }).message ?? "";
    if (RETRYABLE_MESSAGE.test(message) && !/revert/i.test(message)) return true;
  }
  return false;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 5;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 10_000;
  const isRetryable = options.isRetryable ?? isRetryableRpcError;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || !isRetryable(error) || options.signal?.aborted) throw error;
      // Full jitter: spreads retries of many keepers hitting one flaky endpoint.
      const delay = Math.floor(random() * Math.min(max, base * 2 ** attempt));
      options.onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

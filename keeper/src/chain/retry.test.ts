import { describe, it, expect } from "vitest";
import { isRetryableRpcError, withRetry } from "./retry.ts";

const noSleep = async () => {};

describe("withRetry", () => {
  it("retries retryable errors with growing, bounded delays", async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw Object.assign(new Error("request timed out"), { name: "TimeoutError" });
        return "ok";
      },
      { sleep: async (ms) => void delays.push(ms), random: () => 0.999, baseDelayMs: 100, maxDelayMs: 250 },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(4);
    expect(delays).toEqual([99, 199, 249]);
  });

  it("gives up after the bound and rethrows the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error("fetch failed");
        },
        { retries: 2, sleep: noSleep },
      ),
    ).rejects.toThrow("fetch failed");
    expect(calls).toBe(3);
  });

  it("does not retry a revert", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error("execution reverted: NotOperator"), { name: "ContractFunctionRevertedError" });
        },
        { sleep: noSleep },
      ),
    ).rejects.toThrow("NotOperator");
    expect(calls).toBe(1);
  });

  it("classifies through the cause chain", () => {
    expect(isRetryableRpcError(new Error("outer", { cause: { status: 503, message: "bad gateway" } }))).toBe(true);
    expect(isRetryableRpcError(new Error("invalid argument 0"))).toBe(false);
  });
});

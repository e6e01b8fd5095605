/**
 * Issue 13 failure 8: a frozen RPC node must make the keeper not ready within a bound and show in
 * `rpc_errors_total`. Pure readiness logic with a fake clock, a transport that never answers, and the
 * instrumented transport's deadline (timers injected: nothing here waits for the wall clock).
 */
import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { createPublicClient, custom, type Address, type PublicClient } from "viem";
import { evaluateHealth, evaluateReadiness, readinessBoundMs } from "./health.ts";
import { createKeeper } from "./keeper.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { ModelBook } from "./models.ts";
import { openStore } from "../store/store.ts";
import { instrumentTransport, RpcTimeoutError } from "../chain/transport.ts";
import { isRetryableRpcError } from "../chain/retry.ts";
import type { Responder } from "../chain/responder.ts";

const A = "0x00000000000000000000000000000000000000a1" as Address;
const B = "0x00000000000000000000000000000000000000b2" as Address;
const C = "0x00000000000000000000000000000000000000c3" as Address;

describe("readiness from the time since the last successful tick", () => {
  const bound = readinessBoundMs(1_000);
  it("the bound is max(3 × poll interval, 30 s)", () => {
    expect(bound).toBe(30_000);
    expect(readinessBoundMs(20_000)).toBe(60_000);
  });

  it("pure cases: synced, stale, running too long, failed, blocked", () => {
    const base = { synced: true, startedAt: 0, lastOkAt: 10_000 };
    expect(evaluateReadiness(base, 20_000, bound)).toEqual({ ready: true });
    expect(evaluateReadiness({ ...base, synced: false }, 1_000, bound)).toEqual({ ready: false, reason: "not synced yet" });
    expect(evaluateReadiness(base, 40_001, bound).reason).toMatch(/^no successful tick for 30 s/);
    expect(evaluateReadiness({ ...base, lastError: "HTTP request failed" }, 50_000, bound).reason).toMatch(/no successful tick for 40 s .*: HTTP request failed/);
    expect(evaluateReadiness({ ...base, tickStartedAt: 10_000 }, 39_000, bound)).toEqual({ ready: true });
    expect(evaluateReadiness({ ...base, tickStartedAt: 10_000 }, 41_000, bound).reason).toMatch(/a tick has been running for 31 s/);
    expect(evaluateReadiness({ ...base, lastError: "x" }, 11_000, bound)).toEqual({ ready: false, reason: "x" });
    expect(evaluateReadiness({ ...base, blockers: ["model not served: 1"] }, 11_000, bound)).toEqual({ ready: false, reason: "model not served: 1" });
    // a failing tick is still said after the blockers
    expect(evaluateReadiness({ ...base, blockers: ["no stake for a challenge bond: …", "backlog: …"], lastError: "commit of request 4 not made yet: x" }, 11_000, bound)).toEqual({
      ready: false,
      reason: "no stake for a challenge bond: …; backlog: …; commit of request 4 not made yet: x",
    });
  });

  it("health from the main loop's heartbeat age", () => {
    expect(evaluateHealth(1_000, 7_500, 30_000)).toEqual({ healthy: true, mainLoopLagMs: 6_500 });
    expect(evaluateHealth(1_000, 31_001, 30_000)).toEqual({ healthy: false, mainLoopLagMs: 30_001 });
  });

  it("a keeper whose RPC node freezes mid-run is not ready once the bound passes, though its tick never returns", async () => {
    const conn = await network.create();
    let frozen = false;
    const transport = custom({
      request: (args: { method: string; params?: unknown }) => (frozen ? new Promise(() => {}) : conn.provider.request(args as never)),
    });
    const publicClient = createPublicClient({ transport }) as PublicClient;
    const responder: Responder = { address: A, submit: () => Promise.reject(new Error("no transactions here")), idle: async () => {} };
    let now = 0;
    const keeper = createKeeper({
      publicClient,
      responder,
      addresses: { aiOracle: A, taskManager: B, staking: C },
      store: openStore(":memory:"),
      models: new ModelBook(),
      log: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
      confirmations: 0,
      fromBlock: 0n,
      clock: () => now,
    });
    expect(keeper.readiness()).toEqual({ ready: false, reason: "not synced yet" });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    now = 5_000;
    frozen = true; // SIGSTOP
    let returned = false;
    void keeper.tick().finally(() => (returned = true));
    now = 30_000;
    expect(keeper.readiness()).toEqual({ ready: true }); // within the bound
    now = 36_000;
    expect(keeper.readiness()).toEqual({ ready: false, reason: expect.stringMatching(/a tick has been running for 31 s/) });
    expect(keeper.loopState()).toMatchObject({ synced: true, lastOkAt: 0, tickStartedAt: 5_000 });
    expect(returned).toBe(false);
  });

  it("the instrumented transport fails a call the node never answers, as a retryable timeout, and counts it", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const timers: (() => void)[] = [];
    const hanging = custom({ request: () => new Promise(() => {}) }, { retryCount: 0 });
    const transport = instrumentTransport(hanging, {
      timeoutMs: 5_000,
      onError: () => metrics.rpcErrors.inc(),
      setTimer: (fn) => (timers.push(fn), () => {}),
    });
    const client = createPublicClient({ transport });
    const call = client.getBlockNumber({ cacheTime: 0 }).catch((e: unknown) => e);
    while (timers.length === 0) await new Promise((r) => setImmediate(r));
    timers[0]!(); // the deadline passes
    const error = await call;
    expect(error).toBeInstanceOf(Error);
    let e: unknown = error;
    while (e && !(e instanceof RpcTimeoutError)) e = (e as { cause?: unknown }).cause;
    expect(e).toBeInstanceOf(RpcTimeoutError);
    expect(isRetryableRpcError(error)).toBe(true);
    expect((await metrics.rpcErrors.get()).values[0]?.value).toBe(1);
  });

  it("reverts are answers, not RPC errors: not counted", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const reverting = custom({ request: async () => Promise.reject(Object.assign(new Error("execution reverted"), { code: 3, data: "0x" })) }, { retryCount: 0 });
    const client = createPublicClient({ transport: instrumentTransport(reverting, { timeoutMs: 5_000, onError: () => metrics.rpcErrors.inc() }) });
    await expect(client.call({ to: A, data: "0x" })).rejects.toThrow();
    expect((await metrics.rpcErrors.get()).values[0]?.value ?? 0).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { crashHookFromEnv, faultMode, skipStepCheckFromEnv } from "./fault-mode.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { ModelBook } from "./models.ts";

const rt = () => ({ models: new ModelBook(), elf: new Uint8Array(), vmTraceDepth: 21, metrics: createMetrics({ defaultMetrics: false }), log: createLogger({ level: "silent" }) });

describe("oao keeper run --fault", () => {
  it("is off without --fault, and --fault-seed alone is refused", () => {
    expect(faultMode(rt(), undefined, undefined)).toBeUndefined();
    expect(() => faultMode(rt(), undefined, "3")).toThrow(/--fault-seed is only meaningful with --fault/);
  });
  it("refuses a bad spec, a silent cheater that posts first, and a bad seed, saying what to use", () => {
    expect(() => faultMode(rt(), "graph", undefined)).toThrow(ConfigError);
    expect(() => faultMode(rt(), "nonsense:1", undefined)).toThrow(/expected one of graph:N/);
    expect(() => faultMode(rt(), "silent:2", undefined)).toThrow(/oao dispute simulate --fault silent:2/);
    expect(() => faultMode(rt(), "graph:2", "-1")).toThrow(/--fault-seed "-1" must be a non-negative integer/);
  });
  it("exports oao_keeper_fault_injected with the fault and its seed; silent plays no games", async () => {
    const r = rt();
    const mode = faultMode(r, "graph:2", "5")!;
    expect(mode.label).toBe("graph:2 (seed 5)");
    expect(mode.tracesFor).toBeDefined();
    expect(await r.metrics.registry.getSingleMetricAsString("oao_keeper_fault_injected")).toContain('oao_keeper_fault_injected{fault="graph:2 (seed 5)"} 1');
    expect(faultMode(rt(), "silent", undefined)!.tracesFor).toBeUndefined();
  });
  it("OAO_TEST_CRASH_BEFORE_SEND names an intent kind", () => {
    const log = createLogger({ level: "silent" });
    expect(crashHookFromEnv({}, log)).toBeUndefined();
    expect(() => crashHookFromEnv({ OAO_TEST_CRASH_BEFORE_SEND: "finalize" }, log)).toThrow(/expected one of commit, challenge, expire/);
    const hook = crashHookFromEnv({ OAO_TEST_CRASH_BEFORE_SEND: "challenge" }, log)!;
    // Another kind passes through (the process would SIGKILL itself on a challenge: run by anvil-faults.test.ts).
    expect(() => hook({ kind: "commit", requestId: 1n, target: 0n, status: "open", attempts: 0, lastError: null, notBefore: 0 })).not.toThrow();
  });
  it("OAO_TEST_SERVE_LONG_NODES is 1 or unset", () => {
    expect(skipStepCheckFromEnv({})).toBeUndefined();
    expect(skipStepCheckFromEnv({ OAO_TEST_SERVE_LONG_NODES: "" })).toBeUndefined();
    expect(skipStepCheckFromEnv({ OAO_TEST_SERVE_LONG_NODES: "1" })).toMatch(/OAO_TEST_SERVE_LONG_NODES=1/);
    expect(() => skipStepCheckFromEnv({ OAO_TEST_SERVE_LONG_NODES: "yes" })).toThrow(/expected 1/);
  });
});

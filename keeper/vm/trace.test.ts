import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GUEST_BUILD_DIR } from "../guest/build.ts";
import { loadElf } from "./elf.ts";
import { runFast, stepWithWitness, verifyStep, witnessPreimageReader } from "./step.ts";
import { Trace, traceWitnesses, witnessToJson } from "./trace.ts";

const elf = (name: string): Uint8Array => readFileSync(join(GUEST_BUILD_DIR, `${name}.elf`));

describe("Trace", () => {
  it("gives the same state hash at any step as a straight run, from snapshots", () => {
    const trace = Trace.fromElf(elf("int64"), { snapshotInterval: 20_000 });
    const result = trace.run(Number.MAX_SAFE_INTEGER);
    expect(result.exited).toBe(true);
    expect(result.steps).toBeGreaterThan(61_234);
    for (const n of [0, 1, 19_999, 20_000, 20_001, 45_678, 61_234, result.steps - 1, result.steps]) {
      const straight = loadElf(elf("int64"));
      runFast(straight, n);
      expect(trace.stateHashAt(n), `step ${n}`).toBe(straight.stateHash());
    }
    // past the exit, the exited state
    expect(trace.stateHashAt(result.steps + 1000)).toBe(result.stateHash);
  });

  it("gives the same witness as stepping there directly, in any order of queries", () => {
    const trace = Trace.fromElf(elf("memory"), { snapshotInterval: 3000 });
    for (const n of [20_000, 5, 9_001, 3_000, 14_999]) {
      const direct = loadElf(elf("memory"));
      runFast(direct, n);
      const want = stepWithWitness(direct);
      const got = trace.witness(n);
      expect(witnessToJson(got)).toEqual(witnessToJson(want));
      expect(verifyStep(got.preState, got.proof, witnessPreimageReader(got))).toBe(got.postStateHash);
    }
  });

  it("keeps at most maxSnapshots snapshots on a long run, thinning them, with the same answers", () => {
    const trace = Trace.fromElf(elf("int64"), { snapshotInterval: 1000, maxSnapshots: 8 });
    const result = trace.run(Number.MAX_SAFE_INTEGER);
    expect(result.steps).toBeGreaterThan(64_000); // 64 intervals of 1000: at least three thinnings
    expect(trace.snapshotCount).toBeLessThanOrEqual(8);
    expect(trace.snapshotInterval).toBeGreaterThanOrEqual(8000);
    expect(trace.snapshotInterval % 1000).toBe(0);
    const plain = Trace.fromElf(elf("int64"), { snapshotInterval: 1000, maxSnapshots: 1_000_000 });
    plain.run(Number.MAX_SAFE_INTEGER);
    expect(plain.snapshotCount).toBe(Math.ceil(result.steps / 1000));
    for (const n of [result.steps - 1, 0, 999, 1000, 7_999, 8_000, 8_001, 33_333, 64_000, result.steps, result.steps + 5]) {
      expect(trace.stateHashAt(n), `step ${n}`).toBe(plain.stateHashAt(n));
    }
    expect(witnessToJson(trace.witness(12_345))).toEqual(witnessToJson(plain.witness(12_345)));
    expect(() => Trace.fromElf(elf("int64"), { maxSnapshots: 1 })).toThrow(/maxSnapshots/);
  });

  it("runs lazily to a step asked for beyond the head", () => {
    const trace = Trace.fromElf(elf("control"), { snapshotInterval: 2_000 });
    trace.run(1000);
    expect(trace.headStep).toBe(1000);
    const h = trace.stateHashAt(7_777);
    expect(trace.headStep).toBe(7_777);
    const straight = loadElf(elf("control"));
    runFast(straight, 7_777);
    expect(h).toBe(straight.stateHash());
  });
});

describe("traceWitnesses", () => {
  it("yields consecutive witnesses that chain: each post-state is the next pre-state", () => {
    const ws = [...traceWitnesses(elf("hello"), undefined, { from: 100 })];
    expect(ws[0]!.step).toBe(100);
    for (let i = 1; i < ws.length; i++) expect(ws[i]!.preStateHash).toBe(ws[i - 1]!.postStateHash);
    const last = ws[ws.length - 1]!;
    expect(last.postStateHash.slice(0, 4)).toBe("0x00"); // the exit step
    expect(ws.length).toBe(137 - 100);
  });
});

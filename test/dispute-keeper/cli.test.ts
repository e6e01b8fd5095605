import { afterEach, describe, expect, it, vi } from "vitest";
import { buildDisputeCommand, simulationInput } from "../../keeper/src/cli/dispute.ts";
import { buildGpt, GPT_TINY } from "../../keeper/graph/gpt/gpt.ts";
import { buildModel } from "../../keeper/graph/model.ts";

async function run(args: string[]): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    await buildDisputeCommand().exitOverride().parseAsync(["node", "dispute", ...args]);
  } finally {
    log.mockRestore();
  }
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe("oao dispute simulate", () => {
  afterEach(() => vi.restoreAllMocks());

  it("--offline --json: the last stdout line is one JSON object with the figures", async () => {
    const out = await run(["simulate", "--model", "mnist", "--fault", "graph:3", "--seed", "4", "--offline", "--json"]);
    expect(out).toMatchObject({ mode: "offline", winner: "honest", honestSide: "challenger", disputedNode: "3", graphRounds: 1, vmRounds: 6, transactions: 17, gasUsed: null, cheaterSlashed: null });
    expect(typeof out.inputLabel).toBe("number");
    expect(out.seconds).toBeGreaterThan(0);
  });

  it("--vm-trace-depth sets the game's VM trace: more VM rounds for a deeper trace", async () => {
    const out = await run(["simulate", "--model", "mnist", "--fault", "graph:3", "--seed", "4", "--offline", "--vm-trace-depth", "32", "--json"]);
    expect(out).toMatchObject({ mode: "offline", winner: "honest", disputedNode: "3", vmTraceDepth: 32, vmRounds: 8 });
  });

  it("says what to fix on a bad fault, a bad seed, a bad trace depth, or a fault position outside the model", async () => {
    for (const depth of ["0", "65", "2.5", "deep"]) {
      await expect(run(["simulate", "--model", "mnist", "--fault", "graph:1", "--vm-trace-depth", depth, "--offline"])).rejects.toThrow(/--vm-trace-depth .*: expected an integer in 1..40/);
    }
    await expect(run(["simulate", "--model", "mnist", "--fault", "nodes:2", "--offline", "--json"])).rejects.toThrow(/graph:N, vm:N/);
    await expect(run(["simulate", "--model", "mnist", "--fault", "graph:1", "--seed", "-3", "--offline"])).rejects.toThrow(/--seed/);
    await expect(run(["simulate", "--model", "mnist", "--fault", "graph:9", "--offline", "--json"])).rejects.toThrow(/nodes are 1..3/);
  });

  it("draws a GPT model's input as token ids below its vocabulary (seeded)", () => {
    const model = buildModel(buildGpt(GPT_TINY));
    const { input } = simulationInput(model, 7);
    expect(input.shape).toEqual([GPT_TINY.seqLen]);
    expect([...input.data].every((id) => id >= 0 && id < GPT_TINY.vocab)).toBe(true);
    expect(new Set(input.data).size).toBeGreaterThan(1);
    expect([...simulationInput(model, 7).input.data]).toEqual([...input.data]);
    expect([...simulationInput(model, 8).input.data]).not.toEqual([...input.data]);
  });
});

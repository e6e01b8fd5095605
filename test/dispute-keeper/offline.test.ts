/**
 * Whole MNIST disputes without a chain: the honest solver and an injected cheater play the reference
 * game model, and the one disputed MIPS step is executed by keeper/vm's verifier from the witness
 * alone, reading preimage parts only from the model's oracle (as the contract would).
 */
import { describe, expect, it } from "vitest";
import { resolveScenario, parseFault, seededDraw, type Fault } from "../../keeper/game/faults.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { DEFAULT_GAME_CONFIG, simulateOffline } from "../../keeper/game/simulate.ts";
import { claimTraces } from "../../keeper/game/vm-provider.ts";
import { mnistFixture } from "./fixture.ts";

const T = 1n << BigInt(DEFAULT_GAME_CONFIG.vmTraceDepth);

/** Steps of the guest's run at the node a `vm:` fault with `seed` disputes (the cheater's truth). */
function disputedRunSteps(seed: number): bigint {
  const { model, input, run, elf } = mnistFixture();
  const s = resolveScenario({ kind: "vm", at: 1n }, model.nodes.length, seed, T);
  const honest = graphClaim(run, model.weightsRoot);
  const bad = graphClaim(run, model.weightsRoot, { wrongFrom: s.graphLieFrom, salt: seed });
  const i = BigInt(s.graphLieFrom);
  const traces = claimTraces({ model, input, nodeOutputs: bad.nodeOutputs, graph: bad.provider, elf });
  const vm = traces.guest({ nodeIndex: i, preState: honest.provider.valueAt(i - 1n), postState: bad.provider.valueAt(i), localContext: `0x${"00".repeat(32)}` }, "0x0000000000000000000000000000000000000001");
  return BigInt(vm.run(T).steps);
}

function play(fault: Fault, seed = 1) {
  const { model, input, elf } = mnistFixture();
  return simulateOffline({ model, input, elf, fault, seed });
}

describe("MNIST disputes on the reference game model (real VM step)", () => {
  const n = mnistFixture().model.nodes.length;

  it("graph:N at the first and the last node: the honest challenger wins at node N", () => {
    for (const N of [1, n]) {
      const r = play(parseFault(`graph:${N}`));
      expect(r.winner, `graph:${N}`).toBe("honest");
      expect(r.honestSide).toBe("challenger");
      expect(r.nodeIndex).toBe(BigInt(N));
      expect(r.actions.some((a) => a.kind === "step")).toBe(true);
      expect(r.vmRounds).toBe(Math.ceil(DEFAULT_GAME_CONFIG.vmTraceDepth / DEFAULT_GAME_CONFIG.vmWidthBits));
    }
  });

  it("vm:N at the first VM step, the last step of the run (the exit) and the last position T", () => {
    const seed = 3;
    const E = disputedRunSteps(seed);
    for (const N of [1n, E, T]) {
      const r = play({ kind: "vm", at: N }, seed);
      expect(r.winner, `vm:${N}`).toBe("honest");
      expect(r.actions.filter((a) => a.kind === "step")).toHaveLength(1);
    }
  });

  it("false-challenge at the first and last node: the honest defender keeps its claim", () => {
    for (const N of [1, n]) {
      const r = play(parseFault(`false-challenge:${N}`), 5);
      expect(r.winner).toBe("honest");
      expect(r.honestSide).toBe("defender");
      expect(r.nodeIndex).toBe(BigInt(N));
    }
  });

  it("silent: a cheater that never answers, or stops mid-game, loses on time", () => {
    for (const posts of [0, 2, 4]) {
      const r = play(parseFault(`silent:${posts}`), 9);
      expect(r.winner).toBe("honest");
      expect(r.actions.at(-1)!.kind).toBe("claimTimeout");
      expect(r.actions.filter((a) => a.kind !== "claimTimeout" && a.side === r.scenario.cheaterSide)).toHaveLength(posts);
    }
  });

  it("randomized: a bounded number of seeded scenarios, the honest party always wins", () => {
    const kinds = ["graph", "vm", "false-challenge", "silent"] as const;
    for (let seed = 100; seed < 108; seed++) {
      const kind = kinds[Number(seededDraw(seed, "kind", 4n))]!;
      const at =
        kind === "graph" || kind === "false-challenge"
          ? 1n + seededDraw(seed, "at", BigInt(n))
          : kind === "vm"
            ? 1n + seededDraw(seed, "at", 300_000n)
            : seededDraw(seed, "at", 6n);
      const r = play({ kind, at }, seed);
      expect(r.winner, `seed ${seed}: ${kind}:${at}`).toBe("honest");
    }
  });

  it("rejects faults it cannot inject, saying what to write instead", () => {
    expect(() => parseFault("graph")).toThrow(/graph:N/);
    expect(() => parseFault("lies")).toThrow(/expected one of/);
    expect(() => play(parseFault(`graph:${n + 1}`))).toThrow(/nodes are 1\.\./);
    expect(() => play({ kind: "vm", at: T + 1n })).toThrow(/VM lie starts at a step in 1\.\./);
    expect(() => play({ kind: "vm", at: 0n })).toThrow(/VM lie starts/);
  });
});

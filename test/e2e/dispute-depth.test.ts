/**
 * The game's VM trace depth on chain (keeper/src/demo/simulate.ts, `oao dispute simulate
 * --vm-trace-depth N`): a deployment with a deeper trace plays to the end with the figures read back
 * from the chain, and one too shallow for the disputed node's guest run ends undecided (§5.4): the
 * honest keeper posts the true UNFINISHED state at T, the cheater's wrong claim is not accepted,
 * nobody is slashed and the request is refunded.
 */
import { describe, expect, it } from "vitest";
import { parseFault } from "../../keeper/game/faults.ts";
import { simulationInput } from "../../keeper/src/cli/dispute.ts";
import { simulateOnChain } from "../../keeper/src/demo/simulate.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { runNodeCheckInVm } from "../../keeper/guest/node/vm.ts";
import { nodeCheck } from "../../keeper/graph/preimages.ts";
import { Executor } from "../../keeper/graph/index.ts";
import { vmTraceDepthFor } from "../../keeper/game/solver.ts";
import { readFileSync } from "node:fs";
import { GUEST_ELF_PATH } from "../../keeper/src/demo/world.ts";

const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);
const { input } = simulationInput(model, 1);

describe("the game's VM trace depth on chain", () => {
  it("a deeper trace (2^30 steps) plays to the end: more VM rounds, figures by transaction kind", async () => {
    const r = await simulateOnChain({ model, modelFile, input, fault: parseFault("graph:2"), seed: 1, game: { vmTraceDepth: 30 } });
    expect(r).toMatchObject({ mode: "chain", winner: "honest", vmTraceDepth: 30, disputedNode: "2" });
    expect(BigInt(r.cheaterSlashed)).toBeGreaterThan(0n);
    // vmWidthBits 4: a round narrows 2^30 by 16, so 8 rounds (7 of 4 bits, one of 2) before the step.
    expect(r.vmRounds).toBe(8);
    const kinds = Object.values(r.gasByKind);
    expect(kinds.reduce((n, k) => n + k.count, 0)).toBe(r.transactions);
    expect(kinds.reduce((g, k) => g + BigInt(k.totalGas), 0n)).toBe(BigInt(r.gasUsed));
    for (const k of kinds) expect(BigInt(k.minGas)).toBeLessThanOrEqual(BigInt(k.maxGas));
    expect(r.gasByKind["dispute.step"]?.count).toBe(1);
    expect(r.gasByKind["dispute.moveVm"]?.count).toBe(2 * r.vmRounds);
  });

  it("a trace too shallow for the disputed node: the game ends undecided, the wrong claim never finalizes, the request is refunded", async () => {
    const run = new Executor(model).run(input);
    const steps = runNodeCheckInVm(new Uint8Array(readFileSync(GUEST_ELF_PATH)), nodeCheck(model, input, run.nodeOutputs, 2)).steps;
    const depth = 12;
    expect(steps).toBeGreaterThan(2 ** depth);
    expect(vmTraceDepthFor(BigInt(steps))).toBeGreaterThan(depth);
    const r = await simulateOnChain({ model, modelFile, input, fault: parseFault("graph:2"), seed: 1, game: { vmTraceDepth: depth } });
    expect(r).toMatchObject({ mode: "chain", winner: "undecided", vmTraceDepth: depth, disputedNode: "2", cheaterSlashed: "0" });
    expect(r.gasByKind["expire"]?.count).toBe(1);
  });
});

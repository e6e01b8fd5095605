/**
 * The cheater's forced VM lie ends with the final status of the side it plays in a game (§5.4): a `false-challenge`
 * cheater also commits wrong answers, and defends them; a `graph:N` cheater also challenges right answers. With the
 * fault's side only, such a game stalled at VmStart (the cheater's solver refused to post: "we are on the wrong side
 * of this dispute"), seen in the anvil soak as games in phase 1 holding the honest operator's bonds for a whole clock.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseFault } from "../../game/faults.ts";
import { Side } from "../../game/types.ts";
import { quantizeInput, toHex } from "../../graph/index.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { statusOfHash, VmStatus } from "../../vm/state.ts";
import { GUEST_ELF_PATH } from "./world.ts";
import { createCheat } from "./cheat.ts";
import { loadModel, resolveModelPath } from "../service/models.ts";

describe("cheat: the VM lie fits the side played", () => {
  const { model, executor } = loadModel(resolveModelPath("mnist"));
  const elf = new Uint8Array(readFileSync(GUEST_ELF_PATH));
  const input = quantizeInput(model, Array.from(loadMnist().test[0]!.pixels));
  const run = executor.run(input);
  const depth = 21;
  const T = 1n << BigInt(depth);
  // A game on node 1 (the agreed State_0, the defender's State_1 as the honest run has it).
  const inputs = { nodeIndex: 1n, preState: toHex(run.trace.states[0]!) as `0x${string}`, postState: toHex(run.trace.states[1]!) as `0x${string}`, localContext: `0x${"11".repeat(32)}` as `0x${string}` };
  const game = `0x${"ab".repeat(20)}` as `0x${string}`;

  for (const spec of ["false-challenge", "graph:2"]) {
    it(`${spec}: VALID at T when it defends, INVALID when it challenges; its own side by default`, () => {
      const cheat = createCheat({ model, executor, elf, fault: parseFault(spec), seed: 2, vmTraceDepth: depth });
      const final = (side?: Side) => statusOfHash(cheat.traces(input, side).vm(inputs, game).valueAt(T));
      expect(final(Side.Defender)).toBe(VmStatus.VALID);
      expect(final(Side.Challenger)).toBe(VmStatus.INVALID);
      expect(final()).toBe(cheat.scenario.cheaterSide === Side.Defender ? VmStatus.VALID : VmStatus.INVALID);
      // The claim it commits or challenges with does not depend on the side.
      const n = BigInt(model.nodes.length);
      expect(cheat.traces(input, Side.Defender).graph.valueAt(n)).toBe(cheat.traces(input, Side.Challenger).graph.valueAt(n));
    });
  }
});

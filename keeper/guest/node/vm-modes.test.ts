/**
 * The node program (oao_node.elf) on every node of the shipped MNIST model in keeper/vm's three
 * executors: the reference step, the interpreter and the block translator (jit.ts). The same exit
 * code, step count, final state hash, stdout and stderr, on an honest and a tampered claim; and
 * the translator stopped at seeded random step budgets, state hash at each stop, equal to the
 * interpreter.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeModelFile } from "../../graph/model.ts";
import { Executor } from "../../graph/executor.ts";
import { nodeCheck } from "../../graph/preimages.ts";
import type { Tensor } from "../../graph/tensor.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { quantizeInput } from "../../graph/quant.ts";
import { type Machine, loadElf, runFast, stepMachine } from "../../vm/index.ts";
import { Rng } from "../../vm/test-helpers.ts";
import { preimageSource } from "./vm.ts";

const elf = new Uint8Array(readFileSync(new URL("../build/oao_node.elf", import.meta.url)));
const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../../models/mnist/model.oao", import.meta.url))));
const input = quantizeInput(model, Array.from(loadMnist().test[3]!.pixels));
const outputs = new Executor(model).run(input).nodeOutputs;

function tampered(k: number): Tensor[] {
  const t = outputs.map((o) => ({ ...o, data: o.data.slice() })) as Tensor[];
  t[k - 1]!.data[0] = t[k - 1]!.data[0] === 5 ? 6 : 5;
  return t;
}

function end(m: Machine): Record<string, unknown> {
  return {
    exited: m.exited,
    exitCode: m.exitCode,
    steps: m.step,
    hash: m.stateHash(),
    stdout: new TextDecoder().decode(m.stdout.bytes()),
    stderr: new TextDecoder().decode(m.stderr.bytes()),
  };
}

describe("the node program on MNIST: reference, interpreter and block translator agree", () => {
  for (let k = 1; k <= model.nodes.length; k++) {
    for (const claim of ["honest", "tampered"] as const) {
      it(`node ${k}, ${claim} claim: exit, steps, state hash, stdout, stderr`, () => {
        const check = claim === "honest" ? nodeCheck(model, input, outputs, k) : { ...nodeCheck(model, input, tampered(k), k), preimages: nodeCheck(model, input, outputs, k).preimages };
        const source = preimageSource(check);
        const ref = loadElf(elf, { preimages: source });
        while (!ref.exited) stepMachine(ref);
        const want = end(ref);
        expect(want.exitCode).toBe(claim === "honest" ? 0 : 1);
        for (const mode of ["interp", "jit"] as const) {
          const m = loadElf(elf, { preimages: source });
          runFast(m, Number.MAX_SAFE_INTEGER, { mode });
          expect(end(m), mode).toEqual(want);
        }
        const now = loadElf(elf, { preimages: source });
        runFast(now, Number.MAX_SAFE_INTEGER, { mode: "jit", jitThreshold: 0 });
        expect(end(now), "jit, translating at once").toEqual(want);
      });
    }
  }

  it("stopped at random step budgets, the translator's state hash equals the interpreter's at every stop", () => {
    for (const k of [1, 3]) {
      const source = preimageSource(nodeCheck(model, input, outputs, k));
      const rng = new Rng(4242 + k);
      const jit = loadElf(elf, { preimages: source });
      const interp = loadElf(elf, { preimages: source });
      let stops = 0;
      while (!interp.exited) {
        const n = rng.below(3) === 0 ? 1 + rng.below(40) : 1 + rng.below(30_000);
        expect(runFast(jit, n, { mode: "jit" })).toBe(runFast(interp, n, { mode: "interp" }));
        expect(jit.step).toBe(interp.step);
        expect(jit.stateHash(), `node ${k} at step ${interp.step}`).toBe(interp.stateHash());
        stops++;
      }
      expect(jit.exited).toBe(true);
      expect(stops).toBeGreaterThan(15);
    }
  });
});

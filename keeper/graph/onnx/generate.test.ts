/**
 * The generation transform (generate.ts, docs/protocol.md §3.9): for every prompt, the generation
 * graph run by the executor outputs exactly the greedy bytes of repeated full forward passes of the
 * full-sequence model it was derived from (lengths 1, random, C − 1, C; prompts that end the text
 * early with 0x00; random bytes), on the committed text model (T = 64) and on the char_gpt fixture
 * (both opsets); the nodes a step adds run the same in the guest VM and fit the production trace;
 * graphs that cannot generate are refused naming the node.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generationSpec, greedyByFullPasses, GenerateError } from "./generate.ts";
import { importOnnx } from "./import.ts";
import { LM_FIXTURES, loadLmFixture } from "./pytorch-fixtures.ts";
import { buildModel, decodeModelFile, encodeModelFile, isTextModel, nodeInputs, type Model, type ModelSpec } from "../model.ts";
import { Executor } from "../executor.ts";
import { keccak, toHex } from "../hash.ts";
import { Op, OP_NAMES } from "../ops.ts";
import { DType, int8Tensor } from "../tensor.ts";
import { seededRandom } from "../fixtures.ts";
import { nodeCheck } from "../preimages.ts";
import { measureNodeSteps, nodeClassSteps, runNodeCheckInVm, stepSlack } from "../../guest/node/vm.ts";
import { longNodes } from "../../src/service/models.ts";

const DIR = new URL("../../models/text_lm/", import.meta.url);
const ELF = new Uint8Array(readFileSync(fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url))));
const PRODUCTION_VM_TRACE_DEPTH = 32;

/** Runs a text model on a prompt int8 [L] (1 ≤ L ≤ C). */
function textRunner(model: Model) {
  const exec = new Executor(model);
  const tensor = (prompt: Uint8Array) => int8Tensor([prompt.length], Int8Array.from(prompt));
  return {
    generate: (prompt: Uint8Array) => Uint8Array.from(exec.infer(tensor(prompt)).data, (v) => v & 0xff),
    run: (prompt: Uint8Array) => {
      const input = tensor(prompt);
      return { input, ...exec.run(input) };
    },
  };
}

/** Prompts of a context C: lengths 1, C − 1, C, random lengths of text and of random bytes. */
function prompts(C: number, texts: readonly (readonly number[])[], seed: number): Uint8Array[] {
  const rnd = seededRandom(seed);
  const out: Uint8Array[] = [Uint8Array.of(texts[0]![0]!), Uint8Array.from(texts[1]!.slice(0, C - 1)), Uint8Array.from(texts[2]!.slice(0, C))];
  for (let i = 0; i < 4; i++) {
    const w = texts[(3 + i) % texts.length]!;
    out.push(Uint8Array.from(w.slice(0, 2 + Math.floor(rnd() * (C - 3)))));
  }
  for (let i = 0; i < 3; i++) out.push(Uint8Array.from({ length: 1 + Math.floor(rnd() * (C - 1)) }, () => Math.floor(rnd() * 256)));
  out.push(new Uint8Array(5)); // zero bytes inside the prompt are token 0 too
  return out;
}

/**
 * Prompts whose greedy text ends at once (byte 0 is the 0x00 end byte): windows cut where the full
 * model predicts the end (one full pass per window finds them), at most `max`.
 */
function endingPrompts(full: Executor, windows: readonly (readonly number[])[], C: number, max = 2): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const w of windows) {
    const logits = full.infer({ dtype: DType.int32, shape: [1, C], data: Int32Array.from(w) }).data;
    for (let p = 0; p < C - 1 && found.length < max; p++) {
      let b = 0;
      for (let j = 1; j < 256; j++) if (logits[p * 256 + j]! > logits[p * 256 + b]!) b = j;
      if (b === 0) found.push(Uint8Array.from(w.slice(0, p + 1)));
    }
  }
  return found;
}

function expectBitExact(full: Model, gen: Model, T: number, list: readonly Uint8Array[]): Uint8Array[] {
  const fullExec = new Executor(full);
  const runner = textRunner(gen);
  return list.map((prompt) => {
    const want = greedyByFullPasses(fullExec, prompt, T);
    const got = runner.generate(prompt);
    expect(toHex(got), `prompt of ${prompt.length} bytes ${JSON.stringify(Buffer.from(prompt).toString("latin1").slice(0, 40))}`).toBe(toHex(want));
    return got;
  });
}

describe("the generation transform (keeper/graph/onnx/generate.ts)", () => {
  it("text_lm, T = 64: the committed generate.oao is the transform of model.oao; its output is greedy decoding by full passes, byte for byte", () => {
    const full = decodeModelFile(new Uint8Array(readFileSync(new URL("model.oao", DIR))));
    const committed = decodeModelFile(new Uint8Array(readFileSync(new URL("generate.oao", DIR))));
    const { spec, info } = generationSpec(full, 64);
    const gen = buildModel(spec);
    expect(toHex(gen.modelRoot)).toBe(toHex(committed.modelRoot));
    expect(toHex(keccak(encodeModelFile(gen)))).toBe(toHex(keccak(encodeModelFile(committed))));
    expect(info).toEqual({ context: 128, tokens: 64, nodes: gen.nodes.length, sourceNodes: 186, attentions: 6 });
    expect(gen.input).toEqual({ dtype: DType.int8, shape: [128] });
    expect(isTextModel(gen), "a text model: descriptor version 2, inputMode 1").toBe(true);
    expect(gen.output).toEqual({ dtype: DType.int8, shape: [64] });
    const fx = JSON.parse(readFileSync(new URL("fixture.json", DIR), "utf8")) as { windows: number[][]; prompts: { ids: number[] }[] };
    const C = 128;
    // prompts cut where the full model predicts the end of a verse: 0x00 as byte 0
    const ending = endingPrompts(new Executor(full), fx.windows, C);
    expect(ending).toHaveLength(2);
    const list = [...prompts(C, fx.windows, 15), Uint8Array.from(fx.windows[5]!.slice(0, C - 5)), ...fx.prompts.map((p) => Uint8Array.from(p.ids)), ...ending];
    const outs = expectBitExact(full, gen, 64, list);
    // the cases the list is for: L = C gives no byte, L = C − 1 one, L = C − 5 five, the ending prompts none
    expect(Array.from(outs[2]!)).toEqual(new Array(64).fill(0));
    expect(outs[1]![0]).not.toBe(0);
    expect(Array.from(outs[1]!.subarray(1))).toEqual(new Array(63).fill(0));
    const five = outs[prompts(C, fx.windows, 15).length]!;
    expect(five.subarray(0, 5).every((b) => b !== 0) && five.subarray(5).every((b) => b === 0)).toBe(true);
    for (const o of outs.slice(-2)) expect(Array.from(o)).toEqual(new Array(64).fill(0));
    expect(outs.filter((o) => o.every((b) => b !== 0)).length, "prompts that generate 64 bytes").toBeGreaterThan(3);
    // and texts the model ends itself part-way (a verse's end): the end byte, then only 0x00
    const ended = outs.filter((o) => o[0] !== 0 && o.indexOf(0) > 0);
    expect(ended.length, "prompts whose generated text ends part-way").toBeGreaterThan(0);
    for (const o of ended) expect(o.subarray(o.indexOf(0)).every((b) => b === 0)).toBe(true);
  });

  for (const [opset, wide] of [[13, false], [17, false], [17, true]] as const) {
    it(`char_gpt opset ${opset}${wide ? ", the wide import" : ""}, T = 12: bit-exact with greedy full passes; the nodes the transform adds run the same in the guest VM`, () => {
      const fx = loadLmFixture("char_gpt");
      const full = buildModel(importOnnx(new Uint8Array(readFileSync(fx.files.get(opset)!)), fx.calibration, { name: "char_gpt", report: false, wide }).spec);
      const C = fx.context, T = 12;
      // the importer gives a language model int32 logits (no ties by rounding), and generation reads them as int32
      expect(full.output.dtype).toBe(DType.int32);
      // the wide import: every activation int32 (§3.6's wide forms), the weights too
      if (wide) {
        expect(full.nodes.every((n) => n.outDtype === DType.int32)).toBe(true);
        expect(full.weights.every((w) => w.dtype === DType.int32)).toBe(true);
      }
      const gen = buildModel(generationSpec(full, T).spec);
      expect(gen.nodes.filter((m) => m.op === Op.ArgMax).length).toBe(T);
      const fullExec = new Executor(full);
      const list = [...prompts(C, fx.heldout, opset), ...endingPrompts(fullExec, fx.heldout, C)];
      expectBitExact(full, gen, T, list);

      // every node after the prefill up to the end of the first step, and the last node, in the VM
      const model = gen;
      const { input, nodeOutputs } = textRunner(gen).run(Uint8Array.from(fx.heldout[0]!.slice(0, 20)));
      const firstStepEnd = gen.nodes.findIndex((n, i) => n.op === Op.Emit && gen.nodes.slice(0, i).some((m) => m.op === Op.Emit)) + 1;
      const ks = [...Array.from({ length: firstStepEnd - full.nodes.length }, (_, i) => full.nodes.length + 1 + i), gen.nodes.length, 1, 2];
      const ops = new Set<string>();
      const steps: (number | undefined)[] = new Array(gen.nodes.length).fill(0);
      for (const k of ks) {
        const vm = runNodeCheckInVm(ELF, nodeCheck(model, input, nodeOutputs, k));
        expect(vm.exitCode, `node ${k} ${OP_NAMES[gen.nodes[k - 1]!.op] ?? gen.nodes[k - 1]!.op}: ${vm.stderr}`).toBe(0);
        ops.add(OP_NAMES[gen.nodes[k - 1]!.op] ?? String(gen.nodes[k - 1]!.op));
        steps[k - 1] = vm.steps;
      }
      expect(ops.size).toBeGreaterThanOrEqual(12);
      expect(longNodes(gen, steps, PRODUCTION_VM_TRACE_DEPTH)).toEqual([]);
    });
  }

  it("the largest node of a text_lm step fits the production VM trace (2^32 steps)", () => {
    const committed = decodeModelFile(new Uint8Array(readFileSync(new URL("generate.oao", DIR))));
    const model = committed;
    const { input, nodeOutputs } = textRunner(committed).run(new TextEncoder().encode("And God said, "));
    // the last step: the nodes after the second-to-last Emit, one of each op and shapes (the layers
    // repeat them; the guest's path is set by the shapes, guest/node/vm.ts measureNodeSteps)
    const emits = committed.nodes.flatMap((n, i) => (n.op === Op.Emit ? [i + 1] : []));
    let largest = { k: 0, steps: 0 };
    const seen = new Set<string>();
    for (let k = emits.at(-2)! + 1; k <= committed.nodes.length; k++) {
      const node = committed.nodes[k - 1]!;
      const key = `${node.op} ${node.outShape} ${nodeInputs(model, k, input, nodeOutputs).map((t, j) => `${node.inputs[j]! >>> 24}:${t.shape}`)}`;
      if (node.op === Op.Reshape || seen.has(key)) continue;
      seen.add(key);
      const vm = runNodeCheckInVm(ELF, nodeCheck(model, input, nodeOutputs, k));
      expect(vm.exitCode, `node ${k}: ${vm.stderr}`).toBe(0);
      const s = vm.steps + stepSlack(node);
      if (s > largest.steps) largest = { k, steps: s };
    }
    expect(largest.steps).toBeLessThanOrEqual(2 ** PRODUCTION_VM_TRACE_DEPTH);
    console.log(`largest node of the last step: ${largest.k} (${OP_NAMES[committed.nodes[largest.k - 1]!.op] ?? committed.nodes[largest.k - 1]!.op}) ${largest.steps} VM steps`);
  });

  it("nodeClassSteps (the import's and the keeper's measurement) runs one node per class and gives what measureNodeSteps measures", () => {
    const mnist = decodeModelFile(new Uint8Array(readFileSync(new URL("../../models/mnist/model.oao", import.meta.url))));
    // node 4 repeats node 1 (same op, attributes, output, inputs' kinds and shapes): a class of two
    const model = buildModel({ ...mnist, nodes: [...mnist.nodes, mnist.nodes[0]!] });
    const exec = new Executor(model);
    const outputs = (x: Parameters<typeof exec.run>[0]) => exec.run(x).nodeOutputs;
    const byClass = nodeClassSteps(model, outputs, ELF, 2 ** 22);
    expect(byClass).toEqual(measureNodeSteps(model, outputs, ELF, 2 ** 22));
    expect(byClass[3]).toBe(byClass[0]);
    expect(nodeClassSteps(model, outputs, ELF, 1_000_000)).toEqual([undefined, byClass[1], byClass[2], undefined]);
  });

  it("refuses what cannot generate, naming the node: logits of the last position only, a non-causal attention, no logits, not a token model, bad T", () => {
    for (const name of LM_FIXTURES.filter((n) => n !== "char_gpt")) {
      const fx = loadLmFixture(name);
      const { spec } = importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration, { name, report: false });
      expect(() => generationSpec(spec, 8)).toThrow(/node \d+ \(Slice\): takes positions 63\.\.63 of the sequence axis .*logits at every position/);
    }
    const fx = loadLmFixture("char_gpt");
    const { spec } = importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration, { name: "char_gpt", report: false });
    const withOp = (k: number, op: number): ModelSpec => ({ ...spec, nodes: spec.nodes.map((n, i) => (i === k - 1 ? { ...n, op } : n)) });
    const causal = spec.nodes.findIndex((n) => n.op === Op.CausalSoftmax) + 1;
    expect(() => generationSpec(withOp(causal, Op.Softmax), 8)).toThrow(new RegExp(`node ${causal} \\(Softmax\\): a softmax over attention scores without a causal mask`));
    expect(() => generationSpec(withOp(causal, Op.Lut), 8)).toThrow(new RegExp(`node ${causal + 2} \\(MatMul\\)|node ${causal} \\(Lut\\)`));
    expect(() => generationSpec({ ...spec, nodes: spec.nodes.slice(0, -2) }, 8)).toThrow(/not the next-byte logits at every position/);
    expect(() => generationSpec(spec, 0)).toThrow(GenerateError);
    expect(() => generationSpec(spec, 64)).toThrow(/at most C − 1 = 63 bytes/);
    expect(() => generationSpec(generationSpec(spec, 4).spec, 4)).toThrow(/input is int8 \[64\]/);
    const mnist = decodeModelFile(new Uint8Array(readFileSync(new URL("../../models/mnist/model.oao", import.meta.url))));
    expect(() => generationSpec(mnist, 4)).toThrow(/input is int8 \[1,784\]; generation needs token ids int32 \[1, C\]/);
  });
});

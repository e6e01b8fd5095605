/**
 * The GPT-2-shaped generator at toy size (the same code that builds the 124M-parameter model):
 * deterministic weights and commitments, the streamed model file, every node native vs the TS
 * reference, greedy decoding, and one node of each transformer op checked by the guest in the VM.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildGpt, GPT2_SMALL, GPT2_SMALL_BYTES, GPT_TINY, GPT_TINY_BYTES, gptParamCount } from "./gpt.ts";
import { generationSpec, greedyByFullPasses, GenerateError } from "../onnx/generate.ts";
import { seededRandom } from "../fixtures.ts";
import { buildModel, decodeModelFile, encodeModelFile, modelFileBody, modelFileHash, nodeInputs } from "../model.ts";
import { Executor } from "../executor.ts";
import { refNode } from "../reference.ts";
import { Op, OP_NAMES } from "../ops.ts";
import { concatBytes, equalBytes, keccak, toHex } from "../hash.ts";
import { DType, elementCount, int32Tensor, int8Tensor } from "../tensor.ts";
import { nodeCheck } from "../preimages.ts";
import { nodeClassSteps, runNodeCheckInVm, stepSlack } from "../../guest/node/vm.ts";

const model = buildModel(buildGpt(GPT_TINY));
const prompt = int32Tensor([GPT_TINY.seqLen], [5, 17, 3, 96, 40, 40, 1, 77]);

describe("GPT-2-shaped generator", () => {
  it("has GPT-2 small's 124,439,808 parameters at full size, and counts the tiny model's exactly", () => {
    expect(gptParamCount(GPT2_SMALL)).toBe(124_439_808);
    expect(model.weights.reduce((a, w) => a + elementCount(w.shape), 0)).toBe(gptParamCount(GPT_TINY));
    expect(model.input).toEqual({ dtype: DType.int32, shape: [8] });
    expect(model.output).toEqual({ dtype: DType.int32, shape: [1, 1] });
    // Gather, position Slice, Add; 22 per block; last-position Slice, LayerNorm, head Gemm, ArgMax
    expect(model.nodes.length).toBe(3 + 22 * GPT_TINY.layers + 4);
  });

  it("is deterministic for a seed: the same modelRoot every time (pinned), another for another seed", () => {
    const again = buildModel(buildGpt(GPT_TINY));
    expect(toHex(again.modelRoot)).toBe(toHex(model.modelRoot));
    expect(toHex(model.modelRoot)).toBe(TINY_MODEL_ROOT);
    const other = buildModel(buildGpt({ ...GPT_TINY, seed: 2 }));
    expect(toHex(other.modelRoot)).not.toBe(toHex(model.modelRoot));
  });

  it("streams the model file: the parts and their streamed hash are encodeModelFile; loading keeps int8 weights as views of the file", () => {
    const file = encodeModelFile(model);
    const body = concatBytes(...modelFileBody(model));
    expect(equalBytes(concatBytes(body, modelFileHash(model)), file)).toBe(true);
    const loaded = decodeModelFile(file);
    expect(toHex(loaded.modelRoot)).toBe(toHex(model.modelRoot));
    const wte = loaded.weights[0]!;
    expect(wte.data.buffer).toBe(file.buffer); // not copied
  });

  it("every node natively equals the TS reference, and greedy decoding of one token is deterministic", () => {
    const exec = new Executor(model);
    const res = exec.run(prompt);
    model.nodes.forEach((node, i) => {
      const ins = nodeInputs(model, i + 1, prompt, res.nodeOutputs);
      expect(Array.from(res.nodeOutputs[i]!.data), `node ${i + 1} ${OP_NAMES[node.op]}`).toEqual(Array.from(refNode(node, ins).data));
    });
    const token = res.output.data[0]!;
    expect(token).toBeGreaterThanOrEqual(0);
    expect(token).toBeLessThan(GPT_TINY.vocab);
    expect(new Executor(buildModel(buildGpt(GPT_TINY))).infer(prompt).data[0]).toBe(token);
    expect(toHex(res.trace.traceRoot)).toBe(toHex(new Executor(model).run(prompt).trace.traceRoot));
    // activations are spread, not saturated: the first LayerNorm's output uses most of int8
    const ln = res.nodeOutputs[model.nodes.findIndex((n) => OP_NAMES[n.op] === "LayerNorm")]!;
    const sat = Array.from(ln.data).filter((v) => v === 127 || v === -128).length;
    expect(sat).toBeLessThan(ln.data.length / 50);
    expect(new Set(ln.data).size).toBeGreaterThan(40);
  });

  it("one node of every op in the model: the guest in the VM agrees (VALID), and rejects a changed output (INVALID)", () => {
    const res = new Executor(model).run(prompt);
    const firstOfOp = new Map<number, number>();
    model.nodes.forEach((n, i) => firstOfOp.has(n.op) || firstOfOp.set(n.op, i + 1));
    const elf = new Uint8Array(readFileSync(fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url))));
    for (const [op, k] of firstOfOp) {
      const ok = runNodeCheckInVm(elf, nodeCheck(model, prompt, res.nodeOutputs, k));
      expect(ok.exitCode, `node ${k} ${OP_NAMES[op]}: ${ok.stderr}`).toBe(0);
      const bad = runNodeCheckInVm(elf, nodeCheck(model, prompt, res.nodeOutputs, k, keccak(new Uint8Array([k]))));
      expect(bad.exitCode, `node ${k} ${OP_NAMES[op]} with a wrong claim`).toBe(1);
    }
    expect(firstOfOp.size).toBe(11); // Gather Slice Add LayerNorm Gemm Reshape Transpose MatMul CausalSoftmax Lut ArgMax
  });
});

describe("GPT-2-shaped generator, full-sequence byte variant: a KV-cache generation graph", () => {
  const C = GPT_TINY_BYTES.seqLen;
  const T = 5;
  const full = buildModel(buildGpt(GPT_TINY_BYTES));
  const { spec, info } = generationSpec(full, T);
  const gen = buildModel(spec);

  it("outputs int8 logits [C, 256] at every position; GPT-2 small's body with byte tokens has 86,039,040 parameters; the default still ends in ArgMax and is refused", () => {
    expect(full.output).toEqual({ dtype: DType.int8, shape: [C, 256] });
    // Gather, position Slice, Add; 22 per block; LayerNorm and head Gemm over every position
    expect(full.nodes.length).toBe(3 + 22 * GPT_TINY_BYTES.layers + 2);
    expect(full.nodes.some((n) => n.op === Op.ArgMax)).toBe(false);
    expect(gptParamCount(GPT2_SMALL_BYTES)).toBe(gptParamCount(GPT2_SMALL) - (GPT2_SMALL.vocab - 256) * GPT2_SMALL.width);
    expect(gptParamCount(GPT2_SMALL_BYTES)).toBe(86_039_040);
    expect(String(full.metadata.note)).toContain("generated, not trained");
    expect(() => generationSpec(buildModel(buildGpt({ ...GPT_TINY, vocab: 256 })), T)).toThrow(GenerateError);
    expect(info).toMatchObject({ context: C, tokens: T, sourceNodes: full.nodes.length, attentions: GPT_TINY_BYTES.layers });
    expect(gen.nodes.length).toBe(info.nodes);
    expect(gen.output).toEqual({ dtype: DType.int8, shape: [T] });
  });

  it("the generation graph's output is greedy decoding by full passes, byte for byte, for prompts of 1..C bytes", () => {
    const fullExec = new Executor(full);
    const exec = new Executor(gen);
    const rnd = seededRandom(15);
    const prompts = [1, 2, 3, C - T, C - 2, C - 1, C].map((L) => Uint8Array.from({ length: L }, () => 1 + Math.floor(rnd() * 255)));
    let generated = 0;
    for (const prompt of prompts) {
      const want = greedyByFullPasses(fullExec, prompt, T);
      const got = Uint8Array.from(exec.infer(int8Tensor([prompt.length], Int8Array.from(prompt))).data, (v) => v & 0xff);
      expect(toHex(got), `prompt ${toHex(prompt)}`).toBe(toHex(want));
      generated += want.filter((b) => b !== 0).length;
    }
    // the comparison is not vacuous: the random weights produce non-zero bytes
    expect(generated).toBeGreaterThan(prompts.length);
  });

  it("every node class of the generation graph is VALID in the guest VM, within the production trace (2^32 steps)", () => {
    const elf = new Uint8Array(readFileSync(fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url))));
    const steps = nodeClassSteps(gen, (input) => new Executor(gen).run(input).nodeOutputs, elf, 2 ** 32);
    steps.forEach((s, i) => expect(s! + stepSlack(gen.nodes[i]!), `node ${i + 1}`).toBeLessThan(2 ** 32));
    // the guest accepts the native outputs of a real prompt at one node of every op
    const prompt = int8Tensor([3], Int8Array.of(72, 105, 33));
    const res = new Executor(gen).run(prompt);
    const firstOfOp = new Map<number, number>();
    gen.nodes.forEach((n, i) => firstOfOp.has(n.op) || firstOfOp.set(n.op, i + 1));
    for (const [op, k] of firstOfOp) {
      const r = runNodeCheckInVm(elf, nodeCheck(gen, prompt, res.nodeOutputs, k));
      expect(r.exitCode, `node ${k} ${OP_NAMES[op]}: ${r.stderr}`).toBe(0);
    }
  });
});

const TINY_MODEL_ROOT = "0xc7d634ecde116fc1b18db04560b5fc8a707942f74d53aaba17ec3c070e7b3e61";

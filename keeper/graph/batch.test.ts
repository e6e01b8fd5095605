/**
 * Batched runs (Executor.runBatch): N requests as one graph of leading dimension N give, for every request, exactly
 * the bytes of its own run — every node output, every state, the traceRoot — on the shipped MNIST model and on every
 * PyTorch-exported fixture, on both wasm builds; models that cannot batch (text models, attention) fall back to one
 * run per request with the reason named.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { batchPlan, Executor, MAX_BATCH } from "./executor.ts";
import { buildModel, type Model } from "./model.ts";
import { nextLetterTextSpec, seededRandom } from "./fixtures.ts";
import { int8Tensor, type Tensor } from "./tensor.ts";
import { KERNEL_PATHS, simdSupported } from "./wasm.ts";
import { importOnnx } from "./onnx/import.ts";
import { loadFixture, PYTORCH_FIXTURES } from "./onnx/pytorch-fixtures.ts";
import { loadModelFile, resolveModelPath } from "../src/service/models.ts";
import { quantizeInput } from "./quant.ts";
import { InputError } from "./errors.ts";

const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function randomInputs(model: Model, n: number, seed: number): Tensor[] {
  const rand = seededRandom(seed);
  const count = model.input.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => int8Tensor([...model.input.shape], Int8Array.from({ length: count }, () => Math.floor(rand() * 256) - 128)));
}

/** Every request's batched result must be its own run's, byte for byte. */
function expectSameAsSingleRuns(exec: Executor, inputs: Tensor[], label: string): void {
  const batched = exec.runBatch(inputs);
  const outputs = exec.inferBatch(inputs);
  outputs.forEach((t, b) => expect(bytes(t).equals(bytes(batched[b]!.output)), `${label}: inferBatch ${b}`).toBe(true));
  expect(batched).toHaveLength(inputs.length);
  inputs.forEach((input, b) => {
    const one = exec.run(input);
    const got = batched[b]!;
    expect(got.trace.traceRoot, `${label}: request ${b}'s traceRoot`).toEqual(one.trace.traceRoot);
    expect(got.inputHash).toEqual(one.inputHash);
    got.nodeOutputs.forEach((t, k) => {
      expect(t.shape, `${label}: request ${b}, node ${k + 1} shape`).toEqual(one.nodeOutputs[k]!.shape);
      expect(bytes(t).equals(bytes(one.nodeOutputs[k]!)), `${label}: request ${b}, node ${k + 1} bytes`).toBe(true);
    });
  });
}

describe("batched runs", () => {
  const mnist = loadModelFile(resolveModelPath("mnist"));

  it("MNIST: 1, 2, 7, 64 and 70 requests (two batches) give each request's own run on every kernel build", () => {
    for (const kernels of KERNEL_PATHS.filter((k) => k === "scalar" || simdSupported())) {
      const exec = new Executor(mnist, undefined, { kernels });
      expect(exec.batchable(64)).toEqual({ batched: true });
      for (const n of [1, 2, 7, MAX_BATCH, MAX_BATCH + 6]) expectSameAsSingleRuns(exec, randomInputs(mnist, n, n), `mnist ${kernels} n=${n}`);
    }
  });

  it("every PyTorch-exported fixture gives each request's own run (batched, or one by one where a weight is an elementwise operand)", () => {
    for (const name of PYTORCH_FIXTURES) {
      const fx = loadFixture(name);
      const model = buildModel(importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration.slice(0, 20), { report: false }).spec);
      const exec = new Executor(model);
      const plan = batchPlan(model, 5);
      // avgpool_exclude_cnn multiplies by a per-position weight [1,C,H,W] (count_include_pad=False): Mul has no broadcast.
      const expected = name === "avgpool_exclude_cnn" ? "node 3: operand 1 is a weight where an activation is expected" : "batched";
      expect("reason" in plan ? plan.reason : "batched", name).toBe(expected);
      // Held-out samples (real data) and random int8 inputs.
      const inputs = [...fx.heldout.slice(0, 3).map((x) => quantizeInput(model, x)), ...randomInputs(model, 2, 7)];
      expectSameAsSingleRuns(exec, inputs, name);
    }
  });

  it("a model that cannot batch runs request by request and says why; a bad input names its index", () => {
    const text = buildModel(nextLetterTextSpec(8, 2));
    expect(batchPlan(text, 2)).toEqual({ reason: "a text model's input has no batch axis" });
    expect(new Executor(text).batchable(2)).toMatchObject({ batched: false });
    // The full-sequence transformer: token ids gathered from an embedding, attention over the sequence.
    const lm = loadModelFile(resolveModelPath("text_lm"));
    expect(batchPlan(lm, 2)).toMatchObject({ reason: expect.stringMatching(/^node 1: op 9 is not batched along axis 0$/) });
    const lmInputs = [0, 1].map((i) => ({ ...lm.input, data: Int32Array.from({ length: lm.input.shape.reduce((a, b) => a * b, 1) }, (_, j) => (j * 7 + i) % 256) }) as Tensor);
    expectSameAsSingleRuns(new Executor(lm), lmInputs, "text_lm (one by one)");
    expect(batchPlan(mnist, 0)).toEqual({ reason: `batch size 0 is outside 1..${MAX_BATCH}` });
    const exec = new Executor(mnist);
    const [good] = randomInputs(mnist, 1, 3);
    expect(() => exec.runBatch([good!, int8Tensor([1, 3], new Int8Array(3))])).toThrow(InputError);
    expect(() => exec.runBatch([good!, int8Tensor([1, 3], new Int8Array(3))])).toThrow(/batch input 1:/);
  });
});

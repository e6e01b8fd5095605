/**
 * Loading a model for execution keeps one resident copy of its weights (issue #8): the file is
 * read into kernel memory and the executor's int8 weights point into that region, the memory grows
 * by about the file size (not twice), and every result equals the copying path's, also after the
 * memory grew (which detaches every earlier view of it).
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildModel,
  decodeModelFile,
  DType,
  encodeModelFile,
  equalBytes,
  Executor,
  int8Tensor,
  int32Tensor,
  KernelRuntime,
  ResidentInt8Tensor,
  tensorHash,
  toHex,
  type Model,
  type Tensor,
} from "../../graph/index.ts";
import { seededRandom } from "../../graph/fixtures.ts";
import { buildGpt, GPT_TINY } from "../../graph/gpt/gpt.ts";
import { executorFor, loadModel, ModelBook, resolveModelPath } from "./models.ts";

function randomInput(model: Model): Tensor {
  const rand = seededRandom(7);
  const n = model.input.shape.reduce((a, d) => a * d, 1);
  const values = Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
  return model.input.dtype === DType.int8 ? int8Tensor([...model.input.shape], values) : int32Tensor([...model.input.shape], values.map((v) => v + 128));
}

function expectSameRun(a: Executor, b: Executor, input: Tensor): void {
  const x = a.run(input);
  const y = b.run(input);
  expect(toHex(x.trace.traceRoot)).toBe(toHex(y.trace.traceRoot));
  expect(x.nodeOutputs.length).toBe(y.nodeOutputs.length);
  x.nodeOutputs.forEach((t, i) => expect(toHex(tensorHash(t)), `node ${i + 1}`).toBe(toHex(tensorHash(y.nodeOutputs[i]!))));
  expect(Array.from(a.infer(input).data)).toEqual(Array.from(y.output.data));
}

function check(file: string): void {
  const bytes = new Uint8Array(readFileSync(file));
  const size = statSync(file).size;
  const before = new KernelRuntime().mark();
  const { model, executor } = loadModel(file);
  const copied = decodeModelFile(bytes);
  const reference = new Executor(copied);
  expect(toHex(model.modelRoot)).toBe(toHex(copied.modelRoot));

  // int8 weights are resident in kernel memory and the executor uses them where they lie
  const int8 = model.weights.map((w, j) => [w, j] as const).filter(([w]) => w.dtype === DType.int8);
  expect(int8.length).toBeGreaterThan(0);
  const ptrs = executor.weightPointers();
  for (const [w, j] of int8) {
    expect(w).toBeInstanceOf(ResidentInt8Tensor);
    expect(ptrs[j]).toBe((w as ResidentInt8Tensor).ptr);
    expect(w.data.byteOffset).toBe(ptrs[j]);
  }
  const lo = Math.min(...int8.map(([, j]) => ptrs[j]!));
  const hi = Math.max(...int8.map(([w, j]) => ptrs[j]! + w.data.length));
  expect(hi - lo).toBeLessThanOrEqual(size); // all inside one file-sized region
  // kernel memory holds the file (+ the small int32 weights and node descriptions, 16-byte
  // aligned), not the file and a copy of its int8 weights
  const int8Bytes = int8.reduce((a, [w]) => a + w.data.length, 0);
  const int32Bytes = model.weights.filter((w) => w.dtype === DType.int32).reduce((a, w) => a + w.data.byteLength, 0);
  const descBytes = model.nodeBytes.reduce((a, b) => a + b.length, 0);
  const alignSlack = 16 * (1 + model.weights.length + model.nodeBytes.length);
  expect(executor.loadedBytes - before).toBeLessThanOrEqual(size + int32Bytes + descBytes + alignSlack);
  expect(reference.loadedBytes - before).toBeGreaterThanOrEqual(int8Bytes + int32Bytes + descBytes);

  const input = randomInput(model);
  expectSameRun(executor, reference, input);

  // grow the memory with a large input (the node rejects it after it was written): earlier views
  // of the memory detach, resident weights re-derive theirs
  const grownFrom = executor.memoryBytes;
  const staleBuffer = int8[0]![0].data.buffer;
  expect(() => executor.runNode(1, [int8Tensor([2 ** 24], new Int8Array(2 ** 24))])).toThrow();
  expect(executor.memoryBytes).toBeGreaterThan(grownFrom);
  expect(int8[0]![0].data.buffer).not.toBe(staleBuffer);
  expectSameRun(executor, reference, input);
  model.weights.forEach((w, j) => expect(toHex(tensorHash(w)), `weight ${j}`).toBe(toHex(copied.weightHashes[j]!)));
  expect(equalBytes(encodeModelFile(model), bytes)).toBe(true);
}

describe("loadModel: one resident copy of the weights", () => {
  it("MNIST: weights in place in the file's region, results bit-identical to the copying path, also after memory growth", () => {
    check(resolveModelPath("mnist"));
  });

  it("tiny GPT: the same", () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-gpt-"));
    try {
      const file = join(dir, "model.oao");
      writeFileSync(file, encodeModelFile(buildModel(buildGpt(GPT_TINY))));
      check(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a model book serves a loaded model with the executor it was loaded with; a runtime backs one executor", () => {
    const { model, executor } = loadModel(resolveModelPath("mnist"));
    expect(new ModelBook().add(1n, model).executor).toBe(executor);
    expect(executorFor(model)).toBe(executor);
    // another executor of the same model copies the weights into its own runtime: same results
    const other = new Executor(model);
    expectSameRun(other, executor, randomInput(model));
    const runtime = new KernelRuntime();
    new Executor(model, runtime);
    expect(() => new Executor(model, runtime)).toThrow(/already backs an Executor/);
  });

  it("a corrupt file fails loudly", () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-bad-"));
    try {
      const file = join(dir, "model.oao");
      const bytes = new Uint8Array(readFileSync(resolveModelPath("mnist")));
      bytes[bytes.length - 100]! ^= 1;
      writeFileSync(file, bytes);
      expect(() => loadModel(file)).toThrow(/integrity hash mismatch/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

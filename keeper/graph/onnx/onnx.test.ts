import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { importOnnx, inputLimitNote } from "./import.ts";
import { encodeOnnx, mlpToOnnx, type OnnxGraphSpec, type OnnxNodeSpec } from "./export.ts";
import { buildModel, InputMode, MAX_INPUT_BYTES } from "../model.ts";
import { CHUNK_BYTES, DType } from "../tensor.ts";
import { Executor } from "../executor.ts";
import { dequantize, quantizeInput } from "../quant.ts";
import { seededRandom } from "../fixtures.ts";
import { loadMnist } from "../train/mnist-data.ts";
import { trainMlp, argmax } from "../train/mlp.ts";

const sessions = new Map<Uint8Array, ort.InferenceSession>();
async function ortRun(bytes: Uint8Array, input: number[], shape: number[]): Promise<Float32Array> {
  let session = sessions.get(bytes);
  if (!session) sessions.set(bytes, (session = await ort.InferenceSession.create(bytes)));
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", Float32Array.from(input), shape) });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

describe("ONNX import", () => {
  it("an MLP trained on MNIST digits: int8 import agrees with onnxruntime (float)", async () => {
    const { train, test } = loadMnist();
    const mlp = trainMlp(train.filter((_, i) => i % 4 === 0), { sizes: [784, 32, 10], epochs: 3, batch: 32, lr: 0.05, momentum: 0.9, seed: 1 });
    const bytes = mlpToOnnx(mlp);
    const calib = train.filter((_, i) => i % 40 === 0).map((s) => Array.from(s.pixels));
    const { spec } = importOnnx(bytes, calib, { name: "mlp-onnx" });
    const model = buildModel(spec);
    expect(model.nodes.map((n) => n.op)).toEqual([1, 1, 5]); // Relu fused into the first Gemm
    const exec = new Executor(model);
    const samples = test.filter((_, i) => i % 10 === 0);
    let agree = 0, maxErr = 0, ortCorrect = 0, ourCorrect = 0;
    for (const s of samples) {
      const ref = await ortRun(bytes, Array.from(s.pixels), [1, 784]);
      const ours = dequantize(model, exec.infer(quantizeInput(model, Array.from(s.pixels))));
      if (argmax(ref) === argmax(ours)) agree++;
      if (argmax(ref) === s.label) ortCorrect++;
      if (argmax(ours) === s.label) ourCorrect++;
      for (let i = 0; i < 10; i++) maxErr = Math.max(maxErr, Math.abs(ref[i]! - ours[i]!));
    }
    expect(agree / samples.length).toBeGreaterThanOrEqual(0.97);
    expect(Math.abs(ortCorrect - ourCorrect) / samples.length).toBeLessThanOrEqual(0.02);
    expect(maxErr).toBeLessThan(0.25);
  });

  it("a small CNN (Conv, Relu, MaxPool, Flatten, MatMul+Add, Mul, Add, Softmax) agrees with onnxruntime", async () => {
    const rand = seededRandom(42);
    const r = (n: number, s: number) => Array.from({ length: n }, () => (rand() * 2 - 1) * s);
    const bytes = encodeOnnx({
      input: { name: "x", shape: [1, 1, 8, 8] },
      output: { name: "y", shape: [1, 5] },
      initializers: [
        { name: "cw", shape: [3, 1, 3, 3], data: r(27, 0.5) },
        { name: "cb", shape: [3], data: r(3, 0.1) },
        { name: "mw", shape: [27, 5], data: r(135, 0.3) },
        { name: "mb", shape: [5], data: r(5, 0.1) },
      ],
      nodes: [
        { op: "Conv", inputs: ["x", "cw", "cb"], outputs: ["c"], ints: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] } },
        { op: "Relu", inputs: ["c"], outputs: ["cr"] },
        { op: "MaxPool", inputs: ["cr"], outputs: ["p"], ints: { kernel_shape: [2, 2], strides: [3, 3] } },
        { op: "Flatten", inputs: ["p"], outputs: ["f"], int: { axis: 1 } },
        { op: "MatMul", inputs: ["f", "mw"], outputs: ["m"] },
        { op: "Add", inputs: ["m", "mb"], outputs: ["ma"] },
        { op: "Mul", inputs: ["ma", "ma"], outputs: ["sq"] },
        { op: "Add", inputs: ["sq", "ma"], outputs: ["z"] },
        { op: "Softmax", inputs: ["z"], outputs: ["y"], int: { axis: 1 } },
      ],
    });
    const sample = () => Array.from({ length: 64 }, () => rand());
    const calib = Array.from({ length: 200 }, sample);
    const { spec, floatOutputs } = importOnnx(bytes, calib);
    const model = buildModel(spec);
    // Relu fused into the Conv; the MatMul's Add folded into its bias; ma·ma + ma (element-wise in ma) one table
    expect(model.nodes.map((n) => n.op)).toEqual([7, 8, 6, 1, 11, 5]);
    // the importer's float reading of the graph is onnxruntime's
    for (let i = 0; i < 5; i++) {
      const ref = await ortRun(bytes, calib[i]!, [1, 1, 8, 8]);
      for (let j = 0; j < 5; j++) expect(floatOutputs[i]![j]).toBeCloseTo(ref[j]!, 4);
    }
    const exec = new Executor(model);
    let maxErr = 0;
    for (let t = 0; t < 30; t++) {
      const x = sample();
      const ref = await ortRun(bytes, x, [1, 1, 8, 8]);
      const ours = dequantize(model, exec.infer(quantizeInput(model, x)));
      for (let j = 0; j < 5; j++) maxErr = Math.max(maxErr, Math.abs(ref[j]! - ours[j]!));
    }
    expect(maxErr).toBeLessThan(0.1);
  });

  it("notes an input above the registry's MAX_INPUT_BYTES (8 chunks), and only then", () => {
    const rand = seededRandom(3);
    const notesFor = (inSize: number) => {
      const w = Float64Array.from({ length: 2 * inSize }, () => rand() - 0.5);
      const bytes = mlpToOnnx({ layers: [{ inSize, outSize: 2, w, b: Float64Array.of(0, 0) }] });
      return importOnnx(bytes, [Array.from({ length: inSize }, () => rand())], { name: "wide", report: false }).notes.filter((n) => n.includes("ModelInputTooLarge"));
    };
    expect(notesFor(6912)).toEqual([]); // 3×48×48: two chunks, registrable
    expect(notesFor(MAX_INPUT_BYTES)).toEqual([]);
    expect(notesFor(MAX_INPUT_BYTES + 1)).toEqual([
      `the input has ${MAX_INPUT_BYTES + 1} bytes (${MAX_INPUT_BYTES + 1} int8 values): the registry accepts at most ${MAX_INPUT_BYTES} (8 chunks), so registerModel reverts with ModelInputTooLarge; shrink the input`,
    ]);
    // a text model's context (a generation graph's int8 [C]) stays within one chunk
    const text = (c: number) => inputLimitNote({ input: { dtype: DType.int8, shape: [c] }, inputMode: InputMode.text });
    expect(text(CHUNK_BYTES)).toBeUndefined();
    expect(text(CHUNK_BYTES + 1)).toBe(`the text model's context is 4097 bytes: the registry accepts at most 4096 (1 chunk), so registerModel reverts with ModelInputTooLarge; use a shorter context`);
    expect(inputLimitNote({ input: { dtype: DType.int32, shape: [1, 8192] } })).toBeUndefined();
    expect(inputLimitNote({ input: { dtype: DType.int32, shape: [1, 8193] } })).toMatch(/^the input has 32772 bytes \(8193 int32 values\)/);
  });

  it("AveragePool with pads and count_include_pad=0 (1-D and 2-D): the border windows average only the input's elements, as onnxruntime", async () => {
    const rand = seededRandom(7);
    const cases = [
      // nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), asymmetric pads, a 2×2 window, and nn.AvgPool1d(3, padding=1, …)
      { shape: [1, 2, 7, 7], ints: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, out: [1, 2, 4, 4] },
      { shape: [1, 2, 6, 5], ints: { kernel_shape: [3, 2], strides: [1, 2], pads: [2, 0, 1, 1] }, out: [1, 2, 7, 3] },
      { shape: [1, 3, 9], ints: { kernel_shape: [3], strides: [1], pads: [1, 1] }, out: [1, 3, 9] },
    ];
    for (const c of cases) {
      const bytes = encodeOnnx({ input: { name: "x", shape: c.shape }, output: { name: "y", shape: c.out }, initializers: [], nodes: [{ op: "AveragePool", inputs: ["x"], outputs: ["y"], ints: c.ints, int: { count_include_pad: 0 } }] });
      const n = c.shape.reduce((a, b) => a * b, 1);
      const calib = Array.from({ length: 100 }, () => Array.from({ length: n }, () => rand() * 4 - 1));
      const { spec, floatOutputs } = importOnnx(bytes, calib);
      const model = buildModel(spec);
      expect(model.nodes.map((nd) => nd.op), `[${c.shape}]`).toEqual(c.shape.length === 3 ? [6, 7, 3, 6] : [7, 3]); // (Reshape) Conv2D, Mul (Reshape)
      const exec = new Executor(model);
      let maxErr = 0;
      for (let i = 0; i < 10; i++) {
        const ref = await ortRun(bytes, calib[i]!, c.shape);
        expect(floatOutputs[i]!.length).toBe(ref.length);
        // the importer's float reading is onnxruntime's
        for (let j = 0; j < ref.length; j++) expect(floatOutputs[i]![j]).toBeCloseTo(ref[j]!, 5);
        const ours = dequantize(model, exec.infer(quantizeInput(model, calib[i]!)));
        for (let j = 0; j < ref.length; j++) maxErr = Math.max(maxErr, Math.abs(ref[j]! - ours[j]!));
      }
      // int8 over an input range of 4: a step is 4/255 ≈ 0.016
      expect(maxErr, `[${c.shape}]`).toBeLessThan(0.06);
    }
  });

  it("Concat of activations (torch.cat): channels of two conv branches, features of two Linears, a middle and the last axis of 3-D tensors, as onnxruntime", async () => {
    const rand = seededRandom(9);
    const r = (n: number, sc: number) => Array.from({ length: n }, () => (rand() * 2 - 1) * sc);
    const conv = (name: string, o: number, c: number, k: number) => [
      { name: `${name}w`, shape: [o, c, k, k], data: r(o * c * k * k, 0.6) },
      { name: `${name}b`, shape: [o], data: r(o, 0.2) },
    ];
    const gemm = (name: string, n: number, k: number) => [
      { name: `${name}w`, shape: [n, k], data: r(n * k, 0.6) },
      { name: `${name}b`, shape: [n], data: r(n, 0.2) },
    ];
    const cases: { what: string; input: number[]; output: number[]; initializers: OnnxGraphSpec["initializers"]; nodes: OnnxNodeSpec[]; ops?: number[] }[] = [
      {
        // an Inception block: a 1×1 and a 3×3 branch, concatenated along the channels, then a 1×1 Conv
        what: "channels",
        input: [1, 2, 6, 6], output: [1, 5, 6, 6],
        initializers: [...conv("a", 3, 2, 1), ...conv("b", 4, 2, 3), ...conv("c", 5, 7, 1)],
        nodes: [
          { op: "Conv", inputs: ["x", "aw", "ab"], outputs: ["a"], ints: { kernel_shape: [1, 1] } },
          { op: "Relu", inputs: ["a"], outputs: ["ar"] },
          { op: "Conv", inputs: ["x", "bw", "bb"], outputs: ["b"], ints: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { op: "Concat", inputs: ["ar", "b"], outputs: ["cat"], int: { axis: 1 } },
          { op: "Conv", inputs: ["cat", "cw", "cb"], outputs: ["y"], ints: { kernel_shape: [1, 1] } },
        ],
        ops: [7, 7, 7, 7, 2, 7], // the branches, each placed by a 1×1 Conv, their Add, the 1×1 Conv after
      },
      {
        what: "features",
        input: [1, 6], output: [1, 3],
        initializers: [...gemm("a", 4, 6), ...gemm("b", 3, 6), ...gemm("c", 3, 11)],
        nodes: [
          { op: "Gemm", inputs: ["x", "aw", "ab"], outputs: ["a"], int: { transB: 1 } },
          { op: "Gemm", inputs: ["x", "bw", "bb"], outputs: ["b"], int: { transB: 1 } },
          { op: "Tanh", inputs: ["b"], outputs: ["bt"] },
          { op: "Concat", inputs: ["a", "bt", "a"], outputs: ["cat"], int: { axis: -1 } },
          { op: "Gemm", inputs: ["cat", "cw", "cb"], outputs: ["y"], int: { transB: 1 } },
        ],
      },
      {
        // rows 0..1 of x under tanh(x) ([1, 5, 4]), then that with itself along the features ([1, 5, 8])
        what: "a middle axis and the last axis of [1, T, d]",
        input: [1, 3, 4], output: [1, 5, 8],
        initializers: [{ name: "st", shape: [1], data: [0], int64: true }, { name: "en", shape: [1], data: [2], int64: true }, { name: "ax", shape: [1], data: [1], int64: true }],
        nodes: [
          { op: "Tanh", inputs: ["x"], outputs: ["t"] },
          { op: "Slice", inputs: ["x", "st", "en", "ax"], outputs: ["x2"] },
          { op: "Concat", inputs: ["t", "x2"], outputs: ["rows"], int: { axis: 1 } },
          { op: "Concat", inputs: ["rows", "rows"], outputs: ["y"], int: { axis: 2 } },
        ],
      },
    ];
    for (const c of cases) {
      const bytes = encodeOnnx({ input: { name: "x", shape: c.input }, output: { name: "y", shape: c.output }, initializers: c.initializers, nodes: c.nodes });
      const n = c.input.reduce((a, b) => a * b, 1);
      const calib = Array.from({ length: 100 }, () => Array.from({ length: n }, () => rand() * 2 - 1));
      const { spec, floatOutputs } = importOnnx(bytes, calib);
      const model = buildModel(spec);
      if (c.ops) expect(model.nodes.map((nd) => nd.op), c.what).toEqual(c.ops);
      const exec = new Executor(model);
      let err2 = 0, ref2 = 0;
      for (let i = 0; i < 10; i++) {
        const ref = await ortRun(bytes, calib[i]!, c.input);
        expect(floatOutputs[i]!.length, c.what).toBe(ref.length);
        for (let j = 0; j < ref.length; j++) expect(floatOutputs[i]![j], c.what).toBeCloseTo(ref[j]!, 5);
        const ours = dequantize(model, exec.infer(quantizeInput(model, calib[i]!)));
        for (let j = 0; j < ref.length; j++) (err2 += (ref[j]! - ours[j]!) ** 2), (ref2 += ref[j]! ** 2);
      }
      // int8 relative RMS error: the Inception block's is 2.0%, as the same block summing its branches (2.1%)
      expect(Math.sqrt(err2 / ref2), c.what).toBeLessThan(0.03);
    }
    // along an axis with a size > 1 before it (H of [1, C, H, W]): refused, saying what is supported
    const bad = encodeOnnx({ input: { name: "x", shape: [1, 2, 3, 3] }, output: { name: "y", shape: [1, 2, 6, 3] }, initializers: [], nodes: [{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "Concat", inputs: ["x", "r"], outputs: ["y"], name: "cat", int: { axis: 2 } }] });
    expect(() => importOnnx(bad, [new Array<number>(18).fill(0)])).toThrow(/Concat node cat: a Concat along axis 2 of \[1,2,3,3\] is not supported: torch\.cat of activations is supported along the last axis/);
  });

  it("names unsupported ops and attributes", () => {
    const base = { input: { name: "x", shape: [1, 4] }, output: { name: "y", shape: [1, 4] }, initializers: [] };
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "TopK", inputs: ["x"], outputs: ["y"], name: "act1" }] }), [[0, 0, 0, 0]])).toThrow(
      /unsupported ONNX op TopK \(node act1\): topk inside the model is not supported; return the scores.*Supported: Gemm, MatMul/,
    );
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"], int: { axis: 0 } }] }), [[0, 0, 0, 0]])).toThrow(/only a softmax over the last axis/);
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"], int: { weird: 1 } }] }), [[0, 0, 0, 0]])).toThrow(/attribute weird is not supported/);
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }] }), [[0, 0]])).toThrow(/calibration sample 0 has 2 values/);
    expect(() => importOnnx(new Uint8Array([1, 2, 3, 4, 5]), [[0]])).toThrow(/not an ONNX model|exactly one/);
  });
});

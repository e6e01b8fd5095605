/**
 * GPT-2-small forward pass: the native kernels against onnxruntime-node, side by side, at 1 and 2
 * threads (`npm run bench:gpt-ort -- [--json] [--runs N] [--size NAME]`; NAME one of the bench's
 * scale sizes, default gpt2-small, generated into .oao/models/NAME if absent, as `npm run model:gpt`
 * does). onnxruntime runs a graph of the same shape (pre-LayerNorm blocks of the size's width, heads
 * and layers, its tokens, the tied head on the last position), written here with
 * keeper/graph/onnx/export.ts: float32, and int8 the way onnxruntime's dynamic quantization writes a
 * MatMul (DynamicQuantizeLinear, MatMulInteger, scale). Its weights are seeded random floats (timing
 * does not depend on them); ours is the .oao model (its own seeded weights). Each figure is the best
 * and median of N passes after one warm-up. `npm run bench`'s native section runs this script.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import * as ort from "onnxruntime-node";
import { Executor } from "../keeper/graph/executor.ts";
import { int32Tensor } from "../keeper/graph/tensor.ts";
import { configureNativeKernels, nativeKernels } from "../keeper/graph/native.ts";
import { encodeOnnx, type OnnxGraphSpec, type OnnxNodeSpec } from "../keeper/graph/onnx/export.ts";
import { ensureGptModel } from "./lib/gpt-model.ts";
import { SCALE_SIZES } from "./bench/scale.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const runs = Number(args[args.indexOf("--runs") + 1] ?? 0) || 7;
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const sizeName = args.includes("--size") ? args[args.indexOf("--size") + 1] : "gpt2-small";
const size = SCALE_SIZES.find((s) => s.name === sizeName);
if (!size) throw new Error(`--size ${sizeName}: expected one of ${SCALE_SIZES.map((s) => s.name).join(", ")}`);
const log = (s: string) => console.error(s);

const { seqLen: T, width: D, heads: H, layers: L, vocab: V } = size.config;

/** The size's GPT graph; `int8`: every weight MatMul dynamically quantized (uint8 × int8 → int32). */
function gptOnnx(int8: boolean): Uint8Array {
  let seed = 1;
  const rnd = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      a[i] = ((seed >>> 8) / 2 ** 24 - 0.5) * 2 * scale;
    }
    return a;
  };
  const inits: OnnxGraphSpec["initializers"] = [];
  const nodes: OnnxNodeSpec[] = [];
  let n = 0;
  const t = (p: string) => `${p}_${n++}`;
  const init = (name: string, shape: number[], data: ArrayLike<number>, kind: "float" | "int64" | "int8" = "float") => {
    inits.push({ name, shape, data, int64: kind === "int64", int8: kind === "int8" });
    return name;
  };
  const op = (opName: string, inputs: string[], extra: Omit<OnnxNodeSpec, "op" | "inputs" | "outputs"> = {}) => {
    const out = t(opName);
    nodes.push({ op: opName, inputs, outputs: [out], ...extra });
    return out;
  };
  const scalar = (v: number) => init(t("c"), [], [v]);
  const eps = scalar(1e-5), half = scalar(0.5), one = scalar(1), sqrt2 = scalar(Math.SQRT2), attnScale = scalar(1 / Math.sqrt(D / H));
  const layerNorm = (x: string) => {
    const g = init(t("ln_g"), [D], new Float32Array(D).fill(1)), b = init(t("ln_b"), [D], new Float32Array(D));
    const xc = op("Sub", [x, op("ReduceMean", [x], { ints: { axes: [-1] } })]);
    const sd = op("Sqrt", [op("Add", [op("ReduceMean", [op("Mul", [xc, xc])], { ints: { axes: [-1] } }), eps])]);
    return op("Add", [op("Mul", [op("Div", [xc, sd]), g]), b]);
  };
  const linear = (x: string, K: number, N: number, withBias = true) => {
    let y: string;
    if (int8) {
      const w = init(t("wq"), [K, N], Int8Array.from(rnd(K * N, 127), Math.round), "int8");
      const wz = init(t("wz"), [], [0], "int8"), ws = scalar(0.02 / 127);
      const q = t("xq"), qs = t("xs"), qz = t("xz");
      nodes.push({ op: "DynamicQuantizeLinear", inputs: [x], outputs: [q, qs, qz] });
      const acc = op("MatMulInteger", [q, w, qz, wz]);
      y = op("Mul", [op("Cast", [acc], { int: { to: 1 } }), op("Mul", [qs, ws])]);
    } else y = op("MatMul", [x, init(t("w"), [K, N], rnd(K * N, 0.02))]);
    return withBias ? op("Add", [y, init(t("b"), [N], new Float32Array(N))]) : y;
  };
  const heads = (x: string, perm: number[]) => op("Transpose", [op("Reshape", [x, init(t("s"), [3], [T, H, D / H], "int64")])], { ints: { perm } });
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  const maskName = init("mask", [T, T], mask);
  let h = op("Add", [op("Gather", [init("wte", [V, D], rnd(V * D, 0.02)), "ids"]), init("wpe", [T, D], rnd(T * D, 0.01))]);
  for (let l = 0; l < L; l++) {
    const qkv = linear(layerNorm(h), D, 3 * D);
    const [q, k, v] = [t("q"), t("k"), t("v")];
    nodes.push({ op: "Split", inputs: [qkv, init(t("split"), [3], [D, D, D], "int64")], outputs: [q, k, v], int: { axis: 1 } });
    const scores = op("Add", [op("Mul", [op("MatMul", [heads(q, [1, 0, 2]), heads(k, [1, 2, 0])]), attnScale]), maskName]);
    const ctx = op("MatMul", [op("Softmax", [scores], { int: { axis: -1 } }), heads(v, [1, 0, 2])]);
    const merged = op("Reshape", [op("Transpose", [ctx], { ints: { perm: [1, 0, 2] } }), init(t("s"), [2], [T, D], "int64")]);
    h = op("Add", [h, linear(merged, D, D)]);
    const u = linear(layerNorm(h), D, 4 * D);
    const gelu = op("Mul", [op("Mul", [u, op("Add", [op("Erf", [op("Div", [u, sqrt2])]), one])]), half]);
    h = op("Add", [h, linear(gelu, 4 * D, D)]);
  }
  const last = op("Gather", [layerNorm(h), init("last", [1], [T - 1], "int64")]);
  const logits = linear(last, D, V, false);
  nodes.push({ op: "Identity", inputs: [logits], outputs: ["logits"] });
  return encodeOnnx({ input: { name: "ids", shape: [T], int64: true }, output: { name: "logits", shape: [1, V] }, initializers: inits, nodes });
}

function stats(times: number[]): { bestMs: number; medianMs: number } {
  const s = [...times].sort((a, b) => a - b);
  return { bestMs: s[0]!, medianMs: s[Math.floor(s.length / 2)]! };
}

const result: Record<string, { bestMs: number; medianMs: number }> = {};
const native = nativeKernels();
log(`machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores; node ${process.version}; native: ${native.loaded ? `${native.isa}` : native.reason}`);
if (native.loaded) {
  const gpt = ensureGptModel(repo, size.name, size.config, log).model;
  const prompt = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V));
  const exec = new Executor(gpt, undefined, { kernels: "native" });
  exec.infer(prompt);
  const times: Record<number, number[]> = { 1: [], 2: [] };
  for (let r = 0; r < runs; r++) {
    for (const threads of [1, 2]) {
      configureNativeKernels({ threads });
      const t0 = performance.now();
      exec.infer(prompt);
      times[threads]!.push(performance.now() - t0);
    }
  }
  for (const threads of [1, 2]) {
    result[`native ${native.isa} ×${threads}`] = stats(times[threads]!);
    log(`native ${native.isa}, ${threads} thread(s): best ${stats(times[threads]!).bestMs.toFixed(1)} ms, median ${stats(times[threads]!).medianMs.toFixed(1)} ms`);
  }
}
const ids = new ort.Tensor("int64", BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 7919 + 13) % V)), [T]);
for (const int8 of [false, true]) {
  const model = gptOnnx(int8);
  for (const threads of [1, 2]) {
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
    await session.run({ ids });
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await session.run({ ids });
      times.push(performance.now() - t0);
    }
    const name = `onnxruntime ${int8 ? "int8 (MatMulInteger)" : "float32"} ×${threads}`;
    result[name] = stats(times);
    log(`${name}: best ${result[name]!.bestMs.toFixed(1)} ms, median ${result[name]!.medianMs.toFixed(1)} ms`);
    await session.release();
  }
}
if (json) console.log(JSON.stringify({ date: new Date().toISOString(), size: size.name, native: native.loaded ? native.isa : null, machine: cpus()[0]?.model, cores: cpus().length, node: process.version, ort: ort.env.versions?.common, runs, result }));

/**
 * Kernel micro-benchmark for docs/benchmarks.md (`npm run bench:kernels -- [--json] [--quick]
 * [--extra NAME=FILE.wasm ...]`): the Gemm kernel's GMAC/s on the scalar and the SIMD wasm builds and,
 * when the addon is built (`npm run build:native`), on the native kernels at each instruction set this
 * CPU runs and at 1 and 2 threads, at GPT-2-small and MNIST shapes; and the MNIST model's batch-1
 * latency through the Executor on each build. Every shape's output is compared byte for byte across the
 * builds (a mismatch fails the run).
 * `--extra` adds another build of the kernels (e.g. an older kernels.wasm) to the Gemm table.
 * `--gpt [DIR]` adds the GPT-2-small-shaped model (`npm run model:gpt` first; default
 * .oao/models/gpt2-small): one 64-token forward pass per build (Executor.infer; native at 1 and 2
 * threads), the traceRoot of `run` compared across the builds, and where the time goes per op.
 *
 * Timing: each figure is the best and the median of several rounds (each round long enough to be
 * well above timer resolution). Machines are shared: report the best, quote the median as context.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import { KERNELS_SCALAR_WASM_BASE64, KERNELS_SIMD_WASM_BASE64 } from "../keeper/graph/kernels-wasm.ts";
import { encodeNodeDesc, inputSlot, Op, weightSlot } from "../keeper/graph/ops.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { decodeModelFile } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { quantizeInput } from "../keeper/graph/quant.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";
import { KERNEL_PATHS, kernelPathUnavailable, kernelsLogLine, simdSupported, type KernelPath } from "../keeper/graph/wasm.ts";
import { configureNativeKernels, instantiateNativeKernels, NATIVE_ISAS, nativeKernels } from "../keeper/graph/native.ts";
import { DType, type Tensor } from "../keeper/graph/tensor.ts";
import { KernelRuntime, type MemTensor } from "../keeper/graph/kernels.ts";
import { decodeSlot, OP_NAMES, SlotKind } from "../keeper/graph/ops.ts";
import { int32Tensor } from "../keeper/graph/tensor.ts";
import { toHex } from "../keeper/graph/hash.ts";
import type { Model } from "../keeper/graph/model.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const json = args.includes("--json");
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const log = (s: string) => console.error(s);

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  oao_node_run(desc: number, len: number, inputs: number, nIn: number, out: number): number;
}
const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: object } } }).WebAssembly;

/** A build to time: a fresh instance of it, and the process settings it needs (the native ones are global). */
interface Build {
  name: string;
  instantiate: () => Exports;
  setup?: () => void;
}
const wasmBuild = (name: string, bytes: Uint8Array): Build => ({ name, instantiate: () => new WA.Instance(new WA.Module(bytes), {}).exports as unknown as Exports });
const builds: Build[] = [wasmBuild("scalar", Buffer.from(KERNELS_SCALAR_WASM_BASE64, "base64"))];
if (simdSupported()) builds.push(wasmBuild("simd", Buffer.from(KERNELS_SIMD_WASM_BASE64, "base64")));
const native = nativeKernels();
if (native.loaded) {
  for (const isa of NATIVE_ISAS.slice(NATIVE_ISAS.indexOf(native.best))) {
    for (const threads of [1, 2]) builds.push({ name: `native ${isa} ×${threads}`, instantiate: () => instantiateNativeKernels(), setup: () => configureNativeKernels({ isa, threads }) });
  }
}
args.forEach((a, i) => {
  if (a !== "--extra") return;
  const [name, file] = (args[i + 1] ?? "").split("=");
  if (!name || !file) throw new Error("--extra NAME=FILE.wasm");
  builds.push(wasmBuild(name, new Uint8Array(readFileSync(file))));
});

/** One Gemm node on one build, inputs written once; `run()` recomputes it in place. */
function gemmRunner(build: Build, M: number, K: number, N: number, seed: number) {
  const ex = build.instantiate();
  let top = Math.ceil(ex.__heap_base.value / 16) * 16;
  const alloc = (n: number) => {
    const p = top;
    top = Math.ceil((top + n) / 16) * 16;
    const have = ex.memory.buffer.byteLength;
    if (top > have) ex.memory.grow(Math.ceil((top - have) / 65536));
    return p;
  };
  const rand = seededRandom(seed);
  const i8 = (n: number) => Int8Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
  const x = i8(M * K), w = i8(N * K), b = Int32Array.from({ length: N }, () => Math.floor(rand() * 2 ** 20) - 2 ** 19);
  const desc = encodeNodeDesc({ op: Op.Gemm, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int8, outShape: [M, N], attrs: [3, -2, 1 << 30, 40, 0, -128, 127] });
  const pd = alloc(desc.length), px = alloc(x.length), pw = alloc(w.length), pb = alloc(4 * N), py = alloc(M * N), ps = alloc(36 * 4);
  const mem = () => ex.memory.buffer;
  new Uint8Array(mem(), pd, desc.length).set(desc);
  new Int8Array(mem(), px, x.length).set(x);
  new Int8Array(mem(), pw, w.length).set(w);
  new Int32Array(mem(), pb, N).set(b);
  const dv = new DataView(mem());
  const struct = (at: number, ptr: number, dtype: number, shape: number[]) => {
    dv.setUint32(at, ptr, true);
    dv.setUint32(at + 4, dtype, true);
    dv.setUint32(at + 8, shape.length, true);
    for (let d = 0; d < 6; d++) dv.setUint32(at + 12 + 4 * d, shape[d] ?? 0, true);
  };
  struct(ps, px, DType.int8, [M, K]);
  struct(ps + 36, pw, DType.int8, [N, K]);
  struct(ps + 72, pb, DType.int32, [N]);
  struct(ps + 108, py, DType.int8, [M, N]);
  return {
    run: () => {
      const rc = ex.oao_node_run(pd, desc.length, ps, 3, ps + 108);
      if (rc !== 0) throw new Error(`oao_node_run ${rc}`);
    },
    output: () => new Uint8Array(mem(), py, M * N).slice(),
  };
}

/** Best and median seconds per call over `rounds` rounds of `reps` calls. */
function time(fn: () => void, targetSeconds: number, rounds: number): { best: number; median: number } {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    const s = (performance.now() - t0) / 1000;
    if (s >= targetSeconds / rounds / 4 || reps > 1e6) break;
    reps *= 2;
  }
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    per.push((performance.now() - t0) / 1000 / reps);
  }
  per.sort((a, b) => a - b);
  return { best: per[0]!, median: per[Math.floor(per.length / 2)]! };
}

const SHAPES: [string, number, number, number][] = [
  ["GPT-2 attn proj: 64×768 · (768×768)ᵀ", 64, 768, 768],
  ["GPT-2 qkv: 64×768 · (2304×768)ᵀ", 64, 768, 2304],
  ["GPT-2 MLP up: 64×768 · (3072×768)ᵀ", 64, 768, 3072],
  ["GPT-2 MLP down: 64×3072 · (768×3072)ᵀ", 64, 3072, 768],
  ["768×768 by 768×64: 768×768 · (64×768)ᵀ", 768, 768, 64],
  ["MNIST layer 1, batch 1: 1×784 · (96×784)ᵀ", 1, 784, 96],
  ["MNIST layer 2, batch 1: 1×96 · (10×96)ᵀ", 1, 96, 10],
  ["MNIST layer 1, batch 64: 64×784 · (96×784)ᵀ", 64, 784, 96],
];

log(kernelsLogLine());
if (!native.loaded) log(`no native kernels in this run: ${native.reason}`);
log(`machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores; node ${process.version}`);
const rounds = quick ? 3 : 7;
const target = quick ? 0.6 : 2;
const gemm: { shape: string; M: number; K: number; N: number; gmacs: Record<string, { best: number; median: number }> }[] = [];
for (const [label, M, K, N] of SHAPES) {
  const row: (typeof gemm)[number] = { shape: label, M, K, N, gmacs: {} };
  let ref: Uint8Array | undefined;
  for (const b of builds) {
    b.setup?.();
    const r = gemmRunner(b, M, K, N, 7);
    r.run();
    const out = r.output();
    if (ref && !Buffer.from(ref).equals(Buffer.from(out))) throw new Error(`${label}: ${b.name} output differs from ${builds[0]!.name}`);
    ref ??= out;
    const t = time(r.run, target, rounds);
    const macs = M * K * N;
    row.gmacs[b.name] = { best: macs / t.best / 1e9, median: macs / t.median / 1e9 };
  }
  gemm.push(row);
  log(`${label}: ${builds.map((b) => `${b.name} ${row.gmacs[b.name]!.best.toFixed(2)} GMAC/s (median ${row.gmacs[b.name]!.median.toFixed(2)})`).join(", ")}`);
}

const model = decodeModelFile(new Uint8Array(readFileSync(join(repo, "keeper/models/mnist/model.oao"))));
const digits = loadMnist().test.slice(0, quick ? 200 : 1000).map((s) => quantizeInput(model, Array.from(s.pixels)));
const mnist: Record<string, { bestUs: number; medianUs: number }> = {};
let refOut: string | undefined;
const nativeDefault = native.loaded ? { isa: native.best, threads: native.threads } : undefined;
/** The builds runnable here; native at 1 and 2 threads (its best instruction set). */
interface PathRun {
  name: string;
  path: KernelPath;
  setup?: () => void;
}
const pathRuns = KERNEL_PATHS.filter((p) => kernelPathUnavailable(p) === undefined).flatMap((path): PathRun[] =>
  path === "native" && nativeDefault
    ? [1, 2].map((threads) => ({ name: `native ${nativeDefault.isa} ×${threads}`, path, setup: () => void configureNativeKernels({ isa: nativeDefault.isa, threads }) }))
    : [{ name: path, path }],
);
for (const { name, path, setup } of pathRuns) {
  setup?.();
  const exec = new Executor(model, undefined, { kernels: path });
  const outs = digits.map((x) => Array.from(exec.infer(x).data).join(",")).join(";");
  if (refOut !== undefined && outs !== refOut) throw new Error(`MNIST: ${name} outputs differ`);
  refOut ??= outs;
  let i = 0;
  const t = time(() => exec.infer(digits[i++ % digits.length]!), target, rounds);
  mnist[name] = { bestUs: t.best * 1e6, medianUs: t.median * 1e6 };
  log(`MNIST batch 1 (Executor.infer), ${name}: ${(t.best * 1e6).toFixed(1)} µs best, ${(t.median * 1e6).toFixed(1)} µs median`);
}

/** Milliseconds per op (summed over the model's nodes) for one forward pass on a fresh runtime. */
function opProfile(m: Model, input: Tensor, kernels: KernelPath): Record<string, number> {
  const rt = new KernelRuntime({ kernels });
  const weights = m.weights.map((w) => rt.writeTensor(w));
  const descs = m.nodeBytes.map((b) => ({ ptr: rt.writeBytes(b), len: b.length }));
  const inMem = rt.writeTensor(input);
  const outs: MemTensor[] = [];
  const ms: Record<string, number> = {};
  m.nodes.forEach((node, i) => {
    const ins = node.inputs.map((ref) => {
      const { kind, index } = decodeSlot(ref);
      return kind === SlotKind.input ? inMem : kind === SlotKind.weight ? weights[index]! : outs[index - 1]!;
    });
    const out = rt.allocTensor({ dtype: node.outDtype, shape: node.outShape });
    const t0 = performance.now();
    rt.runNode(descs[i]!.ptr, descs[i]!.len, ins, out);
    const op = OP_NAMES[node.op] ?? String(node.op);
    ms[op] = (ms[op] ?? 0) + performance.now() - t0;
    outs.push(out);
  });
  return ms;
}

let gptResult: Record<string, unknown> | undefined;
if (args.includes("--gpt")) {
  const next = args[args.indexOf("--gpt") + 1];
  const dir = resolve(next && !next.startsWith("--") ? next : join(repo, ".oao", "models", "gpt2-small"));
  const buf = readFileSync(join(dir, "model.oao"));
  const gpt = decodeModelFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  const T = gpt.input.shape[0]!;
  const prompt = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % 50257));
  const per: Record<string, unknown> = {};
  let root: string | undefined;
  for (const { name, path, setup } of pathRuns) {
    setup?.();
    const exec = new Executor(gpt, undefined, { kernels: path });
    const r = toHex(exec.run(prompt).trace.traceRoot);
    if (root !== undefined && r !== root) throw new Error(`GPT: the ${name} traceRoot differs`);
    root ??= r;
    const n = path === "scalar" ? (quick ? 1 : 3) : quick ? 3 : 7;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      exec.infer(prompt);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const profile = opProfile(gpt, prompt, path);
    per[name] = { bestMs: times[0], medianMs: times[Math.floor(times.length / 2)], runs: times.length, profileMs: profile };
    log(`GPT (${gpt.nodes.length} nodes, ${T} tokens), ${name}: infer best ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms of ${times.length}; per op: ${Object.entries(profile).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")} ms`);
  }
  log(`GPT traceRoot (the same on every build): ${root}`);
  gptResult = { model: gpt.metadata.name, traceRoot: root, ...per };
}
const result = { date: new Date().toISOString(), machine: cpus()[0]?.model, cores: cpus().length, node: process.version, gemm, mnist, gpt: gptResult };
if (json) console.log(JSON.stringify(result));

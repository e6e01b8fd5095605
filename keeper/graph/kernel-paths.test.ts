import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelRuntime } from "./kernels.ts";
import { Executor } from "./executor.ts";
import { encodeNodeDesc, Op, OP_NAMES } from "./ops.ts";
import { refNode } from "./reference.ts";
import { ALL_OPS, randomNodeCase, seededRandom, vectorKernelCases, type NodeCase } from "./fixtures.ts";
import { DType, elementCount, int32Tensor, type Tensor } from "./tensor.ts";
import {
  checkKernelPath,
  instantiateKernels,
  KERNEL_PATHS,
  kernelPathLabel,
  kernelPathUnavailable,
  kernelSelection,
  kernelsLogLine,
  parseKernelPath,
  simdSupported,
  type KernelExports,
  type KernelPath,
} from "./wasm.ts";
import { configureNativeKernels, NATIVE_ISAS, nativeKernels, nativeRequantCheck, type NativeIsa } from "./native.ts";
import { buildGpt } from "./gpt/gpt.ts";
import { buildModel } from "./model.ts";
import { toHex } from "./hash.ts";
import { startTsWorker } from "../src/service/ts-worker.ts";
import { inputSlot, weightSlot } from "./ops.ts";

function runKernel(rt: KernelRuntime, desc: Uint8Array, inputs: Tensor[]): Tensor {
  const mark = rt.mark();
  try {
    const d = rt.writeBytes(desc);
    const ins = inputs.map((t) => rt.writeTensor(t));
    const spec = rt.validateNode(d, desc.length, inputs);
    const out = rt.allocTensor(spec);
    rt.runNode(d, desc.length, ins, out);
    return rt.readTensor(out);
  } finally {
    rt.release(mark);
  }
}

const bytes = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const WASM_PATHS: readonly KernelPath[] = ["scalar", "simd"];

describe.skipIf(!simdSupported())("the SIMD and scalar wasm kernels are bit-exact", () => {
  const rts = Object.fromEntries(WASM_PATHS.map((p) => [p, new KernelRuntime({ kernels: p })])) as Record<KernelPath, KernelRuntime>;

  /** Runs a case on both builds; the outputs must be the same bytes (and the reference's, when small). */
  function check(c: NodeCase, label: string, withReference: boolean): void {
    const desc = encodeNodeDesc(c.node);
    const simd = runKernel(rts.simd, desc, c.inputs);
    const scalar = runKernel(rts.scalar, desc, c.inputs);
    expect(simd.shape, label).toEqual(scalar.shape);
    expect(simd.dtype, label).toBe(scalar.dtype);
    expect(Buffer.from(bytes(simd)).equals(Buffer.from(bytes(scalar))), `${label}: simd and scalar outputs differ`).toBe(true);
    if (withReference) expect(Array.from(scalar.data), `${label}: vs the TS reference`).toEqual(Array.from(refNode(c.node, c.inputs).data));
  }

  it("the runtimes run the build asked for", () => {
    expect(rts.simd.kernels).toBe("simd");
    expect(rts.scalar.kernels).toBe("scalar");
    expect(KERNEL_PATHS).toContain(kernelSelection().path);
    expect(parseKernelPath("SIMD")).toBe("simd");
    expect(parseKernelPath("auto")).toBeUndefined();
  });

  for (const op of ALL_OPS) {
    it(`${OP_NAMES[op]}: 100 random cases, the same bytes on both builds and the reference`, () => {
      const rand = seededRandom(3000 + op);
      for (let i = 0; i < 100; i++) check(randomNodeCase(op, rand), `${OP_NAMES[op]} case ${i}`, true);
    });
  }

  it("Gemm, MatMul, Conv2D at odd and large shapes and extreme values: the same bytes on both builds", () => {
    for (const seed of [1, 2, 3]) {
      const cases = vectorKernelCases(seededRandom(seed));
      cases.forEach((c, i) => check(c, `seed ${seed} case ${i}: ${c.name}`, elementCount(c.node.outShape) * (c.inputs[0]!.data.length) < 2_000_000));
    }
  });

  it("an Executor forced to either build gives the same trace", () => {
    const c = vectorKernelCases(seededRandom(9)).find((x) => x.name.includes("large"))!;
    const model = buildModel({
      input: { dtype: c.inputs[0]!.dtype, shape: c.inputs[0]!.shape },
      weights: c.inputs.slice(1),
      nodes: [{ ...c.node, inputs: [inputSlot(), ...c.inputs.slice(1).map((_, j) => weightSlot(j))] }],
      metadata: { name: "case", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
    });
    const roots = WASM_PATHS.map((p) => {
      const exec = new Executor(model, undefined, { kernels: p });
      expect(exec.kernels).toBe(p);
      return exec.run(c.inputs[0]!).trace.traceRoot;
    });
    expect(roots[0]).toEqual(roots[1]);
    expect(() => new Executor(model, new KernelRuntime({ kernels: "scalar" }), { kernels: "simd" })).toThrow(/runs the scalar kernels/);
  });
});

const native = nativeKernels();

describe("the native kernels (keeper/native/)", () => {
  // Loud when the addon is missing: the skip and its reason are a test of their own, and
  // OAO_REQUIRE_NATIVE=1 (a machine with a C toolchain) turns the skip into a failure.
  it.runIf(!native.loaded)(`NATIVE KERNELS NOT TESTED: ${native.loaded ? "" : native.reason}`, () => {
    const reason = native.loaded ? "" : native.reason;
    console.warn(`kernel-paths.test.ts: the native kernel tests are skipped: ${reason}`);
    expect(process.env.OAO_REQUIRE_NATIVE ?? "", `OAO_REQUIRE_NATIVE is set but ${reason}`).not.toBe("1");
    expect(() => new KernelRuntime({ kernels: "native" })).toThrow(/npm run build:native/);
    expect(() => checkKernelPath("native", "OAO_KERNELS=native")).toThrow(/OAO_KERNELS=native asks for the native kernels but .*npm run build:native/);
  });
});

describe.skipIf(!native.loaded)("the native kernels are bit-exact with the wasm builds", () => {
  const wasm = { scalar: new KernelRuntime({ kernels: "scalar" }), simd: simdSupported() ? new KernelRuntime({ kernels: "simd" }) : undefined };
  let rt: KernelRuntime; // built in beforeAll: a skipped describe's body still runs (to collect its tests)
  beforeAll(() => {
    rt = new KernelRuntime({ kernels: "native" });
  });
  const status = native.loaded ? native : undefined;
  const isas = NATIVE_ISAS.slice(NATIVE_ISAS.indexOf(status?.best ?? "c"));
  const initial = status ? { isa: status.isa, threads: status.threads } : undefined;
  afterAll(() => {
    if (initial) configureNativeKernels(initial);
  });

  function check(c: NodeCase, label: string, withReference: boolean): void {
    const desc = encodeNodeDesc(c.node);
    const got = runKernel(rt, desc, c.inputs);
    const scalar = runKernel(wasm.scalar, desc, c.inputs);
    expect(got.shape, label).toEqual(scalar.shape);
    expect(got.dtype, label).toBe(scalar.dtype);
    expect(Buffer.from(bytes(got)).equals(Buffer.from(bytes(scalar))), `${label}: native and wasm scalar outputs differ`).toBe(true);
    if (wasm.simd) expect(Buffer.from(bytes(got)).equals(Buffer.from(bytes(runKernel(wasm.simd, desc, c.inputs)))), `${label}: native and wasm simd differ`).toBe(true);
    if (withReference) expect(Array.from(got.data), `${label}: vs the TS reference`).toEqual(Array.from(refNode(c.node, c.inputs).data));
  }

  it("runs native, says how in the log line, and takes OAO_KERNELS=native", () => {
    expect(rt.kernels).toBe("native");
    expect(KERNEL_PATHS).toContain("native");
    expect(parseKernelPath("Native")).toBe("native");
    expect(() => parseKernelPath("avx")).toThrow(/expected native, simd, scalar or auto/);
    expect(kernelPathUnavailable("native")).toBeUndefined();
    expect(kernelPathLabel("native")).toMatch(/^native (avx512-vnni|avx2|c), \d+ threads?$/);
    if (!process.env.OAO_KERNELS) expect(kernelSelection()).toEqual({ path: "native", reason: "addon built at install" });
    expect(kernelsLogLine()).toMatch(/^graph kernels: /);
    expect(rt.rq(123456789, 2 ** 31 - 1, 31)).toBe(wasm.scalar.rq(123456789, 2 ** 31 - 1, 31));
    expect(() => configureNativeKernels({ threads: 0 })).toThrow(/1\.\.16/);
    expect(() => configureNativeKernels({ isa: "sse" as NativeIsa })).toThrow(/avx512-vnni, avx2 or c/);
  });

  it("the AVX-512 GEMM's vector requantization equals oao_rq + zero point + clamp on 1.6 million values", () => {
    const bad = nativeRequantCheck(100_000, 12345);
    if (status?.best === "avx512-vnni") expect(bad).toBe(0);
    else expect(bad).toBe(-1);
  });

  it("the native memory grows like a wasm memory: the old buffer detached, the contents kept", () => {
    const r = new KernelRuntime({ kernels: "native" });
    const ptr = r.writeBytes(new Uint8Array([1, 2, 3]));
    const old = r.bytes(0, 1).buffer;
    const big = r.alloc(200 << 20); // past the first mapping (1 MiB): the contents move
    expect(old.byteLength).toBe(0);
    expect(r.memoryBytes).toBeGreaterThanOrEqual(big + (200 << 20));
    r.bytes(big + (200 << 20) - 1, 1)[0] = 9; // the last byte allocated is there
    expect(Array.from(r.bytes(ptr, 3))).toEqual([1, 2, 3]);
    expect(() => r.runNode(r.memoryBytes + 16, 4, [], { ptr: 0, dtype: 1, shape: [1] })).toThrow(/outside the kernels' memory/);
  });

  for (const op of ALL_OPS) {
    it(`${OP_NAMES[op]}: 100 random cases, the same bytes as the wasm builds and the reference`, () => {
      const rand = seededRandom(3000 + op);
      for (let i = 0; i < 100; i++) check(randomNodeCase(op, rand), `${OP_NAMES[op]} case ${i}`, true);
    });
  }

  /** GPT-2-small's Gemm shapes, an int32 output, odd column and row counts: all at least 2^23 multiply-accumulates, so split over the threads. */
  function largeGemmCases(rand: () => number): NodeCase[] {
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const i8 = (shape: number[]) => ({ dtype: DType.int8, shape, data: Int8Array.from({ length: elementCount(shape) }, () => int(-128, 127)) }) as Tensor;
    const shapes: [number, number, number, DType][] = [[64, 768, 2304, DType.int8], [64, 768, 3072, DType.int8], [64, 3072, 768, DType.int8], [67, 1000, 131, DType.int8], [9, 1000, 1001, DType.int8], [64, 768, 500, DType.int32]];
    // the wide form (int32 x and w): the scalar loop split over row ranges, 67·192·768 ≈ 2^23.3 multiply-accumulates
    const i32 = (shape: number[], mag: number) => ({ dtype: DType.int32, shape, data: Int32Array.from({ length: elementCount(shape) }, () => int(-mag, mag)) }) as Tensor;
    const wideIn: NodeCase = {
      name: "Gemm 67x192·768x192 int32 x and w",
      inputs: [i32([67, 192], 8191), i32([768, 192], 2047), i32([768], 1 << 20)],
      node: { op: Op.Gemm, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int32, outShape: [67, 768], attrs: [0, 0, int(1 << 20, 2 ** 31 - 1), int(20, 40), 0, -32767, 32767] },
    };
    return [wideIn, ...shapes.map(([M, K, N, outDtype]) => {
      const inputs = [i8([M, K]), i8([N, K]), { dtype: DType.int32, shape: [N], data: Int32Array.from({ length: N }, () => int(-(2 ** 31), 2 ** 31 - 1)) } as Tensor];
      const wide = outDtype === DType.int32;
      return {
        name: `Gemm ${M}x${K}·${N}x${K}${wide ? " int32 out" : ""}`,
        inputs,
        node: { op: Op.Gemm, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype, outShape: [M, N], attrs: [int(-128, 127), int(-128, 127), int(1 << 20, 2 ** 31 - 1), int(20, 40), wide ? int(-5000, 5000) : int(-128, 127), wide ? -(2 ** 31) : -128, wide ? 2 ** 31 - 1 : 127] },
      };
    })];
  }

  for (const isa of isas) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread${threads === 1 ? "" : "s"}: Gemm, MatMul and Conv2D random cases, odd and large shapes, extreme values, GPT-2 shapes`, () => {
        configureNativeKernels({ isa, threads });
        for (const op of [Op.Gemm, Op.MatMul, Op.Conv2D]) {
          const rand = seededRandom(5000 + op);
          for (let i = 0; i < 100; i++) check(randomNodeCase(op, rand), `${isa}/${threads} ${OP_NAMES[op]} case ${i}`, true);
        }
        for (const seed of [1, 2]) {
          vectorKernelCases(seededRandom(seed)).forEach((c, i) => check(c, `${isa}/${threads} seed ${seed} case ${i}: ${c.name}`, elementCount(c.node.outShape) * c.inputs[0]!.data.length < 2_000_000));
        }
        largeGemmCases(seededRandom(11)).forEach((c) => check(c, `${isa}/${threads} ${c.name}`, false));
      });
    }
  }

  /** randomNodeCase's Add and LayerNorm (every form: int8/int32 operands and outputs) at 70 rows: at least 2^14 output elements, so split over the threads. */
  function largeElementwiseCases(rand: () => number): NodeCase[] {
    const grow = (t: Tensor, shape: number[]): Tensor => {
      const n = elementCount(shape);
      const data = t.dtype === DType.int8 ? new Int8Array(n) : new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = t.data[(i * 7919) % t.data.length]! ^ (t.dtype === DType.int8 ? 0 : (i * 2654435761) & 0x3ffff);
      return { dtype: t.dtype, shape, data } as Tensor;
    };
    const cases: NodeCase[] = [];
    for (let i = 0; cases.length < 24 && i < 400; i++) {
      const add = randomNodeCase(Op.Add, rand);
      const shape = [70, 301];
      cases.push({ name: `${add.name} [70,301]`, inputs: add.inputs.map((t) => grow(t, shape)), node: { ...add.node, outShape: shape } });
      const ln = randomNodeCase(Op.LayerNorm, rand);
      const D = ln.inputs[0]!.shape[ln.inputs[0]!.shape.length - 1]!;
      if (D * 70 < 16384) continue;
      const lnShape = [70, D];
      cases.push({ name: `LayerNorm [70,${D}]`, inputs: [grow(ln.inputs[0]!, lnShape), ...ln.inputs.slice(1)], node: { ...ln.node, outShape: lnShape } });
    }
    return cases;
  }

  it("Add and LayerNorm split over 2 threads, at each instruction set: the same bytes as one thread and the wasm builds", () => {
    const cases = largeElementwiseCases(seededRandom(21));
    expect(cases.some((c) => c.node.op === Op.LayerNorm) && cases.some((c) => c.inputs.some((t) => t.dtype === DType.int32))).toBe(true);
    for (const isa of isas) {
      for (const threads of [2, 1]) {
        configureNativeKernels({ isa, threads });
        cases.forEach((c, i) => check(c, `${isa}/${threads} case ${i}: ${c.name}`, false));
        // the random (small) Add cases too: the vector Add's masked tails
        const rand = seededRandom(7000 + threads);
        for (let i = 0; i < 100; i++) check(randomNodeCase(Op.Add, rand), `${isa}/${threads} small Add ${i}`, true);
      }
    }
  });

  /** randomNodeCase's Lut, CausalSoftmax and MatMul (both right-operand layouts) at sizes the native addon splits over the threads: Lut and CausalSoftmax from 2^14 elements (the softmax by whole matrices), MatMul by batch from 2^20 MACs when each batch is below 2^23. */
  function largeSplitCases(rand: () => number): NodeCase[] {
    /** Random values of `like`'s dtype (a wide form's int32: 14-bit levels and beyond). */
    const fill = (shape: number[], like: Tensor): Tensor =>
      (like.dtype === DType.int32
        ? { dtype: DType.int32, shape, data: Int32Array.from({ length: elementCount(shape) }, () => Math.floor(rand() * 40000) - 20000) }
        : { dtype: DType.int8, shape, data: Int8Array.from({ length: elementCount(shape) }, () => Math.floor(rand() * 256) - 128) }) as Tensor;
    const cases: NodeCase[] = [];
    for (let i = 0; i < 4; i++) {
      const lut = randomNodeCase(Op.Lut, rand);
      const shape = [70, 301 + i];
      cases.push({ name: `${lut.name} [70,${301 + i}]`, inputs: [fill(shape, lut.inputs[0]!)], node: { ...lut.node, outShape: shape } });
      const sm = randomNodeCase(Op.CausalSoftmax, rand);
      const smShape = [12 + i, 37 + i, 40 + i]; // R < C: the mask's offset C - R
      cases.push({ name: `${sm.name} [${smShape}]`, inputs: [fill(smShape, sm.inputs[0]!)], node: { ...sm.node, outShape: smShape } });
      const mm = randomNodeCase(Op.MatMul, rand);
      const tb = i % 2;
      const [B, M, K, N] = [12 - i, 64 + i, 64 - i, 64 + 3 * i];
      const attrs = [...mm.node.attrs.slice(0, 7), tb];
      cases.push({ name: `${mm.name} [${B},${M},${K}]·${tb ? `[${B},${N},${K}]` : `[${B},${K},${N}]`}`, inputs: [fill([B, M, K], mm.inputs[0]!), fill(tb ? [B, N, K] : [B, K, N], mm.inputs[0]!)], node: { ...mm.node, outShape: [B, M, N], attrs } });
    }
    return cases;
  }

  it("Lut, CausalSoftmax and batched MatMul split over 2 threads, at each instruction set: the same bytes as one thread, the wasm builds and the reference", () => {
    const cases = largeSplitCases(seededRandom(31));
    // the wide forms among them (int32 Lut and MatMul), split over the threads as the int8 ones
    expect(cases.some((c) => c.node.op === Op.Lut && c.inputs[0]!.dtype === DType.int32) && cases.some((c) => c.node.op === Op.MatMul && c.inputs[0]!.dtype === DType.int32)).toBe(true);
    for (const isa of isas) {
      for (const threads of [2, 1]) {
        configureNativeKernels({ isa, threads });
        cases.forEach((c, i) => check(c, `${isa}/${threads} case ${i}: ${c.name}`, true));
      }
    }
  });

  it("a whole model (a GPT-2-shaped decoder, 64 tokens, width 256) through Executor: the same trace and output on native (each instruction set, 1 and 2 threads) and wasm", () => {
    const model = buildModel(buildGpt({ vocab: 256, positions: 64, width: 256, heads: 4, layers: 2, seqLen: 64, seed: 5, fullSequence: true }));
    const prompt = int32Tensor([64], Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256));
    const wasmPaths = KERNEL_PATHS.filter((p) => p !== "native" && kernelPathUnavailable(p) === undefined);
    const ref = new Executor(model, undefined, { kernels: wasmPaths[wasmPaths.length - 1] }).run(prompt);
    for (const p of wasmPaths) expect(new Executor(model, undefined, { kernels: p }).run(prompt).trace.traceRoot, p).toEqual(ref.trace.traceRoot);
    for (const isa of isas) {
      for (const threads of [1, 2]) {
        configureNativeKernels({ isa, threads });
        const exec = new Executor(model, undefined, { kernels: "native" });
        expect(exec.kernels).toBe("native");
        const got = exec.run(prompt);
        expect(got.trace.traceRoot, `${isa}/${threads}: traceRoot`).toEqual(ref.trace.traceRoot);
        expect(Buffer.from(bytes(got.output)).equals(Buffer.from(bytes(ref.output))), `${isa}/${threads}: output bytes`).toBe(true);
      }
    }
  });

  it("the thread pool under callers on three JS threads at once (compute workers): every run's trace equals wasm's", async () => {
    // The pool's helpers are shared by the process; loops published by different callers overlap. Each
    // caller must still get its own bytes, whichever helper ran which chunk, at 2 and at 3 threads.
    const config = { vocab: 256, positions: 64, width: 256, heads: 4, layers: 2, seqLen: 64, seed: 6, fullSequence: true };
    const model = buildModel(buildGpt(config));
    const prompt = int32Tensor([64], Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256));
    const want = toHex(new Executor(model, undefined, { kernels: "scalar" }).run(prompt).trace.traceRoot);
    for (const threads of [2, 3]) {
      configureNativeKernels({ isa: isas[0], threads });
      const workers = [0, 1].map(() => startTsWorker(new URL("./native-pool-worker.ts", import.meta.url), { workerData: { config, runs: 4 } }, { tsx: true }));
      const posted = workers.map((w) => new Promise<string[]>((resolve, reject) => (w.once("message", resolve), w.once("error", reject))));
      const exec = new Executor(model, undefined, { kernels: "native" });
      const mine: string[] = [];
      for (let r = 0; r < 6; r++) mine.push(toHex(exec.run(prompt).trace.traceRoot));
      const theirs = (await Promise.all(posted)).flat();
      await Promise.all(workers.map((w) => w.terminate()));
      expect(theirs.length, `${threads} threads: runs posted by the workers`).toBe(8);
      for (const [i, root] of [...mine, ...theirs].entries()) expect(root, `${threads} threads, run ${i}`).toBe(want);
    }
  }, 120_000);

  it("the hasher on native memory gives the wasm hasher's keccak256 (one-shot and streamed)", () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131) & 255);
    const wasmEx = instantiateKernels("scalar"), nativeEx = instantiateKernels("native");
    const hashOn = (ex: KernelExports, streamed: boolean): string => {
      const base = Math.ceil(ex.__heap_base.value / 16) * 16;
      new Uint8Array(ex.memory.buffer).set(data, base + 32);
      if (streamed) {
        const blocks = Math.floor(data.length / 136);
        ex.oao_keccak_stream_begin();
        ex.oao_keccak_stream_update(base + 32, blocks);
        ex.oao_keccak_stream_end(base + 32 + 136 * blocks, data.length - 136 * blocks, base);
      } else ex.oao_keccak256(base + 32, data.length, base);
      return Buffer.from(new Uint8Array(ex.memory.buffer, base, 32)).toString("hex");
    };
    expect(hashOn(nativeEx, false)).toBe(hashOn(wasmEx, false));
    expect(hashOn(nativeEx, true)).toBe(hashOn(wasmEx, false));
  });
});

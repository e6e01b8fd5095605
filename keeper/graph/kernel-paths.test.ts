import { describe, expect, it } from "vitest";
import { KernelRuntime } from "./kernels.ts";
import { Executor } from "./executor.ts";
import { encodeNodeDesc, OP_NAMES } from "./ops.ts";
import { refNode } from "./reference.ts";
import { ALL_OPS, randomNodeCase, seededRandom, vectorKernelCases, type NodeCase } from "./fixtures.ts";
import { elementCount, type Tensor } from "./tensor.ts";
import { KERNEL_PATHS, kernelSelection, parseKernelPath, simdSupported, type KernelPath } from "./wasm.ts";
import { buildModel } from "./model.ts";
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

describe.skipIf(!simdSupported())("the SIMD and scalar wasm kernels are bit-exact", () => {
  const rts = Object.fromEntries(KERNEL_PATHS.map((p) => [p, new KernelRuntime({ kernels: p })])) as Record<KernelPath, KernelRuntime>;

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
    expect(() => parseKernelPath("avx")).toThrow(/expected scalar, simd or auto/);
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
    const roots = KERNEL_PATHS.map((p) => {
      const exec = new Executor(model, undefined, { kernels: p });
      expect(exec.kernels).toBe(p);
      return exec.run(c.inputs[0]!).trace.traceRoot;
    });
    expect(roots[0]).toEqual(roots[1]);
    expect(() => new Executor(model, new KernelRuntime({ kernels: "scalar" }), { kernels: "simd" })).toThrow(/runs the scalar kernels/);
  });
});

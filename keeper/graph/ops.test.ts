import { describe, expect, it } from "vitest";
import { KernelRuntime } from "./kernels.ts";
import { encodeNodeDesc, Op, OP_NAMES } from "./ops.ts";
import { refNode, refRq } from "./reference.ts";
import { ALL_OPS, randomNodeCase, seededRandom } from "./fixtures.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "./tensor.ts";

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

describe("quantized kernels (wasm) vs the TS reference", () => {
  const rt = new KernelRuntime();

  it("rq rounds half away from zero and truncates to 32 bits", () => {
    const rand = seededRandom(7);
    const cases: [number, number, number][] = [
      [3, 1, 1], [-3, 1, 1], [5, 1, 2], [-5, 1, 2], [6, 1, 2], [-6, 1, 2], [0, 2 ** 31 - 1, 62],
      [-(2 ** 31), 2 ** 31 - 1, 1], [2 ** 31 - 1, 2 ** 31 - 1, 1], [-(2 ** 31), 2 ** 31 - 1, 62],
    ];
    for (let i = 0; i < 2000; i++) cases.push([Math.floor(rand() * 2 ** 32) - 2 ** 31, Math.floor(rand() * 2 ** 31), 1 + Math.floor(rand() * 62)]);
    for (const [v, m, s] of cases) expect(rt.rq(v, m, s), `rq(${v}, ${m}, ${s})`).toBe(refRq(v, m, s));
    expect(refRq(3, 1, 1)).toBe(2); // 1.5 -> 2
    expect(refRq(-3, 1, 1)).toBe(-2); // -1.5 -> -2
    expect(refRq(5, 1, 2)).toBe(1); // 1.25 -> 1
  });

  for (const op of ALL_OPS) {
    it(`${OP_NAMES[op]}: 60 random cases bit-equal`, () => {
      const rand = seededRandom(1000 + op);
      for (let i = 0; i < 60; i++) {
        const c = randomNodeCase(op, rand);
        const got = runKernel(rt, encodeNodeDesc(c.node), c.inputs);
        const want = refNode(c.node, c.inputs);
        expect(got.shape).toEqual(want.shape);
        expect(got.dtype).toBe(want.dtype);
        expect(Array.from(got.data), `${c.name} case ${i}`).toEqual(Array.from(want.data));
      }
    });
  }

  it("rejects malformed nodes with a message naming the problem", () => {
    const x = int8Tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const w = int8Tensor([4, 5], new Int8Array(20));
    const gemm = (over: Partial<Parameters<typeof encodeNodeDesc>[0]>) =>
      encodeNodeDesc({ op: Op.Gemm, inputs: [0, 1 << 24], outDtype: DType.int8, outShape: [2, 4], attrs: [0, 0, 1 << 30, 31, 0, -128, 127], ...over });
    expect(() => runKernel(rt, gemm({}), [x, w])).toThrow(/wrong shape/);
    const w2 = int8Tensor([4, 3], new Int8Array(12));
    expect(runKernel(rt, gemm({}), [x, w2]).shape).toEqual([2, 4]);
    expect(() => runKernel(rt, gemm({ outShape: [2, 5] }), [x, w2])).toThrow(/output shape/);
    expect(() => runKernel(rt, gemm({ attrs: [0, 0, 1 << 30, 0, 0, -128, 127] }), [x, w2])).toThrow(/out of range/);
    expect(() => runKernel(rt, gemm({ attrs: [0, 0, 1] }), [x, w2])).toThrow(/number of attributes/);
    expect(() => runKernel(rt, gemm({ op: 99 }), [x, w2])).toThrow(/unknown op/);
    expect(() => runKernel(rt, gemm({}).subarray(0, 12), [x, w2])).toThrow(/truncated/);
  });

  it("Gemm's wide form: int32 x and w with zero points 0 (§3.6), nothing else", () => {
    const x32 = int32Tensor([2, 3], [30000, -32767, 5, 1, 2, 3]);
    const w32 = int32Tensor([4, 3], [2047, -2047, 1, 0, 0, 0, 1, 1, 1, -1, 2, -3]);
    const gemm = (over: Partial<Parameters<typeof encodeNodeDesc>[0]>) =>
      encodeNodeDesc({ op: Op.Gemm, inputs: [0, 1 << 24], outDtype: DType.int32, outShape: [2, 4], attrs: [0, 0, 2 ** 30, 30, 0, -(2 ** 31), 2 ** 31 - 1], ...over });
    // row 0 · w: 30000·2047 + 32767·2047 + 5 = 128,484,054; 0; 30000 − 32767 + 5 = −2762; −30000 − 65534 − 15 = −95,549
    expect(Array.from(runKernel(rt, gemm({}), [x32, w32]).data)).toEqual([128_484_054, 0, -2762, -95_549, 2047 - 4094 + 3, 0, 6, -1 + 4 - 9]);
    expect(() => runKernel(rt, gemm({}), [x32, int8Tensor([4, 3], new Int8Array(12))])).toThrow(/dtype/);
    expect(() => runKernel(rt, gemm({}), [int8Tensor([2, 3], new Int8Array(6)), w32])).toThrow(/dtype/);
    expect(() => runKernel(rt, gemm({ attrs: [1, 0, 2 ** 30, 30, 0, -(2 ** 31), 2 ** 31 - 1] }), [x32, w32])).toThrow(/out of range/);
    expect(() => runKernel(rt, gemm({ attrs: [0, -1, 2 ** 30, 30, 0, -(2 ** 31), 2 ** 31 - 1] }), [x32, w32])).toThrow(/out of range/);
    // the sum is modulo 2^32: (2^31 − 1)·2 wraps to −2
    const big = runKernel(rt, gemm({ outShape: [1, 1] }), [int32Tensor([1, 1], [2 ** 31 - 1]), int32Tensor([1, 1], [2])]);
    expect(Array.from(big.data)).toEqual([-2]);
  });
});

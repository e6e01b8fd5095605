/**
 * Hand-computed cases for the transformer operators of docs/protocol.md §3.6 (Gather, LayerNorm, Lut,
 * MatMul, CausalSoftmax, Transpose, Slice, ArgMax), run through the wasm kernels and the TS
 * reference; the random differential cases live in ops.test.ts.
 */
import { describe, expect, it } from "vitest";
import { KernelRuntime } from "./kernels.ts";
import { encodeNodeDesc, Op, type NodeDesc } from "./ops.ts";
import { refNode } from "./reference.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "./tensor.ts";

const rt = new KernelRuntime();

function run(node: Omit<NodeDesc, "inputs">, inputs: Tensor[]): number[] {
  const full: NodeDesc = { ...node, inputs: inputs.map((_, i) => (i === 0 ? 0 : (1 << 24) | (i - 1))) };
  const desc = encodeNodeDesc(full);
  const mark = rt.mark();
  try {
    const d = rt.writeBytes(desc);
    const ins = inputs.map((t) => rt.writeTensor(t));
    const out = rt.allocTensor(rt.validateNode(d, desc.length, inputs));
    rt.runNode(d, desc.length, ins, out);
    const got = Array.from(rt.readTensor(out).data);
    expect(Array.from(refNode(full, inputs).data)).toEqual(got);
    return got;
  } finally {
    rt.release(mark);
  }
}

describe("transformer operators, hand-computed", () => {
  it("Gather copies rows by id and gives a zero row for an id outside the table", () => {
    const table = int8Tensor([3, 2], [1, 2, 3, 4, 5, 6]);
    const ids = int32Tensor([4], [2, 0, 3, -1]);
    expect(run({ op: Op.Gather, outDtype: DType.int8, outShape: [4, 2], attrs: [] }, [table, ids])).toEqual([5, 6, 1, 2, 0, 0, 0, 0]);
  });

  it("LayerNorm normalizes each row with the integer mean, variance and inverse square root", () => {
    // c = 4x = [-12,-4,4,12], Σc² = 320, var = 80, sd = isqrt(81) = 9, t ≈ c·4096/9 = [-5461,-1820,1820,5461]
    // y = rq(t·1, 2^30, 37) = t/128 rounded: [-43,-14,14,43]
    const x = int8Tensor([1, 4], [-3, -1, 1, 3]);
    const attrs = [0, 0, 1, 2 ** 30, 37, 0, -128, 127];
    expect(run({ op: Op.LayerNorm, outDtype: DType.int8, outShape: [1, 4], attrs }, [x, int8Tensor([4], [1, 1, 1, 1]), int32Tensor([4], [0, 0, 0, 0])])).toEqual([-43, -14, 14, 43]);
    // a constant row has zero variance: output is the bias only (eps keeps sd >= 1)
    const flat = int8Tensor([1, 3], [7, 7, 7]);
    expect(run({ op: Op.LayerNorm, outDtype: DType.int8, outShape: [1, 3], attrs: [0, 0, 1, 2 ** 30, 30, 0, -128, 127] }, [flat, int8Tensor([3], [9, 9, 9]), int32Tensor([3], [5, -5, 0])])).toEqual([5, -5, 0]);
  });

  it("Lut maps each value through its 256-entry table", () => {
    const table = Array.from({ length: 256 }, (_, i) => Math.max(-128, Math.min(127, (i - 128) * 2)));
    expect(run({ op: Op.Lut, outDtype: DType.int8, outShape: [4], attrs: table }, [int8Tensor([4], [-128, -1, 3, 127])])).toEqual([-128, -2, 6, 127]);
  });

  it("MatMul multiplies per batch, with the right operand plain or transposed", () => {
    const a = int8Tensor([1, 2, 2], [1, 2, 3, 4]);
    const b = int8Tensor([1, 2, 2], [5, 6, 7, 8]);
    const attrs = (tb: number) => [0, 0, 2 ** 30, 30, 0, -128, 127, tb];
    // a·b = [[19,22],[43,50]]; a·bᵀ = [[17,23],[39,53]]
    expect(run({ op: Op.MatMul, outDtype: DType.int8, outShape: [1, 2, 2], attrs: attrs(0) }, [a, b])).toEqual([19, 22, 43, 50]);
    expect(run({ op: Op.MatMul, outDtype: DType.int8, outShape: [1, 2, 2], attrs: attrs(1) }, [a, b])).toEqual([17, 23, 39, 53]);
  });

  it("CausalSoftmax gives masked positions probability 0 (−128) and normalizes the rest", () => {
    const table = Array.from({ length: 256 }, (_, d) => (d === 0 ? 65536 : 0));
    // row 0 sees column 0 only: 255 − 128 = 127; row 1 sees both: 128.5 → 128 − 128 = 0
    expect(run({ op: Op.CausalSoftmax, outDtype: DType.int8, outShape: [2, 2], attrs: table }, [int8Tensor([2, 2], [0, 0, 0, 0])])).toEqual([127, -128, 0, 0]);
    // fewer query rows than keys (the queries are the last R positions): row 0 sees columns 0..1 of 3,
    // row 1 all three (256/3 + 1/2 → 85 − 128 = −43)
    expect(run({ op: Op.CausalSoftmax, outDtype: DType.int8, outShape: [2, 3], attrs: table }, [int8Tensor([2, 3], [0, 0, 0, 0, 0, 0])])).toEqual([0, 0, -128, -43, -43, -43]);
  });

  it("Transpose permutes axes and Slice takes a range along one axis (int8 and int32)", () => {
    expect(run({ op: Op.Transpose, outDtype: DType.int8, outShape: [3, 2], attrs: [1, 0] }, [int8Tensor([2, 3], [1, 2, 3, 4, 5, 6])])).toEqual([1, 4, 2, 5, 3, 6]);
    expect(run({ op: Op.Slice, outDtype: DType.int32, outShape: [2, 1], attrs: [1, 2] }, [int32Tensor([2, 3], [1, 2, -3, 4, 5, 2 ** 31 - 1])])).toEqual([-3, 2 ** 31 - 1]);
  });

  it("ArgMax returns the first maximum of each row as int32", () => {
    expect(run({ op: Op.ArgMax, outDtype: DType.int32, outShape: [2, 1], attrs: [] }, [int8Tensor([2, 4], [1, 5, 5, 2, -128, -128, -128, -128])])).toEqual([1, 0]);
  });

  it("rejects malformed transformer nodes with a message naming the problem", () => {
    const x = int8Tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => run({ op: Op.Transpose, outDtype: DType.int8, outShape: [3, 2], attrs: [0, 0] }, [x])).toThrow(/out of range/);
    expect(() => run({ op: Op.Slice, outDtype: DType.int8, outShape: [2, 2], attrs: [1, 2] }, [x])).toThrow(/output shape/);
    expect(() => run({ op: Op.Gather, outDtype: DType.int8, outShape: [2, 3, 3], attrs: [] }, [x, x])).toThrow(/wrong dtype/);
    expect(() => run({ op: Op.MatMul, outDtype: DType.int8, outShape: [1, 2, 2], attrs: [0, 0, 1, 1, 0, -128, 127, 0] }, [int8Tensor([1, 2, 3], new Int8Array(6)), int8Tensor([1, 2, 2], new Int8Array(4))])).toThrow(/wrong shape/);
    expect(() => run({ op: Op.MatMul, outDtype: DType.int8, outShape: [1, 2, 2], attrs: [0, 0, 1, 1, 0, -128, 127, 2] }, [int8Tensor([1, 2, 2], new Int8Array(4)), int8Tensor([1, 2, 2], new Int8Array(4))])).toThrow(/out of range/);
    expect(() => run({ op: Op.CausalSoftmax, outDtype: DType.int8, outShape: [3, 2], attrs: new Array(256).fill(1) }, [int8Tensor([3, 2], new Int8Array(6))])).toThrow(/wrong shape/);
    expect(() => run({ op: Op.LayerNorm, outDtype: DType.int8, outShape: [2, 3], attrs: [0, 0, 0, 1, 1, 0, -128, 127] }, [x, int8Tensor([3], [1, 1, 1]), int32Tensor([3], [0, 0, 0])])).toThrow(/out of range/);
    expect(() => run({ op: Op.ArgMax, outDtype: DType.int8, outShape: [2, 1], attrs: [] }, [x])).toThrow(/output dtype/);
  });
});

/**
 * Hand-computed cases for the transformer operators of docs/protocol.md §3.6 (Gather, LayerNorm, Lut,
 * MatMul, CausalSoftmax, Transpose, Slice, ArgMax) and the text-generation ones (TokenWindow,
 * Position, ScatterRow, PrefixSoftmax, Emit), run through the wasm kernels and the TS reference; the
 * random differential cases live in ops.test.ts.
 */
import { describe, expect, it } from "vitest";
import { KernelRuntime } from "./kernels.ts";
import { encodeNodeDesc, Op, type NodeDesc } from "./ops.ts";
import { refNode } from "./reference.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "./tensor.ts";
import { seededRandom } from "./fixtures.ts";

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

describe("text-generation operators (17–21), hand-computed", () => {
  const oneHot: number[] = Array.from({ length: 256 }, (_, d) => (d === 0 ? 65536 : 0));
  const halving: number[] = Array.from({ length: 256 }, (_, d) => (d < 17 ? 65536 >> d : 0));
  const pos = (p: number) => int32Tensor([1], [p]);

  it("TokenWindow: the prompt as unsigned bytes, zero-padded to C, then L (L = 1, L < C, L = C)", () => {
    const tw = (C: number, bytes: number[]) => run({ op: Op.TokenWindow, outDtype: DType.int32, outShape: [C + 1], attrs: [C] }, [int8Tensor([bytes.length], bytes)]);
    expect(tw(4, [0x41, -1, 0])).toEqual([65, 255, 0, 0, 3]);
    expect(tw(3, [-128])).toEqual([128, 0, 0, 1]);
    expect(tw(3, [1, 2, 127])).toEqual([1, 2, 127, 3]);
    expect(tw(1, [7])).toEqual([7, 1]);
    expect(tw(32767, [5]).slice(0, 2)).toEqual([5, 0]);
  });

  it("TokenWindow: rejects L > C, C outside 1..32767 and a wrong output header", () => {
    const x = int8Tensor([4], [1, 2, 3, 4]);
    const tw = (over: Partial<NodeDesc>, input: Tensor = x) => run({ op: Op.TokenWindow, outDtype: DType.int32, outShape: [5], attrs: [4], ...over }, [input]);
    expect(tw({}).at(-1)).toBe(4);
    expect(() => tw({ outShape: [4], attrs: [3] })).toThrow(/wrong shape/);
    expect(() => tw({ outShape: [1], attrs: [0] })).toThrow(/out of range/);
    expect(() => tw({ outShape: [32769], attrs: [32768] })).toThrow(/out of range/);
    expect(() => tw({ outShape: [4] })).toThrow(/output shape/);
    expect(() => tw({ outShape: [1, 5] })).toThrow(/output shape/);
    expect(() => tw({ outDtype: DType.int8 })).toThrow(/output dtype/);
    expect(() => tw({ attrs: [] })).toThrow(/number of attributes/);
    expect(() => tw({}, int8Tensor([1, 4], [1, 2, 3, 4]))).toThrow(/wrong shape/);
    expect(() => tw({}, int32Tensor([4], [1, 2, 3, 4]))).toThrow(/wrong dtype/);
  });

  it("Position: clamp(w[N-1] + k, 0, N-2), exact for extreme values", () => {
    const w = int32Tensor([5], [9, 9, 9, 9, 3]); // C = 4, L = 3
    const at = (k: number, t: Tensor = w) => run({ op: Op.Position, outDtype: DType.int32, outShape: [1], attrs: [k] }, [t])[0];
    expect([at(-1), at(0), at(1), at(-3), at(-4), at(-5)]).toEqual([2, 3, 3, 0, 0, 0]);
    expect(at(2 ** 31 - 1, int32Tensor([2], [0, 2 ** 31 - 1]))).toBe(0); // N - 2 = 0
    expect(at(2 ** 31 - 1, int32Tensor([3], [0, 0, 2 ** 31 - 1]))).toBe(1); // 2^32 - 2 does not wrap
    expect(at(-(2 ** 31), int32Tensor([3], [0, 0, -(2 ** 31)]))).toBe(0); // -2^32 does not wrap
    expect(at(-(2 ** 31), int32Tensor([4], [0, 0, 0, 2 ** 31 - 1]))).toBe(0);
    expect(at(5, int32Tensor([9], [0, 0, 0, 0, 0, 0, 0, 0, -3]))).toBe(2);
    expect(() => at(0, int32Tensor([1], [0]))).toThrow(/wrong shape/);
    expect(() => at(0, int32Tensor([1, 3], [0, 0, 0]))).toThrow(/wrong shape/);
    expect(() => at(0, int8Tensor([3], [0, 0, 0]))).toThrow(/wrong dtype/);
    expect(() => run({ op: Op.Position, outDtype: DType.int32, outShape: [2], attrs: [0] }, [w])).toThrow(/output shape/);
    expect(() => run({ op: Op.Position, outDtype: DType.int32, outShape: [1], attrs: [] }, [w])).toThrow(/number of attributes/);
  });

  it("ScatterRow: writes the row at pos in every batch (int8 and int32); pos outside 0..R-1 leaves the cache unchanged", () => {
    const cache = int8Tensor([2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const row = int8Tensor([2, 1, 2], [-1, -2, -3, -4]);
    const sr = (p: number) => run({ op: Op.ScatterRow, outDtype: DType.int8, outShape: [2, 3, 2], attrs: [] }, [cache, row, pos(p)]);
    expect(sr(0)).toEqual([-1, -2, 3, 4, 5, 6, -3, -4, 9, 10, 11, 12]);
    expect(sr(1)).toEqual([1, 2, -1, -2, 5, 6, 7, 8, -3, -4, 11, 12]);
    expect(sr(2)).toEqual([1, 2, 3, 4, -1, -2, 7, 8, 9, 10, -3, -4]);
    for (const p of [3, -1, 2 ** 31 - 1, -(2 ** 31)]) expect(sr(p), `pos ${p}`).toEqual(Array.from(cache.data));
    const c32 = int32Tensor([1, 2, 2], [2 ** 31 - 1, -(2 ** 31), 5, 6]);
    const r32 = int32Tensor([1, 1, 2], [-7, 2 ** 31 - 1]);
    expect(run({ op: Op.ScatterRow, outDtype: DType.int32, outShape: [1, 2, 2], attrs: [] }, [c32, r32, pos(1)])).toEqual([2 ** 31 - 1, -(2 ** 31), -7, 2 ** 31 - 1]);
    expect(run({ op: Op.ScatterRow, outDtype: DType.int32, outShape: [1, 2, 2], attrs: [] }, [c32, r32, pos(2)])).toEqual([2 ** 31 - 1, -(2 ** 31), 5, 6]);
  });

  it("ScatterRow: rejects mismatched dtypes and shapes", () => {
    const cache = int8Tensor([2, 3, 2], new Int8Array(12));
    const sr = (ins: Tensor[], over: Partial<NodeDesc> = {}) => run({ op: Op.ScatterRow, outDtype: DType.int8, outShape: [2, 3, 2], attrs: [], ...over }, ins);
    const row = int8Tensor([2, 1, 2], new Int8Array(4));
    expect(sr([cache, row, pos(0)])).toHaveLength(12);
    expect(() => sr([cache, int32Tensor([2, 1, 2], new Int32Array(4)), pos(0)])).toThrow(/wrong dtype/);
    expect(() => sr([cache, row, int8Tensor([1], [0])])).toThrow(/wrong dtype/);
    expect(() => sr([cache, int8Tensor([2, 2, 2], new Int8Array(8)), pos(0)])).toThrow(/wrong shape/);
    expect(() => sr([cache, int8Tensor([1, 1, 2], new Int8Array(2)), pos(0)])).toThrow(/wrong shape/);
    expect(() => sr([cache, int8Tensor([2, 1, 3], new Int8Array(6)), pos(0)])).toThrow(/wrong shape/);
    expect(() => sr([cache, row, int32Tensor([2], [0, 0])])).toThrow(/wrong shape/);
    expect(() => sr([int8Tensor([6, 2], new Int8Array(12)), int8Tensor([1, 2], new Int8Array(2)), pos(0)], { outShape: [6, 2] })).toThrow(/wrong shape/);
    expect(() => sr([cache, row])).toThrow(/number of inputs/);
    expect(() => sr([cache, row, pos(0)], { attrs: [0] })).toThrow(/number of attributes/);
    expect(() => sr([cache, row, pos(0)], { outDtype: DType.int32 })).toThrow(/output dtype/);
    expect(() => sr([cache, row, pos(0)], { outShape: [2, 2, 3] })).toThrow(/output shape/);
  });

  it("PrefixSoftmax: softmax over columns 0..clamp(pos, 0, N-1) of every row, −128 after", () => {
    const ps = (x: Tensor, p: number, table = oneHot) => run({ op: Op.PrefixSoftmax, outDtype: DType.int8, outShape: x.shape, attrs: table }, [x, pos(p)]);
    const zeros = int8Tensor([4], [0, 0, 0, 0]);
    expect(ps(zeros, 0)).toEqual([127, -128, -128, -128]); // 255 − 128
    expect(ps(zeros, 1)).toEqual([0, 0, -128, -128]); // 128.5 → 128
    expect(ps(zeros, 3)).toEqual([-64, -64, -64, -64]); // 64
    expect(ps(zeros, -5)).toEqual(ps(zeros, 0));
    expect(ps(zeros, 4)).toEqual(ps(zeros, 3));
    expect(ps(zeros, 2 ** 31 - 1)).toEqual(ps(zeros, 3));
    expect(ps(zeros, -(2 ** 31))).toEqual(ps(zeros, 0));
    // the max is over the prefix only: x[2] = 5 is past q = 1. mx = 2, e = [65536, 16384], S = 81920:
    // floor((65536·256 + 40960) / 81920) = 205 → 77, floor((16384·256 + 40960) / 81920) = 51 → −77
    expect(ps(int8Tensor([3], [2, 0, 5]), 1, halving)).toEqual([77, -77, -128]);
    // every row of a [2,2,3] tensor uses the same q
    expect(ps(int8Tensor([2, 2, 3], [2, 0, 5, 2, 0, -9, 2, 0, 127, 2, 0, -128]), 1, halving)).toEqual([77, -77, -128, 77, -77, -128, 77, -77, -128, 77, -77, -128]);
  });

  it("PrefixSoftmax at pos = r is CausalSoftmax's row r (q = 0, q = N − 1 and between); at q = N − 1 it is Softmax", () => {
    const rand = seededRandom(15);
    for (const N of [1, 2, 7, 40]) {
      const x = int8Tensor([N, N], Array.from({ length: N * N }, () => Math.floor(rand() * 256) - 128));
      const causal = run({ op: Op.CausalSoftmax, outDtype: DType.int8, outShape: [N, N], attrs: halving }, [x]);
      const plain = run({ op: Op.Softmax, outDtype: DType.int8, outShape: [N, N], attrs: halving }, [x]);
      for (const r of new Set([0, N - 1, Math.floor(N / 2)])) {
        const prefix = run({ op: Op.PrefixSoftmax, outDtype: DType.int8, outShape: [N, N], attrs: halving }, [x, pos(r)]);
        expect(prefix.slice(r * N, (r + 1) * N), `N ${N} row ${r}`).toEqual(causal.slice(r * N, (r + 1) * N));
        if (r === N - 1) expect(prefix, `N ${N}: Softmax`).toEqual(plain);
      }
    }
  });

  it("PrefixSoftmax: rejects a bad pos, a row longer than 32767 and a bad table", () => {
    const x = int8Tensor([2, 3], new Int8Array(6));
    const ps = (ins: Tensor[], over: Partial<NodeDesc> = {}) => run({ op: Op.PrefixSoftmax, outDtype: DType.int8, outShape: ins[0]!.shape, attrs: oneHot, ...over }, ins);
    expect(() => ps([x, int32Tensor([2], [0, 0])])).toThrow(/wrong shape/);
    expect(() => ps([x, int32Tensor([1, 1], [0])])).toThrow(/wrong shape/);
    expect(() => ps([x, int8Tensor([1], [0])])).toThrow(/wrong dtype/);
    // int32 scores are the wide form: its own table (shift, t_0..t_n) and an int32 output
    const x32 = int32Tensor([2, 3], [5, 5, 5, 0, 9, -9]);
    expect(() => ps([x32, pos(0)])).toThrow(/out of range/);
    expect(() => ps([x32, pos(0)], { attrs: [0, 1, 0] })).toThrow(/output dtype/);
    expect(() => ps([x32, pos(0)], { attrs: [0, 0, 0], outDtype: DType.int32 })).toThrow(/out of range/);
    expect(Array.from(ps([x32, pos(1)], { attrs: [0, 1, 0], outDtype: DType.int32 }))).toEqual([16384, 16384, 0, 0, 32768, 0]);
    expect(() => ps([int8Tensor([32768], new Int8Array(32768)), pos(0)])).toThrow(/wrong shape/);
    expect(ps([int8Tensor([32767], new Int8Array(32767)), pos(0)])[0]).toBe(127);
    expect(() => ps([x])).toThrow(/number of inputs/);
    expect(() => ps([x, pos(0)], { attrs: [0, ...oneHot.slice(1)] })).toThrow(/out of range/);
    expect(() => ps([x, pos(0)], { attrs: oneHot.slice(1) })).toThrow(/number of attributes/);
    expect(() => ps([x, pos(0)], { outShape: [3, 2] })).toThrow(/output shape/);
  });

  it("Emit: byte k is the token's low byte while L + k < C and no earlier byte is 0x00; the others are copied", () => {
    const emit = (k: number, T: number, tok: Tensor, window: number[], prev?: number[]) =>
      run({ op: Op.Emit, outDtype: DType.int8, outShape: [T], attrs: [k, T] }, [tok, int32Tensor([window.length], window), ...(prev ? [int8Tensor([T], prev)] : [])]);
    const t = (v: number) => int32Tensor([1], [v]);
    const win = (C: number, L: number) => [...new Array<number>(C).fill(0), L];
    expect(emit(0, 4, t(65), win(4, 2))).toEqual([65, 0, 0, 0]); // k = 0 without prev
    expect(emit(0, 4, t(65), win(4, 3))).toEqual([65, 0, 0, 0]); // L + 0 = 3 < 4
    expect(emit(0, 4, t(65), win(4, 4))).toEqual([0, 0, 0, 0]); // L = C: no room for any token
    expect(emit(0, 1, t(66), win(1, 1))).toEqual([0]);
    expect(emit(0, 2, t(66), win(3, 2), [9, 9])).toEqual([66, 9]); // k = 0 with prev: the others copied
    expect(emit(2, 4, t(33), win(8, 5), [72, 105, 0, 9])).toEqual([72, 105, 33, 9]); // 5 + 2 < 8
    expect(emit(2, 4, t(33), win(7, 5), [72, 105, 0, 9])).toEqual([72, 105, 0, 9]); // 5 + 2 = 7: past the window
    expect(emit(2, 4, t(33), win(8, 5), [72, 0, 5, 9])).toEqual([72, 0, 0, 9]); // an earlier 0x00 ended the text
    expect(emit(3, 4, t(33), win(99, 5), [0, 1, 2, 3])).toEqual([0, 1, 2, 0]);
    expect(emit(1, 2, t(200), win(8, 1), [1, 0])).toEqual([1, -56]); // 0xC8 as int8
    expect(emit(0, 1, t(0x1ff), win(8, 1))).toEqual([-1]); // the low byte only
    expect(emit(0, 1, t(-1), win(8, 1))).toEqual([-1]);
    expect(emit(0, 1, t(256), win(8, 1))).toEqual([0]);
    expect(emit(0, 2, int32Tensor([1, 1], [88]), win(8, 1))).toEqual([88, 0]); // ArgMax's [1,1]
    expect(emit(0, 1, t(7), win(8, 2 ** 31 - 1))).toEqual([0]); // L + k does not wrap
    expect(emit(4, 5, t(7), win(8, -(2 ** 31)), [1, 1, 1, 1, 1])).toEqual([1, 1, 1, 1, 7]);
  });

  it("Emit: rejects k outside 0..T-1, a missing prev for k > 0 and mismatched shapes", () => {
    const tok = int32Tensor([1], [65]), window = int32Tensor([5], [0, 0, 0, 0, 1]), prev = int8Tensor([3], [1, 2, 3]);
    const emit = (ins: Tensor[], over: Partial<NodeDesc> = {}) => run({ op: Op.Emit, outDtype: DType.int8, outShape: [3], attrs: [1, 3], ...over }, ins);
    expect(emit([tok, window, prev])).toEqual([1, 65, 3]);
    expect(() => emit([tok, window])).toThrow(/number of inputs.*Emit without prev only for k = 0/);
    expect(() => emit([tok, window, prev], { attrs: [3, 3] })).toThrow(/out of range/);
    expect(() => emit([tok, window, prev], { attrs: [-1, 3] })).toThrow(/out of range/);
    expect(() => emit([tok, window, int8Tensor([1], [0])], { attrs: [0, 0], outShape: [1] })).toThrow(/out of range/);
    expect(() => emit([tok, window, prev], { attrs: [1] })).toThrow(/number of attributes/);
    expect(() => emit([int32Tensor([2], [1, 2]), window, prev])).toThrow(/wrong shape/);
    expect(() => emit([int8Tensor([1], [1]), window, prev])).toThrow(/wrong dtype/);
    expect(() => emit([tok, int32Tensor([1], [1]), prev])).toThrow(/wrong shape/);
    expect(() => emit([tok, int32Tensor([1, 5], [0, 0, 0, 0, 1]), prev])).toThrow(/wrong shape/);
    expect(() => emit([tok, int8Tensor([5], [0, 0, 0, 0, 1]), prev])).toThrow(/wrong dtype/);
    expect(() => emit([tok, window, int8Tensor([4], [1, 2, 3, 4])])).toThrow(/wrong shape/);
    expect(() => emit([tok, window, int32Tensor([3], [1, 2, 3])])).toThrow(/wrong dtype/);
    expect(() => emit([tok, window, prev], { outShape: [4] })).toThrow(/output shape/);
    expect(() => emit([tok, window, prev], { outDtype: DType.int32 })).toThrow(/output dtype/);
  });
});

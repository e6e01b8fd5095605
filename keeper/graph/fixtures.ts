/**
 * Seeded random node cases (an op, its attributes and input tensors) for the differential tests:
 * C kernels vs the TS reference, and native vs guest-in-VM. Deterministic for a seed.
 */
import { Op, type NodeDesc, inputSlot, nodeSlot, weightSlot } from "./ops.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "./tensor.ts";
import { InputMode, type ModelSpec } from "./model.ts";

/** mulberry32: a tiny seeded PRNG (test data only). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NodeCase {
  name: string;
  node: NodeDesc;
  inputs: Tensor[];
}

export function randomNodeCase(op: number, rand: () => number): NodeCase {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const i8 = (shape: number[]) => int8Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => int(-128, 127)));
  const i32 = (shape: number[], mag: number) => int32Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => int(-mag, mag)));
  const zero = () => int(-128, 127);
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const rqPair = (): [number, number] => [int(1 << 20, 2 ** 31 - 1), int(25, 45)];
  const clampPair = (): [number, number] => {
    const lo = int(-128, 0);
    return [lo, int(lo, 127)];
  };
  const refs = (n: number) => [inputSlot(), ...Array.from({ length: n - 1 }, (_, j) => weightSlot(j))];
  /** A wide softmax's attributes (§3.6): shift, then exp(−d·scale) at 2^16 on n + 1 points d = j·2^shift. */
  const wideExpTable = (): number[] => {
    const n = int(1, rand() < 0.2 ? 4096 : 300), sh = int(0, 14), scale = (0.01 + rand() * 0.3) / 2 ** sh;
    return [sh, ...Array.from({ length: n + 1 }, (_, j) => Math.max(j === 0 ? 1 : 0, Math.round(65536 * Math.exp(-j * 2 ** sh * scale))))];
  };
  /** Scores for a wide softmax: 14-bit levels, some rows at the int32 extremes. */
  const wideScores = (shape: number[]) => (rand() < 0.2 ? i32(shape, 2 ** 31 - 1) : i32(shape, 8191));
  switch (op) {
    case Op.Gemm: {
      const M = int(1, 3), K = int(1, 70), N = int(1, 20);
      const withBias = rand() < 0.7;
      const inputs = [i8([M, K]), i8([N, K]), ...(withBias ? [i32([N], 1 << 20)] : [])];
      const [m, s] = rqPair();
      const [lo, hi] = clampPair();
      if (rand() < 0.3) {
        // int32 output (a language model's logits): identity rq or a random one, any i32 zero point and clamp
        const [m32, s32] = rand() < 0.5 ? [2 ** 30, 30] : [m, s];
        const lo32 = rand() < 0.5 ? -(2 ** 31) : int(-(2 ** 31), 0), hi32 = rand() < 0.5 ? 2 ** 31 - 1 : int(Math.max(lo32, -1000), 2 ** 31 - 1);
        const yz32 = rand() < 0.5 ? 0 : int(-(2 ** 31), 2 ** 31 - 1);
        return { name: "Gemm(int32)", inputs, node: { op, inputs: refs(inputs.length), outDtype: DType.int32, outShape: [M, N], attrs: [zero(), zero(), m32, s32, yz32, lo32, hi32] } };
      }
      if (rand() < 0.4) {
        // the wide form (§3.6): int32 x and w (zero points 0), 16-bit levels or any i32 (the sum modulo 2^32)
        const mag = rand() < 0.3 ? 2 ** 31 - 1 : 32767;
        const wideIns = [i32([M, K], mag), i32([N, K], rand() < 0.3 ? 2 ** 31 - 1 : 2047), ...(withBias ? [inputs[2]!] : [])];
        const out32 = rand() < 0.5;
        return {
          name: out32 ? "Gemm(i32×i32→i32)" : "Gemm(i32×i32)",
          inputs: wideIns,
          node: { op, inputs: refs(wideIns.length), outDtype: out32 ? DType.int32 : DType.int8, outShape: [M, N], attrs: [0, 0, m, s, out32 ? 0 : zero(), out32 ? -32767 : lo, out32 ? 32767 : hi] },
        };
      }
      return { name: "Gemm", inputs, node: { op, inputs: refs(inputs.length), outDtype: DType.int8, outShape: [M, N], attrs: [zero(), zero(), m, s, zero(), lo, hi] } };
    }
    case Op.Add: {
      const shape = [int(1, 4), int(1, 30)];
      // the wide form (§3.6): int32 operands (zero point 0, values beyond ±(2^17 − 1) clamped) and/or an int32 output
      const wide = rand() < 0.4;
      const [wa, wb, wy] = wide ? [rand() < 0.6, rand() < 0.6, rand() < 0.6] : [false, false, false];
      const ls = int(0, wa || wb ? 13 : 20);
      const [am, as] = rqPair(), [bm, bs] = rqPair(), [m, s] = [int(1 << 20, 2 ** 31 - 1), int(1, 40)];
      const [lo, hi] = wy ? (rand() < 0.5 ? [-32767, 32767] : [-(2 ** 31), 2 ** 31 - 1]) : clampPair();
      const operand = (w: boolean) => (w ? i32(shape, rand() < 0.2 ? 2 ** 31 - 1 : 1 << 17) : i8(shape));
      return {
        name: wide ? `Add(${wa ? "i32" : "i8"}+${wb ? "i32" : "i8"}→${wy ? "i32" : "i8"})` : "Add",
        inputs: [operand(wa), operand(wb)],
        node: { op, inputs: refs(2), outDtype: wy ? DType.int32 : DType.int8, outShape: shape, attrs: [wa ? 0 : zero(), am, as, wb ? 0 : zero(), bm, bs, m, s, wy ? 0 : zero(), lo, hi, ls] },
      };
    }
    case Op.Mul: {
      const shape = [int(1, 5), int(1, 40)];
      const [lo, hi] = clampPair();
      return { name: "Mul", inputs: [i8(shape), i8(shape)], node: { op, inputs: refs(2), outDtype: DType.int8, outShape: shape, attrs: [zero(), zero(), int(1, 2 ** 31 - 1), int(1, 40), zero(), lo, hi] } };
    }
    case Op.Relu: {
      const shape = [int(1, 3), int(1, 50)];
      return { name: "Relu", inputs: [i8(shape)], node: { op, inputs: refs(1), outDtype: DType.int8, outShape: shape, attrs: [zero()] } };
    }
    case Op.Softmax: {
      const shape = [int(1, 3), int(1, 40)];
      const scale = 0.01 + rand() * 0.3;
      const table = Array.from({ length: 256 }, (_, d) => Math.round(65536 * Math.exp(-d * scale)));
      return { name: "Softmax", inputs: [i8(shape)], node: { op, inputs: refs(1), outDtype: DType.int8, outShape: shape, attrs: table } };
    }
    case Op.Reshape: {
      const a = int(1, 6), b = int(1, 6), c = int(1, 6);
      const int32 = rand() < 0.5;
      return { name: int32 ? "Reshape(int32)" : "Reshape", inputs: [int32 ? i32([a, b, c], 2 ** 31 - 1) : i8([a, b, c])], node: { op, inputs: refs(1), outDtype: int32 ? DType.int32 : DType.int8, outShape: [a * b * c], attrs: [] } };
    }
    case Op.Conv2D: {
      const g = rand() < 0.3 ? int(2, 3) : 1;
      const N = int(1, 2), Cg = int(1, 3), Og = int(1, 3), kh = int(1, 3), kw = int(1, 3);
      const sh = int(1, 2), sw = int(1, 2), dh = int(1, 2), dw = int(1, 2);
      const H = int(dh * (kh - 1) + 1, 9), W = int(dw * (kw - 1) + 1, 9);
      const pads = [int(0, 2), int(0, 2), int(0, 2), int(0, 2)] as [number, number, number, number];
      const OH = Math.floor((H + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh) + 1;
      const OW = Math.floor((W + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw) + 1;
      const withBias = rand() < 0.7;
      const inputs = [i8([N, Cg * g, H, W]), i8([Og * g, Cg, kh, kw]), ...(withBias ? [i32([Og * g], 1 << 18)] : [])];
      const [m, s] = rqPair();
      const [lo, hi] = clampPair();
      return {
        name: g > 1 ? "Conv2D(grouped)" : "Conv2D",
        inputs,
        node: { op, inputs: refs(inputs.length), outDtype: DType.int8, outShape: [N, Og * g, OH, OW], attrs: [zero(), zero(), m, s, zero(), lo, hi, sh, sw, pads[0], pads[1], pads[2], pads[3], dh, dw, g] },
      };
    }
    case Op.MaxPool: {
      const N = int(1, 2), C = int(1, 3), H = int(2, 9), W = int(2, 9), kh = int(1, Math.min(3, H)), kw = int(1, Math.min(3, W));
      const sh = int(1, 2), sw = int(1, 2);
      const pads = [int(0, kh - 1), int(0, kw - 1), int(0, kh - 1), int(0, kw - 1)] as [number, number, number, number];
      const OH = Math.floor((H + pads[0] + pads[2] - kh) / sh) + 1;
      const OW = Math.floor((W + pads[1] + pads[3] - kw) / sw) + 1;
      return { name: "MaxPool", inputs: [i8([N, C, H, W])], node: { op, inputs: refs(1), outDtype: DType.int8, outShape: [N, C, OH, OW], attrs: [kh, kw, sh, sw, ...pads] } };
    }
    case Op.Gather: {
      const V = int(1, 20), D = int(1, 12);
      const idShape = rand() < 0.5 ? [int(1, 6)] : [int(1, 3), int(1, 4)];
      const ids = int32Tensor(idShape, Array.from({ length: idShape.reduce((p, d) => p * d, 1) }, () => (rand() < 0.15 ? int(-3, V + 3) : int(0, V - 1))));
      const int32 = rand() < 0.3;
      return { name: int32 ? "Gather(int32)" : "Gather", inputs: [int32 ? i32([V, D], 2 ** 31 - 1) : i8([V, D]), ids], node: { op, inputs: refs(2), outDtype: int32 ? DType.int32 : DType.int8, outShape: [...idShape, D], attrs: [] } };
    }
    case Op.LayerNorm: {
      const extreme = rand() < 0.1;
      const D = extreme ? 16384 : int(1, 80);
      const shape = extreme ? [1, D] : [int(1, 4), D];
      const nearConstant = rand() < 0.15;
      const base = int(-128, 127);
      // the wide form: an int32 input (a residual stream, zero point 0; values beyond ±(2^17 − 1) clamped)
      const wide = rand() < 0.3;
      const x = wide
        ? extreme
          ? int32Tensor(shape, Array.from({ length: D }, (_, i) => (i % 2 === 0 ? -(2 ** 31) : 2 ** 31 - 1)))
          : i32(shape, rand() < 0.3 ? 2 ** 31 - 1 : 1 << int(4, 17))
        : extreme
        ? int8Tensor(shape, Array.from({ length: D }, (_, i) => (i % 2 === 0 ? -128 : 127)))
        : nearConstant
          ? int8Tensor(shape, Array.from({ length: shape[0]! * D }, () => Math.max(-128, Math.min(127, base + int(-1, 1)))))
          : i8(shape);
      const [m, s] = [int(1 << 20, 2 ** 31 - 1), int(20, 45)];
      const [lo, hi] = clampPair();
      const eps = rand() < 0.5 ? 1 : int(1, 2 ** 31 - 1);
      // the wide gain (int32, zero point 0: 12-bit levels or any i32, the product modulo 2^32) and the wide output
      const wideG = rand() < 0.3, wideY = rand() < 0.3;
      const g = wideG ? i32([D], rand() < 0.3 ? 2 ** 31 - 1 : 2047) : i8([D]);
      const [ylo, yhi] = wideY ? (rand() < 0.5 ? [-8191, 8191] : [-(2 ** 31), 2 ** 31 - 1]) : [lo, hi];
      return {
        name: `LayerNorm${wide ? "(int32)" : ""}${wideG ? "(int32 gain)" : ""}${wideY ? "(→int32)" : ""}${extreme ? "(D=16384, extreme)" : ""}`,
        inputs: [x, g, i32([D], 1 << 24)],
        node: {
          op,
          inputs: refs(3),
          outDtype: wideY ? DType.int32 : DType.int8,
          outShape: shape,
          attrs: [wide ? 0 : extreme ? 127 : zero(), wideG ? 0 : zero(), eps, m, s, wideY ? 0 : zero(), ylo, yhi],
        },
      };
    }
    case Op.Lut: {
      const shape = [int(1, 3), int(1, 50)];
      if (rand() < 0.5) {
        // the wide form (§3.6): n + 1 int32 entries over [lo, lo + n·2^shift], the steps within the bound; inputs
        // inside, around and far outside the table's range
        const n = int(1, rand() < 0.2 ? 4096 : 300), sh = int(0, rand() < 0.2 ? 24 : 10);
        const span = n * 2 ** sh;
        const lo = int(-(2 ** 31), 2 ** 31 - 1 - span);
        const step = Math.floor((2 ** 31 - 1) / 2 ** sh);
        const t = [int(-(2 ** 30), 2 ** 30)];
        for (let j = 0; j < n; j++) t.push(Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, t[j]! + int(-step, step))));
        // the clamp may shorten a step, never lengthen it: every step stays within the bound
        const x = int32Tensor(shape, Array.from({ length: shape[0]! * shape[1]! }, () => (rand() < 0.8 ? lo + int(0, span) : int(-(2 ** 31), 2 ** 31 - 1))));
        return { name: `Lut(int32, ${n + 1} entries, shift ${sh})`, inputs: [x], node: { op, inputs: refs(1), outDtype: DType.int32, outShape: shape, attrs: [lo, sh, ...t] } };
      }
      return { name: "Lut", inputs: [i8(shape)], node: { op, inputs: refs(1), outDtype: DType.int8, outShape: shape, attrs: Array.from({ length: 256 }, () => zero()) } };
    }
    case Op.MatMul: {
      const B = int(1, 3), M = int(1, 5), K = int(1, 40), N = int(1, 9);
      const tb = rand() < 0.5 ? 1 : 0;
      const [m, s] = rqPair();
      const [lo, hi] = clampPair();
      if (rand() < 0.4) {
        // the wide form (§3.6): int32 a and b (zero points 0), 14-bit levels or any i32 (modulo 2^32); int8 or int32 out
        const mag = rand() < 0.3 ? 2 ** 31 - 1 : 8191;
        const out32 = rand() < 0.6;
        return {
          name: `MatMul(i32${tb ? ", transB" : ""}${out32 ? "→i32" : ""})`,
          inputs: [i32([B, M, K], mag), i32(tb ? [B, N, K] : [B, K, N], mag)],
          node: { op, inputs: refs(2), outDtype: out32 ? DType.int32 : DType.int8, outShape: [B, M, N], attrs: [0, 0, m, s, out32 ? int(-1000, 1000) : zero(), out32 ? -8191 : lo, out32 ? 8191 : hi, tb] },
        };
      }
      return {
        name: tb ? "MatMul(transB)" : "MatMul",
        inputs: [i8([B, M, K]), i8(tb ? [B, N, K] : [B, K, N])],
        node: { op, inputs: refs(2), outDtype: DType.int8, outShape: [B, M, N], attrs: [zero(), zero(), m, s, zero(), lo, hi, tb] },
      };
    }
    case Op.CausalSoftmax: {
      const C = int(1, 40), R = int(1, C);
      const shape = rand() < 0.5 ? [R, C] : [int(1, 3), R, C];
      const scale = 0.01 + rand() * 0.3;
      const table = Array.from({ length: 256 }, (_, d) => Math.round(65536 * Math.exp(-d * scale)));
      if (rand() < 0.4) return { name: "CausalSoftmax(int32)", inputs: [wideScores(shape)], node: { op, inputs: refs(1), outDtype: DType.int32, outShape: shape, attrs: wideExpTable() } };
      return { name: "CausalSoftmax", inputs: [i8(shape)], node: { op, inputs: refs(1), outDtype: DType.int8, outShape: shape, attrs: table } };
    }
    case Op.Transpose: {
      const rank = int(1, 4);
      const shape = Array.from({ length: rank }, () => int(1, 5));
      const perm = Array.from({ length: rank }, (_, i) => i);
      for (let i = rank - 1; i > 0; i--) {
        const j = int(0, i);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const int32 = rand() < 0.3;
      return {
        name: int32 ? "Transpose(int32)" : "Transpose",
        inputs: [int32 ? i32(shape, 2 ** 31 - 1) : i8(shape)],
        node: { op, inputs: refs(1), outDtype: int32 ? DType.int32 : DType.int8, outShape: perm.map((p) => shape[p]!), attrs: perm },
      };
    }
    case Op.Slice: {
      const rank = int(1, 4);
      const shape = Array.from({ length: rank }, () => int(1, 6));
      const axis = int(0, rank - 1);
      const start = int(0, shape[axis]! - 1);
      const len = int(1, shape[axis]! - start);
      const outShape = shape.map((d, i) => (i === axis ? len : d));
      const int32 = rand() < 0.3;
      return {
        name: int32 ? "Slice(int32)" : "Slice",
        inputs: [int32 ? i32(shape, 2 ** 31 - 1) : i8(shape)],
        node: { op, inputs: refs(1), outDtype: int32 ? DType.int32 : DType.int8, outShape, attrs: [axis, start] },
      };
    }
    case Op.ArgMax: {
      const shape = rand() < 0.5 ? [int(1, 40)] : [int(1, 3), int(1, 40)];
      const narrow = rand() < 0.5; // few distinct values: ties
      const int32 = rand() < 0.3;
      const count = shape.reduce((p, d) => p * d, 1);
      const x = int32
        ? int32Tensor(shape, Array.from({ length: count }, () => (narrow ? int(-2, 2) : pick([int(-(2 ** 31), 2 ** 31 - 1), 2 ** 31 - 1, -(2 ** 31)]))))
        : int8Tensor(shape, Array.from({ length: count }, () => (narrow ? int(-2, 2) : int(-128, 127))));
      return { name: int32 ? "ArgMax(int32)" : "ArgMax", inputs: [x], node: { op, inputs: refs(1), outDtype: DType.int32, outShape: [...shape.slice(0, -1), 1], attrs: [] } };
    }
    case Op.TokenWindow: {
      const C = int(1, 40);
      const L = pick([1, C, int(1, C)]);
      return { name: "TokenWindow", inputs: [i8([L])], node: { op, inputs: refs(1), outDtype: DType.int32, outShape: [C + 1], attrs: [C] } };
    }
    case Op.Position: {
      const N = int(2, 40);
      const w = i32([N], 2 ** 31 - 1);
      w.data[N - 1] = pick([int(-3, N + 3), int(1, N - 1), 2 ** 31 - 1, -(2 ** 31)]);
      return { name: "Position", inputs: [w], node: { op, inputs: refs(1), outDtype: DType.int32, outShape: [1], attrs: [pick([int(-3, 3), -1, 0, 2 ** 31 - 1, -(2 ** 31), int(-(2 ** 31), 2 ** 31 - 1)])] } };
    }
    case Op.ScatterRow: {
      const B = int(1, 4), R = int(1, 12), D = int(1, 16);
      const int32 = rand() < 0.4;
      const t = (shape: number[]) => (int32 ? i32(shape, 2 ** 31 - 1) : i8(shape));
      const pos = int32Tensor([1], [pick([int(0, R - 1), int(0, R - 1), int(-2, R + 1), R, -1, 2 ** 31 - 1, -(2 ** 31)])]);
      return { name: int32 ? "ScatterRow(int32)" : "ScatterRow", inputs: [t([B, R, D]), t([B, 1, D]), pos], node: { op, inputs: refs(3), outDtype: int32 ? DType.int32 : DType.int8, outShape: [B, R, D], attrs: [] } };
    }
    case Op.PrefixSoftmax: {
      const N = int(1, 40);
      const shape = [[N], [int(1, 4), N], [int(1, 3), int(1, 3), N]][int(0, 2)]!;
      const scale = 0.01 + rand() * 0.3;
      const table = Array.from({ length: 256 }, (_, d) => Math.round(65536 * Math.exp(-d * scale)));
      const pos = int32Tensor([1], [pick([int(0, N - 1), int(0, N - 1), 0, N - 1, int(-3, N + 2), 2 ** 31 - 1, -(2 ** 31)])]);
      if (rand() < 0.4) return { name: "PrefixSoftmax(int32)", inputs: [wideScores(shape), pos], node: { op, inputs: refs(2), outDtype: DType.int32, outShape: shape, attrs: wideExpTable() } };
      return { name: "PrefixSoftmax", inputs: [i8(shape), pos], node: { op, inputs: refs(2), outDtype: DType.int8, outShape: shape, attrs: table } };
    }
    case Op.Emit: {
      const T = int(1, 10), k = int(0, T - 1), C = int(1, 20);
      const withPrev = k > 0 || rand() < 0.5;
      const tok = int32Tensor(rand() < 0.5 ? [1] : [1, 1], [pick([int(0, 255), int(-300, 300), 2 ** 31 - 1, -(2 ** 31)])]);
      const window = int32Tensor([C + 1], [...Array.from({ length: C }, () => int(0, 255)), pick([int(1, C), int(1, C), C - k, C - k - 1, int(-3, C + 3), 2 ** 31 - 1, -(2 ** 31)])]);
      // few distinct values, so an earlier 0x00 is common
      const prev = int8Tensor([T], Array.from({ length: T }, () => (rand() < 0.3 ? int(-2, 2) : int(-128, 127))));
      return { name: withPrev ? "Emit" : "Emit(first)", inputs: [tok, window, ...(withPrev ? [prev] : [])], node: { op, inputs: refs(withPrev ? 3 : 2), outDtype: DType.int8, outShape: [T], attrs: [k, T] } };
    }
    default:
      throw new Error(`randomNodeCase: unknown op ${op}`);
  }
}

export const ALL_OPS: number[] = Object.values(Op);

/** The ops the generation graph of a text model adds (docs/protocol.md §3.6, 17–21). */
export const TEXT_GENERATION_OPS: number[] = [Op.TokenWindow, Op.Position, Op.ScatterRow, Op.PrefixSoftmax, Op.Emit];

/**
 * Cases aimed at the vector kernels (oao_kernels_simd.h): Gemm, MatMul (both layouts) and Conv2D at
 * inner lengths around the vector widths (K % 8 and % 16 of every residue, tiny and long), odd
 * row/column counts (the 2×4 tiles' tails), and extreme values: every input byte -128 or 127 with
 * zero points at the opposite end (|x - zero| = 255, the largest product), int32 biases near ±2^31
 * (the accumulator wraps), multipliers up to 2^31 - 1. `big` adds a few large shapes.
 */
export function vectorKernelCases(rand: () => number, big = true): NodeCase[] {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  type Fill = "random" | "min" | "max" | "alternate" | "minmax";
  const fill = (shape: number[], how: Fill) =>
    int8Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) =>
      how === "min" ? -128 : how === "max" ? 127 : how === "alternate" ? (i % 2 ? 127 : -128) : how === "minmax" ? (rand() < 0.5 ? -128 : 127) : int(-128, 127)));
  const fills: Fill[] = ["random", "min", "max", "alternate", "minmax"];
  const zeroFor = (how: Fill) => (how === "min" ? 127 : how === "max" ? -128 : pick([-128, 127, 0, int(-128, 127)]));
  const bias = (n: number) => int32Tensor([n], Array.from({ length: n }, () => pick([2 ** 31 - 1, -(2 ** 31), int(-(2 ** 31), 2 ** 31 - 1), int(-1000, 1000)])));
  const rq = (): [number, number] => pick<[number, number]>([[2 ** 31 - 1, 62], [2 ** 31 - 1, 1], [1, 1], [int(1 << 20, 2 ** 31 - 1), int(20, 45)]]);
  const clamp = (): [number, number] => (rand() < 0.5 ? [-128, 127] : (() => { const lo = int(-128, 0); return [lo, int(lo, 127)] as [number, number]; })());
  const refs = (n: number) => [inputSlot(), ...Array.from({ length: n - 1 }, (_, j) => weightSlot(j))];
  const cases: NodeCase[] = [];
  const Ks = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 63, 64, 65, 127, 129];
  for (const K of big ? [...Ks, 255, 768, 1000] : Ks) {
    const M = pick([1, 2, 3, 4, 5, 7, 8, 9, 16, 17]), N = pick([1, 2, 3, 4, 5, 7, 9, 13]);
    const fx = pick(fills), fw = pick(fills);
    const withBias = rand() < 0.8;
    const inputs = [fill([M, K], fx), fill([N, K], fw), ...(withBias ? [bias(N)] : [])];
    const [m, s] = rq();
    const [lo, hi] = clamp();
    cases.push({ name: `Gemm ${M}x${K}·${N}x${K} (${fx}/${fw})`, inputs, node: { op: Op.Gemm, inputs: refs(inputs.length), outDtype: DType.int8, outShape: [M, N], attrs: [zeroFor(fx), zeroFor(fw), m, s, zeroFor("random"), lo, hi] } });
  }
  if (big) {
    for (const [M, K, N] of [[64, 768, 48], [9, 784, 96], [1, 96, 10], [17, 200, 33], [130, 37, 6], [257, 9, 3]] as const) {
      const inputs = [fill([M, K], "random"), fill([N, K], "random"), bias(N)];
      const [m, s] = rq();
      cases.push({ name: `Gemm ${M}x${K}·${N}x${K} (large)`, inputs, node: { op: Op.Gemm, inputs: refs(3), outDtype: DType.int8, outShape: [M, N], attrs: [int(-128, 127), int(-128, 127), m, s, int(-128, 127), -128, 127] } });
    }
    for (const fx of fills) {
      // many rows (the row-chunked path past one chunk of 128) at extreme values
      const fw = pick(fills), M = 129, K = pick([7, 8, 17, 64]), N = 5;
      const inputs = [fill([M, K], fx), fill([N, K], fw), bias(N)];
      const [m, s] = rq();
      cases.push({ name: `Gemm ${M}x${K}·${N}x${K} (${fx}/${fw})`, inputs, node: { op: Op.Gemm, inputs: refs(3), outDtype: DType.int8, outShape: [M, N], attrs: [zeroFor(fx), zeroFor(fw), m, s, zeroFor("random"), -128, 127] } });
    }
  }
  for (let i = 0; i < (big ? 40 : 16); i++) {
    const B = int(1, 3), M = pick([1, 2, 3, 5, 8, 9, 17]), K = pick(Ks), N = pick([1, 3, 7, 8, 9, 15, 16, 17, 33]);
    const tb = i % 2;
    const fa = pick(fills), fb = pick(fills);
    const [m, s] = rq();
    const [lo, hi] = clamp();
    cases.push({
      name: `MatMul${tb ? "(transB)" : ""} ${B}x${M}x${K}·${N} (${fa}/${fb})`,
      inputs: [fill([B, M, K], fa), fill(tb ? [B, N, K] : [B, K, N], fb)],
      node: { op: Op.MatMul, inputs: refs(2), outDtype: DType.int8, outShape: [B, M, N], attrs: [zeroFor(fa), zeroFor(fb), m, s, zeroFor("random"), lo, hi, tb] },
    });
  }
  for (let i = 0; i < (big ? 40 : 16); i++) {
    const g = rand() < 0.25 ? int(2, 3) : 1;
    const N = int(1, 2), Cg = int(1, 3), Og = int(1, 3), kh = int(1, 3), kw = int(1, 5);
    const sh = int(1, 2), sw = rand() < 0.75 ? 1 : 2, dh = int(1, 2), dw = int(1, 2);
    const H = int(dh * (kh - 1) + 1, 12), W = int(dw * (kw - 1) + 1, pick([12, 20, 40]));
    const pads = [int(0, 2), int(0, 3), int(0, 2), int(0, 3)] as [number, number, number, number];
    const OH = Math.floor((H + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh) + 1;
    const OW = Math.floor((W + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw) + 1;
    const fx = pick(fills), fw = pick(fills);
    const withBias = rand() < 0.8;
    const inputs = [fill([N, Cg * g, H, W], fx), fill([Og * g, Cg, kh, kw], fw), ...(withBias ? [bias(Og * g)] : [])];
    const [m, s] = rq();
    const [lo, hi] = clamp();
    cases.push({
      name: `Conv2D ${N}x${Cg * g}x${H}x${W} k${kh}x${kw} s${sh},${sw} d${dh},${dw} g${g} (${fx}/${fw})`,
      inputs,
      node: { op: Op.Conv2D, inputs: refs(inputs.length), outDtype: DType.int8, outShape: [N, Og * g, OH, OW], attrs: [zeroFor(fx), zeroFor(fw), m, s, zeroFor("random"), lo, hi, sh, sw, pads[0], pads[1], pads[2], pads[3], dh, dw, g] },
    });
  }
  // the guest's Conv2D tiles: 4 output channels of a group at once (and the remainder), two
  // neighbouring positions with the same taps inside the input
  for (let i = 0; i < 12; i++) {
    const g = i % 4 === 3 ? 2 : 1, Og = pick([4, 5, 7, 8]), Cg = int(1, 4), kh = int(1, 3), kw = int(1, 5);
    const sh = int(1, 2), sw = int(1, 2), dh = int(1, 2), dw = int(1, 2);
    const H = int(dh * (kh - 1) + 1, 10), W = int(dw * (kw - 1) + 1, 16);
    const pads = [int(0, 2), int(0, 4), int(0, 2), int(0, 4)] as [number, number, number, number];
    const OH = Math.floor((H + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh) + 1;
    const OW = Math.floor((W + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw) + 1;
    const fx = pick(fills), fw = pick(fills);
    const inputs = [fill([1, Cg * g, H, W], fx), fill([Og * g, Cg, kh, kw], fw), bias(Og * g)];
    const [m, s] = rq();
    cases.push({
      name: `Conv2D ${Cg * g}x${H}x${W} k${kh}x${kw} s${sh},${sw} d${dh},${dw} g${g} O${Og * g} (${fx}/${fw})`,
      inputs,
      node: { op: Op.Conv2D, inputs: refs(3), outDtype: DType.int8, outShape: [1, Og * g, OH, OW], attrs: [zeroFor(fx), zeroFor(fw), m, s, zeroFor("random"), -128, 127, sh, sw, pads[0], pads[1], pads[2], pads[3], dh, dw, g] },
    });
  }
  // more than 256 columns (the guest's column chunks, where its column sums restart), with few rows
  // and from 8 rows on (both zero points folded out of the tiles)
  for (const [M, K, N] of [[9, 33, 270], [3, 17, 300], [8, 5, 513]] as const) {
    const fx = pick(fills), fw = pick(fills);
    const inputs = [fill([M, K], fx), fill([N, K], fw), bias(N)];
    const [m, s] = rq();
    cases.push({ name: `Gemm ${M}x${K}·${N}x${K} (${fx}/${fw}, wide)`, inputs, node: { op: Op.Gemm, inputs: refs(3), outDtype: DType.int8, outShape: [M, N], attrs: [zeroFor(fx), zeroFor(fw), m, s, zeroFor("random"), -128, 127] } });
  }
  for (const tb of [0, 1]) {
    const B = 2, M = 9, K = 20, N = 261, fa = pick(fills), fb = pick(fills);
    const [m, s] = rq();
    cases.push({
      name: `MatMul${tb ? "(transB)" : ""} ${B}x${M}x${K}·${N} (${fa}/${fb}, wide)`,
      inputs: [fill([B, M, K], fa), fill(tb ? [B, N, K] : [B, K, N], fb)],
      node: { op: Op.MatMul, inputs: refs(2), outDtype: DType.int8, outShape: [B, M, N], attrs: [zeroFor(fa), zeroFor(fb), m, s, zeroFor("random"), -128, 127, tb] },
    });
  }
  return cases;
}

/**
 * The next letter of a text byte in the hand-built text model below: `b + 1` for a printable byte from
 * ' ' to 'y', 0x00 (end of text) for 'z' and every other byte.
 */
export function nextLetter(b: number): number {
  return b >= 0x20 && b < 0x7a ? b + 1 : 0;
}

/**
 * A tiny text model (inputMode 1, §3.3) built from the text-generation ops, for the chain, keeper and
 * dispute tests: the prompt's last byte's next letter, then that one's, and so on (`nextLetter`), T
 * bytes by the greedy rule's Emit (a byte exists iff L + k < C and no earlier byte was 0x00).
 * Nodes: TokenWindow → Slice (the C ids) → Gather (one row per byte from a 128×128 table whose row b
 * peaks at column nextLetter(b); a byte ≥ 0x80 has no row and gives 0x00) → Position(−1) → Gather (row L−1) → ArgMax → Emit, then per further
 * byte Gather(table, previous token) → Reshape → ArgMax → Emit: 7 + 4(T − 1) nodes.
 */
export function nextLetterTextSpec(context: number, tokens: number): ModelSpec {
  // 128 rows and columns: ASCII. A byte >= 0x80 is an id outside the table, whose Gather row is all 0s: ArgMax 0.
  const C = context, T = tokens, V = 128;
  const table = int8Tensor([V, V], Array.from({ length: V * V }, (_, e) => (e % V === nextLetter(Math.floor(e / V)) ? 100 : -100)));
  const i8 = DType.int8, i32 = DType.int32;
  const n = nodeSlot;
  const nodes: NodeDesc[] = [
    { op: Op.TokenWindow, inputs: [inputSlot()], outDtype: i32, outShape: [C + 1], attrs: [C] }, // 1: ids, then L
    { op: Op.Slice, inputs: [n(1)], outDtype: i32, outShape: [C], attrs: [0, 0] }, // 2: the C ids
    { op: Op.Gather, inputs: [weightSlot(0), n(2)], outDtype: i8, outShape: [C, V], attrs: [] }, // 3: each position's scores
    { op: Op.Position, inputs: [n(1)], outDtype: i32, outShape: [1], attrs: [-1] }, // 4: L − 1
    { op: Op.Gather, inputs: [n(3), n(4)], outDtype: i8, outShape: [1, V], attrs: [] }, // 5: row L − 1
    { op: Op.ArgMax, inputs: [n(5)], outDtype: i32, outShape: [1, 1], attrs: [] }, // 6: t_0
    { op: Op.Emit, inputs: [n(6), n(1)], outDtype: i8, outShape: [T], attrs: [0, T] }, // 7: out_0
  ];
  for (let k = 1; k < T; k++) {
    const prevOut = nodes.length;
    const prevTok = prevOut - 1; // an ArgMax [1, 1]
    nodes.push({ op: Op.Gather, inputs: [weightSlot(0), n(prevTok)], outDtype: i8, outShape: [1, 1, V], attrs: [] });
    nodes.push({ op: Op.Reshape, inputs: [n(nodes.length)], outDtype: i8, outShape: [1, V], attrs: [] });
    nodes.push({ op: Op.ArgMax, inputs: [n(nodes.length)], outDtype: i32, outShape: [1, 1], attrs: [] });
    nodes.push({ op: Op.Emit, inputs: [n(nodes.length), n(1), n(prevOut)], outDtype: i8, outShape: [T], attrs: [k, T] });
  }
  return {
    input: { dtype: i8, shape: [C] },
    weights: [table],
    nodes,
    metadata: { name: "next-letter", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
    inputMode: InputMode.text,
  };
}

/** What `nextLetterTextSpec(context, tokens)` outputs for a prompt: the T bytes by the greedy rule. */
export function nextLetterText(prompt: Uint8Array, context: number, tokens: number): Uint8Array {
  const out = new Uint8Array(tokens);
  let prev = prompt[prompt.length - 1]!;
  for (let k = 0; k < tokens && prompt.length + k < context; k++) {
    prev = nextLetter(prev);
    out[k] = prev;
    if (prev === 0) break;
  }
  return out;
}

/**
 * A small image classifier whose request input spans two chunks (§3.2, §3.4): int8 [1, 3, 48, 48] (6912 bytes)
 * → Conv2D 4×4 stride 4 to 4 channels (reads the input) → MaxPool 2×2 → Reshape [1, 144] → Gemm → int8 [1, 10].
 * Seeded random weights: its answers mean nothing, but every node computes on every input byte, so a claim
 * that misreads either chunk is wrong.
 */
export function multiChunkImageSpec(seed = 1): ModelSpec {
  const rand = seededRandom(seed);
  const i8 = (shape: number[]) => int8Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rand() * 256) - 128));
  const i32 = (n: number, mag: number) => int32Tensor([n], Array.from({ length: n }, () => Math.floor(rand() * (2 * mag + 1)) - mag));
  const n = nodeSlot;
  const nodes: NodeDesc[] = [
    // xZero, wZero, m, s, yZero, qmin, qmax, strideH, strideW, pads (t, l, b, r), dilH, dilW, group: acc / 512
    { op: Op.Conv2D, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int8, outShape: [1, 4, 12, 12], attrs: [0, 0, 1 << 30, 39, 0, -128, 127, 4, 4, 0, 0, 0, 0, 1, 1, 1] },
    { op: Op.MaxPool, inputs: [n(1)], outDtype: DType.int8, outShape: [1, 4, 6, 6], attrs: [2, 2, 2, 2, 0, 0, 0, 0] },
    { op: Op.Reshape, inputs: [n(2)], outDtype: DType.int8, outShape: [1, 144], attrs: [] },
    { op: Op.Gemm, inputs: [n(3), weightSlot(2), weightSlot(3)], outDtype: DType.int8, outShape: [1, 10], attrs: [0, 0, 1 << 30, 40, 0, -128, 127] },
  ];
  return {
    input: { dtype: DType.int8, shape: [1, 3, 48, 48] },
    weights: [i8([4, 3, 4, 4]), i32(4, 1 << 12), i8([10, 144]), i32(10, 1 << 12)],
    nodes,
    metadata: { name: "multi-chunk-image", input: { scale: 1 / 128, zeroPoint: 0 }, output: { scale: 1 / 16, zeroPoint: 0 } },
  };
}

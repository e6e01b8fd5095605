/**
 * Seeded random node cases (an op, its attributes and input tensors) for the differential tests:
 * C kernels vs the TS reference, and native vs guest-in-VM. Deterministic for a seed.
 */
import { Op, type NodeDesc, inputSlot, weightSlot } from "./ops.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "./tensor.ts";

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
  const rqPair = (): [number, number] => [int(1 << 20, 2 ** 31 - 1), int(25, 45)];
  const clampPair = (): [number, number] => {
    const lo = int(-128, 0);
    return [lo, int(lo, 127)];
  };
  const refs = (n: number) => [inputSlot(), ...Array.from({ length: n - 1 }, (_, j) => weightSlot(j))];
  switch (op) {
    case Op.Gemm: {
      const M = int(1, 3), K = int(1, 70), N = int(1, 20);
      const withBias = rand() < 0.7;
      const inputs = [i8([M, K]), i8([N, K]), ...(withBias ? [i32([N], 1 << 20)] : [])];
      const [m, s] = rqPair();
      const [lo, hi] = clampPair();
      return { name: "Gemm", inputs, node: { op, inputs: refs(inputs.length), outDtype: DType.int8, outShape: [M, N], attrs: [zero(), zero(), m, s, zero(), lo, hi] } };
    }
    case Op.Add: {
      const shape = [int(1, 4), int(1, 30)];
      const ls = int(0, 20);
      const [am, as] = rqPair(), [bm, bs] = rqPair(), [m, s] = [int(1 << 20, 2 ** 31 - 1), int(1, 40)];
      const [lo, hi] = clampPair();
      return { name: "Add", inputs: [i8(shape), i8(shape)], node: { op, inputs: refs(2), outDtype: DType.int8, outShape: shape, attrs: [zero(), am, as, zero(), bm, bs, m, s, zero(), lo, hi, ls] } };
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
    default:
      throw new Error(`randomNodeCase: unknown op ${op}`);
  }
}

export const ALL_OPS: number[] = Object.values(Op);

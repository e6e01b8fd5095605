/**
 * A straightforward TypeScript reading of the operator semantics (docs/protocol.md §3.6), written
 * independently of the C kernels so tests can compare the two on random tensors. Slow; for tests.
 */
import { Op, type NodeDesc } from "./ops.ts";
import { DType, elementCount, type Tensor } from "./tensor.ts";

const wrap32 = (x: bigint): number => Number(BigInt.asIntN(32, x));

/** rq(v, m, s): v·m rounded half away from zero to a multiple of 2^s, divided, truncated to 32 bits. */
export function refRq(v: number, m: number, s: number): number {
  const p = BigInt(v) * BigInt(m);
  const half = 1n << BigInt(s - 1);
  const r = p >= 0n ? (p + half) >> BigInt(s) : -((-p + half) >> BigInt(s));
  return wrap32(r);
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
const add32 = (a: number, b: number): number => (a + b) | 0;

export function refNode(node: NodeDesc, inputs: readonly Tensor[]): Tensor {
  const a = node.attrs;
  const n = elementCount(node.outShape);
  const y = new Int8Array(n);
  const x0 = inputs[0]!.data;
  switch (node.op) {
    case Op.Gemm: {
      const [xz, wz, m, s, yz, lo, hi] = a as [number, number, number, number, number, number, number];
      const [M, K] = inputs[0]!.shape as [number, number];
      const N = inputs[1]!.shape[0]!;
      const w = inputs[1]!.data;
      const b = inputs[2]?.data;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let acc = b ? b[j]! : 0;
          for (let k = 0; k < K; k++) acc = add32(acc, (x0[i * K + k]! - xz) * (w[j * K + k]! - wz));
          y[i * N + j] = clamp(add32(refRq(acc, m, s), yz), lo, hi);
        }
      break;
    }
    case Op.Add: {
      const [az, am, as, bz, bm, bs, m, s, yz, lo, hi, ls] = a as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];
      const x1 = inputs[1]!.data;
      for (let i = 0; i < n; i++) {
        const ta = refRq((x0[i]! - az) * 2 ** ls, am, as);
        const tb = refRq((x1[i]! - bz) * 2 ** ls, bm, bs);
        y[i] = clamp(add32(refRq(add32(ta, tb), m, s), yz), lo, hi);
      }
      break;
    }
    case Op.Mul: {
      const [az, bz, m, s, yz, lo, hi] = a as [number, number, number, number, number, number, number];
      const x1 = inputs[1]!.data;
      for (let i = 0; i < n; i++) y[i] = clamp(add32(refRq((x0[i]! - az) * (x1[i]! - bz), m, s), yz), lo, hi);
      break;
    }
    case Op.Relu:
      for (let i = 0; i < n; i++) y[i] = Math.max(x0[i]!, a[0]!);
      break;
    case Op.Softmax: {
      const len = inputs[0]!.shape[inputs[0]!.shape.length - 1]!;
      for (let r = 0; r < n; r += len) {
        let mx = -128;
        for (let i = 0; i < len; i++) mx = Math.max(mx, x0[r + i]!);
        let sum = 0;
        for (let i = 0; i < len; i++) sum += a[mx - x0[r + i]!]!;
        for (let i = 0; i < len; i++) {
          const e = a[mx - x0[r + i]!]!;
          y[r + i] = Math.min(Math.floor((e * 256 + Math.floor(sum / 2)) / sum), 255) - 128;
        }
      }
      break;
    }
    case Op.Reshape:
      return inputs[0]!.dtype === DType.int8
        ? { dtype: DType.int8, shape: [...node.outShape], data: Int8Array.from(x0) }
        : { dtype: DType.int32, shape: [...node.outShape], data: Int32Array.from(x0) };
    case Op.Conv2D: {
      const [xz, wz, m, s, yz, lo, hi, sh, sw, pt, pl, , , dh, dw, g] = a as number[] as number[] & { length: 16 };
      const [N, C, H, W] = inputs[0]!.shape as [number, number, number, number];
      const [O, Cg, KH, KW] = inputs[1]!.shape as [number, number, number, number];
      const [, , OH, OW] = node.outShape as [number, number, number, number];
      const w = inputs[1]!.data;
      const b = inputs[2]?.data;
      const Og = O / g!;
      for (let nn = 0; nn < N; nn++)
        for (let o = 0; o < O; o++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let acc = b ? b[o]! : 0;
              for (let c = 0; c < Cg; c++)
                for (let ki = 0; ki < KH; ki++)
                  for (let kj = 0; kj < KW; kj++) {
                    const ih = oh * sh! - pt! + ki * dh!;
                    const iw = ow * sw! - pl! + kj * dw!;
                    const cin = Math.floor(o / Og) * Cg + c;
                    const xv = ih < 0 || ih >= H || iw < 0 || iw >= W ? xz! : x0[((nn * C + cin) * H + ih) * W + iw]!;
                    acc = add32(acc, (xv - xz!) * (w[((o * Cg + c) * KH + ki) * KW + kj]! - wz!));
                  }
              y[((nn * O + o) * OH + oh) * OW + ow] = clamp(add32(refRq(acc, m!, s!), yz!), lo!, hi!);
            }
      break;
    }
    case Op.MaxPool: {
      const [kh, kw, sh, sw, pt, pl] = a as [number, number, number, number, number, number];
      const [N, C, H, W] = inputs[0]!.shape as [number, number, number, number];
      const [, , OH, OW] = node.outShape as [number, number, number, number];
      for (let p = 0; p < N * C; p++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            let mx = -128;
            for (let ki = 0; ki < kh; ki++)
              for (let kj = 0; kj < kw; kj++) {
                const ih = oh * sh - pt + ki;
                const iw = ow * sw - pl + kj;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) mx = Math.max(mx, x0[(p * H + ih) * W + iw]!);
              }
            y[(p * OH + oh) * OW + ow] = mx;
          }
      break;
    }
    default:
      throw new Error(`refNode: unknown op ${node.op}`);
  }
  return { dtype: DType.int8, shape: [...node.outShape], data: y };
}

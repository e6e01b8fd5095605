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

/** floor(sqrt(v)) of a non-negative bigint (Newton). */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = v, y = (x + 1n) >> 1n;
  while (y < x) {
    x = y;
    y = (x + v / x) >> 1n;
  }
  return x;
}

function withData(dtype: number, shape: readonly number[], data: Int8Array | Int32Array): Tensor {
  return dtype === DType.int8 ? { dtype: DType.int8, shape: [...shape], data: data as Int8Array } : { dtype: DType.int32, shape: [...shape], data: data as Int32Array };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
const add32 = (a: number, b: number): number => (a + b) | 0;

/** An operand as the integer the kernels compute with: int8 minus its zero point, int32 clamped to ±(2^17 − 1) (§3.6's wide form). */
function wideOperand(t: Tensor, zero: number): (v: number) => number {
  return t.dtype === DType.int32 ? (v) => clamp(v, -WIDE_MAX, WIDE_MAX) : (v) => v - zero;
}
const WIDE_MAX = 2 ** 17 - 1;

/** A wide table's value at u in 0 .. n·2^sh: entries t[base ..], linear between them, rounded half away from zero. */
function wideTable(t: readonly number[], base: number, n: number, sh: number, u: number): number {
  const k = Math.min(Math.floor(u / 2 ** sh), n - 1);
  const t0 = t[base + k]!, p = (t[base + 1 + k]! - t0) * (u - k * 2 ** sh);
  return t0 + (sh === 0 ? p : Math.sign(p) * Math.floor((Math.abs(p) + 2 ** (sh - 1)) / 2 ** sh));
}

/** The wide softmaxes' row: e = the table at min(max − x, n·2^shift) over the columns `on`, probabilities at 2^15 levels (0 elsewhere). */
function wideSoftmaxRow(a: readonly number[], x: ArrayLike<number>, base: number, len: number, on: (j: number) => boolean, out: Int32Array): void {
  const sh = a[0]!, nt = a.length - 2;
  let mx = -(2 ** 31);
  for (let j = 0; j < len; j++) if (on(j)) mx = Math.max(mx, x[base + j]!);
  const e = (j: number) => wideTable(a, 1, nt, sh, Math.min(mx - x[base + j]!, nt * 2 ** sh));
  let sum = 0;
  for (let j = 0; j < len; j++) if (on(j)) sum += e(j);
  for (let j = 0; j < len; j++) out[base + j] = on(j) ? Math.min(Math.floor((e(j) * 32768 + Math.floor(sum / 2)) / sum), 32768) : 0;
}

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
      const y32 = new Int32Array(n); // an int32 output keeps the clamped value; int8 holds it as is (|v| <= 127)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let acc = b ? b[j]! : 0;
          // Math.imul: the wide form's int32 operands make products beyond 2^53 (modulo 2^32 is what counts)
          for (let k = 0; k < K; k++) acc = add32(acc, Math.imul(x0[i * K + k]! - xz, w[j * K + k]! - wz));
          y32[i * N + j] = clamp(add32(refRq(acc, m, s), yz), lo, hi);
        }
      if (node.outDtype === DType.int32) return { dtype: DType.int32, shape: [...node.outShape], data: y32 };
      y.set(y32);
      break;
    }
    case Op.Add: {
      const [az, am, as, bz, bm, bs, m, s, yz, lo, hi, ls] = a as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];
      const x1 = inputs[1]!.data;
      const out = node.outDtype === DType.int32 ? new Int32Array(n) : y;
      const da = wideOperand(inputs[0]!, az), db = wideOperand(inputs[1]!, bz);
      for (let i = 0; i < n; i++) {
        const ta = refRq(da(x0[i]!) * 2 ** ls, am, as);
        const tb = refRq(db(x1[i]!) * 2 ** ls, bm, bs);
        out[i] = clamp(add32(refRq(add32(ta, tb), m, s), yz), lo, hi);
      }
      if (node.outDtype === DType.int32) return withData(DType.int32, node.outShape, out);
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
    case Op.Gather: {
      const [V, D] = inputs[0]!.shape as [number, number];
      const ids = inputs[1]!.data;
      const out = inputs[0]!.dtype === DType.int8 ? new Int8Array(n) : new Int32Array(n);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        for (let j = 0; j < D; j++) out[i * D + j] = id >= 0 && id < V ? x0[id * D + j]! : 0;
      }
      return withData(inputs[0]!.dtype, node.outShape, out);
    }
    case Op.LayerNorm: {
      const [xz, gz, eps, m, s, yz, lo, hi] = a as [number, number, number, number, number, number, number, number];
      const D = inputs[0]!.shape[inputs[0]!.shape.length - 1]!;
      const g = inputs[1]!.data, b = inputs[2]!.data;
      const d = wideOperand(inputs[0]!, xz);
      const out = node.outDtype === DType.int32 ? new Int32Array(n) : y;
      // a wide (int32) input: c shifted right by k = max(0, bitlen(D) − 5), rounded half away from zero
      const k = inputs[0]!.dtype === DType.int32 ? BigInt(Math.max(0, D.toString(2).length - 5)) : 0n;
      const shr = (v: bigint) => (k === 0n ? v : v >= 0n ? (v + (1n << (k - 1n))) >> k : -((-v + (1n << (k - 1n))) >> k));
      for (let r = 0; r < n; r += D) {
        let S = 0;
        for (let i = 0; i < D; i++) S += d(x0[r + i]!);
        const c = Array.from({ length: D }, (_, i) => shr(BigInt(D * d(x0[r + i]!) - S)));
        const Q = c.reduce((acc, v) => acc + v * v, 0n);
        const sd = isqrt(Q / BigInt(D) + BigInt(eps));
        const inv = (1n << 40n) / sd;
        for (let i = 0; i < D; i++) {
          const p = c[i]! * inv;
          const t = Number(p >= 0n ? (p + (1n << 27n)) >> 28n : -((-p + (1n << 27n)) >> 28n));
          // an int32 (wide) gain has zero point 0; the product is modulo 2^32 as the sum
          const acc = add32(Math.imul(t, inputs[1]!.dtype === DType.int32 ? g[i]! : g[i]! - gz), b[i]!);
          out[r + i] = clamp(add32(refRq(acc, m, s), yz), lo, hi);
        }
      }
      if (node.outDtype === DType.int32) return withData(DType.int32, node.outShape, out);
      break;
    }
    case Op.Lut: {
      if (inputs[0]!.dtype === DType.int32) {
        // the wide form: the table a[2..] over [lo, lo + n·2^shift], linear between entries, rounded half away from zero
        const [lo, sh] = a as [number, number];
        const nt = a.length - 3;
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = wideTable(a, 2, nt, sh, clamp(x0[i]!, lo, lo + nt * 2 ** sh) - lo);
        return withData(DType.int32, node.outShape, out);
      }
      for (let i = 0; i < n; i++) y[i] = a[x0[i]! + 128]!;
      break;
    }
    case Op.MatMul: {
      const [az, bz, m, s, yz, lo, hi, tb] = a as [number, number, number, number, number, number, number, number];
      const [B, M, K] = inputs[0]!.shape as [number, number, number];
      const N = inputs[1]!.shape[tb ? 1 : 2]!;
      const w = inputs[1]!.data;
      const mm = node.outDtype === DType.int32 ? new Int32Array(n) : y;
      for (let bb = 0; bb < B; bb++)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) {
              const bv = tb ? w[(bb * N + j) * K + k]! : w[(bb * K + k) * N + j]!;
              acc = add32(acc, Math.imul(x0[(bb * M + i) * K + k]! - az, bv - bz)); // modulo 2^32 (the wide form's int32 operands)
            }
            mm[(bb * M + i) * N + j] = clamp(add32(refRq(acc, m, s), yz), lo, hi);
          }
      if (node.outDtype === DType.int32) return withData(DType.int32, node.outShape, mm);
      break;
    }
    case Op.CausalSoftmax: {
      const shape = inputs[0]!.shape;
      const C = shape[shape.length - 1]!, R = shape[shape.length - 2]!;
      if (inputs[0]!.dtype === DType.int32) {
        const out = new Int32Array(n);
        for (let base = 0, row = 0; base < n; base += C, row = (row + 1) % R) wideSoftmaxRow(a, x0, base, C, (j) => j <= row + C - R, out);
        return withData(DType.int32, node.outShape, out);
      }
      for (let base = 0, row = 0; base < n; base += C, row = (row + 1) % R) {
        const allowed = row + (C - R) + 1;
        let mx = -128;
        for (let j = 0; j < allowed; j++) mx = Math.max(mx, x0[base + j]!);
        let sum = 0;
        for (let j = 0; j < allowed; j++) sum += a[mx - x0[base + j]!]!;
        for (let j = 0; j < C; j++) y[base + j] = j < allowed ? Math.min(Math.floor((a[mx - x0[base + j]!]! * 256 + Math.floor(sum / 2)) / sum), 255) - 128 : -128;
      }
      break;
    }
    case Op.Transpose: {
      const inShape = inputs[0]!.shape;
      const out = inputs[0]!.dtype === DType.int8 ? new Int8Array(n) : new Int32Array(n);
      const inStrides = inShape.map((_, i) => inShape.slice(i + 1).reduce((p, d) => p * d, 1));
      for (let o = 0; o < n; o++) {
        let rest = o, src = 0;
        for (let i = node.outShape.length - 1; i >= 0; i--) {
          const idx = rest % node.outShape[i]!;
          rest = Math.floor(rest / node.outShape[i]!);
          src += idx * inStrides[a[i]!]!;
        }
        out[o] = x0[src]!;
      }
      return withData(inputs[0]!.dtype, node.outShape, out);
    }
    case Op.Slice: {
      const [axis, start] = a as [number, number];
      const inShape = inputs[0]!.shape;
      const outer = inShape.slice(0, axis).reduce((p, d) => p * d, 1);
      const inner = inShape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const len = node.outShape[axis]!;
      const out = inputs[0]!.dtype === DType.int8 ? new Int8Array(n) : new Int32Array(n);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < len * inner; i++) out[o * len * inner + i] = x0[(o * inShape[axis]! + start) * inner + i]!;
      return withData(inputs[0]!.dtype, node.outShape, out);
    }
    case Op.ArgMax: {
      const N = inputs[0]!.shape[inputs[0]!.shape.length - 1]!;
      const out = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let j = 1; j < N; j++) if (x0[r * N + j]! > x0[r * N + best]!) best = j;
        out[r] = best;
      }
      return { dtype: DType.int32, shape: [...node.outShape], data: out };
    }
    case Op.TokenWindow: {
      const C = a[0]!;
      const L = inputs[0]!.shape[0]!;
      const out = new Int32Array(C + 1);
      for (let i = 0; i < L; i++) out[i] = x0[i]! & 0xff;
      out[C] = L;
      return { dtype: DType.int32, shape: [...node.outShape], data: out };
    }
    case Op.Position: {
      const N = x0.length;
      return { dtype: DType.int32, shape: [...node.outShape], data: Int32Array.of(clamp(x0[N - 1]! + a[0]!, 0, N - 2)) };
    }
    case Op.ScatterRow: {
      const [B, R, D] = inputs[0]!.shape as [number, number, number];
      const row = inputs[1]!.data, p = inputs[2]!.data[0]!;
      const out = inputs[0]!.dtype === DType.int8 ? Int8Array.from(x0) : Int32Array.from(x0);
      if (p >= 0 && p < R) for (let b = 0; b < B; b++) for (let j = 0; j < D; j++) out[(b * R + p) * D + j] = row[b * D + j]!;
      return withData(inputs[0]!.dtype, node.outShape, out);
    }
    case Op.PrefixSoftmax: {
      const N = inputs[0]!.shape[inputs[0]!.shape.length - 1]!;
      const q = clamp(inputs[1]!.data[0]!, 0, N - 1);
      if (inputs[0]!.dtype === DType.int32) {
        const out = new Int32Array(n);
        for (let base = 0; base < n; base += N) wideSoftmaxRow(a, x0, base, N, (j) => j <= q, out);
        return withData(DType.int32, node.outShape, out);
      }
      for (let base = 0; base < n; base += N) {
        let mx = -128;
        for (let j = 0; j <= q; j++) mx = Math.max(mx, x0[base + j]!);
        let sum = 0;
        for (let j = 0; j <= q; j++) sum += a[mx - x0[base + j]!]!;
        for (let j = 0; j < N; j++) y[base + j] = j <= q ? Math.min(Math.floor((a[mx - x0[base + j]!]! * 256 + Math.floor(sum / 2)) / sum), 255) - 128 : -128;
      }
      break;
    }
    case Op.Emit: {
      const [k, T] = a as [number, number];
      const tok = x0[0]!;
      const w = inputs[1]!.data;
      const C = w.length - 1, L = w[C]!;
      const prev = inputs[2]?.data;
      for (let i = 0; i < T; i++) y[i] = prev ? prev[i]! : 0;
      let ended = false;
      for (let j = 0; j < k; j++) if (prev![j] === 0) ended = true;
      y[k] = L + k < C && !ended ? tok & 0xff : 0; // stored as int8: 128..255 wrap to -128..-1
      break;
    }
    default:
      throw new Error(`refNode: unknown op ${node.op}`);
  }
  return { dtype: DType.int8, shape: [...node.outShape], data: y };
}

/**
 * The importer's float program (off chain, import time only): the ONNX graph after constant folding
 * and pattern matching, as ops that each become one or a few integer nodes (docs/protocol.md §3.6).
 * `runFloat` interprets it in float64 for calibration and for the quantization report.
 */

/** A float tensor (row-major). */
export interface FTensor {
  shape: number[];
  data: Float64Array;
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** An element-wise function of one tensor (a Lut), with what it is exactly when known. */
export interface Pointwise {
  fn: (x: number) => number;
  /** the function is exactly clamp(x, lo, hi) (Relu, Clip, Identity) */
  clamp?: [number, number];
  /** the function is exactly a·x + b */
  linear?: [number, number];
  desc: string;
}

export interface FloatOp {
  kind:
    | "gemm" | "conv" | "add" | "mul" | "pointwise" | "softmax" | "logsoftmax" | "reshape" | "maxpool" | "affine" | "pad"
    | "gather" | "layernorm" | "matmul" | "transpose" | "slice" | "causalsoftmax" | "argmax";
  inputs: string[];
  output: string;
  /** the ONNX node(s) this op comes from, for messages and the report */
  src: string;
  /** gemm: [N,K]; conv: [O,C/g,kh,kw] */
  w?: FTensor;
  b?: FTensor;
  /** gemm/conv: a fused clamp of the output (Relu, Clip, …) */
  clamp?: [number, number];
  shape?: number[];
  conv?: { strides: number[]; pads: number[]; dil: number[]; group: number };
  pool?: { k: number[]; strides: number[]; pads: number[] };
  pw?: Pointwise;
  /** affine: per-channel (axis 1) y = scale[c]·x + shift[c] */
  scale?: Float64Array;
  shift?: Float64Array;
  /** pad: spatial pads [t, l, b, r] of a 4-D tensor, value 0 */
  pads?: number[];
  /** add/mul with one activation: the other operand, a constant of the output's shape */
  c?: FTensor;
  /** gather: the embedding table [V, D] (`w`); layernorm: gain and shift over the last axis, epsilon */
  gamma?: Float64Array;
  beta?: Float64Array;
  eps?: number;
  /** matmul: y = alpha · a @ b on [B, M, K] × [B, K, N] (a scale folded from the graph) */
  alpha?: number;
  /** transpose: the permutation */
  perm?: number[];
  /** slice: axis and start (the length is the output's) */
  axis?: number;
  start?: number;
}

export const IDENTITY: Pointwise = { fn: (x) => x, clamp: [-Infinity, Infinity], linear: [1, 0], desc: "identity" };

/** g ∘ f */
export function composePointwise(g: Pointwise, f: Pointwise): Pointwise {
  const out: Pointwise = { fn: (x) => g.fn(f.fn(x)), desc: f.desc === "identity" ? g.desc : g.desc === "identity" ? f.desc : `${g.desc}(${f.desc})` };
  if (g.clamp && f.clamp) {
    const lo = Math.max(g.clamp[0], f.clamp[0]), hi = Math.min(g.clamp[1], f.clamp[1]);
    if (lo <= hi) out.clamp = [lo, hi];
  }
  if (g.linear && f.linear) out.linear = [g.linear[0] * f.linear[0], g.linear[0] * f.linear[1] + g.linear[1]];
  if (g.clamp && g.clamp[0] === -Infinity && g.clamp[1] === Infinity && f.linear) out.linear = f.linear;
  if (f.clamp && f.clamp[0] === -Infinity && f.clamp[1] === Infinity && g.linear) out.linear = g.linear;
  if (out.linear && out.linear[0] === 1 && out.linear[1] === 0) out.clamp = [-Infinity, Infinity];
  return out;
}

/** erf to ~1e-15 (series near 0, continued fraction for erfc beyond). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc continued fraction (Lentz)
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = ax + an * D;
    D = 1 / D;
    C = ax + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function conv2d(a: Float64Array, inShape: number[], op: FloatOp, outShape: number[], y: Float64Array): void {
  const [, C, H, W] = inShape as [number, number, number, number];
  const [O, Cg, KH, KW] = op.w!.shape as [number, number, number, number];
  const [N, , OH, OW] = outShape as [number, number, number, number];
  const { strides, pads, dil, group } = op.conv!;
  const w = op.w!.data;
  const Og = O / group;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g0 = Math.floor(o / Og) * Cg;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = op.b ? op.b.data[o]! : 0;
          for (let c = 0; c < Cg; c++) {
            const base = (n * C + g0 + c) * H;
            for (let ki = 0; ki < KH; ki++) {
              const ih = oh * strides[0]! - pads[0]! + ki * dil[0]!;
              if (ih < 0 || ih >= H) continue;
              const wb = ((o * Cg + c) * KH + ki) * KW;
              for (let kj = 0; kj < KW; kj++) {
                const iw = ow * strides[1]! - pads[1]! + kj * dil[1]!;
                if (iw < 0 || iw >= W) continue;
                s += a[(base + ih) * W + iw]! * w[wb + kj]!;
              }
            }
          }
          y[((n * O + o) * OH + oh) * OW + ow] = s;
        }
    }
}

const clampTo = (v: number, c: [number, number] | undefined) => (c ? Math.min(c[1], Math.max(c[0], v)) : v);

/**
 * Float interpretation of the program. Runs it on one input; every tensor's values by name. `after`, if given, sees each op's output
 * before later ops read it and may change it in place (scripts/models/simulate_quant.ts rounds activations there).
 */
export function runFloat(
  ops: readonly FloatOp[],
  shapes: ReadonlyMap<string, number[]>,
  inName: string,
  x: Float64Array,
  after?: (op: FloatOp, y: Float64Array) => void,
): Map<string, Float64Array> {
  const vals = new Map<string, Float64Array>([[inName, x]]);
  for (const op of ops) {
    const a = vals.get(op.inputs[0]!)!;
    const outShape = shapes.get(op.output)!;
    const y = new Float64Array(numel(outShape));
    switch (op.kind) {
      case "gemm": {
        const [N, K] = op.w!.shape as [number, number];
        const M = a.length / K;
        const w = op.w!.data;
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = op.b ? op.b.data[j]! : 0;
            for (let k = 0; k < K; k++) s += a[i * K + k]! * w[j * K + k]!;
            y[i * N + j] = clampTo(s, op.clamp);
          }
        break;
      }
      case "conv":
        conv2d(a, shapes.get(op.inputs[0]!)!, op, outShape, y);
        if (op.clamp) for (let i = 0; i < y.length; i++) y[i] = clampTo(y[i]!, op.clamp);
        break;
      case "maxpool": {
        const [, , H, W] = shapes.get(op.inputs[0]!)! as [number, number, number, number];
        const [N, C, OH, OW] = outShape as [number, number, number, number];
        const { k, strides, pads } = op.pool!;
        for (let p = 0; p < N * C; p++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let m = -Infinity;
              for (let ki = 0; ki < k[0]!; ki++)
                for (let kj = 0; kj < k[1]!; kj++) {
                  const ih = oh * strides[0]! - pads[0]! + ki, iw = ow * strides[1]! - pads[1]! + kj;
                  if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = Math.max(m, a[(p * H + ih) * W + iw]!);
                }
              y[(p * OH + oh) * OW + ow] = m;
            }
        break;
      }
      case "add":
      case "mul": {
        const b = op.c ? op.c.data : vals.get(op.inputs[1]!)!;
        for (let i = 0; i < y.length; i++) y[i] = op.kind === "add" ? a[i]! + b[i]! : a[i]! * b[i]!;
        break;
      }
      case "pointwise":
        for (let i = 0; i < y.length; i++) y[i] = op.pw!.fn(a[i]!);
        break;
      case "affine": {
        const s = shapes.get(op.inputs[0]!)!;
        const C = s[1]!, inner = numel(s.slice(2));
        for (let i = 0; i < y.length; i++) {
          const c = Math.floor(i / inner) % C;
          y[i] = op.scale![c]! * a[i]! + op.shift![c]!;
        }
        break;
      }
      case "pad": {
        const [N, C, H, W] = shapes.get(op.inputs[0]!)! as [number, number, number, number];
        const [, , OH, OW] = outShape as [number, number, number, number];
        const [t, l] = op.pads as [number, number];
        for (let p = 0; p < N * C; p++)
          for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) y[(p * OH + h + t) * OW + w + l] = a[(p * H + h) * W + w]!;
        break;
      }
      case "softmax":
      case "logsoftmax": {
        const len = outShape[outShape.length - 1]!;
        for (let r = 0; r < y.length; r += len) {
          let m = -Infinity, s = 0;
          for (let i = 0; i < len; i++) m = Math.max(m, a[r + i]!);
          for (let i = 0; i < len; i++) s += Math.exp(a[r + i]! - m);
          for (let i = 0; i < len; i++) y[r + i] = op.kind === "softmax" ? Math.exp(a[r + i]! - m) / s : a[r + i]! - m - Math.log(s);
        }
        break;
      }
      case "reshape":
        y.set(a);
        break;
      case "gather": {
        const [V, D] = op.w!.shape as [number, number];
        for (let i = 0; i < a.length; i++) {
          const id = a[i]!;
          if (id >= 0 && id < V) y.set(op.w!.data.subarray(id * D, (id + 1) * D), i * D);
        }
        break;
      }
      case "layernorm": {
        const D = outShape[outShape.length - 1]!;
        for (let r = 0; r < y.length; r += D) {
          let m = 0, v = 0;
          for (let i = 0; i < D; i++) m += a[r + i]!;
          m /= D;
          for (let i = 0; i < D; i++) v += (a[r + i]! - m) ** 2;
          const inv = 1 / Math.sqrt(v / D + op.eps!);
          for (let i = 0; i < D; i++) y[r + i] = (a[r + i]! - m) * inv * op.gamma![i]! + op.beta![i]!;
        }
        break;
      }
      case "matmul": {
        const b = vals.get(op.inputs[1]!)!;
        const [B, M, K] = shapes.get(op.inputs[0]!)! as [number, number, number];
        const N = outShape[2]!, alpha = op.alpha ?? 1;
        for (let p = 0; p < B; p++)
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++) s += a[(p * M + i) * K + k]! * b[(p * K + k) * N + j]!;
              y[(p * M + i) * N + j] = alpha * s;
            }
        break;
      }
      case "transpose": {
        const xs = shapes.get(op.inputs[0]!)!;
        const r = xs.length, perm = op.perm!;
        const si = strides(xs), so = strides(outShape);
        for (let i = 0; i < y.length; i++) {
          let rem = i, src = 0;
          for (let d = 0; d < r; d++) {
            const idx = Math.floor(rem / so[d]!);
            rem -= idx * so[d]!;
            src += idx * si[perm[d]!]!;
          }
          y[i] = a[src]!;
        }
        break;
      }
      case "slice": {
        const xs = shapes.get(op.inputs[0]!)!;
        const ax = op.axis!, len = outShape[ax]!, dim = xs[ax]!;
        const outer = numel(xs.slice(0, ax)), inner = numel(xs.slice(ax + 1));
        for (let p = 0; p < outer; p++) y.set(a.subarray((p * dim + op.start!) * inner, (p * dim + op.start! + len) * inner), p * len * inner);
        break;
      }
      case "argmax": {
        // the index of the first maximum of each last-axis row (output [… , 1])
        const len = shapes.get(op.inputs[0]!)!.at(-1)!;
        for (let r = 0; r < y.length; r++) {
          let b = 0;
          for (let i = 1; i < len; i++) if (a[r * len + i]! > a[r * len + b]!) b = i;
          y[r] = b;
        }
        break;
      }
      case "causalsoftmax": {
        const C = outShape[outShape.length - 1]!, R = outShape[outShape.length - 2]!;
        for (let r0 = 0; r0 < y.length; r0 += C) {
          const row = (r0 / C) % R, n = row + C - R + 1;
          let m = -Infinity, s = 0;
          for (let i = 0; i < n; i++) m = Math.max(m, a[r0 + i]!);
          for (let i = 0; i < n; i++) s += Math.exp(a[r0 + i]! - m);
          for (let i = 0; i < n; i++) y[r0 + i] = Math.exp(a[r0 + i]! - m) / s;
        }
        break;
      }
    }
    after?.(op, y);
    vals.set(op.output, y);
  }
  return vals;
}

/**
 * Constant folding for the ONNX importer (import time): evaluates nodes whose inputs are all
 * constants — the shape arithmetic PyTorch exports around `x.view(x.size(0), -1)` and friends
 * (Shape, Gather, Unsqueeze, Concat, Cast, …) — so that every Reshape gets a constant shape.
 */
import { numel, type FTensor } from "./float.ts";

export interface CTensor extends FTensor {
  /** an integer (or bool) tensor: Div truncates */
  int?: boolean;
}

export interface AttrValue {
  i?: number;
  f?: number;
  ints?: number[];
  floats?: number[];
  s?: string;
  t?: unknown;
}

export const FOLDABLE_OPS = [
  "Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Flatten", "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Pow",
  "Slice", "ConstantOfShape", "Range", "Equal", "Where", "Expand", "Min", "Max", "Floor", "Ceil", "ReduceProd", "Abs", "Transpose", "Less", "Greater", "Not", "Trilu",
];

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** numpy-style broadcasting of a binary function. */
export function broadcast(a: CTensor, b: CTensor, f: (x: number, y: number) => number, int = !!(a.int && b.int)): CTensor {
  const r = Math.max(a.shape.length, b.shape.length);
  const as = [...new Array<number>(r - a.shape.length).fill(1), ...a.shape];
  const bs = [...new Array<number>(r - b.shape.length).fill(1), ...b.shape];
  const shape = as.map((d, i) => {
    const e = bs[i]!;
    if (d !== e && d !== 1 && e !== 1) throw new Error(`cannot broadcast [${a.shape}] with [${b.shape}]`);
    return Math.max(d, e);
  });
  const sa = strides(as), sb = strides(bs), so = strides(shape);
  const n = numel(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0, rem = i;
    for (let d = 0; d < r; d++) {
      const idx = Math.floor(rem / so[d]!);
      rem -= idx * so[d]!;
      if (as[d] !== 1) ia += idx * sa[d]!;
      if (bs[d] !== 1) ib += idx * sb[d]!;
    }
    data[i] = f(a.data[ia]!, b.data[ib]!);
  }
  return { shape, data, int };
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Reshape target shape (0 copies the input dimension unless allowzero, −1 is inferred). */
export function reshapeTarget(x: readonly number[], target: readonly number[], allowzero = false): number[] {
  let shape = target.map((d, i) => (d === 0 && !allowzero ? x[i]! : d));
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  shape = shape.map((d) => (d === -1 ? numel(x) / known : d));
  return shape;
}

/** Squeeze/Unsqueeze/Slice/Reduce axes: an attribute up to opset 12, an input from 13. */
function axesOf(a: Map<string, AttrValue>, ins: CTensor[], at: number): number[] | undefined {
  if (ins[at]) return Array.from(ins[at].data);
  return a.get("axes")?.ints?.length ? a.get("axes")!.ints! : undefined;
}

/**
 * Evaluates one node on constant inputs; `undefined` when the op is not one this folder knows
 * (the importer then reports it). `ins[i]` undefined for an omitted optional input.
 */
export function foldConstant(op: string, ins: (CTensor | undefined)[], a: Map<string, AttrValue>): CTensor | undefined {
  const x = ins[0];
  const all = ins as CTensor[];
  switch (op) {
    case "Identity":
      return x;
    case "Cast": {
      const to = a.get("to")?.i ?? 1;
      const int = to !== 1 && to !== 10 && to !== 11 && to !== 16; // FLOAT, FLOAT16, DOUBLE, BFLOAT16
      return { shape: x!.shape, data: int ? x!.data.map((v) => Math.trunc(v)) : x!.data.slice(), int };
    }
    case "Gather": {
      const axis = norm(a.get("axis")?.i ?? 0, x!.shape.length);
      const idx = ins[1]!;
      const outer = numel(x!.shape.slice(0, axis)), dim = x!.shape[axis]!, inner = numel(x!.shape.slice(axis + 1));
      const shape = [...x!.shape.slice(0, axis), ...idx.shape, ...x!.shape.slice(axis + 1)];
      const data = new Float64Array(numel(shape));
      let o = 0;
      for (let p = 0; p < outer; p++)
        for (const iv of idx.data) {
          const j = iv < 0 ? iv + dim : iv;
          for (let q = 0; q < inner; q++) data[o++] = x!.data[(p * dim + j) * inner + q]!;
        }
      return { shape, data, int: x!.int };
    }
    case "Unsqueeze": {
      const axes = axesOf(a, all, 1)!;
      const r = x!.shape.length + axes.length;
      const ax = axes.map((v) => norm(v, r));
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x!.shape[k++]!);
      return { shape, data: x!.data, int: x!.int };
    }
    case "Squeeze": {
      const axes = axesOf(a, all, 1)?.map((v) => norm(v, x!.shape.length));
      return { shape: x!.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)), data: x!.data, int: x!.int };
    }
    case "Concat": {
      const parts = all.filter((t) => t && numel(t.shape) > 0);
      const axis = norm(a.get("axis")?.i ?? 0, parts[0]!.shape.length);
      const shape = [...parts[0]!.shape];
      shape[axis] = parts.reduce((s, t) => s + t.shape[axis]!, 0);
      const outer = numel(shape.slice(0, axis));
      const data = new Float64Array(numel(shape));
      let o = 0;
      for (let p = 0; p < outer; p++)
        for (const t of parts) {
          const chunk = numel(t.shape.slice(axis));
          data.set(t.data.subarray(p * chunk, (p + 1) * chunk), o);
          o += chunk;
        }
      return { shape, data, int: parts.every((t) => t.int) };
    }
    case "Reshape":
      return { shape: reshapeTarget(x!.shape, Array.from(ins[1]!.data), (a.get("allowzero")?.i ?? 0) === 1), data: x!.data, int: x!.int };
    case "Flatten": {
      const axis = norm(a.get("axis")?.i ?? 1, x!.shape.length);
      return { shape: [numel(x!.shape.slice(0, axis)), numel(x!.shape.slice(axis))], data: x!.data, int: x!.int };
    }
    case "Add":
      return broadcast(x!, ins[1]!, (p, q) => p + q);
    case "Sub":
      return broadcast(x!, ins[1]!, (p, q) => p - q);
    case "Mul":
      return broadcast(x!, ins[1]!, (p, q) => p * q);
    case "Div": {
      const int = !!(x!.int && ins[1]!.int);
      return broadcast(x!, ins[1]!, (p, q) => (int ? Math.trunc(p / q) : p / q));
    }
    case "Pow":
      return broadcast(x!, ins[1]!, (p, q) => p ** q, !!x!.int);
    case "Min":
    case "Max":
      return all.reduce((acc, t) => broadcast(acc, t, op === "Min" ? Math.min : Math.max));
    case "Equal":
      return broadcast(x!, ins[1]!, (p, q) => (p === q ? 1 : 0), true);
    case "Less":
      return broadcast(x!, ins[1]!, (p, q) => (p < q ? 1 : 0), true);
    case "Greater":
      return broadcast(x!, ins[1]!, (p, q) => (p > q ? 1 : 0), true);
    case "Not":
      return { shape: x!.shape, data: x!.data.map((v) => (v ? 0 : 1)), int: true };
    case "Where": {
      const c = x!, t = ins[1]!, f = ins[2]!;
      const tf = broadcast(t, f, (p) => p, !!(t.int && f.int)); // shape of t ⊕ f
      const sel = broadcast(c, tf, (p) => p, true);
      const tt = broadcast(sel, t, (_, q) => q), ff = broadcast(sel, f, (_, q) => q);
      return { shape: sel.shape, data: sel.data.map((p, i) => (p ? tt.data[i]! : ff.data[i]!)), int: tf.int };
    }
    case "Expand": {
      const target = Array.from(ins[1]!.data);
      return broadcast(x!, { shape: target, data: new Float64Array(numel(target)) }, (p) => p, !!x!.int);
    }
    case "Neg":
    case "Sqrt":
    case "Floor":
    case "Ceil":
    case "Abs": {
      const f = { Neg: (v: number) => -v, Sqrt: Math.sqrt, Floor: Math.floor, Ceil: Math.ceil, Abs: Math.abs }[op];
      return { shape: x!.shape, data: x!.data.map(f), int: x!.int };
    }
    case "ConstantOfShape": {
      const shape = Array.from(x!.data);
      const value = a.get("value")?.t as CTensor | undefined;
      return { shape, data: new Float64Array(numel(shape)).fill(value ? value.data[0]! : 0), int: value?.int ?? false };
    }
    case "Range": {
      const [start, limit, delta] = [x!.data[0]!, ins[1]!.data[0]!, ins[2]!.data[0]!];
      const n = Math.max(0, Math.ceil((limit - start) / delta));
      return { shape: [n], data: Float64Array.from({ length: n }, (_, i) => start + i * delta), int: !!x!.int };
    }
    case "ReduceProd": {
      const axes = axesOf(a, all, 1);
      if (axes && !(x!.shape.length === 1 && axes.length === 1)) return undefined;
      const keep = (a.get("keepdims")?.i ?? 1) === 1;
      return { shape: keep ? [1] : [], data: Float64Array.of(x!.data.reduce((p, v) => p * v, 1)), int: x!.int };
    }
    case "Slice": {
      const starts = Array.from(ins[1]?.data ?? a.get("starts")?.ints ?? []);
      const ends = Array.from(ins[2]?.data ?? a.get("ends")?.ints ?? []);
      const axes = Array.from(ins[3]?.data ?? a.get("axes")?.ints ?? starts.map((_, i) => i)).map((v) => norm(v, x!.shape.length));
      const steps = Array.from(ins[4]?.data ?? starts.map(() => 1));
      let cur: CTensor = x!;
      axes.forEach((axis, i) => {
        const dim = cur.shape[axis]!;
        const step = steps[i]!;
        const clampIdx = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + dim : v));
        const s = step > 0 ? clampIdx(starts[i]!, 0, dim) : clampIdx(starts[i]!, 0, dim - 1);
        const e = step > 0 ? clampIdx(ends[i]!, 0, dim) : clampIdx(ends[i]!, -1, dim - 1);
        const picks: number[] = [];
        for (let j = s; step > 0 ? j < e : j > e; j += step) picks.push(j);
        cur = foldConstant("Gather", [cur, { shape: [picks.length], data: Float64Array.from(picks), int: true }], new Map([["axis", { i: axis }]]))!;
      });
      return cur;
    }
    case "Trilu": {
      // torch.tril / torch.triu of a constant (a causal mask built in forward): keep j − i ≤ k (lower) or ≥ k (upper)
      const k = ins[1] ? ins[1].data[0]! : 0, upper = (a.get("upper")?.i ?? 1) === 1;
      const C = x!.shape[x!.shape.length - 1]!, R = x!.shape[x!.shape.length - 2]!;
      return { shape: x!.shape, data: x!.data.map((v, idx) => {
        const j = idx % C, i = Math.floor(idx / C) % R;
        return (upper ? j - i >= k : j - i <= k) ? v : 0;
      }), int: x!.int };
    }
    case "Transpose": {
      const r = x!.shape.length;
      const perm = a.get("perm")?.ints?.length ? a.get("perm")!.ints! : Array.from({ length: r }, (_, i) => r - 1 - i);
      const shape = perm.map((p) => x!.shape[p]!);
      const si = strides(x!.shape), so = strides(shape);
      const data = new Float64Array(numel(shape));
      for (let i = 0; i < data.length; i++) {
        let rem = i, src = 0;
        for (let d = 0; d < r; d++) {
          const idx = Math.floor(rem / so[d]!);
          rem -= idx * so[d]!;
          src += idx * si[perm[d]!]!;
        }
        data[i] = x!.data[src]!;
      }
      return { shape, data, int: x!.int };
    }
    default:
      return undefined;
  }
}

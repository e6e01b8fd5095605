/**
 * Where the text model's int8 error comes from (issue 15's agreement goal; docs/text-generation.md "Closing the
 * agreement goal"): the importer's float program of keeper/models/text_lm/text_lm.onnx (keeper/graph/onnx/float.ts)
 * run with chosen tensors rounded to a grid of so many bits, against the same program in float, on the held-out
 * windows of fixture.json. The figure is the next-byte argmax agreement at every position (teacher forced), the
 * quantity the greedy continuations' agreement is bounded by (a greedy continuation of 64 bytes stays equal only if
 * every one of its bytes agrees).
 *
 * Each activation is rounded the way the importer quantizes it: the calibration range of that tensor
 * (`calibrationRanges`, the importer's own rule) on 2^bits levels with a zero point, or symmetric at ±(2^(bits-1) - 1)
 * for the wide residual stream; weights, when rounded, symmetric per tensor to int8 as the importer does. Tensors are
 * grouped by what they are in a transformer block (below); a configuration gives each group a bit count (or none:
 * float). A float simulation, not the integer kernels: it locates the loss, the integer model is measured by
 * eval_text_lm.ts and bench_text_gen.ts.
 *
 *   npx tsx scripts/models/simulate_quant.ts [--dir keeper/models/text_lm] [--windows 32] [--configs 0,3,…] [--json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { calibrationRanges, floatProgram } from "../../keeper/graph/onnx/import.ts";
import { runFloat, type FloatOp } from "../../keeper/graph/onnx/float.ts";

const { values: args } = parseArgs({
  options: { dir: { type: "string", default: "keeper/models/text_lm" }, windows: { type: "string", default: "32" }, configs: { type: "string" }, json: { type: "boolean" } },
});
const dir = args.dir!;
const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as { context: number; windows: number[][] };
const calibration = JSON.parse(readFileSync(join(dir, "calibration.json"), "utf8")) as number[][];
const windows = fx.windows.slice(0, Number(args.windows));
const V = 256;

const program = floatProgram(new Uint8Array(readFileSync(join(dir, "text_lm.onnx"))));
const { ops, shapes, inName, outName } = program;
const t0 = performance.now();
const { range } = calibrationRanges(program, calibration, 99.99);
console.error(`calibration ranges from ${calibration.length} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${ops.length} float ops`);

/** What a tensor is in a transformer block, by the op that makes it and the ops that read it. */
type Group = "embedding" | "residual" | "lnOut" | "qkv" | "scores" | "probs" | "context" | "mlpUp" | "gelu" | "branchOut" | "logits" | "other";
const producer = new Map<string, FloatOp>(ops.map((o) => [o.output, o]));
const readers = (t: string) => ops.filter((o) => o.inputs.includes(t));
/** Follows Reshape/Transpose/Slice: the ops that read the tensor's values. */
const realReaders = (t: string): FloatOp[] =>
  readers(t).flatMap((o) => (o.kind === "reshape" || o.kind === "transpose" || o.kind === "slice" ? realReaders(o.output) : [o]));
function groupOf(t: string): Group {
  const p = producer.get(t)!;
  if (t === outName || (p.kind === "reshape" && groupOf(p.inputs[0]!) === "logits")) return "logits";
  if (p.kind === "reshape" || p.kind === "transpose" || p.kind === "slice") return groupOf(p.inputs[0]!);
  const rs = realReaders(t);
  if (p.kind === "gather") return "embedding";
  if (p.kind === "add" && !p.c) return "residual";
  if (p.kind === "layernorm") return "lnOut";
  if (p.kind === "causalsoftmax" || p.kind === "softmax") return "probs";
  if (p.kind === "pointwise") return "gelu";
  if (p.kind === "matmul") return rs.some((r) => r.kind === "causalsoftmax" || r.kind === "softmax") ? "scores" : "context";
  if (p.kind === "gemm") {
    if (rs.length > 0 && rs.every((r) => r.kind === "pointwise")) return "mlpUp";
    if (rs.some((r) => r.kind === "add" && !r.c)) return "branchOut";
    if (rs.some((r) => r.kind === "matmul")) return "qkv";
    return rs.length === 0 ? "logits" : "other";
  }
  return "other";
}
const groups = new Map<string, Group>(ops.map((o) => [o.output, groupOf(o.output)]));
const count = new Map<Group, number>();
for (const g of groups.values()) count.set(g, (count.get(g) ?? 0) + 1);
console.error(`tensors by group: ${[...count].map(([g, n]) => `${g} ${n}`).join(", ")}`);

/** Rounds `y` in place to `bits` levels over the range [lo, hi] (zero point), or symmetric when `symmetric`. */
function roundTo(y: Float64Array, lo: number, hi: number, bits: number, symmetric: boolean): void {
  if (symmetric) {
    const top = 2 ** (bits - 1) - 1, scale = Math.max(Math.abs(lo), Math.abs(hi), 1e-12) / top;
    for (let i = 0; i < y.length; i++) y[i] = Math.max(-top, Math.min(top, Math.round(y[i]! / scale))) * scale;
    return;
  }
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const levels = 2 ** bits - 1, scale = Math.max(hi - lo, 1e-12) / levels, zp = Math.round(-lo / scale);
  for (let i = 0; i < y.length; i++) y[i] = (Math.max(0, Math.min(levels, Math.round(y[i]! / scale) + zp)) - zp) * scale;
}

/** Each group's bits (absent: float); `weights`: the weights' bits (symmetric per tensor; 0: float). */
interface Config {
  name: string;
  bits: Partial<Record<Group, number>>;
  weights: number;
  /** Weights rounded with one scale per output channel (a Gemm's row of w, an embedding's row) instead of per tensor. */
  perChannel?: boolean;
  /** LayerNorm gains rounded to so many bits, symmetric per tensor (absent: float). */
  gammaBits?: number;
}
const ACTS: Group[] = ["embedding", "lnOut", "qkv", "scores", "probs", "context", "mlpUp", "gelu", "branchOut", "other"];
const all = (b: number): Partial<Record<Group, number>> => ({ ...Object.fromEntries(ACTS.map((g) => [g, b])), residual: 16 });
const today = all(8);
const ALL_CONFIGS: Config[] = [
  { name: "today: activations int8, residual 16-bit, weights int8", bits: today, weights: 8 },
  { name: "weights int8 only (activations float)", bits: {}, weights: 8 },
  { name: "activations as today, weights float", bits: today, weights: 0 },
  ...ACTS.filter((g) => (count.get(g) ?? 0) > 0).map((g) => ({ name: `today but ${g} 16-bit`, bits: { ...today, [g]: 16 }, weights: 8 })),
  { name: "all activations 12-bit, weights int8", bits: all(12), weights: 8 },
  { name: "all activations 16-bit, weights int8", bits: all(16), weights: 8 },
  { name: "all activations 12-bit, weights 12-bit", bits: all(12), weights: 12 },
  { name: "all activations 16-bit, weights 16-bit", bits: all(16), weights: 16 },
  { name: "today but branchOut 16-bit, weights 12-bit", bits: { ...today, branchOut: 16 }, weights: 12 },
  { name: "today but branchOut 16-bit, weights 16-bit", bits: { ...today, branchOut: 16 }, weights: 16 },
  { name: "today but branchOut 16-bit (the importer of 2026-12-07)", bits: { ...today, branchOut: 16 }, weights: 8 },
  { name: "all activations 16-bit, weights int8 per output channel", bits: all(16), weights: 8, perChannel: true },
  { name: "all activations 16-bit, weights 10-bit", bits: all(16), weights: 10 },
  { name: "all activations 16-bit, weights 12-bit", bits: all(16), weights: 12 },
  { name: "all activations 14-bit, weights 12-bit", bits: all(14), weights: 12 },
  { name: "all activations 12-bit, weights 16-bit", bits: all(12), weights: 16 },
  { name: "all activations 14-bit, weights 14-bit", bits: all(14), weights: 14 },
  { name: "all activations 16-bit, weights 12-bit per output channel", bits: all(16), weights: 12, perChannel: true },
  { name: "all activations 14-bit, weights 10-bit per output channel", bits: all(14), weights: 10, perChannel: true },
  { name: "14-bit but scores, probs, context int8; weights 12-bit", bits: { ...all(14), scores: 8, probs: 8, context: 8 }, weights: 12 },
  { name: "14-bit but qkv, scores, probs, context int8; weights 12-bit", bits: { ...all(14), qkv: 8, scores: 8, probs: 8, context: 8 }, weights: 12 },
  { name: "14-bit but probs int8; weights 12-bit", bits: { ...all(14), probs: 8 }, weights: 12 },
  { name: "14-bit but mlpUp, gelu int8; weights 12-bit", bits: { ...all(14), mlpUp: 8, gelu: 8 }, weights: 12 },
  { name: "14-bit but lnOut int8; weights 12-bit", bits: { ...all(14), lnOut: 8 }, weights: 12 },
  { name: "all activations 14-bit, weights 12-bit, LayerNorm gains int8", bits: all(14), weights: 12, gammaBits: 8 },
  { name: "all activations 14-bit, weights 12-bit, LayerNorm gains 12-bit", bits: all(14), weights: 12, gammaBits: 12 },
];
const configs = args.configs === undefined ? ALL_CONFIGS : args.configs.split(",").map((i) => {
  const c = ALL_CONFIGS[Number(i)];
  if (!c) throw new Error(`--configs: ${i} is not a configuration; they are:\n${ALL_CONFIGS.map((x, j) => `  ${j}: ${x.name}`).join("\n")}`);
  return c;
});

/** The op with its weights rounded to `bits` (symmetric per tensor, as the importer's int8). */
function roundedWeights(o: FloatOp, bits: number, perChannel: boolean, gammaBits = 0): FloatOp {
  const top = 2 ** ((gammaBits > 0 && o.kind === "layernorm" ? gammaBits : bits) - 1) - 1;
  const r = (t: { shape: number[]; data: Float64Array } | undefined) => {
    if (!t) return t;
    const row = perChannel ? t.data.length / t.shape[0]! : t.data.length;
    const data = new Float64Array(t.data.length);
    for (let r0 = 0; r0 < t.data.length; r0 += row) {
      let m = 0;
      for (let i = r0; i < r0 + row; i++) m = Math.max(m, Math.abs(t.data[i]!));
      const s = Math.max(m, 1e-12) / top;
      for (let i = r0; i < r0 + row; i++) data[i] = Math.round(t.data[i]! / s) * s;
    }
    return { shape: t.shape, data };
  };
  if (o.kind === "layernorm" && gammaBits > 0 && o.gamma) {
    // the gain as the integer LayerNorm holds it: symmetric per tensor at gammaBits
    const t = r({ shape: [1, o.gamma.length], data: o.gamma })!;
    return { ...o, gamma: t.data };
  }
  return o.kind === "gemm" || o.kind === "conv" || o.kind === "gather" ? { ...o, w: r(o.w) } : o;
}
const opsByWeightBits = new Map<string, FloatOp[]>([["0", ops]]);
const opsFor = (bits: number, perChannel = false, gammaBits = 0) => {
  const key = bits === 0 && gammaBits === 0 ? "0" : `${bits}${perChannel ? "c" : ""}g${gammaBits}`;
  let o = opsByWeightBits.get(key);
  if (!o) opsByWeightBits.set(key, (o = ops.map((op) => roundedWeights(op, bits, perChannel, gammaBits))));
  return o;
};

function argmaxRows(l: Float64Array): number[] {
  const rows = l.length / V, out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < V; j++) if (l[i * V + j]! > l[i * V + best]!) best = j;
    out.push(best);
  }
  return out;
}
const floatArgmax = windows.map((w) => argmaxRows(runFloat(ops, shapes, inName, Float64Array.from(w)).get(outName)!));

const results: { config: string; agreement: number; positions: number }[] = [];
for (const c of configs) {
  const t = performance.now();
  let same = 0, n = 0;
  windows.forEach((w, wi) => {
    const out = runFloat(opsFor(c.weights, c.perChannel, c.gammaBits), shapes, inName, Float64Array.from(w), (op, y) => {
      const g = groups.get(op.output)!;
      const bits = c.bits[g];
      if (bits === undefined || g === "logits") return;
      const [lo, hi] = range(op.output);
      roundTo(y, lo, hi, bits, g === "residual");
    }).get(outName)!;
    const a = argmaxRows(out);
    a.forEach((v, i) => {
      n++;
      if (v === floatArgmax[wi]![i]) same++;
    });
  });
  results.push({ config: c.name, agreement: same / n, positions: n });
  console.error(`${c.name}: ${((100 * same) / n).toFixed(2)}% of ${n} positions (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}
if (args.json) console.log(JSON.stringify({ model: dir, windows: windows.length, groups: Object.fromEntries(count), results }));
else for (const r of results) console.log(`${(100 * r.agreement).toFixed(2).padStart(6)}%  ${r.config}`);

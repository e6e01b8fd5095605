/**
 * Native section: the keeper's kernels against onnxruntime-node in the same run, each measured in a fresh
 * process of its own script (a clean heap, nothing left running by the sections before):
 *
 * - the int8 GEMM's GMAC/s at GPT-2-small's MLP shape on every build (`scripts/bench-kernels.ts --quick`):
 *   the wasm scalar and SIMD kernels, and the native addon at its best instruction set on 1 and 2 threads;
 * - one GPT-2-small forward pass of 64 tokens (quick mode: the 10M-parameter size) through `Executor.infer`
 *   on the native kernels at 1 and 2 threads, beside onnxruntime-node on a graph of the same shape, float32
 *   and int8 (MatMulInteger), at the same thread counts (`scripts/bench-gpt-ort.ts`).
 *
 * Without the native addon (`npm run build:native`) the native figures are null and the section says why.
 */
import type { BenchContext, BenchSection, Metric, SectionResult } from "./types.ts";
import { runScriptJson, sig } from "./util.ts";

interface KernelsJson {
  gemm: { shape: string; M: number; K: number; N: number; gmacs: Record<string, { best: number; median: number }> }[];
}
interface GptOrtJson {
  size: string;
  native: string | null;
  runs: number;
  ort: string;
  result: Record<string, { bestMs: number; medianMs: number }>;
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  ctx.log("  GEMM GMAC/s on every kernel build (scripts/bench-kernels.ts --quick)…");
  const kernels = await runScriptJson<KernelsJson>(ctx, "scripts/bench-kernels.ts", ["--quick", "--json"]);
  const mlp = kernels.gemm.find((g) => g.M === 64 && g.K === 768 && g.N === 3072);
  if (!mlp) throw new Error("bench-kernels.ts: no GPT-2 MLP-up shape (64×768 · 3072×768) in its output");
  const nativeName = (threads: number) => Object.keys(mlp.gmacs).find((k) => k.startsWith("native ") && k.endsWith(`×${threads}`));
  // The first native build listed is the best instruction set (bench-kernels lists them best first).
  const gmacs = (name: string | undefined) => (name === undefined ? null : sig(mlp.gmacs[name]!.best));

  const size = ctx.quick ? "gpt-10m" : "gpt2-small";
  ctx.log(`  ${size} forward pass, native kernels vs onnxruntime-node float32 and int8 at 1 and 2 threads (scripts/bench-gpt-ort.ts)…`);
  const gpt = await runScriptJson<GptOrtJson>(ctx, "scripts/bench-gpt-ort.ts", ["--json", "--size", size, "--runs", ctx.quick ? "5" : "15"]);
  const ms = (name: string) => gpt.result[name]?.bestMs ?? null;
  const ours = (threads: number) => (gpt.native ? ms(`native ${gpt.native} ×${threads}`) : null);
  const ortF = (threads: number) => ms(`onnxruntime float32 ×${threads}`);
  const ortQ = (threads: number) => ms(`onnxruntime int8 (MatMulInteger) ×${threads}`);
  /** onnxruntime's time / ours: above 1, ours is faster. */
  const ratio = (theirs: number | null, mine: number | null) => (theirs === null || mine === null ? null : sig(theirs / mine));
  const round = (x: number | null) => (x === null ? null : sig(x));

  const metrics: Metric[] = [
    { key: "native.gemmGmacs1", value: gmacs(nativeName(1)), unit: "GMAC/s", description: "native int8 GEMM at GPT-2's MLP shape (64×768 · 3072×768), best instruction set, 1 thread" },
    { key: "native.gemmGmacs2", value: gmacs(nativeName(2)), unit: "GMAC/s", description: "the same on 2 threads" },
    { key: "native.gemmGmacsSimd", value: gmacs("simd"), unit: "GMAC/s", description: "the wasm SIMD kernel at that shape (the portable path)" },
  ];
  for (const threads of [1, 2]) {
    metrics.push(
      { key: `native.t${threads}.gptMs`, value: round(ours(threads)), unit: "ms", description: `${size}, 64 tokens, Executor.infer on the native kernels, ${threads} thread(s), best of ${gpt.runs}` },
      { key: `native.t${threads}.ortFloatMs`, value: round(ortF(threads)), unit: "ms", description: `onnxruntime-node float32 on a graph of the same shape, ${threads} thread(s)`, better: "none" },
      { key: `native.t${threads}.ortInt8Ms`, value: round(ortQ(threads)), unit: "ms", description: `onnxruntime-node int8 (MatMulInteger), ${threads} thread(s)`, better: "none" },
      { key: `native.t${threads}.vsOrtFloat`, value: ratio(ortF(threads), ours(threads)), unit: "ratio", description: `onnxruntime float32 time / ours, ${threads} thread(s) (goal ≥ 1.0)`, better: "higher" },
      { key: `native.t${threads}.vsOrtInt8`, value: ratio(ortQ(threads), ours(threads)), unit: "ratio", description: `onnxruntime int8 time / ours, ${threads} thread(s) (goal ≥ 0.5)`, better: "higher" },
    );
  }
  const cell = (x: number | null) => (x === null ? "–" : x);
  return {
    metrics,
    tables: [
      {
        title: "Int8 GEMM at GPT-2-small's MLP shape (64×768 · 3072×768): GMAC/s per kernel build",
        command: "npm run bench:kernels -- --quick",
        columns: ["build", "GMAC/s (best)", "GMAC/s (median)"],
        numeric: [false, true, true],
        rows: Object.entries(mlp.gmacs).map(([name, g]) => [name, sig(g.best), sig(g.median)]),
        notes: "Every build's output bytes are compared with the scalar build's (a mismatch fails the run). Native: the addon of keeper/native at each instruction set this CPU runs.",
      },
      {
        title: `${size} forward pass, 64 tokens: ours (native int8) vs onnxruntime-node`,
        command: `npm run bench:gpt-ort -- --size ${size}`,
        columns: ["threads", "ours native (ms)", "onnxruntime float32 (ms)", "onnxruntime int8 (ms)", "vs float32 (×, goal ≥ 1.0)", "vs int8 (×, goal ≥ 0.5)"],
        numeric: [true, true, true, true, true, true],
        rows: [1, 2].map((t) => [t, cell(round(ours(t))), cell(round(ortF(t))), cell(round(ortQ(t))), cell(ratio(ortF(t), ours(t))), cell(ratio(ortQ(t), ours(t)))]),
        notes:
          `Best of ${gpt.runs} passes after a warm-up, one process, one after the other (onnxruntime ${gpt.ort}, intra-op threads as given, sequential execution). ` +
          "Ratios are onnxruntime's time over ours (above 1: ours is faster). onnxruntime runs a graph of the same shape with seeded random float weights (int8: every weight MatMul dynamically quantized); ours runs the .oao model's seeded int8 weights. " +
          (gpt.native ? `Native instruction set: ${gpt.native}.` : "The native addon is not built here: no native figures (`npm run build:native`)."),
      },
    ],
    charts: [],
  };
}

export const section: BenchSection = { id: "native", title: "Native kernels vs onnxruntime-node", run };

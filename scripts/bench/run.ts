/**
 * `npm run bench [-- --quick] [--json] [--only a,b] [--no-write] [--accept]`: measures everything in one run
 * (sections in scripts/bench/*.ts, see types.ts), prints progress to stderr, writes docs/benchmarks.md
 * (its generated block, only when every section ran) and the charts docs/bench/<id>.svg, and with --json prints one JSON object as
 * the last stdout line: { meta, metrics (nested by the dotted keys), errors }.
 * Exit code 1 if a section failed (the docs are then left untouched), or if a figure is worse than the committed
 * run's (docs/bench/baseline-<mode>.json) beyond its noise allowance (`gateOf`): the regressions are printed as
 * `REGRESSION key: was → now`, and nothing is written unless `--accept` (a deliberate change) is given.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderBlock, spliceBlock, type SectionReport } from "./report.ts";
import { renderChart } from "./svg.ts";
import type { BenchContext, BenchSection, Metric, MetricValue } from "./types.ts";

/** Every section, in run order (module path relative to this file). */
export const SECTIONS: { id: string; module: string }[] = [
  { id: "vm", module: "./vm.ts" },
  { id: "graph", module: "./graph.ts" },
  { id: "native", module: "./native.ts" },
  { id: "dispute", module: "./dispute.ts" },
  { id: "keeper", module: "./keeper.ts" },
  { id: "oracle", module: "./oracle.ts" },
  { id: "scale", module: "./scale.ts" },
  { id: "textgen", module: "./textgen.ts" },
];

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  write: boolean;
  only: string[] | undefined;
  /** `--accept`: a regression against the committed run is reported but does not fail, and the new run becomes the baseline. */
  accept: boolean;
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { quick: false, json: false, write: true, only: undefined, accept: false };
  let noWrite = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--json") args.json = true;
    else if (a === "--no-write") noWrite = true;
    else if (a === "--accept") args.accept = true;
    else if (a === "--only") {
      const list = argv[++i];
      if (list === undefined) throw new Error("--only needs a comma-separated list of sections");
      args.only = list.split(",").map((s) => s.trim()).filter(Boolean);
      const unknown = args.only.filter((id) => !SECTIONS.some((s) => s.id === id));
      if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(", ")}; known: ${SECTIONS.map((s) => s.id).join(", ")}`);
    } else throw new Error(`unknown argument ${a}; usage: npm run bench -- [--quick] [--json] [--only ${SECTIONS.map((s) => s.id).join(",")}] [--no-write] [--accept]`);
  }
  // docs/benchmarks.md holds one whole run: a partial run (--only) never replaces it.
  args.write = !noWrite && args.only === undefined;
  return args;
}

/** The committed run a new run is compared with: docs/bench/baseline-<mode>.json (mode: full or quick). */
export interface Baseline {
  meta: { mode: "full" | "quick"; date: string; machine: string; command: string };
  /** Flat dotted keys; only numeric metrics. */
  metrics: Record<string, number>;
}

/** How a metric is gated: which way is better and how much worse than the baseline is still noise. */
export function gateOf(m: Pick<Metric, "unit" | "better" | "tolerance">): { better: "higher" | "lower" | "none"; tolerance: number } {
  const byUnit = ((): { better: "higher" | "lower" | "none"; tolerance: number } => {
    if (m.unit.endsWith("/s")) return { better: "higher", tolerance: 0.5 };
    if (m.unit === "s" || m.unit === "ms" || m.unit === "s/token") return { better: "lower", tolerance: 0.5 };
    if (m.unit === "gas" || m.unit === "txs") return { better: "lower", tolerance: 0 };
    if (m.unit === "MiB") return { better: "lower", tolerance: 0.25 };
    if (m.unit === "ratio") return { better: "none", tolerance: 0.5 };
    return { better: "none", tolerance: 0 };
  })();
  return { better: m.better ?? byUnit.better, tolerance: m.tolerance ?? byUnit.tolerance };
}

export interface Regression {
  key: string;
  baseline: number;
  value: number;
  unit: string;
  /** Relative worsening (0.6 = 60% worse). */
  worse: number;
  tolerance: number;
}

/**
 * The metrics of this run that are worse than the baseline's by more than their tolerance. A metric the
 * baseline lacks, or that is not a number on either side, is not compared (a new metric is not a regression).
 */
export function findRegressions(metrics: readonly Metric[], baseline: Baseline): Regression[] {
  const out: Regression[] = [];
  for (const m of metrics) {
    const was = baseline.metrics[m.key];
    if (typeof m.value !== "number" || !Number.isFinite(m.value) || was === undefined) continue;
    const { better, tolerance } = gateOf(m);
    if (better === "none") continue;
    // Relative to the baseline; a zero baseline (nothing measured then) gates only an exact-tolerance metric's increase.
    const worse = better === "lower" ? (was === 0 ? (m.value > 0 ? Infinity : 0) : (m.value - was) / was) : was === 0 ? 0 : (was - m.value) / was;
    if (worse > tolerance) out.push({ key: m.key, baseline: was, value: m.value, unit: m.unit, worse, tolerance });
  }
  return out;
}

export function describeRegression(r: Regression): string {
  const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 1000) / 10}%` : "from 0");
  return `REGRESSION ${r.key}: ${r.baseline.toLocaleString("en-US")} → ${r.value.toLocaleString("en-US")} ${r.unit} (worse by ${pct(r.worse)}; noise allowance ${pct(r.tolerance)})`;
}

export function baselinePath(repo: string, mode: "full" | "quick"): string {
  return join(repo, "docs", "bench", `baseline-${mode}.json`);
}

/** Dotted keys to a nested object; a key that is both a value and a prefix is an error. */
export function nestMetrics(entries: [string, MetricValue][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    const parts = key.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (next === undefined) node = node[p] = {};
      else if (typeof next === "object" && next !== null) node = next as Record<string, unknown>;
      else throw new Error(`metric ${key}: ${p} is already a value`);
    }
    const leaf = parts[parts.length - 1]!;
    if (leaf in node) throw new Error(`metric ${key} reported twice or is also a prefix`);
    node[leaf] = value;
  }
  return root;
}

export function machineDescription(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${process.arch}, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" / ")} (1/5/15 min) at the start`;
}

async function main(): Promise<void> {
  // node:sqlite (the keeper's store) prints an experimental notice; bin/oao.js hides it the same way.
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (String(warning).includes("SQLite is an experimental feature")) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
  const args = parseArgs(process.argv.slice(2));
  const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ctx: BenchContext = { quick: args.quick, repo, log };
  const selected = SECTIONS.filter((s) => args.only === undefined || args.only.includes(s.id));
  const machine = machineDescription();
  const started = performance.now();
  const reports: SectionReport[] = [];
  for (const s of selected) {
    const t0 = performance.now();
    log(`bench ${s.id}${args.quick ? " (quick)" : ""}…`);
    try {
      const section = ((await import(s.module)) as { section: BenchSection }).section;
      const result = await section.run(ctx);
      reports.push({ id: s.id, title: section.title, seconds: (performance.now() - t0) / 1000, result });
      for (const m of result.metrics) log(`  ${m.key} = ${m.value} ${m.unit}`);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log(`bench ${s.id} FAILED: ${e instanceof Error ? e.stack : error}`);
      reports.push({ id: s.id, title: s.id, seconds: (performance.now() - t0) / 1000, error });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const errors = reports.filter((r) => r.error !== undefined).map((r) => ({ section: r.id, error: r.error! }));
  const mode = args.quick ? "quick" : "full";
  const command = ["npm run bench", ...(args.quick || args.only ? ["--"] : []), ...(args.quick ? ["--quick"] : []), ...(args.only ? ["--only", args.only.join(",")] : [])].join(" ");

  // The regression gate: every number measured is compared with the committed run of the same mode.
  const measured = reports.flatMap((r) => r.result?.metrics ?? []);
  const basePath = baselinePath(repo, mode);
  let baseline: Baseline | undefined;
  try {
    baseline = JSON.parse(readFileSync(basePath, "utf8")) as Baseline;
  } catch {
    log(`no committed ${mode} run at ${basePath}: nothing to compare with (a whole ${mode} run writes it)`);
  }
  const regressions = baseline ? findRegressions(measured, baseline) : [];
  if (baseline) {
    log(`compared ${measured.filter((m) => typeof m.value === "number" && baseline!.metrics[m.key] !== undefined && gateOf(m).better !== "none").length} metrics with the committed ${mode} run of ${baseline.meta.date} (${baseline.meta.machine})`);
    for (const r of regressions) log(describeRegression(r));
    if (regressions.length && args.accept) log(`--accept: ${regressions.length} regression(s) accepted; this run becomes the baseline`);
  }
  const gateFails = regressions.length > 0 && !args.accept;

  if (args.write && errors.length === 0 && !gateFails) {
    const docs = join(repo, "docs");
    mkdirSync(join(docs, "bench"), { recursive: true });
    for (const r of reports) for (const c of r.result!.charts) writeFileSync(join(docs, "bench", `${c.id}.svg`), renderChart(c));
    const path = join(docs, "benchmarks.md");
    const block = renderBlock({ mode, date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", command, machine, seconds }, reports);
    writeFileSync(path, spliceBlock(readFileSync(path, "utf8"), block));
    const next: Baseline = {
      meta: { mode, date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", machine, command },
      metrics: Object.fromEntries(measured.filter((m) => typeof m.value === "number" && Number.isFinite(m.value)).map((m) => [m.key, m.value as number])),
    };
    writeFileSync(basePath, `${JSON.stringify(next, null, 2)}\n`);
    log(`wrote docs/benchmarks.md and ${reports.reduce((n, r) => n + r.result!.charts.length, 0)} charts in docs/bench/`);
  } else if (args.write && gateFails) {
    log(`${regressions.length} regression(s) against the committed run: docs/benchmarks.md and the baseline left as they were (rerun, or --accept a deliberate change)`);
  } else if (args.write) {
    log("a section failed: docs/benchmarks.md left as it was");
  } else if (args.only !== undefined) {
    log("partial run (--only): docs/benchmarks.md left as it was");
  }
  log(`bench done in ${seconds.toFixed(0)} s${errors.length ? `, ${errors.length} section(s) failed` : ""}${gateFails ? `, ${regressions.length} regression(s)` : ""}`);
  if (args.json) {
    const metrics = nestMetrics(reports.flatMap((r) => (r.result?.metrics ?? []).map((m) => [m.key, m.value] as [string, MetricValue])));
    console.log(JSON.stringify({ meta: { mode, command, machine, seconds: Math.round(seconds), sections: reports.map((r) => ({ id: r.id, seconds: Math.round(r.seconds) })) }, metrics, errors, regressions }));
  }
  if (errors.length > 0 || gateFails) process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
  // Hardhat connections and wasm instances may hold the event loop open.
  process.exit(process.exitCode ?? 0);
}

/**
 * VM benchmarks (not part of `npm test`): `npm run bench:vm`.
 *
 * 1. Fast mode: keeper/guest/build/bench_loop.elf (115M steps of integer work) run to its exit,
 *    three times; steps per wall-clock second and per CPU second (the latter is steadier on a
 *    shared machine).
 * 2. Witnesses: a Trace of the same program run to its exit with snapshots, then the witness of
 *    several deep steps (around 100M), each verified from its bytes alone.
 * Prints a Markdown table for docs/benchmarks.md.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Trace, loadElf, runFast, verifyStep, witnessPreimageReader } from "../keeper/vm/index.ts";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const elf = readFileSync(join(root, "keeper", "guest", "build", "bench_loop.elf"));

function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

const loadAtStart = loadavg().map((x) => x.toFixed(1)).join(" ");
const rows: string[] = [];
const fastRuns: { wall: number; cpu: number; steps: number }[] = [];
for (let i = 0; i < 3; i++) {
  const m = loadElf(elf);
  const r = timed(() => runFast(m, Number.MAX_SAFE_INTEGER));
  if (!m.exited || m.exitCode !== 0) throw new Error("bench_loop did not exit 0");
  fastRuns.push({ wall: r.wall, cpu: r.cpu, steps: r.value });
  console.error(`fast run ${i + 1}: ${r.value} steps, ${(r.value / r.wall / 1e6).toFixed(1)}M steps/s wall, ${(r.value / r.cpu / 1e6).toFixed(1)}M steps/s cpu`);
}
const best = fastRuns.reduce((a, b) => (a.wall < b.wall ? a : b));
rows.push(
  `| fast mode, bench_loop to exit (${best.steps.toLocaleString("en-US")} steps), best of 3 | ` +
    `${(best.steps / best.wall / 1e6).toFixed(1)}M steps/s (${(best.steps / best.cpu / 1e6).toFixed(1)}M per CPU-second) |`,
);

const trace = Trace.fromElf(elf);
const run = timed(() => trace.run(Number.MAX_SAFE_INTEGER));
console.error(`trace run with snapshots: ${run.value.steps} steps in ${run.wall.toFixed(2)} s`);
rows.push(`| trace run with snapshots every 4,194,304 steps (${run.value.steps.toLocaleString("en-US")} steps) | ${run.wall.toFixed(2)} s |`);

let worst = 0;
for (const n of [99_999_999, 100_000_000, 77_777_777, 54_321_987, 114_999_999]) {
  const w = timed(() => trace.witness(n));
  const ok = verifyStep(w.value.preState, w.value.proof, witnessPreimageReader(w.value)) === w.value.postStateHash;
  if (!ok) throw new Error(`witness ${n} does not verify`);
  worst = Math.max(worst, w.wall);
  console.error(`witness for step ${n}: ${(w.wall * 1000).toFixed(0)} ms, proof ${w.value.proof.length} bytes, verified`);
}
rows.push(`| witness for a deep step of that trace (worst of 5 steps around 100M) | ${(worst * 1000).toFixed(0)} ms |`);

const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(`Machine: ${cpus().length} x ${cpu}, Node ${process.version}, load average ${loadAtStart} (1/5/15 min) at the start`);
console.log("Command: `npm run bench:vm`\n");
console.log("| measurement | result |\n|---|---|");
for (const r of rows) console.log(r);

/**
 * VM benchmarks (not part of `npm test`): `npm run bench:vm` prints a Markdown table; the bench's VM
 * section (scripts/bench/vm.ts) calls the same functions.
 *
 * 1. Fast mode: keeper/guest/build/bench_loop.elf given 5,000,000 iterations (115,000,359 steps of
 *    integer work; the count is its local datum 1, keeper/guest/inputs.ts) run to its exit, three
 *    times; steps per wall-clock second and per CPU second (the latter is steadier on a shared
 *    machine).
 * 2. Witnesses: a Trace of the same program run to its exit with snapshots, then the witness of
 *    several deep steps (around 100M), each verified from its bytes alone.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Trace, loadElf, runFast, verifyStep, witnessPreimageReader } from "../keeper/vm/index.ts";
import { BENCH_LOOP_BENCH_ITERATIONS, benchLoopPreimages } from "../keeper/guest/inputs.ts";

export function readBenchLoop(repo: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repo, "keeper", "guest", "build", "bench_loop.elf")));
}

function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

export interface FastModeResult {
  steps: number;
  runs: number;
  /** The run with the shortest wall time: its wall and CPU seconds. */
  bestWall: number;
  bestCpu: number;
  stepsPerSecond: number;
  stepsPerCpuSecond: number;
}

/** bench_loop.elf with `iterations` rounds in fast mode to its exit, `runs` times; the best run. */
export function measureFastMode(
  elf: Uint8Array,
  options: { iterations?: number; runs?: number; log?: (line: string) => void } = {},
): FastModeResult {
  const iterations = options.iterations ?? BENCH_LOOP_BENCH_ITERATIONS;
  const runs = options.runs ?? 3;
  let best: { wall: number; cpu: number; steps: number } | undefined;
  for (let i = 0; i < runs; i++) {
    const m = loadElf(elf, { preimages: benchLoopPreimages(iterations) });
    const r = timed(() => runFast(m, Number.MAX_SAFE_INTEGER));
    if (!m.exited || m.exitCode !== 0) throw new Error(`bench_loop did not exit 0 (exited ${m.exited}, code ${m.exitCode})`);
    options.log?.(
      `fast run ${i + 1}: ${r.value} steps, ${(r.value / r.wall / 1e6).toFixed(1)}M steps/s wall, ${(r.value / r.cpu / 1e6).toFixed(1)}M steps/s cpu`,
    );
    if (best === undefined || r.wall < best.wall) best = { wall: r.wall, cpu: r.cpu, steps: r.value };
  }
  const b = best!;
  return { steps: b.steps, runs, bestWall: b.wall, bestCpu: b.cpu, stepsPerSecond: b.steps / b.wall, stepsPerCpuSecond: b.steps / b.cpu };
}

export interface DeepWitnessResult {
  /** Steps of the trace (bench_loop to its exit). */
  traceSteps: number;
  /** Seconds to run it with snapshots every `snapshotInterval` steps. */
  traceRunSeconds: number;
  snapshotInterval: number;
  /** Each cold witness: a snapshot restored, run to the step, proved, verified. */
  witnesses: { step: number; ms: number; proofBytes: number }[];
  worstMs: number;
  /** The witness of the step right after one already proved (the trace reuses its cursor). */
  next: { step: number; ms: number };
}

/**
 * A Trace of bench_loop.elf with `iterations` rounds run to its exit, then the witnesses of deep
 * steps, in an order where each but `next` restores a snapshot: just before the last snapshot (the
 * most re-execution), 87 % and 47 % of the way, and the last step.
 */
export function measureDeepWitnesses(
  elf: Uint8Array,
  options: { iterations?: number; log?: (line: string) => void } = {},
): DeepWitnessResult {
  const iterations = options.iterations ?? BENCH_LOOP_BENCH_ITERATIONS;
  const trace = Trace.fromElf(elf, { preimages: benchLoopPreimages(iterations) });
  const run = timed(() => trace.run(Number.MAX_SAFE_INTEGER));
  const total = run.value.steps;
  options.log?.(`trace run with snapshots: ${total} steps in ${run.wall.toFixed(2)} s`);
  const prove = (n: number): { ms: number; proofBytes: number } => {
    const w = timed(() => trace.witness(n));
    const ok = verifyStep(w.value.preState, w.value.proof, witnessPreimageReader(w.value)) === w.value.postStateHash;
    if (!ok) throw new Error(`the witness of step ${n} does not verify`);
    options.log?.(`witness for step ${n}: ${(w.wall * 1000).toFixed(0)} ms, proof ${w.value.proof.length} bytes, verified`);
    return { ms: w.wall * 1000, proofBytes: w.value.proof.length };
  };
  const interval = trace.snapshotInterval;
  const beforeLastSnapshot = Math.floor((total - 1) / interval) * interval - 1;
  const at87 = Math.floor(total * 0.87);
  const witnesses: DeepWitnessResult["witnesses"] = [];
  witnesses.push({ step: at87, ...prove(at87) });
  const next = { step: at87 + 1, ms: prove(at87 + 1).ms };
  for (const n of [beforeLastSnapshot, Math.floor(total * 0.47), total - 1]) witnesses.push({ step: n, ...prove(n) });
  return { traceSteps: total, traceRunSeconds: run.wall, snapshotInterval: interval, witnesses, worstMs: Math.max(...witnesses.map((w) => w.ms)), next };
}

function main(): void {
  const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
  const elf = readBenchLoop(repo);
  const log = (line: string) => console.error(line);
  const loadAtStart = loadavg().map((x) => x.toFixed(1)).join(" ");
  const fast = measureFastMode(elf, { log });
  const deep = measureDeepWitnesses(elf, { log });
  const n = (x: number) => x.toLocaleString("en-US");
  const cold = deep.witnesses.map((w) => n(w.step)).join(" / ");
  console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, load average ${loadAtStart} (1/5/15 min) at the start`);
  console.log("Command: `npm run bench:vm`\n");
  console.log("| measurement | result |\n|---|---|");
  console.log(
    `| fast mode, bench_loop to exit (${n(fast.steps)} steps), best of ${fast.runs} | ` +
      `${(fast.stepsPerSecond / 1e6).toFixed(1)}M steps/s (${(fast.stepsPerCpuSecond / 1e6).toFixed(1)}M per CPU-second) |`,
  );
  console.log(`| trace run with snapshots every ${n(deep.snapshotInterval)} steps (${n(deep.traceSteps)} steps) | ${deep.traceRunSeconds.toFixed(2)} s |`);
  console.log(`| witness for a deep step of that trace, cold (worst of ${cold}) | ${deep.worstMs.toFixed(0)} ms |`);
  console.log(`| the next witness after one (step ${n(deep.next.step)}: the trace reuses its cursor) | ${deep.next.ms.toFixed(0)} ms |`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}

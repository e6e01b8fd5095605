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
 * 3. Fast mode's two executors side by side (the block translator, jit.ts, and the interpreter
 *    alone) on bench_loop and on the node program (oao_node.elf) checking MNIST node 1 (a Gemm,
 *    1,218,509 steps) and a bigger one-node Gemm model; and the same ELFs under qemu-mips
 *    (keeper/guest/node/qemu.ts serves the oracle over fds 5/6), when it is installed.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type PreimageSource, Trace, type VmMode, loadElf, runFast, verifyStep, witnessPreimageReader } from "../keeper/vm/index.ts";
import { BENCH_LOOP_BENCH_ITERATIONS, BENCH_LOOP_ITERATIONS_IDENT, benchLoopIterationsDatum, benchLoopPreimages } from "../keeper/guest/inputs.ts";
import { hasQemu, runGuestQemu } from "../keeper/guest/node/qemu.ts";
import { preimageSource } from "../keeper/guest/node/vm.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { buildModel, decodeModelFile } from "../keeper/graph/model.ts";
import { Op, inputSlot, weightSlot } from "../keeper/graph/ops.ts";
import { type NodeCheck, nodeCheck } from "../keeper/graph/preimages.ts";
import { quantizeInput } from "../keeper/graph/quant.ts";
import { DType, int32Tensor, int8Tensor } from "../keeper/graph/tensor.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";

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
  options: { iterations?: number; runs?: number; mode?: VmMode; log?: (line: string) => void } = {},
): FastModeResult {
  const iterations = options.iterations ?? BENCH_LOOP_BENCH_ITERATIONS;
  const runs = options.runs ?? 3;
  let best: { wall: number; cpu: number; steps: number } | undefined;
  for (let i = 0; i < runs; i++) {
    const m = loadElf(elf, { preimages: benchLoopPreimages(iterations) });
    const r = timed(() => runFast(m, Number.MAX_SAFE_INTEGER, options.mode === undefined ? {} : { mode: options.mode }));
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

/** A program run to its exit in each fast mode, `runs` times interleaved: CPU seconds of each run. */
export interface ModeTimes {
  name: string;
  steps: number;
  /** CPU seconds of each run, sorted. */
  jit: number[];
  interp: number[];
  /** Wall seconds of each run, sorted. */
  jitWall: number[];
  interpWall: number[];
}

const best = (xs: number[]): number => xs[0]!;
const median = (xs: number[]): number => xs[Math.floor((xs.length - 1) / 2)]!;

/** Runs `elf` (with `preimages`) to its exit in both modes, interleaved; checks both end equal. */
export function measureModes(
  name: string,
  elf: Uint8Array,
  preimages: PreimageSource,
  runs: number,
  log?: (line: string) => void,
  modes: readonly VmMode[] = ["interp", "jit"],
): ModeTimes {
  const out: ModeTimes = { name, steps: 0, jit: [], interp: [], jitWall: [], interpWall: [] };
  let hash: string | undefined;
  for (let i = 0; i < runs; i++) {
    for (const mode of modes) {
      const m = loadElf(elf, { preimages });
      const r = timed(() => runFast(m, Number.MAX_SAFE_INTEGER, { mode }));
      if (!m.exited) throw new Error(`${name} did not exit`);
      const h = m.stateHash();
      if (hash !== undefined && h !== hash) throw new Error(`${name}: ${mode} ends in ${h}, not ${hash}`);
      hash = h;
      out.steps = r.value;
      out[mode].push(r.cpu);
      out[mode === "jit" ? "jitWall" : "interpWall"].push(r.wall);
      log?.(`${name} ${mode} run ${i + 1}: ${r.value} steps, ${(r.value / r.cpu / 1e6).toFixed(1)}M steps per CPU-second`);
    }
  }
  for (const xs of [out.jit, out.interp, out.jitWall, out.interpWall]) xs.sort((a, b) => a - b);
  return out;
}

/** A one-node Gemm model M×K · N×K with a bias (seeded weights), and its node check. */
export function bigGemmCheck(M: number, K: number, N: number): NodeCheck {
  const rand = seededRandom(0x6e33);
  const i8 = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
  const x = int8Tensor([M, K], i8(M * K));
  const w = int8Tensor([N, K], i8(N * K));
  const bias = int32Tensor([N], Array.from({ length: N }, () => Math.floor(rand() * 2 ** 16) - 2 ** 15));
  const model = buildModel({
    input: { dtype: DType.int8, shape: [M, K] },
    weights: [w, bias],
    nodes: [{ op: Op.Gemm, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int8, outShape: [M, N], attrs: [3, -5, 1_518_500_250, 38, 0, -128, 127] }],
    metadata: { name: "bench-gemm", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
  });
  return nodeCheck(model, x, new Executor(model).run(x).nodeOutputs, 1);
}

/** MNIST's node 1 (its Gemm) on test digit 3: the node check the guest runs. */
export function mnistNodeCheck(repo: string, k = 1): NodeCheck {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(repo, "keeper", "models", "mnist", "model.oao"))));
  const input = quantizeInput(model, Array.from(loadMnist().test[3]!.pixels));
  return nodeCheck(model, input, new Executor(model).run(input).nodeOutputs, k);
}

/**
 * `runs` qemu-mips runs of `elfPath` on `check` (the oracle served over fds 5/6), each under
 * /usr/bin/time when it exists: wall seconds (process start included) and qemu's CPU seconds
 * (user + system, 10 ms resolution), each sorted. Exit code checked.
 */
export async function qemuTimes(elfPath: string, check: NodeCheck, runs: number, exitCode = 0): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  const timeFile = join(tmpdir(), `oao-bench-qemu-${process.pid}.txt`);
  const haveTime = existsSync("/usr/bin/time");
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await runGuestQemu(elfPath, check, haveTime ? ["/usr/bin/time", "-f", "%U %S", "-o", timeFile] : []);
    wall.push((performance.now() - t0) / 1000);
    if (r.exitCode !== exitCode) throw new Error(`qemu-mips exited ${r.exitCode}: ${r.stderr}`);
    if (haveTime) {
      const [u, s] = readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);
      cpu.push(u! + s!);
    }
  }
  if (haveTime) rmSync(timeFile, { force: true });
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

/** bench_loop's iteration count as a node check's local datum (what runGuestQemu serves). */
export function benchLoopCheck(iterations: number): NodeCheck {
  return { locals: new Map([[BENCH_LOOP_ITERATIONS_IDENT, benchLoopIterationsDatum(iterations)]]), preimages: { byKey: new Map() } } as unknown as NodeCheck;
}

async function mainModes(repo: string, log: (line: string) => void): Promise<void> {
  const n = (x: number) => x.toLocaleString("en-US");
  const M = (x: number) => `${(x / 1e6).toFixed(0)}M`;
  const benchElfPath = join(repo, "keeper", "guest", "build", "bench_loop.elf");
  const nodeElfPath = join(repo, "keeper", "guest", "build", "oao_node.elf");
  const benchElf = readBenchLoop(repo);
  const nodeElf = new Uint8Array(readFileSync(nodeElfPath));
  const runs = Number(process.env.BENCH_VM_RUNS ?? 5);
  const iterations = 20_000_000;
  const mnist = mnistNodeCheck(repo);
  const gemm = bigGemmCheck(64, 1024, 512);
  const programs = [
    { name: `bench_loop.elf, ${n(iterations)} iterations`, elf: benchElf, preimages: benchLoopPreimages(iterations) as PreimageSource, qemu: benchLoopCheck(iterations), elfPath: benchElfPath },
    { name: "oao_node.elf: MNIST node 1 (Gemm 1×784 · 96×784)", elf: nodeElf, preimages: preimageSource(mnist), qemu: mnist, elfPath: nodeElfPath },
    { name: "oao_node.elf: a one-node Gemm 64×1024 · 512×1024", elf: nodeElf, preimages: preimageSource(gemm), qemu: gemm, elfPath: nodeElfPath },
  ];
  const load = loadavg().map((x) => x.toFixed(1)).join(" ");
  console.log(`\nMachine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, load average ${load} (1/5/15 min) at the start; ${new Date().toISOString().slice(0, 10)}`);
  console.log(`Command: \`npm run bench:vm -- --modes\``);
  console.log(`\nFast mode, block translator (jit) vs interpreter vs qemu-mips: ${runs} runs each (interleaved in-process), best / median, millions of steps per second.\n`);
  console.log("| program | steps | interp, per CPU-s | jit, per CPU-s | jit, wall | jit ÷ interp (CPU, best) | qemu-mips, per CPU-s | qemu-mips, wall | jit ÷ qemu (CPU, best) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of programs) {
    const t = measureModes(p.name, p.elf, p.preimages, runs, log);
    const rate = (s: number) => t.steps / s;
    const pair = (xs: number[]) => `${M(rate(best(xs)))} / ${M(rate(median(xs)))}`;
    let qCpu = "not installed";
    let qWall = "";
    let ratio = "";
    if (hasQemu()) {
      const q = await qemuTimes(p.elfPath, p.qemu, runs);
      qWall = pair(q.wall);
      if (q.cpu.length > 0) {
        qCpu = best(q.cpu) > 0 ? pair(q.cpu) : "< 10 ms";
        ratio = best(q.cpu) > 0 ? `${((best(q.cpu) / best(t.jit)) * 100).toFixed(0)}%` : "";
      }
      log(`${p.name} qemu-mips: wall ${q.wall.map((x) => x.toFixed(3)).join(" ")} s, cpu ${q.cpu.join(" ")} s`);
    }
    console.log(`| ${p.name} | ${n(t.steps)} | ${pair(t.interp)} | ${pair(t.jit)} | ${pair(t.jitWall)} | ${(best(t.interp) / best(t.jit)).toFixed(2)}× | ${qCpu} | ${qWall} | ${ratio} |`);
  }
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
  const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
  // `npm run bench:vm -- --modes`: only the jit / interpreter / qemu-mips comparison.
  if (!process.argv.includes("--modes")) main();
  void mainModes(repo, (line) => console.error(line));
}

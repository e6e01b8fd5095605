/**
 * `/healthz` while the keeper computes (issue 13 "Responsive"; docs/benchmarks.md): `npm run bench:healthz --
 * [--model FILE] [--layers N] [--vm-node K] [--vm-depth D] [--runs N] [--only pool|in-thread] [--json]`. Starts the keeper's ops server (its own thread, as `oao keeper run`
 * does) and probes `/healthz` every 10 ms from another thread, while this thread runs, in turn, in-thread and on the
 * compute pool (keeper/src/service/compute-pool.ts):
 *   - the claim of a GPT-2-small-shaped request (the synthetic model of `npm run model:gpt`, generated into
 *     .oao/models/ if missing; `--layers N` a shallower one), and
 *   - a long guest VM run: the dispute move at VmStart on one node of that model (`--vm-node K`, default 2: the
 *     guest runs the node up to 2^`--vm-depth` steps, default 24, the offline game's trace), as the agent solves it.
 * Reports /healthz latency p50/p99/max, the `mainLoopLagMs` /healthz reported, and the main loop's longest stall
 * (perf_hooks event-loop delay, max), per case.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { cpus } from "node:os";
import { GPT2_SMALL, type GptConfig } from "../keeper/graph/gpt/gpt.ts";
import { toHex } from "../keeper/graph/index.ts";
import { GamePhase, Side, type GameView } from "../keeper/game/types.ts";
import { startOpsServer } from "../keeper/src/service/http.ts";
import { createMetrics } from "../keeper/src/service/metrics.ts";
import { loadModelFile, ModelBook } from "../keeper/src/service/models.ts";
import { createInThreadCompute, type ClaimJob, type Compute, type GameJob } from "../keeper/src/service/compute.ts";
import { createComputePool } from "../keeper/src/service/compute-pool.ts";
import { decodeRequestInput } from "../keeper/src/service/inference.ts";
import { generateGptModel, gptModelDir } from "./lib/gpt-model.ts";

const args = process.argv.slice(2);
const value = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const log = (s: string) => console.error(s);
const runs = Number(value("--runs") ?? "1");
const layers = value("--layers") !== undefined ? Number(value("--layers")) : GPT2_SMALL.layers;
if (!Number.isInteger(layers) || layers < 1 || layers > 48) throw new Error(`--layers ${value("--layers")}: expected an integer in 1..48`);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${value("--runs")}: expected a positive integer`);

// ---- models ------------------------------------------------------------------------------
const config: GptConfig = { ...GPT2_SMALL, layers };
let gptFile = value("--model");
if (gptFile === undefined) {
  const name = layers === GPT2_SMALL.layers ? "gpt2-small" : `gpt2-l${layers}-t${GPT2_SMALL.seqLen}-s${GPT2_SMALL.seed}`;
  gptFile = join(gptModelDir(repo, name), "model.oao");
  if (!existsSync(gptFile)) {
    log(`generating ${name} into ${gptFile} (once)…`);
    generateGptModel(config, gptFile);
  }
}
const GPT = 1n;
const elf = new Uint8Array(readFileSync(join(repo, "keeper/guest/build/oao_node.elf")));
log("loading the models on this thread (for the in-thread cases)…");
const models = new ModelBook();
models.add(GPT, loadModelFile(gptFile), gptFile);

const gptInput = (seed: number): ClaimJob => {
  const n = models.get(GPT)!.model.input.shape[0]!;
  const bytes = new Uint8Array(4 * n);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) view.setInt32(4 * i, (i * 7919 + 13 * seed) % GPT2_SMALL.vocab, true);
  return { modelId: GPT, input: bytes };
};

// The VmStart move of a game on node `vmNode` of the GPT model: the guest runs the node (as the agent's first VM move
// does) up to 2^vmDepth steps (24: the offline game's trace).
const vmNode = Number(value("--vm-node") ?? "2");
const vmDepth = BigInt(value("--vm-depth") ?? "24");
const vmModel = models.get(GPT)!;
const vmInput = gptInput(99).input;
const vmRun = vmModel.executor.run(decodeRequestInput(vmModel.model, vmInput));
let games = 0;
const vmJob = (): GameJob => {
  const clock = { usedSeconds: 0n, runningSince: 0n };
  const view: GameView = {
    address: `0x${(++games).toString(16).padStart(40, "0")}`, // a new game each time: nothing cached
    phase: GamePhase.VmStart,
    lo: 0n,
    hi: 1n << vmDepth,
    roundPoints: [],
    posted: [false, false],
    roundValues: [[], []],
    agreedValue: toHex(vmRun.trace.states[vmNode - 1]!) as `0x${string}`,
    disputedValues: [toHex(vmRun.trace.states[vmNode]!) as `0x${string}`, toHex(vmRun.trace.states[vmNode]!) as `0x${string}`],
    vmInputs: { nodeIndex: BigInt(vmNode), preState: toHex(vmRun.trace.states[vmNode - 1]!) as `0x${string}`, postState: toHex(vmRun.trace.states[vmNode]!) as `0x${string}`, localContext: `0x${"11".repeat(32)}` },
    clocks: [clock, clock],
    clockDuration: 3_600n,
    vmFinalPosition: 1n << vmDepth,
    now: 1n,
    stepPhaseSince: 0n,
    winner: undefined,
  };
  return { game: view.address, modelId: GPT, input: vmInput, view, side: Side.Defender };
};

// ---- probes ------------------------------------------------------------------------------
const ops = await startOpsServer({ host: "127.0.0.1", port: 0, metrics: createMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true }) });
const PROBE = `
const { parentPort, workerData } = require("node:worker_threads");
let on = false, lat = [], lag = 0;
async function loop() {
  while (on) {
    const t = performance.now();
    const res = await fetch(workerData.url + "/healthz");
    const body = await res.json();
    lat.push(performance.now() - t);
    if (body.mainLoopLagMs > lag) lag = body.mainLoopLagMs;
    await new Promise((r) => setTimeout(r, 10));
  }
}
parentPort.on("message", (m) => {
  if (m === "start") { on = true; lat = []; lag = 0; loop(); }
  else { on = false; setTimeout(() => parentPort.postMessage({ lat, lag }), 50); }
});`;
const prober = new Worker(PROBE, { eval: true, workerData: { url: ops.url } });
const probeResult = () => new Promise<{ lat: number[]; lag: number }>((r) => prober.once("message", r));

interface Row {
  case: string;
  where: "in-thread" | "pool";
  seconds: number;
  probes: number;
  healthzP50Ms: number;
  healthzP99Ms: number;
  healthzMaxMs: number;
  maxMainLoopLagMs: number;
  longestStallMs: number;
}
const rows: Row[] = [];
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function measure(name: string, where: Row["where"], work: () => Promise<unknown>) {
  prober.postMessage("start");
  await new Promise((r) => setTimeout(r, 200)); // probes running before the work starts
  // The main loop's longest stall: the largest gap between two runs of a 1 ms timer.
  let last = performance.now();
  let stall = 0;
  const beat = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const t = performance.now();
  await work();
  const seconds = (performance.now() - t) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(beat);
  const result = probeResult();
  prober.postMessage("stop");
  const { lat, lag } = await result;
  lat.sort((a, b) => a - b);
  const row: Row = {
    case: name,
    where,
    seconds: Number(seconds.toFixed(2)),
    probes: lat.length,
    healthzP50Ms: Number(pct(lat, 50).toFixed(1)),
    healthzP99Ms: Number(pct(lat, 99).toFixed(1)),
    healthzMaxMs: Number(lat.at(-1)!.toFixed(1)),
    maxMainLoopLagMs: lag,
    longestStallMs: Math.round(stall),
  };
  rows.push(row);
  log(`${name} (${where}): ${row.seconds} s; /healthz p50 ${row.healthzP50Ms} ms, p99 ${row.healthzP99Ms} ms, max ${row.healthzMaxMs} ms over ${row.probes} probes; mainLoopLagMs up to ${lag}; longest main-loop stall ${row.longestStallMs} ms`);
}

const inThread: Compute = createInThreadCompute(models, elf);
const pool = createComputePool({ threads: 1, modelFile: (id) => models.get(id)?.path, elf });
log("warming the pool (each thread loads its models once)…");
await pool.claim(gptInput(0));
await pool.solve(vmJob());
const vmName = `guest VM run (GPT node ${vmNode}, VmStart move, up to 2^${vmDepth} steps)`;
const gptName = `GPT-2-small-shaped claim (${layers} layers, ${GPT2_SMALL.seqLen} tokens)`;
const only = value("--only");
if (only !== undefined && only !== "pool" && only !== "in-thread") throw new Error(`--only ${only}: expected pool or in-thread`);
const cases = (["pool", "in-thread"] as const).filter((w) => only === undefined || w === only);
for (let r = 1; r <= runs; r++) {
  for (const where of cases) await measure(gptName, where, () => (where === "pool" ? pool : inThread).claim(gptInput(r)));
  for (const where of cases) await measure(vmName, where, () => (where === "pool" ? pool : inThread).solve(vmJob()));
}
await pool.close();
await prober.terminate();
await ops.close();

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`;
if (args.includes("--json")) console.log(JSON.stringify({ machine, rows }));
else {
  console.log(`machine: ${machine}`);
  console.log("| case | where | seconds | /healthz p50 ms | p99 ms | max ms | mainLoopLagMs max | longest main-loop stall ms |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.case} | ${r.where} | ${r.seconds} | ${r.healthzP50Ms} | ${r.healthzP99Ms} | ${r.healthzMaxMs} | ${r.maxMainLoopLagMs} | ${r.longestStallMs} |`);
}

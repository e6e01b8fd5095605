/**
 * The compute pool (keeper/src/service/compute-pool.ts): claims computed in worker threads that load the model files
 * themselves are bit-identical to the in-thread computation (MNIST and a GPT-2-shaped transformer), they run off the
 * main thread (the event loop keeps turning meanwhile), bad input is the same `InputError`, a thread that dies fails
 * its job naming it and is replaced, closing the pool fails what is left, and the pool keeps its metrics
 * (queue depth, busy threads, thread deaths by kind) current.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";
import { buildGpt, GPT_TINY } from "../../keeper/graph/gpt/gpt.ts";
import { buildModel, encodeModelFile } from "../../keeper/graph/model.ts";
import { elementCount, elementSize } from "../../keeper/graph/tensor.ts";
import { InputError, toHex, type Executor } from "../../keeper/graph/index.ts";
import { ComputeWorkerError, createGameSolver, createInThreadCompute, type ClaimJob } from "../../keeper/src/service/compute.ts";
import { Side, type GameView } from "../../keeper/game/types.ts";
import { createComputePool, type ComputePool } from "../../keeper/src/service/compute-pool.ts";
import { loadModelFile, ModelBook, resolveModelPath } from "../../keeper/src/service/models.ts";
import { seededRandom } from "../../keeper/graph/fixtures.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";

const MNIST = 1n;
const GPT = 2n;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "oao-compute-"));
  const gptFile = join(dir, "gpt-tiny.oao");
  writeFileSync(gptFile, encodeModelFile(buildModel(buildGpt({ ...GPT_TINY, width: 32, layers: 3 }))));
  const models = new ModelBook();
  const mnistFile = resolveModelPath("mnist");
  models.add(MNIST, loadModelFile(mnistFile), mnistFile);
  models.add(GPT, loadModelFile(gptFile), gptFile);
  return models;
}

/** Random valid inputs: int8 bytes for MNIST, token ids below the vocabulary for the GPT. */
function inputFor(models: ModelBook, modelId: bigint, seed: number): Uint8Array {
  const { dtype, shape } = models.get(modelId)!.model.input;
  const rand = seededRandom(seed);
  const bytes = new Uint8Array(elementCount(shape) * elementSize(dtype));
  if (modelId === GPT) {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < elementCount(shape); i++) view.setInt32(4 * i, Math.floor(rand() * GPT_TINY.vocab), true);
  } else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

const same = (a: { output: Uint8Array; traceRoot: string; proof: unknown }, b: typeof a) => {
  expect(toHex(a.output)).toBe(toHex(b.output));
  expect(a.traceRoot).toBe(b.traceRoot);
  expect(a.proof).toEqual(b.proof);
};

describe("compute pool", () => {
  let models: ModelBook;
  let pool: ComputePool;
  beforeAll(() => {
    models = setup();
    pool = createComputePool({ threads: 2, modelFile: (id) => models.get(id)?.path });
  });
  afterAll(() => pool.close());

  it("computes claims in worker threads bit-identical to in-thread, for MNIST and a transformer, while the main loop runs", async () => {
    const inThread = createInThreadCompute(models);
    const jobs: ClaimJob[] = [];
    for (let seed = 1; seed <= 3; seed++) for (const modelId of [MNIST, GPT]) jobs.push({ modelId, input: inputFor(models, modelId, seed) });
    let turns = 0;
    const beat = setInterval(() => turns++, 1);
    const pooled = await Promise.all(jobs.map((job) => pool.claim(job)));
    clearInterval(beat);
    expect(turns).toBeGreaterThan(0); // the main thread's event loop kept running while the threads computed
    for (const [i, job] of jobs.entries()) {
      const local = await inThread.claim(job);
      same(pooled[i]!, local);
      expect(pooled[i]!.run).toBeUndefined(); // the run's activations stay in the thread
    }
    // Different inputs give different claims (the comparison above is not vacuous).
    expect(pooled[0]!.traceRoot).not.toBe(pooled[2]!.traceRoot);
    const workers = pool.workers();
    expect(workers.map((w) => w.threadId)).not.toContain(threadId);
    expect(workers.reduce((n, w) => n + w.jobsDone, 0)).toBe(jobs.length);
    expect(workers.every((w) => w.role === "claim" && w.jobsDone > 0)).toBe(true); // both threads took work
  });

  it("rejects bad input with the same InputError as in-thread", async () => {
    const error = await pool.claim({ modelId: MNIST, input: Uint8Array.of(1, 2) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/request input is 2 bytes but the model takes 784/);
  });

  it("refuses a model without a file, saying what to do", async () => {
    await expect(pool.claim({ modelId: 9n, input: new Uint8Array(4) })).rejects.toThrow(/model 9 has no model file.*computeThreads to 0/);
  });

  it("fails the job of a thread that died, naming it, and replaces the thread", async () => {
    const job = pool.claim({ modelId: GPT, input: inputFor(models, GPT, 7) });
    const busy = pool.workers().find((w) => w.busy)!;
    pool.kill(busy.threadId);
    const error = await job.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComputeWorkerError);
    expect((error as Error).message).toContain(`compute thread ${busy.threadId} (claim) died while running the claim computation for model 2`);
    const live = pool.workers();
    expect(live).toHaveLength(2);
    expect(live.map((w) => w.threadId)).not.toContain(busy.threadId);
    // The replacement computes: the same claim as in-thread.
    const again = { modelId: GPT, input: inputFor(models, GPT, 7) };
    same(await pool.claim(again), createInThreadCompute(models).claimNow!(again));
  });

  it("threads that die on their own fail their jobs by name; after three that never finished a job the pool stops replacing them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-compute-"));
    const file = join(dir, "failing-worker.ts");
    writeFileSync(file, 'throw new Error("cannot start: no model memory");\n');
    const broken = createComputePool({ threads: 1, modelFile: (id) => models.get(id)?.path, workerFile: pathToFileURL(file) });
    try {
      for (let i = 0; i < 3; i++) {
        const error = await broken.claim({ modelId: MNIST, input: inputFor(models, MNIST, i) }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ComputeWorkerError);
        expect((error as Error).message).toMatch(/\(claim\) died while running the claim computation for model 1: cannot start: no model memory/);
      }
      await expect(broken.claim({ modelId: MNIST, input: inputFor(models, MNIST, 4) })).rejects.toThrow(/keep dying before finishing a job \(last: cannot start: no model memory\)/);
    } finally {
      await broken.close();
    }
  });

  it("reports the jobs waiting, the busy threads and each thread death (by kind) in the keeper's metrics", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const value = async (m: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, kind?: string) =>
      (await m.get()).values.find((v) => kind === undefined || v.labels.kind === kind)?.value ?? 0;
    const own = createComputePool({ threads: 1, modelFile: (id) => models.get(id)?.path, metrics });
    try {
      expect(await value(metrics.computeQueueDepth)).toBe(0);
      const jobs = [GPT, MNIST, MNIST].map((modelId, seed) => own.claim({ modelId, input: inputFor(models, modelId, seed) }).catch((e: unknown) => e));
      // One thread: the first job runs, the other two wait.
      expect(await value(metrics.computeBusyThreads)).toBe(1);
      expect(await value(metrics.computeQueueDepth)).toBe(2);
      expect(await value(metrics.computeThreadDeaths, "claim")).toBe(0);
      own.kill(own.workers()[0]!.threadId);
      expect(await value(metrics.computeThreadDeaths, "claim")).toBe(1);
      expect(await value(metrics.computeThreadDeaths, "game")).toBe(0);
      // The replacement took the next job: one waits now.
      expect(await value(metrics.computeBusyThreads)).toBe(1);
      expect(await value(metrics.computeQueueDepth)).toBe(1);
      const [killed, ...rest] = await Promise.all(jobs);
      expect(killed).toBeInstanceOf(ComputeWorkerError);
      for (const done of rest) expect(done).toHaveProperty("traceRoot");
      expect(await value(metrics.computeBusyThreads)).toBe(0);
      expect(await value(metrics.computeQueueDepth)).toBe(0);
      const text = await metrics.registry.metrics();
      expect(text).toContain('oao_keeper_compute_thread_deaths_total{kind="claim"} 1');
    } finally {
      await own.close();
    }
  });

  it("closing fails the running and queued jobs and refuses new ones", async () => {
    const own = createComputePool({ threads: 1, modelFile: (id) => models.get(id)?.path });
    const running = own.claim({ modelId: GPT, input: inputFor(models, GPT, 1) }).catch((e: unknown) => e);
    const queued = own.claim({ modelId: MNIST, input: inputFor(models, MNIST, 1) }).catch((e: unknown) => e);
    await own.close();
    expect(await running).toBeInstanceOf(ComputeWorkerError);
    expect(((await running) as Error).message).toMatch(/closed while the claim computation for model 2 was running/);
    expect(((await queued) as Error).message).toMatch(/closed before the claim computation for model 1 started/);
    await expect(own.claim({ modelId: MNIST, input: inputFor(models, MNIST, 1) })).rejects.toThrow(/compute pool is closed/);
    expect(own.workers().every((w) => !w.busy)).toBe(true);
  });
});

describe("game solver cache", () => {
  it("never plays a game with the traces of another input at the same address (a game re-created there after a reorg)", () => {
    const models = setup();
    const elf = new Uint8Array(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../keeper/guest/build/oao_node.elf")));
    let built = 0;
    const solver = createGameSolver((modelId) => {
      const loaded = models.get(modelId)!;
      // The executor, counting its runs (a run builds a game's traces).
      const executor = Object.create(loaded.executor) as Executor;
      executor.run = (input) => (built++, loaded.executor.run(input));
      return { model: loaded.model, executor };
    }, elf);
    const game = "0x00000000000000000000000000000000000000aa" as const;
    // A view no traces agree with: solving fails after the traces are built, which is all this test needs.
    const view = { address: game, phase: 0, lo: 0n, hi: 1n, roundPoints: [], posted: [false, false], roundValues: [[], []], agreedValue: `0x${"11".repeat(32)}`, disputedValues: [`0x${"22".repeat(32)}`, `0x${"33".repeat(32)}`] } as unknown as GameView;
    const tryIt = (input: Uint8Array) => {
      try {
        solver.solve({ game, modelId: GPT, input, view, side: Side.Challenger });
      } catch {
        // the junk view
      }
    };
    const a = inputFor(models, GPT, 1);
    const b = inputFor(models, GPT, 2);
    tryIt(a);
    tryIt(a);
    expect(built).toBe(1); // kept between moves of one game
    tryIt(b);
    expect(built).toBe(2); // same address, another input: built again, not reused
    tryIt(b);
    expect(built).toBe(2);
  });
});

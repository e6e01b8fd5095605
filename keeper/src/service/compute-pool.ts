/**
 * The compute pool (docs/protocol.md §6.0 "Compute threads"): `threads` worker threads compute claims, and one more
 * thread, kept for game work, solves dispute moves — so a long inference never delays a move. Each thread loads the
 * model files itself (the pool passes file paths, never models: a GPT-2-small model is 125 MB), and the game
 * thread keeps each game's traces between moves. A thread that dies (a crash, out of memory) fails the job it was
 * running with a `ComputeWorkerError` naming the job, and is replaced; a game thread's replacement rebuilds a game's
 * traces from the next job (every job carries the request it judges). Idle threads do not keep the process alive.
 */
import type { Worker } from "node:worker_threads";
import { GameError, type Action } from "../../game/types.ts";
import { InputError } from "../../graph/index.ts";
import { ConfigError, KeeperError } from "../errors.ts";
import { ComputeWorkerError, createInThreadCompute, describeJob, type ClaimJob, type Compute, type GameJob } from "./compute.ts";
import type { ModelBook } from "./models.ts";
import type { WorkerJob, WorkerReply } from "./compute-worker.ts";
import type { ComputedClaim } from "./inference.ts";
import type { Logger } from "./logger.ts";
import type { KeeperMetrics } from "./metrics.ts";
import { startTsWorker } from "./ts-worker.ts";

export interface ComputePoolParams {
  /** Threads computing claims (at least 1). */
  threads: number;
  /** The model file of a model id (ModelBook's `path`); undefined when the model was not loaded from a file. */
  modelFile(modelId: bigint): string | undefined;
  /** The guest program (oao_node.elf): with it, one more thread solves dispute moves. */
  elf?: Uint8Array;
  log?: Logger;
  /** The worker module (default compute-worker.ts); tests pass one that fails. */
  workerFile?: URL;
  /** Where the pool reports its queue depth, busy threads and thread deaths (the keeper's metrics). */
  metrics?: ComputePoolMetrics;
}

/** The keeper metrics the pool keeps current (metrics.ts): `oao_keeper_compute_*`. */
export type ComputePoolMetrics = Pick<KeeperMetrics, "computeQueueDepth" | "computeBusyThreads" | "computeThreadDeaths">;

export interface ComputePool extends Compute {
  /** The live threads: their ids, what they are for, and how many jobs each finished. */
  workers(): { threadId: number; role: "claim" | "game"; busy: boolean; jobsDone: number }[];
  /** Ends a thread as if it had crashed (its job fails, it is replaced): for tests and drills. */
  kill(threadId: number): void;
}

interface Job {
  id: number;
  message: WorkerJob;
  label: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  role: "claim" | "game";
  worker: Worker;
  threadId: number;
  busy: Job | undefined;
  dead: boolean;
  jobsDone: number;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

const WORKER_FILE = new URL("./compute-worker.ts", import.meta.url);

function rebuildError(error: { name: string; message: string }): Error {
  const e = error.name === "InputError" ? new InputError(error.message) : error.name === "GameError" ? new GameError(error.message) : new Error(error.message);
  if (e.name !== error.name) e.name = error.name;
  return e;
}

export function createComputePool(params: ComputePoolParams): ComputePool {
  if (!Number.isInteger(params.threads) || params.threads < 1) throw new ConfigError(`a compute pool needs at least 1 claim thread, got ${params.threads}`);
  const { log } = params;
  const claimQueue: Job[] = [];
  const gameQueue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 0;
  let closed = false;
  /** Threads in a row that died before finishing a job; at 3 the pool stops replacing them (they cannot start). */
  let deathsAtStart = 0;
  let broken: string | undefined;

  /** Publishes the jobs waiting and the threads running one (called after every change of either). */
  function report(): void {
    const m = params.metrics;
    if (!m) return;
    m.computeQueueDepth.set(claimQueue.length + gameQueue.length);
    m.computeBusyThreads.set(slots.filter((s) => !s.dead && s.busy !== undefined).length);
  }

  function spawn(role: "claim" | "game"): Slot {
    // The worker imports the graph, game and VM code (not erasable TypeScript): it loads through tsx.
    const worker = startTsWorker(params.workerFile ?? WORKER_FILE, { workerData: { elf: role === "game" ? params.elf : undefined } }, { tsx: true });
    const slot: Slot = { role, worker, threadId: worker.threadId, busy: undefined, dead: false, jobsDone: 0 };
    worker.on("message", (reply: WorkerReply) => {
      const job = slot.busy;
      if (slot.dead || job === undefined || job.id !== reply.id) return; // a fire-and-forget message's reply
      slot.busy = undefined;
      slot.jobsDone++;
      if (reply.ok) job.resolve(reply.value);
      else job.reject(rebuildError(reply.error));
      dispatch();
    });
    worker.on("error", (error) => died(slot, error.message));
    worker.on("exit", (code) => died(slot, `exit code ${code}`));
    worker.unref();
    return slot;
  }

  /** A thread is gone: its job fails (naming it), a replacement takes its place, the queue goes on. */
  function died(slot: Slot, reason: string): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = slots.indexOf(slot);
    const job = slot.busy;
    slot.busy = undefined;
    if (job) {
      job.reject(new ComputeWorkerError(`compute thread ${slot.threadId} (${slot.role}) died while running ${job.label}: ${reason}; it was replaced, ask again`));
    }
    if (closed || i < 0) return report();
    params.metrics?.computeThreadDeaths.inc({ kind: slot.role });
    deathsAtStart = slot.jobsDone === 0 ? deathsAtStart + 1 : 0;
    if (deathsAtStart >= 3) {
      broken = `compute threads keep dying before finishing a job (last: ${reason}); the pool stopped replacing them`;
      log?.error({ reason }, broken);
      for (const queued of [...claimQueue.splice(0), ...gameQueue.splice(0)]) queued.reject(new ComputeWorkerError(`${broken}: ${queued.label} was not run`));
      return report();
    }
    log?.error({ threadId: slot.threadId, role: slot.role, job: job?.label, reason }, "compute thread died; replacing it");
    slots[i] = spawn(slot.role);
    dispatch();
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.dead || slot.busy) continue;
      const job = (slot.role === "game" ? gameQueue : claimQueue).shift();
      if (!job) {
        slot.worker.unref();
        continue;
      }
      slot.busy = job;
      slot.worker.ref();
      slot.worker.postMessage(job.message);
    }
    report();
  }

  function submit<T>(role: "claim" | "game", message: WithoutId<WorkerJob>, label: string): Promise<T> {
    if (closed) return Promise.reject(new ComputeWorkerError(`the compute pool is closed: ${label} was not started`));
    if (broken !== undefined) return Promise.reject(new ComputeWorkerError(`${broken}: ${label} was not run`));
    return new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      (role === "game" ? gameQueue : claimQueue).push({ id, message: { ...message, id } as WorkerJob, label, resolve: resolve as (v: unknown) => void, reject });
      dispatch();
    });
  }

  const fileOf = (modelId: bigint, what: string) => {
    const file = params.modelFile(modelId);
    if (file === undefined) throw new KeeperError(`${what}: model ${modelId} has no model file, and compute threads load models from files (serve it from a file, or set computeThreads to 0)`);
    return file;
  };

  for (let i = 0; i < params.threads; i++) slots.push(spawn("claim"));
  if (params.elf) slots.push(spawn("game"));

  return {
    threads: slots.length,
    async claim(job: ClaimJob): Promise<ComputedClaim> {
      const label = describeJob({ type: "claim", modelId: job.modelId });
      return submit<ComputedClaim>("claim", { type: "claim", file: fileOf(job.modelId, label), modelId: job.modelId, input: job.input }, label);
    },
    async claimBatch(modelId: bigint, inputs: readonly Uint8Array[]): Promise<(ComputedClaim | Error)[]> {
      const label = `${describeJob({ type: "claim", modelId })} (a batch of ${inputs.length})`;
      const replies = await submit<({ error: { name: string; message: string } } | ComputedClaim)[]>("claim", { type: "claims", file: fileOf(modelId, label), modelId, inputs: [...inputs] }, label);
      return replies.map((r) => ("error" in r ? rebuildError(r.error) : r));
    },
    async solve(job: GameJob): Promise<Action[]> {
      const label = describeJob({ type: "solve", modelId: job.modelId, game: job.game });
      if (!params.elf) throw new KeeperError(`cannot solve ${label}: this compute pool was made without the guest program (elf)`);
      return submit<Action[]>("game", { type: "solve", file: fileOf(job.modelId, label), ...job }, label);
    },
    forgetGame(game) {
      const slot = slots.find((s) => s.role === "game" && !s.dead);
      // Queued behind the game's moves, fire and forget: a game thread that dies forgets everything anyway.
      if (slot) void submit("game", { type: "forget", game }, `forgetting game ${game}`).catch(() => {});
    },
    workers: () => slots.map((s) => ({ threadId: s.threadId, role: s.role, busy: s.busy !== undefined, jobsDone: s.jobsDone })),
    kill(threadId) {
      const slot = slots.find((s) => s.threadId === threadId && !s.dead);
      if (!slot) throw new KeeperError(`no live compute thread ${threadId} (live: ${slots.map((s) => s.threadId).join(", ")})`);
      const { worker } = slot;
      died(slot, "killed");
      void worker.terminate();
    },
    async close() {
      closed = true;
      for (const job of [...claimQueue.splice(0), ...gameQueue.splice(0)]) job.reject(new ComputeWorkerError(`the compute pool closed before ${job.label} started`));
      await Promise.all(
        slots.map(async (slot) => {
          const job = slot.busy;
          slot.dead = true;
          slot.busy = undefined;
          job?.reject(new ComputeWorkerError(`the compute pool closed while ${job.label} was running`));
          await slot.worker.terminate();
        }),
      );
      report();
    },
  };
}

/**
 * The keeper's compute for config `computeThreads`: a pool of that many claim threads plus the game thread, or (0)
 * everything in-thread. Models not loaded from a file cannot be loaded by a thread: then it stays in-thread and says why.
 */
export function createKeeperCompute(p: { threads: number; models: ModelBook; elf: Uint8Array; log?: Logger; metrics?: ComputePoolMetrics }): Compute {
  if (p.threads === 0) return createInThreadCompute(p.models, p.elf);
  const fileless = p.models.ids().filter((id) => p.models.get(id)!.path === undefined);
  if (fileless.length > 0) {
    p.log?.warn({ models: fileless.map(String) }, "computing in-thread: these models were not loaded from a file, which compute threads need");
    return createInThreadCompute(p.models, p.elf);
  }
  p.log?.info({ claimThreads: p.threads, gameThreads: 1 }, "compute threads started");
  return createComputePool({ threads: p.threads, modelFile: (id) => p.models.get(id)?.path, elf: p.elf, log: p.log, metrics: p.metrics });
}

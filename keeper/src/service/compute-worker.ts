/**
 * One compute thread of the pool (compute-pool.ts): loads each model from its file itself (one resident copy per
 * thread, loaded on first use), then runs the jobs the pool posts one at a time — claim computations, and on the
 * game thread dispute-game moves — and posts each result or error back under the job's id.
 *
 * Loaded through tsx (startTsWorker with `tsx: true`): the graph and game code it runs is not erasable TypeScript.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { InputError } from "../../graph/index.ts";
import { claimOnly, createGameSolver, type GameJob } from "./compute.ts";
import { computeClaim, computeClaims } from "./inference.ts";
import { loadModel } from "./models.ts";

export type WorkerJob =
  | { id: number; type: "claim"; file: string; modelId: bigint; input: Uint8Array }
  | { id: number; type: "claims"; file: string; modelId: bigint; inputs: Uint8Array[] }
  | ({ id: number; type: "solve"; file: string } & GameJob)
  | { id: number; type: "forget"; game: string };

export type WorkerReply = { id: number; threadId: number; ok: true; value: unknown } | { id: number; threadId: number; ok: false; error: { name: string; message: string } };

const port = parentPort!;
const { elf } = workerData as { elf?: Uint8Array };
const loaded = new Map<string, ReturnType<typeof loadModel>>();
const fileOf = new Map<bigint, string>();

function modelAt(file: string) {
  let m = loaded.get(file);
  if (m === undefined) {
    m = loadModel(file);
    loaded.set(file, m);
  }
  return m;
}

const games = elf
  ? createGameSolver((modelId) => {
      const file = fileOf.get(modelId);
      if (file === undefined) throw new InputError(`model ${modelId}: no model file given to this compute thread`);
      return modelAt(file);
    }, elf)
  : undefined;

function run(job: WorkerJob): unknown {
  switch (job.type) {
    case "claim":
      return claimOnly(computeClaim(modelAt(job.file).executor, job.input));
    case "claims":
      // Errors cross the thread as { error } (an Error object would arrive as a plain object).
      return computeClaims(modelAt(job.file).executor, job.inputs).map((c) => (c instanceof Error ? { error: { name: c.name, message: c.message } } : claimOnly(c)));
    case "solve":
      if (!games) throw new Error("this compute thread was started without the guest program: it cannot solve games");
      fileOf.set(job.modelId, job.file);
      return games.solve(job);
    case "forget":
      games?.forget(job.game);
      return undefined;
  }
}

port.on("message", (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    reply = { id: job.id, threadId, ok: true, value: run(job) };
  } catch (error) {
    const e = error as Error;
    reply = { id: job.id, threadId, ok: false, error: { name: e?.name ?? "Error", message: e?.message ?? String(error) } };
  }
  port.postMessage(reply);
});

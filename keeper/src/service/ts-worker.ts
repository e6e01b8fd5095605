/**
 * Starts a worker thread on a TypeScript module of this repository. A module that is erasable TypeScript (and imports
 * only such modules) loads with Node's own type stripping where Node has it (>= 22.18); otherwise — an older Node, or
 * `tsx: true` for modules that import code with enums or parameter properties (the graph, game and VM code) — it
 * loads through tsx, as the CLI does.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

export function startTsWorker(file: URL, options: Omit<WorkerOptions, "eval"> = {}, { tsx = false } = {}): Worker {
  if (!tsx && (process.features as { typescript?: string }).typescript) return new Worker(file, options);
  return new Worker(
    `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => m.register()).then(() => import(${JSON.stringify(file.href)}))`,
    { ...options, eval: true },
  );
}

/**
 * The keeper's model book: which model ids it serves, loaded once. A model is served only if the
 * file on disk is the model registered on chain under that id (same modelRoot); otherwise the
 * keeper refuses it rather than answer with the wrong weights.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeModelFile, Executor, KernelRuntime, toHex, type Model } from "../../graph/index.ts";
import { ConfigError } from "../errors.ts";

export const SHIPPED_MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));

export interface LoadedModel {
  modelId: bigint;
  model: Model;
  executor: Executor;
  modelRoot: `0x${string}`;
}

/** Resolves a config entry: a shipped model name ("mnist") or a directory/file path. */
export function resolveModelPath(entry: string, baseDir = process.cwd()): string {
  const shipped = join(SHIPPED_MODELS_DIR, entry, "model.oao");
  if (/^[a-z0-9][a-z0-9._-]*$/i.test(entry) && existsSync(shipped)) return shipped;
  const path = resolve(baseDir, entry);
  const file = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? join(path, "model.oao") : path;
  if (!existsSync(file)) throw new ConfigError(`model ${entry}: no shipped model of that name and no file at ${file}`);
  return file;
}

/**
 * Loads a model file for execution with one resident copy of its weights: the file is read
 * straight into a region of a fresh kernel runtime, decoded there (int8 weights stay where they
 * lie) and an Executor is built on that runtime, using them in place. Nothing else holds the file.
 */
export function loadModel(file: string): { model: Model; executor: Executor } {
  const runtime = new KernelRuntime();
  let region: Uint8Array;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const ptr = runtime.alloc(size);
    region = runtime.bytes(ptr, size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, region, off, size - off, off);
      if (n === 0) throw new ConfigError(`model file ${file} shrank while being read (${off} of ${size} bytes)`);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  let model: Model;
  try {
    model = decodeModelFile(region, runtime);
  } catch (cause) {
    throw new ConfigError(`model file ${file} is not a valid model: ${(cause as Error).message}`, { cause });
  }
  const executor = new Executor(model, runtime);
  executors.set(model, executor);
  return { model, executor };
}

/** The executor each model loaded by `loadModel` was built with (it owns the weights' memory). */
const executors = new WeakMap<Model, Executor>();

/** The model of `loadModel(file)`; its executor is the one a ModelBook then serves it with. */
export function loadModelFile(file: string): Model {
  return loadModel(file).model;
}

/** The executor of a model: the one it was loaded with (no second copy of the weights), else a new one. */
export function executorFor(model: Model): Executor {
  let executor = executors.get(model);
  if (!executor) {
    executor = new Executor(model);
    executors.set(model, executor);
  }
  return executor;
}

export class ModelBook {
  private readonly models = new Map<bigint, LoadedModel>();

  add(modelId: bigint, model: Model): LoadedModel {
    const loaded = { modelId, model, executor: executorFor(model), modelRoot: toHex(model.modelRoot) as `0x${string}` };
    this.models.set(modelId, loaded);
    return loaded;
  }

  get(modelId: bigint): LoadedModel | undefined {
    return this.models.get(modelId);
  }

  ids(): bigint[] {
    return [...this.models.keys()];
  }

  /** Checks every model against the registry's modelRoot; returns the mismatches (not served). */
  async verifyAgainstChain(readModelRoot: (modelId: bigint) => Promise<`0x${string}` | undefined>): Promise<string[]> {
    const problems: string[] = [];
    for (const [id, loaded] of this.models) {
      const onChain = await readModelRoot(id);
      if (onChain === undefined || onChain.toLowerCase() !== loaded.modelRoot.toLowerCase()) {
        problems.push(`model ${id}: the chain has modelRoot ${onChain ?? "(none)"} but the file has ${loaded.modelRoot}`);
        this.models.delete(id);
      }
    }
    return problems;
  }
}

/**
 * The keeper's model book: which model ids it serves, loaded once. A model is served only if the
 * file on disk is the model registered on chain under that id (same modelRoot), registered with the
 * guest program this keeper disputes with, and small enough per node for the game's VM trace;
 * otherwise the keeper refuses it rather than answer for what it could not defend.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeModelFile, Executor, KernelRuntime, OP_NAMES, toHex, type Model } from "../../graph/index.ts";
import { vmTraceDepthFor } from "../../game/solver.ts";
import { stepSlack } from "../../guest/node/vm.ts";
import { ConfigError } from "../errors.ts";

export const SHIPPED_MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));

export interface LoadedModel {
  modelId: bigint;
  model: Model;
  executor: Executor;
  modelRoot: `0x${string}`;
  /** The file it was loaded from: compute threads load their own copy from it (compute-pool.ts). */
  path?: string;
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

  /** Serves `model` under `modelId`; `path` is the file it was loaded from (needed by compute threads). */
  add(modelId: bigint, model: Model, path?: string): LoadedModel {
    const loaded: LoadedModel = { modelId, model, executor: executorFor(model), modelRoot: toHex(model.modelRoot) as `0x${string}`, ...(path !== undefined ? { path } : {}) };
    this.models.set(modelId, loaded);
    return loaded;
  }

  get(modelId: bigint): LoadedModel | undefined {
    return this.models.get(modelId);
  }

  ids(): bigint[] {
    return [...this.models.keys()];
  }

  /**
   * Keeps only the models this keeper can answer for and defend (docs/protocol.md §6.0); returns why
   * each other one is not served. A model is served when the registry has it under its id with this
   * file's modelRoot, registers the absolute prestate of the guest program this keeper plays disputes
   * with, and every node of it exits within the VM trace of the game that would judge a new request
   * (2^vmTraceDepth steps): otherwise a dispute on it could not be won, or not be played at all.
   */
  async verifyAgainstChain(check: ServeCheck): Promise<string[]> {
    const problems: string[] = [];
    for (const [id, loaded] of this.models) {
      const problem = await servingProblem(id, loaded, check);
      if (problem !== undefined) {
        problems.push(problem);
        this.models.delete(id);
      }
    }
    return problems;
  }
}

/** What the chain registers for a model. */
export interface RegisteredModel {
  modelRoot: `0x${string}`;
  absolutePrestate: `0x${string}`;
}

/** What a keeper checks its models against before serving them. */
export interface ServeCheck {
  /** The registry's entry for a model id; undefined when there is none. */
  readModel(modelId: bigint): Promise<RegisteredModel | undefined>;
  /** The absolute prestate of the guest program this keeper plays disputes with (§4.7). */
  guestPrestate: `0x${string}`;
  /**
   * vmTraceDepth of the game factory new requests are judged by; undefined skips the depth check
   * (only `oao dispute simulate` on a deployment deliberately too shallow for its model, and `oao demo`'s text model on
   * a deployment at production's depth, skipping minutes of measurement, do that: docs/protocol.md §6.0).
   */
  vmTraceDepth: number | undefined;
  /**
   * The VM steps of each node (index k - 1 for node k), `undefined` for one that has not exited
   * after `maxSteps`; measured by the guest (measureNodeSteps) or read from a cache of it.
   */
  nodeSteps(loaded: LoadedModel, maxSteps: number): (number | undefined)[];
}

async function servingProblem(id: bigint, loaded: LoadedModel, check: ServeCheck): Promise<string | undefined> {
  const onChain = await check.readModel(id);
  if (onChain === undefined) return `model ${id}: the registry has no model under this id (the file has modelRoot ${loaded.modelRoot}); register it or fix the id in config.models`;
  if (onChain.modelRoot.toLowerCase() !== loaded.modelRoot.toLowerCase()) {
    return `model ${id}: the chain has modelRoot ${onChain.modelRoot} but the file has ${loaded.modelRoot}`;
  }
  if (onChain.absolutePrestate.toLowerCase() !== check.guestPrestate.toLowerCase()) {
    return (
      `model ${id}: the chain registers absolutePrestate ${onChain.absolutePrestate}, but this keeper's guest program ` +
      `(keeper/guest/build/oao_node.elf) starts from ${check.guestPrestate}: a dispute on this model runs another program, ` +
      "and this keeper could not prove its own answers; run the keeper release whose guest the model was registered with"
    );
  }
  const depth = check.vmTraceDepth;
  if (depth === undefined) return undefined;
  const limit = 2 ** depth;
  const [first] = longNodes(loaded.model, check.nodeSteps(loaded, limit + 1), depth);
  if (first !== undefined) {
    return `model ${id}: ${first}: a dispute on it would end undecided, so this keeper could not defend an answer (split the node, or deploy a game with a deeper trace)`;
  }
  return undefined;
}

/**
 * The nodes of `model` that do not fit a VM trace of 2^depth steps, one sentence each, given the
 * guest's measured steps per node (`undefined`: not exited within the bound) and what other input
 * values can add (`stepSlack`). Used by the keeper's serving check and by `oao model import`.
 */
export function longNodes(model: Model, steps: readonly (number | undefined)[], depth: number): string[] {
  const limit = 2 ** depth;
  const out: string[] = [];
  for (const [i, measured] of steps.entries()) {
    const node = model.nodes[i]!;
    // the most steps any input can take: the measured count and what other values can add to it
    const slack = stepSlack(node);
    const n = measured === undefined ? undefined : measured + slack;
    if (n !== undefined && n <= limit) continue;
    const op = OP_NAMES[node.op] ?? `op ${node.op}`;
    const runs =
      measured === undefined ? `does not exit within ${limit + 1} VM steps` : slack === 0 ? `runs ${measured} VM steps` : `runs up to ${n} VM steps (${measured} measured, up to ${slack} more on other values)`;
    const needs = n === undefined ? `vmTraceDepth > ${depth}` : `vmTraceDepth >= ${vmTraceDepthFor(BigInt(n))}`;
    out.push(`node ${i + 1} (${op}) ${runs}, more than the ${limit} steps (2^${depth}) the game's VM trace covers; it needs ${needs}`);
  }
  return out;
}

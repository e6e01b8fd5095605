/**
 * Synthetic GPT models in the gitignored cache `.oao/models/<name>/model.oao` (keeper/graph/gpt,
 * seeded weights, no downloads): generated once, streamed out part by part (the weights are held
 * once, as the model's tensors), reused while the cached file's config matches. Used by
 * `npm run model:gpt` (scripts/gen-gpt.ts), the bench's scale section (scripts/bench/scale.ts) and,
 * with `tokens`, its textgen section: the KV-cache generation graph of T tokens
 * (keeper/graph/onnx/generate.ts) derived from a full-sequence byte-vocabulary config.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { buildGpt, gptParamCount, type GptConfig } from "../../keeper/graph/gpt/gpt.ts";
import { buildModel, modelFileBody, type Model } from "../../keeper/graph/model.ts";
import { generationSpec } from "../../keeper/graph/onnx/generate.ts";
import { loadModel } from "../../keeper/src/service/models.ts";
import { keccakStream } from "../../keeper/graph/hash.ts";

export function gptModelDir(repo: string, name: string): string {
  return join(repo, ".oao", "models", name);
}

export interface GeneratedGpt {
  file: string;
  model: Model;
  params: number;
  bytes: number;
  seconds: { generate: number; commit: number; write: number };
}

/**
 * Builds the model of `config` — or, with `tokens`, the generation graph of that many tokens derived
 * from it — and writes it to `file` (through a temporary file: never a torn model).
 */
export function generateGptModel(config: GptConfig, file: string, tokens?: number): GeneratedGpt {
  const t0 = performance.now();
  const spec = tokens === undefined ? buildGpt(config) : generationSpec(buildGpt(config), tokens).spec;
  const t1 = performance.now();
  const model = buildModel(spec);
  const t2 = performance.now();
  mkdirSync(join(file, ".."), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w");
  let bytes = 0;
  try {
    function* written(parts: Iterable<Uint8Array>): Generator<Uint8Array> {
      for (const p of parts) {
        writeSync(fd, p);
        bytes += p.length;
        yield p;
      }
    }
    const integrity = keccakStream(written(modelFileBody(model)));
    writeSync(fd, integrity);
    bytes += 32;
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const t3 = performance.now();
  return { file, model, params: gptParamCount(config), bytes, seconds: { generate: (t1 - t0) / 1000, commit: (t2 - t1) / 1000, write: (t3 - t2) / 1000 } };
}

/** Whether a decoded model was generated from exactly `config` (and is the generation graph of `tokens`, if given). */
function sameConfig(model: Model, config: GptConfig, tokens?: number): boolean {
  const gpt = model.metadata.gpt as Partial<GptConfig> | undefined;
  const generation = model.metadata.generation as { tokens?: number } | undefined;
  if (generation?.tokens !== tokens) return false;
  return gpt !== undefined && (Object.keys(config) as (keyof GptConfig)[]).every((k) => gpt[k] === config[k]);
}

/**
 * The cached model `name` of `config`: loaded (commitments recomputed by decodeModelFile) when the
 * file exists and was generated from the same config, else generated.
 */
export function ensureGptModel(
  repo: string,
  name: string,
  config: GptConfig,
  log: (line: string) => void = () => {},
  tokens?: number,
): { file: string; model: Model; bytes: number; generated: boolean; seconds: number } {
  const file = join(gptModelDir(repo, name), "model.oao");
  const t0 = performance.now();
  if (existsSync(file)) {
    // The keeper's loader: the file read straight into kernel memory, the weights resident once.
    const { model } = loadModel(file);
    if (sameConfig(model, config, tokens)) return { file, model, bytes: statSync(file).size, generated: false, seconds: (performance.now() - t0) / 1000 };
    log(`${file} was generated from another config: regenerating`);
  }
  log(`generating ${name}: ${gptParamCount(config).toLocaleString()} parameters${tokens === undefined ? "" : `, the generation graph of ${tokens} tokens`}…`);
  const g = generateGptModel(config, file, tokens);
  return { file, model: g.model, bytes: g.bytes, generated: true, seconds: (performance.now() - t0) / 1000 };
}

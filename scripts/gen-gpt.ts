/**
 * Generates the synthetic GPT-2-small model (keeper/graph/gpt, seeded weights, no downloads) into the
 * gitignored cache `.oao/models/<name>/model.oao`, streaming the file out part by part (the weights
 * are held once, as the model's tensors). `npm run model:gpt -- [--tiny] [--layers N] [--seq N]
 * [--seed N] [--out DIR] [--force] [--json]`. Prints the model's figures; with --json the last line is
 * one JSON object.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GPT2_SMALL, GPT_TINY, gptParamCount, type GptConfig } from "../keeper/graph/gpt/gpt.ts";
import { toHex } from "../keeper/graph/hash.ts";
import { generateGptModel, gptModelDir } from "./lib/gpt-model.ts";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const intArg = (name: string, dflt: number): number => {
  const v = value(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} ${v}: expected a positive integer`);
  return n;
};

const base = flag("--tiny") ? GPT_TINY : GPT2_SMALL;
const config: GptConfig = { ...base, layers: intArg("--layers", base.layers), seqLen: intArg("--seq", base.seqLen), seed: intArg("--seed", base.seed) };
const name = flag("--tiny") ? "gpt-tiny" : config.layers === GPT2_SMALL.layers && config.seqLen === GPT2_SMALL.seqLen && config.seed === GPT2_SMALL.seed ? "gpt2-small" : `gpt2-l${config.layers}-t${config.seqLen}-s${config.seed}`;
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dir = resolve(value("--out") ?? gptModelDir(repo, name));
const file = join(dir, "model.oao");

if (existsSync(file) && !flag("--force")) {
  console.error(`${file} exists (use --force to regenerate)`);
  if (flag("--json")) console.log(JSON.stringify({ file, cached: true }));
  process.exit(0);
}

const mb = (b: number) => Math.round(b / 2 ** 20);
console.error(`generating ${name}: ${gptParamCount(config).toLocaleString()} parameters…`);
const { model, bytes, seconds } = generateGptModel(config, file);
const summary = {
  file,
  name,
  config,
  params: gptParamCount(config),
  nodes: model.nodes.length,
  weights: model.weights.length,
  bytes,
  modelRoot: toHex(model.modelRoot),
  seconds,
  maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
};
console.error(`wrote ${file}: ${bytes.toLocaleString()} bytes, ${summary.nodes} nodes, modelRoot ${summary.modelRoot}, max RSS ${summary.maxRssMB} MB`);
if (flag("--json")) console.log(JSON.stringify(summary));

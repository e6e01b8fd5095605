/**
 * Generates the synthetic GPT-2-small model (keeper/graph/gpt, seeded weights, no downloads) into the
 * gitignored cache `.oao/models/<name>/model.oao`, streaming the file out part by part (the weights
 * are held once, as the model's tensors). `npm run model:gpt -- [--tiny] [--layers N] [--seq N]
 * [--seed N] [--out DIR] [--force] [--json]`. Prints the model's figures; with --json the last line is
 * one JSON object.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildGpt, GPT2_SMALL, GPT_TINY, gptParamCount, type GptConfig } from "../keeper/graph/gpt/gpt.ts";
import { buildModel, modelFileBody } from "../keeper/graph/model.ts";
import { keccakStream, toHex } from "../keeper/graph/hash.ts";

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
const dir = resolve(value("--out") ?? join(repo, ".oao", "models", name));
const file = join(dir, "model.oao");

if (existsSync(file) && !flag("--force")) {
  console.error(`${file} exists (use --force to regenerate)`);
  if (flag("--json")) console.log(JSON.stringify({ file, cached: true }));
  process.exit(0);
}

const mb = (b: number) => Math.round(b / 2 ** 20);
const t0 = performance.now();
console.error(`generating ${name}: ${gptParamCount(config).toLocaleString()} parameters…`);
const spec = buildGpt(config);
const t1 = performance.now();
const model = buildModel(spec);
const t2 = performance.now();
mkdirSync(dir, { recursive: true });
const tmp = `${file}.tmp`;
const fd = openSync(tmp, "w");
let bytes = 0;
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
closeSync(fd);
renameSync(tmp, file);
const t3 = performance.now();
const summary = {
  file,
  name,
  config,
  params: gptParamCount(config),
  nodes: model.nodes.length,
  weights: model.weights.length,
  bytes,
  modelRoot: toHex(model.modelRoot),
  seconds: { generate: (t1 - t0) / 1000, commit: (t2 - t1) / 1000, write: (t3 - t2) / 1000 },
  maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
};
console.error(`wrote ${file}: ${bytes.toLocaleString()} bytes, ${summary.nodes} nodes, modelRoot ${summary.modelRoot}, max RSS ${summary.maxRssMB} MB`);
if (flag("--json")) console.log(JSON.stringify(summary));

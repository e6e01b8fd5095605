/**
 * The trained text language model (keeper/models/text_lm, issue 15): the float model (its committed
 * ONNX through onnxruntime-node, one thread) against the int8 model file through our executor, on the
 * held-out windows of fixture.json (made by scripts/models/train_text_lm.py):
 * - held-out loss (nats/byte) and perplexity of both, and the next-byte accuracy;
 * - next-byte argmax agreement int8 vs float at every position of every window;
 * - greedy continuations (full forward passes over the zero-padded window, stopping at the 0x00 end
 *   byte or the context: the rule of docs/text-generation.md) from the windows' first bytes: the
 *   share of generated tokens equal at the same position, and of those before the first divergence;
 * - greedy text from the fixture's prompts, float and int8.
 *
 *   npx tsx scripts/models/eval_text_lm.ts [--dir keeper/models/text_lm] [--prompt-bytes 64] [--tokens 32] [--json]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { decodeModelFile } from "../../keeper/graph/model.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { dequantize, quantizeInput } from "../../keeper/graph/quant.ts";

interface Fixture {
  context: number;
  params: number;
  heldoutLoss: number;
  windows: number[][];
  windowsNext: number[][];
  windowsLoss: number;
  windowsArgmax: number[][];
  prompts: { text: string; ids: number[]; greedy: string }[];
}

const V = 256, END = 0;

const { values: args } = parseArgs({
  options: { dir: { type: "string", default: "keeper/models/text_lm" }, "prompt-bytes": { type: "string", default: "64" }, tokens: { type: "string", default: "32" }, json: { type: "boolean" } },
});
const dir = args.dir!;
const promptBytes = Number(args["prompt-bytes"]), tokens = Number(args.tokens);
const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as Fixture;
const C = fx.context;
if (!(Number.isInteger(promptBytes) && promptBytes >= 1 && promptBytes < C)) throw new Error(`--prompt-bytes ${args["prompt-bytes"]}: expected an integer in [1, ${C - 1}]`);
if (!(Number.isInteger(tokens) && tokens >= 1)) throw new Error(`--tokens ${args.tokens}: expected a positive integer`);

const model = decodeModelFile(new Uint8Array(readFileSync(join(dir, "model.oao"))));
const exec = new Executor(model);
const session = await ort.InferenceSession.create(join(dir, "text_lm.onnx"), { intraOpNumThreads: 1, interOpNumThreads: 1 });

const pad = (ids: readonly number[]) => [...ids, ...new Array<number>(C - ids.length).fill(0)];
type Logits = ArrayLike<number>; // [C * 256]
async function floatLogits(ids: readonly number[]): Promise<Logits> {
  const out = await session.run({ ids: new ort.Tensor("int64", BigInt64Array.from(pad(ids), (x) => BigInt(x)), [1, C]) });
  return out.logits!.data as Float32Array;
}
async function int8Logits(ids: readonly number[]): Promise<Logits> {
  return dequantize(model, exec.infer(quantizeInput(model, pad(ids))));
}
function argmax(l: Logits, row: number): number {
  let best = 0;
  for (let j = 1; j < V; j++) if (l[row * V + j]! > l[row * V + best]!) best = j;
  return best;
}
function nll(l: Logits, row: number, target: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) m = Math.max(m, l[row * V + j]!);
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(l[row * V + j]! - m);
  return m + Math.log(s) - l[row * V + target]!;
}
async function greedy(run: (ids: readonly number[]) => Promise<Logits>, prompt: readonly number[], n: number): Promise<number[]> {
  const ids = [...prompt], gen: number[] = [];
  while (gen.length < n && ids.length < C) {
    const t = argmax(await run(ids), ids.length - 1);
    gen.push(t);
    if (t === END) break;
    ids.push(t);
  }
  return gen;
}
const text = (b: readonly number[]) => Buffer.from(b.filter((x) => x !== END)).toString("utf8");

// 1. held-out windows: loss, accuracy, argmax agreement
let fl = 0, ql = 0, fAcc = 0, qAcc = 0, agree = 0, agreeTorch = 0, n = 0;
for (let i = 0; i < fx.windows.length; i++) {
  const w = fx.windows[i]!, next = fx.windowsNext[i]!;
  const f = await floatLogits(w), q = await int8Logits(w);
  for (let p = 0; p < C; p++) {
    const fa = argmax(f, p), qa = argmax(q, p);
    fl += nll(f, p, next[p]!);
    ql += nll(q, p, next[p]!);
    if (fa === next[p]) fAcc++;
    if (qa === next[p]) qAcc++;
    if (fa === qa) agree++;
    if (qa === fx.windowsArgmax[i]![p]) agreeTorch++;
    n++;
  }
}

// 2. greedy continuations from the windows' first bytes
let same = 0, prefix = 0, total = 0;
for (const w of fx.windows) {
  const prompt = w.slice(0, promptBytes);
  const a = await greedy(floatLogits, prompt, tokens), b = await greedy(int8Logits, prompt, tokens);
  let k = 0;
  while (k < a.length && a[k] === b[k]) k++;
  prefix += k;
  for (let j = 0; j < a.length; j++) if (a[j] === b[j]) same++;
  total += a.length;
}

// 3. the fixture's prompts
const samples = [];
for (const p of fx.prompts) {
  samples.push({ prompt: p.text, torch: p.greedy, float: text(await greedy(floatLogits, p.ids, 64)), int8: text(await greedy(int8Logits, p.ids, 64)) });
}

const res = {
  params: fx.params,
  windows: fx.windows.length,
  predictions: n,
  floatLoss: fl / n,
  int8Loss: ql / n,
  floatPerplexity: Math.exp(fl / n),
  int8Perplexity: Math.exp(ql / n),
  torchWindowsLoss: fx.windowsLoss,
  torchHeldoutLoss: fx.heldoutLoss,
  floatAccuracy: fAcc / n,
  int8Accuracy: qAcc / n,
  argmaxAgreement: agree / n,
  argmaxAgreementTorch: agreeTorch / n,
  greedy: { prompts: fx.windows.length, promptBytes, tokens, generated: total, samePosition: same / total, beforeDivergence: prefix / total },
  samples,
};
if (args.json) console.log(JSON.stringify(res, null, 2));
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`text_lm: ${fx.params} params, ${fx.windows.length} held-out windows of ${C} bytes (${n} predictions)`);
  console.log(`  loss (nats/byte)   float ${res.floatLoss.toFixed(4)} (ppl ${res.floatPerplexity.toFixed(3)})   int8 ${res.int8Loss.toFixed(4)} (ppl ${res.int8Perplexity.toFixed(3)}, ${pct(res.int8Loss / res.floatLoss - 1)})   [torch: these windows ${fx.windowsLoss}, 384 held-out windows ${fx.heldoutLoss}]`);
  console.log(`  next-byte accuracy float ${pct(res.floatAccuracy)}   int8 ${pct(res.int8Accuracy)}`);
  console.log(`  argmax agreement   int8 vs float (onnxruntime) ${pct(res.argmaxAgreement)}   int8 vs torch ${pct(res.argmaxAgreementTorch)}`);
  console.log(`  greedy, ${fx.windows.length} prompts of ${promptBytes} held-out bytes, ${tokens} tokens: ${total} generated, same token at the same position ${pct(res.greedy.samePosition)}, before the first divergence ${pct(res.greedy.beforeDivergence)}`);
  for (const s of samples) console.log(`  ${JSON.stringify(s.prompt)}\n    float: ${JSON.stringify(s.float)}\n    int8:  ${JSON.stringify(s.int8)}`);
}

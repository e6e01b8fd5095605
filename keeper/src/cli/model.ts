/**
 * `oao model …`: inspect, run and evaluate quantized models (keeper/graph, docs/protocol.md §3).
 *   oao model info (DIR | --model NAME) [--json]
 *   oao model run  (DIR | --model NAME) --input FILE.json [--json]
 *   oao model eval (DIR | --model NAME) --data FILE(.json | .csv) [--onnx FILE.onnx] [--json]
 *   oao model eval [--model mnist] [--json]   (mnist's held-out digits)
 *   oao model check (DIR | --model NAME) [--input FILE.json] [--nodes LIST] [--json]
 *     (also prints the least dispute-game vmTraceDepth the checked nodes need)
 *   oao model import FILE.onnx --calibration FILE.json --out (DIR | FILE.oao) [--name NAME] [--clip-percentile P] [--generate T] [--vm-trace-depth D] [--no-step-check] [--json]
 *     (--generate T: the greedy text-generation graph of T bytes, keeper/graph/onnx/generate.ts)
 *   oao model register MODEL [--config FILE | --rpc URL --oracle ADDRESS] [--fee WEI] [--fee-token ADDRESS] …  (cli/register.ts)
 *     (prints the float-vs-int8 top-1 agreement on the calibration set and each node's error)
 * A model directory holds `model.oao`; `--model NAME` is the shipped keeper/models/NAME or a model
 * generated into the cache .oao/models/NAME (e.g. `npm run model:gpt` → gpt2-small); `--model` also
 * accepts a directory path.
 */
import { Command } from "commander";
import { registerModelCommand } from "./register.ts";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  dequantize,
  OP_NAMES,
  quantizeInput,
  slotName,
  toHex,
  dtypeName,
  elementCount,
  InputError,
  buildModel,
  encodeModelFile,
  encodeTensor,
  nodeInputs,
  isTextModel,
  type Model,
} from "../../graph/index.ts";
import { checkSamples, importOnnx, inputLimitNote } from "../../graph/onnx/import.ts";
import { parseLabelledSet, topClass } from "../../graph/labelled.ts";
import { generationSpec, type GenerationInfo } from "../../graph/onnx/generate.ts";
import { nodeCheck } from "../../graph/preimages.ts";
import { absolutePrestate, measureNodeSteps, nodeClassSteps, runNodeCheckInVm, stepSlack } from "../../guest/node/vm.ts";
import { parseVmTraceDepth } from "../demo/simulate.ts";
import { vmTraceDepthFor } from "../../game/solver.ts";
import { executorFor, loadModel, longNodes } from "../service/models.ts";
import { decodeRequestInput } from "../service/inference.ts";
import { decodeText, encodePrompt } from "../../../sdk/src/text.ts";

const NODE_ELF = fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url));

/** Median wall time (ms) of `fn` over enough repetitions to take ~`budgetMs`. */
function timeMs(fn: () => void, budgetMs = 50): number {
  const times: number[] = [];
  const start = performance.now();
  do {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  } while (performance.now() - start < budgetMs && times.length < 10_000);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));
/** Generated models (too large to commit), gitignored. */
export const MODEL_CACHE_DIR = fileURLToPath(new URL("../../../.oao/models/", import.meta.url));

interface ModelOpts {
  model?: string;
  json?: boolean;
}

export function resolveModelDir(dir: string | undefined, name: string | undefined): string {
  if (dir && name) throw new InputError("give either a model directory or --model NAME, not both");
  if (name) {
    if (name.includes("/") || statSync(name, { throwIfNoEntry: false })?.isDirectory()) return resolve(name);
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new InputError(`--model ${JSON.stringify(name)}: a shipped model name is letters, digits, '.', '_' or '-'`);
    for (const base of [MODELS_DIR, MODEL_CACHE_DIR]) {
      const d = join(base, name);
      if (existsSync(join(d, "model.oao"))) return d;
    }
    const hint = name.startsWith("gpt") ? "; generate the synthetic GPT-2 with `npm run model:gpt`" : "";
    throw new InputError(`no shipped model named ${name} (looked for ${join(MODELS_DIR, name, "model.oao")} and ${join(MODEL_CACHE_DIR, name, "model.oao")})${hint}`);
  }
  if (!dir) throw new InputError("give a model directory (holding model.oao) or --model NAME");
  return resolve(dir);
}

export function loadModelDir(dir: string): Model {
  const file = statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? join(dir, "model.oao") : dir;
  if (!existsSync(file)) throw new InputError(`model file not found: ${file}`);
  try {
    return loadModel(file).model; // read into kernel memory: weights resident once (executorFor)
  } catch (e) {
    const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error) : (e as Error);
    throw new Error(`${file}: ${cause.message}`, { cause });
  }
}

/**
 * Reads a samples file: a JSON array of flat number arrays, all of one length. Refuses anything else — a `null`, a
 * string, a nested array, a value beyond ±1e6 (`checkSamples`) — naming the sample, the element and the value: a
 * model imported from such calibration data would quantize to garbage (all-zero outputs) and a registered model is
 * immutable.
 */
export function readSamples(path: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`${path}: not readable JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.some((s) => !Array.isArray(s))) {
    const i = Array.isArray(parsed) ? parsed.findIndex((s) => !Array.isArray(s)) : -1;
    throw new InputError(`${path}: expected a JSON array of samples, each a flat array of numbers${i >= 0 ? ` (sample ${i} is ${JSON.stringify((parsed as unknown[])[i])?.slice(0, 40)})` : ""}`);
  }
  try {
    checkSamples(parsed as unknown[][]);
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  return parsed as number[][];
}

/** "3,10,250" → [3, 10, 250], each in 1..n. */
export function parseNodeList(list: string, n: number): number[] {
  const out = list.split(",").map((p) => Number(p.trim()));
  for (const k of out) if (!Number.isInteger(k) || k < 1 || k > n) throw new InputError(`--nodes: ${JSON.stringify(list)} must list node indices in 1..${n}`);
  return out;
}

function emit(json: boolean | undefined, value: unknown, human: () => void): void {
  if (json) console.log(JSON.stringify(value));
  else human();
}

export function modelInfo(model: Model) {
  const params = model.weights.reduce((a, w) => a + elementCount(w.shape), 0);
  return {
    name: model.metadata.name,
    modelRoot: toHex(model.modelRoot),
    graphRoot: toHex(model.graphRoot),
    weightsRoot: toHex(model.weightsRoot),
    metadataHash: toHex(model.metadataHash),
    descriptor: toHex(model.descriptor),
    /** §3.3: `text` takes prompts int8 [1..C] (C = the input shape's) and its output is trimmed at 0x00 on delivery. */
    inputMode: isTextModel(model) ? "text" : "fixed",
    input: { dtype: dtypeName(model.input.dtype), shape: model.input.shape, ...model.metadata.input },
    output: { dtype: dtypeName(model.output.dtype), shape: model.output.shape, ...model.metadata.output },
    params,
    weights: model.weights.map((w, j) => ({ index: j, dtype: dtypeName(w.dtype), shape: w.shape, hash: toHex(model.weightHashes[j]!) })),
    nodes: model.nodes.map((n, i) => ({
      index: i + 1,
      op: OP_NAMES[n.op] ?? `op${n.op}`,
      inputs: n.inputs.map(slotName),
      output: { dtype: dtypeName(n.outDtype), shape: n.outShape },
      attrs: n.attrs.length,
      hash: toHex(model.nodeHashes[i]!),
    })),
  };
}

/**
 * The float model's top-1 class per sample: the ONNX file through onnxruntime (one thread), each sample in the
 * .oao model's input shape (a dynamic batch axis is 1, as at import), token ids as the ONNX input's integer type.
 */
async function onnxClasses(file: string, model: Model, inputs: readonly number[][]): Promise<number[]> {
  if (!existsSync(file)) throw new InputError(`ONNX file not found: ${file}`);
  const ort = await import("onnxruntime-node");
  let session;
  try {
    session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new InputError(`${file}: onnxruntime cannot load it (${(e as Error).message})`);
  }
  const meta = session.inputMetadata[0];
  const type = meta?.isTensor ? meta.type : "float32";
  const shape = [...model.input.shape];
  const outputs: number[] = [];
  for (const [i, x] of inputs.entries()) {
    const tensor =
      type === "int64" ? new ort.Tensor("int64", BigInt64Array.from(x, (v) => BigInt(v)), shape)
      : type === "int32" ? new ort.Tensor("int32", Int32Array.from(x), shape)
      : new ort.Tensor("float32", Float32Array.from(x), shape);
    const out = (await session.run({ [session.inputNames[0]!]: tensor }))[session.outputNames[0]!]!;
    const n = elementCount(model.output.shape);
    if (out.size !== n && out.size !== 1) throw new InputError(`${file}: its output has ${out.size} values for sample ${i}, the model's ${n}: is it the ONNX file this model was imported from?`);
    outputs.push(topClass(Array.from(out.data as ArrayLike<number | bigint>, Number)));
  }
  return outputs;
}

export function buildModelCommand(): Command {
  const cmd = new Command("model").description("Quantized models: inspect, run, evaluate (docs/protocol.md §3)");

  cmd
    .command("info")
    .description("print a model's nodes, parameter count and commitments")
    .argument("[dir]", "model directory (holding model.oao) or model file")
    .option("--model <name>", "a shipped model (keeper/models/<name>)")
    .option("--json", "one JSON object on stdout")
    .action((dir: string | undefined, opts: ModelOpts) => {
      const model = loadModelDir(resolveModelDir(dir, opts.model));
      const info = modelInfo(model);
      emit(opts.json, info, () => {
        console.log(`${info.name}  modelRoot ${info.modelRoot}`);
        const input = info.inputMode === "text" ? `text prompt int8[1..${info.input.shape[0]}]` : `input ${info.input.dtype}[${info.input.shape}]`;
        console.log(`${input}  output ${info.output.dtype}[${info.output.shape}]  params ${info.params}`);
        for (const n of info.nodes) console.log(`  ${n.index}. ${n.op}(${n.inputs.join(", ")}) -> ${n.output.dtype}[${n.output.shape}]`);
      });
    });

  cmd
    .command("run")
    .description("run a model on samples (dequantized outputs and traceRoots), or a text model on prompts (generated text)")
    .argument("[dir]", "model directory (holding model.oao) or model file")
    .option("--model <name>", "a shipped model (keeper/models/<name>)")
    .option("--input <file>", "JSON array of samples, each a flat array of numbers in the model's input layout")
    .option("--prompt <text...>", "a text model: prompts (UTF-8, 1..context bytes each), sent as a request's input bytes")
    .option("--json", "one JSON object on stdout")
    .action((dir: string | undefined, opts: ModelOpts & { input?: string; prompt?: string[] }) => {
      const model = loadModelDir(resolveModelDir(dir, opts.model));
      const exec = executorFor(model);
      if (isTextModel(model)) {
        if (opts.input !== undefined || opts.prompt === undefined) {
          throw new InputError(`${model.metadata.name} is a text model: give prompts with --prompt TEXT [TEXT …] (its input is a prompt's UTF-8 bytes, 1..${model.input.shape[0]} of them), not --input`);
        }
        const runs = opts.prompt.map((prompt, i) => {
          try {
            return { prompt, run: exec.run(decodeRequestInput(model, encodePrompt(prompt))) };
          } catch (e) {
            throw new InputError(`prompt ${i} (${encodePrompt(prompt).length} bytes): ${(e as Error).message}`);
          }
        });
        const texts = runs.map((r) => ({ prompt: r.prompt, text: decodeText(Uint8Array.from(r.run.output.data, (v) => v & 0xff)), outputBytes: toHex(encodeTensor(r.run.output)), traceRoot: toHex(r.run.trace.traceRoot) }));
        emit(opts.json, { modelRoot: toHex(model.modelRoot), texts }, () => texts.forEach((t) => console.log(`${JSON.stringify(t.prompt)} → ${JSON.stringify(t.text)}  traceRoot ${t.traceRoot}`)));
        return;
      }
      if (opts.prompt !== undefined) throw new InputError(`${model.metadata.name} is not a text model: --prompt needs one (descriptor inputMode 1); give samples with --input FILE`);
      if (opts.input === undefined) throw new InputError("give samples with --input FILE (a JSON array of samples in the model's input layout)");
      const samples = readSamples(opts.input);
      const results = samples.map((s, i) => {
        let input;
        try {
          input = quantizeInput(model, s);
        } catch (e) {
          throw new InputError(`sample ${i}: ${(e as Error).message}`);
        }
        return exec.run(input);
      });
      const outputs = results.map((r) => dequantize(model, r.output));
      const traceRoots = results.map((r) => toHex(r.trace.traceRoot));
      emit(
        opts.json,
        { modelRoot: toHex(model.modelRoot), outputs, traceRoots, outputBytes: results.map((r) => toHex(encodeTensor(r.output))) },
        () => outputs.forEach((o, i) => console.log(`sample ${i}: [${o.map((v) => v.toFixed(4)).join(", ")}]  traceRoot ${traceRoots[i]}`)),
      );
    });

  cmd
    .command("eval")
    .description("top-1 accuracy of a model on a labelled set (--data), with --onnx also the float model's and their agreement; or of mnist on its held-out digits")
    .argument("[dir]", "model directory (holding model.oao) or model file")
    .option("--model <name>", "a shipped model (keeper/models/<name>); without --data only mnist, which has a held-out set")
    .option("--data <file>", "labelled set: JSON [{\"input\": [numbers], \"label\": class}, …] or CSV (.csv: one sample per line, the label then the values), inputs as real values in the model's input layout")
    .option("--onnx <file>", "the float ONNX model the .oao was imported from: its accuracy through onnxruntime and the float-vs-int8 agreement")
    .option("--json", "one JSON object on stdout")
    .action(async (dir: string | undefined, opts: ModelOpts & { data?: string; onnx?: string }) => {
      if (opts.data === undefined) {
        if (opts.onnx !== undefined) throw new InputError("--onnx needs a labelled set: give it with --data FILE");
        if (dir !== undefined || (opts.model ?? "mnist") !== "mnist") {
          throw new InputError(`give a labelled set with --data FILE (JSON [{"input": [...], "label": n}] or CSV "label,values…"): only mnist has a held-out set built in`);
        }
        const model = loadModelDir(resolveModelDir(undefined, "mnist"));
        const { loadMnist } = await import("../../graph/train/mnist-data.ts");
        const { evaluateInt8 } = await import("../../graph/train/mnist.ts");
        const { test } = loadMnist();
        console.error(`evaluating ${model.metadata.name} on ${test.length} held-out digits…`);
        const accuracy = evaluateInt8(model, test);
        const floatAccuracy = (model.metadata.training as { floatAccuracy?: number } | undefined)?.floatAccuracy ?? null;
        emit(opts.json, { model: model.metadata.name, modelRoot: toHex(model.modelRoot), accuracy, floatAccuracy, samples: test.length }, () =>
          console.log(`accuracy ${(accuracy * 100).toFixed(2)}% (float ${floatAccuracy === null ? "n/a" : (floatAccuracy * 100).toFixed(2) + "%"}) on ${test.length} digits`),
        );
        return;
      }
      const model = loadModelDir(resolveModelDir(dir, opts.model));
      if (!existsSync(opts.data)) throw new InputError(`labelled set not found: ${opts.data}`);
      const set = parseLabelledSet(readFileSync(opts.data, "utf8"), opts.data.toLowerCase().endsWith(".csv") ? "csv" : "json", opts.data, model);
      const exec = executorFor(model);
      const int8 = set.map((s, i) => {
        try {
          return topClass(exec.infer(quantizeInput(model, s.input)).data);
        } catch (e) {
          throw new InputError(`${opts.data}: sample ${i}: ${(e as Error).message}`);
        }
      });
      const share = (hits: number) => hits / set.length;
      const accuracy = share(int8.filter((c, i) => c === set[i]!.label).length);
      let floatAccuracy: number | null = null, agreement: number | null = null;
      if (opts.onnx !== undefined) {
        const float = await onnxClasses(opts.onnx, model, set.map((s) => s.input));
        floatAccuracy = share(float.filter((c, i) => c === set[i]!.label).length);
        agreement = share(float.filter((c, i) => c === int8[i]).length);
      }
      const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
      emit(opts.json, { model: model.metadata.name, modelRoot: toHex(model.modelRoot), data: opts.data, samples: set.length, accuracy, floatAccuracy, agreement }, () => {
        console.log(`int8 top-1 accuracy ${pct(accuracy)} on ${set.length} samples of ${opts.data}`);
        if (floatAccuracy !== null && agreement !== null) console.log(`float (${opts.onnx}, onnxruntime) accuracy ${pct(floatAccuracy)}; float vs int8 top-1 agreement ${pct(agreement)}`);
      });
    });

  cmd
    .command("check")
    .description("run every node natively and in the VM through the guest program: equality, VM steps, times, alpha")
    .argument("[dir]", "model directory (holding model.oao) or model file")
    .option("--model <name>", "a shipped model (keeper/models/<name>)")
    .option("--input <file>", "samples file; the first sample is used (default: the first held-out digit for mnist, else zeros)")
    .option("--nodes <list>", "check only these nodes (comma-separated indices, 1-based; default: all)")
    .option("--json", "one JSON object on stdout")
    .action(async (dir: string | undefined, opts: ModelOpts & { input?: string; nodes?: string }) => {
      const model = loadModelDir(resolveModelDir(dir, opts.model));
      let sample: number[];
      if (opts.input) {
        const first = readSamples(opts.input)[0];
        if (!first) throw new InputError(`${opts.input}: no samples`);
        sample = first;
      } else if (opts.model === "mnist") {
        const { loadMnist } = await import("../../graph/train/mnist-data.ts");
        sample = Array.from(loadMnist().test[0]!.pixels);
      } else {
        sample = new Array<number>(elementCount(model.input.shape)).fill(0);
      }
      const input = quantizeInput(model, sample);
      const exec = executorFor(model);
      const res = exec.run(input);
      const elf = new Uint8Array(readFileSync(NODE_ELF));
      const selected = opts.nodes === undefined ? model.nodes.map((_, i) => i + 1) : parseNodeList(opts.nodes, model.nodes.length);
      const nodes = selected.map((k) => {
        const node = model.nodes[k - 1]!;
        const ins = nodeInputs(model, k, input, res.nodeOutputs);
        const nativeMs = timeMs(() => exec.runNode(k, ins));
        const check = nodeCheck(model, input, res.nodeOutputs, k);
        const t0 = performance.now();
        const vm = runNodeCheckInVm(elf, check);
        const vmMs = performance.now() - t0;
        console.error(`node ${k} ${OP_NAMES[node.op]}: exit ${vm.exitCode}, ${vm.steps} steps, VM ${vmMs.toFixed(1)} ms, native ${nativeMs.toFixed(4)} ms`);
        return { index: k, op: OP_NAMES[node.op] ?? `op${node.op}`, equal: vm.exitCode === 0, exitCode: vm.exitCode, vmSteps: vm.steps, vmMs, nativeMs, ratio: vmMs / nativeMs };
      });
      const allEqual = nodes.every((n) => n.equal);
      const alpha = Math.min(...nodes.map((n) => n.ratio));
      // A dispute game's phase 1 covers 2^vmTraceDepth steps: the deployment must cover the largest node.
      // (plus what other input values can add: LayerNorm's data-dependent slack, the keeper's rule §6.0)
      const maxVmSteps = Math.max(...nodes.map((n) => n.vmSteps + stepSlack(model.nodes[n.index - 1]!)));
      const vmTraceDepthNeeded = vmTraceDepthFor(BigInt(maxVmSteps));
      emit(opts.json, { model: model.metadata.name, modelRoot: toHex(model.modelRoot), absolutePrestate: absolutePrestate(elf), allEqual, alpha, maxVmSteps, vmTraceDepthNeeded, nodes }, () => {
        for (const n of nodes) console.log(`  ${n.index}. ${n.op}: ${n.equal ? "equal" : `DIFFERENT (exit ${n.exitCode})`}, ${n.vmSteps} VM steps, VM ${n.vmMs.toFixed(1)} ms / native ${n.nativeMs.toFixed(4)} ms`);
        console.log(`allEqual ${allEqual}  alpha ${alpha.toFixed(0)}  largest node ${maxVmSteps} VM steps: a game needs vmTraceDepth >= ${vmTraceDepthNeeded}`);
      });
      if (!allEqual) process.exitCode = 1;
    });

  cmd
    .command("import")
    .description("import an ONNX model, quantizing it post-training from calibration samples")
    .argument("<file>", "the .onnx file")
    .requiredOption("--calibration <file>", "JSON array of samples (same format as run --input)")
    .requiredOption("--out <path>", "directory to write model.oao into, or the model file's path (ending in .oao)")
    .option("--name <name>", "model name in the metadata")
    .option("--clip-percentile <p>", "percentile of each activation's calibration values its int8 range keeps (100 = min/max)", "99.99")
    .option("--generate <tokens>", "write the greedy text-generation graph of a decoder LM (ids [1, C] -> logits [1, C, 256]) instead: prompt int8 [1..C] -> <tokens> bytes (docs/protocol.md §3.9)")
    .option("--wide", "every activation at 14 bits and weight at 12 bits (int32 tensors, the wide forms of docs/protocol.md §3.6) instead of int8: a transformer language model whose greedy text should follow its float model's")
    .option("--vm-trace-depth <n>", "the deployment's dispute game depth to check every node against (production: 32)", "32")
    .option("--no-step-check", "skip running every node in the VM once to check it fits the game's VM trace (oao model check does it later)")
    .option("--json", "one JSON object on stdout")
    .action((file: string, opts: { calibration: string; out: string; name?: string; clipPercentile: string; generate?: string; wide?: boolean; vmTraceDepth: string; stepCheck: boolean; json?: boolean }) => {
      const depth = parseVmTraceDepth(opts.vmTraceDepth);
      if (!existsSync(file)) throw new InputError(`ONNX file not found: ${file}`);
      const clipPercentile = Number(opts.clipPercentile);
      if (!(clipPercentile > 50 && clipPercentile <= 100)) throw new InputError(`--clip-percentile ${opts.clipPercentile}: expected a number in (50, 100]`);
      const tokens = opts.generate === undefined ? undefined : Number(opts.generate);
      if (tokens !== undefined && !(Number.isInteger(tokens) && tokens >= 1)) throw new InputError(`--generate ${opts.generate}: expected the number of bytes to generate, an integer >= 1`);
      const samples = readSamples(opts.calibration);
      console.error(`importing ${file} with ${samples.length} calibration samples…`);
      const t0 = performance.now();
      const imported = importOnnx(new Uint8Array(readFileSync(file)), samples, { name: opts.name ?? file.replace(/^.*\//, "").replace(/\.onnx$/, ""), clipPercentile, wide: opts.wide === true });
      const { report } = imported;
      let spec = imported.spec;
      // the full-sequence graph's size notes do not apply to the generation graph's int8 [C] → int8 [T]
      const notes = tokens === undefined ? imported.notes : imported.notes.filter((n) => !n.includes("maxOutputBytes") && !n.includes("ModelInputTooLarge"));
      let generation: GenerationInfo | undefined;
      if (tokens !== undefined) {
        try {
          ({ spec, info: generation } = generationSpec(spec, tokens));
        } catch (e) {
          throw new InputError(`--generate ${tokens}: ${file} cannot generate: ${(e as Error).message}`);
        }
        const contextNote = inputLimitNote(spec);
        if (contextNote !== undefined) notes.push(contextNote);
      }
      const model = buildModel(spec);
      const importMs = performance.now() - t0;
      const out = opts.out.endsWith(".oao") ? opts.out : join(opts.out, "model.oao");
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, encodeModelFile(model));
      const info = modelInfo(model);
      for (const n of notes) console.error(`note: ${n}`);
      // Whether keepers can serve it: every node's guest run must fit the game's VM trace (§6.0).
      // (a generation graph repeats its step's nodes: each kind of node is run once, nodeClassSteps)
      let vmSteps: (number | undefined)[] | undefined, servable: boolean | null = null;
      if (opts.stepCheck) {
        const exec = executorFor(model);
        const measure = generation ? nodeClassSteps : measureNodeSteps;
        vmSteps = measure(model, (x) => exec.run(x).nodeOutputs, new Uint8Array(readFileSync(NODE_ELF)), 2 ** depth + 1);
        const tooLong = longNodes(model, vmSteps, depth);
        for (const w of tooLong) console.error(`warning: ${w}: keepers will refuse to serve this model on that deployment (split the node: e.g. a smaller Linear/Conv, or fewer channels)`);
        servable = tooLong.length === 0;
      } else console.error(`note: VM steps not measured (--no-step-check): run \`oao model check ${dirname(out)}\` before registering, keepers refuse a node the game's VM trace does not cover`);
      emit(opts.json, { file: out, modelRoot: info.modelRoot, nodes: info.nodes, params: info.params, importMs, notes, report, generation, vmSteps: vmSteps?.map((n) => n ?? null) ?? null, vmTraceDepth: depth, servable }, () => {
        console.log(`wrote ${out}: ${info.nodes.length} nodes, ${info.params} params, modelRoot ${info.modelRoot} (${(importMs / 1000).toFixed(1)} s)`);
        if (generation) console.log(`generation graph: prompt int8 [1..${generation.context}] -> ${generation.tokens} bytes, from the ${generation.sourceNodes}-node full-sequence graph (${generation.attentions} attention layers cached)`);
        if (!report) return;
        console.log(`float vs ${opts.wide ? "the wide (14-bit) model" : "int8"} on the ${report.samples} calibration samples${generation ? " (the full-sequence graph)" : ""}: top-1 agreement ${(report.agreement * 100).toFixed(1)}%`);
        for (const n of report.nodes) console.log(`  ${String(n.node).padStart(3)}. ${n.op.padEnd(9)} rel. error ${(n.relError * 100).toFixed(2).padStart(6)}%  (${n.added >= 0 ? "+" : ""}${(n.added * 100).toFixed(2)})  ${n.onnx}`);
        if (report.worst) console.log(`the node that loses most: ${report.worst.node} (${report.worst.op}, from ${report.worst.onnx}): +${(report.worst.added * 100).toFixed(2)}% relative error`);
      });
    });

  cmd.addCommand(registerModelCommand());
  return cmd;
}

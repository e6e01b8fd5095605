/**
 * Textgen section: the GPT-2-shaped 124M-body model generating text with one KV-cache graph
 * (issue 15, "the large model too"). The model is keeper/graph/gpt at `GPT2_SMALL_BYTES`: GPT-2
 * small's 12 layers × 768 width with a byte vocabulary (256 tokens, the text-model rule: Emit writes
 * one byte per token) and logits at every position, 86 M parameters; its weights are generated from a
 * seed, not trained, so the text it writes means nothing. Its generation graph of T tokens
 * (keeper/graph/onnx/generate.ts, docs/protocol.md §3.9) is cached in `.oao/models/<name>`
 * (scripts/lib/gpt-model.ts). Measured:
 *
 * - native generation of T tokens from a fixed prompt: without hashing (`Executor.infer`) and with the
 *   whole commitment (`Executor.run`), per token; beside T full forward passes of the full-sequence
 *   model (greedyByFullPasses, the reference semantics), whose bytes the graph must equal;
 * - the guest's VM steps of every node class (nodeClassSteps): the largest node must fit the
 *   production VM trace (2^32 steps, stepSlack included);
 * - one generation disputed on Hardhat's in-process chain (keeper/src/demo/simulate.ts): a cheating
 *   keeper alters a random token (fault `token:K`, the runner-up byte, every later node honest from
 *   it), the honest keeper wins at the game's production trace depth.
 *
 * Quick mode: the same code at a ~1 M-parameter size.
 */
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildGpt, GPT2_SMALL_BYTES, gptParamCount, type GptConfig } from "../../keeper/graph/gpt/gpt.ts";
import { buildModel, type Model } from "../../keeper/graph/model.ts";
import { depthFor } from "../../keeper/graph/merkle.ts";
import { greedyByFullPasses } from "../../keeper/graph/onnx/generate.ts";
import { Op, OP_NAMES } from "../../keeper/graph/ops.ts";
import { int32Tensor, int8Tensor } from "../../keeper/graph/tensor.ts";
import { toHex } from "../../keeper/graph/hash.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { parseFault, tokenNode } from "../../keeper/game/faults.ts";
import { vmTraceDepthFor } from "../../keeper/game/solver.ts";
import { nodeClassSteps, stepSlack } from "../../keeper/guest/node/vm.ts";
import { executorFor } from "../../keeper/src/service/models.ts";
import { simulateOnChain } from "../../keeper/src/demo/simulate.ts";
import { ensureGptModel } from "../lib/gpt-model.ts";
import type { BenchContext, BenchSection, Metric, SectionResult } from "./types.ts";
import { median, sig } from "./util.ts";

/** The game's VM trace depth in production (the deployment default, docs/protocol.md §5.4). */
export const PRODUCTION_VM_TRACE_DEPTH = 32;

interface TextgenSize {
  name: string;
  config: GptConfig;
  tokens: number;
}

/**
 * Full mode: GPT-2 small's body, context 64 (the scale section's): its largest node, the prefill's
 * MLP up-projection Gemm 64×768→3072, is 1.62·10^9 guest steps, 38 % of 2^32; a context of 128 would
 * double it to ~3.2·10^9 (75 %, and the down-projection as much), so 64 keeps a margin of 2.6×.
 */
const FULL: TextgenSize = { name: "gpt2-small-bytes-gen8", config: GPT2_SMALL_BYTES, tokens: 8 };
const QUICK: TextgenSize = { name: "gpt-1m-bytes-gen8", config: { vocab: 256, positions: 256, width: 128, heads: 4, layers: 4, seqLen: 32, seed: 1, fullSequence: true }, tokens: 8 };

/** The prompt: ASCII text, well inside the context. */
const PROMPT = new TextEncoder().encode("The oracle says: ");

function timed<R>(f: () => R): { value: R; seconds: number } {
  const t = performance.now();
  const value = f();
  return { value, seconds: (performance.now() - t) / 1000 };
}

/** The node range of the prefill: nodes before the first Emit's ArgMax are the prompt's full pass. */
function firstStepNode(model: Model): number {
  const emit = model.nodes.findIndex((n) => n.op === Op.Emit);
  return emit + 2; // node emit+1 is the first Emit; the step nodes follow it
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  const size = ctx.quick ? QUICK : FULL;
  const { config, tokens: T } = size;
  const params = gptParamCount(config);
  ctx.log(`  ${size.name}: ${params.toLocaleString()} parameters (generated weights, seed ${config.seed}), context ${config.seqLen}, T = ${T}`);
  const loaded = ensureGptModel(ctx.repo, size.name, config, (l) => ctx.log(`    ${l}`), T);
  const gen = loaded.model;
  const input = int8Tensor([PROMPT.length], Int8Array.from(PROMPT));
  const n = gen.nodes.length;
  ctx.log(`    generation graph: ${n} nodes, ${loaded.bytes.toLocaleString()} bytes (${loaded.generated ? "generated" : "loaded"} in ${loaded.seconds.toFixed(1)} s)`);

  // Native generation: without hashing, then with the full commitment; one warm-up run first.
  const exec = executorFor(gen);
  const warm = exec.run(input);
  const text = Uint8Array.from(warm.output.data, (v) => v & 0xff);
  const inferTimes: number[] = [];
  const runTimes: number[] = [];
  const rounds = ctx.quick ? 3 : 2;
  for (let r = 0; r < rounds; r++) {
    const a = timed(() => exec.infer(input));
    inferTimes.push(a.seconds);
    const b = timed(() => exec.run(input));
    runTimes.push(b.seconds);
    if (toHex(Uint8Array.from(a.value.data, (v) => v & 0xff)) !== toHex(text) || toHex(b.value.trace.traceRoot) !== toHex(warm.trace.traceRoot)) {
      throw new Error(`${size.name}: a repeated generation gave other bytes or another traceRoot: the executor is not deterministic`);
    }
  }
  const inferSeconds = median(inferTimes);
  const runSeconds = median(runTimes);
  ctx.log(`    generated ${toHex(text)}: ${sig(inferSeconds)} s without hashing, ${sig(runSeconds)} s with the commitment (${T} tokens)`);

  // The reference: T full forward passes of the full-sequence model (same seed, same weights).
  const full = timed(() => new Executor(buildModel(buildGpt(config))));
  const window = int32Tensor([config.seqLen], new Int32Array(config.seqLen));
  full.value.infer(window); // warm-up
  const onePass = median(Array.from({ length: rounds }, () => timed(() => full.value.infer(window)).seconds));
  const byPasses = timed(() => greedyByFullPasses(full.value, PROMPT, T));
  if (toHex(byPasses.value) !== toHex(text)) throw new Error(`${size.name}: the generation graph wrote ${toHex(text)}, greedy full passes ${toHex(byPasses.value)}`);
  const fullPassSeconds = byPasses.seconds / T;
  ctx.log(`    equal to greedy decoding by ${T} full passes (${sig(byPasses.seconds)} s; one full pass ${sig(onePass)} s; the full model built in ${sig(full.seconds)} s)`);

  // Guest steps per node class, against the production trace.
  const elf = new Uint8Array(readFileSync(join(ctx.repo, "keeper/guest/build/oao_node.elf")));
  const vm = timed(() => nodeClassSteps(gen, (x) => exec.run(x).nodeOutputs, elf, 2 ** PRODUCTION_VM_TRACE_DEPTH));
  const steps = vm.value;
  const bound = steps.map((s, i) => {
    if (s === undefined) throw new Error(`${size.name}: node ${i + 1} (${OP_NAMES[gen.nodes[i]!.op]}) did not exit within 2^${PRODUCTION_VM_TRACE_DEPTH} guest steps`);
    return s + stepSlack(gen.nodes[i]!);
  });
  const largestOf = (from: number, to: number) => {
    let k = from;
    for (let j = from; j <= to; j++) if (bound[j - 1]! > bound[k - 1]!) k = j;
    return { k, op: OP_NAMES[gen.nodes[k - 1]!.op] ?? "?", shape: gen.nodes[k - 1]!.outShape.join("×"), steps: steps[k - 1]!, bound: bound[k - 1]! };
  };
  const stepFrom = firstStepNode(gen);
  const prefillMax = largestOf(1, stepFrom - 1);
  const stepMax = largestOf(stepFrom, n);
  const largest = prefillMax.bound >= stepMax.bound ? prefillMax : stepMax;
  if (largest.bound >= 2 ** PRODUCTION_VM_TRACE_DEPTH) throw new Error(`${size.name}: node ${largest.k} needs up to ${largest.bound} guest steps, beyond 2^${PRODUCTION_VM_TRACE_DEPTH}`);
  const classes = new Set(steps).size;
  ctx.log(`    largest node ${largest.k} ${largest.op} [${largest.shape}]: ${largest.steps.toLocaleString()} steps (depth ${vmTraceDepthFor(BigInt(largest.bound))}); largest step node ${stepMax.k} ${stepMax.op}: ${stepMax.steps.toLocaleString()}; ${sig(vm.seconds)} s in keeper/vm`);

  // One generation disputed on chain: the cheater alters a random token.
  const K = randomInt(T);
  const cheatNode = tokenNode(gen, K);
  ctx.log(`    on-chain dispute: fault token:${K} (node ${cheatNode}), vmTraceDepth ${PRODUCTION_VM_TRACE_DEPTH}…`);
  const dispute = await simulateOnChain({ model: gen, modelFile: loaded.file, input, fault: parseFault(`token:${K}`), seed: 1, game: { vmTraceDepth: PRODUCTION_VM_TRACE_DEPTH } });
  if (dispute.winner !== "honest") throw new Error(`${size.name}: the dispute over token ${K} was won by the ${dispute.winner} side`);
  if (BigInt(dispute.cheaterSlashed) === 0n) throw new Error(`${size.name}: the cheater was not slashed`);
  if (dispute.disputedNode !== String(cheatNode)) throw new Error(`${size.name}: the game bound node ${dispute.disputedNode}, not token ${K}'s ArgMax node ${cheatNode}`);
  ctx.log(`    ${dispute.winner} won at node ${dispute.disputedNode}: ${dispute.graphRounds} graph + ${dispute.vmRounds} VM rounds, ${dispute.transactions} txs, ${Number(dispute.gasUsed).toLocaleString()} gas, ${dispute.disputeSeconds} s (whole run ${dispute.seconds} s)`);

  for (const [kind, g] of Object.entries(dispute.gasByKind)) ctx.log(`      ${kind}: ${g.count} × ${g.minGas === g.maxGas ? g.minGas : `${g.minGas} – ${g.maxGas}`} gas`);
  const kindGas = (kind: string) => {
    const g = dispute.gasByKind[kind];
    return g === undefined ? "" : g.minGas === g.maxGas ? Number(g.minGas).toLocaleString("en-US") : `${Number(g.minGas).toLocaleString("en-US")} – ${Number(g.maxGas).toLocaleString("en-US")}`;
  };
  const printable = new TextDecoder("latin1").decode(text).replace(/[^\x20-\x7e]/g, "·");
  const metrics: Metric[] = [
    { key: "textgen.params", value: params, unit: "params", description: `${size.name}: parameters of the model (generated weights, byte vocabulary)` },
    { key: "textgen.tokens", value: T, unit: "tokens", description: "tokens generated by the one KV-cache graph" },
    { key: "textgen.nodes", value: n, unit: "nodes", description: "nodes of the generation graph (the graph trace has one more leaf)" },
    { key: "textgen.nativeSecondsPerToken", value: sig(inferSeconds / T), unit: "s/token", description: "native generation without hashing (Executor.infer of the whole graph, median) / T" },
    { key: "textgen.committedSecondsPerToken", value: sig(runSeconds / T), unit: "s/token", description: "native generation with the commitment (Executor.run: every node's tensor hash, traceRoot) / T" },
    { key: "textgen.onePassSeconds", value: sig(onePass), unit: "s", description: "one forward pass of the full-sequence model over the whole context (Executor.infer, median): about the generation graph's prefill" },
    { key: "textgen.fullPassSecondsPerToken", value: sig(fullPassSeconds), unit: "s/token", description: "greedy decoding by full forward passes of the full-sequence model (no cache), per token" },
    { key: "textgen.largestNodeSteps", value: largest.steps, unit: "steps", description: "guest VM steps of the generation graph's largest node (must stay below 2^32)" },
    { key: "textgen.disputeSeconds", value: sig(dispute.disputeSeconds), unit: "s", description: "on-chain dispute of one generation (token:K at a random token), game appears → resolved, in-process chain" },
    // K is drawn per run (the issue's "cheat at a random token"): the disputed node, so the moves' proofs and the
    // step's witness, differ from run to run; the gate allows that spread (measured: 7.06M–7.11M gas over four runs).
    { key: "textgen.disputeTransactions", value: dispute.transactions, unit: "txs", description: "that dispute: all keeper transactions of the request (K random: varies a little)", tolerance: 0.15 },
    { key: "textgen.disputeGas", value: Number(dispute.gasUsed), unit: "gas", description: "that dispute: gas of all keeper transactions of the request (K random: varies by ~1%)", tolerance: 0.03 },
  ];
  const mb = (b: number) => sig(b / 2 ** 20, 3);
  return {
    metrics,
    tables: [
      {
        title: "Text generation: the GPT-2-shaped model (generated weights, byte vocabulary), one KV-cache graph",
        command: "npm run bench -- --only textgen",
        columns: ["model", "parameters", "context", "T", "nodes (graph depth)", "file MB", "no hashing s/token", "with commitment s/token", "one full pass s", "full passes s/token", "output (bytes)"],
        numeric: [false, true, true, true, false, true, true, true, true, true, false],
        rows: [[size.name, params, config.seqLen, T, `${n} (${depthFor(n + 1)})`, mb(loaded.bytes), sig(inferSeconds / T), sig(runSeconds / T), sig(onePass), sig(fullPassSeconds), `"${printable}" (${toHex(text)})`]],
        notes:
          `keeper/graph/gpt at ${config === GPT2_SMALL_BYTES ? "GPT-2 small's" : "a"} ${config.layers} × ${config.width} body with 256 byte tokens and logits at every position${config === GPT2_SMALL_BYTES ? " (GPT2_SMALL_BYTES)" : ""}; ` +
          `weights generated from seed ${config.seed}, not trained: the bytes it writes mean nothing. The generation graph (generate.ts, T = ${T}) ` +
          `reads the prompt ${JSON.stringify(new TextDecoder().decode(PROMPT))} (${PROMPT.length} bytes); per token = the whole graph's time / T ` +
          `(the prefill over the ${config.seqLen}-byte window is most of it), median of ${rounds} runs after a warm-up. Full passes: ` +
          `greedyByFullPasses over the full-sequence model, the reference semantics; the graph's bytes equal it. One full pass: that model over a ` +
          `whole window, about the generation graph's prefill.`,
      },
      {
        title: "Text generation: guest VM steps against the production trace",
        columns: ["part", "largest node", "shape", "guest steps", "+ slack", "VM trace depth needed", "of 2^32"],
        numeric: [false, false, false, true, true, true, true],
        rows: [prefillMax, stepMax].map((m, i) => [i === 0 ? "prefill (the prompt's full pass)" : `token steps 1..${T - 1}`, `${m.k} ${m.op}`, m.shape, m.steps, m.bound, vmTraceDepthFor(BigInt(m.bound)), `${sig((100 * m.bound) / 2 ** 32, 2)} %`]),
        notes: `nodeClassSteps: one guest run (keeper/vm, oao_node.elf) per node class, ${classes} distinct counts over ${n} nodes, ${sig(vm.seconds)} s. Slack: stepSlack (LayerNorm's data-dependent branches).`,
      },
      {
        title: "Text generation: one generation disputed on chain (a cheater alters a random token)",
        columns: ["fault", "disputed node", "VM trace depth", "winner", "graph rounds", "VM rounds", "transactions", "gas", "moveGraph gas", "moveVm gas", "step gas", "dispute s", "whole run s"],
        numeric: [false, false, true, false, true, true, true, true, true, true, true, true, true],
        rows: [[`token:${K}`, `${dispute.disputedNode} ArgMax`, dispute.vmTraceDepth, dispute.winner, dispute.graphRounds, dispute.vmRounds, dispute.transactions, Number(dispute.gasUsed), kindGas("dispute.moveGraph"), kindGas("dispute.moveVm"), kindGas("dispute.step"), sig(dispute.disputeSeconds), sig(dispute.seconds)]],
        notes:
          "Hardhat's in-process chain (automine), everything deployed by Ignition, the game at the production VM trace depth; an honest keeper and a " +
          "cheater whose token K is the runner-up byte (every later node computed honestly from it) through the keeper service, sharing one decoded " +
          "model. K drawn at random per run. Dispute s: the game appears (both parties build their traces) → resolved; whole run: deployment → finalization.",
      },
    ],
    charts: [],
  };
}

export const section: BenchSection = { id: "textgen", title: "Text generation (GPT-2-shaped, generated weights)", run };

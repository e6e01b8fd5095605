/**
 * Scale section: GPT-shaped models (keeper/graph/gpt, seeded int8 weights) from ~8 thousand to
 * 124 million parameters, each generated into the gitignored cache `.oao/models/<name>` if absent
 * (scripts/lib/gpt-model.ts, the generator of `npm run model:gpt`). Per size:
 *
 * - native time per token (`Executor.infer`, the greedy next token of a fixed prompt);
 * - commitment sizes: the graph trace (n + 1 leaves), the largest node's guest run in keeper/vm
 *   (one node measured per distinct op and shapes: same loops, same step count up to a few
 *   data-dependent branches), two-phase leaves (graph + one node) vs single-phase (every node's
 *   guest steps in one trace, summed over the nodes from those measurements);
 * - an on-chain dispute at the largest node (fixed rule: the first node of the op-and-shapes class
 *   with the most guest steps, so its steps are measured exactly): Hardhat's in-process chain, the
 *   real DisputeGame and MIPS step, an honest and a cheating keeper through the keeper service
 *   (keeper/src/demo/simulate.ts), with the least VM trace depth the model needs.
 *
 * Quick mode: the three smallest sizes (about a minute); full mode: up to GPT-2 small.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GPT2_SMALL, GPT_TINY, gptParamCount, type GptConfig } from "../../keeper/graph/gpt/gpt.ts";
import { depthFor } from "../../keeper/graph/merkle.ts";
import { nodeInputs, type Model } from "../../keeper/graph/model.ts";
import { OP_NAMES } from "../../keeper/graph/ops.ts";
import { nodeCheck } from "../../keeper/graph/preimages.ts";
import { int32Tensor, type Tensor } from "../../keeper/graph/tensor.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { vmTraceDepthFor } from "../../keeper/game/solver.ts";
import { runNodeCheckInVm } from "../../keeper/guest/node/vm.ts";
import { executorFor } from "../../keeper/src/service/models.ts";
import { simulateOnChain, type ChainSimulation } from "../../keeper/src/demo/simulate.ts";
import { ensureGptModel } from "../lib/gpt-model.ts";
import type { BenchChart, BenchContext, BenchSection, Metric, SectionResult } from "./types.ts";
import { median, sig } from "./util.ts";

export interface ScaleSize {
  name: string;
  config: GptConfig;
  /** Measured in quick mode too. */
  quick: boolean;
}

export const SCALE_SIZES: ScaleSize[] = [
  { name: "gpt-tiny", config: GPT_TINY, quick: true },
  { name: "gpt-1m", config: { vocab: 4096, positions: 256, width: 128, heads: 4, layers: 4, seqLen: 32, seed: 1 }, quick: true },
  { name: "gpt-10m", config: { vocab: 16384, positions: 512, width: 256, heads: 4, layers: 8, seqLen: 64, seed: 1 }, quick: true },
  { name: "gpt-30m", config: { vocab: 32768, positions: 1024, width: 512, heads: 8, layers: 4, seqLen: 64, seed: 1 }, quick: false },
  { name: "gpt2-small", config: GPT2_SMALL, quick: false },
];

/** The request: a fixed prompt of token ids below the vocabulary. */
export function scalePrompt(config: GptConfig): Tensor {
  return int32Tensor([config.seqLen], Array.from({ length: config.seqLen }, (_, i) => (i * 7919 + 13) % config.vocab));
}

interface NodeClass {
  /** The first node of the class (measured). */
  k: number;
  op: string;
  steps: number;
  seconds: number;
  /** Nodes of the model in this class. */
  count: number;
}

interface SizeResult {
  name: string;
  params: number;
  nodes: number;
  weights: number;
  fileBytes: number;
  loadSeconds: number;
  generated: boolean;
  nativeSecondsPerToken: number;
  token: number;
  graphLeaves: number;
  graphDepth: number;
  largest: NodeClass;
  vmDepth: number;
  twoPhaseLeaves: number;
  singlePhaseLeaves: number;
  vmSecondsMeasuring: number;
  dispute: ChainSimulation;
  peakRssMB: number;
}

/** The input tensors of node k (for the class key). */
function inputShapes(model: Model, k: number, input: Tensor, outs: readonly Tensor[]): string {
  return nodeInputs(model, k, input, outs)
    .map((t) => t.shape.join("x"))
    .join(",");
}

/** Guest steps per node, one measured node per (op, input shapes, output shape) class. */
function measureClasses(ctx: BenchContext, model: Model, input: Tensor, outs: readonly Tensor[], elf: Uint8Array): { classes: NodeClass[]; total: number; seconds: number } {
  const byKey = new Map<string, NodeClass>();
  let total = 0;
  const t0 = performance.now();
  for (let k = 1; k <= model.nodes.length; k++) {
    const node = model.nodes[k - 1]!;
    const key = `${node.op}:${inputShapes(model, k, input, outs)}:${node.outShape.join("x")}`;
    let c = byKey.get(key);
    if (c === undefined) {
      const t = performance.now();
      const r = runNodeCheckInVm(elf, nodeCheck(model, input, outs, k));
      if (r.exitCode !== 0) throw new Error(`${model.metadata.name} node ${k} (${OP_NAMES[node.op]}): the guest's check of the native output exited ${r.exitCode}, not 0: native and VM disagree`);
      c = { k, op: OP_NAMES[node.op] ?? `op${node.op}`, steps: r.steps, seconds: (performance.now() - t) / 1000, count: 0 };
      byKey.set(key, c);
      if (c.steps > 50_000_000) ctx.log(`    node ${k} ${c.op} [${node.outShape.join(",")}]: ${c.steps.toLocaleString()} guest steps in ${c.seconds.toFixed(1)} s`);
    }
    c.count++;
    total += c.steps;
  }
  return { classes: [...byKey.values()], total, seconds: (performance.now() - t0) / 1000 };
}

async function measureSize(ctx: BenchContext, size: ScaleSize, elf: Uint8Array): Promise<SizeResult> {
  const params = gptParamCount(size.config);
  ctx.log(`  ${size.name}: ${params.toLocaleString()} parameters`);
  const loaded = ensureGptModel(ctx.repo, size.name, size.config, (l) => ctx.log(`    ${l}`));
  const { model } = loaded;
  const input = scalePrompt(size.config);

  // Native: one token per inference; the median of a few (one warm-up first).
  let outs: Tensor[];
  let token: number;
  const perToken: number[] = [];
  {
    const exec = executorFor(model);
    const run = exec.run(input);
    outs = run.nodeOutputs;
    token = run.output.data[0]!;
    const rounds = params > 50e6 ? 2 : 3;
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      const out = exec.infer(input);
      perToken.push((performance.now() - t) / 1000);
      if (out.data[0] !== token) throw new Error(`${size.name}: infer gave token ${out.data[0]}, run gave ${token}: the executor is not deterministic`);
    }
  }
  const nativeSecondsPerToken = median(perToken);
  ctx.log(`    native: ${nativeSecondsPerToken.toFixed(3)} s/token (next token ${token})`);

  // Commitment sizes.
  const n = model.nodes.length;
  const { classes, total, seconds: vmSecondsMeasuring } = measureClasses(ctx, model, input, outs, elf);
  outs = []; // the node outputs are not needed any more (the dispute recomputes its own)
  const largest = classes.reduce((a, c) => (c.steps > a.steps ? c : a));
  const vmDepth = vmTraceDepthFor(BigInt(largest.steps));
  ctx.log(`    largest node ${largest.k} ${largest.op}: ${largest.steps.toLocaleString()} steps (VM trace depth ${vmDepth}); all nodes ~${total.toLocaleString()} steps; ${vmSecondsMeasuring.toFixed(1)} s in keeper/vm`);

  // The dispute at the largest node, on chain.
  ctx.log(`    on-chain dispute at node ${largest.k} (fault graph:${largest.k}, vmTraceDepth ${vmDepth})…`);
  const dispute = await simulateOnChain({ model, modelFile: loaded.file, input, fault: parseFault(`graph:${largest.k}`), seed: 1, game: { vmTraceDepth: vmDepth } });
  if (dispute.winner !== "honest") throw new Error(`${size.name}: the dispute at node ${largest.k} was won by the ${dispute.winner} side`);
  if (BigInt(dispute.cheaterSlashed) === 0n) throw new Error(`${size.name}: the cheater was not slashed`);
  if (dispute.disputedNode !== String(largest.k)) throw new Error(`${size.name}: the game bound node ${dispute.disputedNode}, not the faulty node ${largest.k}`);
  ctx.log(`    ${dispute.winner} won: ${dispute.graphRounds} graph + ${dispute.vmRounds} VM rounds, ${dispute.transactions} txs, ${Number(dispute.gasUsed).toLocaleString()} gas, ${dispute.disputeSeconds} s`);

  return {
    name: size.name,
    params,
    nodes: n,
    weights: model.weights.length,
    fileBytes: loaded.bytes,
    loadSeconds: loaded.seconds,
    generated: loaded.generated,
    nativeSecondsPerToken,
    token,
    graphLeaves: n + 1,
    graphDepth: depthFor(n + 1),
    largest,
    vmDepth,
    twoPhaseLeaves: n + 1 + largest.steps,
    singlePhaseLeaves: total,
    vmSecondsMeasuring,
    dispute,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  const elf = new Uint8Array(readFileSync(join(ctx.repo, "keeper/guest/build/oao_node.elf")));
  const sizes = SCALE_SIZES.filter((s) => !ctx.quick || s.quick);
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await measureSize(ctx, size, elf));

  const largest = results[results.length - 1]!;
  const gpt2 = results.find((r) => r.name === "gpt2-small");
  const kindGas = (r: SizeResult, kind: string) => {
    const g = r.dispute.gasByKind[kind];
    return g === undefined ? "" : g.minGas === g.maxGas ? `${Number(g.minGas).toLocaleString("en-US")}` : `${Number(g.minGas).toLocaleString("en-US")} – ${Number(g.maxGas).toLocaleString("en-US")}`;
  };
  const metrics: Metric[] = [
    { key: "scale.largestModelParams", value: largest.params, unit: "params", description: "the largest GPT-shaped model whose dispute (at its largest node) completed on chain in this run" },
    { key: "scale.largestModelNativeSecondsPerToken", value: sig(largest.nativeSecondsPerToken), unit: "s/token", description: "that model: native time of one greedy token (Executor.infer, median)" },
    { key: "scale.largestModelDisputeGas", value: Number(largest.dispute.gasUsed), unit: "gas", description: "that model: gas of every keeper transaction of the request (commit, challenge, moves, step, finalize)" },
    { key: "scale.largestModelDisputeSeconds", value: sig(largest.dispute.disputeSeconds), unit: "s", description: "that model: dispute wall time (game appears → resolved; traces built on the way), in-process chain" },
    { key: "scale.largestModelDisputeTransactions", value: largest.dispute.transactions, unit: "txs", description: "that model: transactions of both keepers for the request" },
    { key: "dispute.large.seconds", value: gpt2 ? sig(gpt2.dispute.disputeSeconds) : null, unit: "s", description: "GPT-2 small (124M): on-chain dispute wall time at its largest node (full mode only)" },
    { key: "dispute.large.transactions", value: gpt2 ? gpt2.dispute.transactions : null, unit: "txs", description: "GPT-2 small (124M): transactions of that dispute (full mode only)" },
    { key: "dispute.large.gas", value: gpt2 ? Number(gpt2.dispute.gasUsed) : null, unit: "gas", description: "GPT-2 small (124M): gas of that dispute's transactions (full mode only)" },
  ];

  const mb = (b: number) => sig(b / 2 ** 20, 3);
  const line = (id: string, title: string, yLabel: string, series: { name: string; y: (r: SizeResult) => number }[], logY = false): BenchChart => ({
    id,
    title,
    kind: "line",
    xLabel: "parameters",
    yLabel,
    logX: true,
    logY,
    series: series.map((s) => ({ name: s.name, points: results.map((r) => ({ x: r.params, y: s.y(r) })) })),
  });

  return {
    metrics,
    tables: [
      {
        title: "Scale: GPT-shaped models, native",
        command: "npm run bench -- --only scale",
        columns: ["model", "parameters", "nodes", "weight tensors", "file MB", "load or generate s", "native s/token"],
        numeric: [false, true, true, true, true, true, true],
        rows: results.map((r) => [r.name, r.params, r.nodes, r.weights, mb(r.fileBytes), `${sig(r.loadSeconds)}${r.generated ? " (generated)" : ""}`, sig(r.nativeSecondsPerToken)]),
        notes:
          "keeper/graph/gpt at each size (seeded int8 weights; the prompt is fixed token ids), cached in `.oao/models/<name>`. " +
          "Native: `Executor.infer` (wasm kernels), one greedy token, median of 2–3 runs after one `run` with the full trace.",
      },
      {
        title: "Scale: commitment sizes, two-phase vs single-phase",
        columns: ["model", "graph leaves (n+1)", "graph depth", "largest node", "its guest steps", "VM trace depth needed", "two-phase leaves", "single-phase leaves (est.)", "single / two"],
        numeric: [false, true, true, false, true, true, true, true, true],
        rows: results.map((r) => [
          r.name,
          r.graphLeaves,
          r.graphDepth,
          `${r.largest.k} ${r.largest.op}`,
          r.largest.steps,
          r.vmDepth,
          r.twoPhaseLeaves,
          r.singlePhaseLeaves,
          sig(r.singlePhaseLeaves / r.twoPhaseLeaves),
        ]),
        notes:
          "Guest steps in keeper/vm (`oao_node.elf`), one node measured per distinct (op, input shapes, output shape): nodes of a class " +
          "run the same loops, so the single-phase total (every node's guest run in one trace) sums those measurements over the nodes. " +
          "Two-phase: the graph trace plus one node's trace, O(m + n); single-phase: O(m·n).",
      },
      {
        title: "Scale: a dispute on chain at the largest node",
        columns: ["model", "node", "VM trace depth", "winner", "graph rounds", "VM rounds", "transactions", "gas", "moveVm gas", "moveGraph gas", "step gas", "dispute s", "whole run s", "peak RSS MB"],
        numeric: [false, false, true, false, true, true, true, true, true, true, true, true, true, true],
        rows: results.map((r) => [
          r.name,
          `${r.largest.k} ${r.largest.op}`,
          r.vmDepth,
          r.dispute.winner,
          r.dispute.graphRounds,
          r.dispute.vmRounds,
          r.dispute.transactions,
          Number(r.dispute.gasUsed),
          kindGas(r, "dispute.moveVm"),
          kindGas(r, "dispute.moveGraph"),
          kindGas(r, "dispute.step"),
          sig(r.dispute.disputeSeconds),
          sig(r.dispute.seconds),
          r.peakRssMB,
        ]),
        notes:
          "Hardhat's in-process chain (automine, no block times), everything deployed by Ignition, the game at the least VM trace depth " +
          "the model needs (vmWidthBits 4, graphWidthBits 2); an honest and a cheating keeper (fault `graph:K`: wrong from the largest " +
          "node on) through the keeper service, sharing one decoded model. Gas and transactions: all keeper transactions of the request " +
          "(commit, challenge, moves, step, finalize). Dispute s: from the tick in which the game appears (both parties build their " +
          "traces, each running the node's guest once) to its resolution. Whole run: deployment to finalization. Peak RSS: the bench " +
          "process so far (sizes run in order, in one process).",
      },
    ],
    charts: [
      line("scale-native", "Native time per token vs model size", "seconds per token", [{ name: "native s/token", y: (r) => r.nativeSecondsPerToken }], true),
      line("scale-gas", "Gas of a whole on-chain dispute vs model size", "gas (all keeper transactions)", [{ name: "dispute gas", y: (r) => Number(r.dispute.gasUsed) }]),
      line("scale-rounds", "Dispute rounds vs model size", "rounds", [
        { name: "graph rounds", y: (r) => r.dispute.graphRounds },
        { name: "VM rounds", y: (r) => r.dispute.vmRounds },
      ]),
      line(
        "scale-leaves",
        "Commitment leaves: single-phase vs two-phase",
        "leaves",
        [
          { name: "single-phase (every node's guest steps)", y: (r) => r.singlePhaseLeaves },
          { name: "two-phase (graph + one node)", y: (r) => r.twoPhaseLeaves },
        ],
        true,
      ),
    ],
  };
}

export const section: BenchSection = { id: "scale", title: "Scale", run };

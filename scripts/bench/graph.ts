/**
 * Graph section: the deterministic executor against onnxruntime-node on the same model, and alpha.
 *
 * - Throughput on MNIST held-out digits: our int8 wasm kernels (inference only, and with the full
 *   commitment: every tensor hash, State_k, traceRoot) vs onnxruntime-node running the float model
 *   the shipped int8 file was quantized from (retrained from the recipe, exported to ONNX), batch 1,
 *   in the same process, one after the other; onnxruntime with one big batch for reference.
 * - alpha (VM time / native time per node, the smallest over the nodes) from `oao model check`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { decodeModelFile } from "../../keeper/graph/model.ts";
import { depthFor } from "../../keeper/graph/merkle.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { quantizeInput } from "../../keeper/graph/quant.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { MNIST_RECIPE } from "../../keeper/graph/train/mnist.ts";
import { trainMlp } from "../../keeper/graph/train/mlp.ts";
import { mlpToOnnx } from "../../keeper/graph/onnx/export.ts";
import type { BenchContext, BenchSection, SectionResult } from "./types.ts";
import { interleavedRates, runOaoJson, sig } from "./util.ts";

interface ModelCheck {
  alpha: number;
  allEqual: boolean;
  nodes: { index: number; op: string; vmSteps: number; vmMs: number; nativeMs: number; ratio: number; equal: boolean }[];
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ctx.repo, "keeper/models/mnist/model.oao"))));
  const { train, test } = loadMnist();
  const samples = ctx.quick ? test.slice(0, 500) : test;
  const rounds = ctx.quick ? 3 : 5;
  const exec = new Executor(model);
  const inputs = samples.map((s) => quantizeInput(model, Array.from(s.pixels)));
  const floats = samples.map((s) => Float32Array.from(s.pixels));

  ctx.log(`  retraining the float MNIST model from the recipe for onnxruntime (${MNIST_RECIPE.epochs} epochs)…`);
  const session = await ort.InferenceSession.create(mlpToOnnx(trainMlp(train, MNIST_RECIPE)));
  const inName = session.inputNames[0]!;
  const batch = new Float32Array(784 * floats.length);
  floats.forEach((x, i) => batch.set(x, 784 * i));
  const n = inputs.length;

  ctx.log(`  throughput on ${n} digits, best of ${rounds} interleaved passes…`);
  const one = await interleavedRates(n, rounds, {
    infer: () => inputs.forEach((x) => exec.infer(x)),
    trace: () => inputs.forEach((x) => exec.run(x)),
    ort1: async () => {
      for (const x of floats) await session.run({ [inName]: new ort.Tensor("float32", x, [1, 784]) });
    },
    ortAll: () => session.run({ [inName]: new ort.Tensor("float32", batch, [n, 784]) }),
  });
  const [oursInfer, oursTrace, ort1, ortBatch] = [one.infer.best, one.trace.best, one.ort1.best, one.ortAll.best];
  // Batches of 64 (the keeper's default batchSize): ours batched (Executor.inferBatch/runBatch) vs onnxruntime's.
  const B = 64;
  const chunks = <T,>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / B) }, (_, i) => xs.slice(i * B, (i + 1) * B));
  const inputChunks = chunks(inputs);
  const floatChunks = chunks(floats).map((c) => {
    const a = new Float32Array(784 * c.length);
    c.forEach((x, i) => a.set(x, 784 * i));
    return { a, len: c.length };
  });
  if (!exec.batchable(B).batched) throw new Error("the MNIST model does not batch");
  const batched = await interleavedRates(n, rounds, {
    infer: () => inputChunks.forEach((c) => exec.inferBatch(c)),
    trace: () => inputChunks.forEach((c) => exec.runBatch(c)),
    ort: async () => {
      for (const c of floatChunks) await session.run({ [inName]: new ort.Tensor("float32", c.a, [c.len, 784]) });
    },
  });
  const [oursBatch, oursBatchTrace, ortBatch64] = [batched.infer.best, batched.trace.best, batched.ort.best];
  await session.release();

  ctx.log("  oao model check --model mnist (every node natively and in the VM)…");
  const check = await runOaoJson<ModelCheck>(ctx, ["model", "check", "--model", "mnist"]);
  if (!check.allEqual) throw new Error("oao model check: a node's VM result differs from the native one");

  const rate = (x: number) => Math.round(x);
  const steps = check.nodes.map((x) => x.vmSteps);
  const largest = Math.max(...steps);
  const singlePhase = steps.reduce((a, b) => a + b, 0);
  const nodes = model.nodes.length;
  return {
    metrics: [
      { key: "graph.samplesPerSecond", value: rate(oursInfer), unit: "samples/s", description: "our int8 executor, MNIST, batch 1, inference only" },
      { key: "graph.samplesPerSecondCommitted", value: rate(oursTrace), unit: "samples/s", description: "the same with the full commitment (every tensor hash, State_k, traceRoot)" },
      { key: "graph.vsOnnxruntime", value: sig(oursInfer / ort1), unit: "ratio", description: "our throughput / onnxruntime-node's (float32 CPU) on the same model, batch 1", better: "higher" },
      { key: "graph.vsOnnxruntimeCommitted", value: sig(oursTrace / ort1), unit: "ratio", description: "the same with all commitments computed", better: "higher" },
      { key: "graph.samplesPerSecondBatch64", value: rate(oursBatch), unit: "samples/s", description: "our int8 executor, MNIST, batches of 64 (Executor.inferBatch), inference only" },
      { key: "graph.vsOnnxruntimeBatch64", value: sig(oursBatch / ortBatch64), unit: "ratio", description: "the same / onnxruntime-node's (float32 CPU) in batches of 64", better: "higher" },
      { key: "graph.alphaMin", value: Math.round(check.alpha), unit: "ratio", description: "smallest VM time / native time over MNIST's nodes (`oao model check`)" },
    ],
    tables: [
      {
        title: "Native throughput: ours vs onnxruntime-node (MNIST MLP 784→96→10)",
        command: "npm run bench -- --only graph",
        columns: ["executor", "samples/s", "vs onnxruntime batch 1"],
        numeric: [false, true, true],
        rows: [
          ["ours, int8 wasm kernels, batch 1, inference only", rate(oursInfer), sig(oursInfer / ort1)],
          ["ours, batch 1, with every tensor hash, State_k and traceRoot", rate(oursTrace), sig(oursTrace / ort1)],
          ["onnxruntime-node float32 CPU, batch 1", rate(ort1), 1],
          ["ours, int8, batches of 64 (Executor.inferBatch), inference only", rate(oursBatch), sig(oursBatch / ort1)],
          ["ours, batches of 64 (Executor.runBatch), with every tensor hash, State_k and traceRoot", rate(oursBatchTrace), sig(oursBatchTrace / ort1)],
          ["onnxruntime-node float32 CPU, batches of 64", rate(ortBatch64), sig(ortBatch64 / ort1)],
          [`onnxruntime-node float32 CPU, one batch of ${n}`, rate(ortBatch), sig(ortBatch / ort1)],
        ],
        notes:
          `${n} held-out digits, the best of ${rounds} passes after a warm-up, each round running every row once in turn (batch 1 and batches of 64 as two groups), in one process. ` +
          "onnxruntime runs the float model the int8 file was quantized from (retrained from the same recipe). " +
          "Our executor runs one request at a time: each request has its own trace and commitments.",
      },
      {
        title: "alpha: VM time / native time per MNIST node",
        command: "npx oao model check --model mnist --json",
        columns: ["node", "op", "guest VM steps", "keeper/vm ms", "native ms", "VM / native"],
        numeric: [true, false, true, true, true, true],
        rows: check.nodes.map((x) => [x.index, x.op, x.vmSteps, sig(x.vmMs), sig(x.nativeMs), Math.round(x.ratio)]),
        notes: "The guest program (oao_node.elf) checks one node: it reads the node's inputs through the preimage oracle, recomputes the node and compares commitments.",
      },
      {
        title: "Commitment sizes: two-phase vs single-phase (MNIST)",
        columns: ["scheme", "leaves", "tree depth"],
        numeric: [false, true, true],
        rows: [
          [`two-phase: graph trace (n + 1 = ${nodes + 1} states)`, nodes + 1, depthFor(nodes + 1)],
          ["two-phase: then one node's VM trace (the largest node)", largest, depthFor(largest)],
          ["single-phase: every node's guest work in one VM trace", singlePhase, depthFor(singlePhase)],
        ],
        notes: "Two-phase bisects the graph first (O(n)), then one node's VM run (O(m)): O(m + n) instead of O(m·n). The gap grows with the number of nodes (see the scale section).",
      },
    ],
    charts: [
      {
        id: "graph-throughput",
        title: "MNIST inference throughput (higher is better)",
        kind: "bar",
        xLabel: "executor",
        yLabel: "samples / s",
        logY: true,
        series: [
          {
            name: "samples/s",
            points: [
              { x: "ours", y: rate(oursInfer) },
              { x: "ours+commit", y: rate(oursTrace) },
              { x: "ort batch 1", y: rate(ort1) },
              { x: "ours batch 64", y: rate(oursBatch) },
              { x: "ort batch 64", y: rate(ortBatch64) },
              { x: `ort batch ${n}`, y: rate(ortBatch) },
            ],
          },
        ],
      },
    ],
  };
}

export const section: BenchSection = { id: "graph", title: "Graph: deterministic executor", run };

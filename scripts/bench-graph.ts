/**
 * Graph benchmarks for docs/benchmarks.md (`npm run bench:graph`):
 * 1. native throughput on the MNIST held-out digits: our wasm kernels (inference only, and with the
 *    full commitment: every tensor hash, state and traceRoot) vs onnxruntime-node on the same
 *    model in float (retrained from the recipe, so the ONNX model is the float model the shipped
 *    int8 file was quantized from), in the same run;
 * 2. per-node VM steps and alpha (`oao model check`'s figures);
 * 3. Merkle-tree sizes of two-phase vs single-phase commitments.
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { decodeModelFile } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { quantizeInput } from "../keeper/graph/quant.ts";
import { depthFor } from "../keeper/graph/merkle.ts";
import { nodeCheck } from "../keeper/graph/preimages.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";
import { MNIST_RECIPE } from "../keeper/graph/train/mnist.ts";
import { trainMlp } from "../keeper/graph/train/mlp.ts";
import { mlpToOnnx } from "../keeper/graph/onnx/export.ts";
import { runNodeCheckInVm } from "../keeper/guest/node/vm.ts";

const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../keeper/models/mnist/model.oao", import.meta.url))));
const { train, test } = loadMnist();
const exec = new Executor(model);
const inputs = test.map((s) => quantizeInput(model, Array.from(s.pixels)));
const floats = test.map((s) => Float32Array.from(s.pixels));

function perSecond(label: string, n: number, fn: () => void, rounds = 5): number {
  fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rounds / 2)]!;
  console.log(`${label}: ${median.toFixed(0)} samples/s`);
  return median;
}

console.error("retraining the float model from the recipe for the onnxruntime reference…");
const mlp = trainMlp(train, MNIST_RECIPE);
const session = await ort.InferenceSession.create(mlpToOnnx(mlp));
const inName = session.inputNames[0]!;
const ortOne = async () => {
  for (const x of floats) await session.run({ [inName]: new ort.Tensor("float32", x, [1, 784]) });
};
const batch = new Float32Array(784 * floats.length);
floats.forEach((x, i) => batch.set(x, 784 * i));
const ortBatch = async () => {
  await session.run({ [inName]: new ort.Tensor("float32", batch, [floats.length, 784]) });
};
async function perSecondAsync(label: string, n: number, fn: () => Promise<void>, rounds = 5): Promise<number> {
  await fn();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await fn();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rounds / 2)]!;
  console.log(`${label}: ${median.toFixed(0)} samples/s`);
  return median;
}

const n = inputs.length;
const oursInfer = perSecond("ours, int8 wasm kernels, batch 1 (inference only)", n, () => inputs.forEach((x) => exec.infer(x)));
const oursTrace = perSecond("ours, int8, batch 1, with every tensor hash, State_k and traceRoot", n, () => inputs.forEach((x) => exec.run(x)));
const ort1 = await perSecondAsync("onnxruntime-node 1.30 float32 CPU, batch 1", n, ortOne);
const ortB = await perSecondAsync(`onnxruntime-node 1.30 float32 CPU, one batch of ${n}`, n, ortBatch);
console.log(`ratio ours/onnxruntime at batch 1: inference ${(oursInfer / ort1).toFixed(2)}, with commitments ${(oursTrace / ort1).toFixed(2)}; vs batched ORT: ${(oursInfer / ortB).toFixed(2)}`);

// per-node VM figures and tree sizes
const elf = new Uint8Array(readFileSync(new URL("../keeper/guest/build/oao_node.elf", import.meta.url)));
const res = exec.run(inputs[0]!);
const steps: number[] = [];
for (let k = 1; k <= model.nodes.length; k++) {
  const check = nodeCheck(model, inputs[0]!, res.nodeOutputs, k);
  const t0 = performance.now();
  const r = runNodeCheckInVm(elf, check);
  const vmMs = performance.now() - t0;
  steps.push(r.steps);
  console.log(`node ${k}: exit ${r.exitCode}, ${r.steps} VM steps, ${vmMs.toFixed(0)} ms in keeper/vm (${((r.steps / vmMs) * 1000 / 1e6).toFixed(2)} M steps/s)`);
}
const nodes = model.nodes.length;
const twoPhase = nodes + 1 + Math.max(...steps);
const singlePhase = steps.reduce((a, b) => a + b, 0);
console.log(`two-phase: graph trace ${nodes + 1} leaves (depth ${depthFor(nodes + 1)}) + one node's VM trace ≤ ${Math.max(...steps)} steps (depth ${depthFor(Math.max(...steps))}) = ${twoPhase} leaves`);
console.log(`single-phase (every node's work in one VM trace): ≥ ${singlePhase} steps (depth ${depthFor(singlePhase)})`);

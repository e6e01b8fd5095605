/**
 * Bring-your-own-model benchmark (issue 14): imports every PyTorch fixture
 * (keeper/graph/onnx/fixtures, scripts/models/export_fixtures.py) at opset 13 and 17 and prints,
 * per model, the import time, the int8 model's top-1 agreement with torch's float outputs on the
 * held-out set, int8 vs float accuracy, the node count and the largest node's VM steps, as the
 * markdown rows of docs/benchmarks.md; then the same for the transformer language models
 * (scripts/models/export_transformers.py): next-byte argmax agreement on held-out windows, the
 * largest node's VM steps and the game's vmTraceDepth it needs.
 * Run: npx tsx scripts/bench-byo.ts [--lm-only | --only NAME,…]   (--only: these PyTorch fixtures, no LMs)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { importOnnx } from "../keeper/graph/onnx/import.ts";
import { LM_FIXTURES, lmAgreement, loadFixture, loadLmFixture, PYTORCH_FIXTURES } from "../keeper/graph/onnx/pytorch-fixtures.ts";
import { OP_NAMES } from "../keeper/graph/ops.ts";
import { stepSlack } from "../keeper/guest/node/vm.ts";
import { vmTraceDepthFor } from "../keeper/game/solver.ts";
import { buildModel } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { dequantize, quantizeInput } from "../keeper/graph/quant.ts";
import { nodeCheck } from "../keeper/graph/preimages.ts";
import { runNodeCheckInVm } from "../keeper/guest/node/vm.ts";

const ELF = new Uint8Array(readFileSync(fileURLToPath(new URL("../keeper/guest/build/oao_node.elf", import.meta.url))));
const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const lmOnly = process.argv.includes("--lm-only");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt < 0 ? undefined : (process.argv[onlyAt + 1] ?? "").split(",");
const unknown = only?.filter((n) => !(PYTORCH_FIXTURES as readonly string[]).includes(n));
if (unknown?.length) throw new Error(`--only ${unknown.join(",")}: not a fixture (${PYTORCH_FIXTURES.join(", ")})`);
if (!lmOnly) console.log("| model | opset | import (s) | nodes | params | calib. agreement | held-out agreement | int8 / float accuracy | native = VM | largest node (VM steps) | worst node |");
if (!lmOnly) console.log("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
for (const name of lmOnly ? [] : PYTORCH_FIXTURES.filter((n) => !only || only.includes(n))) {
  const fx = loadFixture(name);
  for (const [opset, file] of fx.files) {
    const bytes = new Uint8Array(readFileSync(file));
    const t0 = performance.now();
    const r = importOnnx(bytes, fx.calibration, { name });
    const model = buildModel(r.spec);
    const seconds = (performance.now() - t0) / 1000;
    const exec = new Executor(model);
    let agree = 0, correct = 0;
    fx.heldout.forEach((x, i) => {
      const y = dequantize(model, exec.infer(quantizeInput(model, x)));
      if (argmax(y) === argmax(fx.heldoutFloat[i]!)) agree++;
      if (argmax(y) === fx.heldoutLabels[i]) correct++;
    });
    const input = quantizeInput(model, fx.heldout[0]!);
    const res = exec.run(input);
    let equal = true, maxSteps = 0;
    for (let k = 1; k <= model.nodes.length; k++) {
      const vm = runNodeCheckInVm(ELF, nodeCheck(model, input, res.nodeOutputs, k));
      equal &&= vm.exitCode === 0;
      maxSteps = Math.max(maxSteps, vm.steps);
    }
    const params = model.weights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
    const w = r.report!.worst!;
    console.log(
      `| ${name} | ${opset} | ${seconds.toFixed(2)} | ${model.nodes.length} | ${params} | ${pct(r.report!.agreement)} (${r.report!.samples}) | ${pct(agree / fx.heldout.length)} (${fx.heldout.length}) | ${pct(correct / fx.heldout.length)} / ${pct(fx.floatAccuracy)} | ${equal ? "yes" : "NO"} | ${maxSteps.toLocaleString("en-US")} | ${w.node} ${w.op} (+${(w.added * 100).toFixed(2)}%) |`,
    );
  }
}

if (!only) console.log("\n| model | opset | import (s) | nodes | params | calib. agreement (positions) | held-out argmax agreement (positions) | int8 / float next-byte accuracy | native = VM | largest node (VM steps) | vmTraceDepth | worst node |");
if (!only) console.log("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|");
for (const name of only ? [] : LM_FIXTURES) {
  const fx = loadLmFixture(name);
  for (const [opset, file] of fx.files) {
    const bytes = new Uint8Array(readFileSync(file));
    const t0 = performance.now();
    const r = importOnnx(bytes, fx.calibration, { name });
    const model = buildModel(r.spec);
    const seconds = (performance.now() - t0) / 1000;
    const { agreement, predictions, int8Accuracy } = lmAgreement(model, fx);
    const exec = new Executor(model);
    const input = quantizeInput(model, fx.heldout[0]!);
    const res = exec.run(input);
    let equal = true, maxSteps = 0, maxNode = 0;
    for (let k = 1; k <= model.nodes.length; k++) {
      const vm = runNodeCheckInVm(ELF, nodeCheck(model, input, res.nodeOutputs, k));
      equal &&= vm.exitCode === 0;
      const steps = vm.steps + stepSlack(model.nodes[k - 1]!);
      if (steps > maxSteps) (maxSteps = steps), (maxNode = k);
    }
    const params = model.weights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
    const w = r.report!.worst!;
    const calibPositions = r.report!.samples * (fx.outputShape.length === 2 ? fx.outputShape[0]! : 1);
    console.log(
      `| ${name} | ${opset} | ${seconds.toFixed(2)} | ${model.nodes.length} | ${params} | ${pct(r.report!.agreement)} (${calibPositions}) | ${pct(agreement)} (${predictions}) | ${pct(int8Accuracy)} / ${pct(fx.heldoutAccuracy)} | ${equal ? "yes" : "NO"} | ${maxSteps.toLocaleString("en-US")} (node ${maxNode} ${OP_NAMES[model.nodes[maxNode - 1]!.op]}) | ${vmTraceDepthFor(BigInt(maxSteps))} | ${w.node} ${w.op} (+${(w.added * 100).toFixed(2)}%) |`,
    );
  }
}

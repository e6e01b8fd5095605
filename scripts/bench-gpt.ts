/**
 * Scale benchmark for docs/benchmarks.md (`npm run bench:gpt -- [--model DIR] [--skip-vm] [--json]`):
 * the synthetic GPT-2 small (`npm run model:gpt` first) loaded with its commitments checked, one
 * token decoded natively (inference only, and with the full trace), resident memory, and the
 * phase-1 (guest in the VM) cost per node: measured on the model's own nodes where a node is cheap
 * enough, and for the large Gemms and the Gather from one-node models of the same shape at two
 * smaller sizes (VM steps are linear in the varied dimension; the extrapolation is labelled).
 * Then the commitment sizes of two-phase vs single-phase disputes, and one random node's node check
 * in the VM (honest claim VALID, wrong claim INVALID): the phase-1 work of a dispute over one token.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeModelFile, buildModel, nodeInputs, type Model, type ModelSpec } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { int32Tensor, int8Tensor, elementCount, DType, type Tensor } from "../keeper/graph/tensor.ts";
import { Op, OP_NAMES, inputSlot, weightSlot, type NodeDesc } from "../keeper/graph/ops.ts";
import { depthFor } from "../keeper/graph/merkle.ts";
import { keccak } from "../keeper/graph/hash.ts";
import { nodeCheck } from "../keeper/graph/preimages.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { runNodeCheckInVm } from "../keeper/guest/node/vm.ts";

const args = process.argv.slice(2);
const value = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dir = resolve(value("--model") ?? join(repo, ".oao", "models", "gpt2-small"));
const elf = new Uint8Array(readFileSync(join(repo, "keeper/guest/build/oao_node.elf")));
const rssMB = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const log = (s: string) => console.error(s);

let t = performance.now();
const buf = readFileSync(join(dir, "model.oao"));
const model = decodeModelFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
const loadSeconds = (performance.now() - t) / 1000;
const params = model.weights.reduce((a, w) => a + elementCount(w.shape), 0);
log(`loaded ${model.metadata.name}: ${params} params, ${model.nodes.length} nodes, ${buf.length} bytes in ${loadSeconds.toFixed(1)} s (commitments recomputed), RSS ${rssMB()} MB`);

const T = model.input.shape[0]!;
const prompt = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % 50257));
t = performance.now();
const exec = new Executor(model);
const executorSeconds = (performance.now() - t) / 1000;
const inferMs: number[] = [];
let token = -1;
for (let r = 0; r < 3; r++) {
  t = performance.now();
  token = exec.infer(prompt).data[0]!;
  inferMs.push(performance.now() - t);
}
inferMs.sort((a, b) => a - b);
t = performance.now();
const res = exec.run(prompt);
const runMs = performance.now() - t;
if (res.output.data[0] !== token) throw new Error("run and infer disagree on the token");
log(`native: next token ${token}; infer ${inferMs.map((x) => x.toFixed(0)).join("/")} ms, with the full trace ${runMs.toFixed(0)} ms; RSS ${rssMB()} MB`);

// ---- phase-1 cost per node -------------------------------------------------------------
function vmSteps(m: Model, input: Tensor, outs: readonly Tensor[], k: number): { steps: number; seconds: number; exit: number } {
  const t0 = performance.now();
  const r = runNodeCheckInVm(elf, nodeCheck(m, input, outs, k));
  return { steps: r.steps, seconds: (performance.now() - t0) / 1000, exit: r.exitCode };
}
/** VM steps of a one-node model whose node is `node` with the given input tensors (first = input). */
function oneNodeSteps(node: Omit<NodeDesc, "inputs">, ins: Tensor[]): number {
  const spec: ModelSpec = {
    input: { dtype: ins[0]!.dtype, shape: ins[0]!.shape },
    weights: ins.slice(1),
    nodes: [{ ...node, inputs: [inputSlot(), ...ins.slice(1).map((_, j) => weightSlot(j))] }],
    metadata: { name: "shape", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
  };
  const m = buildModel(spec);
  const r = vmSteps(m, ins[0]!, new Executor(m).run(ins[0]!).nodeOutputs, 1);
  if (r.exit !== 0) throw new Error(`one-node ${OP_NAMES[node.op]} check exited ${r.exit}`);
  return r.steps;
}
const rand = seededRandom(8);
const i8 = (shape: number[]) => int8Tensor(shape, Array.from({ length: elementCount(shape) }, () => Math.floor(rand() * 256) - 128));

/** Steps of a Gemm node [rows,K]·[N,K]ᵀ(+bias) extrapolated linearly in N from N = a and 2a. */
const gemmCache = new Map<string, number>();
function gemmSteps(node: NodeDesc, rows: number, K: number, N: number, bias: boolean): { steps: number; measured: false } {
  const key = `${rows}x${K}x${N}x${bias}`;
  if (!gemmCache.has(key)) {
    const a = Math.max(1, Math.min(N, Math.floor(2_000_000 / (rows * K)) || 1));
    const at = (n: number) =>
      oneNodeSteps({ ...node, outShape: [rows, n] }, [i8([rows, K]), i8([n, K]), ...(bias ? [int32Tensor([n], new Int32Array(n))] : [])]);
    const s1 = at(a), s2 = at(2 * a);
    gemmCache.set(key, s1 + ((s2 - s1) * (N - a)) / a);
    log(`  Gemm ${rows}x${K}→${N}: ${s1} steps at N=${a}, ${s2} at N=${2 * a} → ~${Math.round(gemmCache.get(key)!)} at N=${N}`);
  }
  return { steps: Math.round(gemmCache.get(key)!), measured: false };
}
function gatherSteps(node: NodeDesc, V: number, D: number, ids: Tensor): { steps: number; measured: false } {
  const a = 512;
  const at = (v: number) => oneNodeSteps({ ...node }, [ids, i8([v, D])].reverse().length ? ([] as Tensor[]) : []);
  void at;
  // the table is the node's first input and the ids its second: build the one-node model by hand
  const one = (v: number) => {
    const table = i8([v, D]);
    const spec: ModelSpec = {
      input: { dtype: DType.int32, shape: ids.shape },
      weights: [table],
      nodes: [{ ...node, inputs: [weightSlot(0), inputSlot()] }],
      metadata: { name: "gather", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
    };
    const m = buildModel(spec);
    const clamped = int32Tensor(ids.shape, Int32Array.from(ids.data, (x) => x % v));
    return vmSteps(m, clamped, new Executor(m).run(clamped).nodeOutputs, 1).steps;
  };
  const s1 = one(a), s2 = one(2 * a);
  const steps = Math.round(s1 + ((s2 - s1) * (V - a)) / a);
  log(`  Gather ${V}x${D}: ${s1} steps at V=${a}, ${s2} at V=${2 * a} → ~${steps} at V=${V}`);
  return { steps, measured: false };
}

interface NodeCost { k: number; op: string; steps: number; measured: boolean; seconds?: number }
const costs: NodeCost[] = [];
if (!args.includes("--skip-vm")) {
  const byShape = new Map<string, NodeCost>();
  for (let k = 1; k <= model.nodes.length; k++) {
    const node = model.nodes[k - 1]!;
    const ins = nodeInputs(model, k, prompt, res.nodeOutputs);
    const shapeKey = `${node.op}:${ins.map((x) => x.shape.join("x")).join(",")}:${node.outShape.join("x")}`;
    const same = byShape.get(shapeKey);
    if (same) {
      // the same op on the same shapes runs the same loops: steps differ only in data-dependent
      // branches (a few per element), so the first measurement stands for the rest
      costs.push({ k, op: same.op, steps: same.steps, measured: false });
      continue;
    }
    let c: NodeCost;
    if (node.op === Op.Gemm) {
      const [rows, K] = ins[0]!.shape as [number, number];
      c = { k, op: "Gemm", ...gemmSteps(node, rows, K, ins[1]!.shape[0]!, ins.length === 3) };
    } else if (node.op === Op.Gather) {
      c = { k, op: "Gather", ...gatherSteps(node, ins[0]!.shape[0]!, ins[0]!.shape[1]!, ins[1]!) };
    } else {
      const r = vmSteps(model, prompt, res.nodeOutputs, k);
      if (r.exit !== 0) throw new Error(`node ${k} exited ${r.exit}`);
      c = { k, op: OP_NAMES[node.op]!, steps: r.steps, measured: true, seconds: r.seconds };
      log(`  node ${k} ${c.op} [${node.outShape}]: ${r.steps} steps in ${r.seconds.toFixed(1)} s`);
    }
    byShape.set(shapeKey, c);
    costs.push(c);
  }
}

const n = model.nodes.length;
const totalSteps = costs.reduce((a, c) => a + c.steps, 0);
const maxNode = costs.reduce((a, c) => (c.steps > a.steps ? c : a), costs[0] ?? { k: 0, op: "", steps: 0, measured: false });
const commitments = costs.length
  ? {
      graphTraceLeaves: n + 1,
      graphDepth: depthFor(n + 1),
      maxNodeSteps: maxNode.steps,
      maxNode: `${maxNode.k} ${maxNode.op}`,
      phase1Depth: depthFor(maxNode.steps),
      twoPhaseLeaves: n + 1 + maxNode.steps,
      twoPhaseDepth: depthFor(n + 1) + depthFor(maxNode.steps),
      singlePhaseLeaves: totalSteps,
      singlePhaseDepth: depthFor(totalSteps),
    }
  : null;
if (commitments) log(`commitments: ${JSON.stringify(commitments)}`);

// ---- one random node: the phase-1 work of a dispute over this token ---------------------
let randomNode: Record<string, unknown> | null = null;
const pick = value("--node") ? Number(value("--node")) : 1 + Math.floor(seededRandom(2024)() * n);
if (!args.includes("--skip-random")) {
  log(`random node ${pick} (${OP_NAMES[model.nodes[pick - 1]!.op]}): running the node check in the VM…`);
  const honest = vmSteps(model, prompt, res.nodeOutputs, pick);
  const t1 = performance.now();
  const wrong = runNodeCheckInVm(elf, nodeCheck(model, prompt, res.nodeOutputs, pick, keccak(new Uint8Array([1]))));
  randomNode = { k: pick, op: OP_NAMES[model.nodes[pick - 1]!.op], steps: honest.steps, seconds: honest.seconds, honestExit: honest.exit, wrongClaimExit: wrong.exitCode, wrongSeconds: (performance.now() - t1) / 1000 };
  log(`random node: ${JSON.stringify(randomNode)}`);
}

const summary = {
  model: model.metadata.name,
  modelRoot: model.modelRoot.reduce((s, b) => s + b.toString(16).padStart(2, "0"), "0x"),
  params,
  nodes: n,
  fileBytes: buf.length,
  loadSeconds,
  executorSeconds,
  token,
  inferMsMedian: inferMs[1],
  runWithTraceMs: runMs,
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  commitments,
  perNode: costs,
  randomNode,
};
console.log(JSON.stringify(summary));

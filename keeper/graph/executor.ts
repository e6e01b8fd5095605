/**
 * The native graph executor: runs a model's nodes through the wasm kernels, producing the output,
 * every node output, every State_k and the traceRoot (docs/protocol.md §3.4, §3.5).
 */
import { type Bytes32 } from "./hash.ts";
import { GraphError, InputError } from "./errors.ts";
import { decodeSlot, encodeNodeDesc, Op, SlotKind, type NodeDesc } from "./ops.ts";
import { buildTrace, type Trace } from "./state.ts";
import { DType, dtypeName, elementCount, tensorHash, type Tensor } from "./tensor.ts";
import { KernelRuntime, type KernelRuntimeOptions, type MemTensor } from "./kernels.ts";
import type { KernelPath } from "./wasm.ts";
import { checkModelInput, isTextModel, type Model } from "./model.ts";

export interface RunResult {
  output: Tensor;
  /** node k's output at index k-1 */
  nodeOutputs: Tensor[];
  inputHash: Bytes32;
  trace: Trace;
}

/** Node k (1-based) and its computed output → a replacement output, or undefined to keep it. */
export type NodeReplacer = (k: number, output: Tensor) => Tensor | undefined;

/** The most requests one batched run takes (`runBatch` splits larger sets). */
export const MAX_BATCH = 64;

/**
 * Ops whose result for each index of axis 0 depends only on that index of their batched operands (the input and
 * earlier nodes' outputs), given which operand positions are batched and the conditions on the attributes: a model
 * made of these, with every activation of leading dimension 1, runs N requests as one graph whose axis 0 is N, and
 * row b of every node output is exactly request b's (integer kernels, no reduction across axis 0). Anything else
 * (attention over a sequence, the text ops, a weight as an elementwise operand) runs request by request.
 */
const BATCHED_OPERANDS: Partial<Record<number, { batched: readonly number[]; ok?: (node: NodeDesc) => boolean }>> = {
  [Op.Gemm]: { batched: [0] }, // x [M,K] (M = 1 → N); w, b are weights
  [Op.Add]: { batched: [0, 1] },
  [Op.Mul]: { batched: [0, 1] },
  [Op.Relu]: { batched: [0] },
  [Op.Softmax]: { batched: [0] }, // over the last axis (rank ≥ 2: checked with the shapes)
  [Op.Reshape]: { batched: [0] },
  [Op.Conv2D]: { batched: [0] }, // x [N,C,H,W]
  [Op.MaxPool]: { batched: [0] },
  [Op.LayerNorm]: { batched: [0] }, // per last-axis row
  [Op.Lut]: { batched: [0] },
  [Op.MatMul]: { batched: [0, 1] }, // both activations: a per-batch product (a weight operand is refused below)
  [Op.Transpose]: { batched: [0], ok: (n) => n.attrs[0] === 0 }, // axis 0 stays axis 0
  [Op.Slice]: { batched: [0], ok: (n) => n.attrs[0] !== 0 }, // not along axis 0
  [Op.ArgMax]: { batched: [0] }, // over the last axis
};

/** The batched node descriptions for `n` requests, or a reason the model runs request by request. */
export function batchPlan(model: Model, n: number): { nodeBytes: Uint8Array[] } | { reason: string } {
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH) return { reason: `batch size ${n} is outside 1..${MAX_BATCH}` };
  if (isTextModel(model)) return { reason: "a text model's input has no batch axis" };
  if (model.input.shape.length < 2 || model.input.shape[0] !== 1) return { reason: `the input [${model.input.shape.join(",")}] has no leading dimension 1` };
  const nodeBytes: Uint8Array[] = [];
  for (const [i, node] of model.nodes.entries()) {
    const rule = BATCHED_OPERANDS[node.op];
    const where = `node ${i + 1}`;
    if (!rule || (rule.ok && !rule.ok(node))) return { reason: `${where}: op ${node.op} is not batched along axis 0` };
    if (node.outShape.length < 2 || node.outShape[0] !== 1) return { reason: `${where}: output [${node.outShape.join(",")}] has no leading dimension 1` };
    for (const [j, ref] of node.inputs.entries()) {
      const { kind } = decodeSlot(ref);
      const activation = kind !== SlotKind.weight;
      if (activation !== rule.batched.includes(j)) return { reason: `${where}: operand ${j} is ${activation ? "an activation where a weight is expected" : "a weight where an activation is expected"}` };
    }
    nodeBytes.push(encodeNodeDesc({ ...node, outShape: [n, ...node.outShape.slice(1)] }));
  }
  return { nodeBytes };
}

export class Executor {
  private readonly runtime: KernelRuntime;
  private readonly weightMem: MemTensor[];
  private readonly descMem: { ptr: number; len: number }[];
  private readonly base: number;
  /**
   * Per batch size, the batched node descriptions (written into kernel memory above `base` on each batched run, so
   * the runtime's permanent part stays as loaded), or why the model does not batch.
   */
  private readonly batchDescs = new Map<number, Uint8Array[] | string>();

  /**
   * Copies the weights into a fresh runtime, or, given the runtime the model file was decoded in
   * place into (`decodeModelFile(view of runtime memory, runtime)`), uses its int8 weights where
   * they already lie: one resident copy of the weights. The runtime then belongs to this executor.
   * `options.kernels` forces the build ("native", "simd" or "scalar"; default: wasm.ts's selection).
   */
  constructor(
    readonly model: Model,
    runtime?: KernelRuntime,
    options: KernelRuntimeOptions = {},
  ) {
    if (runtime && options.kernels && runtime.kernels !== options.kernels) {
      throw new GraphError(`the runtime given runs the ${runtime.kernels} kernels, not ${options.kernels}`);
    }
    this.runtime = runtime ?? new KernelRuntime(options);
    this.runtime.claim();
    this.weightMem = model.weights.map((w) => {
      const ptr = this.runtime.residentPtr(w);
      return ptr === undefined ? this.runtime.writeTensor(w) : { ptr, dtype: w.dtype, shape: w.shape };
    });
    this.descMem = model.nodeBytes.map((b) => ({ ptr: this.runtime.writeBytes(b), len: b.length }));
    this.base = this.runtime.mark();
  }

  /** Kernel-memory addresses of the weights (as used by the kernels), for inspection. */
  weightPointers(): number[] {
    return this.weightMem.map((m) => m.ptr);
  }

  /** Bytes allocated in kernel memory once loaded (the runtime's mark: weights, node descriptions). */
  get loadedBytes(): number {
    return this.base;
  }

  /** The build of the kernels this executor runs ("native", "simd" or "scalar"). */
  get kernels(): KernelPath {
    return this.runtime.kernels;
  }

  /** Bytes of the runtime's linear memory. */
  get memoryBytes(): number {
    return this.runtime.memoryBytes;
  }

  /** Checks an input tensor against what the model takes (model.ts checkModelInput: a text model's int8 [L] too). */
  checkInput(input: Tensor): void {
    checkModelInput(this.model, input);
  }

  /** Computes every node into kernel memory (caller releases); `replace` may substitute a node's output (see run). */
  private execute(input: Tensor, replace?: NodeReplacer): MemTensor[] {
    const rt = this.runtime;
    const inMem = rt.writeTensor(input);
    const outMem: MemTensor[] = [];
    this.model.nodes.forEach((node, i) => {
      const ins = node.inputs.map((ref) => {
        const { kind, index } = decodeSlot(ref);
        return kind === SlotKind.input ? inMem : kind === SlotKind.weight ? this.weightMem[index]! : outMem[index - 1]!;
      });
      const out = rt.allocTensor({ dtype: node.outDtype, shape: node.outShape });
      rt.runNode(this.descMem[i]!.ptr, this.descMem[i]!.len, ins, out);
      const other = replace?.(i + 1, rt.readTensor(out));
      if (other !== undefined) {
        if (other.dtype !== node.outDtype || other.shape.length !== node.outShape.length || other.shape.some((d, j) => d !== node.outShape[j])) {
          throw new GraphError(`the replacement of node ${i + 1}'s output is ${dtypeName(other.dtype)}[${other.shape.join(",")}], not the node's ${dtypeName(node.outDtype)}[${node.outShape.join(",")}]`);
        }
        outMem.push(rt.writeTensor(other));
      } else outMem.push(out);
    });
    return outMem;
  }

  /**
   * Runs every node and builds the trace: output, node outputs, states, traceRoot. `replace` (fault
   * injection only: a cheater's consistent lie) sees each node's computed output and may return
   * another tensor of the same dtype and shape, which the later nodes then read.
   */
  run(input: Tensor, replace?: NodeReplacer): RunResult {
    this.checkInput(input);
    this.runtime.release(this.base);
    try {
      const nodeOutputs = this.execute(input, replace).map((m) => this.runtime.readTensor(m));
      const inputHash = tensorHash(input);
      const trace = buildTrace(inputHash, this.model.weightsRoot, nodeOutputs.map(tensorHash));
      return { output: nodeOutputs[nodeOutputs.length - 1]!, nodeOutputs, inputHash, trace };
    } finally {
      this.runtime.release(this.base);
    }
  }

  /** Runs the nodes only, without hashing: the output tensor. */
  infer(input: Tensor): Tensor {
    this.checkInput(input);
    this.runtime.release(this.base);
    try {
      const outs = this.execute(input);
      return this.runtime.readTensor(outs[outs.length - 1]!);
    } finally {
      this.runtime.release(this.base);
    }
  }

  /** Runs the nodes only, without hashing: every node's output (node k at index k-1). */
  inferAll(input: Tensor): Tensor[] {
    this.checkInput(input);
    this.runtime.release(this.base);
    try {
      return this.execute(input).map((m) => this.runtime.readTensor(m));
    } finally {
      this.runtime.release(this.base);
    }
  }

  /**
   * Runs several requests' inputs; the result for each is exactly `run(inputs[b])` (node outputs, states,
   * traceRoot). A model made of batch-separable ops (`batchPlan`) runs up to MAX_BATCH inputs as one graph of
   * leading dimension N (one kernel call per node for all of them: the per-node overhead and the weights' reads are
   * shared); any other model, or one input, runs them one by one. Every input is checked first (an InputError names
   * its index).
   */
  runBatch(inputs: readonly Tensor[]): RunResult[] {
    for (const [b, input] of inputs.entries()) {
      try {
        this.checkInput(input);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`batch input ${b}: ${e.message}`);
        throw e;
      }
    }
    const out: RunResult[] = [];
    for (let at = 0; at < inputs.length; at += MAX_BATCH) {
      const chunk = inputs.slice(at, at + MAX_BATCH);
      const descs = chunk.length > 1 ? this.batchDescriptions(chunk.length) : undefined;
      if (descs === undefined) {
        for (const input of chunk) out.push(this.run(input));
        continue;
      }
      for (const nodeOutputs of this.executeBatch(chunk, descs)) {
        const inputHash = tensorHash(chunk[out.length - at]!);
        const trace = buildTrace(inputHash, this.model.weightsRoot, nodeOutputs.map(tensorHash));
        out.push({ output: nodeOutputs[nodeOutputs.length - 1]!, nodeOutputs, inputHash, trace });
      }
    }
    return out;
  }

  /** Runs several inputs without hashing (batched as `runBatch` does): each one's output tensor, equal to `infer(x)`. */
  inferBatch(inputs: readonly Tensor[]): Tensor[] {
    inputs.forEach((input) => this.checkInput(input));
    const out: Tensor[] = [];
    for (let at = 0; at < inputs.length; at += MAX_BATCH) {
      const chunk = inputs.slice(at, at + MAX_BATCH);
      const descs = chunk.length > 1 ? this.batchDescriptions(chunk.length) : undefined;
      if (descs === undefined) for (const input of chunk) out.push(this.infer(input));
      else for (const outputs of this.executeBatch(chunk, descs, false)) out.push(outputs[0]!);
    }
    return out;
  }

  /** Whether `runBatch` of `n` inputs runs them as one graph, and if not why (for logs and benchmarks). */
  batchable(n: number): { batched: true } | { batched: false; reason: string } {
    this.batchDescriptions(n); // planned once per batch size, then cached
    const d = this.batchDescs.get(n)!;
    return typeof d === "string" ? { batched: false, reason: d } : { batched: true };
  }

  private batchDescriptions(n: number): Uint8Array[] | undefined {
    let d = this.batchDescs.get(n);
    if (d === undefined) {
      const plan = batchPlan(this.model, n);
      d = "reason" in plan ? plan.reason : plan.nodeBytes;
      this.batchDescs.set(n, d);
    }
    return typeof d === "string" ? undefined : d;
  }

  /** The batched graph: per input, every node's output (row b of each batched output), or only the last node's. */
  private executeBatch(inputs: readonly Tensor[], descs: readonly Uint8Array[], allNodes = true): Tensor[][] {
    const rt = this.runtime;
    const n = inputs.length;
    rt.release(this.base);
    try {
      const first = inputs[0]!;
      const per = elementCount(first.shape);
      const shape = [n, ...first.shape.slice(1)];
      const joined = first.dtype === DType.int8 ? new Int8Array(per * n) : new Int32Array(per * n);
      inputs.forEach((t, b) => joined.set(t.data, b * per));
      const inMem = rt.writeTensor({ dtype: first.dtype, shape, data: joined } as Tensor);
      const outMem: MemTensor[] = [];
      this.model.nodes.forEach((node, i) => {
        const ins = node.inputs.map((ref) => {
          const { kind, index } = decodeSlot(ref);
          return kind === SlotKind.input ? inMem : kind === SlotKind.weight ? this.weightMem[index]! : outMem[index - 1]!;
        });
        const bytes = descs[i]!;
        const ptr = rt.writeBytes(bytes);
        const out = rt.allocTensor({ dtype: node.outDtype, shape: [n, ...node.outShape.slice(1)] });
        rt.runNode(ptr, bytes.length, ins, out);
        outMem.push(out);
      });
      const perRequest: Tensor[][] = inputs.map(() => []);
      this.model.nodes.forEach((node, i) => {
        if (!allNodes && i < this.model.nodes.length - 1) return;
        const all = rt.readTensor(outMem[i]!);
        const size = elementCount(node.outShape);
        for (let b = 0; b < n; b++) {
          const data = all.data.slice(b * size, (b + 1) * size);
          perRequest[b]!.push({ dtype: node.outDtype, shape: [...node.outShape], data } as Tensor);
        }
      });
      return perRequest;
    } finally {
      rt.release(this.base);
    }
  }

  /** Runs one node k (1-based) on explicit input tensors (for per-node checks against the guest). */
  runNode(k: number, inputs: readonly Tensor[]): Tensor {
    const node = this.model.nodes[k - 1];
    if (!node) throw new InputError(`node ${k} outside 1..${this.model.nodes.length}`);
    const rt = this.runtime;
    rt.release(this.base);
    try {
      const ins = inputs.map((t) => rt.writeTensor(t));
      const out = rt.allocTensor({ dtype: node.outDtype, shape: node.outShape });
      rt.runNode(this.descMem[k - 1]!.ptr, this.descMem[k - 1]!.len, ins, out);
      return rt.readTensor(out);
    } finally {
      rt.release(this.base);
    }
  }
}

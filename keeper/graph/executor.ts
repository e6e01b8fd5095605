/**
 * The native graph executor: runs a model's nodes through the wasm kernels, producing the output,
 * every node output, every State_k and the traceRoot (docs/protocol.md §3.4, §3.5).
 */
import { type Bytes32 } from "./hash.ts";
import { GraphError, InputError } from "./errors.ts";
import { decodeSlot, SlotKind } from "./ops.ts";
import { buildTrace, type Trace } from "./state.ts";
import { dtypeName, tensorHash, type Tensor } from "./tensor.ts";
import { KernelRuntime, type KernelRuntimeOptions, type MemTensor } from "./kernels.ts";
import type { KernelPath } from "./wasm.ts";
import { checkModelInput, type Model } from "./model.ts";

export interface RunResult {
  output: Tensor;
  /** node k's output at index k-1 */
  nodeOutputs: Tensor[];
  inputHash: Bytes32;
  trace: Trace;
}

/** Node k (1-based) and its computed output → a replacement output, or undefined to keep it. */
export type NodeReplacer = (k: number, output: Tensor) => Tensor | undefined;

export class Executor {
  private readonly runtime: KernelRuntime;
  private readonly weightMem: MemTensor[];
  private readonly descMem: { ptr: number; len: number }[];
  private readonly base: number;

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

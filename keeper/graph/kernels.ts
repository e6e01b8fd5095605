/**
 * The C kernels (keeper/guest/kernels/oao_kernels.c) compiled for the keeper: the native side of
 * the "dual compilation" (the guest runs the same C as MIPS). A KernelRuntime owns one instance of a
 * build and a bump allocator over its linear memory: the native addon (native.ts), the SIMD or the
 * scalar wasm build (wasm.ts: `OAO_KERNELS`, or `new KernelRuntime({ kernels })`); all give the same
 * bytes.
 */
import { instantiateKernels, kernelSelection, type KernelExports, type KernelPath, type WasmMemory } from "./wasm.ts";
import { GraphError } from "./errors.ts";
import { DType, elementCount, elementSize, type Int8Tensor, type Tensor } from "./tensor.ts";

/** Messages for the kernels' status codes (oao_kernels.h). */
export const KERNEL_ERRORS: Record<number, string> = {
  [-1]: "node description is truncated",
  [-2]: "unknown op code",
  [-3]: "wrong number of inputs for the op (Emit without prev only for k = 0)",
  [-4]: "an input has the wrong dtype for the op",
  [-5]: "an input has the wrong shape for the op",
  [-6]: "the output dtype does not match the op",
  [-7]: "the output shape does not match the op and its inputs",
  [-8]: "wrong number of attributes for the op",
  [-9]: "an attribute value is out of range (zero points and clamps in -128..127, m >= 0, s in 1..62, windows/strides/pads valid, TokenWindow C in 1..32767, Emit 0 <= k < T)",
  [-10]: "the output tensor header is invalid",
  [-11]: "node description has trailing bytes",
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TENSOR_STRUCT_BYTES = 36; // 9 × u32 (oao_tensor)

export interface TensorSpec {
  dtype: number;
  shape: readonly number[];
}

/** A tensor living in kernel memory. */
export interface MemTensor extends TensorSpec {
  ptr: number;
}

/**
 * An int8 tensor that lives in a KernelRuntime's memory (a model's weights loaded in place, §3.7):
 * `data` is re-derived from the memory's current buffer on every access, because growing a
 * WebAssembly.Memory (or the native one, which behaves alike) detaches its old buffer (and every view of it). Use `data` at once; do not
 * keep it across a call that may allocate in the runtime (an Executor run). `data` is a prototype
 * getter, so spreading the tensor drops it (a loud `undefined`) rather than freezing a stale view.
 */
export class ResidentInt8Tensor implements Int8Tensor {
  readonly dtype = DType.int8;
  private view: Int8Array | undefined;
  constructor(
    private readonly memory: WasmMemory,
    readonly ptr: number,
    readonly shape: number[],
  ) {}

  get data(): Int8Array {
    const buffer = this.memory.buffer;
    if (this.view?.buffer !== buffer) this.view = new Int8Array(buffer, this.ptr, elementCount(this.shape));
    return this.view;
  }
}

export interface KernelRuntimeOptions {
  /** Which build to run: "native", "simd" or "scalar" (default: the process's selection, wasm.ts `kernelSelection`). */
  kernels?: KernelPath;
}

export class KernelRuntime {
  private readonly exports: KernelExports;
  private top: number;
  private readonly scratch: number;
  private claimed = false;
  /** The build this runtime runs. */
  readonly kernels: KernelPath;

  constructor(options: KernelRuntimeOptions = {}) {
    this.kernels = options.kernels ?? kernelSelection().path;
    this.exports = instantiateKernels(this.kernels);
    this.top = align(Number(this.exports.__heap_base.value), 16);
    this.scratch = this.alloc(TENSOR_STRUCT_BYTES * 10 + 1024);
  }

  private get memory(): WasmMemory {
    return this.exports.memory;
  }

  /** Bump-allocates `bytes` (16-byte aligned), growing memory as needed. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = align(ptr + Math.max(bytes, 1), 16);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    this.top = end;
    return ptr;
  }

  /**
   * Reserves the runtime for one Executor: its weights and node descriptions sit below its mark,
   * and its runs release back to that mark, so a second Executor on the same runtime would
   * overwrite them. Throws if the runtime is already taken.
   */
  claim(): void {
    if (this.claimed) throw new GraphError("this KernelRuntime already backs an Executor; give each Executor its own runtime");
    this.claimed = true;
  }

  /** A view of `len` bytes at `ptr` in the current memory buffer (invalid after the memory grows). */
  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }

  /** True if `bytes` is a view of this runtime's memory (as it is now). */
  holds(bytes: ArrayBufferView): boolean {
    return bytes.buffer === this.memory.buffer;
  }

  /** An int8 tensor of `shape` already in memory at `ptr` (no copy). */
  residentInt8(shape: number[], ptr: number): ResidentInt8Tensor {
    const n = elementCount(shape);
    if (ptr < 0 || ptr + n > this.top) throw new GraphError(`resident tensor [${shape.join(",")}] at ${ptr} lies outside the allocated memory (top ${this.top})`);
    return new ResidentInt8Tensor(this.memory, ptr, shape);
  }

  /** Where a tensor already lies in this runtime's memory (an int8 resident weight), or undefined. */
  residentPtr(t: Tensor): number | undefined {
    if (t instanceof ResidentInt8Tensor && t.data.buffer === this.memory.buffer) return t.ptr;
    return undefined;
  }

  /** Bytes of linear memory (grows with allocations). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocation mark, to free everything allocated after it with `release`. */
  mark(): number {
    return this.top;
  }
  release(mark: number): void {
    this.top = mark;
  }

  writeBytes(bytes: Uint8Array): number {
    const ptr = this.alloc(bytes.length);
    new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }

  /** Copies a tensor into kernel memory (native = little-endian order for int32). */
  writeTensor(t: Tensor): MemTensor {
    const ptr = this.alloc(t.data.byteLength);
    if (t.dtype === DType.int8) new Int8Array(this.memory.buffer, ptr, t.data.length).set(t.data);
    else if (LITTLE_ENDIAN_HOST) new Int32Array(this.memory.buffer, ptr, t.data.length).set(t.data);
    else {
      const view = new DataView(this.memory.buffer, ptr, t.data.byteLength);
      for (let i = 0; i < t.data.length; i++) view.setInt32(4 * i, t.data[i]!, true);
    }
    return { ptr, dtype: t.dtype, shape: t.shape };
  }

  readTensor(m: MemTensor): Tensor {
    const n = elementCount(m.shape);
    if (m.dtype === DType.int8) return { dtype: DType.int8, shape: [...m.shape], data: new Int8Array(this.memory.buffer, m.ptr, n).slice() };
    if (LITTLE_ENDIAN_HOST) return { dtype: DType.int32, shape: [...m.shape], data: new Int32Array(this.memory.buffer, m.ptr, n).slice() };
    const view = new DataView(this.memory.buffer, m.ptr, 4 * n);
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, true);
    return { dtype: DType.int32, shape: [...m.shape], data };
  }

  private writeStructs(inputs: readonly (TensorSpec & { ptr?: number })[]): number {
    if (inputs.length > 8) throw new GraphError(`a node has at most 8 inputs, got ${inputs.length}`);
    const view = new DataView(this.memory.buffer);
    inputs.forEach((t, i) => {
      const base = this.scratch + TENSOR_STRUCT_BYTES * i;
      view.setUint32(base, t.ptr ?? 0, true);
      view.setUint32(base + 4, t.dtype, true);
      view.setUint32(base + 8, t.shape.length, true);
      for (let d = 0; d < 6; d++) view.setUint32(base + 12 + 4 * d, t.shape[d] ?? 0, true);
    });
    return this.scratch;
  }

  private readStruct(ptr: number): TensorSpec {
    const view = new DataView(this.memory.buffer);
    const dtype = view.getUint32(ptr + 4, true);
    const rank = view.getUint32(ptr + 8, true);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(view.getUint32(ptr + 12 + 4 * d, true));
    return { dtype, shape };
  }

  /** Validates a node description (already in memory at descPtr) against input specs; returns the output spec. */
  validateNode(descPtr: number, descLen: number, inputs: readonly TensorSpec[]): TensorSpec {
    const inPtr = this.writeStructs(inputs);
    const outPtr = this.scratch + TENSOR_STRUCT_BYTES * 9;
    const rc = this.exports.oao_node_validate(descPtr, descLen, inPtr, inputs.length, outPtr);
    if (rc !== 0) throw new GraphError(KERNEL_ERRORS[rc] ?? `kernel status ${rc}`);
    return this.readStruct(outPtr);
  }

  /** Runs a node: inputs in memory, output written to `out.ptr`. */
  runNode(descPtr: number, descLen: number, inputs: readonly MemTensor[], out: MemTensor): void {
    const inPtr = this.writeStructs(inputs);
    const outPtr = this.scratch + TENSOR_STRUCT_BYTES * 9;
    new DataView(this.memory.buffer).setUint32(outPtr, out.ptr, true);
    const rc = this.exports.oao_node_run(descPtr, descLen, inPtr, inputs.length, outPtr);
    if (rc !== 0) throw new GraphError(KERNEL_ERRORS[rc] ?? `kernel status ${rc}`);
  }

  /** Allocates room for a tensor of the given spec. */
  allocTensor(spec: TensorSpec): MemTensor {
    return { ptr: this.alloc(elementCount(spec.shape) * elementSize(spec.dtype)), dtype: spec.dtype, shape: spec.shape };
  }

  rq(v: number, m: number, s: number): number {
    return this.exports.oao_rq(v, m, s);
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

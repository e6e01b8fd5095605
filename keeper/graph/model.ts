/**
 * Models (docs/protocol.md §3.3) and the model file (§3.7): building, the descriptor and modelRoot,
 * encoding and loading with integrity and commitment checks. Node shape rules are checked by the
 * same C kernels that compute them (kernels.ts).
 */
import { concatBytes, equalBytes, keccak, keccakStream, toHex, type Bytes32 } from "./hash.ts";
import { depthFor, merkleRoot } from "./merkle.ts";
import { ModelFormatError, GraphError, InputError } from "./errors.ts";
import { decodeNodeDesc, encodeNodeDesc, decodeSlot, inputSlot, Op, OP_NAMES, SlotKind, slotName, type NodeDesc } from "./ops.ts";
import { CHUNK_BYTES, decodeHeader, decodeTensor, DType, dtypeName, elementCount, elementSize, encodeHeader, tensorBytes, tensorHashOfBytes, type Tensor } from "./tensor.ts";
import { KernelRuntime, type TensorSpec } from "./kernels.ts";

export const MODEL_MAGIC = 0x4f414f4d; // "OAOM"
/** Descriptor version of a fixed-input model (no inputMode byte). */
export const MODEL_VERSION = 1;
/** Descriptor version with the trailing `inputMode` byte (§3.3). */
export const MODEL_VERSION_INPUT_MODE = 2;

/**
 * How a model takes its request input (§3.3, the descriptor's `inputMode` byte): `fixed`, exactly
 * the input header's tensor; `text`, an int8 [L] prompt of 1..C bytes where int8 [C] is the header.
 */
export const InputMode = { fixed: 0, text: 1 } as const;
export type InputMode = (typeof InputMode)[keyof typeof InputMode];

/**
 * The largest request input the registry accepts (§1.3, §3.4; `GraphCommitments.MAX_INPUT_BYTES`): 8 chunks for a
 * fixed model, whose input every request carries in calldata and the oracle hashes to its chunk root; a text
 * model's context C stays within one chunk. Above it `registerModel` reverts `ModelInputTooLarge(bytes, max)`.
 */
export const MAX_INPUT_BYTES = 8 * CHUNK_BYTES;

/** The registry's limit on a model's input bytes (its input header's, C for a text model): see MAX_INPUT_BYTES. */
export function maxInputBytes(spec: Pick<ModelSpec, "inputMode">): number {
  return isTextModel(spec) ? CHUNK_BYTES : MAX_INPUT_BYTES;
}

/** Operator code of TokenWindow (§3.6), the only op that may read a text model's request input. */
export const TOKEN_WINDOW_OP = Op.TokenWindow;
const FILE_MAGIC = new TextEncoder().encode("OAOMODEL");
const FILE_VERSION = 1;

export interface QuantParams {
  /** real = scale · (q − zeroPoint) */
  scale: number;
  zeroPoint: number;
  /**
   * Input only, optional: per-channel parameters along axis 1 (a tabular model's features, an
   * image's channels), which take precedence over scale/zeroPoint: element i of channel c is
   * real = channelScales[c] · (q − channelZeroPoints[c]). The importer folds them into the first layer.
   */
  channelScales?: number[];
  channelZeroPoints?: number[];
}

/** Off-chain information committed by metadataHash; not used by committed computation. */
export interface ModelMetadata {
  name: string;
  input: QuantParams;
  output: QuantParams;
  labels?: string[];
  [key: string]: unknown;
}

export interface ModelSpec {
  /** The request input; for a text model the maximum, int8 [C]. */
  input: TensorSpec;
  nodes: NodeDesc[];
  weights: Tensor[];
  metadata: ModelMetadata;
  /**
   * The descriptor's inputMode (§3.3). Absent: a version-1 descriptor (a fixed-input model, as
   * every model before text models); given: a version-2 descriptor with this byte.
   */
  inputMode?: InputMode;
}

export interface Model extends ModelSpec {
  nodeBytes: Uint8Array[];
  nodeHashes: Bytes32[];
  weightHashes: Bytes32[];
  metadataBytes: Uint8Array;
  inputHeader: Uint8Array;
  outputHeader: Uint8Array;
  output: TensorSpec;
  graphRoot: Bytes32;
  weightsRoot: Bytes32;
  metadataHash: Bytes32;
  descriptor: Uint8Array;
  modelRoot: Bytes32;
}

/** JSON with sorted keys (the committed metadata bytes). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) throw new GraphError(`metadata number ${value} is not finite`);
  return JSON.stringify(value);
}

export function encodeDescriptor(p: {
  nodeCount: number;
  weightCount: number;
  graphRoot: Bytes32;
  weightsRoot: Bytes32;
  metadataHash: Bytes32;
  inputHeader: Uint8Array;
  outputHeader: Uint8Array;
  /** Absent: version 1; given: version 2 with this trailing inputMode byte. */
  inputMode?: InputMode;
}): Uint8Array {
  const v2 = p.inputMode !== undefined;
  const out = new Uint8Array(112 + 1 + p.inputHeader.length + 1 + p.outputHeader.length + (v2 ? 1 : 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MODEL_MAGIC, false);
  view.setUint32(4, v2 ? MODEL_VERSION_INPUT_MODE : MODEL_VERSION, false);
  view.setUint32(8, p.nodeCount, false);
  view.setUint32(12, p.weightCount, false);
  out.set(p.graphRoot, 16);
  out.set(p.weightsRoot, 48);
  out.set(p.metadataHash, 80);
  out[112] = p.inputHeader.length;
  out.set(p.inputHeader, 113);
  out[113 + p.inputHeader.length] = p.outputHeader.length;
  out.set(p.outputHeader, 114 + p.inputHeader.length);
  if (v2) out[out.length - 1] = p.inputMode!;
  return out;
}

export interface Descriptor {
  nodeCount: number;
  weightCount: number;
  graphRoot: Bytes32;
  weightsRoot: Bytes32;
  metadataHash: Bytes32;
  inputHeader: Uint8Array;
  outputHeader: Uint8Array;
  /** 1 or 2 (§3.3). */
  version: number;
  /** The trailing byte of a version-2 descriptor; fixed for version 1. */
  inputMode: InputMode;
}

export function decodeDescriptor(bytes: Uint8Array): Descriptor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 114) throw new ModelFormatError(`model descriptor of ${bytes.length} bytes is truncated (at least 114)`);
  if (view.getUint32(0, false) !== MODEL_MAGIC) throw new ModelFormatError("model descriptor magic is not OAOM");
  const version = view.getUint32(4, false);
  if (version !== MODEL_VERSION && version !== MODEL_VERSION_INPUT_MODE) {
    throw new ModelFormatError(`model descriptor version ${version} is not ${MODEL_VERSION} or ${MODEL_VERSION_INPUT_MODE}`);
  }
  const inLen = bytes[112]!;
  const outLenAt = 113 + inLen;
  if (bytes.length < outLenAt + 1) throw new ModelFormatError("model descriptor truncated in the input header");
  const outLen = bytes[outLenAt]!;
  const expected = outLenAt + 1 + outLen + (version === MODEL_VERSION_INPUT_MODE ? 1 : 0);
  if (bytes.length !== expected) throw new ModelFormatError(`model descriptor (version ${version}) has ${bytes.length} bytes, expected ${expected}`);
  const inputMode = version === MODEL_VERSION_INPUT_MODE ? bytes[expected - 1]! : InputMode.fixed;
  if (inputMode !== InputMode.fixed && inputMode !== InputMode.text) {
    throw new ModelFormatError(`model descriptor inputMode ${inputMode} is not 0 (fixed) or 1 (text)`);
  }
  return {
    version,
    inputMode,
    nodeCount: view.getUint32(8, false),
    weightCount: view.getUint32(12, false),
    graphRoot: bytes.slice(16, 48),
    weightsRoot: bytes.slice(48, 80),
    metadataHash: bytes.slice(80, 112),
    inputHeader: bytes.slice(113, 113 + inLen),
    outputHeader: bytes.slice(outLenAt + 1, outLenAt + 1 + outLen),
  };
}

/** Spec (dtype, shape) of every slot reference a node may use, checking that it exists. */
function resolveSlot(ref: number, k: number, spec: ModelSpec): TensorSpec {
  const { kind, index } = decodeSlot(ref);
  if (kind === SlotKind.input && index === 0) return spec.input;
  if (kind === SlotKind.weight && index < spec.weights.length) return spec.weights[index]!;
  if (kind === SlotKind.node && index >= 1 && index < k) {
    const n = spec.nodes[index - 1]!;
    return { dtype: n.outDtype, shape: n.outShape };
  }
  throw new ModelFormatError(`node ${k} (${OP_NAMES[spec.nodes[k - 1]!.op] ?? "?"}) reads ${slotName(ref)}, which does not exist before it (weights: ${spec.weights.length})`);
}

/** Whether a model (or spec) takes text: an int8 [L] prompt of 1..C bytes (§3.3 inputMode 1). */
export function isTextModel(spec: Pick<ModelSpec, "inputMode">): boolean {
  return spec.inputMode === InputMode.text;
}

/**
 * The dtype and shape of a request input of `byteLength` canonical bytes (§3.4): the input header's for a fixed
 * model (which takes exactly its byte length), int8 [L] with L = byteLength for a text model (1 ≤ L ≤ C). An input
 * the model cannot take is an InputError saying what it takes.
 */
export function requestInputSpec(spec: Pick<ModelSpec, "input" | "inputMode">, byteLength: number): TensorSpec {
  const { dtype, shape } = spec.input;
  if (isTextModel(spec)) {
    const c = shape[0]!;
    if (byteLength < 1 || byteLength > c) {
      throw new InputError(`a text model's prompt is 1..${c} bytes (its context), not ${byteLength}`);
    }
    return { dtype: DType.int8, shape: [byteLength] };
  }
  const expected = elementCount(shape) * elementSize(dtype);
  if (byteLength !== expected) {
    throw new InputError(`request input is ${byteLength} bytes but the model takes ${expected} (shape [${shape.join(",")}], canonical encoding)`);
  }
  return { dtype, shape: [...shape] };
}

/** Checks an input tensor against what the model takes (§3.4): its input header's, or a text model's int8 [L]. */
export function checkModelInput(spec: Pick<ModelSpec, "input" | "inputMode">, input: Tensor): void {
  const want = spec.input;
  if (isTextModel(spec)) {
    const c = want.shape[0]!;
    if (input.dtype !== DType.int8 || input.shape.length !== 1 || input.shape[0]! < 1 || input.shape[0]! > c) {
      throw new InputError(`input is ${dtypeName(input.dtype)}[${input.shape.join(",")}] but the text model takes a prompt int8[L], 1 <= L <= ${c}`);
    }
    return;
  }
  if (input.dtype !== want.dtype || input.shape.length !== want.shape.length || input.shape.some((d, i) => d !== want.shape[i])) {
    throw new InputError(
      `input is ${dtypeName(input.dtype)}[${input.shape.join(",")}] (${elementCount(input.shape)} values) but the model takes ${dtypeName(want.dtype)}[${want.shape.join(",")}] (${elementCount(want.shape)} values)`,
    );
  }
}

/**
 * The text-model rules of §3.3: the input header is int8 rank 1 [C], and only TokenWindow reads
 * the request input (the one op whose output does not depend on the prompt's length L).
 */
function validateInputMode(spec: ModelSpec): void {
  const mode = spec.inputMode;
  if (mode === undefined || mode === InputMode.fixed) return;
  if (mode !== InputMode.text) throw new ModelFormatError(`inputMode ${String(mode)} is not 0 (fixed) or 1 (text)`);
  const { dtype, shape } = spec.input;
  if (dtype !== DType.int8 || shape.length !== 1) {
    throw new ModelFormatError(`a text model's input must be int8 [C] (rank 1, C the context), not ${dtypeName(dtype)}[${shape.join(",")}]`);
  }
  spec.nodes.forEach((node, i) => {
    if (node.op === TOKEN_WINDOW_OP) return;
    if (node.inputs.some((ref) => ref === inputSlot())) {
      throw new ModelFormatError(`node ${i + 1} (${OP_NAMES[node.op] ?? `op ${node.op}`}) reads the request input of a text model: only TokenWindow (op ${TOKEN_WINDOW_OP}) may`);
    }
  });
}

/** Validates every node with the kernels' own shape rules (and a text model's input rules). */
export function validateModel(spec: ModelSpec, runtime = new KernelRuntime()): void {
  if (spec.nodes.length < 1) throw new ModelFormatError("a model needs at least one node");
  validateInputMode(spec);
  const mark = runtime.mark();
  try {
    spec.nodes.forEach((node, i) => {
      const k = i + 1;
      const desc = encodeNodeDesc(node);
      const inputs = node.inputs.map((ref) => resolveSlot(ref, k, spec));
      const ptr = runtime.writeBytes(desc);
      try {
        runtime.validateNode(ptr, desc.length, inputs);
      } catch (e) {
        const shapes = inputs.map((t) => `${dtypeName(t.dtype)}[${t.shape.join(",")}]`).join(", ");
        throw new ModelFormatError(`node ${k} (${OP_NAMES[node.op] ?? `op ${node.op}`}): ${(e as Error).message}; inputs ${shapes}, output ${dtypeName(node.outDtype)}[${node.outShape.join(",")}]`);
      }
    });
  } finally {
    runtime.release(mark);
  }
}

/** Computes every commitment of a model (and validates it). */
export function buildModel(spec: ModelSpec, runtime?: KernelRuntime): Model {
  validateModel(spec, runtime);
  const nodeBytes = spec.nodes.map(encodeNodeDesc);
  const nodeHashes = nodeBytes.map((b) => keccak(b));
  const weightHashes = spec.weights.map((w) => tensorHashOfBytes(encodeHeader(w.dtype, w.shape), tensorBytes(w)));
  const metadataBytes = new TextEncoder().encode(canonicalJson(spec.metadata));
  const last = spec.nodes[spec.nodes.length - 1]!;
  const inputHeader = encodeHeader(spec.input.dtype, spec.input.shape);
  const outputHeader = encodeHeader(last.outDtype, last.outShape);
  const graphRoot = merkleRoot(nodeHashes, depthFor(nodeHashes.length));
  const weightsRoot = merkleRoot(weightHashes, depthFor(weightHashes.length));
  const metadataHash = keccak(metadataBytes);
  const descriptor = encodeDescriptor({
    nodeCount: spec.nodes.length,
    weightCount: spec.weights.length,
    graphRoot,
    weightsRoot,
    metadataHash,
    inputHeader,
    outputHeader,
    inputMode: spec.inputMode,
  });
  return {
    ...spec,
    nodeBytes,
    nodeHashes,
    weightHashes,
    metadataBytes,
    inputHeader,
    outputHeader,
    output: { dtype: last.outDtype, shape: last.outShape },
    graphRoot,
    weightsRoot,
    metadataHash,
    descriptor,
    modelRoot: keccak(descriptor),
  };
}

function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
}

/**
 * The model file's body (§3.7) as a sequence of byte parts, weights as views of their tensors (no
 * copy): write them out one by one and append `keccakStream(parts)` to stream a large model.
 */
/** The tensors node `k` (1-based) reads: the request input, weights, or earlier nodes' outputs. */
export function nodeInputs(model: Model, k: number, input: Tensor, nodeOutputs: readonly Tensor[]): Tensor[] {
  return model.nodes[k - 1]!.inputs.map((ref) => {
    const { kind, index } = decodeSlot(ref);
    return kind === SlotKind.input ? input : kind === SlotKind.weight ? model.weights[index]! : nodeOutputs[index - 1]!;
  });
}

export function* modelFileBody(model: Model): Generator<Uint8Array> {
  yield FILE_MAGIC;
  yield u32be(FILE_VERSION);
  yield u32be(model.descriptor.length);
  yield model.descriptor;
  yield u32be(model.metadataBytes.length);
  yield model.metadataBytes;
  yield u32be(model.nodeBytes.length);
  for (const b of model.nodeBytes) {
    yield u32be(b.length);
    yield b;
  }
  yield u32be(model.weights.length);
  for (const t of model.weights) {
    const header = encodeHeader(t.dtype, t.shape);
    yield u32be(header.length);
    yield header;
    const bytes = tensorBytes(t);
    yield u32be(bytes.length);
    yield bytes;
  }
}

/** The model file (§3.7) in one buffer. */
export function encodeModelFile(model: Model): Uint8Array {
  const body = concatBytes(...modelFileBody(model));
  return concatBytes(body, keccak(body));
}

/** The integrity hash that ends the model file. */
export function modelFileHash(model: Model): Bytes32 {
  return keccakStream(modelFileBody(model));
}

class Reader {
  private off = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32(what: string): number {
    if (this.off + 4 > this.buf.length) throw new ModelFormatError(`model file truncated reading ${what} at byte ${this.off}`);
    const v = this.view.getUint32(this.off, false);
    this.off += 4;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    if (this.off + n > this.buf.length) throw new ModelFormatError(`model file truncated reading ${what} (${n} bytes at byte ${this.off})`);
    const b = this.buf.subarray(this.off, this.off + n); // a view: weights are not copied
    this.off += n;
    return b;
  }
  lenBytes(what: string): Uint8Array {
    return this.bytes(this.u32(`${what} length`), what);
  }
  get offset(): number {
    return this.off;
  }
}

/** Loads a model file: integrity hash, then every commitment recomputed and compared, then node validation. */
export function decodeModelFile(file: Uint8Array, runtime?: KernelRuntime): Model {
  if (file.length < FILE_MAGIC.length + 4 + 32 || !equalBytes(file.subarray(0, FILE_MAGIC.length), FILE_MAGIC)) {
    throw new ModelFormatError("not a model file: it does not start with OAOMODEL");
  }
  const body = file.subarray(0, file.length - 32);
  const stored = file.subarray(file.length - 32);
  const actual = keccak(body);
  if (!equalBytes(stored, actual)) {
    throw new ModelFormatError(`corrupt model file: integrity hash mismatch (stored ${toHex(stored)}, content hashes to ${toHex(actual)}); re-export or re-download the model`);
  }
  // In place: `file` is a view of `runtime`'s memory, so int8 weights stay where they lie
  // (ResidentInt8Tensor) instead of being views of a buffer the runtime may detach by growing.
  const inPlace = runtime !== undefined && runtime.holds(file);
  const r = new Reader(body);
  r.bytes(FILE_MAGIC.length, "magic");
  const version = r.u32("format version");
  if (version !== FILE_VERSION) throw new ModelFormatError(`model file format version ${version} is not supported (expected ${FILE_VERSION})`);
  // copies (small): validating the nodes below may grow the runtime's memory and detach `file`
  const descriptor = r.lenBytes("descriptor").slice();
  const metadataBytes = r.lenBytes("metadata").slice();
  const n = r.u32("node count");
  const nodes: NodeDesc[] = [];
  for (let k = 1; k <= n; k++) {
    const b = r.lenBytes(`node ${k}`);
    try {
      nodes.push(decodeNodeDesc(b));
    } catch (e) {
      throw new ModelFormatError(`node ${k}: ${(e as Error).message}`);
    }
  }
  const wCount = r.u32("weight count");
  const weights: Tensor[] = [];
  for (let j = 0; j < wCount; j++) {
    const header = r.lenBytes(`weight ${j} header`);
    const { dtype, shape } = decodeHeader(header);
    const bytes = r.lenBytes(`weight ${j} data`);
    const t = decodeTensor(dtype, shape, bytes);
    weights.push(inPlace && t.dtype === DType.int8 ? runtime.residentInt8(shape, bytes.byteOffset) : t);
  }
  if (r.offset !== body.length) throw new ModelFormatError(`model file has ${body.length - r.offset} unexpected trailing bytes`);
  let metadata: ModelMetadata;
  try {
    metadata = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(metadataBytes)) as ModelMetadata;
  } catch (e) {
    throw new ModelFormatError(`model metadata is not UTF-8 JSON: ${(e as Error).message}`);
  }
  const d = decodeDescriptor(descriptor);
  const input = decodeHeader(d.inputHeader);
  const inputMode = d.version === MODEL_VERSION ? undefined : d.inputMode;
  const model = buildModel({ input: { dtype: input.dtype as DType, shape: input.shape }, nodes, weights, metadata, inputMode }, runtime);
  const checks: [string, Uint8Array, Uint8Array][] = [
    ["metadata bytes", model.metadataBytes, metadataBytes],
    ["graphRoot", model.graphRoot, d.graphRoot],
    ["weightsRoot", model.weightsRoot, d.weightsRoot],
    ["output header", model.outputHeader, d.outputHeader],
    ["descriptor", model.descriptor, descriptor],
  ];
  for (const [what, computed, stored2] of checks) {
    if (!equalBytes(computed, stored2)) throw new ModelFormatError(`model file ${what} does not match its contents (computed ${toHex(computed)}, stored ${toHex(stored2)})`);
  }
  return model;
}

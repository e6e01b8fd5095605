/**
 * Tensors and their commitment (docs/protocol.md §3.2): dtype, shape, canonical big-endian
 * row-major bytes, 4096-byte chunks, chunk tree, tensorHash = keccak256(header ‖ chunkRoot).
 */
import { concatBytes, keccak, ZERO32, type Bytes32 } from "./hash.ts";
import { depthFor, merkleLevels, merkleRoot } from "./merkle.ts";
import { GraphError } from "./errors.ts";

export const DType = { int8: 1, int32: 2 } as const;
export type DType = (typeof DType)[keyof typeof DType];
export const CHUNK_BYTES = 4096;
export const MAX_RANK = 6;
export const MAX_DIM = 2 ** 24;
export const MAX_TENSOR_BYTES = 2 ** 31;

export interface Int8Tensor {
  dtype: typeof DType.int8;
  shape: number[];
  data: Int8Array;
}
export interface Int32Tensor {
  dtype: typeof DType.int32;
  shape: number[];
  data: Int32Array;
}
export type Tensor = Int8Tensor | Int32Tensor;

export function dtypeName(dtype: number): string {
  return dtype === DType.int8 ? "int8" : dtype === DType.int32 ? "int32" : `unknown(${dtype})`;
}

export function elementSize(dtype: number): number {
  if (dtype === DType.int8) return 1;
  if (dtype === DType.int32) return 4;
  throw new GraphError(`unknown dtype code ${dtype} (expected 1 = int8 or 2 = int32)`);
}

export function elementCount(shape: readonly number[]): number {
  let e = 1;
  for (const d of shape) e *= d;
  return e;
}

/** Throws unless dtype/shape satisfy §3.2. */
export function assertShape(dtype: number, shape: readonly number[], what = "tensor"): void {
  const size = elementSize(dtype);
  if (shape.length < 1 || shape.length > MAX_RANK) throw new GraphError(`${what}: rank ${shape.length} is outside 1..${MAX_RANK}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1 || d > MAX_DIM) throw new GraphError(`${what}: dimension ${d} is outside 1..${MAX_DIM} (shape [${shape.join(",")}])`);
  }
  if (elementCount(shape) * size > MAX_TENSOR_BYTES) throw new GraphError(`${what}: shape [${shape.join(",")}] exceeds ${MAX_TENSOR_BYTES} bytes`);
}

export function int8Tensor(shape: number[], data: Int8Array | ArrayLike<number>): Int8Tensor {
  assertShape(DType.int8, shape);
  const d = data instanceof Int8Array ? data : Int8Array.from(data);
  if (d.length !== elementCount(shape)) throw new GraphError(`int8 tensor of shape [${shape.join(",")}] needs ${elementCount(shape)} elements, got ${d.length}`);
  return { dtype: DType.int8, shape, data: d };
}

export function int32Tensor(shape: number[], data: Int32Array | ArrayLike<number>): Int32Tensor {
  assertShape(DType.int32, shape);
  const d = data instanceof Int32Array ? data : Int32Array.from(data);
  if (d.length !== elementCount(shape)) throw new GraphError(`int32 tensor of shape [${shape.join(",")}] needs ${elementCount(shape)} elements, got ${d.length}`);
  return { dtype: DType.int32, shape, data: d };
}

/** header = dtype u8 ‖ rank u8 ‖ dims u32 BE. */
export function encodeHeader(dtype: number, shape: readonly number[]): Uint8Array {
  assertShape(dtype, shape);
  const out = new Uint8Array(2 + 4 * shape.length);
  const view = new DataView(out.buffer);
  out[0] = dtype;
  out[1] = shape.length;
  shape.forEach((d, i) => view.setUint32(2 + 4 * i, d, false));
  return out;
}

/** Parses a header at `offset`; returns dtype, shape and the bytes consumed. */
export function decodeHeader(bytes: Uint8Array, offset = 0): { dtype: DType; shape: number[]; size: number } {
  if (bytes.length < offset + 2) throw new GraphError(`tensor header truncated at byte ${offset}`);
  const dtype = bytes[offset]!;
  const rank = bytes[offset + 1]!;
  const size = 2 + 4 * rank;
  if (bytes.length < offset + size) throw new GraphError(`tensor header of rank ${rank} truncated at byte ${offset}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(offset + 2 + 4 * i, false));
  assertShape(dtype, shape);
  return { dtype: dtype as DType, shape, size };
}

/** Canonical bytes: row-major, int32 big-endian. */
export function encodeTensor(t: Tensor): Uint8Array {
  if (t.dtype === DType.int8) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
  const out = new Uint8Array(t.data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < t.data.length; i++) view.setInt32(4 * i, t.data[i]!, false);
  return out;
}

/**
 * The canonical bytes without copying where possible: a view of an int8 tensor's own memory (do
 * not mutate it), the big-endian encoding of an int32 one. For hashing and writing large weights.
 */
export function tensorBytes(t: Tensor): Uint8Array {
  if (t.dtype === DType.int8) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return encodeTensor(t);
}

/** Decodes canonical bytes; an int8 tensor is a view of `bytes` (no copy), an int32 one a fresh array. */
export function decodeTensor(dtype: number, shape: number[], bytes: Uint8Array): Tensor {
  assertShape(dtype, shape);
  const n = elementCount(shape);
  if (bytes.length !== n * elementSize(dtype)) {
    throw new GraphError(`${dtypeName(dtype)} tensor of shape [${shape.join(",")}] needs ${n * elementSize(dtype)} bytes, got ${bytes.length}`);
  }
  if (dtype === DType.int8) return { dtype: DType.int8, shape, data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
  const data = new Int32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, false);
  return { dtype: DType.int32, shape, data };
}

function chunkLeaves(bytes: Uint8Array): Bytes32[] {
  const leaves: Bytes32[] = [];
  for (let off = 0; off < bytes.length; off += CHUNK_BYTES) leaves.push(keccak(bytes.subarray(off, Math.min(off + CHUNK_BYTES, bytes.length))));
  return leaves;
}

export function chunkRoot(bytes: Uint8Array): Bytes32 {
  if (bytes.length <= CHUNK_BYTES) return bytes.length === 0 ? ZERO32 : keccak(bytes); // one chunk: the root is its hash
  const leaves = chunkLeaves(bytes);
  return merkleRoot(leaves, depthFor(leaves.length));
}

/** tensorHash from a header and canonical bytes (checked against each other). */
export function tensorHashOfBytes(header: Uint8Array, bytes: Uint8Array): Bytes32 {
  const { dtype, shape } = decodeHeader(header);
  const expected = elementCount(shape) * elementSize(dtype);
  if (bytes.length !== expected) throw new GraphError(`tensor of header [${dtypeName(dtype)} ${shape.join("x")}] needs ${expected} bytes, got ${bytes.length}`);
  return keccak(concatBytes(header, chunkRoot(bytes)));
}

export function tensorHash(t: Tensor): Bytes32 {
  // the header comes from the tensor itself: no need to decode it back and check the length
  return keccak(concatBytes(encodeHeader(t.dtype, t.shape), chunkRoot(tensorBytes(t))));
}

/**
 * Every keccak preimage the guest fetches to read a tensor from its hash (§3.2): the header
 * preimage, the chunk tree's inner nodes and the chunks. Keys are the keccak256 of each value.
 */
export function tensorPreimages(t: Tensor): Uint8Array[] {
  const header = encodeHeader(t.dtype, t.shape);
  const bytes = tensorBytes(t);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += CHUNK_BYTES) chunks.push(bytes.slice(off, Math.min(off + CHUNK_BYTES, bytes.length)));
  const leaves = chunks.map((c) => keccak(c));
  const levels = merkleLevels(leaves, depthFor(leaves.length));
  const out: Uint8Array[] = [concatBytes(header, levels[levels.length - 1]![0]!)];
  for (let h = 1; h < levels.length; h++) {
    const below = levels[h - 1]!;
    for (let i = 0; i < levels[h]!.length; i++) out.push(concatBytes(below[2 * i]!, below[2 * i + 1]!));
  }
  out.push(...chunks);
  return out;
}

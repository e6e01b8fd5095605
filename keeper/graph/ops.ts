/**
 * Node descriptions (docs/protocol.md §3.3) and the operator table (§3.6). The semantics live in
 * the C kernels (keeper/guest/kernels); this file only names, encodes and decodes.
 */
import { GraphError } from "./errors.ts";
import { decodeHeader, encodeHeader, type DType } from "./tensor.ts";

export const Op = {
  Gemm: 1,
  Add: 2,
  Mul: 3,
  Relu: 4,
  Softmax: 5,
  Reshape: 6,
  Conv2D: 7,
  MaxPool: 8,
  Gather: 9,
  LayerNorm: 10,
  Lut: 11,
  MatMul: 12,
  CausalSoftmax: 13,
  Transpose: 14,
  Slice: 15,
  ArgMax: 16,
  TokenWindow: 17,
  Position: 18,
  ScatterRow: 19,
  PrefixSoftmax: 20,
  Emit: 21,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

export const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));

/** Attribute names per op, in order (Softmax: 256 table entries). */
export const OP_ATTRS: Record<number, readonly string[]> = {
  [Op.Gemm]: ["xZero", "wZero", "m", "s", "yZero", "qmin", "qmax"],
  [Op.Add]: ["aZero", "aM", "aS", "bZero", "bM", "bS", "m", "s", "yZero", "qmin", "qmax", "lshift"],
  [Op.Mul]: ["aZero", "bZero", "m", "s", "yZero", "qmin", "qmax"],
  [Op.Relu]: ["zero"],
  [Op.Softmax]: Array.from({ length: 256 }, (_, i) => `table${i}`),
  [Op.Reshape]: [],
  [Op.Conv2D]: ["xZero", "wZero", "m", "s", "yZero", "qmin", "qmax", "strideH", "strideW", "padTop", "padLeft", "padBottom", "padRight", "dilH", "dilW", "group"],
  [Op.MaxPool]: ["kh", "kw", "strideH", "strideW", "padTop", "padLeft", "padBottom", "padRight"],
  [Op.Gather]: [],
  [Op.LayerNorm]: ["xZero", "gZero", "eps", "m", "s", "yZero", "qmin", "qmax"],
  [Op.Lut]: Array.from({ length: 256 }, (_, i) => `table${i}`),
  [Op.MatMul]: ["aZero", "bZero", "m", "s", "yZero", "qmin", "qmax", "transB"],
  [Op.CausalSoftmax]: Array.from({ length: 256 }, (_, i) => `table${i}`),
  [Op.Transpose]: ["perm…"],
  [Op.Slice]: ["axis", "start"],
  [Op.ArgMax]: [],
  [Op.TokenWindow]: ["C"],
  [Op.Position]: ["k"],
  [Op.ScatterRow]: [],
  [Op.PrefixSoftmax]: Array.from({ length: 256 }, (_, i) => `table${i}`),
  [Op.Emit]: ["k", "T"],
};

export const SlotKind = { input: 0, weight: 1, node: 2 } as const;

export function slotRef(kind: number, index: number): number {
  return ((kind << 24) | index) >>> 0;
}
export const inputSlot = (): number => slotRef(SlotKind.input, 0);
export const weightSlot = (j: number): number => slotRef(SlotKind.weight, j);
export const nodeSlot = (k: number): number => slotRef(SlotKind.node, k);
export function decodeSlot(ref: number): { kind: number; index: number } {
  return { kind: ref >>> 24, index: ref & 0xffffff };
}
export function slotName(ref: number): string {
  const { kind, index } = decodeSlot(ref);
  return kind === SlotKind.input ? "input" : kind === SlotKind.weight ? `weight ${index}` : kind === SlotKind.node ? `node ${index}` : `slot 0x${ref.toString(16)}`;
}

export interface NodeDesc {
  op: number;
  /** slot references, operand order */
  inputs: number[];
  outDtype: DType;
  outShape: number[];
  /** i32 attributes (§3.6) */
  attrs: number[];
}

export function encodeNodeDesc(node: NodeDesc): Uint8Array {
  if (node.inputs.length > 255) throw new GraphError(`node has ${node.inputs.length} inputs (max 255)`);
  const header = encodeHeader(node.outDtype, node.outShape);
  const out = new Uint8Array(2 + 4 * node.inputs.length + header.length + 4 + 4 * node.attrs.length);
  const view = new DataView(out.buffer);
  out[0] = node.op;
  out[1] = node.inputs.length;
  let off = 2;
  for (const ref of node.inputs) {
    view.setUint32(off, ref, false);
    off += 4;
  }
  out.set(header, off);
  off += header.length;
  view.setUint32(off, node.attrs.length, false);
  off += 4;
  for (const a of node.attrs) {
    if (!Number.isInteger(a) || a < -(2 ** 31) || a >= 2 ** 31) throw new GraphError(`${OP_NAMES[node.op] ?? node.op} attribute ${a} is not an i32`);
    view.setInt32(off, a, false);
    off += 4;
  }
  if (out.length > 32768) throw new GraphError(`node description of ${out.length} bytes exceeds the 32768-byte preimage bound`);
  return out;
}

export function decodeNodeDesc(bytes: Uint8Array): NodeDesc {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2) throw new GraphError("node description truncated");
  const op = bytes[0]!;
  const nIn = bytes[1]!;
  let off = 2;
  if (bytes.length < off + 4 * nIn) throw new GraphError("node description truncated in its inputs");
  const inputs: number[] = [];
  for (let i = 0; i < nIn; i++, off += 4) inputs.push(view.getUint32(off, false));
  const { dtype, shape, size } = decodeHeader(bytes, off);
  off += size;
  if (bytes.length < off + 4) throw new GraphError("node description truncated before its attributes");
  const nAttr = view.getUint32(off, false);
  off += 4;
  if (bytes.length !== off + 4 * nAttr) throw new GraphError(`node description has ${bytes.length - off} attribute bytes, expected ${4 * nAttr}`);
  const attrs: number[] = [];
  for (let i = 0; i < nAttr; i++, off += 4) attrs.push(view.getInt32(off, false));
  return { op, inputs, outDtype: dtype, outShape: shape, attrs };
}

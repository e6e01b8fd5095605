/**
 * Reads and writes AssemblyScript 0.19 objects (the compiler `graph build` uses) in a module's
 * linear memory, with the layouts graph-node relies on (graph-node `runtime/wasm/src/asc_abi`):
 *
 * - every managed object has a 20-byte header; `rtId` is the u32 at `ptr - 8`, `rtSize` at `ptr - 4`;
 * - `string`: UTF-16LE code units, `rtSize` bytes; `ArrayBuffer`: `rtSize` raw bytes;
 * - typed arrays (`Bytes`, `BigInt`, `Address` are `Uint8Array`s): `buffer, dataStart, byteLength`;
 * - `Array<T>`: `buffer, dataStart, byteLength, length`; reference elements are u32 pointers;
 * - enum-like values (`Value`, `ethereum.Value`): `kind: i32`, 4 bytes padding, `data: u64`.
 */
import type { WasmMemory, WasmTable } from "./wasm.ts";

/** graph-ts `TypeId` discriminants (global/global.ts) the runner allocates. */
export const TypeId = {
  String: 0,
  ArrayBuffer: 1,
  Uint8Array: 6,
  BigDecimal: 12,
  ArrayStoreValue: 16,
  ArrayString: 18,
  ArrayTypedMapEntryStringStoreValue: 21,
  EthereumValue: 30,
  StoreValue: 31,
  TypedMapEntryStringStoreValue: 34,
  TypedMapStringStoreValue: 36,
  ArrayEthereumValue: 15,
  ArrayEventParam: 19,
  EventParam: 23,
  EthereumTransaction: 24,
  EthereumBlock: 25,
  EthereumEvent: 33,
} as const;

export interface AsExports {
  memory: WasmMemory;
  table?: WasmTable;
  __new(size: number, id: number): number;
  id_of_type(typeId: number): number;
  _start?: () => void;
}

export class AsMemory {
  private readonly ids = new Map<number, number>();

  constructor(private readonly exports: AsExports) {}

  private get view(): DataView {
    return new DataView(this.exports.memory.buffer);
  }

  private get bytesView(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  u32(ptr: number): number {
    return this.view.getUint32(ptr, true);
  }

  i32(ptr: number): number {
    return this.view.getInt32(ptr, true);
  }

  u64(ptr: number): bigint {
    return this.view.getBigUint64(ptr, true);
  }

  i64(ptr: number): bigint {
    return this.view.getBigInt64(ptr, true);
  }

  size(ptr: number): number {
    return this.u32(ptr - 4);
  }

  string(ptr: number): string {
    if (ptr === 0) throw new Error("null string pointer");
    const len = this.size(ptr);
    return Buffer.from(this.bytesView.slice(ptr, ptr + len)).toString("utf16le");
  }

  /** A `Uint8Array` (or `Bytes`, `BigInt`, `Address`) as a copy of its bytes. */
  bytes(ptr: number): Uint8Array {
    if (ptr === 0) throw new Error("null bytes pointer");
    const dataStart = this.u32(ptr + 4);
    const byteLength = this.i32(ptr + 8);
    return this.bytesView.slice(dataStart, dataStart + byteLength);
  }

  /** The element pointers (or raw u32 elements) of an `Array<T>` of references. */
  array(ptr: number): number[] {
    const dataStart = this.u32(ptr + 4);
    const length = this.i32(ptr + 12);
    const out: number[] = [];
    for (let i = 0; i < length; i++) out.push(this.u32(dataStart + 4 * i));
    return out;
  }

  classId(typeId: number): number {
    let id = this.ids.get(typeId);
    if (id === undefined) {
      id = this.exports.id_of_type(typeId);
      this.ids.set(typeId, id);
    }
    return id;
  }

  alloc(size: number, typeId: number): number {
    return this.exports.__new(size, this.classId(typeId));
  }

  newString(s: string): number {
    const data = Buffer.from(s, "utf16le");
    const ptr = this.alloc(data.length, TypeId.String);
    this.bytesView.set(data, ptr);
    return ptr;
  }

  newBytes(data: Uint8Array): number {
    const buffer = this.alloc(data.length, TypeId.ArrayBuffer);
    this.bytesView.set(data, buffer);
    const ptr = this.alloc(12, TypeId.Uint8Array);
    const view = this.view;
    view.setUint32(ptr, buffer, true);
    view.setUint32(ptr + 4, buffer, true);
    view.setInt32(ptr + 8, data.length, true);
    return ptr;
  }

  /** An `Array<T>` of references (each element a u32 pointer). */
  newArray(elements: number[], typeId: number): number {
    const buffer = this.alloc(elements.length * 4, TypeId.ArrayBuffer);
    let view = this.view;
    elements.forEach((el, i) => view.setUint32(buffer + 4 * i, el, true));
    const ptr = this.alloc(16, typeId);
    view = this.view;
    view.setUint32(ptr, buffer, true);
    view.setUint32(ptr + 4, buffer, true);
    view.setInt32(ptr + 8, elements.length * 4, true);
    view.setInt32(ptr + 12, elements.length, true);
    return ptr;
  }

  /** A `{ kind: i32, data: u64 }` enum value. */
  newEnum(kind: number, data: bigint, typeId: number): number {
    const ptr = this.alloc(16, typeId);
    const view = this.view;
    view.setInt32(ptr, kind, true);
    view.setBigUint64(ptr + 8, BigInt.asUintN(64, data), true);
    return ptr;
  }

  /** An object whose fields are all u32 pointers, in declaration order. */
  newObject(fields: number[], typeId: number): number {
    const ptr = this.alloc(fields.length * 4, typeId);
    const view = this.view;
    fields.forEach((f, i) => view.setUint32(ptr + 4 * i, f, true));
    return ptr;
  }
}

/** Signed little-endian two's complement bytes (graph-ts `BigInt`) to a bigint. */
export function bigIntFromLE(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return BigInt.asIntN(bytes.length * 8, n);
}

/** The shortest signed little-endian two's complement encoding (as num-bigint's `to_signed_bytes_le`). */
export function bigIntToLE(n: bigint): Uint8Array {
  const out: number[] = [];
  let v = n;
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n;
    const signBitSet = (byte & 0x80) !== 0;
    if ((v === 0n && !signBitSet) || (v === -1n && signBitSet)) break;
  }
  return Uint8Array.from(out);
}

export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

/**
 * keccak256 over bytes, and the small byte helpers the commitments need (docs/protocol.md §3).
 * Hashes are 32-byte Uint8Arrays inside keeper/graph; `toHex` renders them at the edges.
 */
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { instantiateKernels, type KernelExports } from "./wasm.ts";

export type Bytes32 = Uint8Array;

// keccak256 runs in the kernels' wasm (keeper/guest/kernels/keccak.c, the guest's own keccak):
// several times faster than JavaScript keccak here. One dedicated instance; its memory is
// [0, 32) output, [32, …) input, grown on demand.
let hasher: KernelExports | undefined;
let hasherBase = 0;

/** Inputs above this size stream through a fixed window instead of being copied whole. */
const STREAM_WINDOW = 136 * 7710; // ~1 MiB of whole keccak blocks

function ensureHasher(bytes: number): { h: KernelExports; mem: Uint8Array } {
  if (!hasher) {
    hasher = instantiateKernels();
    hasherBase = Math.ceil(hasher.__heap_base.value / 16) * 16;
  }
  const need = hasherBase + 32 + bytes;
  const have = hasher.memory.buffer.byteLength;
  if (need > have) hasher.memory.grow(Math.ceil((need - have) / 65536));
  return { h: hasher, mem: new Uint8Array(hasher.memory.buffer) };
}

export function keccak(data: Uint8Array): Bytes32 {
  if (data.length > STREAM_WINDOW) return keccakStream([data]);
  const { h, mem } = ensureHasher(data.length);
  mem.set(data, hasherBase + 32);
  h.oao_keccak256(hasherBase + 32, data.length, hasherBase);
  return mem.slice(hasherBase, hasherBase + 32);
}

/**
 * keccak256 of the concatenation of `parts` without concatenating them: the data passes through a
 * ~1 MiB window of the hasher's memory (model files are hundreds of MB).
 */
export function keccakStream(parts: Iterable<Uint8Array>): Bytes32 {
  const { h } = ensureHasher(STREAM_WINDOW + 136);
  const window = hasherBase + 32;
  h.oao_keccak_stream_begin();
  let fill = 0;
  for (const part of parts) {
    let off = 0;
    while (off < part.length) {
      const take = Math.min(STREAM_WINDOW - fill, part.length - off);
      new Uint8Array(h.memory.buffer).set(part.subarray(off, off + take), window + fill);
      fill += take;
      off += take;
      if (fill === STREAM_WINDOW) {
        h.oao_keccak_stream_update(window, STREAM_WINDOW / 136);
        fill = 0;
      }
    }
  }
  h.oao_keccak_stream_end(window, fill, hasherBase);
  return new Uint8Array(h.memory.buffer).slice(hasherBase, hasherBase + 32);
}

/** keccak256(a ‖ b) for two 32-byte values (a Merkle inner node). */
export function hashPair(a: Bytes32, b: Bytes32): Bytes32 {
  const buf = new Uint8Array(64);
  buf.set(a, 0);
  buf.set(b, 32);
  return keccak(buf);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(b: Uint8Array): Hex {
  return bytesToHex(b);
}

export function fromHex(h: Hex): Uint8Array {
  return hexToBytes(h);
}

export const ZERO32: Bytes32 = new Uint8Array(32);

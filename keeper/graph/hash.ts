/**
 * keccak256 over bytes, and the small byte helpers the commitments need (docs/protocol.md §3).
 * Hashes are 32-byte Uint8Arrays inside keeper/graph; `toHex` renders them at the edges.
 */
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { instantiateKernels, type KernelExports } from "./wasm.ts";

export type Bytes32 = Uint8Array;

// keccak256 runs in the kernels' wasm (keeper/guest/kernels/keccak.c, the guest's own keccak, its
// permutation built unrolled for wasm: -DOAO_KECCAK_UNROLLED): several times faster than JavaScript keccak here. One dedicated instance; its memory is
// [0, 32) output, [32, …) input, grown on demand.
let hasher: KernelExports | undefined;
let hasherBase = 0;

/** Inputs above this size stream through a fixed window instead of being copied whole. */
const STREAM_WINDOW = 136 * 7710; // ~1 MiB of whole keccak blocks

let hasherView: Uint8Array | undefined;

function ensureHasher(bytes: number): { h: KernelExports; mem: Uint8Array } {
  if (!hasher) {
    hasher = instantiateKernels();
    hasherBase = Math.ceil(hasher.__heap_base.value / 16) * 16;
  }
  const need = hasherBase + 32 + bytes;
  const buffer = hasher.memory.buffer;
  if (need > buffer.byteLength) hasher.memory.grow(Math.ceil((need - buffer.byteLength) / 65536));
  // one view per memory buffer (growing detaches the old one), not one per call
  if (hasherView?.buffer !== hasher.memory.buffer) hasherView = new Uint8Array(hasher.memory.buffer);
  return { h: hasher, mem: hasherView };
}

export function keccak(data: Uint8Array): Bytes32 {
  if (data.length > STREAM_WINDOW) return keccakStream([data]);
  const { h, mem } = ensureHasher(data.length);
  mem.set(data, hasherBase + 32);
  h.oao_keccak256(hasherBase + 32, data.length, hasherBase);
  return mem.slice(hasherBase, hasherBase + 32);
}

/** Hashes memory in place: keccak256 of `len` bytes at `ptr` into the 32 bytes at `out`. */
export type KeccakAt = (ptr: number, len: number, out: number) => void;

/**
 * The hasher's memory as a work area for many small hashes without a copy or an allocation each
 * (Merkle trees, the trace): room for `bytes` bytes at `base` of `mem`, and `keccakAt` hashing
 * within it (one call into wasm per hash). The area and the view are valid until the next
 * keccak, keccakStream or hashWork call: read the results out before hashing anything else.
 */
export function hashWork(bytes: number): { mem: Uint8Array; base: number; keccakAt: KeccakAt } {
  const { h, mem } = ensureHasher(bytes);
  return { mem, base: hasherBase + 32, keccakAt: h.oao_keccak256 };
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
  const { h, mem } = ensureHasher(64);
  mem.set(a, hasherBase + 32);
  mem.set(b, hasherBase + 64);
  h.oao_keccak256(hasherBase + 32, 64, hasherBase);
  return mem.slice(hasherBase, hasherBase + 32);
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

/**
 * keccak256 over bytes, and the small byte helpers the commitments need (docs/protocol.md §3).
 * Hashes are 32-byte Uint8Arrays inside keeper/graph; `toHex` renders them at the edges.
 */
import { keccak256 as viemKeccak, bytesToHex, hexToBytes, type Hex } from "viem";

export type Bytes32 = Uint8Array;

export function keccak(data: Uint8Array): Bytes32 {
  return viemKeccak(data, "bytes");
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

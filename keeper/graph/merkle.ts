/**
 * The one binary Merkle tree shape used by every commitment (docs/protocol.md §3.1): fixed depth,
 * leaves are 32-byte values used as is, inner node = keccak256(left ‖ right), missing leaves zero
 * unless the caller pads otherwise, proofs are siblings bottom-up.
 */
import { hashPair, ZERO32, type Bytes32 } from "./hash.ts";

const zeroCache: Bytes32[] = [ZERO32];

/** Root of an all-zero subtree of height h. */
export function zeroHash(h: number): Bytes32 {
  while (zeroCache.length <= h) {
    const last = zeroCache[zeroCache.length - 1]!;
    zeroCache.push(hashPair(last, last));
  }
  return zeroCache[h]!;
}

/** ceil(log2(max(count, 1))). */
export function depthFor(count: number): number {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`depthFor: count must be a non-negative integer, got ${count}`);
  let d = 0;
  while (2 ** d < count) d++;
  return d;
}

/** Root of the depth-`depth` tree whose first leaves are `leaves`, the rest `pad` (zero by default). */
export function merkleRoot(leaves: readonly Bytes32[], depth: number, pad?: Bytes32): Bytes32 {
  if (leaves.length > 2 ** depth) throw new RangeError(`merkleRoot: ${leaves.length} leaves do not fit depth ${depth}`);
  let level: Bytes32[] = leaves.slice();
  let padNode: Bytes32 = pad ?? ZERO32;
  for (let h = 0; h < depth; h++) {
    const next: Bytes32[] = [];
    const width = Math.ceil(level.length / 2);
    for (let i = 0; i < width; i++) {
      const left = level[2 * i]!;
      const right = level[2 * i + 1] ?? padNode;
      next.push(hashPair(left, right));
    }
    padNode = pad === undefined ? zeroHash(h + 1) : hashPair(padNode, padNode);
    level = next;
  }
  return level[0] ?? padNode;
}

/** All levels of a tree (level 0 = padded leaves), for repeated proofs. */
export function merkleLevels(leaves: readonly Bytes32[], depth: number, pad?: Bytes32): Bytes32[][] {
  if (leaves.length > 2 ** depth) throw new RangeError(`merkleLevels: ${leaves.length} leaves do not fit depth ${depth}`);
  const levels: Bytes32[][] = [];
  let level: Bytes32[] = leaves.slice();
  let padNode: Bytes32 = pad ?? ZERO32;
  for (let h = 0; h <= depth; h++) {
    const width = 2 ** (depth - h);
    const full: Bytes32[] = [];
    for (let i = 0; i < width; i++) full.push(level[i] ?? padNode);
    levels.push(full);
    if (h === depth) break;
    const next: Bytes32[] = [];
    for (let i = 0; i < width / 2; i++) next.push(hashPair(full[2 * i]!, full[2 * i + 1]!));
    level = next;
    padNode = hashPair(padNode, padNode);
  }
  return levels;
}

/** Siblings of leaf `index`, bottom-up. */
export function merkleProof(levels: readonly Bytes32[][], index: number): Bytes32[] {
  const depth = levels.length - 1;
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** depth) throw new RangeError(`merkleProof: index ${index} outside a depth-${depth} tree`);
  const proof: Bytes32[] = [];
  for (let h = 0; h < depth; h++) proof.push(levels[h]![(index >>> h) ^ 1]!);
  return proof;
}

/** The root a leaf and its proof open to. */
export function rootFromProof(leaf: Bytes32, index: number, proof: readonly Bytes32[]): Bytes32 {
  let node = leaf;
  for (let h = 0; h < proof.length; h++) {
    node = ((index >>> h) & 1) === 0 ? hashPair(node, proof[h]!) : hashPair(proof[h]!, node);
  }
  return node;
}

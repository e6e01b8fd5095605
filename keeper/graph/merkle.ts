/**
 * The one binary Merkle tree shape used by every commitment (docs/protocol.md §3.1): fixed depth,
 * leaves are 32-byte values used as is, inner node = keccak256(left ‖ right), missing leaves zero
 * unless the caller pads otherwise, proofs are siblings bottom-up.
 */
import { hashPair, hashWork, ZERO32, type Bytes32 } from "./hash.ts";

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

/**
 * Hashes the tree in the hasher's work memory (hash.ts hashWork: one call into wasm per inner
 * node, no allocation): level h (2^(depth-h) slots of 32 bytes) starts at `offsets[h]`, its first
 * `used[h]` slots are the nodes above real leaves, the rest stand for `pads[h]` (pad, then
 * keccak(pad ‖ pad) up the levels) and are only written where a real node's sibling needs it.
 * Valid until the next hash: the callers read what they need at once.
 */
function hashLevels(leaves: readonly Bytes32[], depth: number, pad: Bytes32 | undefined, what: string) {
  if (leaves.length > 2 ** depth) throw new RangeError(`${what}: ${leaves.length} leaves do not fit depth ${depth}`);
  const width = 2 ** depth;
  const { mem, base, keccakAt } = hashWork(64 + 64 * width);
  // [base, base + 64): the pad pair of the current level; then the levels, bottom-up
  const padAt = base;
  mem.set(pad ?? ZERO32, padAt);
  const pads: Bytes32[] = [pad ?? ZERO32];
  const offsets: number[] = [base + 64];
  const used: number[] = [leaves.length];
  for (let i = 0; i < leaves.length; i++) mem.set(leaves[i]!, offsets[0]! + 32 * i);
  for (let h = 0; h < depth; h++) {
    const off = offsets[h]!, n = used[h]!;
    const next = off + 32 * 2 ** (depth - h);
    if (n % 2 === 1) mem.copyWithin(off + 32 * n, padAt, padAt + 32);
    const up = Math.ceil(n / 2);
    for (let i = 0; i < up; i++) keccakAt(off + 64 * i, 64, next + 32 * i);
    mem.copyWithin(padAt + 32, padAt, padAt + 32);
    keccakAt(padAt, 64, padAt);
    pads.push(mem.slice(padAt, padAt + 32));
    offsets.push(next);
    used.push(up);
  }
  return { mem, offsets, used, pads };
}

/** Root of the depth-`depth` tree whose first leaves are `leaves`, the rest `pad` (zero by default). */
export function merkleRoot(leaves: readonly Bytes32[], depth: number, pad?: Bytes32): Bytes32 {
  if (depth === 0 && leaves.length <= 1) return leaves[0] ?? pad ?? ZERO32;
  const { mem, offsets, used, pads } = hashLevels(leaves, depth, pad, "merkleRoot");
  return used[depth]! > 0 ? mem.slice(offsets[depth]!, offsets[depth]! + 32) : pads[depth]!;
}

/** All levels of a tree (level 0 = padded leaves), for repeated proofs. */
export function merkleLevels(leaves: readonly Bytes32[], depth: number, pad?: Bytes32): Bytes32[][] {
  const { mem, offsets, used, pads } = hashLevels(leaves, depth, pad, "merkleLevels");
  const levels: Bytes32[][] = [leaves.slice()];
  for (let h = 1; h <= depth; h++) {
    const level: Bytes32[] = [];
    for (let i = 0; i < used[h]!; i++) level.push(mem.slice(offsets[h]! + 32 * i, offsets[h]! + 32 * i + 32));
    levels.push(level);
  }
  for (let h = 0; h <= depth; h++) {
    const level = levels[h]!, width = 2 ** (depth - h);
    while (level.length < width) level.push(pads[h]!);
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

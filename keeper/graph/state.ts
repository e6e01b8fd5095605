/**
 * Graph states and the trace (docs/protocol.md §3.4, §3.5):
 * State = keccak256(inputHash ‖ weightsRoot ‖ nodesRoot); State_0 has every node slot zero;
 * traceRoot = tree of depth depthFor(n+1) over [State_0 … State_n] padded with State_n.
 */
import { concatBytes, hashWork, keccak, type Bytes32 } from "./hash.ts";
import { depthFor, merkleLevels, merkleProof, merkleRoot, rootFromProof, zeroHash } from "./merkle.ts";

export function stateHash(inputHash: Bytes32, weightsRoot: Bytes32, nodesRoot: Bytes32): Bytes32 {
  return keccak(concatBytes(inputHash, weightsRoot, nodesRoot));
}

export function initialState(inputHash: Bytes32, weightsRoot: Bytes32, nodeCount: number): Bytes32 {
  return stateHash(inputHash, weightsRoot, zeroHash(depthFor(nodeCount)));
}

/** Incrementally maintained node-output tree (leaf k-1 = hash of node k's output). */
export class NodesTree {
  readonly depth: number;
  private readonly levels: Bytes32[][];

  constructor(readonly nodeCount: number) {
    this.depth = depthFor(nodeCount);
    this.levels = [];
    for (let h = 0; h <= this.depth; h++) this.levels.push(new Array<Bytes32>(2 ** (this.depth - h)).fill(zeroHash(h)));
  }

  get root(): Bytes32 {
    return this.levels[this.depth]![0]!;
  }

  /** Writes node k's output hash (k in 1..n). */
  set(k: number, hash: Bytes32): void {
    if (!Number.isInteger(k) || k < 1 || k > this.nodeCount) throw new RangeError(`node index ${k} outside 1..${this.nodeCount}`);
    let i = k - 1;
    this.levels[0]![i] = hash;
    for (let h = 1; h <= this.depth; h++) {
      i >>>= 1;
      const below = this.levels[h - 1]!;
      this.levels[h]![i] = keccak(concatBytes(below[2 * i]!, below[2 * i + 1]!));
    }
  }

  leaf(k: number): Bytes32 {
    return this.levels[0]![k - 1]!;
  }

  /** Proof of node k's leaf (siblings bottom-up). */
  proof(k: number): Bytes32[] {
    return merkleProof(this.levels, k - 1);
  }
}

export interface Trace {
  /** State_0 … State_n */
  states: Bytes32[];
  /** hash of node k's output at index k-1 */
  nodeOutputHashes: Bytes32[];
  /** nodesRoot of State_n */
  finalNodesRoot: Bytes32;
  traceRoot: Bytes32;
  traceDepth: number;
}

/**
 * Builds the trace from the input hash, weightsRoot and every node's output hash. The nodes tree
 * is kept incrementally in the hasher's work memory (hash.ts hashWork), laid out so that each
 * inner node's two children and `inputHash ‖ weightsRoot ‖ nodesRoot` are contiguous: every hash
 * (depth per node, then State_k) is one call into wasm on memory in place — the same values as
 * NodesTree.set then stateHash per k.
 */
export function buildTrace(inputHash: Bytes32, weightsRoot: Bytes32, nodeOutputHashes: readonly Bytes32[]): Trace {
  const n = nodeOutputHashes.length;
  const depth = depthFor(n);
  const zeros: Bytes32[] = [];
  for (let h = 0; h <= depth; h++) zeros.push(zeroHash(h)); // before the work area (zeroHash may hash)
  // [inputHash ‖ weightsRoot][level depth (the root)][level depth-1] … [level 0][State_0 … State_n]
  const { mem, base, keccakAt } = hashWork(64 + 32 * (2 ** (depth + 1) - 1) + 32 * (n + 1));
  mem.set(inputHash, base);
  mem.set(weightsRoot, base + 32);
  const offsets = new Array<number>(depth + 1);
  let off = base + 64;
  for (let h = depth; h >= 0; h--) {
    offsets[h] = off;
    const bytes = 32 * 2 ** (depth - h);
    mem.set(zeros[h]!, off);
    for (let filled = 32; filled < bytes; filled *= 2) mem.copyWithin(off + filled, off, off + Math.min(filled, bytes - filled));
    off += bytes;
  }
  const statesAt = off;
  keccakAt(base, 96, statesAt);
  const leaves = offsets[0]!;
  for (let k = 1; k <= n; k++) {
    let i = k - 1;
    mem.set(nodeOutputHashes[i]!, leaves + 32 * i);
    for (let h = 1; h <= depth; h++) {
      i >>>= 1;
      keccakAt(offsets[h - 1]! + 64 * i, 64, offsets[h]! + 32 * i);
    }
    keccakAt(base, 96, statesAt + 32 * k);
  }
  const states: Bytes32[] = [];
  for (let k = 0; k <= n; k++) states.push(mem.slice(statesAt + 32 * k, statesAt + 32 * k + 32));
  const finalNodesRoot = mem.slice(offsets[depth]!, offsets[depth]! + 32);
  const traceDepth = depthFor(n + 1);
  const traceRoot = merkleRoot(states, traceDepth, states[n]!);
  return { states, nodeOutputHashes: [...nodeOutputHashes], finalNodesRoot, traceRoot, traceDepth };
}

/** Proof of leaf `index` (0 ≤ index < 2^depth) of a trace. */
export function traceProof(trace: Trace, index: number): Bytes32[] {
  const n = trace.states.length - 1;
  return merkleProof(merkleLevels(trace.states, trace.traceDepth, trace.states[n]!), index);
}

/** Everything a claim poster supplies for the §3.5 checks. */
export interface ClaimProof {
  traceRoot: Bytes32;
  leaf0Proof: Bytes32[];
  finalNodesRoot: Bytes32;
  outputProof: Bytes32[];
  leafNProof: Bytes32[];
}

export function claimProof(trace: Trace): ClaimProof {
  const n = trace.states.length - 1;
  // the final nodes tree is the whole tree over every output hash (n hashes, not n × depth)
  const depth = depthFor(n);
  const nodes = merkleLevels(trace.nodeOutputHashes, depth);
  const levels = merkleLevels(trace.states, trace.traceDepth, trace.states[n]!);
  return {
    traceRoot: trace.traceRoot,
    leaf0Proof: merkleProof(levels, 0),
    finalNodesRoot: nodes[depth]![0]!,
    outputProof: merkleProof(nodes, n - 1),
    leafNProof: merkleProof(levels, n),
  };
}

/** The §3.5 claim checks, as the chain performs them. */
export function verifyClaim(p: {
  inputHash: Bytes32;
  weightsRoot: Bytes32;
  nodeCount: number;
  outputHash: Bytes32;
  proof: ClaimProof;
}): boolean {
  const n = p.nodeCount;
  const eq = (a: Bytes32, b: Bytes32) => a.length === b.length && a.every((v, i) => v === b[i]);
  const dT = depthFor(n + 1);
  const dN = depthFor(n);
  if (p.proof.leaf0Proof.length !== dT || p.proof.leafNProof.length !== dT || p.proof.outputProof.length !== dN) return false;
  const s0 = initialState(p.inputHash, p.weightsRoot, n);
  if (!eq(rootFromProof(s0, 0, p.proof.leaf0Proof), p.proof.traceRoot)) return false;
  if (!eq(rootFromProof(p.outputHash, n - 1, p.proof.outputProof), p.proof.finalNodesRoot)) return false;
  const sn = stateHash(p.inputHash, p.weightsRoot, p.proof.finalNodesRoot);
  return eq(rootFromProof(sn, n, p.proof.leafNProof), p.proof.traceRoot);
}

/**
 * Graph states and the trace (docs/protocol.md §3.4, §3.5):
 * State = keccak256(inputHash ‖ weightsRoot ‖ nodesRoot); State_0 has every node slot zero;
 * traceRoot = tree of depth depthFor(n+1) over [State_0 … State_n] padded with State_n.
 */
import { concatBytes, keccak, type Bytes32 } from "./hash.ts";
import { depthFor, merkleLevels, merkleProof, rootFromProof, zeroHash } from "./merkle.ts";

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

/** Builds the trace from the input hash, weightsRoot and every node's output hash. */
export function buildTrace(inputHash: Bytes32, weightsRoot: Bytes32, nodeOutputHashes: readonly Bytes32[]): Trace {
  const n = nodeOutputHashes.length;
  const tree = new NodesTree(n);
  const states: Bytes32[] = [stateHash(inputHash, weightsRoot, tree.root)];
  for (let k = 1; k <= n; k++) {
    tree.set(k, nodeOutputHashes[k - 1]!);
    states.push(stateHash(inputHash, weightsRoot, tree.root));
  }
  const traceDepth = depthFor(n + 1);
  const levels = merkleLevels(states, traceDepth, states[n]!);
  return { states, nodeOutputHashes: [...nodeOutputHashes], finalNodesRoot: tree.root, traceRoot: levels[traceDepth]![0]!, traceDepth };
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
  const tree = new NodesTree(n);
  trace.nodeOutputHashes.forEach((h, i) => tree.set(i + 1, h));
  const levels = merkleLevels(trace.states, trace.traceDepth, trace.states[n]!);
  return {
    traceRoot: trace.traceRoot,
    leaf0Proof: merkleProof(levels, 0),
    finalNodesRoot: tree.root,
    outputProof: tree.proof(n),
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

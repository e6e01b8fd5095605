/**
 * The preimage oracle's contents for one phase-1 check (docs/protocol.md §3, §4.5, §5.3): the local
 * inputs (modelRoot, node index, State_{k-1}, claimed State_k) and every keccak preimage the guest
 * node program fetches to recompute node k.
 */
import { concatBytes, keccak, toHex, type Bytes32 } from "./hash.ts";
import { depthFor, merkleLevels } from "./merkle.ts";
import { NodesTree, stateHash } from "./state.ts";
import { tensorHash, tensorPreimages, type Tensor } from "./tensor.ts";
import { nodeInputs, type Model } from "./model.ts";

export const LocalIdent = { modelRoot: 1, nodeIndex: 2, preState: 3, postState: 4 } as const;

/** The keccak-type key of a preimage: keccak256(data) with its first byte set to 2. */
export function keccakKey(data: Uint8Array): Bytes32 {
  const k = keccak(data);
  k[0] = 2;
  return k;
}

/** The local-type key of an identifier (§4.5): byte 0 = 1, bytes 28..31 = ident. */
export function localKey(ident: number): Bytes32 {
  const k = new Uint8Array(32);
  k[0] = 1;
  new DataView(k.buffer).setUint32(28, ident, false);
  return k;
}

export class PreimageStore {
  readonly byKey = new Map<string, Uint8Array>();
  add(data: Uint8Array): void {
    if (data.length > 32768) throw new RangeError(`preimage of ${data.length} bytes exceeds 32768`);
    this.byKey.set(toHex(keccakKey(data)), data);
  }
  addTree(leaves: readonly Bytes32[], depth: number): void {
    const levels = merkleLevels(leaves, depth);
    for (let h = 1; h < levels.length; h++) {
      const below = levels[h - 1]!;
      for (let i = 0; i < levels[h]!.length; i++) this.add(concatBytes(below[2 * i]!, below[2 * i + 1]!));
    }
  }
  get(key: Bytes32): Uint8Array | undefined {
    return this.byKey.get(toHex(key));
  }
}

export interface NodeCheck {
  /** local data by identifier (each 32 bytes) */
  locals: Map<number, Uint8Array>;
  preimages: PreimageStore;
  preState: Bytes32;
  postState: Bytes32;
}

/**
 * Everything the guest needs to check node k (1-based) of a run, with `claimedPost` as the claimed
 * State_k (the honest one when omitted).
 */
export function nodeCheck(model: Model, input: Tensor, nodeOutputs: readonly Tensor[], k: number, claimedPost?: Bytes32): NodeCheck {
  const n = model.nodes.length;
  if (k < 1 || k > n) throw new RangeError(`node index ${k} outside 1..${n}`);
  const store = new PreimageStore();
  store.add(model.descriptor);
  store.addTree(model.nodeHashes, depthFor(n));
  store.add(model.nodeBytes[k - 1]!);
  store.addTree(model.weightHashes, depthFor(model.weights.length));
  const inputHash = tensorHash(input);
  const outHashes = nodeOutputs.map(tensorHash);
  const tree = new NodesTree(n);
  for (let m = 1; m < k; m++) tree.set(m, outHashes[m - 1]!);
  const preLeaves = outHashes.slice(0, k - 1);
  store.addTree(preLeaves, depthFor(n));
  const preState = stateHash(inputHash, model.weightsRoot, tree.root);
  store.add(concatBytes(inputHash, model.weightsRoot, tree.root));
  for (const t of nodeInputs(model, k, input, nodeOutputs)) for (const p of tensorPreimages(t)) store.add(p);
  tree.set(k, outHashes[k - 1]!);
  const postState = claimedPost ?? stateHash(inputHash, model.weightsRoot, tree.root);
  const index = new Uint8Array(32);
  new DataView(index.buffer).setUint32(28, k, false);
  const locals = new Map<number, Uint8Array>([
    [LocalIdent.modelRoot, model.modelRoot],
    [LocalIdent.nodeIndex, index],
    [LocalIdent.preState, preState],
    [LocalIdent.postState, postState],
  ]);
  return { locals, preimages: store, preState, postState };
}

import { describe, expect, it } from "vitest";
import { concatBytes, equalBytes, keccak, toHex, ZERO32 } from "./hash.ts";
import { depthFor, merkleLevels, merkleProof, merkleRoot, rootFromProof, zeroHash } from "./merkle.ts";
import { CHUNK_BYTES, DType, chunkRoot, decodeTensor, encodeHeader, encodeTensor, int32Tensor, int8Tensor, tensorHash, tensorPreimages } from "./tensor.ts";
import { buildTrace, claimProof, initialState, NodesTree, stateHash, traceProof, verifyClaim } from "./state.ts";
import { seededRandom } from "./fixtures.ts";

const h = (i: number) => keccak(new Uint8Array([i]));

describe("keccak256 (wasm, the guest's C keccak)", () => {
  it("matches viem's keccak256 at every padding boundary", async () => {
    const { keccak256 } = await import("viem");
    expect(toHex(keccak(new Uint8Array(0)))).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    const rand = seededRandom(77);
    for (const len of [1, 31, 32, 64, 135, 136, 137, 271, 272, 273, 1000, 4096, 70000]) {
      const b = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      expect(toHex(keccak(b)), `length ${len}`).toBe(keccak256(b));
    }
  });
});

describe("Merkle trees (§3.1)", () => {
  it("depthFor is ceil(log2(max(count,1)))", () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9].map(depthFor)).toEqual([0, 0, 1, 2, 2, 3, 3, 4]);
  });
  it("root, proofs and zero padding agree", () => {
    const leaves = [h(1), h(2), h(3)];
    const root = merkleRoot(leaves, 2);
    expect(root).toEqual(keccak(concatBytes(keccak(concatBytes(h(1), h(2))), keccak(concatBytes(h(3), ZERO32)))));
    const levels = merkleLevels(leaves, 2);
    for (let i = 0; i < 4; i++) expect(rootFromProof(leaves[i] ?? ZERO32, i, merkleProof(levels, i))).toEqual(root);
    expect(merkleRoot([], 3)).toEqual(zeroHash(3));
    expect(merkleRoot([h(9)], 0)).toEqual(h(9));
  });
  it("pads with a given leaf", () => {
    const root = merkleRoot([h(1), h(2), h(3)], 2, h(3));
    expect(root).toEqual(merkleRoot([h(1), h(2), h(3), h(3)], 2));
  });
});

describe("tensors (§3.2)", () => {
  it("encodes int32 big-endian, row-major, with a dtype/rank/dims header", () => {
    const t = int32Tensor([1, 2], [1, -2]);
    expect(Array.from(encodeTensor(t))).toEqual([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe]);
    expect(Array.from(encodeHeader(DType.int32, [1, 2]))).toEqual([2, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(decodeTensor(DType.int32, [1, 2], encodeTensor(t)).data).toEqual(t.data);
  });
  it("hash = keccak(header ‖ chunkRoot); small tensors have chunkRoot = keccak(bytes)", () => {
    const t = int8Tensor([3], [1, 2, 3]);
    expect(tensorHash(t)).toEqual(keccak(concatBytes(encodeHeader(DType.int8, [3]), keccak(new Uint8Array([1, 2, 3])))));
  });
  it("chunks at 4096 bytes, last chunk unpadded, zero leaves pad the tree", () => {
    const rand = seededRandom(3);
    const bytes = Uint8Array.from({ length: 2 * CHUNK_BYTES + 5 }, () => Math.floor(rand() * 256));
    const c = [bytes.subarray(0, 4096), bytes.subarray(4096, 8192), bytes.subarray(8192)].map((b) => keccak(b));
    expect(chunkRoot(bytes)).toEqual(keccak(concatBytes(keccak(concatBytes(c[0]!, c[1]!)), keccak(concatBytes(c[2]!, ZERO32)))));
    expect(chunkRoot(bytes.subarray(0, 4096))).toEqual(c[0]);
  });
  it("preimages: each ≤ 32768 bytes and each links to the tensor hash", () => {
    const t = int8Tensor([3, 5000], new Int8Array(15000).map((_, i) => i % 251));
    const pre = tensorPreimages(t);
    const keys = new Set(pre.map((p) => Buffer.from(keccak(p)).toString("hex")));
    expect(keys.has(Buffer.from(tensorHash(t)).toString("hex"))).toBe(true);
    for (const p of pre) expect(p.length).toBeLessThanOrEqual(32768);
    // every 32-byte link inside a non-chunk preimage resolves to another preimage
    const top = pre[0]!;
    expect(keys.has(Buffer.from(top.subarray(top.length - 32)).toString("hex"))).toBe(true);
  });
  it("rejects bad shapes and sizes with a clear message", () => {
    expect(() => int8Tensor([2, 0], [])).toThrow(/dimension 0/);
    expect(() => int8Tensor([2, 2], [1, 2, 3])).toThrow(/needs 4 elements, got 3/);
    expect(() => decodeTensor(DType.int32, [2], new Uint8Array(7))).toThrow(/needs 8 bytes, got 7/);
  });
});

describe("graph states, traces and claims (§3.4, §3.5)", () => {
  const inputHash = h(100), weightsRoot = h(101);
  const outs = [h(1), h(2), h(3), h(4), h(5)];

  it("State_0 has zero node slots; State_k writes node k's leaf", () => {
    const trace = buildTrace(inputHash, weightsRoot, outs);
    expect(trace.states[0]).toEqual(initialState(inputHash, weightsRoot, 5));
    expect(trace.states[0]).toEqual(keccak(concatBytes(inputHash, weightsRoot, zeroHash(3))));
    const tree = new NodesTree(5);
    tree.set(1, h(1));
    tree.set(2, h(2));
    expect(trace.states[2]).toEqual(stateHash(inputHash, weightsRoot, tree.root));
    expect(tree.root).toEqual(merkleRoot([h(1), h(2)], 3));
  });

  it("traceRoot is padded with State_n", () => {
    const trace = buildTrace(inputHash, weightsRoot, outs);
    expect(trace.traceDepth).toBe(3);
    const s = trace.states;
    expect(trace.traceRoot).toEqual(merkleRoot([...s, s[5]!, s[5]!], 3));
    expect(rootFromProof(s[5]!, 7, traceProof(trace, 7))).toEqual(trace.traceRoot);
  });

  it("claim proofs verify, and fail for a different output or trace", () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const trace = buildTrace(inputHash, weightsRoot, outs.concat(outs).slice(0, n));
      const proof = claimProof(trace);
      expect(verifyClaim({ inputHash, weightsRoot, nodeCount: n, outputHash: trace.nodeOutputHashes[n - 1]!, proof })).toBe(true);
      expect(verifyClaim({ inputHash, weightsRoot, nodeCount: n, outputHash: h(77), proof })).toBe(false);
      expect(verifyClaim({ inputHash: h(78), weightsRoot, nodeCount: n, outputHash: trace.nodeOutputHashes[n - 1]!, proof })).toBe(false);
    }
    const wrong = buildTrace(inputHash, h(55), outs);
    const proof = claimProof(wrong);
    expect(verifyClaim({ inputHash, weightsRoot, nodeCount: 5, outputHash: outs[4]!, proof })).toBe(false);
    expect(equalBytes(proof.traceRoot, wrong.traceRoot)).toBe(true);
  });
});

/**
 * The claim path (Executor.run + claimProof) against an independent, straightforward computation of
 * docs/protocol.md §3.1–3.5 with viem's JavaScript keccak256 (not the wasm hasher, no work memory):
 * canonical bytes, 4096-byte chunk tree, tensorHash, the nodes tree rebuilt leaf by leaf, every
 * State_k, the trace tree and the claim proof — on the text-generation graph (9,901 nodes) and on
 * MNIST. The digests pin the same values as computed by the code before the in-place hashing
 * (commit c973b4d), byte for byte.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, concat, hexToBytes, keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { decodeModelFile } from "./model.ts";
import { Executor, type RunResult } from "./executor.ts";
import { claimProof, verifyClaim } from "./state.ts";
import { DType, int8Tensor, type Tensor } from "./tensor.ts";
import { merkleLevels, merkleRoot } from "./merkle.ts";

const models = join(import.meta.dirname, "../models");
const k = (b: Uint8Array): Uint8Array => hexToBytes(keccak256(b));
const cat = (...p: Uint8Array[]) => hexToBytes(concat(p.map((b) => bytesToHex(b))));
const Z: Uint8Array = new Uint8Array(32);

function depth(count: number): number {
  let d = 0;
  while (2 ** d < count) d++;
  return d;
}
/** Every level of a depth-d tree, leaves padded with `pad`. */
function levels(leaves: Uint8Array[], d: number, pad: Uint8Array): Uint8Array[][] {
  let level = [...leaves];
  while (level.length < 2 ** d) level.push(pad);
  const out = [level];
  for (let h = 0; h < d; h++) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(k(cat(level[i]!, level[i + 1]!)));
    out.push((level = next));
  }
  return out;
}
const proof = (lv: Uint8Array[][], index: number) => lv.slice(0, -1).map((l, h) => l[(index >>> h) ^ 1]!);

function tensorHash(t: Tensor): Uint8Array {
  const header = new Uint8Array(2 + 4 * t.shape.length);
  header[0] = t.dtype;
  header[1] = t.shape.length;
  t.shape.forEach((d, i) => new DataView(header.buffer).setUint32(2 + 4 * i, d, false));
  let bytes: Uint8Array;
  if (t.dtype === DType.int8) bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length);
  else {
    bytes = new Uint8Array(4 * t.data.length);
    t.data.forEach((v, i) => new DataView(bytes.buffer).setInt32(4 * i, v, false));
  }
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += 4096) chunks.push(k(bytes.subarray(off, off + 4096)));
  const d = depth(chunks.length);
  return k(cat(header, levels(chunks, d, Z)[d]![0]!));
}

/** The trace and claim proof from scratch: the nodes tree as an array of levels updated leaf by leaf. */
function oracle(inputHash: Uint8Array, weightsRoot: Uint8Array, outHashes: Uint8Array[]) {
  const n = outHashes.length, dN = depth(n), dT = depth(n + 1);
  const zero: Uint8Array[] = [Z];
  for (let h = 1; h <= dN; h++) zero.push(k(cat(zero[h - 1]!, zero[h - 1]!)));
  const tree = zero.map((z, h) => new Array<Uint8Array>(2 ** (dN - h)).fill(z));
  const states = [k(cat(inputHash, weightsRoot, tree[dN]![0]!))];
  outHashes.forEach((leaf, i) => {
    tree[0]![i] = leaf;
    for (let h = 1; h <= dN; h++) {
      i >>>= 1;
      tree[h]![i] = k(cat(tree[h - 1]![2 * i]!, tree[h - 1]![2 * i + 1]!));
    }
    states.push(k(cat(inputHash, weightsRoot, tree[dN]![0]!)));
  });
  const trace = levels(states, dT, states[n]!);
  return {
    states,
    traceRoot: trace[dT]![0]!,
    proof: { traceRoot: trace[dT]![0]!, leaf0Proof: proof(trace, 0), finalNodesRoot: tree[dN]![0]!, outputProof: proof(tree, n - 1), leafNProof: proof(trace, n) },
  };
}

/** One hash of everything the claim path produces (the digest pinned below). */
function digest(r: RunResult): string {
  const p = claimProof(r.trace);
  const all = [r.inputHash, ...r.trace.nodeOutputHashes, ...r.trace.states, r.trace.finalNodesRoot, r.trace.traceRoot, p.traceRoot, ...p.leaf0Proof, p.finalNodesRoot, ...p.outputProof, ...p.leafNProof];
  return keccak256(concat(all.map((b) => bytesToHex(b))));
}

function check(file: string, input: Tensor, golden: { traceRoot: string; digest: string }) {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(models, file))));
  const exec = new Executor(model);
  const r = exec.run(input);
  const n = model.nodes.length;
  // node outputs: the same as the nodes run without hashing
  const plain = exec.inferAll(input);
  expect(r.nodeOutputs.length).toBe(n);
  r.nodeOutputs.forEach((t, i) => {
    expect(t.shape).toEqual(plain[i]!.shape);
    expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(plain[i]!.data.buffer, plain[i]!.data.byteOffset, plain[i]!.data.byteLength)), `node ${i + 1}`).toBe(true);
  });
  const hashes = r.nodeOutputs.map(tensorHash);
  expect(r.inputHash).toEqual(tensorHash(input));
  r.trace.nodeOutputHashes.forEach((h, i) => expect(h, `tensorHash of node ${i + 1}`).toEqual(hashes[i]));
  const o = oracle(r.inputHash, model.weightsRoot, hashes);
  expect(r.trace.states.length).toBe(n + 1);
  r.trace.states.forEach((s, i) => expect(s, `State_${i}`).toEqual(o.states[i]));
  expect(r.trace.traceRoot).toEqual(o.traceRoot);
  expect(r.trace.finalNodesRoot).toEqual(o.proof.finalNodesRoot);
  expect(r.trace.traceDepth).toBe(depth(n + 1));
  const p = claimProof(r.trace);
  expect(p).toEqual(o.proof);
  expect(verifyClaim({ inputHash: r.inputHash, weightsRoot: model.weightsRoot, nodeCount: n, outputHash: hashes[n - 1]!, proof: p })).toBe(true);
  expect({ traceRoot: bytesToHex(r.trace.traceRoot), digest: digest(r) }).toEqual(golden);
}

describe("the claim path equals a straightforward computation of §3.1–3.5", () => {
  it("on the text-generation graph (generate.oao, 9,901 nodes, a 20-byte prompt)", () => {
    const fx = JSON.parse(readFileSync(join(models, "text_lm/fixture.json"), "utf8")) as { windows: number[][] };
    check("text_lm/generate.oao", int8Tensor([20], Int8Array.from(fx.windows[0]!.slice(0, 20))), {
      traceRoot: "0x41415a8deed81a0bdb8c60256003a00f8e70fd12fad12bf11ba59ee749fb7c9f",
      digest: "0x0756f813ba13130ca45cbdc815de22e35138a791c0ace541dc9c7d2b11fce04b",
    });
  }, 120_000);

  it("on MNIST", () => {
    check("mnist/model.oao", int8Tensor([1, 784], Int8Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) - 128)), {
      traceRoot: "0x39780ad23f243fd9485d30ea1f67095abf8cbc44e3c6679bdba3332e53f02312",
      digest: "0x2f2bba63053a3a40088583e9a286a23a255db600a4e3ba5fa7fea6a2604e713a",
    });
  }, 60_000);

  it("merkleRoot and merkleLevels (work memory) equal the plain levels for every size and pad", () => {
    const leaf = (i: number) => k(new Uint8Array([i, i >> 8]));
    for (let count = 0; count <= 17; count++) {
      const leaves = Array.from({ length: count }, (_, i) => leaf(i));
      for (let d = depth(count); d <= depth(count) + 2; d++) {
        for (const pad of [undefined, leaf(999)]) {
          const want = levels(leaves, d, pad ?? Z);
          expect(merkleLevels(leaves, d, pad), `${count} leaves, depth ${d}`).toEqual(want);
          expect(merkleRoot(leaves, d, pad)).toEqual(want[d]![0]);
        }
      }
    }
  });
});

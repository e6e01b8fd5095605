/**
 * Differential test: contracts/lib/GraphCommitments.sol (through a test harness) against
 * keeper/graph on the same inputs (docs/protocol.md §3).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { network } from "hardhat";
import { readFileSync } from "node:fs";
import type { Hex } from "viem";
import { toHex, keccak, type Bytes32 } from "../../keeper/graph/hash.ts";
import { depthFor, merkleLevels, merkleProof, zeroHash } from "../../keeper/graph/merkle.ts";
import { encodeHeader, tensorHashOfBytes, DType } from "../../keeper/graph/tensor.ts";
import { buildTrace, claimProof, initialState, stateHash } from "../../keeper/graph/state.ts";
import { decodeDescriptor, decodeModelFile, encodeDescriptor, InputMode } from "../../keeper/graph/model.ts";
import { seededRandom } from "../../keeper/graph/fixtures.ts";

const hx = (b: Uint8Array): Hex => toHex(b);
const h = (i: number) => keccak(new Uint8Array([i, i >> 8]));

describe("GraphCommitments.sol = keeper/graph", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let lib: any;
  beforeAll(async () => {
    const { viem } = await network.create();
    lib = await viem.deployContract("GraphCommitmentsHarness");
  });

  it("depthFor, zeroHash and rootFromProof", async () => {
    for (const c of [0, 1, 2, 3, 4, 5, 17, 1024, 1025]) expect(Number(await lib.read.depthFor([BigInt(c)]))).toBe(depthFor(c));
    for (const d of [0, 1, 5, 27]) expect(await lib.read.zeroHash([BigInt(d)])).toBe(hx(zeroHash(d)));
    const leaves = Array.from({ length: 11 }, (_, i) => h(i));
    const levels = merkleLevels(leaves, 4);
    for (const i of [0, 5, 10, 15]) {
      expect(await lib.read.rootFromProof([hx(levels[0]![i]!), BigInt(i), merkleProof(levels, i).map(hx)])).toBe(hx(levels[4]![0]!));
    }
    await expect(lib.read.rootFromProof([hx(h(1)), 16n, merkleProof(levels, 0).map(hx)])).rejects.toThrow(/LeafIndexOutOfRange/);
  });

  it("tensorHash across chunk boundaries and dtypes", async () => {
    const rand = seededRandom(9);
    const cases: [number, number[]][] = [
      [DType.int8, [10]],
      [DType.int8, [1, 784]],
      [DType.int8, [4096]],
      [DType.int8, [4097]],
      [DType.int32, [3, 1024]],
      [DType.int8, [2, 3, 2049]],
      [DType.int32, [5, 4096]],
      [DType.int8, [1, 3, 48, 48]],
      [DType.int8, [8192]],
      [DType.int8, [32768]],
    ];
    for (const [dtype, shape] of cases) {
      const header = encodeHeader(dtype, shape);
      const bytes = Uint8Array.from({ length: shape.reduce((a, b) => a * b) * (dtype === DType.int8 ? 1 : 4) }, () => Math.floor(rand() * 256));
      expect(await lib.read.tensorHash([hx(header), hx(bytes)]), `${dtype} [${shape}]`).toBe(hx(tensorHashOfBytes(header, bytes)));
    }
    await expect(lib.read.tensorHash([hx(encodeHeader(DType.int8, [10])), hx(new Uint8Array(9))])).rejects.toThrow(/TensorLengthMismatch/);
    await expect(lib.read.tensorHash(["0x0301000000ff", "0x00"])).rejects.toThrow(/InvalidTensorHeader/);
    await expect(lib.read.tensorHash(["0x010100000000", "0x"])).rejects.toThrow(/InvalidTensorHeader/);
  });

  it("decodes the MNIST model descriptor to the keeper's commitments", async () => {
    const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url))));
    const m = await lib.read.decodeModelDescriptor([hx(model.descriptor)]);
    expect(m.modelRoot).toBe(hx(model.modelRoot));
    expect(m.nodeCount).toBe(model.nodes.length);
    expect(m.weightCount).toBe(model.weights.length);
    expect(m.graphRoot).toBe(hx(model.graphRoot));
    expect(m.weightsRoot).toBe(hx(model.weightsRoot));
    expect(m.metadataHash).toBe(hx(model.metadataHash));
    expect(m.inputHeader).toBe(hx(model.inputHeader));
    expect(m.outputHeader).toBe(hx(model.outputHeader));
    const bad = model.descriptor.slice();
    bad[0] = 0;
    await expect(lib.read.decodeModelDescriptor([hx(bad)])).rejects.toThrow(/InvalidModelDescriptor/);
    await expect(lib.read.decodeModelDescriptor([hx(model.descriptor.subarray(0, 120))])).rejects.toThrow(/InvalidModelDescriptor/);
    expect(m.inputMode).toBe(0);
  });

  it("decodes version-2 descriptors (the trailing inputMode byte) as keeper/graph encodes them", async () => {
    const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url))));
    for (const inputMode of [InputMode.fixed, InputMode.text]) {
      const d = encodeDescriptor({ ...decodeDescriptor(model.descriptor), inputMode });
      const m = await lib.read.decodeModelDescriptor([hx(d)]);
      expect(m.modelRoot).toBe(hx(keccak(d)));
      expect(m.inputMode).toBe(inputMode);
      expect(m.inputHeader).toBe(hx(model.inputHeader));
      expect(m.outputHeader).toBe(hx(model.outputHeader));
      const bad = d.slice();
      bad[bad.length - 1] = 7;
      await expect(lib.read.decodeModelDescriptor([hx(bad)])).rejects.toThrow(/InvalidInputMode/);
      await expect(lib.read.decodeModelDescriptor([hx(d.subarray(0, d.length - 1))])).rejects.toThrow(/InvalidModelDescriptor/);
    }
  });

  it("states, trace leaves and claims for n = 1..9", async () => {
    const inputHash = h(500), weightsRoot = h(501);
    for (let n = 1; n <= 9; n++) {
      const outs: Bytes32[] = Array.from({ length: n }, (_, i) => h(1000 * n + i));
      const trace = buildTrace(inputHash, weightsRoot, outs);
      expect(await lib.read.initialState([hx(inputHash), hx(weightsRoot), BigInt(n)])).toBe(hx(initialState(inputHash, weightsRoot, n)));
      expect(await lib.read.stateHash([hx(inputHash), hx(weightsRoot), hx(h(7))])).toBe(hx(stateHash(inputHash, weightsRoot, h(7))));
      const levels = merkleLevels(trace.states, trace.traceDepth, trace.states[n]!);
      for (let i = 0; i < 2 ** trace.traceDepth; i++) {
        const leaf = i <= n ? trace.states[i]! : trace.states[n]!;
        expect(await lib.read.verifyTraceLeaf([hx(trace.traceRoot), BigInt(n), BigInt(i), hx(leaf), merkleProof(levels, i).map(hx)])).toBe(true);
      }
      const p = claimProof(trace);
      const proof = {
        traceRoot: hx(p.traceRoot),
        leaf0Proof: p.leaf0Proof.map(hx),
        finalNodesRoot: hx(p.finalNodesRoot),
        outputProof: p.outputProof.map(hx),
        leafNProof: p.leafNProof.map(hx),
      };
      expect(await lib.read.verifyClaim([hx(inputHash), hx(weightsRoot), BigInt(n), hx(outs[n - 1]!), proof])).toBe(true);
      await expect(lib.read.verifyClaim([hx(inputHash), hx(weightsRoot), BigInt(n), hx(h(3)), proof])).rejects.toThrow(/OutputNotInFinalState/);
      await expect(lib.read.verifyClaim([hx(h(4)), hx(weightsRoot), BigInt(n), hx(outs[n - 1]!), proof])).rejects.toThrow(/InitialStateMismatch/);
      if (n > 1) {
        // a trace whose last state is not built from finalNodesRoot
        const other = buildTrace(inputHash, weightsRoot, outs.map((o, i) => (i === 0 ? h(9) : o)));
        const q = claimProof(other);
        const mixed = { ...proof, traceRoot: hx(q.traceRoot), leaf0Proof: q.leaf0Proof.map(hx), leafNProof: q.leafNProof.map(hx) };
        await expect(lib.read.verifyClaim([hx(inputHash), hx(weightsRoot), BigInt(n), hx(outs[n - 1]!), mixed])).rejects.toThrow(/FinalStateMismatch/);
      }
      await expect(lib.read.verifyClaim([hx(inputHash), hx(weightsRoot), BigInt(n), hx(outs[n - 1]!), { ...proof, outputProof: [...proof.outputProof, hx(h(1))] }])).rejects.toThrow(/InvalidProofLength/);
    }
    await expect(lib.read.initialState([hx(inputHash), hx(weightsRoot), 0n])).rejects.toThrow(/InvalidNodeCount/);
  });
});

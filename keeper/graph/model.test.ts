import { describe, expect, it } from "vitest";
import { keccak } from "./hash.ts";
import { buildModel, decodeDescriptor, decodeModelFile, encodeDescriptor, encodeModelFile, InputMode, isTextModel, nodeInputs, requestInputSpec, type ModelSpec } from "./model.ts";
import { Op, inputSlot, nodeSlot, weightSlot, encodeNodeDesc } from "./ops.ts";
import { DType, encodeHeader, int32Tensor, int8Tensor, tensorHash, type Tensor } from "./tensor.ts";
import { Executor } from "./executor.ts";
import { refNode } from "./reference.ts";
import { verifyClaim, claimProof } from "./state.ts";
import { depthFor, merkleRoot } from "./merkle.ts";
import { nextLetterText, nextLetterTextSpec, seededRandom } from "./fixtures.ts";
import { quantizeInput } from "./quant.ts";

/** A small CNN using every op: conv → relu → maxpool → reshape → gemm, mul, add → softmax. */
function tinySpec(): ModelSpec {
  const rand = seededRandom(11);
  const r8 = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
  const table = Array.from({ length: 256 }, (_, d) => Math.round(65536 * Math.exp(-d * 0.05)));
  return {
    input: { dtype: DType.int8, shape: [1, 1, 6, 6] },
    weights: [int8Tensor([2, 1, 3, 3], r8(18)), int32Tensor([2], [100, -50]), int8Tensor([4, 8], r8(32)), int32Tensor([4], [7, 8, 9, 10])],
    nodes: [
      { op: Op.Conv2D, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int8, outShape: [1, 2, 4, 4], attrs: [-3, 0, 1 << 30, 38, 2, -128, 127, 1, 1, 0, 0, 0, 0, 1, 1, 1] },
      { op: Op.Relu, inputs: [nodeSlot(1)], outDtype: DType.int8, outShape: [1, 2, 4, 4], attrs: [2] },
      { op: Op.MaxPool, inputs: [nodeSlot(2)], outDtype: DType.int8, outShape: [1, 2, 2, 2], attrs: [2, 2, 2, 2, 0, 0, 0, 0] },
      { op: Op.Reshape, inputs: [nodeSlot(3)], outDtype: DType.int8, outShape: [1, 8], attrs: [] },
      { op: Op.Gemm, inputs: [nodeSlot(4), weightSlot(2), weightSlot(3)], outDtype: DType.int8, outShape: [1, 4], attrs: [2, 0, 1 << 30, 37, 0, -128, 127] },
      { op: Op.Mul, inputs: [nodeSlot(5), nodeSlot(5)], outDtype: DType.int8, outShape: [1, 4], attrs: [0, 0, 1 << 30, 36, -10, -128, 127] },
      { op: Op.Add, inputs: [nodeSlot(5), nodeSlot(6)], outDtype: DType.int8, outShape: [1, 4], attrs: [0, 1 << 30, 31, -10, 1 << 30, 32, 1 << 30, 50, 0, -128, 127, 20] },
      { op: Op.Softmax, inputs: [nodeSlot(7)], outDtype: DType.int8, outShape: [1, 4], attrs: table },
    ],
    metadata: { name: "tiny", input: { scale: 1 / 255, zeroPoint: -128 }, output: { scale: 1 / 256, zeroPoint: -128 } },
  };
}

describe("models (§3.3, §3.7)", () => {
  it("modelRoot commits to the descriptor, which commits to nodes, weights and metadata", () => {
    const m = buildModel(tinySpec());
    expect(m.modelRoot).toEqual(keccak(m.descriptor));
    const d = decodeDescriptor(m.descriptor);
    expect(d.nodeCount).toBe(8);
    expect(d.weightCount).toBe(4);
    expect(d.graphRoot).toEqual(merkleRoot(m.nodes.map((n) => keccak(encodeNodeDesc(n))), 3));
    expect(d.weightsRoot).toEqual(merkleRoot(m.weights.map(tensorHash), depthFor(4)));
    expect(d.metadataHash).toEqual(keccak(m.metadataBytes));
    expect(d.outputHeader).toEqual(m.outputHeader);
  });

  it("file round-trips byte for byte", () => {
    const m = buildModel(tinySpec());
    const file = encodeModelFile(m);
    const back = decodeModelFile(file);
    expect(back.modelRoot).toEqual(m.modelRoot);
    expect(encodeModelFile(back)).toEqual(file);
  });

  it("corrupt files fail with a clear error", () => {
    const file = encodeModelFile(buildModel(tinySpec()));
    const flipped = file.slice();
    flipped[200]! ^= 1;
    expect(() => decodeModelFile(flipped)).toThrow(/integrity hash mismatch/);
    expect(() => decodeModelFile(file.subarray(0, 100))).toThrow(/integrity hash mismatch/);
    expect(() => decodeModelFile(new Uint8Array(50))).toThrow(/not a model file/);
    // a weight changed and the integrity hash recomputed: the descriptor's weightsRoot catches it
    const body = file.slice(0, file.length - 32);
    body[body.length - 3]! ^= 1;
    const resealed = new Uint8Array(file.length);
    resealed.set(body);
    resealed.set(keccak(body), body.length);
    expect(() => decodeModelFile(resealed)).toThrow(/weightsRoot does not match/);
  });

  it("invalid graphs fail naming the node", () => {
    const spec = tinySpec();
    spec.nodes[4]!.outShape = [1, 5];
    expect(() => buildModel(spec)).toThrow(/node 5 \(Gemm\).*output shape/);
    const spec2 = tinySpec();
    spec2.nodes[1]!.inputs = [nodeSlot(3)];
    expect(() => buildModel(spec2)).toThrow(/node 2 \(Relu\) reads node 3/);
    const spec3 = tinySpec();
    spec3.nodes[0]!.inputs = [inputSlot(), weightSlot(9), weightSlot(1)];
    expect(() => buildModel(spec3)).toThrow(/reads weight 9/);
  });
});

describe("descriptor version 2: the inputMode byte (§3.3)", () => {
  it("a spec without inputMode keeps the version-1 descriptor; inputMode 0 gives version 2 with a trailing 0, and round-trips", () => {
    const v1 = buildModel(tinySpec());
    expect(decodeDescriptor(v1.descriptor)).toMatchObject({ version: 1, inputMode: InputMode.fixed });
    const v2 = buildModel({ ...tinySpec(), inputMode: InputMode.fixed });
    expect(v2.descriptor.length).toBe(v1.descriptor.length + 1);
    expect(v2.descriptor.subarray(8, v1.descriptor.length)).toEqual(v1.descriptor.subarray(8));
    expect(v2.descriptor[7]).toBe(2);
    expect(v2.descriptor[v2.descriptor.length - 1]).toBe(0);
    expect(decodeDescriptor(v2.descriptor)).toMatchObject({ version: 2, inputMode: InputMode.fixed, nodeCount: 8 });
    expect(v2.modelRoot).not.toEqual(v1.modelRoot);
    const back = decodeModelFile(encodeModelFile(v2));
    expect(back.modelRoot).toEqual(v2.modelRoot);
    expect(back.inputMode).toBe(InputMode.fixed);
    expect(decodeModelFile(encodeModelFile(v1)).inputMode).toBeUndefined();
    expect(isTextModel(back)).toBe(false);
  });

  it("decoding names a bad version, a missing or extra trailer and a bad inputMode", () => {
    const m = buildModel(tinySpec());
    const p = { nodeCount: 8, weightCount: 4, graphRoot: m.graphRoot, weightsRoot: m.weightsRoot, metadataHash: m.metadataHash, inputHeader: m.inputHeader, outputHeader: m.outputHeader };
    const text = encodeDescriptor({ ...p, inputMode: InputMode.text });
    expect(decodeDescriptor(text)).toMatchObject({ version: 2, inputMode: InputMode.text });
    const v3 = text.slice();
    v3[7] = 3;
    expect(() => decodeDescriptor(v3)).toThrow(/version 3 is not 1 or 2/);
    expect(() => decodeDescriptor(text.subarray(0, text.length - 1))).toThrow(/version 2\) has \d+ bytes, expected/);
    const badMode = text.slice();
    badMode[badMode.length - 1] = 2;
    expect(() => decodeDescriptor(badMode)).toThrow(/inputMode 2 is not 0 \(fixed\) or 1 \(text\)/);
    const v1 = encodeDescriptor(p);
    expect(() => decodeDescriptor(Uint8Array.from([...v1, 1]))).toThrow(/version 1\) has \d+ bytes/);
  });

  it("a text model needs an int8 [C] input that only TokenWindow reads", () => {
    expect(() => buildModel({ ...tinySpec(), inputMode: InputMode.text })).toThrow(/text model's input must be int8 \[C\].*not int8\[1,1,6,6\]/);
    const relu: ModelSpec = {
      input: { dtype: DType.int8, shape: [8] },
      weights: [],
      nodes: [{ op: Op.Relu, inputs: [inputSlot()], outDtype: DType.int8, outShape: [8], attrs: [0] }],
      metadata: { name: "relu", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
    };
    expect(buildModel(relu).inputMode).toBeUndefined(); // fine as a fixed model
    expect(() => buildModel({ ...relu, inputMode: InputMode.text })).toThrow(/node 1 \(Relu\) reads the request input of a text model: only TokenWindow \(op 17\) may/);
    expect(() => buildModel({ ...relu, input: { dtype: DType.int32, shape: [8] }, inputMode: InputMode.text })).toThrow(/not int32\[8\]/);
    expect(() => buildModel({ ...relu, inputMode: 5 as InputMode })).toThrow(/inputMode 5 is not 0/);
  });
});

describe("executor", () => {
  it("matches the reference node by node, and its claim verifies", () => {
    const m = buildModel(tinySpec());
    const exec = new Executor(m);
    const rand = seededRandom(5);
    const distinct = m.nodes.map(() => new Set<number>());
    for (let s = 0; s < 20; s++) {
      const input = int8Tensor([1, 1, 6, 6], Array.from({ length: 36 }, () => Math.floor(rand() * 256) - 128));
      const res = exec.run(input);
      const slots = (ref: number) => (ref >>> 24 === 0 ? input : ref >>> 24 === 1 ? m.weights[ref & 0xffffff]! : res.nodeOutputs[(ref & 0xffffff) - 1]!);
      m.nodes.forEach((node, i) => expect(Array.from(res.nodeOutputs[i]!.data)).toEqual(Array.from(refNode(node, node.inputs.map(slots)).data)));
      res.nodeOutputs.forEach((t, i) => t.data.forEach((v) => distinct[i]!.add(v)));
      expect(exec.infer(input).data).toEqual(res.output.data);
      expect(res.trace.states).toHaveLength(9);
      expect(verifyClaim({ inputHash: tensorHash(input), weightsRoot: m.weightsRoot, nodeCount: 8, outputHash: tensorHash(res.output), proof: claimProof(res.trace) })).toBe(true);
    }
    // the fixture is not degenerate: every node produces varied values
    expect(distinct.map((d) => d.size > 4), JSON.stringify(distinct.map((d) => [...d].slice(0, 8)))).toEqual(m.nodes.map(() => true));
  });

  it("rejects inputs of the wrong size or dtype", () => {
    const m = buildModel(tinySpec());
    const exec = new Executor(m);
    expect(() => exec.run(int8Tensor([1, 36], new Int8Array(36)))).toThrow(/input is int8\[1,36\].*takes int8\[1,1,6,6\]/);
    expect(() => quantizeInput(m, [1, 2, 3])).toThrow(/has 3 values but model tiny takes 36/);
    expect(() => quantizeInput(m, new Array(36).fill(Number.NaN))).toThrow(/not a finite number/);
  });
});

describe("text models (§3.3 inputMode 1): one graph for every prompt length 1..C", () => {
  const C = 8, T = 4;
  const model = buildModel(nextLetterTextSpec(C, T));

  it("the executor runs int8 [L] prompts, the output is the greedy bytes, every node as the TS reference computes it", () => {
    expect(isTextModel(model)).toBe(true);
    expect(decodeDescriptor(model.descriptor)).toMatchObject({ version: 2, inputMode: InputMode.text, inputHeader: encodeHeader(DType.int8, [C]) });
    const back = decodeModelFile(encodeModelFile(model));
    expect(back.modelRoot).toEqual(model.modelRoot);
    expect(isTextModel(back)).toBe(true);
    const exec = new Executor(back);
    const seen = new Set<string>();
    for (const prompt of ["a", "hello", "abcdefgh", "xy", "w", "zebra", "ab c", "~", "caf\u00e9"]) {
      const bytes = new TextEncoder().encode(prompt);
      const input = int8Tensor([bytes.length], Array.from(bytes, (b) => (b << 24) >> 24));
      const res = exec.run(input);
      const got = Uint8Array.from(res.output.data as Int8Array, (v) => v & 0xff);
      expect(got, prompt).toEqual(nextLetterText(bytes, C, T));
      seen.add(new TextDecoder().decode(got));
      const ref: Tensor[] = [];
      for (let k = 1; k <= model.nodes.length; k++) ref.push(refNode(model.nodes[k - 1]!, nodeInputs(model, k, input, ref)));
      ref.forEach((t, k) => expect(Array.from(res.nodeOutputs[k]!.data), `${prompt} node ${k + 1}`).toEqual(Array.from(t.data)));
      expect(res.inputHash).toEqual(tensorHash(input)); // the tensor int8 [L], not the header's int8 [C]
    }
    // the cases cover: T bytes, cut by the context, ended by 0x00, empty
    expect([...seen]).toEqual(expect.arrayContaining(["bcde", "pqr\0", "\0\0\0\0", "z\0\0\0"]));
  });

  it("a prompt must be int8 [L] with 1 <= L <= C: requestInputSpec and the executor say what the model takes", () => {
    expect(requestInputSpec(model, 1)).toEqual({ dtype: DType.int8, shape: [1] });
    expect(requestInputSpec(model, C)).toEqual({ dtype: DType.int8, shape: [C] });
    expect(() => requestInputSpec(model, 0)).toThrow(/text model's prompt is 1..8 bytes \(its context\), not 0/);
    expect(() => requestInputSpec(model, C + 1)).toThrow(/not 9/);
    const exec = new Executor(model);
    expect(() => exec.run(int8Tensor([C + 1], new Int8Array(C + 1)))).toThrow(/text model takes a prompt int8\[L\], 1 <= L <= 8/);
    expect(() => exec.run(int32Tensor([3], [1, 2, 3]))).toThrow(/input is int32\[3\]/);
    expect(() => exec.run(int8Tensor([1, 3], new Int8Array(3)))).toThrow(/input is int8\[1,3\]/);
    // fixed models keep the exact rule
    expect(() => requestInputSpec(buildModel(tinySpec()), 35)).toThrow(/request input is 35 bytes but the model takes 36/);
  });
});

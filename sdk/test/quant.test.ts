/**
 * `encodeInput` / `decodeOutput` / `modelQuantizationFromFile` (sdk/src/quant.ts) against the keeper's
 * `quantizeInput` / `dequantize` (keeper/graph/quant.ts) and its tensor encoding: the same bytes and the same
 * numbers on random values, for a per-tensor int8 input (mnist), per-feature input parameters (a PyTorch tabular
 * model) and int32 token ids.
 */
import { readFileSync } from "node:fs";
import { type Hex, bytesToHex, keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { buildModel, decodeModelFile, encodeModelFile, type Model } from "../../keeper/graph/model.ts";
import { dequantize, quantizeInput } from "../../keeper/graph/quant.ts";
import { DType, decodeTensor, encodeTensor, int32Tensor } from "../../keeper/graph/tensor.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { seededRandom } from "../../keeper/graph/fixtures.ts";
import { importOnnx } from "../../keeper/graph/onnx/import.ts";
import { loadFixture } from "../../keeper/graph/onnx/pytorch-fixtures.ts";
import { modelInfo } from "../../keeper/src/cli/model.ts";
import { InvalidModelFileError, InvalidParameterError, type ModelQuantization, decodeOutput, encodeInput, modelQuantizationFromFile } from "../src/index.ts";

const mnistFile = new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url)));
const rand = seededRandom(11);

/** Random real inputs: mostly inside the int8 range, some far outside (clamped), some exact half steps (ties). */
function randomValues(model: Model, n: number): number[] {
  const q = model.metadata.input;
  return Array.from({ length: n }, (_, i) => {
    const c = q.channelScales ? Math.floor(i / (n / model.input.shape[1]!)) % model.input.shape[1]! : 0;
    const [scale, zp] = q.channelScales ? [q.channelScales[c]!, q.channelZeroPoints![c]!] : [q.scale, q.zeroPoint];
    const r = rand();
    if (r < 0.1) return (Math.floor(rand() * 256) - 128 - zp + 0.5) * scale; // a tie
    return (rand() * 300 - 150 - zp) * scale;
  });
}

function checkAgainstKeeper(model: Model, params: ModelQuantization, trials: number) {
  const n = model.input.shape.reduce((a, b) => a * b, 1);
  for (let t = 0; t < trials; t++) {
    const values = randomValues(model, n);
    expect(encodeInput(params, values)).toBe(bytesToHex(encodeTensor(quantizeInput(model, values))));
  }
  // outputs: random bytes of the output's size, and the model's own output
  const outBytes = model.output.shape.reduce((a, b) => a * b, 1) * (model.output.dtype === DType.int8 ? 1 : 4);
  for (let t = 0; t < trials; t++) {
    const bytes = Uint8Array.from({ length: outBytes }, () => Math.floor(rand() * 256));
    expect(decodeOutput(params, bytes)).toEqual(dequantize(model, decodeTensor(model.output.dtype, [...model.output.shape], bytes)));
  }
  const out = new Executor(model).infer(quantizeInput(model, randomValues(model, n)));
  expect(decodeOutput(params, bytesToHex(encodeTensor(out)))).toEqual(dequantize(model, out));
}

describe("encodeInput and decodeOutput are the keeper's quantizeInput and dequantize", () => {
  it("mnist (per-tensor parameters): from the model file, and from `oao model info --json`", () => {
    const model = decodeModelFile(mnistFile);
    const params = modelQuantizationFromFile(mnistFile);
    expect(params).toEqual({
      input: { dtype: "int8", shape: model.input.shape, scale: model.metadata.input.scale, zeroPoint: model.metadata.input.zeroPoint },
      output: { dtype: "int8", shape: model.output.shape, scale: model.metadata.output.scale, zeroPoint: model.metadata.output.zeroPoint },
    });
    const info = JSON.parse(JSON.stringify(modelInfo(model))) as ModelQuantization; // what `oao model info --json` prints
    checkAgainstKeeper(model, params, 50);
    checkAgainstKeeper(model, info, 5);
  });

  it("a PyTorch tabular model with per-feature input parameters (channelScales)", () => {
    const fx = loadFixture("tabular_mlp");
    const model = buildModel(importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration, { report: false }).spec);
    const file = encodeModelFile(model);
    const params = modelQuantizationFromFile(file);
    expect(params.input.channelScales).toEqual(model.metadata.input.channelScales);
    expect(params.input.channelScales).toHaveLength(12);
    checkAgainstKeeper(model, params, 50);
    // the held-out rows as a dapp would send them
    for (const x of fx.heldout.slice(0, 20)) expect(encodeInput(params, x)).toBe(bytesToHex(encodeTensor(quantizeInput(model, x))));
  });

  it("int32 token ids are sent as they are (big-endian), and must be integers", () => {
    const params: ModelQuantization = { input: { dtype: "int32", shape: [1, 4], scale: 1, zeroPoint: 0 }, output: { dtype: "int32", shape: [1], scale: 1, zeroPoint: 0 } };
    const ids = [0, 65, 255, 2 ** 31 - 1];
    expect(encodeInput(params, ids)).toBe(bytesToHex(encodeTensor(int32Tensor([1, 4], ids))));
    expect(encodeInput(params, [-1, 0, 0, 0])).toBe("0xffffffff000000000000000000000000");
    expect(decodeOutput(params, "0x00000041")).toEqual([65]);
    expect(() => encodeInput(params, [0, 1.5, 2, 3])).toThrowError(/value 1 is 1\.5, not an int32/);
  });

  it("names what is wrong: the number of values, a value, the output's length, the file", () => {
    const params = modelQuantizationFromFile(mnistFile);
    expect(() => encodeInput(params, [1, 2, 3])).toThrowError(/the model's input \[1,784\] has 784 elements, got 3 values/);
    expect(() => encodeInput(params, [NaN, ...new Array<number>(783).fill(0)])).toThrowError(InvalidParameterError);
    expect(() => encodeInput(params, [NaN, ...new Array<number>(783).fill(0)])).toThrowError(/value 0 is null, not a finite number/);
    expect(() => decodeOutput(params, "0x0102")).toThrowError(/the model's output int8 \[1,10\] is 10 bytes, got 2/);
    expect(() => decodeOutput(params, "0x123" as Hex)).toThrowError(/even-length/);
    expect(() => encodeInput({ ...params, input: { ...params.input, channelScales: [1, 2], channelZeroPoints: [0, 0] } }, new Array<number>(784).fill(0))).toThrowError(/2 channel scales and 2 zero points for 784 channels \(axis 1 of \[1,784\]\)/);
    // metadata that is not the one the descriptor commits to (the file's integrity hash recomputed over the change)
    const model = decodeModelFile(mnistFile);
    const other = encodeModelFile(buildModel({ ...model, metadata: { ...model.metadata, output: { scale: 1, zeroPoint: 0 } } }));
    const descLen = new DataView(mnistFile.buffer, mnistFile.byteOffset).getUint32(12, false);
    const forged = new Uint8Array([...other.subarray(0, 16), ...mnistFile.subarray(16, 16 + descLen), ...other.subarray(16 + descLen, other.length - 32)]);
    const sealed = new Uint8Array([...forged, ...Buffer.from(keccak256(forged).slice(2), "hex")]);
    expect(() => modelQuantizationFromFile(sealed)).toThrowError(/its metadata hashes to 0x[0-9a-f]{64}, not the descriptor's metadataHash/);
    expect(() => modelQuantizationFromFile(sealed)).toThrowError(InvalidModelFileError);
  });
});

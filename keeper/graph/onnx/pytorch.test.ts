/**
 * Bring your own PyTorch model (issue 14): models trained and exported by
 * scripts/models/export_fixtures.py with `torch.onnx.export` defaults at opset 13 and 17 import,
 * the importer's float reading equals torch's, the int8 model agrees with torch on ≥ 98% of
 * held-out top-1s, and every node of the imported model runs the same natively and in the VM.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { importOnnx, type ImportedModel } from "./import.ts";
import { encodeOnnx } from "./export.ts";
import { loadFixture, PYTORCH_FIXTURES, type FixtureName } from "./pytorch-fixtures.ts";
import { buildModel, type Model } from "../model.ts";
import { Executor } from "../executor.ts";
import { dequantize, quantizeInput } from "../quant.ts";
import { nodeCheck } from "../preimages.ts";
import { OP_NAMES } from "../ops.ts";
import { runNodeCheckInVm } from "../../guest/node/vm.ts";
import type { Tensor } from "../tensor.ts";

const ELF = new Uint8Array(readFileSync(fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url))));
const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};

/** Node ops expected after import (opset 13 and 17 alike). */
const EXPECTED_OPS: Record<FixtureName, string[]> = {
  // Relu fused into each Conv/Gemm, Flatten a Reshape, LogSoftmax = Softmax + ln table
  mnist_net: ["Conv2D", "Conv2D", "MaxPool", "Reshape", "Gemm", "Gemm", "Softmax", "Lut"],
  // Conv+BatchNorm (folded by torch), the BatchNorm after a MaxPool a depthwise 1x1 Conv,
  // AdaptiveAvgPool2d(1) a depthwise Conv
  bn_gap_cnn: ["Conv2D", "MaxPool", "Conv2D", "MaxPool", "Conv2D", "Conv2D", "Conv2D", "Reshape", "Gemm"],
  // AvgPool2d(2) and Pad + AveragePool(3, 2) as depthwise Convs; view(x.size(0), -1) a Reshape
  avgpool_cnn: ["Conv2D", "Conv2D", "Conv2D", "Conv2D", "Reshape", "Gemm", "Gemm", "Softmax"],
  // AvgPool2d(padding=1, count_include_pad=False): a depthwise Conv, then a Mul by the per-position k·k / count
  avgpool_exclude_cnn: ["Conv2D", "Conv2D", "Mul", "Conv2D", "Conv2D", "Mul", "Reshape", "Gemm"],
  // torch.cat of the 1x1 and 3x3 branches: each placed into the 16 channels by a 1x1 Conv, summed by an Add;
  // of the two Linear heads: each placed into the 32 features by a Gemm, summed
  concat_cnn: ["Conv2D", "MaxPool", "Conv2D", "Conv2D", "Conv2D", "Conv2D", "Add", "MaxPool", "Reshape", "Gemm", "Gemm", "Lut", "Gemm", "Gemm", "Add", "Gemm"],
  // BatchNorm1d on the input folded forward into fc1, the one after fc1 backward; Tanh, Sigmoid tables
  tabular_mlp: ["Gemm", "Lut", "Gemm", "Lut", "Gemm"],
  // LeakyReLU, Hardswish, GELU (Div/Erf/Add/Mul/Mul), SiLU (Sigmoid/Mul), ReLU6 + arithmetic: one table each
  activations_mlp: ["Gemm", "Lut", "Gemm", "Lut", "Gemm", "Lut", "Gemm", "Lut", "Gemm", "Lut", "Gemm"],
  // Conv1d/MaxPool1d as 2-D with height 1 between two Reshapes
  conv1d: ["Reshape", "Conv2D", "MaxPool", "Conv2D", "MaxPool", "Reshape", "Gemm"],
};

function heldoutAgreement(model: Model, fx: ReturnType<typeof loadFixture>) {
  const exec = new Executor(model);
  let agree = 0, correct = 0;
  fx.heldout.forEach((x, i) => {
    const y = dequantize(model, exec.infer(quantizeInput(model, x)));
    if (argmax(y) === argmax(fx.heldoutFloat[i]!)) agree++;
    if (argmax(y) === fx.heldoutLabels[i]) correct++;
  });
  return { agreement: agree / fx.heldout.length, accuracy: correct / fx.heldout.length };
}

describe("PyTorch models exported to ONNX (scripts/models/export_fixtures.py)", () => {
  for (const name of PYTORCH_FIXTURES) {
    it(`${name}: imports at opset 13 and 17, float = torch, int8 top-1 agreement ≥ 98% on held-out data, native = VM on every node`, () => {
      const fx = loadFixture(name);
      const imported = new Map<number, ImportedModel>();
      for (const opset of [13, 17]) {
        const bytes = new Uint8Array(readFileSync(fx.files.get(opset)!));
        const r = importOnnx(bytes, fx.calibration, { name, report: opset === 17 });
        imported.set(opset, r);
        // the importer's float reading of the graph is torch's
        r.floatOutputs.forEach((o, i) => o.forEach((v, j) => expect(Math.abs(v - fx.calibrationFloat[i]![j]!)).toBeLessThan(1e-3 * (1 + Math.abs(v)))));
        const model = buildModel(r.spec);
        expect(model.nodes.map((n) => OP_NAMES[n.op]), `opset ${opset}`).toEqual(EXPECTED_OPS[name]);
        const { agreement, accuracy } = heldoutAgreement(model, fx);
        expect(agreement, `opset ${opset} held-out agreement`).toBeGreaterThanOrEqual(0.98);
        expect(Math.abs(accuracy - fx.floatAccuracy), `opset ${opset} accuracy ${accuracy} vs float ${fx.floatAccuracy}`).toBeLessThanOrEqual(0.0105);
      }
      const r = imported.get(17)!;
      expect(r.report!.agreement).toBeGreaterThanOrEqual(0.98);
      expect(r.report!.nodes.length).toBeGreaterThan(0);
      expect(r.report!.worst).toBeDefined();

      // every node natively and through the guest program in the VM, on one held-out input
      const model = buildModel(r.spec);
      const input = quantizeInput(model, fx.heldout[0]!);
      const res = new Executor(model).run(input);
      for (let k = 1; k <= model.nodes.length; k++) {
        const vm = runNodeCheckInVm(ELF, nodeCheck(model, input, res.nodeOutputs, k));
        expect(vm.exitCode, `node ${k} ${OP_NAMES[model.nodes[k - 1]!.op]}: ${vm.stderr}`).toBe(0);
      }
      // and a claim whose last node's output differs in one element is refused
      const tampered = res.nodeOutputs.map((t) => ({ ...t, data: t.data.slice() })) as Tensor[];
      const last = tampered[tampered.length - 1]!;
      last.data[0] = last.data[0] === 5 ? 6 : 5;
      const n = model.nodes.length;
      const bad = runNodeCheckInVm(ELF, { ...nodeCheck(model, input, tampered, n), preimages: nodeCheck(model, input, res.nodeOutputs, n).preimages });
      expect(bad.exitCode).toBe(1);
    });
  }

  it("the wide import takes transformer language models only, and says why not", () => {
    const mn = loadFixture("mnist_net");
    // a CNN on int8 pixels: its first Gemm/Conv has no int32 input and Conv has no wide form
    expect(() => importOnnx(new Uint8Array(readFileSync(mn.files.get(17)!)), mn.calibration.slice(0, 4), { report: false, wide: true })).toThrow(/the wide import (needs an int32 input|has no wide form of conv)/);
    const tab = loadFixture("tabular_mlp");
    expect(() => importOnnx(new Uint8Array(readFileSync(tab.files.get(17)!)), tab.calibration.slice(0, 4), { report: false, wide: true })).toThrow(/the wide import needs an int32 input here/);
  });

  it("tells the model owner what it decided: the dynamic batch axis, per-feature input parameters, LogSoftmax values", () => {
    const avg = importOnnx(new Uint8Array(readFileSync(loadFixture("avgpool_cnn").files.get(13)!)), loadFixture("avgpool_cnn").calibration.slice(0, 20), { report: false });
    expect(avg.notes.join("\n")).toMatch(/batch axis is dynamic \(batch\); fixed to 1/);
    const tab = loadFixture("tabular_mlp");
    const t = importOnnx(new Uint8Array(readFileSync(tab.files.get(17)!)), tab.calibration, { report: false });
    // features in different units: one scale and zero point per feature, folded into fc1
    expect(t.spec.metadata.input.channelScales).toHaveLength(12);
    expect(t.spec.metadata.input.channelZeroPoints).toHaveLength(12);
    const mn = loadFixture("mnist_net");
    const m = importOnnx(new Uint8Array(readFileSync(mn.files.get(17)!)), mn.calibration.slice(0, 10), { report: false });
    expect(m.notes.join("\n")).toMatch(/LogSoftmax imports as Softmax \+ a ln table/);
    expect(m.spec.metadata.input.channelScales).toBeUndefined(); // one channel
  });

  it("an unsupported op or attribute: the error names the op, the node and what to change in the PyTorch code", () => {
    const base = { input: { name: "x", shape: [1, 2, 4, 4] }, output: { name: "y", shape: [1, 2, 8, 8] }, initializers: [] };
    const calib = [new Array<number>(32).fill(0)];
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "Resize", inputs: ["x"], outputs: ["y"], name: "/up/Resize" }] }), calib)).toThrow(
      /unsupported ONNX op Resize \(node \/up\/Resize\): F\.interpolate \/ nn\.Upsample is not supported; use strided convolutions instead/,
    );
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "LSTM", inputs: ["x"], outputs: ["y"], name: "/rnn/LSTM" }] }), calib)).toThrow(/unsupported ONNX op LSTM \(node \/rnn\/LSTM\): recurrent layers/);
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "NonZero", inputs: ["x"], outputs: ["y"], name: "nz" }] }), calib)).toThrow(/unsupported ONNX op NonZero \(node nz\): rewrite that part of the model.*docs\/byo-model\.md/);
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "AveragePool", inputs: ["x"], outputs: ["y"], name: "ap", ints: { kernel_shape: [3, 3], strides: [1, 1], dilations: [2, 2] } }] }), calib)).toThrow(
      /AveragePool node ap: attribute dilations is not supported/,
    );
    expect(() =>
      importOnnx(encodeOnnx({ ...base, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "Sub", inputs: ["x", "r"], outputs: ["y"], name: "sub" }] }), calib),
    ).not.toThrow(); // x − relu(x) is element-wise in x: one table
    expect(() =>
      importOnnx(
        encodeOnnx({ ...base, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "MaxPool", inputs: ["x"], outputs: ["p"], ints: { kernel_shape: [1, 1] } }, { op: "Sub", inputs: ["p", "r"], outputs: ["y"], name: "sub" }] }),
        calib,
      ),
    ).toThrow(/unsupported Sub of two activations \(Sub node sub\)/);
    expect(() => importOnnx(encodeOnnx({ ...base, nodes: [{ op: "LeakyRelu", inputs: ["x"], outputs: ["y"], float: { alpha: 0.1, beta: 2 } }] }), calib)).toThrow(/attribute beta is not supported \(supported: alpha\)/);
  });
});

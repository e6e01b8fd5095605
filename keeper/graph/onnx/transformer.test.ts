/**
 * Transformer language models exported from PyTorch (issue 14, the transformer half): the two
 * byte-level LMs of scripts/models/export_transformers.py (a nanoGPT-style model and one built from
 * nn.TransformerEncoderLayer) import at opset 13 (LayerNorm decomposed) and 17 (LayerNormalization)
 * onto the integer ops — token ids an int32 input, Gather, LayerNorm, Gemm, MatMul of two
 * activations, CausalSoftmax, Transpose, Reshape, Lut (GELU) — the importer's float reading equals
 * torch's, the int8 model's next-byte argmax agrees with torch's on ≥ 90% of held-out positions,
 * and every node runs the same natively and in the VM.
 */
import { describe, expect, it } from "vitest";
import onnxPkg from "onnx-proto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { importOnnx, type ImportedModel } from "./import.ts";
import { encodeOnnx } from "./export.ts";
import { LM_FIXTURES, lmAgreement, loadLmFixture } from "./pytorch-fixtures.ts";
import { buildModel, type Model } from "../model.ts";
import { Executor } from "../executor.ts";
import { quantizeInput } from "../quant.ts";
import { nodeCheck } from "../preimages.ts";
import { OP_NAMES } from "../ops.ts";
import { DType, type Tensor } from "../tensor.ts";
import { runNodeCheckInVm } from "../../guest/node/vm.ts";

const { onnx } = onnxPkg;
const ELF = new Uint8Array(readFileSync(fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url))));

describe("transformer language models exported from PyTorch (scripts/models/export_transformers.py)", () => {
  for (const name of LM_FIXTURES) {
    it(`${name}: imports at opset 13 and 17 onto the integer ops, float = torch, int8 next-byte argmax agreement ≥ 90%, native = VM on every node`, () => {
      const fx = loadLmFixture(name);
      const imported = new Map<number, ImportedModel>();
      const models = new Map<number, Model>();
      for (const opset of [13, 17]) {
        const r = importOnnx(new Uint8Array(readFileSync(fx.files.get(opset)!)), fx.calibration, { name, report: opset === 17 });
        imported.set(opset, r);
        // the importer's float reading of the graph is torch's (the last position's logits)
        fx.calibrationFloat.forEach((row, i) => {
          const o = r.floatOutputs[i]!, off = o.length - 256;
          row.forEach((v, j) => expect(Math.abs(o[off + j]! - v), `opset ${opset} window ${i} logit ${j}`).toBeLessThan(2e-3 * (1 + Math.abs(v))));
        });
        const model = buildModel(r.spec);
        models.set(opset, model);
        expect(model.input).toEqual({ dtype: DType.int32, shape: [1, fx.context] });
        // an output above maxOutputBytes is noted in bytes: char_gpt's int32 logits at every position are 4 bytes each
        const outValues = model.output.shape.reduce((a, b) => a * b, 1), outBytes = outValues * (model.output.dtype === DType.int32 ? 4 : 1);
        const outNote = r.notes.find((n) => n.includes("OutputTooLarge"));
        if (outBytes > 4096) expect(outNote).toMatch(new RegExp(`^the output has ${outBytes} bytes \\(${outValues} int(8|32) values\\)`));
        else expect(outNote).toBeUndefined();
        const ops = model.nodes.map((n) => OP_NAMES[n.op]!);
        const count = (op: string) => ops.filter((o) => o === op).length;
        // token embedding, 2 × (2 LayerNorms, q/k/v/out/up/down Gemms, 2 MatMuls, a CausalSoftmax,
        // a GELU table), the final LayerNorm and the tied head
        expect(count("Gather"), ops.join(" ")).toBe(1);
        expect(count("LayerNorm")).toBe(5);
        expect(count("MatMul")).toBe(4);
        expect(count("CausalSoftmax")).toBe(2);
        expect(count("Lut")).toBe(2);
        expect(count("Gemm")).toBe(13);
        expect(ops.filter((o) => !["Gather", "Add", "LayerNorm", "Gemm", "MatMul", "CausalSoftmax", "Lut", "Reshape", "Transpose", "Slice"].includes(o))).toEqual([]);
      }
      // LayerNormalization (17) and its decomposition (13) import to the same integer model, bit for bit
      expect(models.get(13)!.nodes.map((n) => n.op)).toEqual(models.get(17)!.nodes.map((n) => n.op));
      expect(Buffer.from(models.get(13)!.modelRoot).toString("hex")).toBe(Buffer.from(models.get(17)!.modelRoot).toString("hex"));
      // so one held-out measurement covers both opsets
      const { agreement } = lmAgreement(models.get(17)!, fx);
      expect(agreement, "held-out agreement").toBeGreaterThanOrEqual(0.9);
      const r = imported.get(17)!;
      // the import report (vs the importer's float reading, on the 64 calibration windows: for encoder_lm
      // 64 predictions, near-ties within one int8 logit step decide the misses) — a smoke check
      expect(r.report!.agreement).toBeGreaterThanOrEqual(0.8);
      expect(r.report!.worst).toBeDefined();
      // the tied head shares the embedding's weight slot
      const model = models.get(17)!;
      const gather = model.nodes.find((n) => OP_NAMES[n.op] === "Gather")!;
      expect(model.nodes.at(-1)!.inputs.includes(gather.inputs[0]!) || model.nodes.some((n) => OP_NAMES[n.op] === "Gemm" && n.inputs[1] === gather.inputs[0])).toBe(true);

      // every node natively and through the guest program in the VM, on one held-out window
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

  it("Hugging Face GPT-2's way of writing attention (addmm, permute, where(mask, w, finfo.min), a dynamic batch) imports; the head runs on the last row only", () => {
    const j = JSON.parse(readFileSync(new URL("./fixtures/gpt2_style.json", import.meta.url), "utf8")) as { files: string[]; calibration: number[][]; calibrationFloat: number[][] };
    for (const f of j.files) {
      const r = importOnnx(new Uint8Array(readFileSync(new URL(`./fixtures/${f}`, import.meta.url))), j.calibration);
      expect(r.notes.join("\n")).toMatch(/batch axis is dynamic \(batch\); fixed to 1/);
      r.floatOutputs.forEach((o, i) => o.forEach((v, k) => expect(Math.abs(v - j.calibrationFloat[i]![k]!)).toBeLessThan(2e-3 * (1 + Math.abs(v)))));
      const model = buildModel(r.spec);
      const ops = model.nodes.map((n) => OP_NAMES[n.op]);
      expect(ops.filter((o) => o === "Gemm")).toHaveLength(7); // q, k, v (the addmm split), out, fc, proj, head
      expect(ops.filter((o) => o === "CausalSoftmax")).toHaveLength(1);
      // x[:, -1] moved above the final LayerNorm and into the head's rows
      expect(OP_NAMES[model.nodes.at(-1)!.op]).toBe("Gemm");
      expect(model.nodes.at(-1)!.outShape).toEqual([1, 256]);
      const lnF = model.nodes.filter((n) => OP_NAMES[n.op] === "LayerNorm").at(-1)!;
      expect(lnF.outShape).toEqual([1, 1, 64]);
      const input = quantizeInput(model, j.calibration[0]!);
      const res = new Executor(model).run(input);
      for (let k = 1; k <= model.nodes.length; k++) expect(runNodeCheckInVm(ELF, nodeCheck(model, input, res.nodeOutputs, k)).exitCode, `node ${k}`).toBe(0);
    }
  });

  it("greedy decoding inside the model (logits.argmax(-1)) is the ArgMax op: int32 next-token ids, native = VM", () => {
    const fx = loadLmFixture("encoder_lm");
    const m = onnx.ModelProto.decode(new Uint8Array(readFileSync(fx.files.get(17)!)));
    const T = onnx.TensorProto.DataType, A = onnx.AttributeProto.AttributeType;
    m.graph!.node!.push(onnx.NodeProto.create({ opType: "ArgMax", input: ["logits"], output: ["next"], name: "/ArgMax", attribute: [{ name: "axis", i: -1, type: A.INT }, { name: "keepdims", i: 0, type: A.INT }] }));
    m.graph!.output = [onnx.ValueInfoProto.create({ name: "next", type: { tensorType: { elemType: T.INT64, shape: { dim: [{ dimValue: 1 }] } } } })];
    const r = importOnnx(onnx.ModelProto.encode(m).finish(), fx.calibration);
    const model = buildModel(r.spec);
    // keepdims=0: the [1, 1] indices reshaped to [1]
    expect(model.nodes.slice(-3).map((n) => OP_NAMES[n.op])).toEqual(["Gemm", "ArgMax", "Reshape"]);
    expect(model.nodes.at(-1)!.outDtype).toBe(DType.int32);
    expect(model.nodes.at(-1)!.outShape).toEqual([1]);
    expect(lmAgreement(model, fx).agreement).toBeGreaterThanOrEqual(0.9);
    expect(r.report!.agreement).toBeGreaterThanOrEqual(0.8);
    const input = quantizeInput(model, fx.heldout[1]!);
    const res = new Executor(model).run(input);
    for (const k of [model.nodes.length - 1, model.nodes.length]) expect(runNodeCheckInVm(ELF, nodeCheck(model, input, res.nodeOutputs, k)).exitCode).toBe(0);
    expect(Array.from(res.output.data)).toEqual([fx.heldoutArgmax[1]]);
  });

  it("a LayerNorm written out by hand (mean, var, torch.rsqrt) is the LayerNorm op", () => {
    // y = (x − mean) · rsqrt(mean((x − mean)²) + eps) · γ + β on [1, 4, 8], after a Linear
    const D = 8;
    const w = Array.from({ length: D * D }, (_, i) => Math.sin(i * 1.7) * 0.5);
    const gamma = Array.from({ length: D }, (_, i) => 1 + 0.1 * i), beta = Array.from({ length: D }, (_, i) => 0.05 * i - 0.2);
    const g = encodeOnnx({
      input: { name: "x", shape: [1, 4, D] },
      output: { name: "y", shape: [1, 4, D] },
      initializers: [
        { name: "w", shape: [D, D], data: w }, { name: "two", shape: [], data: [2] }, { name: "eps", shape: [], data: [1e-5] },
        { name: "one", shape: [], data: [1] }, { name: "gamma", shape: [D], data: gamma }, { name: "beta", shape: [D], data: beta },
      ],
      nodes: [
        { op: "MatMul", inputs: ["x", "w"], outputs: ["h"] },
        { op: "ReduceMean", inputs: ["h"], outputs: ["m"], ints: { axes: [-1] } },
        { op: "Sub", inputs: ["h", "m"], outputs: ["c"] },
        { op: "Mul", inputs: ["c", "c"], outputs: ["c2"] },
        { op: "ReduceMean", inputs: ["c2"], outputs: ["v"], ints: { axes: [-1] } },
        { op: "Add", inputs: ["v", "eps"], outputs: ["ve"] },
        { op: "Sqrt", inputs: ["ve"], outputs: ["sd"] },
        { op: "Div", inputs: ["one", "sd"], outputs: ["inv"] },
        { op: "Mul", inputs: ["inv", "c"], outputs: ["n"] },
        { op: "Mul", inputs: ["n", "gamma"], outputs: ["ng"] },
        { op: "Add", inputs: ["ng", "beta"], outputs: ["y"] },
      ],
    });
    const calib = Array.from({ length: 20 }, (_, k) => Array.from({ length: 4 * D }, (_, i) => Math.cos(i * 0.37 + k) * (1 + (i % 3))));
    const r = importOnnx(g, calib);
    expect(buildModel(r.spec).nodes.map((nd) => OP_NAMES[nd.op])).toEqual(["Reshape", "Gemm", "Reshape", "LayerNorm"]);
    // the float reading: row 0 of sample 0 by hand
    const x = calib[0]!.slice(0, D), h = Array.from({ length: D }, (_, j) => x.reduce((a, v, k) => a + v * w[k * D + j]!, 0));
    const mean = h.reduce((a, v) => a + v, 0) / D, vr = h.reduce((a, v) => a + (v - mean) ** 2, 0) / D;
    h.forEach((v, j) => expect(r.floatOutputs[0]![j]!).toBeCloseTo(((v - mean) / Math.sqrt(vr + 1e-5)) * gamma[j]! + beta[j]!, 5)); // float32 initializers
    expect(r.report!.nodes.at(-1)!.relError).toBeLessThan(0.03);
  });

  it("token ids stay integers; a non-causal mask is refused, a causal one built in forward (Trilu, Equal, Where) is CausalSoftmax", () => {
    const fx = loadLmFixture("encoder_lm");
    const bytes = new Uint8Array(readFileSync(fx.files.get(17)!));
    const bad = fx.calibration.slice(0, 2).map((w) => w.slice());
    bad[1]![3] = 0.5;
    expect(() => importOnnx(bytes, bad, { report: false })).toThrow(/calibration sample 1: the model takes integer token ids/);
    const ids = { name: "t", shape: [1, 4], int64: true };
    const table = { name: "wte", shape: [8, 2], data: Array.from({ length: 16 }, (_, i) => i / 16) };
    const calib = [[0, 1, 2, 3]];
    expect(() => importOnnx(encodeOnnx({ input: ids, output: { name: "y", shape: [1, 4] }, initializers: [], nodes: [{ op: "Relu", inputs: ["t"], outputs: ["y"], name: "r" }] }), calib)).toThrow(
      /reads the integer tensor t \(token ids\); integer inputs may only feed an embedding/,
    );
    // an embedding, then a mask that is not causal: refused with what is supported
    const mask = { name: "m", shape: [4, 4], data: Array.from({ length: 16 }, (_, i) => (i % 4 === 0 ? 0 : -Infinity)) };
    const att = encodeOnnx({
      input: ids,
      output: { name: "y", shape: [1, 4, 4] },
      initializers: [table, mask],
      nodes: [
        { op: "Gather", inputs: ["wte", "t"], outputs: ["e"] },
        { op: "Transpose", inputs: ["e"], outputs: ["et"], ints: { perm: [0, 2, 1] } },
        { op: "MatMul", inputs: ["e", "et"], outputs: ["s"] },
        { op: "Add", inputs: ["s", "m"], outputs: ["sm"], name: "mask" },
        { op: "Softmax", inputs: ["sm"], outputs: ["y"], int: { axis: -1 } },
      ],
    });
    expect(() => importOnnx(att, calib)).toThrow(/Add node mask: an additive attention mask must be causal/);
    // a LayerNorm over the last two axes, a MatMul that broadcasts, Where as a general select: named and explained
    const x3 = { name: "x", shape: [1, 4, 8] }, c3 = Array.from({ length: 20 }, (_, k) => Array.from({ length: 32 }, (_, i) => Math.sin(i + k)));
    const ln2 = encodeOnnx({
      input: x3, output: { name: "y", shape: [1, 4, 8] }, initializers: [],
      nodes: [{ op: "ReduceMean", inputs: ["x"], outputs: ["m"], ints: { axes: [-2, -1] }, name: "mean" }, { op: "Sub", inputs: ["x", "m"], outputs: ["y"] }],
    });
    expect(() => importOnnx(ln2, c3)).toThrow(/ReduceMean node mean: a LayerNorm over axes \[1,2\] is not supported; only over the last axis/);
    const sel = encodeOnnx({
      input: x3, output: { name: "y", shape: [1, 4, 8] }, initializers: [{ name: "c", shape: [8], data: [1, 0, 1, 0, 1, 0, 1, 0] }, { name: "z", shape: [], data: [0] }],
      nodes: [{ op: "Cast", inputs: ["c"], outputs: ["cb"], int: { to: 9 } }, { op: "Where", inputs: ["cb", "x", "z"], outputs: ["y"], name: "sel" }],
    });
    expect(() => importOnnx(sel, c3)).toThrow(/Where node sel: Where on activations is supported only as a causal attention mask/);
    // the same scores with a causal mask built in forward (torch.tril(torch.ones(T, T)) == 0, masked_fill): CausalSoftmax
    const causalAtt = encodeOnnx({
      input: ids,
      output: { name: "y", shape: [1, 4, 4] },
      initializers: [table, { name: "ones", shape: [4, 4], data: new Array<number>(16).fill(1) }, { name: "zero", shape: [], data: [0] }, { name: "ninf", shape: [], data: [-Infinity] }],
      nodes: [
        { op: "Gather", inputs: ["wte", "t"], outputs: ["e"] },
        { op: "Transpose", inputs: ["e"], outputs: ["et"], ints: { perm: [0, 2, 1] } },
        { op: "MatMul", inputs: ["e", "et"], outputs: ["s"] },
        { op: "Trilu", inputs: ["ones"], outputs: ["tril"], int: { upper: 0 } },
        { op: "Equal", inputs: ["tril", "zero"], outputs: ["masked"] },
        { op: "Where", inputs: ["masked", "ninf", "s"], outputs: ["sm"] },
        { op: "Softmax", inputs: ["sm"], outputs: ["y"], int: { axis: -1 } },
      ],
    });
    const ok = importOnnx(causalAtt, [[0, 1, 2, 3], [7, 6, 5, 4], [3, 3, 1, 0]]);
    expect(buildModel(ok.spec).nodes.map((nd) => OP_NAMES[nd.op])).toEqual(["Gather", "Transpose", "MatMul", "CausalSoftmax"]);
    // row 0 attends to key 0 only
    expect(Array.from(ok.floatOutputs[0]!.subarray(0, 4))).toEqual([1, 0, 0, 0]);
    expect(ok.report!.nodes.at(-1)!.relError).toBeLessThan(0.05);
  });
});

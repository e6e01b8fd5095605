/**
 * The PyTorch-exported ONNX fixtures (keeper/graph/onnx/fixtures, made by
 * scripts/models/export_fixtures.py): ONNX files at opset 13 and 17, calibration and held-out
 * inputs, and the float outputs torch computed for them. MNIST inputs are named by index into
 * the split of ../train/mnist-data.ts; the others are stored inline.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../train/mnist-data.ts";
import { Executor } from "../executor.ts";
import { quantizeInput } from "../quant.ts";
import type { Model } from "../model.ts";

export const FIXTURE_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const PYTORCH_FIXTURES = ["mnist_net", "bn_gap_cnn", "avgpool_cnn", "avgpool_exclude_cnn", "concat_cnn", "tabular_mlp", "activations_mlp", "conv1d"] as const;
export type FixtureName = (typeof PYTORCH_FIXTURES)[number];

type Inputs = number[][] | { split: "train" | "test"; indices: number[] };

interface FixtureJson {
  name: string;
  note: string;
  files: string[];
  inputShape: number[];
  floatAccuracy: number;
  heldoutLabels: number[];
  heldoutFloat: number[][];
  calibrationFloat: number[][];
  data: "mnist" | "inline";
  calibration: Inputs;
  heldout: Inputs;
}

export interface PytorchFixture {
  name: string;
  note: string;
  /** opset → path of the .onnx file */
  files: Map<number, string>;
  inputShape: number[];
  floatAccuracy: number;
  calibration: number[][];
  calibrationFloat: number[][];
  heldout: number[][];
  heldoutFloat: number[][];
  heldoutLabels: number[];
}

function inputs(x: Inputs): number[][] {
  if (Array.isArray(x)) return x;
  const split = loadMnist()[x.split];
  return x.indices.map((i) => Array.from(split[i]!.pixels));
}

export function loadFixture(name: FixtureName): PytorchFixture {
  const j = JSON.parse(readFileSync(`${FIXTURE_DIR}${name}.json`, "utf8")) as FixtureJson;
  return {
    name: j.name,
    note: j.note,
    files: new Map(j.files.map((f) => [Number(/opset(\d+)/.exec(f)![1]), `${FIXTURE_DIR}${f}`])),
    inputShape: j.inputShape,
    floatAccuracy: j.floatAccuracy,
    calibration: inputs(j.calibration),
    calibrationFloat: j.calibrationFloat,
    heldout: inputs(j.heldout),
    heldoutFloat: j.heldoutFloat,
    heldoutLabels: j.heldoutLabels,
  };
}

/** The transformer language models of scripts/models/export_transformers.py (byte-level, token-id inputs). */
export const LM_FIXTURES = ["char_gpt", "encoder_lm"] as const;
export type LmFixtureName = (typeof LM_FIXTURES)[number];

export interface LmFixture {
  name: string;
  note: string;
  corpus: string;
  /** opset → path of the .onnx file */
  files: Map<number, string>;
  context: number;
  params: number;
  /** [T, 256] (logits at every position) or [256] (the last position) */
  outputShape: number[];
  heldoutLoss: number;
  heldoutAccuracy: number;
  /** windows of `context` token ids (bytes) */
  calibration: number[][];
  heldout: number[][];
  /** per held-out window, the next byte after each position */
  heldoutNext: number[][];
  /** torch's argmax per held-out window: per position ([T]) or of the last position (a number) */
  heldoutArgmax: (number[] | number)[];
  /** torch's logits at the last position for the first 8 calibration windows */
  calibrationFloat: number[][];
}

export function loadLmFixture(name: LmFixtureName): LmFixture {
  const j = JSON.parse(readFileSync(`${FIXTURE_DIR}${name}.json`, "utf8")) as Omit<LmFixture, "files"> & { files: string[] };
  return { ...j, files: new Map(j.files.map((f) => [Number(/opset(\d+)/.exec(f)![1]), `${FIXTURE_DIR}${f}`])) };
}

const argmaxOf = (v: ArrayLike<number>, from: number, len: number) => {
  let b = from;
  for (let i = from + 1; i < from + len; i++) if (v[i]! > v[b]!) b = i;
  return b - from;
};

/** int8 next-byte argmax vs torch's on the held-out windows (every position, or the last one). */
export function lmAgreement(model: Model, fx: LmFixture): { agreement: number; predictions: number; int8Accuracy: number } {
  const exec = new Executor(model);
  let agree = 0, n = 0, correct = 0;
  fx.heldout.forEach((w, i) => {
    const out = exec.infer(quantizeInput(model, w)).data;
    const ref = fx.heldoutArgmax[i]!;
    const refs = Array.isArray(ref) ? ref : [ref];
    const next = Array.isArray(ref) ? fx.heldoutNext[i]! : [fx.heldoutNext[i]!.at(-1)!];
    refs.forEach((r, p) => {
      // logits (256 per position), or the model's own ArgMax (one index per position)
      const a = out.length === refs.length ? out[p]! : argmaxOf(out, p * 256, 256);
      if (a === r) agree++;
      if (a === next[p]) correct++;
      n++;
    });
  });
  return { agreement: agree / n, predictions: n, int8Accuracy: correct / n };
}


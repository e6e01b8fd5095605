/**
 * The PyTorch-exported ONNX fixtures (keeper/graph/onnx/fixtures, made by
 * scripts/models/export_fixtures.py): ONNX files at opset 13 and 17, calibration and held-out
 * inputs, and the float outputs torch computed for them. MNIST inputs are named by index into
 * the split of ../train/mnist-data.ts; the others are stored inline.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../train/mnist-data.ts";

export const FIXTURE_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const PYTORCH_FIXTURES = ["mnist_net", "bn_gap_cnn", "avgpool_cnn", "tabular_mlp", "activations_mlp", "conv1d"] as const;
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

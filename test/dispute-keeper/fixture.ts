/** The shipped MNIST model, one test digit, its native run and the guest ELF (loaded once per file). */
import { readFileSync } from "node:fs";
import { decodeModelFile, Executor, quantizeInput, type Model, type RunResult, type Tensor } from "../../keeper/graph/index.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";

export interface MnistFixture {
  model: Model;
  input: Tensor;
  run: RunResult;
  elf: Uint8Array;
}

let cached: MnistFixture | undefined;

export function mnistFixture(): MnistFixture {
  if (cached === undefined) {
    const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url))));
    const sample = loadMnist().test[7]!;
    const input = quantizeInput(model, Array.from(sample.pixels));
    const run = new Executor(model).run(input);
    const elf = new Uint8Array(readFileSync(new URL("../../keeper/guest/build/oao_node.elf", import.meta.url)));
    cached = { model, input, run, elf };
  }
  return cached;
}

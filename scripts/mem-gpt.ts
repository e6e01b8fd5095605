/**
 * Peak memory of loading a model for execution (`npm run bench:gpt-mem -- [--model DIR] [--copy]`,
 * under `/usr/bin/time -v` for the peak RSS): the synthetic GPT-2 small (`npm run model:gpt` first)
 * loaded through the keeper's loader (keeper/src/service/models.ts, the file read into kernel
 * memory, weights used in place) and one token inferred. `--copy` takes the former path instead
 * (file read into a Buffer, decoded, then copied into the executor's kernel memory) for comparison.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeModelFile } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { int32Tensor } from "../keeper/graph/tensor.ts";
import { loadModel } from "../keeper/src/service/models.ts";

const args = process.argv.slice(2);
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const at = args.indexOf("--model");
const file = join(resolve(at >= 0 ? args[at + 1]! : join(repo, ".oao", "models", "gpt2-small")), "model.oao");
const copy = args.includes("--copy");
const mb = (x: number) => Math.round(x / 2 ** 20);

const { model, executor } = copy
  ? (() => {
      const m = decodeModelFile(new Uint8Array(readFileSync(file)));
      return { model: m, executor: new Executor(m) };
    })()
  : loadModel(file);
const T = model.input.shape[0]!;
const prompt = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % 50257));
const token = executor.infer(prompt).data[0];
console.log(JSON.stringify({ path: copy ? "copy" : "in-place", token, kernelMemoryMB: mb(executor.memoryBytes), rssMB: mb(process.memoryUsage().rss) }));

/**
 * A worker thread of kernel-paths.test.ts's thread-pool test: runs the GPT-2-shaped decoder of `workerData.config`
 * through an Executor on the native kernels `workerData.runs` times while other threads do the same, and posts
 * each run's traceRoot. Not used by the keeper.
 */
import { parentPort, workerData } from "node:worker_threads";
import { buildGpt, type GptConfig } from "./gpt/gpt.ts";
import { buildModel } from "./model.ts";
import { Executor } from "./executor.ts";
import { toHex } from "./hash.ts";
import { int32Tensor } from "./tensor.ts";

const { config, runs } = workerData as { config: GptConfig; runs: number };
const model = buildModel(buildGpt(config));
const prompt = int32Tensor([config.seqLen], Array.from({ length: config.seqLen }, (_, i) => (i * 37 + 11) % config.vocab));
const exec = new Executor(model, undefined, { kernels: "native" });
const roots: string[] = [];
for (let r = 0; r < runs; r++) roots.push(toHex(exec.run(prompt).trace.traceRoot));
parentPort!.postMessage(roots);

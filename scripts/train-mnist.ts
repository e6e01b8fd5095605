/**
 * Trains, quantizes and writes the shipped MNIST model (keeper/models/mnist/model.oao).
 * Deterministic: the same seed and data give the same file. Usage: npx tsx scripts/train-mnist.ts [OUT_DIR]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeModelFile } from "../keeper/graph/model.ts";
import { toHex, keccak } from "../keeper/graph/hash.ts";
import { trainMnistModel, evaluateInt8 } from "../keeper/graph/train/mnist.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";

const outDir = process.argv[2] ?? new URL("../keeper/models/mnist/", import.meta.url).pathname;
const t0 = performance.now();
const { model, floatAccuracy } = trainMnistModel((m) => console.error(m));
const accuracy = evaluateInt8(model, loadMnist().test);
const file = encodeModelFile(model);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "model.oao"), file);
console.error(`trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(JSON.stringify({ modelRoot: toHex(model.modelRoot), fileHash: toHex(keccak(file)), bytes: file.length, floatAccuracy, accuracy }));

/**
 * keeper/models/text_lm/model.oao is what `oao model import text_lm.onnx --calibration
 * calibration.json --name text_lm --wide` (default --clip-percentile 99.99) writes: the committed ONNX and
 * calibration windows rebuild it byte for byte (so the quantized file needs no torch to be trusted), and
 * generate.oao (the same command with `--generate 64`) is the generation transform of that import.
 * Slow-ish (the import reads the graph in float over 64 windows of 128 tokens): its own file.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { importOnnx } from "./import.ts";
import { generationSpec } from "./generate.ts";
import { buildModel, encodeModelFile } from "../model.ts";
import { keccak, toHex } from "../hash.ts";

const DIR = new URL("../../models/text_lm/", import.meta.url);

describe("the committed text language model rebuilds from its ONNX and calibration", () => {
  it("importOnnx(text_lm.onnx, calibration.json) encodes to the committed model.oao byte for byte, its generation graph (T = 64) to generate.oao", () => {
    const calibration = JSON.parse(readFileSync(new URL("calibration.json", DIR), "utf8")) as number[][];
    expect(calibration).toHaveLength(64);
    const { spec } = importOnnx(new Uint8Array(readFileSync(new URL("text_lm.onnx", DIR))), calibration, { name: "text_lm", clipPercentile: 99.99, report: false, wide: true });
    const rebuilt = encodeModelFile(buildModel(spec));
    const committed = new Uint8Array(readFileSync(new URL("model.oao", DIR)));
    expect(toHex(keccak(rebuilt))).toBe(toHex(keccak(committed)));
    const generation = encodeModelFile(buildModel(generationSpec(spec, 64).spec));
    expect(toHex(keccak(generation))).toBe(toHex(keccak(new Uint8Array(readFileSync(new URL("generate.oao", DIR))))));
  });
});

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { decodeModelFile, encodeModelFile } from "../model.ts";
import { keccak, toHex } from "../hash.ts";
import { loadMnist } from "./mnist-data.ts";
import { evaluateInt8, trainMnistModel } from "./mnist.ts";

const shipped = new Uint8Array(readFileSync(new URL("../../models/mnist/model.oao", import.meta.url)));

describe("the shipped MNIST model", () => {
  it("int8 accuracy on held-out digits >= 95% and within one point of the float model", () => {
    const model = decodeModelFile(shipped);
    const { test } = loadMnist();
    expect(test.length).toBeGreaterThan(1900);
    const accuracy = evaluateInt8(model, test);
    const floatAccuracy = (model.metadata.training as { floatAccuracy: number }).floatAccuracy;
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(accuracy - floatAccuracy)).toBeLessThanOrEqual(0.01);
  });

  it("retraining from the recipe reproduces the shipped file byte for byte", () => {
    const { model } = trainMnistModel();
    expect(toHex(keccak(encodeModelFile(model)))).toBe(toHex(keccak(shipped)));
  });
});

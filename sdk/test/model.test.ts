/**
 * The SDK's browser-safe model-file reader against the keeper's encoder and the shipped MNIST model
 * (docs/protocol.md §3.3, §3.7): same descriptor, same commitments, and every framing error named.
 */
import { readFileSync } from "node:fs";
import { type Hex, bytesToHex, keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { decodeDescriptor, decodeModelFile } from "../../keeper/graph/model.ts";
import { InvalidModelFileError, decodeModelDescriptor, modelDescriptorFromFile } from "../src/index.ts";
import { syntheticDescriptor } from "../../test/utils/claims.ts";

const mnistFile = new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url)));

describe("model files and descriptors", () => {
  it("extracts the MNIST model's descriptor exactly as the keeper's loader does", () => {
    const model = decodeModelFile(mnistFile);
    const descriptor = modelDescriptorFromFile(mnistFile);
    expect(descriptor).toBe(bytesToHex(model.descriptor));
    expect(modelDescriptorFromFile(bytesToHex(mnistFile))).toBe(descriptor);
    const keeper = decodeDescriptor(model.descriptor);
    const sdk = decodeModelDescriptor(descriptor);
    expect(sdk).toEqual({
      modelRoot: keccak256(model.descriptor),
      nodeCount: keeper.nodeCount,
      weightCount: keeper.weightCount,
      graphRoot: bytesToHex(keeper.graphRoot),
      weightsRoot: bytesToHex(keeper.weightsRoot),
      metadataHash: bytesToHex(keeper.metadataHash),
      inputHeader: bytesToHex(keeper.inputHeader),
      outputHeader: bytesToHex(keeper.outputHeader),
      inputMode: "fixed",
    });
    expect(sdk.nodeCount).toBeGreaterThan(1);
  });

  it("refuses a file whose integrity hash does not match (one flipped byte)", () => {
    const tampered = mnistFile.slice();
    tampered[200] = tampered[200]! ^ 1;
    expect(() => modelDescriptorFromFile(tampered)).toThrowError(/integrity hash/);
    expect(() => modelDescriptorFromFile(tampered)).toThrowError(InvalidModelFileError);
  });

  it("refuses what is not a model file", () => {
    expect(() => modelDescriptorFromFile(new Uint8Array(64))).toThrowError(/OAOMODEL/);
    expect(() => modelDescriptorFromFile(new Uint8Array(8))).toThrowError(/too short/);
    expect(() => modelDescriptorFromFile("0x123" as Hex)).toThrowError(/even-length/);
  });

  it("decodes a synthetic descriptor and names each framing error", () => {
    const d = syntheticDescriptor({ nodeCount: 6, inputBytes: 5, outputBytes: 1 });
    expect(decodeModelDescriptor(d)).toMatchObject({ nodeCount: 6, weightCount: 0, inputHeader: "0x010100000005", outputHeader: "0x010100000001" });
    expect(() => decodeModelDescriptor(`${d}00` as Hex)).toThrowError(/headers \(and version 1\) make it/);
    expect(() => decodeModelDescriptor(`0x4f414f4e${d.slice(10)}` as Hex)).toThrowError(/magic/);
    expect(() => decodeModelDescriptor(`${d.slice(0, 10)}00000003${d.slice(18)}` as Hex)).toThrowError(/version 3 is not 1 or 2/);
    // version 2: the same layout and one trailing inputMode byte
    const v2 = `${d.slice(0, 10)}00000002${d.slice(18)}`;
    expect(() => decodeModelDescriptor(v2 as Hex)).toThrowError(/and version 2\) make it/);
    expect(decodeModelDescriptor(`${v2}01` as Hex)).toMatchObject({ nodeCount: 6, inputMode: "text", inputHeader: "0x010100000005" });
    expect(decodeModelDescriptor(`${v2}00` as Hex).inputMode).toBe("fixed");
    expect(decodeModelDescriptor(d).inputMode).toBe("fixed");
    expect(() => decodeModelDescriptor(`${v2}02` as Hex)).toThrowError(/inputMode 2 is not 0 \(fixed\) or 1 \(text\)/);
    expect(() => decodeModelDescriptor(`${d.slice(0, 18)}00000000${d.slice(26)}` as Hex)).toThrowError(/node count is 0/);
    expect(() => decodeModelDescriptor(d.slice(0, 100) as Hex)).toThrowError(/too short/);
  });
});

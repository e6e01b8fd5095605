import { encodeAbiParameters, keccak256 as viemKeccak } from "viem";
import { describe, expect, it } from "vitest";
import { toHex } from "./hex.ts";
import { MapPreimageSource, framePreimage, keccakKey, localKey, localizeKey, preimagePart } from "./preimage.ts";

describe("preimage keys and parts (§4.5)", () => {
  it("builds keccak and local keys", () => {
    const data = new TextEncoder().encode("model weights");
    const key = keccakKey(data);
    expect(key[0]).toBe(2);
    expect(toHex(key).slice(4)).toBe(viemKeccak(data).slice(4));
    expect(toHex(localKey(3))).toBe(`0x01${"00".repeat(30)}03`);
  });

  it("localizes local keys as keccak256(abi.encode(key, caller, localContext)) with byte 0 = 1", () => {
    const caller = "0x1234567890abcdef1234567890abcdef12345678" as const;
    const localContext = `0x${"ab".repeat(32)}` as const;
    const key = localKey(1);
    const expected = viemKeccak(
      encodeAbiParameters([{ type: "bytes32" }, { type: "address" }, { type: "bytes32" }], [toHex(key), caller, localContext]),
    );
    expect(toHex(localizeKey(key, { caller, localContext }))).toBe(`0x01${expected.slice(4)}`);
    const kk = keccakKey(new Uint8Array([1]));
    expect(toHex(localizeKey(kk, { caller, localContext }))).toBe(toHex(kk));
  });

  it("serves framed parts with their lengths and refuses offsets past the end", () => {
    const framed = framePreimage(new Uint8Array(40).fill(9));
    expect(framed.length).toBe(48);
    expect(Array.from(framed.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 40]);
    expect(preimagePart(framed, localKey(1), 0).partLen).toBe(32);
    const tail = preimagePart(framed, localKey(1), 40);
    expect(tail.partLen).toBe(8);
    expect(Array.from(tail.part.subarray(8))).toEqual(new Array(24).fill(0));
    expect(preimagePart(framed, localKey(1), 48).partLen).toBe(0);
    expect(() => preimagePart(framed, localKey(1), 49)).toThrow(/PartOffsetOOB/);
  });

  it("checks data on the way into a source", () => {
    const source = new MapPreimageSource();
    expect(() => source.set(keccakKey(new Uint8Array([1])), new Uint8Array([2]))).toThrow(/does not hash/);
    expect(() => source.setLocal(1, new Uint8Array(33))).toThrow(/more than 32/);
    expect(() => source.addKeccak(new Uint8Array(32769))).toThrow(/more than 32768/);
    expect(() => source.getPreimage(localKey(9))).toThrow(/PreimageNotFound/);
  });
});

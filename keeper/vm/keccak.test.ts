import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { toHex } from "./hex.ts";
import { bytesToWords, hashPair, keccak256, wordsToBytes } from "./keccak.ts";
import { Rng } from "./test-helpers.ts";

describe("keccak", () => {
  it("matches the published keccak256 vectors", () => {
    expect(toHex(keccak256(new Uint8Array(0)))).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(toHex(keccak256(new TextEncoder().encode("abc")))).toBe(
      "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    );
  });

  it("hashPair equals keccak256 of the 64 bytes, for random words, in place too", () => {
    const rng = new Rng(99);
    for (let i = 0; i < 500; i++) {
      const words = Int32Array.from({ length: 16 }, () => rng.next() | 0);
      const out = new Int32Array(8);
      hashPair(out, 0, words, 0, words, 8);
      expect(toHex(wordsToBytes(out))).toBe(toHex(keccak_256(wordsToBytes(words))));
      hashPair(words, 0, words, 0, words, 8); // aliasing the output with the left input
      expect(Array.from(words.subarray(0, 8))).toEqual(Array.from(out));
    }
  });

  it("converts between words and bytes big-endian", () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc]);
    const words = bytesToWords(bytes);
    expect(Array.from(words, (w) => w >>> 0)).toEqual([0x01020304, 0xfffefdfc]);
    expect(wordsToBytes(words)).toEqual(bytes);
  });
});

import { describe, expect, it } from "vitest";
import { keccak256 } from "viem";
import { concatBytes, keccak, keccakStream, toHex } from "./hash.ts";
import { seededRandom } from "./fixtures.ts";

describe("keccak256 (the kernels' C keccak in wasm)", () => {
  it("one-shot and streamed hashes equal viem's keccak256, across the streaming window", () => {
    const rand = seededRandom(3);
    for (const len of [0, 1, 135, 136, 137, 1000, 136 * 7710 - 1, 136 * 7710, 136 * 7710 + 1, 2_500_000]) {
      const data = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      const want = keccak256(data);
      expect(toHex(keccak(data)), `one-shot ${len}`).toBe(want);
      const cuts = [0, Math.floor(len / 3), Math.floor(len / 3) + 1, len].sort((a, b) => a - b);
      const parts = cuts.slice(1).map((c, i) => data.subarray(cuts[i]!, c));
      expect(toHex(keccakStream(parts)), `streamed ${len}`).toBe(want);
      expect(toHex(keccak(concatBytes(...parts)))).toBe(want);
    }
  });
});

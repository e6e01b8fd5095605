import { describe, expect, it } from "vitest";
import { FINALIZE_PER_ID_OVERHEAD, FINALIZE_TX_OVERHEAD, packFinalizations } from "./finalize-batch.ts";

const due = (reserves: number[]) => reserves.map((r, j) => ({ requestId: BigInt(j + 1), reserve: BigInt(r) }));

describe("packFinalizations", () => {
  it("packs ids in order while their reserves fit the budget, and gives each transaction the gas they need", () => {
    const batches = packFinalizations(due([200_000, 200_000, 200_000, 200_000]), 500_000n, 256);
    expect(batches.map((b) => b.requestIds)).toEqual([[1n, 2n], [3n, 4n]]);
    for (const b of batches) {
      expect(b.gas).toBe(FINALIZE_TX_OVERHEAD + 2n * (200_000n + FINALIZE_PER_ID_OVERHEAD));
      expect(b.gas).toBeLessThanOrEqual(500_000n);
    }
  });

  it("an id too large for the budget gets a transaction of its own; later small ids are not held back", () => {
    const batches = packFinalizations(due([200_000, 6_000_000, 200_000]), 1_000_000n, 256);
    expect(batches.map((b) => b.requestIds)).toEqual([[1n], [2n], [3n]]);
    expect(batches[1]!.gas).toBe(FINALIZE_TX_OVERHEAD + 6_000_000n + FINALIZE_PER_ID_OVERHEAD);
  });

  it("at most maxBatch ids per transaction; nothing due: no transaction", () => {
    const batches = packFinalizations(due(Array(10).fill(200_000)), 100_000_000n, 4);
    expect(batches.map((b) => b.requestIds.length)).toEqual([4, 4, 2]);
    expect(packFinalizations([], 8_000_000n, 256)).toEqual([]);
    expect(() => packFinalizations([], 8_000_000n, 0)).toThrow(/maxBatch must be at least 1, got 0/);
  });
});

import { describe, it, expect } from "vitest";
import { narrow, roundPoints, worstCaseRounds } from "./bisection.ts";

describe("bisection rounds", () => {
  it("splits a range into w evenly spaced parts", () => {
    expect(roundPoints(0n, 16n, 2)).toEqual([4n, 8n, 12n]);
    expect(roundPoints(0n, 1n << 30n, 4).length).toBe(15);
    expect(roundPoints(3n, 5n, 4)).toEqual([4n]); // duplicates and endpoints dropped
    expect(roundPoints(0n, 6n, 1)).toEqual([3n]);
  });

  it("refuses a finished range and bad widths", () => {
    expect(() => roundPoints(4n, 5n, 2)).toThrow(/already narrowed/);
    expect(() => roundPoints(0n, 8n, 0)).toThrow(/widthBits/);
  });

  it("narrows to the first disagreement", () => {
    const points = [4n, 8n, 12n];
    expect(narrow(0n, 16n, points, ["a", "b", "c"], ["a", "x", "y"])).toEqual({ lo: 4n, hi: 8n });
    expect(narrow(0n, 16n, points, ["a", "b", "c"], ["z", "b", "c"])).toEqual({ lo: 0n, hi: 4n });
    expect(narrow(0n, 16n, points, ["a", "b", "c"], ["A", "B", "C"])).toEqual({ lo: 12n, hi: 16n });
    expect(() => narrow(0n, 16n, points, ["a"], ["a", "b", "c"])).toThrow(/needs 3 values/);
  });

  it("always reaches a one-step range, within the worst-case round count", () => {
    for (const [span, bits] of [[7n, 1], [1000n, 2], [(1n << 30n), 4], [12345n, 3]] as const) {
      // An adversary who always disagrees at the widest sub-range.
      let lo = 0n;
      let hi = span;
      let rounds = 0;
      while (hi > lo + 1n) {
        const points = roundPoints(lo, hi, bits);
        const bounds = [lo, ...points, hi];
        let widest = 0;
        for (let j = 1; j < bounds.length; j++) if (bounds[j]! - bounds[j - 1]! > bounds[widest + 1]! - bounds[widest]!) widest = j - 1;
        const d = points.map((_, j) => (j < widest ? "same" : "d"));
        const c = points.map((_, j) => (j < widest ? "same" : "c"));
        ({ lo, hi } = narrow(lo, hi, points, d, c));
        rounds++;
      }
      expect(hi).toBe(lo + 1n);
      expect(rounds).toBeLessThanOrEqual(worstCaseRounds(0n, span, bits));
    }
  });
});

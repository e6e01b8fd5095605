import { describe, expect, it } from "vitest";
import { encodePacked, keccak256, type Address } from "viem";
import { commitNotBefore, peerKey, peerRank } from "./peers.ts";

const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
const B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address;
const C = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address;

describe("peer ranking", () => {
  it("keys are keccak256(abi.encodePacked(uint256 requestId, address operator))", () => {
    expect(peerKey(7n, A)).toBe(BigInt(keccak256(encodePacked(["uint256", "address"], [7n, A]))));
    // Case of the address does not matter.
    expect(peerKey(7n, A.toLowerCase() as Address)).toBe(peerKey(7n, A));
  });

  it("every keeper computes the same order: the ranks of the operators are a permutation, for every request", () => {
    const ops = [A, B, C];
    const firsts = new Map<string, number>();
    for (let id = 1n; id <= 300n; id++) {
      const ranks = ops.map((me) => peerRank(id, me, ops));
      expect([...ranks].sort()).toEqual([0, 1, 2]);
      // The rank follows the key order.
      const byKey = [...ops].sort((x, y) => (peerKey(id, x) < peerKey(id, y) ? -1 : 1));
      expect(byKey.map((op) => peerRank(id, op, ops))).toEqual([0, 1, 2]);
      const first = ops[ranks.indexOf(0)]!;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    // The load is shared: each operator is first for a fair part of 300 requests (expected 100 each).
    for (const op of ops) expect(firsts.get(op) ?? 0).toBeGreaterThan(60);
  });

  it("self and duplicates among the peers count once; no peers: rank 0", () => {
    expect(peerRank(5n, A, [])).toBe(0);
    expect(peerRank(5n, A, [A, A.toLowerCase() as Address])).toBe(0);
    expect(peerRank(5n, A, [B, B, A])).toBe(peerRank(5n, A, [B]));
  });

  it("a keeper of rank r waits r x backoff blocks after the request's block", () => {
    expect(commitNotBefore(100n, 0, 3)).toBe(100n);
    expect(commitNotBefore(100n, 2, 3)).toBe(106n);
    expect(commitNotBefore(100n, 2, 0)).toBe(100n);
  });
});

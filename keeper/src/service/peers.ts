/**
 * Sharing the load among several honest keepers (docs/protocol.md §6.0, "Several keepers"): every keeper ranks the
 * configured operators for each request the same way — by keccak256(abi.encodePacked(uint256 requestId, address
 * operator)), lowest first — and a keeper of rank r waits r × `commitBackoffBlocks` blocks after the request's block
 * before committing, so the first in rank usually answers and the others only step in when it does not. Pure: no I/O.
 */
import { encodePacked, getAddress, keccak256, type Address } from "viem";

/** keccak256(abi.encodePacked(requestId, operator)) as a number: the operator's preference key for the request. */
export function peerKey(requestId: bigint, operator: Address): bigint {
  return BigInt(keccak256(encodePacked(["uint256", "address"], [requestId, getAddress(operator)])));
}

/**
 * The rank of `me` for `requestId` among `me` and `peers` (0 = first; duplicates and `me` among the peers count
 * once). With no peers every request is rank 0.
 */
export function peerRank(requestId: bigint, me: Address, peers: readonly Address[]): number {
  const mine = peerKey(requestId, me);
  const self = me.toLowerCase();
  const seen = new Set<string>([self]);
  let rank = 0;
  for (const peer of peers) {
    const p = peer.toLowerCase();
    if (seen.has(p)) continue;
    seen.add(p);
    const key = peerKey(requestId, peer);
    // Ties (impossible for distinct addresses in practice) break by address, so the order is total.
    if (key < mine || (key === mine && p < self)) rank++;
  }
  return rank;
}

/** First block at which a keeper of `rank` commits to a request made in `requestBlock`. */
export function commitNotBefore(requestBlock: bigint, rank: number, backoffBlocks: number): bigint {
  return requestBlock + BigInt(rank) * BigInt(backoffBlocks);
}

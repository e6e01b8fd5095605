/**
 * The chain watcher: turns a JSON-RPC endpoint into an ordered stream of confirmed events.
 *
 * It only acts on blocks buried under `confirmations` blocks, and reads logs with explicit block
 * ranges (reads pinned to a block, never "latest"). It remembers the hashes of the blocks it
 * processed; when one changes (a reorg deeper than `confirmations`), it emits `reorg` with the last
 * block still on the canonical chain and re-reads from there, so consumers must treat event
 * handling as idempotent (the keeper's store is keyed by on-chain ids, so it is).
 *
 * Events are a discriminated union (`logs | reorg`), as in Ponder's realtime sync.
 */
import type { AbiEvent, Address, Log, PublicClient } from "viem";
import { withRetry, type RetryOptions } from "./retry.ts";

export type WatcherEvent =
  | { type: "logs"; fromBlock: bigint; toBlock: bigint; logs: Log[] }
  | { type: "reorg"; commonAncestor: bigint; orphaned: bigint };

export interface ChainWatcherParams {
  publicClient: PublicClient;
  address: Address | Address[];
  events: readonly AbiEvent[];
  /** First block to read. */
  fromBlock: bigint;
  confirmations?: number;
  /** Largest block range per `eth_getLogs` call. */
  maxBlockRange?: bigint;
  /** How many processed block hashes to remember for reorg detection. */
  reorgDepth?: number;
  retry?: RetryOptions;
}

export interface ChainWatcher {
  /** Next block the watcher will read. */
  readonly cursor: bigint;
  /** Reads everything newly confirmed; returns the events in order (possibly none). */
  poll(): Promise<WatcherEvent[]>;
}

export function createChainWatcher(params: ChainWatcherParams): ChainWatcher {
  const { publicClient } = params;
  const confirmations = BigInt(params.confirmations ?? 1);
  const maxRange = params.maxBlockRange ?? 2_000n;
  const reorgDepth = params.reorgDepth ?? 64;
  let cursor = params.fromBlock;
  // block number -> hash of blocks whose logs we already emitted (the most recent `reorgDepth`).
  const seen = new Map<bigint, `0x${string}`>();

  const blockHash = async (n: bigint) =>
    (await withRetry(() => publicClient.getBlock({ blockNumber: n }), params.retry)).hash;

  async function findReorg(): Promise<WatcherEvent | undefined> {
    const last = cursor - 1n;
    const known = seen.get(last);
    if (known === undefined || (await blockHash(last)) === known) return undefined;
    // Walk down the remembered blocks to the highest one still canonical.
    const numbers = [...seen.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    let ancestor = numbers[numbers.length - 1]! - 1n;
    for (const n of numbers) {
      if ((await blockHash(n)) === seen.get(n)) {
        ancestor = n;
        break;
      }
    }
    for (const n of numbers) if (n > ancestor) seen.delete(n);
    cursor = ancestor + 1n;
    return { type: "reorg", commonAncestor: ancestor, orphaned: last - ancestor };
  }

  return {
    get cursor() {
      return cursor;
    },
    async poll() {
      const out: WatcherEvent[] = [];
      const reorg = await findReorg();
      if (reorg) out.push(reorg);
      const head = await withRetry(() => publicClient.getBlockNumber({ cacheTime: 0 }), params.retry);
      const safe = head - confirmations;
      while (cursor <= safe) {
        const to = cursor + maxRange - 1n < safe ? cursor + maxRange - 1n : safe;
        const from = cursor;
        const logs = await withRetry(
          () => publicClient.getLogs({ address: params.address, events: params.events, fromBlock: from, toBlock: to }),
          params.retry,
        );
        // Remember the hash of the range's last block: a reorg below it changes that hash too.
        seen.set(to, await blockHash(to));
        for (const log of logs) if (log.blockNumber !== null && log.blockHash) seen.set(log.blockNumber, log.blockHash);
        while (seen.size > reorgDepth) seen.delete(seen.keys().next().value!);
        out.push({ type: "logs", fromBlock: from, toBlock: to, logs: logs as Log[] });
        cursor = to + 1n;
      }
      return out;
    },
  };
}

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
 *
 * The remembered hashes can be persisted (`hashes()`, `knownHashes`), so a keeper restarted against a node with
 * another history (a deep reorg while it was down, `evm_revert`, a dev node restarted) notices it too. A reorg
 * below every remembered block is `deep`: the common ancestor then comes from `deepAncestor` (the keeper checks
 * the hashes of the blocks its stored requests came from; a matching hash proves every block below it canonical).
 * `onReorg` runs before anything is re-read and may move the re-read lower (a rollback that forgets requests
 * created earlier but touched by orphaned blocks re-reads them from their first block).
 */
import type { AbiEvent, Address, Log, PublicClient } from "viem";
import { withRetry, type RetryOptions } from "./retry.ts";

export type WatcherEvent =
  | { type: "logs"; fromBlock: bigint; toBlock: bigint; logs: Log[] }
  | { type: "reorg"; commonAncestor: bigint; orphaned: bigint; deep: boolean; rereadFrom: bigint };

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
  /** Block hashes remembered from an earlier run (`hashes()`), to detect a history change across restarts. */
  knownHashes?: ReadonlyArray<readonly [bigint, `0x${string}`]>;
  /**
   * The highest block at or below `below` known to be canonical, for a reorg deeper than every remembered block;
   * default: the block before `fromBlock` (everything is read again).
   */
  deepAncestor?: (below: bigint) => Promise<bigint>;
  /**
   * Called on a reorg before anything is re-read, with the common ancestor; returns the block to re-read from
   * (at most `commonAncestor + 1`; lower re-reads more).
   */
  onReorg?: (commonAncestor: bigint, deep: boolean) => Promise<bigint> | bigint;
}

export interface ChainWatcher {
  /** Next block the watcher will read. */
  readonly cursor: bigint;
  /** The remembered (block, hash) pairs, lowest first: persist them with the cursor. */
  hashes(): [bigint, `0x${string}`][];
  /** Reads everything newly confirmed; returns the events in order (possibly none). */
  poll(): Promise<WatcherEvent[]>;
}

export function createChainWatcher(params: ChainWatcherParams): ChainWatcher {
  const { publicClient } = params;
  const confirmations = BigInt(params.confirmations ?? 1);
  const maxRange = params.maxBlockRange ?? 2_000n;
  /** The current range per call: halved while the node refuses a range's logs as too large, then grown back. */
  let span = maxRange;
  const reorgDepth = params.reorgDepth ?? 64;
  let cursor = params.fromBlock;
  // block number -> hash of blocks whose logs we already emitted (the most recent `reorgDepth`).
  const seen = new Map<bigint, `0x${string}`>();
  for (const [n, h] of [...(params.knownHashes ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (n < cursor) seen.set(n, h);
  }
  while (seen.size > reorgDepth) seen.delete(seen.keys().next().value!);

  const blockHash = async (n: bigint) =>
    (await withRetry(() => publicClient.getBlock({ blockNumber: n }), params.retry)).hash;

  async function findReorg(head: bigint): Promise<WatcherEvent | undefined> {
    // The highest remembered block: the chain must still have it, with the same hash.
    const numbers = [...seen.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const top = numbers[0];
    if (top === undefined) return undefined;
    if (top <= head && (await blockHash(top)) === seen.get(top)) return undefined;
    // Walk down the remembered blocks to the highest one still canonical (a block above the head is not).
    let ancestor: bigint | undefined;
    for (const n of numbers) {
      if (n <= head && (await blockHash(n)) === seen.get(n)) {
        ancestor = n;
        break;
      }
    }
    const deep = ancestor === undefined;
    if (ancestor === undefined) {
      const below = numbers[numbers.length - 1]! - 1n < head ? numbers[numbers.length - 1]! - 1n : head;
      ancestor = params.deepAncestor ? await params.deepAncestor(below) : params.fromBlock - 1n;
      if (ancestor > below) ancestor = below;
    }
    for (const n of numbers) if (n > ancestor) seen.delete(n);
    let from = ancestor + 1n;
    if (params.onReorg) {
      const asked = await params.onReorg(ancestor, deep);
      if (asked < from) from = asked < 0n ? 0n : asked;
    }
    for (const n of [...seen.keys()]) if (n >= from) seen.delete(n);
    const orphaned = cursor - 1n - ancestor;
    cursor = from;
    return { type: "reorg", commonAncestor: ancestor, orphaned, deep, rereadFrom: from };
  }

  return {
    get cursor() {
      return cursor;
    },
    hashes: () => [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    async poll() {
      const out: WatcherEvent[] = [];
      const head = await withRetry(() => publicClient.getBlockNumber({ cacheTime: 0 }), params.retry);
      const reorg = await findReorg(head);
      if (reorg) out.push(reorg);
      const safe = head - confirmations;
      while (cursor <= safe) {
        const to = cursor + span - 1n < safe ? cursor + span - 1n : safe;
        const from = cursor;
        const result: Log[] | typeof TOO_LARGE = await withRetry(
          () =>
            publicClient
              .getLogs({ address: params.address, events: params.events, fromBlock: from, toBlock: to })
              .then((read) => read as Log[])
              .catch((error: unknown) => {
                if (to > from && tooLarge(error)) return TOO_LARGE;
                throw error;
              }),
          params.retry,
        );
        if (result === TOO_LARGE) {
          // The node refused the range's logs as too many (a backlog of requests): read half the range, and so on.
          span = (to - from + 1n) / 2n;
          continue;
        }
        if (span < maxRange) span = span * 2n < maxRange ? span * 2n : maxRange;
        const logs = result;
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

const TOO_LARGE = Symbol("too large");
/**
 * Whether `eth_getLogs` failed because the range holds too many logs: the HTTP transport's body limit, or a node's
 * own cap (geth/erigon "query returned more than N results", alchemy/infura "response size exceeded", "limit").
 */
function tooLarge(error: unknown): boolean {
  for (let e = error as { message?: string; details?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const text = `${e.message ?? ""} ${e.details ?? ""}`;
    if (/exceeded the size limit|query returned more than|response size (is )?exceeded|too many (logs|results)|log response size|block range too large/i.test(text)) return true;
  }
  return false;
}

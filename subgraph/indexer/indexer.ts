/**
 * Follows a chain and runs the subgraph's compiled mappings on its logs, block by block in order and
 * each block's logs in log-index order, into one in-memory store. A handler that creates a data
 * source from a template (one DisputeGame per game) gets the new source's logs of the same block
 * processed after the block's own, as graph-node does, and the batch restarts at the next block with
 * the new address in the filter, so no event of a new source is lost.
 *
 * Built for a development chain: it does not follow reorgs. It checks, every poll, that the last block
 * it indexed is still on the chain, and stops with an error naming the block when it is not (a devnet
 * restarted or reverted). A failing handler stops indexing too (graph-node fails the subgraph): its
 * block is rolled back (blocks are applied whole), and `_meta.hasIndexingErrors` becomes true.
 */
import type { Address, Hex, Log, PublicClient } from "viem";
import { HandlerError, MappingRunner, type EventBlock, type EventTransaction } from "./mapping.ts";
import type { BlockStore } from "./block-store.ts";
import type { DataSource, DataSourceKind } from "./sources.ts";

/** The pino calls the indexer makes (any pino Logger fits). */
export interface IndexerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface IndexedBlock {
  number: bigint;
  hash: Hex | null;
  timestamp: bigint | null;
}

export interface ChainIndexerParams {
  client: PublicClient;
  sources: DataSource[];
  /** Every data source kind of the build, templates included (by name). */
  kinds: Map<string, DataSourceKind>;
  store: BlockStore;
  /** What `dataSource.network()` returns. */
  network: string;
  log: IndexerLog;
  /** Wait between polls once at the head (default 250 ms). */
  pollIntervalMs?: number;
  /** Most blocks per getLogs call (default 2000). */
  maxBlockRange?: bigint;
}

export interface ChainIndexer {
  /** The last block fully indexed (before the first: the block before the earliest start block, no hash). */
  head(): IndexedBlock;
  /** The error that stopped indexing, if any. */
  failure(): Error | null;
  /** Resolves once every block up to `block` is indexed; rejects if indexing stops first. */
  synced(block: bigint): Promise<IndexedBlock>;
  /** Stops polling (the store stays readable). */
  close(): Promise<void>;
}

type RawBlock = EventBlock & { transactions: (EventTransaction | Hex)[] };

const byPosition = (a: Log, b: Log) => Number(a.blockNumber! - b.blockNumber!) || a.logIndex! - b.logIndex!;

export function createChainIndexer(p: ChainIndexerParams): ChainIndexer {
  const pollIntervalMs = p.pollIntervalMs ?? 250;
  const maxRange = p.maxBlockRange ?? 2000n;
  const runner = new MappingRunner(p.store, p.network);
  const sources: DataSource[] = [...p.sources];
  const first = sources.reduce((m, s) => (s.startBlock < m ? s.startBlock : m), sources[0]?.startBlock ?? 0n);
  let head: IndexedBlock = { number: first > 0n ? first - 1n : 0n, hash: null, timestamp: null };
  let failure: Error | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;
  const waiters: { block: bigint; resolve: (b: IndexedBlock) => void; reject: (e: Error) => void }[] = [];

  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (failure) w.reject(failure);
      else if (head.hash !== null && head.number >= w.block) w.resolve(head);
      else continue;
      waiters.splice(i, 1);
    }
  };

  const sourcesAt = (address: Address, block: bigint) =>
    sources.filter((s) => s.address.toLowerCase() === address.toLowerCase() && s.startBlock <= block);

  /** Runs `logs` (of one block, in order); returns the data sources their handlers created. */
  const runLogs = async (logs: Log[], block: RawBlock): Promise<DataSource[]> => {
    const created: DataSource[] = [];
    for (const log of logs) {
      for (const source of sourcesAt(log.address, block.number)) {
        const handler = source.kind.handlers.get(log.topics[0]!);
        if (!handler) continue; // an event the manifest does not index
        const transaction = block.transactions.find((t): t is EventTransaction => typeof t !== "string" && t.hash === log.transactionHash);
        // Fatal, not retried: handlers of this block may have run already.
        if (!transaction) throw new ReorgError(`block ${block.number} has no transaction ${log.transactionHash} of its log ${log.logIndex}: the node's block and logs disagree (a reorg?); restart the dev indexer`);
        const { created: made } = await runner.run(source.kind.wasmFile, source.address, {
          handler: handler.handler,
          event: handler.event,
          log: { address: log.address, topics: log.topics, data: log.data, logIndex: log.logIndex! },
          block,
          transaction,
        });
        for (const [template, addresses] of made) {
          const kind = p.kinds.get(template);
          if (!kind?.template) throw new HandlerError(`${handler.handler} created a data source from template ${template}, which the manifest does not define`, []);
          for (const address of addresses) {
            const source = { kind, address: address as Address, startBlock: block.number };
            sources.push(source);
            created.push(source);
          }
        }
      }
    }
    return created;
  };

  /** Once a block's handlers ran, its RPC calls are retried in place: running them again would apply its events twice. */
  const retrying = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (stopped) throw e;
        p.log.warn({ err: (e as Error).message }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, pollIntervalMs));
      }
    }
  };

  /**
   * One block: its logs, then those of the sources created in it (repeatedly); `head` moves to it. Returns
   * whether any source was created.
   */
  const indexBlock = async (number: bigint, logs: Log[]): Promise<boolean> => {
    const block = (await p.client.getBlock({ blockNumber: number, includeTransactions: true })) as unknown as RawBlock;
    p.store.clearInBlock();
    p.store.begin();
    const sourceCount = sources.length;
    let any = false;
    try {
      let created = await runLogs(logs, block);
      while (created.length > 0) {
        any = true;
        const addresses = created.map((s) => s.address);
        const more = await retrying(`getLogs of new data sources in block ${number}`, () => p.client.getLogs({ address: addresses, fromBlock: number, toBlock: number }));
        created = await runLogs(more.filter((l) => !l.removed).sort(byPosition), block);
      }
    } catch (e) {
      // The block is applied whole or not at all, its new data sources too.
      p.store.rollback();
      sources.length = sourceCount;
      throw e;
    }
    p.store.commit();
    head = { number, hash: block.hash, timestamp: block.timestamp };
    return any;
  };

  const checkStillOnChain = async () => {
    if (head.hash === null) return;
    const block = await p.client.getBlock({ blockNumber: head.number });
    if (block.hash !== head.hash) {
      throw new ReorgError(`block ${head.number} changed on the chain (indexed ${head.hash}, now ${block.hash}): the dev indexer does not follow reorgs; restart it`);
    }
  };

  const poll = async (): Promise<boolean> => {
    await checkStillOnChain();
    const chainHead = await p.client.getBlockNumber({ cacheTime: 0 });
    const from = head.hash === null ? first : head.number + 1n;
    if (from > chainHead) return false;
    let to = from + maxRange - 1n < chainHead ? from + maxRange - 1n : chainHead;
    const addresses = sources.filter((s) => s.startBlock <= to).map((s) => s.address);
    const logs = (await p.client.getLogs({ address: addresses, fromBlock: from, toBlock: to }))
      .filter((l) => !l.removed && sourcesAt(l.address, l.blockNumber!).length > 0)
      .sort(byPosition);
    const blocks = [...new Set(logs.map((l) => l.blockNumber!))];
    let events = 0;
    for (const number of blocks) {
      const inBlock = logs.filter((l) => l.blockNumber === number);
      events += inBlock.length;
      // A new data source: the rest of the range is fetched again with its address.
      if (await indexBlock(number, inBlock)) {
        to = number;
        break;
      }
    }
    if (head.number !== to || head.hash === null) {
      const end = await p.client.getBlock({ blockNumber: to });
      head = { number: to, hash: end.hash, timestamp: end.timestamp };
    }
    p.log.info({ fromBlock: from.toString(), toBlock: to.toString(), events, blocksWithEvents: blocks.filter((b) => b <= to).length, dataSources: sources.length }, "indexed blocks");
    settle();
    return to < chainHead;
  };

  const loop = async () => {
    while (!stopped) {
      let more = false;
      try {
        more = await poll();
      } catch (e) {
        if (e instanceof HandlerError || e instanceof ReorgError) {
          failure = e;
          p.log.error({ err: e.message, mappingLogs: e instanceof HandlerError ? e.logs : undefined }, "indexing stopped");
          settle();
          return;
        }
        p.log.warn({ err: (e as Error).message }, "poll failed; retrying");
      }
      if (!more && !stopped) await new Promise<void>((r) => ((wake = r), setTimeout(r, pollIntervalMs)));
    }
  };
  const running = loop();

  return {
    head: () => head,
    failure: () => failure,
    synced(block) {
      return new Promise((resolve, reject) => {
        waiters.push({ block, resolve, reject });
        settle();
      });
    },
    async close() {
      stopped = true;
      (wake as (() => void) | null)?.();
      await running;
      const closed = new Error("the dev indexer was closed");
      for (const w of waiters.splice(0)) w.reject(closed);
    },
  };
}

export class ReorgError extends Error {
  override name = "ReorgError";
}

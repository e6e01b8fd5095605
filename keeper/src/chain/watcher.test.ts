import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { parseAbiItem, toEventSelector, type Hex, type Log } from "viem";
import { createChainWatcher, type WatcherEvent } from "./watcher.ts";

const PING = parseAbiItem("event Ping(uint256 value)");
const values = (events: WatcherEvent[]) =>
  events.flatMap((e) => (e.type === "logs" ? e.logs.map((l: Log) => BigInt(l.data)) : []));

describe("chain watcher", () => {
  it("emits confirmed logs in order and re-reads after a reorg", async () => {
    const { viem, provider, networkHelpers } = await network.create();
    const publicClient = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    // A contract whose fallback emits Ping(calldata[4:36]), from raw bytecode so this test does not
    // depend on project contracts: mstore(0, calldataload(4)); log1(0, 32, topic); stop.
    const runtime = `600435600052` + `7f${toEventSelector(PING).slice(2)}` + `60206000a100`;
    const initcode = `0x60${(runtime.length / 2).toString(16).padStart(2, "0")}80600b6000396000f3${runtime}` as Hex;
    const address = (
      await publicClient.waitForTransactionReceipt({ hash: await wallet!.sendTransaction({ data: initcode }) })
    ).contractAddress!;
    const ping = async (value: number) =>
      publicClient.waitForTransactionReceipt({
        hash: await wallet!.sendTransaction({ to: address, data: `0x00000000${value.toString(16).padStart(64, "0")}` }),
      });

    const watcher = createChainWatcher({
      publicClient,
      address,
      events: [PING],
      fromBlock: await publicClient.getBlockNumber(),
      confirmations: 1,
    });
    await ping(1);
    const snapshot = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    await ping(2);
    expect(values(await watcher.poll())).toEqual([1n]); // ping(2)'s block is not confirmed yet
    await networkHelpers.mine(1);
    expect(values(await watcher.poll())).toEqual([2n]);

    // Reorg: drop ping(2) and build a longer, different history.
    await provider.request({ method: "evm_revert", params: [snapshot] });
    await ping(3);
    await networkHelpers.mine(3);
    const events = await watcher.poll();
    expect(events[0]?.type).toBe("reorg");
    expect(values(events)).toEqual([3n]);
    expect(await watcher.poll()).toEqual([]);
  });

  it("a restarted watcher with persisted hashes detects a history that went back below its cursor (deep: asks for the ancestor)", async () => {
    const { viem, provider, networkHelpers } = await network.create();
    const publicClient = await viem.getPublicClient();
    await networkHelpers.mine(2);
    const base = await publicClient.getBlockNumber();
    const snapshot = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    await networkHelpers.mine(5);
    const first = createChainWatcher({ publicClient, address: "0x0000000000000000000000000000000000000001", events: [PING], fromBlock: base + 1n, confirmations: 0 });
    await first.poll();
    const hashes = first.hashes();
    const cursor = first.cursor;
    expect(hashes.at(-1)![0]).toBe(cursor - 1n);

    await provider.request({ method: "evm_revert", params: [snapshot] }); // the head is now below the cursor
    await networkHelpers.mine(2);
    const asked: bigint[] = [];
    const rolled: [bigint, boolean][] = [];
    const second = createChainWatcher({
      publicClient,
      address: "0x0000000000000000000000000000000000000001",
      events: [PING],
      fromBlock: cursor,
      confirmations: 0,
      knownHashes: hashes,
      deepAncestor: async (below) => (asked.push(below), base),
      onReorg: (ancestor, deep) => (rolled.push([ancestor, deep]), ancestor + 1n),
    });
    const events = await second.poll();
    expect(events[0]).toMatchObject({ type: "reorg", commonAncestor: base, deep: true, rereadFrom: base + 1n });
    expect(asked).toHaveLength(1);
    expect(rolled).toEqual([[base, true]]);
    expect(second.cursor).toBe((await publicClient.getBlockNumber()) + 1n); // read on from the new chain
    expect(await second.poll()).toEqual([]);
  });

  it("onReorg can move the re-read lower than the common ancestor", async () => {
    const { viem, provider, networkHelpers } = await network.create();
    const publicClient = await viem.getPublicClient();
    await networkHelpers.mine(3);
    const w = createChainWatcher({
      publicClient,
      address: "0x0000000000000000000000000000000000000001",
      events: [PING],
      fromBlock: 1n,
      confirmations: 0,
      maxBlockRange: 1n, // remember every block
      onReorg: () => 1n,
    });
    await w.poll();
    const snapshot = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    await networkHelpers.mine(1);
    await w.poll();
    await provider.request({ method: "evm_revert", params: [snapshot] });
    await networkHelpers.time.increase(60); // another block 4 (a later timestamp)
    await networkHelpers.mine(1);
    const events = await w.poll();
    expect(events[0]).toMatchObject({ type: "reorg", deep: false, rereadFrom: 1n });
    expect(events.filter((e) => e.type === "logs")[0]).toMatchObject({ fromBlock: 1n });
  });
  it("splits a range whose logs the node refuses as too large, and reads every log once", async () => {
    const { viem } = await network.create();
    const publicClient = await viem.getPublicClient();
    const [wallet] = await viem.getWalletClients();
    const runtime = `600435600052` + `7f${toEventSelector(PING).slice(2)}` + `60206000a100`;
    const initcode = `0x60${(runtime.length / 2).toString(16).padStart(2, "0")}80600b6000396000f3${runtime}` as Hex;
    const address = (
      await publicClient.waitForTransactionReceipt({ hash: await wallet!.sendTransaction({ data: initcode }) })
    ).contractAddress!;
    const fromBlock = await publicClient.getBlockNumber();
    for (let v = 1; v <= 9; v++) {
      await publicClient.waitForTransactionReceipt({
        hash: await wallet!.sendTransaction({ to: address, data: `0x00000000${v.toString(16).padStart(64, "0")}` }),
      });
    }
    // A node (or the HTTP transport's body limit) that refuses any range of more than 2 blocks.
    const ranges: bigint[] = [];
    const limited = {
      ...publicClient,
      getLogs: (async (args: { fromBlock: bigint; toBlock: bigint }) => {
        ranges.push(args.toBlock - args.fromBlock + 1n);
        if (args.toBlock - args.fromBlock + 1n > 2n) throw new Error("HTTP response body exceeded the size limit.");
        return publicClient.getLogs(args as never);
      }) as typeof publicClient.getLogs,
    };
    const watcher = createChainWatcher({ publicClient: limited as never, address, events: [PING], fromBlock, confirmations: 0, maxBlockRange: 64n });
    expect(values(await watcher.poll())).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(ranges.some((r) => r > 2n)).toBe(true); // it tried the whole range first
    // A failure that is not about size is not split: it propagates (after the retries).
    const failing = { ...publicClient, getLogs: (async () => { throw new Error("boom"); }) as typeof publicClient.getLogs };
    const w2 = createChainWatcher({ publicClient: failing as never, address, events: [PING], fromBlock, confirmations: 0, retry: { retries: 0 } });
    await expect(w2.poll()).rejects.toThrow(/boom/);
  });
});

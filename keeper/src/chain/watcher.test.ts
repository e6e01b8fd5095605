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
});

/**
 * Several honest keepers share the load (issue 13, docs/protocol.md §6.0 "Several keepers"): with `peers`, every
 * keeper ranks the operators per request by keccak256(requestId, operator) and the one ranked r waits
 * r × `commitBackoffBlocks` blocks, so two keepers ticking side by side on a chain that mines blocks on its own
 * (automine off, a block every few ms) split the requests between them with no commit sent twice and no reverted
 * transaction; each then finalizes its own claims with finalizeMany. A keeper whose peer is down still answers
 * every request, the peer's ones `commitBackoffBlocks` blocks later.
 */
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAbiItem, toFunctionSelector, type Address, type Hex } from "viem";
import { TaskManagerAbi } from "../../sdk/src/abis/generated.ts";
import { keeperTestbed } from "./testbed.ts";
import { peerRank } from "../../keeper/src/service/peers.ts";

const COMMITTED = 2;
/** Hardhat's account 3 (staked by the testbed). */
const PEER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6" as const;
const COMMIT = toFunctionSelector(getAbiItem({ abi: TaskManagerAbi, name: "commit" }));
const FINALIZE_MANY = toFunctionSelector(getAbiItem({ abi: TaskManagerAbi, name: "finalizeMany" }));

describe("several keepers share the load (issue 13)", () => {
  const tb = keeperTestbed();

  /** Mines a block every `ms` until stopped (automine off): transactions sent together share blocks. */
  async function intervalMining<T>(ms: number, body: () => Promise<T>): Promise<T> {
    const provider = tb.conn.provider;
    await provider.request({ method: "evm_setAutomine", params: [false] });
    let stop = false;
    const miner = (async () => {
      while (!stop) {
        await provider.request({ method: "evm_mine", params: [] });
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
    })();
    try {
      return await body();
    } finally {
      stop = true;
      await miner;
      await provider.request({ method: "evm_mine", params: [] });
      await provider.request({ method: "evm_setAutomine", params: [true] });
    }
  }

  /** Every transaction sent by `from` in blocks (fromBlock, head], with its receipt's status and gas. */
  async function transactionsOf(from: readonly Address[], fromBlock: bigint) {
    const client = await tb.conn.viem.getPublicClient();
    const head = await client.getBlockNumber();
    const mine = new Set(from.map((a) => a.toLowerCase()));
    const out: { from: string; input: Hex; status: string; gasUsed: bigint }[] = [];
    for (let n = fromBlock + 1n; n <= head; n++) {
      const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (!mine.has(tx.from.toLowerCase())) continue;
        const receipt = await client.getTransactionReceipt({ hash: tx.hash });
        out.push({ from: tx.from.toLowerCase(), input: tx.input, status: receipt.status, gasUsed: receipt.gasUsed });
      }
    }
    return out;
  }

  it("two keepers split the requests: no commit sent twice, nothing reverted, each finalizes its own in one finalizeMany", async () => {
    const client = await tb.conn.viem.getPublicClient();
    const fromBlock = await client.getBlockNumber();
    const ids: bigint[] = [];
    for (let k = 0; k < 12; k++) ids.push(await tb.request(20 + k));
    const a = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-share-a-")));
    const b = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-share-b-")), PEER_KEY);
    const peers = [a.responder.address, b.responder.address];
    const ka = tb.keeperOf(a, { fromBlock, peers, batchSize: 64 });
    const kb = tb.keeperOf(b, { fromBlock, peers, batchSize: 64 });
    // The premise: the ranking gives each keeper some of the requests first.
    const firstA = ids.filter((id) => peerRank(id, a.responder.address, peers) === 0);
    expect(firstA.length).toBeGreaterThan(0);
    expect(firstA.length).toBeLessThan(ids.length);

    await intervalMining(20, async () => {
      for (let round = 0; round < 8; round++) {
        await Promise.all([ka.tick(), kb.tick()]);
        const statuses = await Promise.all(ids.map((id) => tb.core.taskManager.read.getStatus([id])));
        if (statuses.every((s) => s === COMMITTED)) break;
      }
    });
    for (const id of ids) expect(await tb.core.taskManager.read.getStatus([id])).toBe(COMMITTED);

    // Who answered what: each request by the keeper ranked first for it, so the two split the load.
    const committers = await Promise.all(
      ids.map(async (id) => (await tb.core.taskManager.read.getClaim([(await tb.core.taskManager.read.getTask([id])).standingClaimId])).operator.toLowerCase()),
    );
    const byA = committers.filter((c) => c === a.responder.address.toLowerCase()).length;
    expect(byA).toBe(firstA.length);
    expect(ids.length - byA).toBe(ids.length - firstA.length);
    // Little wasted gas: one commit transaction per request, none reverted.
    const sent = await transactionsOf(peers, fromBlock);
    expect(sent.filter((t) => t.input.startsWith(COMMIT)).length).toBe(ids.length);
    expect(sent.filter((t) => t.status !== "success")).toEqual([]);
    // The other keeper checked (and agreed with) each claim it did not make, once it read the last blocks.
    await ka.tick();
    await kb.tick();
    for (const id of ids) {
      const other = peerRank(id, a.responder.address, peers) === 0 ? b : a;
      expect(other.store.getRequest(id)?.status).toBe("done");
    }

    // After the window each keeper finalizes its own claims, all in one finalizeMany transaction.
    await tb.conn.networkHelpers.time.increase(3_601);
    const beforeFinalize = await client.getBlockNumber();
    await ka.tick();
    await kb.tick();
    for (const id of ids) expect(await tb.core.aiOracle.read.isFinalized([id])).toBe(true);
    const finalizes = (await transactionsOf(peers, beforeFinalize)).filter((t) => t.input.startsWith(FINALIZE_MANY));
    expect(finalizes.map((t) => t.from).sort()).toEqual(peers.map((p) => p.toLowerCase()).sort());
    expect(finalizes.every((t) => t.status === "success")).toBe(true);
    expect(ka.readiness()).toEqual({ ready: true });
    expect(kb.readiness()).toEqual({ ready: true });
    a.close();
    b.close();
  });

  it("a keeper whose peer is down still answers every request, the peer's ones after the back-off", async () => {
    const client = await tb.conn.viem.getPublicClient();
    const fromBlock = await client.getBlockNumber();
    const ids: bigint[] = [];
    for (let k = 0; k < 8; k++) ids.push(await tb.request(40 + k));
    const a = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-alone-")));
    const peer = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address; // account 3's address; its keeper is not running
    const peers = [a.responder.address, peer];
    const first = ids.filter((id) => peerRank(id, a.responder.address, peers) === 0);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(ids.length);
    const ka = tb.keeperOf(a, { fromBlock, peers, batchSize: 64, commitBackoffBlocks: 50 });
    await ka.tick();
    // Only the requests it is first for: the others wait for the peer (50 blocks; its own commits mined a few).
    for (const id of ids) {
      expect(await tb.core.taskManager.read.getStatus([id])).toBe(first.includes(id) ? COMMITTED : 1);
    }
    await tb.conn.networkHelpers.mine(50);
    await ka.tick();
    for (const id of ids) expect(await tb.core.taskManager.read.getStatus([id])).toBe(COMMITTED);
    expect(ka.readiness()).toEqual({ ready: true });
    a.close();
  });
});

/**
 * Issue 13 failure 5 on Hardhat's in-process chain: `evm_revert` past a request the keeper committed. The store
 * is rolled back to the chain's history (the watcher's persisted block hashes, and the block hashes of stored
 * requests for a change below them), new requests reusing the ids are answered, and the responder's nonce follows
 * the chain; the same after a restart on the database the old history left.
 */
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Hex } from "viem";
import { encodeTensor } from "../../keeper/graph/index.ts";
import { keeperTestbed } from "./testbed.ts";

const COMMITTED = 2;

describe("reorgs and history changes (issue 13: 5)", () => {
  const tb = keeperTestbed();
  const { inputOf, request, commitWrong, runtime, keeperOf, ourChallenges, outputOf, standingOutput } = tb;

  for (const restart of [false, true]) {
    it(`evm_revert past a committed request: requests reusing its id are answered${restart ? " (after a restart)" : ""}`, async () => {
      const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
      const snapshot = await tb.conn.provider.request({ method: "evm_snapshot", params: [] });
      const id = await request(1);
      const dataDir = mkdtempSync(join(tmpdir(), "oao-reorg-"));
      let rt = await runtime(dataDir);
      let keeper = keeperOf(rt, { fromBlock });
      await keeper.tick();
      await tb.conn.networkHelpers.mine(3);
      await keeper.tick();
      expect(rt.store.getRequest(id)?.status).toBe("committed");
      expect(await standingOutput(id)).toBe(outputOf(1));

      // The history is replaced: the request and our commit are gone; new requests take the same ids.
      await tb.conn.provider.request({ method: "evm_revert", params: [snapshot] });
      const again = await request(2);
      const next = await request(3);
      expect(again).toBe(id);
      if (restart) {
        rt = await runtime(dataDir); // SIGKILL, then a new process on the same database
        keeper = keeperOf(rt);
      }
      await keeper.tick();
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      expect(await tb.core.taskManager.read.getStatus([again])).toBe(COMMITTED);
      expect(await tb.core.taskManager.read.getStatus([next])).toBe(COMMITTED);
      expect(await standingOutput(again)).toBe(outputOf(2)); // the new request's answer, not the orphaned one's
      expect(await standingOutput(next)).toBe(outputOf(3));
      expect(rt.store.getRequest(again)).toMatchObject({ status: "committed", input: encodeTensor(inputOf(2)) });
      expect(rt.metrics.reorgs ? (await rt.metrics.reorgs.get()).values[0]?.value : 0).toBe(1);
      // Finalization after the window works on the new history (no UnknownClaim(0)).
      await tb.conn.networkHelpers.time.increase(3_601);
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      expect(await tb.core.aiOracle.read.isFinalized([again])).toBe(true);
      rt.close();
    });
  }

  it("a request id the store holds with another input (an undetected history change) is forgotten and the new one answered", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(4);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reused-")));
    // What a keeper without block hashes left: the id recorded as committed, with another input and requester.
    rt.store.upsertRequest({ requestId: id, modelId: 1n, requester: tb.wallets[5]!.account.address, input: encodeTensor(inputOf(9)), blockNumber: fromBlock, status: "committed", error: null });
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await tb.core.taskManager.read.getStatus([id])).toBe(COMMITTED);
    expect(await standingOutput(id)).toBe(outputOf(4));
    rt.close();
  });
  it("a challenge whose block a reorg took before the watcher read it (no reorg the watcher can see) is made again", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(6);
    await commitWrong(id, 6);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reorg-challenge-")));
    const keeper = keeperOf(rt, { fromBlock, reconcileEvery: 1 });
    const snapshot = await tb.conn.provider.request({ method: "evm_snapshot", params: [] });
    await keeper.tick(); // reads up to the wrong claim, then challenges it in a block it has not read
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    await tb.conn.provider.request({ method: "evm_revert", params: [snapshot] }); // only our challenge's block goes
    await tb.conn.networkHelpers.time.increase(5); // a different block at that height
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(0);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    await keeper.tick();
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1); // once
    rt.close();
  });
  it("a commit dropped from the node's pool is sent again and the commit behind it lands", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const a = await request(7);
    const b = await request(8);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-dropped-")));
    const keeper = keeperOf(rt, { fromBlock });
    const pool = async () => (await tb.conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex; nonce: Hex }[];
    await tb.conn.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      const ticking = keeper.tick();
      for (let i = 0; i < 3_000 && (await pool()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      const sent = await pool();
      expect(sent).toHaveLength(2); // both commits in flight at once (pipelined)
      const lowest = sent.reduce((x, y) => (BigInt(x.nonce) < BigInt(y.nonce) ? x : y));
      await tb.conn.provider.request({ method: "hardhat_dropTransaction", params: [lowest.hash] });
      await tb.conn.provider.request({ method: "evm_setIntervalMining", params: [50] });
      await ticking;
      expect(keeper.readiness()).toEqual({ ready: true });
      expect(await tb.core.taskManager.read.getStatus([a])).toBe(COMMITTED);
      expect(await tb.core.taskManager.read.getStatus([b])).toBe(COMMITTED);
      expect(await standingOutput(a)).toBe(outputOf(7));
      expect(await standingOutput(b)).toBe(outputOf(8));
      expect((await pool()).length).toBe(0);
    } finally {
      await tb.conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
      await tb.conn.provider.request({ method: "evm_setAutomine", params: [true] });
      rt.close();
    }
  });
});

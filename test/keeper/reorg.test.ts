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
import { TaskManagerAbi } from "../../sdk/src/abis/generated.ts";
import { encodeTensor } from "../../keeper/graph/index.ts";
import { createResponder } from "../../keeper/src/chain/responder.ts";
import { keeperTestbed } from "./testbed.ts";

const COMMITTED = 2;
const CLAIM_CHALLENGED = TaskManagerAbi.find((item) => item.type === "event" && item.name === "ClaimChallenged")! as Extract<(typeof TaskManagerAbi)[number], { type: "event"; name: "ClaimChallenged" }>;

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
  it("a challenge a restarted keeper found mined, then reverted away (evm_revert), is made again: the receipt of the orphaned transaction does not count", async () => {
    // The soak failure (seed 1): killed after sending a challenge, the restarted keeper's responder kept the
    // transaction's receipt (mined while it was down); `evm_revert` took that block away, the rolled-back request
    // was checked again and its challenge "made" at once with the orphaned receipt, whose claim id another
    // operator's new claim had taken, so no claim of ours was recorded and the settled challenge was never made.
    const pc = await tb.conn.viem.getPublicClient();
    const fromBlock = await pc.getBlockNumber();
    const id = await request(11);
    await commitWrong(id, 11);
    const snapshot = await tb.conn.provider.request({ method: "evm_snapshot", params: [] });
    const dataDir = mkdtempSync(join(tmpdir(), "oao-reorg-stale-"));
    const first = await runtime(dataDir);
    const pool = async () => (await tb.conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex }[];
    await tb.conn.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      // The first process sends the challenge and dies before reading its receipt; the challenge is then mined.
      const dying = createResponder({ publicClient: first.publicClient, walletClient: first.walletClient, store: first.store, sleep: () => new Promise(() => {}) });
      void keeperOf(first, { fromBlock, responder: dying }).tick();
      for (let i = 0; i < 3_000 && (await pool()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await pool()).toHaveLength(1);
      await tb.conn.networkHelpers.mine(1);
    } finally {
      await tb.conn.provider.request({ method: "evm_setAutomine", params: [true] });
    }
    const stale = await ourChallenges(id, first.responder.address);
    expect(stale).toHaveLength(1);
    // Restarted: it finds the challenge on chain, and its responder adopts the mined transaction (at its first send).
    await request(12);
    const rt = await runtime(dataDir);
    const keeper = keeperOf(rt, { reconcileEvery: 1 });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    const target = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
    expect(rt.store.getIntent("challenge", id, target)).toMatchObject({ status: "done" });

    // The history is replaced below our challenge: another operator's claim takes our challenge's claim id.
    await tb.conn.provider.request({ method: "evm_revert", params: [snapshot] });
    const other = await request(13);
    await commitWrong(other, 13);
    const otherClaim = (await tb.core.taskManager.read.getTask([other])).standingClaimId;
    expect(otherClaim).toBe(stale[0]);
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(0);
    for (let i = 0; i < 4; i++) {
      await keeper.tick();
      await tb.conn.networkHelpers.mine(1);
    }
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1); // made again, once
    expect(await ourChallenges(other, rt.responder.address)).toHaveLength(1);
    expect(rt.store.listClaims(id).filter((c) => c.ours)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    rt.close();
  });
  it("a challenge the intent log holds as made, with no claim of ours recorded and none on chain, is made again by the reconcile pass (once)", async () => {
    // What an orphaned receipt left before the responder checked it: the challenge intent `done`, the request
    // `disputed`, and no claim of ours in the store (the receipt's claim id was another claim's) or on chain.
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(14);
    await commitWrong(id, 14);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reorg-done-")));
    const keeper = keeperOf(rt, { fromBlock, reconcileEvery: 1 });
    const snapshot = await tb.conn.provider.request({ method: "evm_snapshot", params: [] });
    await keeper.tick(); // challenges in a block the watcher has not read
    const target = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
    const [made] = await ourChallenges(id, rt.responder.address);
    expect(made).toBeDefined();
    expect(rt.store.getIntent("challenge", id, target)).toMatchObject({ status: "done" });
    await tb.conn.provider.request({ method: "evm_revert", params: [snapshot] });
    await tb.conn.networkHelpers.time.increase(5);
    rt.store.deleteClaim(made!); // the receipt's claim was never recorded as ours
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(0);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    await keeper.tick();
    await keeper.tick();
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1); // once
    rt.close();
  });
  it("a challenge of ours that lost (the chain's logs have it) is never made again, though the wrong claim still stands in its window", async () => {
    const pc = await tb.conn.viem.getPublicClient();
    const fromBlock = await pc.getBlockNumber();
    // Losing slashes and jails our operator: the chain is put back afterwards for the tests that follow.
    const before = await tb.conn.provider.request({ method: "evm_snapshot", params: [] });
    const id = await request(15);
    await commitWrong(id, 15);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reorg-lost-")));
    try {
      const keeper = keeperOf(rt, { fromBlock, reconcileEvery: 1 });
      await keeper.tick();
      const target = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
      const [made] = await ourChallenges(id, rt.responder.address);
      expect(made).toBeDefined();
      // The referee decides the toy game for the (wrong) defender: our claim is defeated, the wrong claim stands.
      const game = await tb.conn.viem.getContractAt("ToyDisputeGame", await tb.core.taskManager.read.activeGame([target]));
      await game.write.resolve([0], { account: tb.wallets[0]!.account });
      for (let i = 0; i < 3; i++) await keeper.tick();
      const claim = await tb.core.taskManager.read.getClaim([target]);
      expect((await tb.core.taskManager.read.getTask([id])).standingClaimId).toBe(target);
      expect(claim.windowEnd > (await pc.getBlock()).timestamp).toBe(true); // a challenge could still be made
      expect(rt.store.getIntent("challenge", id, target)).toMatchObject({ status: "done" });
      const ours = await pc.getLogs({ address: tb.core.taskManager.address, event: CLAIM_CHALLENGED, args: { requestId: id }, fromBlock });
      expect(ours.filter((l) => l.args.challenger!.toLowerCase() === rt.responder.address.toLowerCase())).toHaveLength(1); // not repeated
      expect(await ourChallenges(id, rt.responder.address)).toHaveLength(0);
    } finally {
      rt.close();
      await tb.conn.provider.request({ method: "evm_revert", params: [before] });
    }
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

/**
 * Issue 13 failures 1, 2, 4 and 7 on Hardhat's in-process chain (the dev deployment, toy game decided by its
 * referee): the keeper's actions are derived from the chain and its intent log, never from a local status a crash
 * can strand.
 *
 * 1. killed between deciding and sending a challenge → the restarted keeper makes the challenge;
 * 2. killed between deciding and sending a commit → the restarted keeper commits (the user gets an answer);
 * 4. more than 256 expired requests in `watching` → a new wrong claim is still challenged, and they leave;
 * 7. a callback that runs out of its 3,000 gas → its commit and the next request's are both made.
 * Each crash is either injected between the store write and the send (`crashBeforeSend`, then a fresh keeper on
 * the same database file, the old one dropped without closing: SIGKILL), or built as the store state the keeper
 * before this change left (a `disputed`/`computing` row and no intent).
 */
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, zeroAddress, type Hex } from "viem";
import { CrashFault } from "../../keeper/src/service/keeper.ts";
import { createResponder } from "../../keeper/src/chain/responder.ts";
import { encodeClaimCall } from "../../keeper/src/service/claims.ts";
import { computeClaim } from "../../keeper/src/service/inference.ts";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
import { keeperTestbed } from "./testbed.ts";

const REQUESTED = 1;
const COMMITTED = 2;
const REFUNDED = 7;

describe("crash-exact keeper (issue 13: 1, 2, 4, 7)", () => {
  const tb = keeperTestbed();
  const { executor, inputOf, request, commitWrong, runtime, keeperOf, ourChallenges } = tb;

  const crashOn = (kind: string) => (intent: { kind: string }) => {
    if (intent.kind === kind) throw new CrashFault(`killed before sending the ${kind}`);
  };

  it("1: killed between deciding and sending a challenge, the restarted keeper challenges (once) and its claim wins", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(1);
    await commitWrong(id, 1);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-challenge-"));
    const first = await runtime(dataDir);
    await expect(keeperOf(first, { fromBlock, crashBeforeSend: crashOn("challenge") }).tick()).rejects.toThrow(CrashFault);
    // The crash left: the request `disputed`, the decided challenge open in the intent log, nothing on chain.
    expect(first.store.getRequest(id)?.status).toBe("disputed");
    const standing = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
    expect(first.store.getIntent("challenge", id, standing)).toMatchObject({ status: "open" });
    expect(await ourChallenges(id, first.responder.address)).toEqual([]);

    // SIGKILL: the old runtime is dropped as is; a new keeper opens the same database file.
    const rt = await runtime(dataDir);
    const keeper = keeperOf(rt);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    const mine = await ourChallenges(id, rt.responder.address);
    expect(mine).toHaveLength(1);
    expect(rt.store.getIntent("challenge", id, standing)).toMatchObject({ status: "done" });
    await keeper.tick(); // nothing is sent twice
    expect(await ourChallenges(id, rt.responder.address)).toEqual(mine);

    // The referee decides the toy game for our claim; it stands and finalizes with the right output.
    const game = await tb.conn.viem.getContractAt("ToyDisputeGame", await tb.core.taskManager.read.activeGame([standing]));
    await game.write.resolve([1], { account: tb.wallets[0]!.account });
    await keeper.tick();
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    await tb.conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    expect(await tb.core.aiOracle.read.isFinalized([id])).toBe(true);
    expect((await tb.core.aiOracle.read.getResult([id]))[0]).toBe(toHex(encodeTensor(executor.run(inputOf(1)).output)));
    rt.close();
  });

  it("killed after sending a challenge, before it was mined: the restarted keeper waits for that transaction, never sends a second", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(10);
    await commitWrong(id, 10);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-sent-"));
    const first = await runtime(dataDir);
    await tb.conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const pool = async () => (await tb.conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex }[];
    try {
      // The first process sends the challenge and dies before its receipt (its responder never polls again).
      const dying = createResponder({ publicClient: first.publicClient, walletClient: first.walletClient, store: first.store, sleep: () => new Promise(() => {}) });
      void keeperOf(first, { fromBlock, responder: dying }).tick();
      for (let i = 0; i < 3_000 && (await pool()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const [sent] = await pool();
      expect(sent).toBeDefined();
      const nonceBefore = await first.publicClient.getTransactionCount({ address: first.responder.address, blockTag: "pending" });

      const rt = await runtime(dataDir);
      await tb.conn.provider.request({ method: "evm_setIntervalMining", params: [50] });
      const keeper = keeperOf(rt);
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      const standing = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
      const mine = await ourChallenges(id, rt.responder.address);
      expect(mine).toHaveLength(1);
      expect(rt.store.getIntent("challenge", id, standing)).toMatchObject({ status: "done" });
      // Exactly the transaction the first process sent: no second one.
      expect(await rt.publicClient.getTransactionCount({ address: rt.responder.address })).toBe(nonceBefore);
      expect((await rt.publicClient.getTransactionReceipt({ hash: sent!.hash })).status).toBe("success");
      rt.close();
    } finally {
      await tb.conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
      await tb.conn.provider.request({ method: "evm_setAutomine", params: [true] });
    }
  });

  it("1 and 2 from the state the keeper before intents left: `disputed` and `computing` rows with nothing sent", async () => {
    const wrongId = await request(2);
    await commitWrong(wrongId, 2);
    const openId = await request(3);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-crash-legacy-")));
    const head = await rt.publicClient.getBlockNumber();
    // The old keeper stored `disputed` (resp. `computing`) before sending, then died: rebuild exactly that.
    const row = (requestId: bigint, k: number, status: "disputed" | "computing") => ({
      requestId,
      modelId: 1n,
      requester: tb.wallets[2]!.account.address,
      input: encodeTensor(inputOf(k)),
      blockNumber: head,
      status,
      error: null,
    });
    rt.store.upsertRequest(row(wrongId, 2, "disputed"));
    rt.store.upsertRequest(row(openId, 3, "computing"));
    rt.store.setMeta("cursor", (head + 1n).toString());
    const keeper = keeperOf(rt);
    await keeper.tick(); // the start-up reconciliation re-derives both from the chain
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await ourChallenges(wrongId, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(wrongId)?.status).toBe("disputed");
    const task = await tb.core.taskManager.read.getTask([openId]);
    expect(task.status).toBe(COMMITTED);
    expect((await tb.core.taskManager.read.getClaim([task.standingClaimId])).operator.toLowerCase()).toBe(rt.responder.address.toLowerCase());
    expect(rt.store.getRequest(openId)?.status).toBe("committed");
    rt.close();
  });

  it("2: killed between deciding and sending a commit, the restarted keeper commits and the callback gets its answer", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const receiver = await tb.conn.viem.deployContract("RecordingReceiver", [tb.core.aiOracle.address]);
    const id = await request(4, receiver.address, 200_000n);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-commit-"));
    const first = await runtime(dataDir);
    await expect(keeperOf(first, { fromBlock, crashBeforeSend: crashOn("commit") }).tick()).rejects.toThrow(CrashFault);
    expect(first.store.getRequest(id)?.status).toBe("computing");
    expect(first.store.getIntent("commit", id)).toMatchObject({ status: "open" });
    expect(await tb.core.taskManager.read.getStatus([id])).toBe(REQUESTED);

    const rt = await runtime(dataDir);
    const keeper = keeperOf(rt);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await tb.core.taskManager.read.getStatus([id])).toBe(COMMITTED);
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    expect(rt.store.getIntent("commit", id)).toMatchObject({ status: "done" });
    expect(await receiver.read.deliveryCount()).toBe(1n);
    expect((await receiver.read.deliveryAt([0n])).output).toBe(toHex(encodeTensor(executor.run(inputOf(4)).output)));
    rt.close();
  });

  it("4: with more than 256 expired requests in `watching`, a new wrong claim is challenged and the expired ones leave", async () => {
    const N = 300;
    const first = (await tb.core.aiOracle.read.requestCount()) + 1n;
    const fee = await tb.core.aiOracle.read.estimateFee([1n, 0n]);
    const input = toHex(encodeTensor(inputOf(5))) as Hex; // a well-formed input (a wrong length is refused at request time)
    for (let i = 0; i < N; i++) {
      await tb.core.aiOracle.write.requestCallback([1n, input, zeroAddress, 0n, "0x"], { value: fee, account: tb.wallets[2]!.account });
    }
    await tb.conn.networkHelpers.time.increase(3_601); // all of them expire unanswered
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-expired-")));
    const head = await rt.publicClient.getBlockNumber();
    // What the keeper before this change left: every one `watching` (its commit refused: the request expired).
    for (let i = 0; i < N; i++) {
      rt.store.upsertRequest({ requestId: first + BigInt(i), modelId: 1n, requester: tb.wallets[2]!.account.address, input: encodeTensor(inputOf(5)), blockNumber: head, status: "watching", error: null });
    }
    rt.store.setMeta("cursor", (head + 1n).toString());
    const id = await request(6);
    await commitWrong(id, 6);
    // A keeper that only forgets expired requests (no refunds), so this test sends one transaction.
    const keeper = keeperOf(rt, { expireUnanswered: false });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    expect(rt.store.countRequests("watching")).toBe(0);
    expect(rt.store.getRequest(first)).toMatchObject({ status: "done", error: "expired unanswered" });
    rt.close();
  });

  it("an expired request the keeper could not answer in time is refunded (`expire`), once", async () => {
    const id = await request(7);
    await tb.conn.networkHelpers.time.increase(3_601);
    const fromBlock = (await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber())) - 2n;
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-expire-")));
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await tb.core.taskManager.read.getStatus([id])).toBe(REFUNDED);
    expect(rt.store.getRequest(id)?.status).toBe("done");
    expect(rt.store.getIntent("expire", id)).toMatchObject({ status: "done" });
    rt.close();
  });

  it("7: a callback that runs out of its 3,000 gas blocks nobody: both it and the next request are committed in one tick", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const burner = await tb.conn.viem.deployContract("GasBurningReceiver", []);
    const cheap = await request(8, burner.address, 3_000n);
    const next = await request(9);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-oog-")));
    // The premise: the node's estimator refuses this commit (its gas search trips over the failing callback).
    const commitData = encodeClaimCall("commit", cheap, computeClaim(executor, encodeTensor(inputOf(8))));
    const estimate = await rt.publicClient.estimateGas({ account: rt.responder.address, to: tb.core.taskManager.address, data: commitData }).then(
      () => "estimated",
      (error: Error) => error.message,
    );
    console.log(`eth_estimateGas of a commit whose callback runs out of gas: ${estimate.split("\n")[0]}`);
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await tb.core.taskManager.read.getStatus([cheap])).toBe(COMMITTED);
    expect(await tb.core.taskManager.read.getStatus([next])).toBe(COMMITTED);
    const oracleRequest = await tb.core.aiOracle.read.getRequest([cheap]);
    expect(oracleRequest.deliveries).toBe(1);
    expect(oracleRequest.lastCallbackSucceeded).toBe(false); // the callback failed; the commit stands
    expect(rt.store.getRequest(cheap)?.status).toBe("committed");
    expect(rt.store.getRequest(next)?.status).toBe("committed");
    expect(keccak256((await tb.core.taskManager.read.getClaimOutput([(await tb.core.taskManager.read.getTask([next])).standingClaimId])) as Hex)).toBe(
      keccak256(toHex(encodeTensor(executor.run(inputOf(9)).output)) as Hex),
    );
    rt.close();
  });
});

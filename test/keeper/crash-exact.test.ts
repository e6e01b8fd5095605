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
import { describe, it, expect, beforeAll } from "vitest";
import { network } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { custom, keccak256, parseEther, zeroAddress, type Address, type Hex } from "viem";
import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime, type KeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { CrashFault, createKeeper, type KeeperParams } from "../../keeper/src/service/keeper.ts";
import { createResponder } from "../../keeper/src/chain/responder.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { claimProofArg, encodeClaimCall } from "../../keeper/src/service/claims.ts";
import { computeClaim } from "../../keeper/src/service/inference.ts";
import { encodeTensor, Executor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import prestate from "../../keeper/guest/node/prestate.json" with { type: "json" };

const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // account 1
const REQUESTED = 1;
const COMMITTED = 2;
const REFUNDED = 7;

describe("crash-exact keeper (issue 13: 1, 2, 4, 7)", () => {
  const model = loadModelFile(resolveModelPath("mnist"));
  const executor = new Executor(model);
  const samples = loadMnist().test;
  let conn: Awaited<ReturnType<typeof network.create>>;
  let core: Awaited<ReturnType<typeof deploy>>;
  let wallets: Awaited<ReturnType<typeof conn.viem.getWalletClients>>;

  async function deploy() {
    const [owner] = await conn.viem.getWalletClients();
    const deployed = await conn.ignition.deploy(OracleDevModule, { parameters: { OracleDev: { treasury: owner!.account.address } } });
    await deployed.aiOracle.write.registerModel([
      {
        descriptor: toHex(model.descriptor) as Hex,
        absolutePrestate: prestate.absolutePrestate as Hex,
        fee: parseEther("0.01"),
        feeReceiver: owner!.account.address,
        feeShareBps: 1_000,
        metadataURI: "ipfs://mnist",
      },
    ]);
    return deployed;
  }

  beforeAll(async () => {
    conn = await network.create();
    core = await deploy();
    wallets = await conn.viem.getWalletClients();
    const stake = parseEther("200"); // the minimum (100) and bonds (10 each)
    for (const w of [wallets[1]!, ...wallets.slice(3, 8)]) {
      await core.stakeToken.write.mint([w.account.address, stake]);
      await core.stakeToken.write.approve([core.staking.address, stake], { account: w.account });
      await core.staking.write.stake([stake], { account: w.account });
    }
  });

  const inputOf = (k: number) => quantizeInput(model, Array.from(samples[k]!.pixels));

  /** A request of sample `k`; returns its id. */
  async function request(k: number, callback: Address = zeroAddress, gasLimit = 0n): Promise<bigint> {
    await core.aiOracle.write.requestCallback([1n, toHex(encodeTensor(inputOf(k))) as Hex, callback, gasLimit, "0x"], {
      value: await core.aiOracle.read.estimateFee([1n, gasLimit]),
      account: wallets[2]!.account,
    });
    return core.aiOracle.read.requestCount();
  }

  /** An attacker (a fresh one each time: a slashed operator is jailed) commits a wrong answer to request `id` of sample `k`. */
  let attackers = 3;
  async function commitWrong(id: bigint, k: number): Promise<void> {
    const claim = graphClaim(executor.run(inputOf(k)), model.weightsRoot, { wrongFrom: 1, salt: k });
    await core.taskManager.write.commit([id, toHex(encodeTensor(claim.output)) as Hex, claimProofArg(claim.proof)], { account: wallets[attackers++]!.account });
  }

  async function runtime(dataDir: string): Promise<KeeperRuntime> {
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
      contracts: { aiOracle: core.aiOracle.address, taskManager: core.taskManager.address, staking: core.staking.address },
      dataDir,
      models: { "1": "mnist" },
      confirmations: 0,
    });
    return createKeeperRuntime(config, OPERATOR_KEY, {
      transport: custom(conn.provider),
      log: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
  }

  const keeperOf = (rt: KeeperRuntime, extra: Partial<KeeperParams> = {}) =>
    createKeeper({
      publicClient: rt.publicClient,
      responder: rt.responder,
      addresses: rt.config.contracts,
      store: rt.store,
      models: rt.models,
      log: rt.log,
      metrics: rt.metrics,
      confirmations: 0,
      retryBackoff: { base: 0, max: 0 },
      ...extra,
    });

  const crashOn = (kind: string) => (intent: { kind: string }) => {
    if (intent.kind === kind) throw new CrashFault(`killed before sending the ${kind}`);
  };

  /** Our claims on chain against request `id`'s standing claim (its open game's challenger, or queued). */
  async function ourChallenges(id: bigint, me: Address): Promise<bigint[]> {
    const standing = (await core.taskManager.read.getTask([id])).standingClaimId;
    const ids = [...(await core.taskManager.read.queuedChallenges([standing]))];
    const game = await core.taskManager.read.activeGame([standing]);
    if (game !== zeroAddress) ids.push((await core.taskManager.read.getGame([game])).challengerClaimId);
    const mine: bigint[] = [];
    for (const c of ids) if ((await core.taskManager.read.getClaim([c])).operator.toLowerCase() === me.toLowerCase()) mine.push(c);
    return mine;
  }

  it("1: killed between deciding and sending a challenge, the restarted keeper challenges (once) and its claim wins", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(1);
    await commitWrong(id, 1);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-challenge-"));
    const first = await runtime(dataDir);
    await expect(keeperOf(first, { fromBlock, crashBeforeSend: crashOn("challenge") }).tick()).rejects.toThrow(CrashFault);
    // The crash left: the request `disputed`, the decided challenge open in the intent log, nothing on chain.
    expect(first.store.getRequest(id)?.status).toBe("disputed");
    const standing = (await core.taskManager.read.getTask([id])).standingClaimId;
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
    const game = await conn.viem.getContractAt("ToyDisputeGame", await core.taskManager.read.activeGame([standing]));
    await game.write.resolve([1], { account: wallets[0]!.account });
    await keeper.tick();
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    await conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    expect(await core.aiOracle.read.isFinalized([id])).toBe(true);
    expect((await core.aiOracle.read.getResult([id]))[0]).toBe(toHex(encodeTensor(executor.run(inputOf(1)).output)));
    rt.close();
  });

  it("killed after sending a challenge, before it was mined: the restarted keeper waits for that transaction, never sends a second", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(10);
    await commitWrong(id, 10);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-sent-"));
    const first = await runtime(dataDir);
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const pool = async () => (await conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex }[];
    try {
      // The first process sends the challenge and dies before its receipt (its responder never polls again).
      const dying = createResponder({ publicClient: first.publicClient, walletClient: first.walletClient, store: first.store, sleep: () => new Promise(() => {}) });
      void keeperOf(first, { fromBlock, responder: dying }).tick();
      for (let i = 0; i < 3_000 && (await pool()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const [sent] = await pool();
      expect(sent).toBeDefined();
      const nonceBefore = await first.publicClient.getTransactionCount({ address: first.responder.address, blockTag: "pending" });

      const rt = await runtime(dataDir);
      await conn.provider.request({ method: "evm_setIntervalMining", params: [50] });
      const keeper = keeperOf(rt);
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      const standing = (await core.taskManager.read.getTask([id])).standingClaimId;
      const mine = await ourChallenges(id, rt.responder.address);
      expect(mine).toHaveLength(1);
      expect(rt.store.getIntent("challenge", id, standing)).toMatchObject({ status: "done" });
      // Exactly the transaction the first process sent: no second one.
      expect(await rt.publicClient.getTransactionCount({ address: rt.responder.address })).toBe(nonceBefore);
      expect((await rt.publicClient.getTransactionReceipt({ hash: sent!.hash })).status).toBe("success");
      rt.close();
    } finally {
      await conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
      await conn.provider.request({ method: "evm_setAutomine", params: [true] });
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
      requester: wallets[2]!.account.address,
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
    const task = await core.taskManager.read.getTask([openId]);
    expect(task.status).toBe(COMMITTED);
    expect((await core.taskManager.read.getClaim([task.standingClaimId])).operator.toLowerCase()).toBe(rt.responder.address.toLowerCase());
    expect(rt.store.getRequest(openId)?.status).toBe("committed");
    rt.close();
  });

  it("2: killed between deciding and sending a commit, the restarted keeper commits and the callback gets its answer", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const receiver = await conn.viem.deployContract("RecordingReceiver", [core.aiOracle.address]);
    const id = await request(4, receiver.address, 200_000n);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-crash-commit-"));
    const first = await runtime(dataDir);
    await expect(keeperOf(first, { fromBlock, crashBeforeSend: crashOn("commit") }).tick()).rejects.toThrow(CrashFault);
    expect(first.store.getRequest(id)?.status).toBe("computing");
    expect(first.store.getIntent("commit", id)).toMatchObject({ status: "open" });
    expect(await core.taskManager.read.getStatus([id])).toBe(REQUESTED);

    const rt = await runtime(dataDir);
    const keeper = keeperOf(rt);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await core.taskManager.read.getStatus([id])).toBe(COMMITTED);
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    expect(rt.store.getIntent("commit", id)).toMatchObject({ status: "done" });
    expect(await receiver.read.deliveryCount()).toBe(1n);
    expect((await receiver.read.deliveryAt([0n])).output).toBe(toHex(encodeTensor(executor.run(inputOf(4)).output)));
    rt.close();
  });

  it("4: with more than 256 expired requests in `watching`, a new wrong claim is challenged and the expired ones leave", async () => {
    const N = 300;
    const first = (await core.aiOracle.read.requestCount()) + 1n;
    const fee = await core.aiOracle.read.estimateFee([1n, 0n]);
    const input = toHex(encodeTensor(inputOf(5))) as Hex; // a well-formed input (a wrong length is refused at request time)
    for (let i = 0; i < N; i++) {
      await core.aiOracle.write.requestCallback([1n, input, zeroAddress, 0n, "0x"], { value: fee, account: wallets[2]!.account });
    }
    await conn.networkHelpers.time.increase(3_601); // all of them expire unanswered
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-expired-")));
    const head = await rt.publicClient.getBlockNumber();
    // What the keeper before this change left: every one `watching` (its commit refused: the request expired).
    for (let i = 0; i < N; i++) {
      rt.store.upsertRequest({ requestId: first + BigInt(i), modelId: 1n, requester: wallets[2]!.account.address, input: encodeTensor(inputOf(5)), blockNumber: head, status: "watching", error: null });
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
    await conn.networkHelpers.time.increase(3_601);
    const fromBlock = (await conn.viem.getPublicClient().then((c) => c.getBlockNumber())) - 2n;
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-expire-")));
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await core.taskManager.read.getStatus([id])).toBe(REFUNDED);
    expect(rt.store.getRequest(id)?.status).toBe("done");
    expect(rt.store.getIntent("expire", id)).toMatchObject({ status: "done" });
    rt.close();
  });

  it("7: a callback that runs out of its 3,000 gas blocks nobody: both it and the next request are committed in one tick", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const burner = await conn.viem.deployContract("GasBurningReceiver", []);
    const cheap = await request(8, burner.address, 3_000n);
    const next = await request(9);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-oog-")));
    // The premise: the node's estimator refuses this commit (its gas search trips over the failing callback).
    const commitData = encodeClaimCall("commit", cheap, computeClaim(executor, encodeTensor(inputOf(8))));
    const estimate = await rt.publicClient.estimateGas({ account: rt.responder.address, to: core.taskManager.address, data: commitData }).then(
      () => "estimated",
      (error: Error) => error.message,
    );
    console.log(`eth_estimateGas of a commit whose callback runs out of gas: ${estimate.split("\n")[0]}`);
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await core.taskManager.read.getStatus([cheap])).toBe(COMMITTED);
    expect(await core.taskManager.read.getStatus([next])).toBe(COMMITTED);
    const oracleRequest = await core.aiOracle.read.getRequest([cheap]);
    expect(oracleRequest.deliveries).toBe(1);
    expect(oracleRequest.lastCallbackSucceeded).toBe(false); // the callback failed; the commit stands
    expect(rt.store.getRequest(cheap)?.status).toBe("committed");
    expect(rt.store.getRequest(next)?.status).toBe("committed");
    expect(keccak256((await core.taskManager.read.getClaimOutput([(await core.taskManager.read.getTask([next])).standingClaimId])) as Hex)).toBe(
      keccak256(toHex(encodeTensor(executor.run(inputOf(9)).output)) as Hex),
    );
    rt.close();
  });
});

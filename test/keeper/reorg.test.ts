/**
 * Issue 13 failure 5 on Hardhat's in-process chain: `evm_revert` past a request the keeper committed. The store
 * is rolled back to the chain's history (the watcher's persisted block hashes, and the block hashes of stored
 * requests for a change below them), new requests reusing the ids are answered, and the responder's nonce follows
 * the chain; the same after a restart on the database the old history left.
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
import { createKeeper, type KeeperParams } from "../../keeper/src/service/keeper.ts";
import { claimProofArg } from "../../keeper/src/service/claims.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { encodeTensor, Executor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import prestate from "../../keeper/guest/node/prestate.json" with { type: "json" };

const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // account 1
const COMMITTED = 2;

describe("reorgs and history changes (issue 13: 5)", () => {
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

  /** keccak of the output the keeper would commit for sample k. */
  const outputOf = (k: number) => keccak256(toHex(encodeTensor(executor.run(inputOf(k)).output)) as Hex);
  const standingOutput = async (id: bigint) =>
    keccak256((await core.taskManager.read.getClaimOutput([(await core.taskManager.read.getTask([id])).standingClaimId])) as Hex);

  for (const restart of [false, true]) {
    it(`evm_revert past a committed request: requests reusing its id are answered${restart ? " (after a restart)" : ""}`, async () => {
      const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
      const snapshot = await conn.provider.request({ method: "evm_snapshot", params: [] });
      const id = await request(1);
      const dataDir = mkdtempSync(join(tmpdir(), "oao-reorg-"));
      let rt = await runtime(dataDir);
      let keeper = keeperOf(rt, { fromBlock });
      await keeper.tick();
      await conn.networkHelpers.mine(3);
      await keeper.tick();
      expect(rt.store.getRequest(id)?.status).toBe("committed");
      expect(await standingOutput(id)).toBe(outputOf(1));

      // The history is replaced: the request and our commit are gone; new requests take the same ids.
      await conn.provider.request({ method: "evm_revert", params: [snapshot] });
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
      expect(await core.taskManager.read.getStatus([again])).toBe(COMMITTED);
      expect(await core.taskManager.read.getStatus([next])).toBe(COMMITTED);
      expect(await standingOutput(again)).toBe(outputOf(2)); // the new request's answer, not the orphaned one's
      expect(await standingOutput(next)).toBe(outputOf(3));
      expect(rt.store.getRequest(again)).toMatchObject({ status: "committed", input: encodeTensor(inputOf(2)) });
      expect(rt.metrics.reorgs ? (await rt.metrics.reorgs.get()).values[0]?.value : 0).toBe(1);
      // Finalization after the window works on the new history (no UnknownClaim(0)).
      await conn.networkHelpers.time.increase(3_601);
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      expect(await core.aiOracle.read.isFinalized([again])).toBe(true);
      rt.close();
    });
  }

  it("a request id the store holds with another input (an undetected history change) is forgotten and the new one answered", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(4);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reused-")));
    // What a keeper without block hashes left: the id recorded as committed, with another input and requester.
    rt.store.upsertRequest({ requestId: id, modelId: 1n, requester: wallets[5]!.account.address, input: encodeTensor(inputOf(9)), blockNumber: fromBlock, status: "committed", error: null });
    const keeper = keeperOf(rt, { fromBlock });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await core.taskManager.read.getStatus([id])).toBe(COMMITTED);
    expect(await standingOutput(id)).toBe(outputOf(4));
    rt.close();
  });
  it("a challenge whose block a reorg took before the watcher read it (no reorg the watcher can see) is made again", async () => {
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await request(6);
    await commitWrong(id, 6);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-reorg-challenge-")));
    const keeper = keeperOf(rt, { fromBlock, reconcileEvery: 1 });
    const snapshot = await conn.provider.request({ method: "evm_snapshot", params: [] });
    await keeper.tick(); // reads up to the wrong claim, then challenges it in a block it has not read
    expect(await ourChallenges(id, rt.responder.address)).toHaveLength(1);
    expect(rt.store.getRequest(id)?.status).toBe("disputed");
    await conn.provider.request({ method: "evm_revert", params: [snapshot] }); // only our challenge's block goes
    await conn.networkHelpers.time.increase(5); // a different block at that height
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
    const fromBlock = await conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const a = await request(7);
    const b = await request(8);
    const rt = await runtime(mkdtempSync(join(tmpdir(), "oao-dropped-")));
    const keeper = keeperOf(rt, { fromBlock });
    const pool = async () => (await conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex; nonce: Hex }[];
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      const ticking = keeper.tick();
      for (let i = 0; i < 3_000 && (await pool()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      const sent = await pool();
      expect(sent).toHaveLength(2); // both commits in flight at once (pipelined)
      const lowest = sent.reduce((x, y) => (BigInt(x.nonce) < BigInt(y.nonce) ? x : y));
      await conn.provider.request({ method: "hardhat_dropTransaction", params: [lowest.hash] });
      await conn.provider.request({ method: "evm_setIntervalMining", params: [50] });
      await ticking;
      expect(keeper.readiness()).toEqual({ ready: true });
      expect(await core.taskManager.read.getStatus([a])).toBe(COMMITTED);
      expect(await core.taskManager.read.getStatus([b])).toBe(COMMITTED);
      expect(await standingOutput(a)).toBe(outputOf(7));
      expect(await standingOutput(b)).toBe(outputOf(8));
      expect((await pool()).length).toBe(0);
    } finally {
      await conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
      await conn.provider.request({ method: "evm_setAutomine", params: [true] });
      rt.close();
    }
  });
});

/**
 * The keeper service end to end on Hardhat's in-process chain, deployed through the Ignition dev
 * module: a real MNIST request is answered with the native executor, committed, delivered to the
 * DigitClassifier example, finalized after the window; malformed input is refused by the oracle (and by the
 * keeper's decoder), an unserved model takes the skip path without a crash; a restarted keeper resumes from its
 * store.
 */
import { syntheticDescriptor } from "../utils/claims.ts";
import { describe, it, expect, beforeAll } from "vitest";
import { network } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { custom, parseEther, type Address, type Hex } from "viem";
import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime, type KeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createKeeper } from "../../keeper/src/service/keeper.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { computeClaim } from "../../keeper/src/service/inference.ts";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import prestate from "../../keeper/guest/node/prestate.json" with { type: "json" };

// Hardhat's default accounts (the well-known development mnemonic): account 1 runs the keeper.
const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;

describe("keeper service", () => {
  let conn: Awaited<ReturnType<typeof network.create>>;
  let core: Awaited<ReturnType<typeof deploy>>;
  const model = loadModelFile(resolveModelPath("mnist"));

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
    const classifier = await conn.viem.deployContract("DigitClassifier", [deployed.aiOracle.address, 1n]);
    return { ...deployed, classifier };
  }

  async function runtime(dataDir: string): Promise<KeeperRuntime> {
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport below talks to the in-process chain
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

  const keeperOf = (rt: KeeperRuntime, extra: Partial<Parameters<typeof createKeeper>[0]> = {}) =>
    createKeeper({
      publicClient: rt.publicClient,
      responder: rt.responder,
      addresses: rt.config.contracts,
      store: rt.store,
      models: rt.models,
      log: rt.log,
      metrics: rt.metrics,
      confirmations: 0,
      ...extra,
    });

  beforeAll(async () => {
    conn = await network.create();
    core = await deploy();
    const [, operator] = await conn.viem.getWalletClients();
    const stake = parseEther("150");
    await core.stakeToken.write.mint([operator!.account.address, stake]);
    await core.stakeToken.write.approve([core.staking.address, stake], { account: operator!.account });
    await core.staking.write.stake([stake], { account: operator!.account });
  });

  it("answers a real MNIST request, delivers the digit, finalizes, and resumes after a restart", async () => {
    const [, , user] = await conn.viem.getWalletClients();
    const publicClient = await conn.viem.getPublicClient();
    const { test } = loadMnist();
    const sample = test.find((s) => s.label === 7)!;
    const image = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
    const fee = await core.classifier.read.fee();
    await core.classifier.write.classify([image], { value: fee, account: user!.account });
    // Malformed input (wrong length) no longer reaches the keeper: the oracle refuses it with both lengths (§3.4),
    // so no request exists that no honest keeper could answer or challenge. An unserved model, straight to the oracle.
    const feeBad = await core.aiOracle.read.estimateFee([1n, 0n]);
    await expect(
      core.aiOracle.write.requestCallback([1n, "0x0102", "0x0000000000000000000000000000000000000000", 0n, "0x"], { value: feeBad, account: user!.account }),
    ).rejects.toThrow(/InputLengthMismatch[\s\S]*\(1, 784, 2\)/);
    expect(await core.aiOracle.read.requestCount()).toBe(1n);
    const [owner] = await conn.viem.getWalletClients();
    await core.aiOracle.write.registerModel([
      { descriptor: syntheticDescriptor({ nodeCount: 2, inputBytes: 1 }), absolutePrestate: prestate.absolutePrestate as Hex, fee: 0n, feeReceiver: owner!.account.address, feeShareBps: 0, metadataURI: "" },
    ]);
    await core.aiOracle.write.requestCallback([2n, "0x01", "0x0000000000000000000000000000000000000000", 0n, "0x"], {
      value: await core.aiOracle.read.estimateFee([2n, 0n]),
      account: user!.account,
    });

    const dataDir = mkdtempSync(join(tmpdir(), "oao-keeper-"));
    let rt = await runtime(dataDir);
    let keeper = keeperOf(rt, { fromBlock: 0n });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await core.classifier.read.digitOf([1n])).toBe(7);
    expect(rt.store.getRequest(1n)?.status).toBe("committed");
    expect(rt.store.getRequest(2n)).toMatchObject({ status: "skipped", error: "model 2 is not served by this keeper" });
    // The keeper still refuses (records, never commits) an input it cannot decode, should one come from a
    // deployment without the oracle's check: the same decoder the request above went through.
    expect(() => computeClaim(rt.models.get(1n)!.executor, Uint8Array.of(1, 2))).toThrow(/request input is 2 bytes but the model takes 784/);

    // Restart: a new runtime over the same data dir resumes from the stored cursor (nothing re-answered).
    rt.close();
    rt = await runtime(dataDir);
    keeper = keeperOf(rt);
    await conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    // The finalize settled the fee: the keeper withdraws its credit on its next claiming tick.
    expect(await core.aiOracle.read.pendingWithdrawal([rt.responder.address])).toBeGreaterThan(0n);
    keeper = keeperOf(rt, { claimEvery: 1 });
    await keeper.tick();
    expect(await core.aiOracle.read.pendingWithdrawal([rt.responder.address])).toBe(0n);
    expect(await core.aiOracle.read.isFinalized([1n])).toBe(true);
    expect(rt.store.getRequest(1n)?.status).toBe("done");
    const claims = await publicClient.getContractEvents({ address: core.taskManager.address, abi: core.taskManager.abi, eventName: "ClaimCommitted", fromBlock: 0n });
    expect(claims).toHaveLength(1); // committed once, not again after the restart
    expect((claims[0]!.args.operator as Address).toLowerCase()).toBe(rt.responder.address.toLowerCase());
    rt.close();
  });
});

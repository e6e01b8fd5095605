/**
 * The keeper testbed of test/keeper/crash-exact.test.ts and reorg.test.ts: Hardhat's in-process chain with the dev
 * deployment (Ignition's OracleDev: toy games), the shipped MNIST model registered as model 1, six staked operators
 * (account 1 runs the keeper under test, 3..7 are attackers), and the helpers both files drive it with. Call it
 * inside `describe`: it registers the `beforeAll` that deploys.
 */
import { beforeAll } from "vitest";
import { network } from "hardhat";
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

export const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // account 1

type Conn = Awaited<ReturnType<typeof network.create>>;

async function deploy(conn: Conn, model: ReturnType<typeof loadModelFile>) {
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

export function keeperTestbed() {
  const model = loadModelFile(resolveModelPath("mnist"));
  const executor = new Executor(model);
  const samples = loadMnist().test;
  let conn: Conn;
  let core: Awaited<ReturnType<typeof deploy>>;
  let wallets: Awaited<ReturnType<Conn["viem"]["getWalletClients"]>>;

  beforeAll(async () => {
    conn = await network.create();
    core = await deploy(conn, model);
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

  /** A keeper runtime on `dataDir`, operating as `key` (default account 1's). */
  async function runtime(dataDir: string, key: Hex = OPERATOR_KEY): Promise<KeeperRuntime> {
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
      contracts: { aiOracle: core.aiOracle.address, taskManager: core.taskManager.address, staking: core.staking.address },
      dataDir,
      models: { "1": "mnist" },
      confirmations: 0,
    });
    return createKeeperRuntime(config, key, {
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

  return {
    model,
    executor,
    get conn() {
      return conn;
    },
    get core() {
      return core;
    },
    get wallets() {
      return wallets;
    },
    inputOf,
    request,
    commitWrong,
    runtime,
    keeperOf,
    ourChallenges,
    outputOf,
    standingOutput,
  };
}

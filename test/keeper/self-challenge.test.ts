/**
 * The keeper service against an attacker on both sides of games (issue 12 item 2, DESIGN invariant 7), on
 * Hardhat's in-process chain with the toy game (its referee decides games, so the attacker's own games are
 * "lost on purpose" at once). Each round the attacker challenges its own standing wrong claim from a fresh
 * address before the honest keeper's tick, so the keeper's challenge queues; the attacker's game is then decided
 * for its challenger. The keeper must release its moot queued claim (its bond back at once), check the new
 * standing claim and challenge it again, never needing more than one bond, and in the end its own claim wins and
 * the right output finalizes.
 */
import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { custom, parseEther, type Address, type Hex } from "viem";
import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createKeeper } from "../../keeper/src/service/keeper.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { claimProofArg, readStandingOpening } from "../../keeper/src/service/claims.ts";
import { encodeTensor, Executor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import prestate from "../../keeper/guest/node/prestate.json" with { type: "json" };

const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // account 1
const ROUNDS = 10;
const QUEUED = 6;
const RELEASED = 4;

describe("keeper against an attacker playing both sides", () => {
  const model = loadModelFile(resolveModelPath("mnist"));

  it(`never locks more than one bond, releases moot queued challenges and wins after ${ROUNDS} rounds`, async () => {
    const conn = await network.create();
    const wallets = await conn.viem.getWalletClients();
    const [owner, operator, user] = wallets;
    const attackers = wallets.slice(3, 3 + ROUNDS + 1);
    const core = await conn.ignition.deploy(OracleDevModule, { parameters: { OracleDev: { treasury: owner!.account.address } } });
    await core.aiOracle.write.registerModel([
      {
        descriptor: toHex(model.descriptor) as Hex,
        absolutePrestate: prestate.absolutePrestate as Hex,
        fee: parseEther("0.01"),
        feeReceiver: owner!.account.address,
        feeShareBps: 1_000,
        metadataURI: "ipfs://mnist",
      },
    ]);
    const stake = parseEther("150"); // the minimum (100) and a few bonds (10 each)
    for (const w of [operator!, ...attackers]) {
      await core.stakeToken.write.mint([w.account.address, stake]);
      await core.stakeToken.write.approve([core.staking.address, stake], { account: w.account });
      await core.staking.write.stake([stake], { account: w.account });
    }

    // A real MNIST request, and the attacker's wrong answers to it (self-consistent claims, wrong from node 1).
    const sample = loadMnist().test.find((s) => s.label === 3)!;
    const input = quantizeInput(model, Array.from(sample.pixels));
    await core.aiOracle.write.requestCallback([1n, toHex(encodeTensor(input)) as Hex, "0x0000000000000000000000000000000000000000", 0n, "0x"], {
      value: await core.aiOracle.read.estimateFee([1n, 0n]),
      account: user!.account,
    });
    const run = new Executor(model).run(input);
    const wrong = (k: number) => {
      const claim = graphClaim(run, model.weightsRoot, { wrongFrom: 1, salt: k });
      return [1n, toHex(encodeTensor(claim.output)) as Hex, claimProofArg(claim.proof)] as const;
    };

    const rt = await createKeeperRuntime(
      parseKeeperConfig({
        rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
        contracts: { aiOracle: core.aiOracle.address, taskManager: core.taskManager.address, staking: core.staking.address },
        dataDir: mkdtempSync(join(tmpdir(), "oao-keeper-")),
        models: { "1": "mnist" },
        confirmations: 0,
      }),
      OPERATOR_KEY,
      { transport: custom(conn.provider), log: createLogger({ level: "silent" }), metrics: createMetrics({ defaultMetrics: false }) },
    );
    const keeper = createKeeper({
      publicClient: rt.publicClient,
      responder: rt.responder,
      addresses: rt.config.contracts,
      store: rt.store,
      models: rt.models,
      log: rt.log,
      metrics: rt.metrics,
      confirmations: 0,
      fromBlock: 0n,
    });
    const me = rt.responder.address;
    const locked = async () => (await core.staking.read.getAccount([me])).locked;
    const publicClient = await conn.viem.getPublicClient();
    const lastGame = async () => conn.viem.getContractAt("ToyDisputeGame", (await core.disputeGameFactory.read.lastGame()) as Address);

    // The attacker answers first (the keeper has not ticked yet).
    await core.taskManager.write.commit(wrong(0), { account: attackers[0]!.account });
    let standing = 1n;
    const honestClaims: bigint[] = [];
    for (let k = 1; k <= ROUNDS; k++) {
      // The attacker's next address challenges its own standing claim first: that game is the open one.
      const standingOpening = await readStandingOpening(publicClient, core.taskManager.address, 1n);
      await core.taskManager.write.challenge([...wrong(k), standingOpening], { account: attackers[k]!.account });
      const own = await lastGame();
      // The keeper sees a wrong standing claim and challenges it: queued behind the attacker's game.
      await keeper.tick();
      expect(keeper.readiness()).toEqual({ ready: true });
      const queued = await core.taskManager.read.queuedChallenges([standing]);
      expect(queued).toHaveLength(1);
      const ours = queued[0]!;
      honestClaims.push(ours);
      expect((await core.taskManager.read.getClaim([ours])).operator.toLowerCase()).toBe(me.toLowerCase());
      expect((await core.taskManager.read.getClaim([ours])).status).toBe(QUEUED);
      expect(await locked()).toBe(parseEther("10")); // one bond
      // The attacker's standing address loses its own game on purpose.
      await own.write.resolve([1], { account: owner!.account });
      const task = await core.taskManager.read.getTask([1n]);
      expect(task.standingClaimId).not.toBe(standing);
      standing = task.standingClaimId;
      expect(await core.aiOracle.read.isFinalized([1n])).toBe(false);
      // The keeper's next tick releases its moot queued claim, then challenges the new standing claim.
    }
    // The attacker stops. The keeper releases its last moot claim and challenges the last wrong claim; it opens
    // a game (nobody else's is open), which the keeper's claim wins.
    await keeper.tick();
    for (const id of honestClaims) expect((await core.taskManager.read.getClaim([id])).status).toBe(RELEASED);
    expect(await locked()).toBe(parseEther("10"));
    const honestGame = await lastGame();
    expect((await core.taskManager.read.getGame([honestGame.address])).defenderClaimId).toBe(standing);
    const challengeLogs = await publicClient.getContractEvents({ address: core.taskManager.address, abi: core.taskManager.abi, eventName: "ClaimChallenged", fromBlock: 0n });
    expect((challengeLogs.at(-1)!.args.challenger as Address).toLowerCase()).toBe(me.toLowerCase());
    await honestGame.write.resolve([1], { account: owner!.account });
    await keeper.tick();
    expect(rt.store.getRequest(1n)?.status).toBe("committed");
    await conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    expect(await core.aiOracle.read.isFinalized([1n])).toBe(true);
    const [output] = await core.aiOracle.read.getResult([1n]);
    expect(output).toBe(toHex(encodeTensor(run.output)));
    expect(await locked()).toBe(0n);
    // The keeper was never slashed, and got the winner share of the last wrong claim's slash.
    expect((await core.staking.read.getAccount([me])).active).toBe(stake);
    expect(await core.stakeToken.read.balanceOf([me])).toBe(parseEther("5"));
    rt.close();
  });
});

/**
 * The Ignition modules: production modules never reference a contract from contracts/mocks (checked on every
 * future, recursively through submodules), parameters reach the contracts, the core is wired, the production
 * core is owned by a TimelockController whose delay holds, and the dispute game factory can be swapped only
 * through it.
 */
import hre, { network } from "hardhat";
import type { Future, IgnitionModule } from "@nomicfoundation/ignition-core";
import { describe, expect, it } from "vitest";
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseEther,
  toHex,
  zeroAddress,
  zeroHash,
} from "viem";

import { GAME_DEFAULTS, OracleCoreModule, TIMELOCK_MIN_DELAY } from "../../ignition/modules/OracleCore.ts";
import { claimProofFor, syntheticDescriptor } from "../utils/claims.ts";
import { OracleVMModule } from "../../ignition/modules/OracleVM.ts";
import { PRODUCTION_DEFAULTS } from "../../ignition/modules/core.ts";
import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";

/** Every future of a module and its submodules. */
function allFutures(module: IgnitionModule): Future[] {
  const out: Future[] = [...module.futures];
  for (const sub of module.submodules) out.push(...allFutures(sub));
  return out;
}

/** Source files of the contracts a module deploys or attaches to. */
async function contractSources(module: IgnitionModule) {
  const sources = new Map<string, string>();
  for (const future of allFutures(module)) {
    if (!("contractName" in future)) continue;
    const artifact = await hre.artifacts.readArtifact(future.contractName);
    sources.set(future.contractName, artifact.sourceName);
  }
  return sources;
}

const GWEI = 1_000_000_000n;

describe("production modules", () => {
  it.each([OracleCoreModule, OracleVMModule])("$id references no contract from contracts/mocks", async (module) => {
    const sources = await contractSources(module);
    expect(sources.size).toBeGreaterThan(0);
    for (const [name, source] of sources) expect(source, `${module.id} uses ${name}`).not.toMatch(/^contracts\/mocks\//);
  });

  it("the core module deploys the whole core, VM included", async () => {
    const sources = await contractSources(OracleCoreModule);
    expect([...sources.keys()].sort()).toEqual([
      "AIOracle",
      "DisputeGameFactory",
      "MIPS",
      "PreimageOracle",
      "Staking",
      "TaskManager",
      "TimelockController",
    ]);
    expect(sources.get("TimelockController")).toBe("@openzeppelin/contracts/governance/TimelockController.sol");
  });

  it("the check does see mocks: the dev module uses exactly the two it declares", async () => {
    const mocks = [...(await contractSources(OracleDevModule))].filter(([, s]) => s.startsWith("contracts/mocks/"));
    expect(mocks.map(([n]) => n).sort()).toEqual(["MockStakeToken", "ToyDisputeGameFactory"]);
  });
});

/** Expects `action` to revert with custom error `name` (decoded with the called contract's ABI) carrying `args`. */
async function expectRevert(action: Promise<unknown>, name: string, args?: readonly unknown[]) {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a revert with ${name}`).toBeInstanceOf(BaseError);
  const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
  const data = (reverted as ContractFunctionRevertedError | null)?.data;
  expect(data?.errorName, String(error).slice(0, 400)).toBe(name);
  if (args !== undefined) expect(data?.args).toEqual(args);
}

describe("OracleCore deployed in-process", async () => {
  const { viem, ignition, networkHelpers } = await network.create();
  const [deployer, treasury, admin, modelOwner, operator, user, referee] = await viem.getWalletClients();
  if (!deployer || !treasury || !admin || !modelOwner || !operator || !user || !referee) throw new Error("accounts");
  // Test stand-in for an existing ERC20: the module only takes its address.
  const token = await viem.deployContract("MockStakeToken");
  const parameters = {
    OracleCore: {
      stakeToken: token.address,
      clockDuration: 900n,
      vmTraceDepth: 22,
      treasury: treasury.account.address,
      admin: admin.account.address,
      executor: admin.account.address,
      // unbonding 1000 + window 120 + 3 clocks of 900 s, and a margin.
      timelockMinDelay: 5_000n,
      callbackGasPrice: 2_000_000_000n,
      protocolFee: 12_345n,
      maxCallbackGasLimit: 1_000_000n,
      requestTimeout: 600n,
      minStake: parseEther("50"),
      unbondingPeriod: 1_000n,
      jailPeriod: 500n,
      winnerShareBps: 4_000,
      requesterShareBps: 1_000,
      challengeWindow: 120n,
      claimBond: parseEther("5"),
      maxOutputBytes: 64,
    },
  };
  const core = await ignition.deploy(OracleCoreModule, { parameters });
  const { aiOracle, staking, taskManager, mips, preimageOracle, disputeGameFactory: factory, timelock } = core;
  const publicClient = await viem.getPublicClient();
  const wait = async (hash: Promise<`0x${string}`>) => publicClient.waitForTransactionReceipt({ hash: await hash });

  it("passes every parameter to the contracts (and the defaults to the rest)", async () => {
    const p = parameters.OracleCore;
    expect(await aiOracle.read.treasury()).toBe(getAddress(p.treasury));
    expect(await aiOracle.read.baseCallbackGasPrice()).toBe(p.callbackGasPrice);
    expect(await aiOracle.read.minCallbackGasPrice()).toBe(PRODUCTION_DEFAULTS.minCallbackGasPrice);
    expect(await aiOracle.read.maxCallbackGasPrice()).toBe(PRODUCTION_DEFAULTS.maxCallbackGasPrice);
    expect(await aiOracle.read.protocolFee()).toBe(p.protocolFee);
    expect(await aiOracle.read.maxProtocolFee()).toBe(PRODUCTION_DEFAULTS.maxProtocolFee);
    expect(await aiOracle.read.maxCallbackGasLimit()).toBe(p.maxCallbackGasLimit);
    expect(await aiOracle.read.requestTimeout()).toBe(p.requestTimeout);
    expect(await staking.read.stakeToken()).toBe(getAddress(token.address));
    expect(await staking.read.treasury()).toBe(getAddress(p.treasury));
    expect(await staking.read.minStake()).toBe(p.minStake);
    expect(await staking.read.unbondingPeriod()).toBe(p.unbondingPeriod);
    expect(await staking.read.jailPeriod()).toBe(p.jailPeriod);
    expect(await staking.read.winnerShareBps()).toBe(p.winnerShareBps);
    expect(await staking.read.requesterShareBps()).toBe(p.requesterShareBps);
    expect(await taskManager.read.challengeWindow()).toBe(p.challengeWindow);
    expect(await taskManager.read.claimBond()).toBe(p.claimBond);
    expect(await taskManager.read.maxOutputBytes()).toBe(p.maxOutputBytes);
    const game = await viem.getContractAt("DisputeGame", await factory.read.implementation());
    expect(await game.read.clockDuration()).toBe(p.clockDuration);
    expect(await game.read.vmTraceDepth()).toBe(p.vmTraceDepth);
    expect(await game.read.graphWidthBits()).toBe(GAME_DEFAULTS.graphWidthBits);
    expect(await game.read.vmWidthBits()).toBe(GAME_DEFAULTS.vmWidthBits);
    expect(await game.read.vm()).toBe(getAddress(mips.address));
  });

  it("wires oracle, staking, task manager, game factory and VM", async () => {
    expect(await aiOracle.read.taskManager()).toBe(getAddress(taskManager.address));
    expect(await staking.read.isSlasher([taskManager.address])).toBe(true);
    expect(await taskManager.read.oracle()).toBe(getAddress(aiOracle.address));
    expect(await taskManager.read.staking()).toBe(getAddress(staking.address));
    expect(await taskManager.read.disputeGameFactory()).toBe(getAddress(factory.address));
    expect(await factory.read.taskManager()).toBe(getAddress(taskManager.address));
    expect(await mips.read.oracle()).toBe(getAddress(preimageOracle.address));
  });

  it("the timelock owns the core and administers itself; admin proposes, cancels and executes", async () => {
    for (const c of [aiOracle, staking, taskManager]) {
      expect(await c.read.owner()).toBe(getAddress(timelock.address));
      expect(await c.read.pendingOwner()).toBe(zeroAddress);
    }
    expect(await timelock.read.getMinDelay()).toBe(parameters.OracleCore.timelockMinDelay);
    const roles = {
      admin: await timelock.read.DEFAULT_ADMIN_ROLE(),
      proposer: await timelock.read.PROPOSER_ROLE(),
      canceller: await timelock.read.CANCELLER_ROLE(),
      executor: await timelock.read.EXECUTOR_ROLE(),
    };
    expect(await timelock.read.hasRole([roles.admin, timelock.address])).toBe(true);
    for (const role of [roles.proposer, roles.canceller, roles.executor]) {
      expect(await timelock.read.hasRole([role, admin.account.address])).toBe(true);
    }
    // The deployer keeps nothing, and no one but the timelock can grant roles.
    for (const role of Object.values(roles)) expect(await timelock.read.hasRole([role, deployer.account.address])).toBe(false);
    expect(await timelock.read.hasRole([roles.admin, admin.account.address])).toBe(false);
  });

  it("nobody governs directly: the former owner, the admin and a stranger all revert", async () => {
    for (const who of [deployer, admin, user]) {
      const account = who.account;
      const unauthorized = ["OwnableUnauthorizedAccount", [getAddress(account.address)]] as const;
      await expectRevert(staking.write.setSlasher([account.address, true], { account }), ...unauthorized);
      await expectRevert(staking.write.setTreasury([account.address], { account }), ...unauthorized);
      await expectRevert(taskManager.write.setDisputeGameFactory([account.address], { account }), ...unauthorized);
      await expectRevert(aiOracle.write.setProtocolFee([0n], { account }), ...unauthorized);
      await expectRevert(aiOracle.write.setCallbackGasPrice([GWEI], { account }), ...unauthorized);
      await expectRevert(aiOracle.write.setTreasury([account.address], { account }), ...unauthorized);
      await expectRevert(aiOracle.write.transferOwnership([account.address], { account }), ...unauthorized);
      await expectRevert(staking.write.transferOwnership([account.address], { account }), ...unauthorized);
      await expectRevert(taskManager.write.transferOwnership([account.address], { account }), ...unauthorized);
    }
    // Only the admin may propose; the deployer and strangers may not even schedule.
    const proposer = await timelock.read.PROPOSER_ROLE();
    for (const who of [deployer, user]) {
      await expectRevert(
        timelock.write.schedule([staking.address, 0n, "0x", zeroHash, zeroHash, parameters.OracleCore.timelockMinDelay], {
          account: who.account,
        }),
        "AccessControlUnauthorizedAccount",
        [getAddress(who.account.address), proposer],
      );
    }
    // The timelock's own settings are changed only through its operations.
    await expectRevert(timelock.write.updateDelay([0n], { account: admin.account }), "TimelockUnauthorizedCaller", [
      getAddress(admin.account.address),
    ]);
  });

  it("serves a request end to end", async () => {
    await wait(
      aiOracle.write.registerModel(
        [
          {
            descriptor: syntheticDescriptor({ nodeCount: 1, inputBytes: 1, outputBytes: 1 }),
            absolutePrestate: keccak256(toHex("p")),
            fee: 0n,
            feeReceiver: zeroAddress,
            feeShareBps: 0,
            metadataURI: "",
          },
        ],
        { account: modelOwner.account },
      ),
    );
    await wait(token.write.mint([operator.account.address, parseEther("50")]));
    await wait(token.write.approve([staking.address, parseEther("50")], { account: operator.account }));
    await wait(staking.write.stake([parseEther("50")], { account: operator.account }));
    const fee = await aiOracle.read.estimateFee([1n, 0n]);
    expect(fee).toBe(12_345n);
    await wait(aiOracle.write.requestCallback([1n, "0x01", zeroAddress, 0n, "0x"], { account: user.account, value: fee }));
    const proof = await claimProofFor(aiOracle, 1n, "0x02", keccak256(toHex("t")));
    await wait(taskManager.write.commit([1n, "0x02", proof], { account: operator.account }));
    await networkHelpers.time.increase(121); // past the 120 s challenge window
    await wait(taskManager.write.finalize([1n], { account: user.account }));
    expect(await aiOracle.read.isFinalized([1n])).toBe(true);
  });

  it("a scheduled setSlasher and setDisputeGameFactory execute only after the delay", async () => {
    const delay = parameters.OracleCore.timelockMinDelay;
    const next = await viem.deployContract("ToyDisputeGameFactory", [referee.account.address]);
    const targets = [staking.address, taskManager.address];
    const payloads = [
      encodeFunctionData({ abi: staking.abi, functionName: "setSlasher", args: [referee.account.address, true] }),
      encodeFunctionData({ abi: taskManager.abi, functionName: "setDisputeGameFactory", args: [next.address] }),
    ];
    const batch = [targets, [0n, 0n], payloads, zeroHash, keccak256(toHex("switch"))] as const;
    const id = await timelock.read.hashOperationBatch(batch);
    const READY = toHex(1n << 2n, { size: 32 }); // OperationState.Ready as the bitmap of expected states

    await expectRevert(timelock.write.scheduleBatch([...batch, delay - 1n], { account: admin.account }), "TimelockInsufficientDelay", [
      delay - 1n,
      delay,
    ]);
    await wait(timelock.write.scheduleBatch([...batch, delay], { account: admin.account }));
    const executeAt = await timelock.read.getTimestamp([id]);
    await expectRevert(timelock.write.executeBatch(batch, { account: admin.account }), "TimelockUnexpectedOperationState", [id, READY]);
    // One second before the operation is ready: still refused.
    await networkHelpers.time.setNextBlockTimestamp(executeAt - 1n);
    await expectRevert(timelock.write.executeBatch(batch, { account: admin.account }), "TimelockUnexpectedOperationState", [id, READY]);
    expect(await staking.read.isSlasher([referee.account.address])).toBe(false);
    expect(await taskManager.read.disputeGameFactory()).toBe(getAddress(factory.address));

    await networkHelpers.time.setNextBlockTimestamp(executeAt);
    const executor = await timelock.read.EXECUTOR_ROLE();
    await expectRevert(timelock.write.executeBatch(batch, { account: user.account }), "AccessControlUnauthorizedAccount", [
      getAddress(user.account.address),
      executor,
    ]);
    await wait(timelock.write.executeBatch(batch, { account: admin.account }));
    expect(await timelock.read.isOperationDone([id])).toBe(true);
    expect(await staking.read.isSlasher([referee.account.address])).toBe(true);
    // The new factory serves requests made from now on only.
    const requests = await aiOracle.read.requestCount();
    expect(await taskManager.read.disputeGameFactory()).toBe(getAddress(next.address));
    expect(await taskManager.read.gameFactoryFor([requests + 1n])).toBe(getAddress(next.address));
    expect(requests).toBeGreaterThan(0n); // the end-to-end request above
    expect(await taskManager.read.gameFactoryFor([requests])).toBe(getAddress(factory.address));
  });

  it("defaults the governance delay to a staker's full exit: window, 3 game clocks, unbonding, and a day", async () => {
    const fresh = await network.create();
    const token2 = await fresh.viem.deployContract("MockStakeToken");
    const { timelock: t } = await fresh.ignition.deploy(OracleCoreModule, { parameters: { OracleCore: { stakeToken: token2.address } } });
    const exit = PRODUCTION_DEFAULTS.challengeWindow + 3n * GAME_DEFAULTS.clockDuration + PRODUCTION_DEFAULTS.unbondingPeriod;
    expect(TIMELOCK_MIN_DELAY).toBe(exit + 86_400n);
    expect(await t.read.getMinDelay()).toBe(TIMELOCK_MIN_DELAY);
  });

  it("refuses to deploy without the required addresses, naming the parameter", async () => {
    const fresh = await network.create();
    await expect(
      fresh.ignition.deploy(OracleCoreModule, { parameters: { OracleCore: { clockDuration: 900n } } }),
    ).rejects.toThrow(/stakeToken/);
  });
});

/**
 * The Ignition modules: production modules never reference a contract from contracts/mocks (checked on every
 * future, recursively through submodules), parameters reach the contracts, the core is wired, ownership is
 * handed over in two steps, and the dispute game factory can be swapped by the owner.
 */
import hre, { network } from "hardhat";
import type { Future, IgnitionModule } from "@nomicfoundation/ignition-core";
import { describe, expect, it } from "vitest";
import { getAddress, keccak256, parseEther, toHex, zeroAddress } from "viem";

import { GAME_DEFAULTS, OracleCoreModule } from "../../ignition/modules/OracleCore.ts";
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

describe("production modules", () => {
  it.each([OracleCoreModule, OracleVMModule])("$id references no contract from contracts/mocks", async (module) => {
    const sources = await contractSources(module);
    expect(sources.size).toBeGreaterThan(0);
    for (const [name, source] of sources) expect(source, `${module.id} uses ${name}`).not.toMatch(/^contracts\/mocks\//);
  });

  it("the core module deploys the whole core, VM included", async () => {
    const sources = await contractSources(OracleCoreModule);
    expect([...sources.keys()].sort()).toEqual(["AIOracle", "DisputeGameFactory", "MIPS", "PreimageOracle", "Staking", "TaskManager"]);
  });

  it("the check does see mocks: the dev module uses exactly the two it declares", async () => {
    const mocks = [...(await contractSources(OracleDevModule))].filter(([, s]) => s.startsWith("contracts/mocks/"));
    expect(mocks.map(([n]) => n).sort()).toEqual(["MockStakeToken", "ToyDisputeGameFactory"]);
  });
});

describe("OracleCore deployed in-process", async () => {
  const { viem, ignition, networkHelpers } = await network.create();
  const [deployer, treasury, owner, modelOwner, operator, user, referee] = await viem.getWalletClients();
  if (!deployer || !treasury || !owner || !modelOwner || !operator || !user || !referee) throw new Error("accounts");
  // Test stand-in for an existing ERC20: the module only takes its address.
  const token = await viem.deployContract("MockStakeToken");
  const parameters = {
    OracleCore: {
      stakeToken: token.address,
      clockDuration: 900n,
      vmTraceDepth: 22,
      treasury: treasury.account.address,
      owner: owner.account.address,
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
  const { aiOracle, staking, taskManager, mips, preimageOracle, disputeGameFactory: factory } = core;
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

  it("hands ownership over in two steps; until accepted the deployer governs", async () => {
    const owned = [
      { read: aiOracle.read, accept: () => aiOracle.write.acceptOwnership({ account: owner.account }) },
      { read: staking.read, accept: () => staking.write.acceptOwnership({ account: owner.account }) },
      { read: taskManager.read, accept: () => taskManager.write.acceptOwnership({ account: owner.account }) },
    ];
    for (const c of owned) {
      expect(await c.read.owner()).toBe(getAddress(deployer.account.address));
      expect(await c.read.pendingOwner()).toBe(getAddress(owner.account.address));
      await wait(c.accept());
      expect(await c.read.owner()).toBe(getAddress(owner.account.address));
      expect(await c.read.pendingOwner()).toBe(zeroAddress);
    }
  });

  it("serves a request end to end, and the owner can plug in another game factory", async () => {
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

    const next = await viem.deployContract("ToyDisputeGameFactory", [referee.account.address]);
    await wait(taskManager.write.setDisputeGameFactory([next.address], { account: owner.account }));
    expect(await taskManager.read.disputeGameFactory()).toBe(getAddress(next.address));
  });

  it("refuses to deploy without the required addresses, naming the parameter", async () => {
    const fresh = await network.create();
    await expect(
      fresh.ignition.deploy(OracleCoreModule, { parameters: { OracleCore: { clockDuration: 900n } } }),
    ).rejects.toThrow(/stakeToken/);
  });
});

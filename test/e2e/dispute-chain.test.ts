/**
 * Whole MNIST disputes on Hardhat's chain through the keeper service (keeper/src/demo): an honest
 * keeper and a keeper with an injected fault, the real game, the real MIPS step. For every fault kind,
 * at the first and last node and the first and last VM step, plus seeded random scenarios: the honest
 * side wins, the cheater alone is slashed, the right answer is final, and stake tokens are conserved
 * to the wei.
 */
import { describe, it, expect } from "vitest";
import { erc20Abi, zeroAddress, type Address, type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { formatFault, parseFault, seededDraw, FAULT_KINDS } from "../../keeper/game/faults.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld, LOCAL_GAME } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";

const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);
const T = 1n << BigInt(LOCAL_GAME.vmTraceDepth);

async function scenario(faultText: string, seed: number) {
  const fault = parseFault(faultText);
  const world = await createLocalWorld();
  const modelId = await world.registerModel(model);
  const parties = await createParties(world, { model, modelId, modelFile, fault, seed });
  try {
    const token = world.addresses.stakeToken;
    const holders: Address[] = [world.addresses.staking, parties.honest.address, parties.cheater.address, world.owner.account.address];
    const balances = async () =>
      Promise.all(holders.map((a) => world.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [a] })));
    const supply = () => world.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "totalSupply" });
    const supplyBefore = await supply();
    const sumBefore = (await balances()).reduce((a, b) => a + b, 0n);
    const stakeOf = async (a: Address) => world.contracts.staking.read.getAccount([a]);
    const cheaterBefore = await stakeOf(parties.cheater.address);

    const test = loadMnist().test;
    const sample = test[Number(seededDraw(seed, "sample", BigInt(test.length)))]!;
    const input = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    await world.publicClient.waitForTransactionReceipt({
      hash: await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee }),
    });
    const requestId = await world.contracts.aiOracle.read.requestCount();
    const result = await playUntilFinal(world, parties, [requestId]);

    // The final answer is the honest keeper's.
    const honestClaim = parties.honest.runtime.store.listClaims(requestId).find((c) => c.ours);
    expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
    expect(await world.contracts.aiOracle.read.getOutputHash([requestId])).toBe(honestClaim?.outputHash);
    // The cheater alone lost its bond; tokens conserved to the wei.
    expect(result.winner).toBe("honest");
    expect(result.cheaterSlashed).toBe(await world.contracts.taskManager.read.claimBond());
    const cheaterAfter = await stakeOf(parties.cheater.address);
    expect(cheaterBefore.active - cheaterAfter.active - cheaterAfter.unbonding + cheaterBefore.unbonding).toBe(result.cheaterSlashed);
    expect((await stakeOf(parties.honest.address)).locked).toBe(0n);
    expect(await supply()).toBe(supplyBefore);
    expect((await balances()).reduce((a, b) => a + b, 0n)).toBe(sumBefore);
    return result;
  } finally {
    closeParties(parties);
  }
}

describe("disputes on chain through the keeper service", () => {
  it.each([
    ["graph:1", 1], // first node
    ["graph:3", 2], // last node
    ["vm:1", 3], // the first VM step
    [`vm:${T}`, 4], // the last VM step
    ["false-challenge:2", 5],
    ["silent:0", 6],
    ["silent:3", 7],
  ])("%s: the honest keeper wins", async (fault, seed) => {
    const r = await scenario(fault, seed);
    expect(r.graphRounds).toBeGreaterThanOrEqual(1);
    if (!fault.startsWith("silent")) expect(r.vmRounds).toBeGreaterThanOrEqual(1);
  });

  it("wins seeded random scenarios of every kind", async () => {
    for (let seed = 100; seed < 104; seed++) {
      const kind = FAULT_KINDS[Number(seededDraw(seed, "kind", BigInt(FAULT_KINDS.length)))]!;
      const at = kind === "vm" ? 1n + seededDraw(seed, "at", T) : 1n + seededDraw(seed, "at", BigInt(model.nodes.length));
      const fault = formatFault({ kind, at: kind === "silent" ? seededDraw(seed, "at", 8n) : at });
      await scenario(fault, seed);
    }
  });
});

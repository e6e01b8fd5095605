/**
 * A keeper whose claims and moves are computed on a compute pool (keeper/src/service/compute-pool.ts) through the
 * real keeper service on Hardhat's in-process chain with the real game (MIPS step): it answers a request and defends
 * its answer against a false challenge, and it challenges a wrong answer and wins, each game played to the end with
 * every honest move solved on the pool's game thread. Its ticks never wait for a computation: a claim is picked up on
 * a later tick (the scenario's loop lets no chain time pass while a party computes).
 */
import { describe, expect, it } from "vitest";
import { threadId } from "node:worker_threads";
import { zeroAddress, type Hex } from "viem";
import { parseFault } from "../../keeper/game/faults.ts";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";
import { createLocalWorld } from "../../keeper/src/demo/world.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";

const model = loadModelFile(resolveModelPath("mnist"));

async function dispute(fault: string) {
  const world = await createLocalWorld();
  const modelId = await world.registerModel(model);
  const parties = await createParties(world, { model, modelId, modelFile: "mnist", fault: parseFault(fault), seed: 1, honestComputeThreads: 1 });
  try {
    const input = quantizeInput(model, Array.from(loadMnist().test[3]!.pixels));
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    const hash = await world.contracts.aiOracle.write.requestCallback([modelId, toHex(encodeTensor(input)) as Hex, zeroAddress, 0n, "0x"], { value: fee });
    await world.publicClient.waitForTransactionReceipt({ hash });
    const requestId = await world.contracts.aiOracle.read.requestCount();
    // The first honest tick only starts the claim computation: nothing is sent, the request stays pending.
    if (fault === "false-challenge") {
      await parties.honest.keeper.tick();
      expect(parties.honest.runtime.store.getRequest(requestId)?.status).toBe("pending");
      expect(parties.honest.runtime.store.listIntents("open")).toHaveLength(0);
    }
    const result = await playUntilFinal(world, parties, [requestId]);
    const workers = parties.honest.compute!.workers();
    const games = parties.honest.runtime.store.listGames().map((g) => g.status);
    return { world, result, workers, requestId, games };
  } finally {
    closeParties(parties);
  }
}

describe("a keeper computing on a compute pool", () => {
  it("answers a request and defends it against a false challenge to the end, its claim and moves computed in worker threads", async () => {
    const { world, result, workers, requestId, games } = await dispute("false-challenge");
    expect(result.winner).toBe("honest");
    expect(result.cheaterSlashed).toBeGreaterThan(0n);
    expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
    expect(games).toEqual(["won"]);
    // The claim came from a claim thread and every move from the game thread (not this thread).
    expect(workers.map((w) => w.threadId)).not.toContain(threadId);
    expect(workers.find((w) => w.role === "claim")!.jobsDone).toBeGreaterThan(0);
    expect(workers.find((w) => w.role === "game")!.jobsDone).toBeGreaterThanOrEqual(result.graphRounds + result.vmRounds);
  });

  it("challenges a wrong answer and wins the game, moves solved on the game thread", async () => {
    const { result, workers, games } = await dispute("graph:2");
    expect(result.winner).toBe("honest");
    expect(games).toEqual(["won"]);
    expect(workers.find((w) => w.role === "game")!.jobsDone).toBeGreaterThan(0);
  });
});

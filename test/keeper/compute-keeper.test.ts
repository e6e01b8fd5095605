/**
 * A keeper whose claims and moves are computed on a compute pool (keeper/src/service/compute-pool.ts) through the
 * real keeper service on Hardhat's in-process chain with the real game (MIPS step): it answers a request and defends
 * its answer against a false challenge, and it challenges a wrong answer and wins, each game played to the end with
 * every honest move solved on the pool's game thread. Its ticks never wait for a computation: a claim is picked up on
 * a later tick (the scenario's loop lets no chain time pass while a party computes). And, on the keeper testbed:
 * nothing is decided on a request while its claim computes — an open commit intent left by a crash waits (neither
 * sent nor settled moot), a wrong claim is not judged — and both are made once the claim is picked up.
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
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CrashFault, type Keeper } from "../../keeper/src/service/keeper.ts";
import { createComputePool } from "../../keeper/src/service/compute-pool.ts";
import { keeperTestbed } from "./testbed.ts";

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

/** Waits (without chain time passing) until the keeper's claim computations on its pool have settled. */
async function settled(keeper: Keeper): Promise<void> {
  while (keeper.computing() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("a pool keeper decides nothing on a request while its claim computes", () => {
  const tb = keeperTestbed();
  const COMMITTED = 2;

  it("killed between deciding and sending a commit, restarted on a pool: the open intent waits for the claim, then the commit is made once", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await tb.request(2);
    const dataDir = mkdtempSync(join(tmpdir(), "oao-pool-commit-"));
    const first = await tb.runtime(dataDir);
    const crash = (intent: { kind: string }) => {
      if (intent.kind === "commit") throw new CrashFault("killed before sending the commit");
    };
    await expect(tb.keeperOf(first, { fromBlock, crashBeforeSend: crash }).tick()).rejects.toThrow(CrashFault);
    expect(first.store.getIntent("commit", id)).toMatchObject({ status: "open" });

    const rt = await tb.runtime(dataDir);
    const pool = createComputePool({ threads: 1, modelFile: (m) => rt.models.get(m)?.path });
    try {
      const keeper = tb.keeperOf(rt, { compute: pool });
      await keeper.tick(); // starts the claim: the intent is neither sent nor settled meanwhile
      expect(keeper.computing()).toBe(1);
      expect(rt.store.getIntent("commit", id)).toMatchObject({ status: "open", attempts: 0 });
      expect(rt.store.getRequest(id)?.status).toBe("computing");
      await settled(keeper);
      await keeper.tick();
      expect(await tb.core.taskManager.read.getStatus([id])).toBe(COMMITTED);
      expect(rt.store.getIntent("commit", id)).toMatchObject({ status: "done" });
      expect(await tb.standingOutput(id)).toBe(tb.outputOf(2));
      expect(pool.workers()[0]!.jobsDone).toBe(1);
    } finally {
      await pool.close();
      rt.close();
    }
  });

  it("a wrong claim is left unjudged while our claim computes, then challenged", async () => {
    const id = await tb.request(3);
    await tb.commitWrong(id, 3);
    const rt = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-pool-challenge-")));
    const pool = createComputePool({ threads: 1, modelFile: (m) => rt.models.get(m)?.path });
    try {
      const keeper = tb.keeperOf(rt, { compute: pool, fromBlock: (await rt.publicClient.getBlockNumber()) - 2n });
      await keeper.tick();
      expect(rt.store.getRequest(id)?.status).toBe("watching");
      expect(rt.store.listRequestIntents(id)).toHaveLength(0);
      await settled(keeper);
      await keeper.tick();
      expect(rt.store.getRequest(id)?.status).toBe("disputed");
      expect(rt.store.getIntent("challenge", id, rt.store.listClaims(id).find((c) => !c.ours)!.claimId)).toMatchObject({ status: "done" });
      expect(await tb.ourChallenges(id, rt.responder.address)).toHaveLength(1);
    } finally {
      await pool.close();
      rt.close();
    }
  });
});

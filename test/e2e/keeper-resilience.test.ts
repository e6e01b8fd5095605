/**
 * The keeper under stress, on Hardhat's chain with the real game: restarted in the middle of a
 * dispute it resumes from its database and still wins; behind an RPC endpoint that drops and delays a
 * fraction of calls it still wins; 1,000 queued requests are all answered, none lost.
 */
import { describe, it, expect } from "vitest";
import { custom, zeroAddress, type EIP1193RequestFn, type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { parseFault, seededDraw } from "../../keeper/game/faults.ts";
import { seededRandom } from "../../keeper/graph/fixtures.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";

const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);

async function request(world: LocalWorld, modelId: bigint, seed: number): Promise<bigint> {
  const test = loadMnist().test;
  const sample = test[Number(seededDraw(seed, "sample", BigInt(test.length)))]!;
  const input = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
  const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
  await world.publicClient.waitForTransactionReceipt({
    hash: await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee }),
  });
  return world.contracts.aiOracle.read.requestCount();
}

describe("keeper resilience", () => {
  it("resumes a dispute after being killed mid-game and still wins", async () => {
    const world = await createLocalWorld();
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 3 });
    const requestId = await request(world, modelId, 3);
    // Play until the game is in phase 1 (VM bisection), then kill the honest keeper.
    for (let i = 0; i < 50; i++) {
      await parties.cheater.keeper.tick();
      await parties.honest.keeper.tick();
      const games = parties.honest.runtime.store.listGames<{ phase: string }>("active");
      if (games.some((g) => g.state.phase === "Vm")) break;
    }
    const midGame = parties.honest.runtime.store.listGames<{ phase: string; transactions: number }>("active");
    expect(midGame).toHaveLength(1);
    expect(midGame[0]!.state.phase).toBe("Vm");
    const before = midGame[0]!.state.transactions;
    // "SIGKILL": drop the process state without closing anything; a new keeper opens the same database.
    const restarted = await parties.restart("honest");
    expect(restarted.runtime.store.listGames("active")).toHaveLength(1);
    const result = await playUntilFinal(world, parties, [requestId]);
    expect(result.winner).toBe("honest");
    expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
    const after = restarted.runtime.store.listGames<{ transactions: number }>()[0]!.state.transactions;
    expect(after).toBeGreaterThan(before); // it went on playing where it stopped
    closeParties(parties);
  });

  it("wins behind an RPC endpoint that drops and delays a fraction of calls", async () => {
    const world = await createLocalWorld();
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("vm:40"), seed: 5 });
    const rand = seededRandom(42);
    let dropped = 0;
    const flaky: EIP1193RequestFn = (async (args: { method: string; params?: unknown }) => {
      const r = rand();
      // Drop before forwarding (the node never sees the call) or delay; the keeper must cope with both.
      if (r < 0.15) {
        dropped++;
        throw Object.assign(new Error("fetch failed: connection reset (injected)"), { name: "HttpRequestError" });
      }
      if (r < 0.3) await new Promise((resolve) => setTimeout(resolve, 20));
      return world.conn.provider.request(args as never);
    }) as EIP1193RequestFn;
    await parties.restart("honest", { transport: custom({ request: flaky }, { retryCount: 0 }) });
    const requestId = await request(world, modelId, 5);
    const result = await playUntilFinal(world, parties, [requestId], () => {}, 2_000);
    expect(dropped).toBeGreaterThan(10);
    expect(result.winner).toBe("honest");
    expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
    closeParties(parties);
  });

  it("challenges through an RPC whose transaction path is down longer than the send retries last, and wins", async () => {
    const world = await createLocalWorld();
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 13 });
    // eth_sendRawTransaction fails FAILS times in a row (reads still work): more than one send's retries (6)
    // and than the ~9 s the old keeper retried before marking the request `failed` for good.
    const FAILS = 20;
    let refused = 0;
    const down: EIP1193RequestFn = (async (args: { method: string; params?: unknown }) => {
      if (args.method === "eth_sendRawTransaction" && refused < FAILS) {
        refused++;
        throw Object.assign(new Error("HTTP request failed. (injected: transaction path down)"), { name: "HttpRequestError" });
      }
      return world.conn.provider.request(args as never);
    }) as EIP1193RequestFn;
    const honest = await parties.restart("honest", { transport: custom({ request: down }, { retryCount: 0 }), keeper: { retryBackoff: { base: 0, max: 0 } } });
    const requestId = await request(world, modelId, 13);
    await parties.cheater.keeper.tick(); // the cheater's wrong claim stands
    // While the path is down the honest keeper's ticks fail (not ready, with the reason) and its challenge stays owed.
    await expect(honest.keeper.tick()).rejects.toThrow(/challenge of request \d+ not made yet: HTTP request failed/);
    expect(honest.keeper.readiness()).toMatchObject({ ready: false, reason: expect.stringMatching(/challenge of request \d+ not made yet/) });
    expect(honest.runtime.store.getRequest(requestId)?.status).toBe("disputed");
    const result = await playUntilFinal(world, parties, [requestId]);
    expect(refused).toBe(FAILS);
    expect(result.winner).toBe("honest");
    expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
    const challenges = honest.runtime.store.listTxs().filter((t) => t.kind === "challenge");
    expect(challenges).toHaveLength(1); // sent once, when the path was back
    closeParties(parties);
  });

  it("answers 1,000 queued requests, none lost", async () => {
    const world = await createLocalWorld();
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:1"), seed: 9 });
    const N = Number(process.env.OAO_QUEUE_TEST ?? 1_000);
    const test = loadMnist().test;
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    for (let i = 0; i < N; i++) {
      const input = toHex(encodeTensor(quantizeInput(model, Array.from(test[i % test.length]!.pixels)))) as Hex;
      await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee });
    }
    expect(await world.contracts.aiOracle.read.requestCount()).toBe(BigInt(N));
    const honest = parties.honest;
    // Every open claim locks a bond: stake enough for all of them (plus the minimum to serve).
    const bond = await world.contracts.taskManager.read.claimBond();
    await world.fundAndStake(1, bond * BigInt(N));
    const started = performance.now();
    for (let t = 0; t < 200 && honest.runtime.store.countRequests("committed") < N; t++) await honest.keeper.tick();
    const seconds = (performance.now() - started) / 1000;
    expect(honest.runtime.store.countRequests()).toBe(N);
    expect(honest.runtime.store.countRequests("committed")).toBe(N);
    for (const id of [1n, BigInt(N / 2), BigInt(N)]) expect(await world.contracts.taskManager.read.getStatus([id])).toBe(2); // Committed
    console.log(`answered ${N} requests in ${seconds.toFixed(1)} s (${(N / seconds).toFixed(1)} requests/s, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB)`);
    closeParties(parties);
  }, 900_000);
});

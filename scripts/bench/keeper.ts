/**
 * Keeper section: the service a staker runs (watcher, native executor, claim proof, responder,
 * SQLite store) on Hardhat's in-process chain with the protocol deployed by Ignition.
 * - latency: requests sent one at a time; the time from the request's receipt until the keeper's
 *   commit is mined, with ticks back to back (no poll interval, automine: no block time);
 * - throughput: N requests queued on chain, then one keeper answers them all.
 */
import { zeroAddress, type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex, type Model } from "../../keeper/graph/index.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties } from "../../keeper/src/demo/scenario.ts";
import type { BenchContext, BenchSection, SectionResult } from "./types.ts";
import { median, sig } from "./util.ts";

async function sendRequests(world: LocalWorld, model: Model, modelId: bigint, from: number, count: number): Promise<void> {
  const test = loadMnist().test;
  const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
  let last: Hex | undefined;
  for (let i = from; i < from + count; i++) {
    const input = toHex(encodeTensor(quantizeInput(model, Array.from(test[i % test.length]!.pixels)))) as Hex;
    last = await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee });
  }
  if (last !== undefined) await world.publicClient.waitForTransactionReceipt({ hash: last });
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  const modelFile = resolveModelPath("mnist");
  const model = loadModelFile(modelFile);
  const world = await createLocalWorld();
  const modelId = await world.registerModel(model);
  // Only the honest keeper runs here; the scenario's fault is irrelevant to it.
  const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:1"), seed: 1 });
  const keeper = parties.honest;
  const committed = () => keeper.runtime.store.countRequests("committed");
  try {
    const lone = ctx.quick ? 10 : 30;
    const N = ctx.quick ? 100 : 1000;
    // Every open claim locks a bond until finalized: stake enough for all of them first.
    const bond = await world.contracts.taskManager.read.claimBond();
    await world.fundAndStake(1, bond * BigInt(N + lone));
    ctx.log(`  latency: ${lone} requests one at a time`);
    const latencies: number[] = [];
    for (let i = 0; i < lone; i++) {
      const before = committed();
      await sendRequests(world, model, modelId, i, 1);
      const t0 = performance.now();
      for (let t = 0; t < 50 && committed() === before; t++) await keeper.keeper.tick();
      if (committed() !== before + 1) throw new Error(`request ${i + 1} was not committed within 50 ticks`);
      latencies.push(performance.now() - t0);
    }
    ctx.log(`  throughput: ${N} queued requests`);
    const base = committed();
    await sendRequests(world, model, modelId, lone, N);
    const started = performance.now();
    for (let t = 0; t < 400 && committed() < base + N; t++) await keeper.keeper.tick();
    const seconds = (performance.now() - started) / 1000;
    if (committed() !== base + N) throw new Error(`only ${committed() - base} of ${N} queued requests were committed`);
    const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    const p50 = median(latencies);
    const p95 = [...latencies].sort((a, b) => a - b)[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.95) - 1)]!;
    const throughput = N / seconds;
    return {
      metrics: [
        { key: "keeper.latencyMsP50", value: sig(p50), unit: "ms", description: "request mined → commit mined, median; ticks back to back (add the poll interval and block times on a real chain)" },
        { key: "keeper.latencyMsP95", value: sig(p95), unit: "ms", description: "the same, 95th percentile" },
        { key: "keeper.requestsPerSecond", value: sig(throughput), unit: "requests/s", description: `one keeper answering ${N} queued MNIST requests (inference, commitments, claim proof, commit tx)` },
        { key: "keeper.heapMiB", value: heapMiB, unit: "MiB", description: "JS heap of the process after the throughput run" },
      ],
      tables: [
        {
          title: "Keeper latency and throughput (MNIST, one keeper)",
          command: "npm run bench -- --only keeper",
          columns: ["figure", "value"],
          numeric: [false, true],
          rows: [
            [`latency p50 over ${lone} lone requests (ms)`, sig(p50)],
            ["latency p95 (ms)", sig(p95)],
            [`throughput, ${N} queued requests (requests/s)`, sig(throughput)],
            [`time to answer all ${N} (s)`, sig(seconds)],
            ["heap after the run (MiB)", heapMiB],
          ],
          notes:
            "Hardhat's in-process chain (automine, no block time), the keeper's default config with 0 confirmations, " +
            "ticks back to back. Each answer is a `commit` with the §3.5 claim proof, sent on the pipelined nonce lane (automine: each is mined as it is sent; on a chain with block times see \"Keeper on 1 s blocks\" below). " +
            "On a real network add the poll interval (`pollIntervalMs`, default 1 s) and the block time; the keeper " +
            "exports the latency as the `oao_keeper_request_to_commit_seconds` histogram.",
        },
      ],
      charts: [],
    };
  } finally {
    closeParties(parties);
    await world.conn.close();
  }
}

export const section: BenchSection = { id: "keeper", title: "Keeper: latency and throughput", run };

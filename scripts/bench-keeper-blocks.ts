/**
 * Commit latency of one keeper on 1 s blocks (issue 13 "throughput"): N MNIST requests are queued while the
 * chain automines, then the chain switches to interval mining (one block every BLOCK_MS) and a keeper answers them
 * all, ticking every 200 ms as `oao keeper run` would. Latency of a request = timestamp of the block its commit
 * was mined in − timestamp of the first interval-mined block (every request was already queued then).
 *
 *   tsx scripts/bench-keeper-blocks.ts [N=200] [--window W] [--block-ms 1000]
 *
 * `--window 1` makes the responder wait for each receipt before the next send (the lane before pipelining).
 * Prints one JSON line: p50/p99/max latency (s), commits per block, blocks used.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEventLog, zeroAddress, type Hex } from "viem";
import { TaskManagerAbi } from "../sdk/src/abis/generated.ts";
import { encodeTensor, quantizeInput, toHex } from "../keeper/graph/index.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";
import { createLocalWorld, devKey } from "../keeper/src/demo/world.ts";
import { loadModelFile, ModelBook, resolveModelPath } from "../keeper/src/service/models.ts";
import { parseKeeperConfig } from "../keeper/src/service/config.ts";
import { createKeeperRuntime } from "../keeper/src/service/runtime.ts";
import { createKeeper } from "../keeper/src/service/keeper.ts";
import { createLogger } from "../keeper/src/service/logger.ts";
import { createMetrics } from "../keeper/src/service/metrics.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const N = Number(args.find((a) => /^\d+$/.test(a) && args[args.indexOf(a) - 1]?.startsWith("--") !== true) ?? 200);
const window = flag("--window") !== undefined ? Number(flag("--window")) : undefined;
const blockMs = Number(flag("--block-ms") ?? 1000);

const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);
const world = await createLocalWorld();
const modelId = await world.registerModel(model);
const bond = await world.contracts.taskManager.read.claimBond();
await world.fundAndStake(1, bond * BigInt(N) + 200n * 10n ** 18n);
const test = loadMnist().test;
const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
for (let i = 0; i < N; i++) {
  const input = toHex(encodeTensor(quantizeInput(model, Array.from(test[i % test.length]!.pixels)))) as Hex;
  await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee });
}
const models = new ModelBook();
models.add(modelId, model);
const config = parseKeeperConfig({
  rpcUrl: "http://127.0.0.1:8545",
  contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
  dataDir: mkdtempSync(join(tmpdir(), "oao-bench-blocks-")),
  models: { [modelId.toString()]: modelFile },
  confirmations: 0,
  logLevel: "silent",
});
const rt = await createKeeperRuntime(config, devKey(1), {
  transport: world.transport,
  models,
  elf: world.elf,
  log: createLogger({ level: process.env.OAO_LOG_LEVEL ?? "silent" }),
  metrics: createMetrics({ defaultMetrics: false }),
  ...(window !== undefined ? ({ responder: { window } } as object) : {}),
});
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
  batchSize: 64,
});
await world.conn.provider.request({ method: "evm_setAutomine", params: [false] });
await world.conn.provider.request({ method: "evm_setIntervalMining", params: [blockMs] });
const startBlock = await world.publicClient.getBlockNumber();
// The first interval-mined block: every request is queued by then.
let t0Block = startBlock;
while (t0Block === startBlock) {
  await new Promise((r) => setTimeout(r, 50));
  t0Block = await world.publicClient.getBlockNumber();
}
const t0 = (await world.publicClient.getBlock({ blockNumber: t0Block })).timestamp;
const started = performance.now();
let ticks = 0;
while (rt.store.countRequests("committed") < N && ticks < 5_000) {
  await keeper.tick().catch((e: Error) => console.error(`tick: ${e.message.split("\n")[0]}`));
  ticks++;
  await new Promise((r) => setTimeout(r, 200));
}
const wall = (performance.now() - started) / 1000;
await world.conn.provider.request({ method: "evm_setIntervalMining", params: [0] });
await world.conn.provider.request({ method: "evm_setAutomine", params: [true] });
const logs = await world.publicClient.getLogs({ address: world.addresses.taskManager, fromBlock: startBlock });
const perBlock = new Map<bigint, number>();
const latencies: number[] = [];
const stamps = new Map<bigint, bigint>();
for (const log of logs) {
  const ev = decodeEventLog({ abi: TaskManagerAbi, data: log.data, topics: log.topics }) as { eventName: string };
  if (ev.eventName !== "ClaimCommitted") continue;
  const b = log.blockNumber!;
  perBlock.set(b, (perBlock.get(b) ?? 0) + 1);
  if (!stamps.has(b)) stamps.set(b, (await world.publicClient.getBlock({ blockNumber: b })).timestamp);
  latencies.push(Number(stamps.get(b)! - t0));
}
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
console.log(
  JSON.stringify({
    requests: N,
    committed: latencies.length,
    window: window ?? "default",
    blockMs,
    p50s: q(0.5),
    p99s: q(0.99),
    maxs: latencies.at(-1),
    blocksWithCommits: perBlock.size,
    maxCommitsPerBlock: Math.max(...perBlock.values()),
    meanCommitsPerBlock: +(latencies.length / perBlock.size).toFixed(1),
    wallSeconds: +wall.toFixed(1),
    ticks,
  }),
);
rt.close();
process.exit(0);

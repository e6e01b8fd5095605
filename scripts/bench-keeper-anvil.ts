/**
 * Keeper throughput on a separate anvil node with 1 s blocks (issue 13 "throughput", docs/benchmarks.md): N MNIST
 * requests are queued while anvil automines, then anvil switches to one block per second and K `oao keeper run`
 * processes (each its own operator, all listing each other as `peers`) answer them. Reports, from the chain's logs:
 * commits per block per keeper, the time from the last request to the last commit (must be well under the request
 * timeout, 1 h on this deployment), the span from the first to the last commit, and commits per second.
 *
 *   npm run bench:keeper-anvil -- [N=1000] [--keepers K=1] [--block-s 1] [--window W]
 *
 * anvil runs with a 100 M block gas limit; after queueing, the base fee is reset to 1 gwei (mining the queue in
 * full blocks drives it up). Needs the optional dependency @foundry-rs/anvil-linux-amd64 and `npm run build`. Not
 * part of `npm test`.
 * Prints one JSON line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEventLog, encodeFunctionData, zeroAddress, type Address, type Hex } from "viem";
import { AIOracleAbi, TaskManagerAbi } from "../sdk/src/abis/generated.ts";
import { encodeTensor, quantizeInput, toHex } from "../keeper/graph/index.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";
import { createLocalWorld, devKey } from "../keeper/src/demo/world.ts";
import { loadModelFile, resolveModelPath } from "../keeper/src/service/models.ts";

const root = new URL("..", import.meta.url).pathname;
const ANVIL = `${root}node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`;
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith("--"));
const N = Number(positional[0] ?? 1000);
const K = Number(flag("--keepers") ?? 1);
const blockS = Number(flag("--block-s") ?? 1);
const window = flag("--window");
if (!existsSync(ANVIL)) throw new Error(`anvil not found at ${ANVIL}: install the optional dependency @foundry-rs/anvil-linux-amd64`);

/** Block gas limit: 100 M, so two keepers' full windows (2 × 64 commits × ~0.48 M gas) fit in a block. */
const GAS_LIMIT = 100_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const port = 20_000 + (process.pid % 10_000);
const rpc = `http://127.0.0.1:${port}`;
const anvil = spawn(ANVIL, ["--port", String(port), "--silent", "--gas-limit", String(GAS_LIMIT), "--accounts", "10"], { stdio: "ignore" });
const keepers: ChildProcess[] = [];
const cleanup = () => {
  for (const k of keepers) k.kill("SIGKILL");
  anvil.kill("SIGKILL");
};
process.on("exit", cleanup);
for (let i = 0; i < 100; i++) {
  const up = await fetch(rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) })
    .then((r) => r.ok)
    .catch(() => false);
  if (up) break;
  await sleep(100);
}
const call = (method: string, params: unknown[] = []) =>
  fetch(rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) }).then(
    (r) => r.json() as Promise<{ result?: unknown; error?: unknown }>,
  );

const step = (what: string) => console.error(`[bench] ${what}`);
step(`anvil on ${rpc}; deploying`);
const world = await createLocalWorld({ rpc });
const model = loadModelFile(resolveModelPath("mnist"));
const modelId = await world.registerModel(model);
const bond = await world.contracts.taskManager.read.claimBond();
const operators: Address[] = [];
for (let k = 1; k <= K; k++) operators.push(await world.fundAndStake(k, bond * BigInt(N) + 200n * 10n ** 18n));
const timeout = await world.contracts.aiOracle.read.requestTimeout().catch(() => undefined);

step(`deployed; ${K} operator(s) staked; queueing ${N} requests`);
// Queue N requests (automine: each in its own block, sent back to back).
const test = loadMnist().test;
const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
const startBlock = await world.publicClient.getBlockNumber();
const queueStarted = performance.now();
// Sent straight to anvil's unlocked account 0 with automine off, 200 per mined block (anvil's automine stops
// including transactions when thousands arrive back to back, and then its interval mining does too).
await call("evm_setAutomine", [false]);
const requester = world.owner.account.address;
let last: Hex | undefined;
for (let i = 0; i < N; i++) {
  const input = toHex(encodeTensor(quantizeInput(model, Array.from(test[i % test.length]!.pixels)))) as Hex;
  const data = encodeFunctionData({ abi: AIOracleAbi, functionName: "requestCallback", args: [modelId, input, zeroAddress, 0n, "0x"] });
  const r = await call("eth_sendTransaction", [{ from: requester, to: world.addresses.aiOracle, data, value: `0x${fee.toString(16)}`, gas: "0x60000" }]);
  if (r.error !== undefined) throw new Error(`request ${i}: ${JSON.stringify(r.error)}`);
  last = r.result as Hex;
  if (i % 200 === 199) await call("evm_mine");
}
for (;;) {
  const pool = (await call("txpool_status")).result as { pending: Hex; queued: Hex };
  if (BigInt(pool.pending) + BigInt(pool.queued) === 0n) break;
  await call("evm_mine");
}
const lastRequest = await world.publicClient.waitForTransactionReceipt({ hash: last! });
const requestCount = await world.contracts.aiOracle.read.requestCount();
if (requestCount < BigInt(N)) throw new Error(`only ${requestCount} of ${N} requests landed`);
const lastRequestTs = (await world.publicClient.getBlock({ blockNumber: lastRequest.blockNumber })).timestamp;
const queueSeconds = (performance.now() - queueStarted) / 1000;

step(`queued in ${queueSeconds.toFixed(1)} s; starting ${K} keeper(s) on ${blockS} s blocks`);
// 1 s blocks from now on; then the keepers start. Mining the queue in full blocks raised the base fee far above
// anything a keeper bids; start the run at 1 gwei, as after a quiet period.
await call("anvil_setNextBlockBaseFeePerGas", ["0x3b9aca00"]);
await call("evm_mine");
await call("evm_setIntervalMining", [blockS]);
const dir = mkdtempSync(join(tmpdir(), "oao-bench-anvil-"));
for (let k = 1; k <= K; k++) {
  const config = join(dir, `keeper-${k}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      rpcUrl: rpc,
      contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
      dataDir: `data-${k}`,
      models: { [modelId.toString()]: "mnist" },
      startBlock: Number(startBlock),
      confirmations: 0,
      pollIntervalMs: 200,
      http: { port: 0 },
      peers: operators,
      ...(window !== undefined ? { txWindow: Number(window) } : {}),
    }),
  );
  const child = spawn(process.execPath, [`${root}bin/oao.js`, "keeper", "run", "--config", config], {
    cwd: root,
    env: { ...process.env, OAO_PRIVATE_KEY: devKey(k), OAO_LOG_LEVEL: process.env.OAO_LOG_LEVEL ?? "error" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  keepers.push(child);
}
const keepersStarted = performance.now();

// Wait until every request is committed (or 2 h of wall time).
const tm = world.addresses.taskManager;
const commits: { block: bigint; operator: string }[] = [];
let scanned = startBlock;
while (commits.length < N && performance.now() - keepersStarted < 7_200_000) {
  await sleep(2_000);
  const head = await world.publicClient.getBlockNumber();
  if (head <= scanned) continue;
  const logs = await world.publicClient.getLogs({ address: tm, fromBlock: scanned + 1n, toBlock: head });
  for (const l of logs) {
    const ev = decodeEventLog({ abi: TaskManagerAbi, data: l.data, topics: l.topics });
    if (ev.eventName === "ClaimCommitted") commits.push({ block: l.blockNumber!, operator: (ev.args.operator as string).toLowerCase() });
  }
  scanned = head;
  step(`${commits.length}/${N} committed, head ${head}`);
}
const wallSeconds = (performance.now() - keepersStarted) / 1000;
for (const k of keepers) k.kill("SIGKILL");

const ts = new Map<bigint, bigint>();
const stamp = async (b: bigint) => {
  if (!ts.has(b)) ts.set(b, (await world.publicClient.getBlock({ blockNumber: b })).timestamp);
  return ts.get(b)!;
};
const firstBlock = commits.reduce((m, c) => (c.block < m ? c.block : m), commits[0]?.block ?? 0n);
const lastBlock = commits.reduce((m, c) => (c.block > m ? c.block : m), 0n);
const firstTs = commits.length ? await stamp(firstBlock) : 0n;
const lastTs = commits.length ? await stamp(lastBlock) : 0n;
const perKeeper = operators.map((op) => {
  const mine = commits.filter((c) => c.operator === op.toLowerCase());
  const perBlock = new Map<bigint, number>();
  for (const c of mine) perBlock.set(c.block, (perBlock.get(c.block) ?? 0) + 1);
  return {
    operator: op,
    commits: mine.length,
    blocksWithCommits: perBlock.size,
    meanCommitsPerBlock: perBlock.size ? +(mine.length / perBlock.size).toFixed(1) : 0,
    maxCommitsPerBlock: perBlock.size ? Math.max(...perBlock.values()) : 0,
  };
});
const spanS = Number(lastTs - firstTs) + blockS;
console.log(
  JSON.stringify({
    requests: N,
    keepers: K,
    committed: commits.length,
    blockSeconds: blockS,
    txWindow: window ?? "default",
    requestTimeoutS: timeout !== undefined ? Number(timeout) : undefined,
    queueSeconds: +queueSeconds.toFixed(1),
    lastRequestToLastCommitS: commits.length ? Number(lastTs - lastRequestTs) : undefined,
    firstToLastCommitS: spanS,
    commitsPerSecond: +(commits.length / spanS).toFixed(2),
    commitsPerBlock: +(commits.length / (Number(lastBlock - firstBlock) + 1)).toFixed(1),
    perKeeper,
    wallSeconds: +wallSeconds.toFixed(1),
  }),
);
process.exit(0);

/**
 * The dev indexer's initial sync (subgraph/indexer/, `oao subgraph serve`): `npm run bench:dev-indexer -- [N]`.
 * Deploys the protocol on Hardhat's in-process chain, makes N MNIST requests (default 300; no keeper, so each is
 * one transaction and its events), then starts the indexer from the deployment's start block and reports the
 * events it ran through the mappings, the sync's wall time and rate, one collection query's time over the
 * requests, and the process's resident memory. One JSON line on stdout.
 */
import { zeroAddress, type Hex } from "viem";
import { subgraphNetworks } from "../keeper/src/demo/subgraph-networks.ts";
import { createLocalWorld } from "../keeper/src/demo/world.ts";
import { loadModelFile, resolveModelPath } from "../keeper/src/service/models.ts";
import { startDevIndexer } from "../subgraph/indexer/server.ts";

const arg = process.argv[2] ?? "300";
if (!/^\d+$/.test(arg) || Number(arg) === 0) throw new Error(`bench:dev-indexer ${arg}: expected a number of requests, such as 300`);
const requests = Number(arg);
const world = await createLocalWorld();
const modelId = await world.registerModel(loadModelFile(resolveModelPath("mnist")));
const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
const input = `0x${"00".repeat(784)}` as Hex;
for (let i = 0; i < requests; i++) await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee });
const head = await world.publicClient.getBlockNumber();

let events = 0;
const log = { info: (fields: object) => (events += (fields as { events: number }).events), warn() {}, error() {} };
const t0 = performance.now();
const indexer = await startDevIndexer({
  client: world.publicClient,
  port: 0,
  deployment: { network: "localhost", contracts: subgraphNetworks(world.addresses, world.startBlock).localhost! },
  log,
});
await indexer.synced(head);
const syncMs = performance.now() - t0;
const t1 = performance.now();
const response = await fetch(indexer.url, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "{ requests(first: 1000, orderBy: requestId, orderDirection: desc, where: { status_in: [Requested] }) { id model { id } } }" }),
});
const rows = ((await response.json()) as { data: { requests: unknown[] } }).data.requests.length;
const queryMs = performance.now() - t1;
await indexer.close();
console.log(
  JSON.stringify({
    requests,
    blocks: Number(head - world.startBlock + 1n),
    events,
    syncMs: Math.round(syncMs),
    eventsPerSecond: Math.round((events / syncMs) * 1000),
    queryRows: rows,
    queryMs: Math.round(queryMs),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
process.exit(0);

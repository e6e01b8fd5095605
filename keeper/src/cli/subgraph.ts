/**
 * `oao subgraph serve`: a development indexer for the subgraph, where graph-node cannot run (no Docker).
 *   oao subgraph serve [--rpc http://127.0.0.1:8545] [--port 8000] [--host 127.0.0.1]
 *                      [--deployment subgraph/networks.devnet.json] [--network localhost]
 * Runs the compiled mappings (subgraph/build: built first by `npm run subgraph:codegen` and `npm run subgraph:build`
 * when missing or older than subgraph/src, the schema or the manifest) on the chain's logs from the
 * deployment's start block on, keeps the entities in memory and serves GraphQL at graph-node's path
 * (subgraph/indexer/). Logs one JSON line per indexed batch on stderr; runs until SIGINT/SIGTERM.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { createPublicClient, http, type PublicClient } from "viem";
import { InputError } from "../../graph/errors.ts";
import { BUILD_MANIFEST, DEVNET_NETWORKS, newerSources, readDeployment } from "../../../subgraph/indexer/sources.ts";
import { createLogger } from "../service/logger.ts";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface ServeOpts {
  rpc: string;
  port: string;
  host: string;
  deployment: string;
  network?: string;
}

export function buildSubgraphCommand(): Command {
  const subgraph = new Command("subgraph").description("the subgraph on a development chain (graph-node via Docker is the production path: subgraph/README.md)");
  subgraph
    .command("serve")
    .description("index the chain with the subgraph's compiled mappings and serve GraphQL at /subgraphs/name/oao (in memory; no reorgs)")
    .option("--rpc <url>", "the chain's JSON-RPC URL", "http://127.0.0.1:8545")
    .option("--port <port>", "GraphQL HTTP port", "8000")
    .option("--host <host>", "GraphQL HTTP host", "127.0.0.1")
    .option("--deployment <file>", "the contracts' addresses and start blocks: graph-cli's networks file or a subgraph manifest", DEVNET_NETWORKS)
    .option("--network <name>", "the network of a networks file with several")
    .action(async (opts: ServeOpts) => serve(opts));
  return subgraph;
}

async function serve(opts: ServeOpts): Promise<void> {
  const port = Number(opts.port);
  if (!/^\d+$/.test(opts.port) || port > 65_535) throw new InputError(`--port ${opts.port}: expected 0..65535`);
  const deployment = readDeployment(opts.deployment, opts.network);
  const client = createPublicClient({ transport: http(opts.rpc) }) as PublicClient;
  try {
    await client.getBlockNumber();
  } catch (e) {
    throw new InputError(`--rpc ${opts.rpc}: no JSON-RPC node answers there (${(e as Error).message.split("\n")[0]}); start \`oao devnet\` or pass its URL`);
  }
  for (const [name, { address }] of Object.entries(deployment.contracts)) {
    const code = await client.getCode({ address });
    if (!code || code === "0x") {
      throw new InputError(`${opts.deployment}: ${name} at ${address} has no code on the chain at ${opts.rpc}; pass the --deployment of that chain (oao devnet writes ${DEVNET_NETWORKS})`);
    }
  }
  buildSubgraphIfNeeded();
  const log = createLogger({ level: process.env.OAO_LOG_LEVEL ?? "info", name: "oao-subgraph" });
  const { startDevIndexer } = await import("../../../subgraph/indexer/server.ts"); // graphql and the mappings' host: only here
  const indexer = await startDevIndexer({ client, port, host: opts.host, deployment, log });
  const first = Math.min(...Object.values(deployment.contracts).map((c) => c.startBlock));
  console.error(`oao subgraph serve: GraphQL at ${indexer.url}, indexing ${opts.rpc} (${deployment.network}) from block ${first}. Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await indexer.close();
}

/** Runs `graph codegen` and `graph build` when subgraph/build is missing or older than the subgraph's sources. */
function buildSubgraphIfNeeded(): void {
  const why = !existsSync(BUILD_MANIFEST) ? "is missing" : newerSources().length > 0 ? "is older than the subgraph's sources" : null;
  if (!why) return;
  console.error(`oao subgraph serve: subgraph/build ${why}: building it (npm run subgraph:codegen && npm run subgraph:build)…`);
  for (const script of ["subgraph:codegen", "subgraph:build"]) {
    const r = spawnSync("npm", ["run", script, "--silent"], { cwd: REPO_ROOT, stdio: ["ignore", 2, 2] });
    if (r.status !== 0) throw new Error(`\`npm run ${script}\` failed (its output is above); fix the subgraph and run oao subgraph serve again`);
  }
}

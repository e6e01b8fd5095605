/**
 * `startDevIndexer`: the dev indexer (indexer.ts) and its GraphQL endpoint (query.ts) over HTTP, at
 * graph-node's path `/subgraphs/name/<name>`, so `createSubgraphClient({ url })` of the SDK works
 * unchanged. `oao subgraph serve` runs it; tests start it in-process.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, relative } from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { loadSchema } from "../tests/runner/schema.ts";
import { subgraphDir } from "../tests/runner/run.ts";
import { BlockStore } from "./block-store.ts";
import { createChainIndexer, type IndexedBlock, type IndexerLog } from "./indexer.ts";
import { createQueryEngine } from "./query.ts";
import { BUILD_MANIFEST, DEVNET_NETWORKS, dataSourcesFor, loadBuild, newerSources, readDeployment, type Deployment } from "./sources.ts";

export interface StartDevIndexerParams {
  /** The chain's JSON-RPC URL (or `client`). */
  rpcUrl?: string;
  client?: PublicClient;
  /** HTTP port (default 8000, graph-node's; 0 picks a free one). */
  port?: number;
  host?: string;
  /** The deployment: a networks file or manifest path (default subgraph/networks.devnet.json, written by `oao devnet`), or its contents. */
  deployment?: string | Deployment;
  /** The network in a networks file with several. */
  network?: string;
  /** graph-build's manifest (default subgraph/build/subgraph.yaml). */
  manifest?: string;
  /** The subgraph name in the URL path (default `oao`). */
  name?: string;
  log?: IndexerLog;
  pollIntervalMs?: number;
}

export interface DevIndexer {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:8000/subgraphs/name/oao`. */
  url: string;
  /** Resolves once blocks up to `block` (default: the chain head now) are indexed; rejects if indexing stopped. */
  synced(block?: bigint): Promise<IndexedBlock>;
  head(): IndexedBlock;
  failure(): Error | null;
  close(): Promise<void>;
}

const silent: IndexerLog = { info() {}, warn() {}, error() {} };
const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) reject(new Error(`request body over ${MAX_BODY} bytes`));
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
  res.end(JSON.stringify(body));
}

export async function startDevIndexer(p: StartDevIndexerParams = {}): Promise<DevIndexer> {
  if (!p.client && !p.rpcUrl) throw new Error("startDevIndexer: pass rpcUrl (the chain's JSON-RPC URL) or client");
  const client = p.client ?? (createPublicClient({ transport: http(p.rpcUrl) }) as PublicClient);
  const deployment = typeof p.deployment === "object" ? p.deployment : readDeployment(p.deployment ?? DEVNET_NETWORKS, p.network);
  const manifest = p.manifest ?? BUILD_MANIFEST;
  const build = loadBuild(manifest);
  const sources = dataSourcesFor(build, deployment);
  // The schema the mappings were built with, beside them.
  const schemaFile = join(dirname(manifest), "schema.graphql");
  const schema = loadSchema(schemaFile);
  const store = new BlockStore(schema);
  const log = p.log ?? silent;
  const stale = manifest === BUILD_MANIFEST ? newerSources(manifest) : [];
  if (stale.length > 0) {
    log.warn({ newer: stale.map((f) => relative(subgraphDir, f)) }, "subgraph/build is older than these sources: rebuild it (npm run subgraph:codegen && npm run subgraph:build)");
  }
  const indexer = createChainIndexer({ client, sources, kinds: build.kinds, store, network: deployment.network, log, ...(p.pollIntervalMs ? { pollIntervalMs: p.pollIntervalMs } : {}) });
  const engine = createQueryEngine(
    { store, schema, head: indexer.head, hasIndexingErrors: () => indexer.failure() !== null, deployment: `oao-dev-indexer/${deployment.network}` },
    readFileSync(schemaFile, "utf8"),
  );
  const path = `/subgraphs/name/${p.name ?? "oao"}`;

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (req.method === "OPTIONS") {
        res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-allow-headers": "content-type" });
        res.end();
        return;
      }
      if (url.pathname !== path) {
        send(res, 404, { errors: [{ message: `no subgraph at ${url.pathname}: this dev indexer serves ${path}` }] });
        return;
      }
      let request: { query?: unknown; variables?: unknown; operationName?: unknown };
      try {
        if (req.method === "POST") request = JSON.parse(await readBody(req)) as typeof request;
        else if (req.method === "GET") {
          const variables = url.searchParams.get("variables");
          request = { query: url.searchParams.get("query") ?? undefined, variables: variables ? JSON.parse(variables) : undefined, operationName: url.searchParams.get("operationName") ?? undefined };
        } else {
          send(res, 405, { errors: [{ message: `${req.method} is not supported: POST a JSON body { "query", "variables" }` }] });
          return;
        }
      } catch (e) {
        send(res, 400, { errors: [{ message: `the request is not JSON: ${(e as Error).message}` }] });
        return;
      }
      if (typeof request.query !== "string") {
        send(res, 400, { errors: [{ message: 'the request has no "query" string' }] });
        return;
      }
      const result = await engine.execute(
        request.query,
        (request.variables ?? undefined) as Record<string, unknown> | undefined,
        typeof request.operationName === "string" ? request.operationName : undefined,
      );
      send(res, 200, result);
    })().catch((e: unknown) => send(res, 500, { errors: [{ message: (e as Error).message }] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p.port ?? 8000, p.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${path}`,
    async synced(block) {
      return indexer.synced(block ?? (await client.getBlockNumber({ cacheTime: 0 })));
    },
    head: indexer.head,
    failure: indexer.failure,
    async close() {
      await indexer.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

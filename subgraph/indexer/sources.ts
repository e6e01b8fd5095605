/**
 * The data sources the dev indexer runs: the compiled mappings and ABIs of `graph build`'s manifest
 * (subgraph/build/subgraph.yaml), with the addresses and start blocks of a deployment (graph-cli's
 * networks file, as `oao devnet` writes subgraph/networks.devnet.json, or a manifest such as
 * subgraph/subgraph.devnet.yaml). Each manifest event handler is matched to its ABI event by the
 * signature the manifest writes (`Name(indexed address,uint256)`), and keyed by its topic 0.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { getAddress, toEventSelector, type AbiEvent, type Address, type Hex } from "viem";
import { abiEventSignatures, readManifest, type ManifestSource } from "../tools/manifest.ts";
import { subgraphDir } from "../tests/runner/run.ts";

export const BUILD_MANIFEST = join(subgraphDir, "build", "subgraph.yaml");
export const DEVNET_NETWORKS = join(subgraphDir, "networks.devnet.json");

export interface EventHandler {
  /** The mapping's exported function. */
  handler: string;
  event: AbiEvent;
}

export interface DataSourceKind {
  name: string;
  template: boolean;
  /** The compiled mapping. */
  wasmFile: string;
  /** Handlers by topic 0. */
  handlers: Map<Hex, EventHandler>;
}

export interface DataSource {
  kind: DataSourceKind;
  address: Address;
  startBlock: bigint;
}

export interface Deployment {
  network: string;
  contracts: Record<string, { address: Address; startBlock: number }>;
}

type AbiItem = { type: string; name?: string; inputs?: AbiEvent["inputs"] };

function kindOf(source: ManifestSource, buildDir: string): DataSourceKind {
  const abi = JSON.parse(readFileSync(join(buildDir, source.abiFile), "utf8")) as AbiItem[];
  const events = abi.filter((item): item is AbiEvent => item.type === "event");
  const handlers = new Map<Hex, EventHandler>();
  for (const { event: signature, handler } of source.eventHandlers) {
    const event = events.find((e) => abiEventSignatures([e as AbiItem])[0] === signature);
    if (!event) throw new Error(`${source.name}: the manifest's event ${signature} is not in its ABI ${source.abiFile}; rebuild with \`npm run subgraph:build\``);
    handlers.set(toEventSelector(event), { handler, event });
  }
  return { name: source.name, template: source.template, wasmFile: join(buildDir, source.mappingFile), handlers };
}

/** graph-build's data sources and templates (addresses and start blocks as the built manifest has them). */
export function loadBuild(manifest = BUILD_MANIFEST): { sources: ManifestSource[]; kinds: Map<string, DataSourceKind> } {
  if (!existsSync(manifest)) {
    throw new Error(`${manifest} not found: build the subgraph's mappings first (npm run subgraph:codegen && npm run subgraph:build)`);
  }
  const sources = readManifest(manifest);
  const kinds = new Map<string, DataSourceKind>();
  for (const source of sources) {
    const kind = kindOf(source, dirname(manifest));
    if (!existsSync(kind.wasmFile)) throw new Error(`${kind.wasmFile} not found: rebuild the subgraph (npm run subgraph:build)`);
    kinds.set(source.name, kind);
  }
  return { sources, kinds };
}

/**
 * The subgraph sources (schema, manifest, mappings) changed since `graph build` wrote `manifest`, if any:
 * the compiled mappings would not be the ones in subgraph/src.
 */
export function newerSources(manifest = BUILD_MANIFEST): string[] {
  const built = statSync(manifest).mtimeMs;
  const src = join(subgraphDir, "src");
  const files = [join(subgraphDir, "schema.graphql"), join(subgraphDir, "subgraph.yaml"), ...readdirSync(src).map((f) => join(src, f))];
  return files.filter((f) => statSync(f).mtimeMs > built);
}

/**
 * A deployment's addresses: a networks file (`{ "<network>": { "<source>": { address, startBlock } } }`) or
 * a manifest (`.yaml`). A networks file with several networks needs `network`.
 */
export function readDeployment(file: string, network?: string): Deployment {
  if (!existsSync(file)) {
    throw new Error(`deployment file ${file} not found: start \`oao devnet\` (it writes subgraph/networks.devnet.json) or pass --deployment <networks.json or subgraph.yaml>`);
  }
  if (/\.ya?ml$/.test(file)) {
    const contracts: Deployment["contracts"] = {};
    for (const s of readManifest(file)) if (!s.template) contracts[s.name] = { address: getAddress(s.address), startBlock: s.startBlock };
    return { network: network ?? "localhost", contracts };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`deployment file ${file}: not JSON (${(e as Error).message}); expected graph-cli's networks file or a subgraph manifest (.yaml)`);
  }
  const networks = parsed as Record<string, Record<string, { address?: string; startBlock?: number }>>;
  const names = Object.keys(networks);
  const chosen = network ?? (names.length === 1 ? names[0] : undefined);
  if (!chosen || !networks[chosen]) {
    throw new Error(`deployment file ${file}: ${chosen ? `no network "${chosen}"` : "several networks"}; pass --network with one of ${names.join(", ") || "(none)"}`);
  }
  const contracts: Deployment["contracts"] = {};
  for (const [name, entry] of Object.entries(networks[chosen]!)) {
    if (typeof entry?.address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(entry.address)) {
      throw new Error(`deployment file ${file}: ${chosen}.${name}.address: expected a 20-byte hex address, got ${JSON.stringify(entry?.address)}`);
    }
    contracts[name] = { address: getAddress(entry.address), startBlock: entry.startBlock ?? 0 };
  }
  return { network: chosen, contracts };
}

/** The addressed data sources of the build, at the deployment's addresses. */
export function dataSourcesFor(build: ReturnType<typeof loadBuild>, deployment: Deployment): DataSource[] {
  const out: DataSource[] = [];
  for (const source of build.sources) {
    if (source.template) continue;
    const entry = deployment.contracts[source.name];
    if (!entry) throw new Error(`the deployment has no address for data source ${source.name} (it has ${Object.keys(deployment.contracts).join(", ")})`);
    out.push({ kind: build.kinds.get(source.name)!, address: entry.address, startBlock: BigInt(entry.startBlock) });
  }
  return out;
}

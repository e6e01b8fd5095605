/**
 * The subgraph's addresses for a deployment made here (`oao devnet`): graph-cli's networks file
 * (`{ localhost: { AIOracle: { address, startBlock }, … } }`) and a copy of subgraph/subgraph.yaml with those
 * addresses and start blocks, next to it so its relative paths (schema, mappings, ABIs) still resolve. The
 * committed subgraph/networks.json `localhost` entry is the SDK tests' chain (sdk/test/chain.ts), not the devnet's.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, type Address } from "viem";

export const SUBGRAPH_DIR = fileURLToPath(new URL("../../../subgraph/", import.meta.url));
/** The data sources with an address; the DisputeGame template has none. */
export const ADDRESSED_SOURCES = ["AIOracle", "Staking", "TaskManager"] as const;
export type AddressedSource = (typeof ADDRESSED_SOURCES)[number];
export type SubgraphNetworks = Record<string, Record<AddressedSource, { address: Address; startBlock: number }>>;

export function subgraphNetworks(
  contracts: { aiOracle: Address; staking: Address; taskManager: Address },
  startBlock: bigint,
  network = "localhost",
): SubgraphNetworks {
  const block = Number(startBlock);
  return {
    [network]: {
      AIOracle: { address: getAddress(contracts.aiOracle), startBlock: block },
      Staking: { address: getAddress(contracts.staking), startBlock: block },
      TaskManager: { address: getAddress(contracts.taskManager), startBlock: block },
    },
  };
}

/** subgraph.yaml with `network`, `address` and `startBlock` of each addressed data source replaced. */
export function manifestFor(manifest: string, networks: SubgraphNetworks): string {
  const [network, sources] = Object.entries(networks)[0]!;
  let current: string | undefined;
  let inTemplates = false;
  const out = manifest.split("\n").map((line) => {
    if (/^\S/.test(line)) inTemplates = /^templates:/.test(line);
    const name = /^ {4}name: (\S+)/.exec(line);
    if (name) current = inTemplates ? undefined : name[1];
    if (/^ {4}network: /.test(line)) return `    network: ${network}`;
    const source = current && (sources as Record<string, { address: Address; startBlock: number }>)[current];
    if (!source) return line;
    if (/^ {6}address: "/.test(line)) return `      address: "${source.address}"`;
    if (/^ {6}startBlock: /.test(line)) return `      startBlock: ${source.startBlock}`;
    return line;
  });
  for (const s of ADDRESSED_SOURCES) {
    if (!out.some((l) => l === `      address: "${sources[s].address}"`)) throw new Error(`subgraph.yaml has no address line for data source ${s}`);
  }
  return out.join("\n");
}

/** Writes subgraph/networks.devnet.json and subgraph/subgraph.devnet.yaml (git-ignored); returns their paths. */
export function writeDevnetSubgraph(networks: SubgraphNetworks, dir = SUBGRAPH_DIR): { networks: string; manifest: string } {
  const paths = { networks: join(dir, "networks.devnet.json"), manifest: join(dir, "subgraph.devnet.yaml") };
  writeFileSync(paths.networks, JSON.stringify(networks, null, 2) + "\n");
  writeFileSync(paths.manifest, manifestFor(readFileSync(join(dir, "subgraph.yaml"), "utf8"), networks));
  return paths;
}

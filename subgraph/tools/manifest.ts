/**
 * Reads the parts of subgraph.yaml the coverage checks and the dev indexer need: per data source (and
 * template) its name, address, start block, ABI file, mapping file and event handlers. The manifest
 * is plain block YAML written by hand in one layout, so a line scanner suffices (no YAML dependency in the repo).
 */
import { readFileSync } from "node:fs";

export interface ManifestSource {
  name: string;
  /** A template (no address: instantiated by a mapping, e.g. one DisputeGame per game). */
  template: boolean;
  address: string;
  /** The first block indexed (0 when the manifest gives none; templates start where they are created). */
  startBlock: number;
  abiName: string;
  abiFile: string;
  mappingFile: string;
  eventHandlers: { event: string; handler: string }[];
}

export function readManifest(path: string): ManifestSource[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const sources: ManifestSource[] = [];
  let current: ManifestSource | null = null;
  let inAbis = false;
  let inTemplates = false;
  for (const line of lines) {
    if (/^\S/.test(line)) inTemplates = /^templates:/.test(line);
    if (/^ {2}- kind: ethereum/.test(line)) {
      current = { name: "", template: inTemplates, address: "", startBlock: 0, abiName: "", abiFile: "", mappingFile: "", eventHandlers: [] };
      sources.push(current);
      inAbis = false;
      continue;
    }
    if (!current) continue;
    let m: RegExpExecArray | null;
    if ((m = /^ {4}name: (\S+)/.exec(line))) current.name = m[1]!;
    else if ((m = /^ {6}abi: (\S+)/.exec(line))) current.abiName = m[1]!;
    else if ((m = /^ {6}address: "(0x[0-9a-fA-F]{40})"/.exec(line))) current.address = m[1]!;
    else if ((m = /^ {6}startBlock: (\d+)/.exec(line))) current.startBlock = Number(m[1]);
    else if ((m = /^ {6}file: (\S+)/.exec(line))) current.mappingFile = m[1]!;
    else if (/^ {6}abis:/.test(line)) inAbis = true;
    else if (/^ {6}\S/.test(line)) inAbis = false;
    else if (inAbis && (m = /^ {10}file: (\S+)/.exec(line))) current.abiFile ||= m[1]!;
    else if ((m = /^ {8}- event: (.+)$/.exec(line))) current.eventHandlers.push({ event: m[1]!.trim(), handler: "" });
    else if ((m = /^ {12,}(\S.*)$/.exec(line)) && current.eventHandlers.at(-1)?.handler === "") {
      // A long signature folded by `graph build` (a YAML plain scalar: the line break reads as a space).
      current.eventHandlers.at(-1)!.event += ` ${m[1]!.trim()}`;
    }
    else if ((m = /^ {10}handler: (\S+)/.exec(line))) {
      const last = current.eventHandlers.at(-1);
      if (last) last.handler = m[1]!;
    }
  }
  return sources;
}

interface AbiParam {
  type: string;
  indexed?: boolean;
  components?: readonly AbiParam[];
}

function canonicalType(p: AbiParam): string {
  if (p.type.startsWith("tuple")) return `(${(p.components ?? []).map(canonicalType).join(",")})${p.type.slice(5)}`;
  return p.type;
}

/** Event signatures as the manifest writes them: `Name(indexed address,uint256)`. */
export function abiEventSignatures(abi: readonly { type: string; name?: string; inputs?: readonly AbiParam[] }[]): string[] {
  return abi
    .filter((item) => item.type === "event")
    .map((e) => `${e.name}(${(e.inputs ?? []).map((p) => (p.indexed ? "indexed " : "") + canonicalType(p)).join(",")})`)
    .sort();
}

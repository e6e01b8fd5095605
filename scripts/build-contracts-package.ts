/**
 * Builds the `@oao/contracts` package (packages/contracts/) from contracts/: the Solidity a dapp compiles
 * against, as `@chainlink/contracts` ships its sources, plus the ABIs of the same contracts.
 *
 *   packages/contracts/src/…   the entry files below and every file they import (relative imports followed),
 *                               in contracts/'s layout: `@oao/contracts/src/interfaces/IAIOracle.sol`
 *   packages/contracts/abi/…   `<Contract>.json` ABIs from artifacts/ (after `hardhat build`)
 *
 * The package.json and README.md of packages/contracts/ are committed; src/ and abi/ are generated (not
 * committed). Run by `npm run build`; `npm run pack` packs it with the SDK (scripts/pack.ts).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const sources = join(root, "contracts");
const pkgDir = join(root, "packages", "contracts");

/** What a dapp developer needs: the interfaces, the receiver base, the test mock, the examples. */
export const ENTRY_FILES = [
  "interfaces/IAIOracle.sol",
  "interfaces/IAIOracleBatch.sol",
  "interfaces/IAIOracleCallbackReceiver.sol",
  "interfaces/IAIOracleExtended.sol",
  "interfaces/IModelRegistry.sol",
  "interfaces/IStaking.sol",
  "interfaces/ITaskManager.sol",
  "oracle/AIOracleCallbackReceiver.sol",
  "mocks/MockAIOracle.sol",
  "lib/ErrorCodes.sol",
  "lib/Errors.sol",
  "lib/Types.sol",
  "examples/DigitClassifier.sol",
  "examples/OAOPromptConsumer.sol",
  "examples/OAONestedInference.sol",
];

const IMPORT = /import\s+(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/g;

/** The entry files and everything they import relatively; package imports (`@openzeppelin/…`) are returned apart. */
export function closure(entries: readonly string[]): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = normalize(queue.pop()!);
    if (files.has(file)) continue;
    const path = join(sources, file);
    if (!existsSync(path)) throw new Error(`build-contracts-package: contracts/${file} does not exist`);
    files.add(file);
    const text = readFileSync(path, "utf8");
    for (const match of text.matchAll(IMPORT)) {
      const target = match[1]!;
      if (target.startsWith(".")) queue.push(normalize(join(dirname(file), target)));
      else packages.add(target);
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

function* artifactFiles(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* artifactFiles(path);
    else if (entry.endsWith(".json") && !entry.endsWith(".dbg.json") && entry !== "artifacts.d.ts") yield path;
  }
}

export function buildContractsPackage(): { files: string[]; abis: string[] } {
  const { files, packages } = closure(ENTRY_FILES);
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const p of packages) {
    const name = p.startsWith("@") ? p.split("/").slice(0, 2).join("/") : p.split("/")[0]!;
    if (!pkg.dependencies?.[name]) throw new Error(`build-contracts-package: ${p} is imported but ${name} is not a dependency of packages/contracts`);
  }
  rmSync(join(pkgDir, "src"), { recursive: true, force: true });
  rmSync(join(pkgDir, "abi"), { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(dirname(join(pkgDir, "src", file)), { recursive: true });
    cpSync(join(sources, file), join(pkgDir, "src", file));
  }
  const abis: string[] = [];
  const shipped = new Set(files.map((f) => join("contracts", f)));
  for (const path of artifactFiles(join(root, "artifacts", "contracts"))) {
    const artifact = JSON.parse(readFileSync(path, "utf8")) as { contractName?: string; sourceName?: string; abi?: unknown[] };
    if (!artifact.contractName || !artifact.sourceName || !shipped.has(artifact.sourceName)) continue;
    if (!artifact.abi || artifact.abi.length === 0) continue;
    mkdirSync(join(pkgDir, "abi"), { recursive: true });
    writeFileSync(join(pkgDir, "abi", `${artifact.contractName}.json`), JSON.stringify(artifact.abi, null, 2) + "\n");
    abis.push(artifact.contractName);
  }
  return { files, abis: abis.sort() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, abis } = buildContractsPackage();
  console.log(`build-contracts-package: ${files.length} Solidity files, ${abis.length} ABIs -> ${relative(root, pkgDir)}`);
}

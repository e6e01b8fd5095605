/**
 * `npm run pack`: packs the two packages a dapp installs into .oao/packages/ (or the directory given as the
 * first argument) and prints their paths:
 *
 *   @oao/sdk        sdk/ (dist/ from `npm run build`; viem is a peer dependency: the dapp's own viem is used)
 *   @oao/contracts  packages/contracts/ (src/ and abi/ from `npm run build`)
 *
 * Install them in a dapp with `npm install /path/to/oao-sdk-0.1.0.tgz /path/to/oao-contracts-0.1.0.tgz viem`
 * (docs/dapp-guide.md §0). Needs `npm run build` first; it checks the built files are there.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface PackedPackages {
  sdk: string;
  contracts: string;
}

export function packPackages(destination = join(root, ".oao", "packages")): PackedPackages {
  const dest = resolve(destination);
  for (const [what, path] of [
    ["sdk/dist/index.js", join(root, "sdk", "dist", "index.js")],
    ["packages/contracts/src", join(root, "packages", "contracts", "src", "mocks", "MockAIOracle.sol")],
  ] as const) {
    if (!existsSync(path)) throw new Error(`pack: ${what} is missing; run \`npm run build\` first`);
  }
  mkdirSync(dest, { recursive: true });
  const pack = (dir: string): string => {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest], {
      cwd: join(root, dir),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [info] = JSON.parse(out) as { filename: string }[];
    return join(dest, info!.filename);
  };
  return { sdk: pack("sdk"), contracts: pack(join("packages", "contracts")) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const packed = packPackages(process.argv[2]);
  console.error(`@oao/sdk       ${packed.sdk}`);
  console.error(`@oao/contracts ${packed.contracts}`);
  console.log(JSON.stringify(packed));
}

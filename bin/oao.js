#!/usr/bin/env node
// Entry point of the `oao` CLI. Hardhat 3 needs Node >= 22: the npm `node` package installs one
// into node_modules/.bin, which `npx`/`npm run` put first on PATH. If we were started by an older
// Node anyway, re-run ourselves with the project's Node 22.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  const node22 = join(root, "node_modules", ".bin", "node");
  if (!existsSync(node22)) {
    console.error(`oao needs Node >= 22 (this is ${process.version}); run \`npm install\` first.`);
    process.exit(1);
  }
  const result = spawnSync(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(result.status ?? 1);
}

process.env.HARDHAT_DISABLE_TELEMETRY ??= "true";

// First run after `npm install`: compile the contracts and generate the ABIs the keeper imports.
if (!existsSync(join(root, "sdk", "src", "abis", "generated.ts")) || !existsSync(join(root, "artifacts"))) {
  console.error("oao: first run: compiling the contracts and generating ABIs (npm run build)…");
  const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: ["ignore", 2, 2], env: process.env });
  if (build.status !== 0) {
    console.error("oao: `npm run build` failed; run it yourself to see why.");
    process.exit(1);
  }
}
// node:sqlite (the keeper's store) is stable enough for us; keep its experimental notice off users' screens.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  if (String(warning).includes("SQLite is an experimental feature")) return;
  emitWarning(warning, ...rest);
};
const { register } = await import("tsx/esm/api");
register();
await import(join(root, "keeper", "src", "cli", "main.ts"));

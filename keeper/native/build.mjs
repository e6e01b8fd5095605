#!/usr/bin/env node
// Builds the native kernels addon (keeper/native/binding.gyp -> build/Release/oao_native.node) with
// node-gyp against this Node's headers. `--install` (package.json "install"): never fails, prints one
// line saying what happened; the keeper then runs the wasm kernels. Without it (`npm run
// build:native`) a failed build exits 1 with node-gyp's output.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const install = process.argv.includes("--install");
const say = (msg) => console.log(`oao native kernels: ${msg}`);

if (process.env.OAO_SKIP_NATIVE_BUILD === "1") {
  say("not built (OAO_SKIP_NATIVE_BUILD=1); the wasm kernels will run");
  process.exit(0);
}

/** node-gyp: npm's own (npm sets npm_config_node_gyp for scripts), else the one beside npm-cli.js. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  ];
  return candidates.find((c) => c && existsSync(c));
}

/**
 * Node headers already on disk, so the build needs no download: this Node's own (official tarballs;
 * the npm "node" package keeps them in its node-<platform>-<arch> dependency), else the system's.
 * Node-API is ABI-stable: any Node >= 14's node_api.h builds an addon this Node loads.
 */
function nodeDir() {
  const prefix = resolve(dirname(process.execPath), "..");
  return [prefix, join(prefix, "node_modules", `node-${process.platform}-${process.arch}`), "/usr/local", "/usr"].find((d) =>
    existsSync(join(d, "include", "node", "node_api.h")),
  );
}

const gyp = nodeGyp();
if (!gyp) {
  say("not built (node-gyp not found: it ships with npm); the wasm kernels will run");
  process.exit(install ? 0 : 1);
}
const args = [gyp, "rebuild", "--directory", here];
const dir = nodeDir();
if (dir) args.push(`--nodedir=${dir}`);
const r = spawnSync(process.execPath, args, { stdio: install ? "pipe" : "inherit", encoding: "utf8" });
if (r.status === 0 && existsSync(join(here, "build", "Release", "oao_native.node"))) {
  say(`built ${join(here, "build", "Release", "oao_native.node")}`);
  process.exit(0);
}
const why = r.error ? r.error.message : `${(r.stderr ?? "").split("\n").find((l) => /error/i.test(l)) ?? `node-gyp exited ${r.status}`}`.trim();
say(`not built (${why}); the wasm kernels will run. Retry with \`npm run build:native\` to see the full output`);
process.exit(install ? 0 : 1);

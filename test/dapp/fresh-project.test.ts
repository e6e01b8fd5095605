/**
 * A fresh npm project installs @oao/sdk and @oao/contracts as docs/dapp-guide.md §0 says and passes its own
 * consumer test against MockAIOracle and against `oao devnet` (started here on a free port) (test/dapp/fresh-project/template/: hardhat.config.ts, a consumer
 * contract importing @oao/contracts, a node:test test driving it with @oao/sdk).
 *
 * In a temporary directory: packs both packages (scripts/pack.ts, as `npm run pack`), copies the template, runs
 * the guide's shell block (the one after `<!-- fresh-project -->`) with the tarball paths filled in: `npm install`
 * of the tarballs, viem, hardhat, hardhat-viem and solc (from the npm registry, or its cache), `npx hardhat build`,
 * `node --test`. Needs `npm run build` first. About 40 s with a warm npm cache
 * (measured: installs 8.1 + 3.8 s, hardhat build 6.3 s, tests on the mock 1.7 s and with the devnet 3.0 s, the devnet's
 * start ~15 s); OAO_SKIP_FRESH_PROJECT=1 skips it.
 */
import { execSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PackedPackages } from "../../scripts/pack.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const guide = readFileSync(join(root, "docs", "dapp-guide.md"), "utf8");

/** The guide's install-and-test commands, one a line. */
export function freshProjectCommands(doc: string): string[] {
  const block = /<!-- fresh-project -->\s*```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error("docs/dapp-guide.md has no ```sh block after <!-- fresh-project -->");
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
}

describe.skipIf(process.env.OAO_SKIP_FRESH_PROJECT === "1")("a fresh dapp project", () => {
  const dir = mkdtempSync(join(tmpdir(), "oao-dapp-"));
  // The guide's last command runs the project's tests against `oao devnet` too (on a free port here).
  const devnet = spawn(process.execPath, [`${root}bin/oao.js`, "devnet", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let devnetRpc = "";
  beforeAll(async () => {
    let out = "";
    devnet.stdout!.on("data", (d) => (out += d));
    devnet.stderr!.resume();
    for (let i = 0; i < 1200 && !out.trim().endsWith("}"); i++) await new Promise((r) => setTimeout(r, 100));
    devnetRpc = (JSON.parse(out) as { rpc: string }).rpc;
  }, 150_000);
  afterAll(() => {
    devnet.kill("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs the packed @oao/sdk and @oao/contracts and passes its consumer tests against MockAIOracle and oao devnet", { timeout: 300_000 }, () => {
    const started = performance.now();
    // `npm run pack` as the guide says (scripts/pack.ts), into this test's directory; its last stdout line is JSON.
    const packOut = execSync(`npm run pack --silent -- ${join(dir, "packages")}`, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const packed = JSON.parse(packOut.trim().split("\n").pop()!) as PackedPackages;
    const project = join(dir, "my-dapp");
    cpSync(join(root, "test", "dapp", "fresh-project", "template"), project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-dapp", version: "0.0.0", private: true, type: "module" }, null, 2));
    const commands = freshProjectCommands(guide);
    expect(commands.some((c) => c.includes("oao-sdk-0.1.0.tgz"))).toBe(true);
    const log: string[] = [];
    let ranOnDevnet = false;
    for (const command of commands) {
      const line = command
        .replaceAll("/path/to/oao/.oao/packages/oao-sdk-0.1.0.tgz", packed.sdk)
        .replaceAll("/path/to/oao/.oao/packages/oao-contracts-0.1.0.tgz", packed.contracts)
        .replace(/^npm install /, "npm install --prefer-offline --no-audit --no-fund ");
      const t = performance.now();
      try {
        const env = { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true", OAO_DEVNET_RPC: devnetRpc };
        const out = execSync(line, { cwd: project, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
        log.push(`$ ${command}  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
        if (/node --test/.test(command)) expect(out).toMatch(/# fail 0/);
        if (/OAO_DEVNET_ORACLE=\S+ node --test/.test(command)) {
          expect(out).toMatch(/# pass 4/); // the three mock tests and the devnet one
          expect(out).toMatch(/# skipped 0/);
          ranOnDevnet = true;
        }
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        throw new Error(`\`${line}\` failed in ${project}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
      }
    }
    expect(ranOnDevnet, "the guide's block runs the tests against oao devnet").toBe(true);
    // One viem in the project: the SDK's peer dependency is the dapp's own.
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).filter((p) => p.endsWith("node_modules/viem"))).toEqual(["node_modules/viem"]);
    console.error(`fresh project: ${log.join("; ")}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});

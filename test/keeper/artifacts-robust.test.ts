/**
 * `hardhat ignition deploy` builds with the production profile; with Hardhat's default (isolated) production
 * profile it left build infos the in-process chain cannot parse (`Failed to parse build info: missing field
 * 'contracts'`), and the next `oao demo`/`oao devnet` failed. hardhat.config.ts now compiles production like
 * default, and keeper/src/demo/artifacts.ts rebuilds the artifacts once if the chain still cannot start.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isBuildInfoError, withSoundArtifacts } from "../../keeper/src/demo/artifacts.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
process.chdir(root);
const { default: hre, network } = await import("hardhat");
const buildInfoDir = join(root, "artifacts", "build-info");

describe("artifacts after hardhat ignition deploy", () => {
  it("the production profile (ignition deploy) compiles like default: not isolated, same settings", () => {
    const { production, default: dflt } = hre.config.solidity.profiles;
    expect(production!.isolated).toBe(false);
    expect(production!.compilers).toEqual(dflt!.compilers);
  });

  it("recognizes the build-info error through a cause chain", () => {
    const inner = new Error("Failed to parse build info: missing field `contracts` at line 1 column 52140");
    expect(isBuildInfoError(new Error("outer", { cause: inner }))).toBe(true);
    expect(isBuildInfoError(new Error("connection refused"))).toBe(false);
  });

  it("a build info without `contracts` (an isolated build's) stops the in-process chain; withSoundArtifacts rebuilds and starts it", { timeout: 300_000 }, async () => {
    // What an isolated build leaves for lib/Types.sol: a build info whose output has sources but no contracts.
    const [input] = readdirSync(buildInfoDir).filter((f) => f.endsWith(".json") && !f.endsWith(".output.json")).sort();
    const id = "solc-0_8_30-0000000000000000000000000000000000000bad";
    const info = JSON.parse(readFileSync(join(buildInfoDir, input!), "utf8")) as { id: string };
    const output = JSON.parse(readFileSync(join(buildInfoDir, input!.replace(/\.json$/, ".output.json")), "utf8")) as {
      id: string;
      output: Record<string, unknown>;
    };
    delete output.output.contracts;
    writeFileSync(join(buildInfoDir, `${id}.json`), JSON.stringify({ ...info, id }));
    writeFileSync(join(buildInfoDir, `${id}.output.json`), JSON.stringify({ ...output, id }));
    try {
      await expect(network.create()).rejects.toThrow(/Failed to parse build info/);
      const lines: string[] = [];
      const conn = await withSoundArtifacts(() => network.create(), { say: (l) => lines.push(l) });
      const publicClient = await conn.viem.getPublicClient();
      expect(await publicClient.getChainId()).toBe(31337);
      expect(lines.join("\n")).toMatch(/rebuilding them with `hardhat build`/);
      expect(existsSync(join(buildInfoDir, `${id}.output.json`)), "hardhat build prunes the orphan build info").toBe(false);
      await conn.close();
    } finally {
      rmSync(join(buildInfoDir, `${id}.json`), { force: true });
      rmSync(join(buildInfoDir, `${id}.output.json`), { force: true });
    }
  });
});

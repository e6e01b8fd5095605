/**
 * `oao devnet` writes the subgraph's addresses for its own deployment (subgraph/networks.devnet.json and
 * subgraph/subgraph.devnet.yaml): each names the right contract, events are found from its startBlock, and the
 * generated manifest builds with graph-cli.
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, getAddress, http, parseAbi, type Address } from "viem";
import { readManifest } from "../../subgraph/tools/manifest.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DevnetInfo {
  rpc: string;
  contracts: Record<string, Address>;
  startBlock: string;
  subgraph: { networks: string; manifest: string };
}

describe("oao devnet and the subgraph", () => {
  const devnet = spawn(process.execPath, [`${root}bin/oao.js`, "devnet", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let info: DevnetInfo;
  let stderr = "";
  beforeAll(async () => {
    let out = "";
    devnet.stdout!.on("data", (d) => (out += d));
    devnet.stderr!.on("data", (d) => (stderr += d));
    for (let i = 0; i < 1200 && !out.trim().endsWith("}"); i++) await sleep(100);
    info = JSON.parse(out) as DevnetInfo;
  }, 150_000);
  afterAll(() => {
    devnet.kill("SIGINT");
  });

  it("writes networks.devnet.json with the deployment's addresses and start block", async () => {
    const networks = JSON.parse(readFileSync(info.subgraph.networks, "utf8")) as Record<string, Record<string, { address: Address; startBlock: number }>>;
    const local = networks.localhost!;
    expect(local.AIOracle!.address).toBe(getAddress(info.contracts.aiOracle!));
    expect(local.Staking!.address).toBe(getAddress(info.contracts.staking!));
    expect(local.TaskManager!.address).toBe(getAddress(info.contracts.taskManager!));
    expect(local.AIOracle!.startBlock).toBe(Number(info.startBlock));

    const client = createPublicClient({ transport: http(info.rpc) });
    const abi = parseAbi(["function taskManager() view returns (address)", "function staking() view returns (address)"]);
    expect(await client.readContract({ address: local.AIOracle!.address, abi, functionName: "taskManager" })).toBe(local.TaskManager!.address);
    expect(await client.readContract({ address: local.TaskManager!.address, abi, functionName: "staking" })).toBe(local.Staking!.address);
    // An indexer starting there finds the deployment's events: MNIST's registration, the keeper's stake.
    const from = BigInt(local.AIOracle!.startBlock);
    expect((await client.getLogs({ address: local.AIOracle!.address, fromBlock: from })).length).toBeGreaterThan(0);
    expect((await client.getLogs({ address: local.Staking!.address, fromBlock: from })).length).toBeGreaterThan(0);
  });

  it("writes subgraph.devnet.yaml with those addresses, and it builds", { timeout: 180_000 }, () => {
    const sources = readManifest(info.subgraph.manifest).filter((s) => !s.template);
    const byName = Object.fromEntries(sources.map((s) => [s.name, getAddress(s.address)]));
    expect(byName).toEqual({
      AIOracle: getAddress(info.contracts.aiOracle!),
      Staking: getAddress(info.contracts.staking!),
      TaskManager: getAddress(info.contracts.taskManager!),
    });
    expect(readFileSync(info.subgraph.manifest, "utf8")).toMatch(new RegExp(`startBlock: ${info.startBlock}\\b`));
    const out = mkdtempSync(join(tmpdir(), "oao-subgraph-"));
    try {
      const graph = join(root, "node_modules", ".bin", "graph");
      execFileSync(graph, ["codegen", info.subgraph.manifest, "--output-dir", join(root, "subgraph", "generated")], { cwd: root, stdio: "pipe" });
      execFileSync(graph, ["build", info.subgraph.manifest, "--output-dir", out], { cwd: root, stdio: "pipe" });
      expect(readFileSync(join(out, "subgraph.yaml"), "utf8")).toContain(getAddress(info.contracts.aiOracle!));
    } catch (error) {
      const e = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`graph build failed: ${e.stdout?.toString()}\n${e.stderr?.toString()}\n${stderr}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * `oao devnet` as docs/dapp-guide.md §3 and docs/operator-guide.md use it: the guide's walkthrough (a request,
 * the commit, the time jump, finality), `oao model register`, decoded contract errors in CLI output, `oao keeper
 * status` naming the stake token, and `oao demo --rpc` refusing dev accounts the devnet's keeper uses.
 * And `oao devnet` writes the subgraph's addresses for its own deployment (subgraph/networks.devnet.json and
 * subgraph/subgraph.devnet.yaml): each names the right contract, events are found from its startBlock, and the
 * generated manifest builds with graph-cli; `oao subgraph serve` indexes the devnet from that networks file.
 */
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, createWalletClient, getAddress, http, parseAbi, zeroAddress, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { readManifest } from "../../subgraph/tools/manifest.ts";
import { devKey } from "../../keeper/src/demo/world.ts";
import { AIOracleAbi } from "../../sdk/src/abis/generated.ts";
import { requestStatuses } from "../../sdk/src/contracts.ts";
import { devnetWalkthrough } from "../dapp/devnet-walkthrough.ts";
import { assertSubgraphFresh, createSubgraphClient, getIndexedRequests } from "../../sdk/src/subgraph/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A fresh devnet's addresses (account 0 deploys in one order), as docs/dapp-guide.md §2 shows them. */
export const DEVNET_ADDRESSES = {
  aiOracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  staking: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
  taskManager: "0x0165878A594ca255338adfa4d48449f69242Eb8F",
};

interface DevnetInfo {
  rpc: string;
  contracts: Record<string, Address>;
  startBlock: string;
  /** The devnet's keeper. */
  keeper: Address;
  subgraph: { networks: string; manifest: string };
}

function oao(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [`${root}bin/oao.js`, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("oao devnet and the subgraph", () => {
  // --host 0.0.0.0 as subgraph/README.md runs it for a graph-node container.
  const devnet = spawn(process.execPath, [`${root}bin/oao.js`, "devnet", "--host", "0.0.0.0", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
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

  it("a fresh devnet has the addresses docs/dapp-guide.md shows", () => {
    const { aiOracle, staking, taskManager } = info.contracts;
    expect({ aiOracle, staking, taskManager }).toEqual(DEVNET_ADDRESSES);
  });

  it("docs/dapp-guide.md §3: a request is committed by the devnet's keeper and final after the time jump", { timeout: 150_000 }, async () => {
    const { committed, final } = await devnetWalkthrough(info as never);
    expect(committed.status).toBe("Committed");
    expect(committed.output).toMatch(/^0x[0-9a-f]+$/);
    expect(final.finalized).toBe(true);
    expect(final.output).toBe(committed.output);
  });

  it("oao model register registers a model file with its fee options", { timeout: 120_000 }, async () => {
    const r = oao(["model", "register", "mnist", "--rpc", info.rpc, "--oracle", info.contracts.aiOracle!, "--fee", "1000", "--fee-share-bps", "500", "--metadata-uri", "ipfs://mnist", "--json"], {
      OAO_PRIVATE_KEY: devKey(6),
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { modelId: string; modelRoot: string; owner: Address; tx: string };
    const client = createPublicClient({ transport: http(info.rpc) });
    const model = await client.readContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "getModel", args: [BigInt(out.modelId)] });
    const mnist = await client.readContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "getModel", args: [1n] });
    expect(out.modelId).toBe("3"); // after the devnet's MNIST (1) and text model (2)
    expect(model.modelRoot).toBe(mnist.modelRoot);
    expect(model.absolutePrestate).toBe(mnist.absolutePrestate);
    expect(model.fee).toBe(1000n);
    expect(model.feeShareBps).toBe(500);
    expect(model.metadataURI).toBe("ipfs://mnist");
    expect(model.owner).toBe(out.owner);
    // A revert is printed decoded: FeeShareTooHigh(20000), not a raw selector.
    const bad = oao(["model", "register", "mnist", "--rpc", info.rpc, "--oracle", info.contracts.aiOracle!, "--fee-share-bps", "20000"], { OAO_PRIVATE_KEY: devKey(6) });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/FeeShareTooHigh\(20000\)/);
  });

  it("keeper commands print decoded contract errors and name the stake token", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-cli-"));
    try {
      const config = join(dir, "keeper.json");
      const { aiOracle, taskManager, staking } = info.contracts;
      writeFileSync(config, JSON.stringify({ rpcUrl: info.rpc, contracts: { aiOracle, taskManager, staking }, dataDir: join(dir, "data"), logLevel: "warn" }));
      const env = { OAO_PRIVATE_KEY: devKey(7) };
      const unstake = oao(["keeper", "unstake", "1000", "--config", config], env);
      expect(unstake.status).toBe(1);
      const me = (JSON.parse(oao(["keeper", "status", "--json", "--config", config], env).stdout.trim().split("\n").pop()!) as { operator: string; stakeToken: string; stakeTokenBalance: string });
      expect(unstake.stderr).toContain(`InsufficientFreeStake(${me.operator}, 0, 1000)`);
      expect(unstake.stderr).not.toMatch(/0x738cfa45/);
      expect(me.stakeToken).toBe(getAddress(info.contracts.stakeToken!));
      expect(me.stakeTokenBalance).toBe("0");

      // docs/operator-guide.md §2 on the devnet: mint stake tokens (MockStakeToken's open mint), stake, check.
      const wallet = createWalletClient({ account: privateKeyToAccount(devKey(7)), chain: hardhat, transport: http(info.rpc) });
      const mint = parseAbi(["function mint(address to, uint256 amount)"]);
      const hash = await wallet.writeContract({ address: me.stakeToken as Address, abi: mint, functionName: "mint", args: [wallet.account.address, 150n * 10n ** 18n] });
      await createPublicClient({ transport: http(info.rpc) }).waitForTransactionReceipt({ hash });
      const stake = oao(["keeper", "stake", "150000000000000000000", "--config", config], env);
      expect(stake.status, stake.stderr).toBe(0);
      const after = JSON.parse(oao(["keeper", "status", "--json", "--config", config], env).stdout.trim().split("\n").pop()!) as { active: string; stakeTokenBalance: string };
      expect(after).toMatchObject({ active: "150000000000000000000", stakeTokenBalance: "0" });

      // `oao model register` with the keeper config's rpcUrl and contracts.aiOracle.
      const reg = oao(["model", "register", "mnist", "--config", config, "--fee", "10000000000000000", "--json"], env);
      expect(reg.status, reg.stderr).toBe(0);
      expect(JSON.parse(reg.stdout.trim().split("\n").pop()!)).toMatchObject({ fee: "10000000000000000", owner: wallet.account.address });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("oao devnet --keeper-account refuses an index that is not a dev account it can send from", { timeout: 120_000 }, () => {
    for (const [index, message] of [
      ["0", /--keeper-account 0: dev account 0 deploys the protocol and owns it; pick 1 or above/],
      ["one", /--keeper-account one: expected a dev account index, a whole number such as 1/],
      ["20", /--keeper-account 20: the devnet's chain has dev accounts 0\.\.19; pick one of 1\.\.19/],
    ] as const) {
      const r = oao(["devnet", "--port", "0", "--keeper-account", index]);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });

  it("oao demo --rpc refuses the dev accounts the devnet's keeper sends from", () => {
    const r = oao(["demo", "--rpc", info.rpc]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/oao demo: warning: .*dev accounts 1 \(honest\) and 2 \(cheater\)/);
    expect(r.stderr).toMatch(/dev account 1 .* has already sent \d+ transaction\(s\).*--accounts/);
  });

  it("oao demo --rpc --accounts runs the demo on the devnet's chain beside its keeper", { timeout: 300_000 }, () => {
    const r = oao(["demo", "--model", "mnist", "--rpc", info.rpc, "--accounts", "8,9", "--digits", "1", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!) as { correct: boolean; winner: string };
    expect(summary).toMatchObject({ correct: true, winner: "honest" });
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

  it("oao subgraph serve indexes the devnet from the networks file it wrote (subgraph/README.md)", { timeout: 120_000 }, async () => {
    // The README's commands: `oao subgraph serve` beside `oao devnet`, with the default --deployment.
    const serve = spawn(process.execPath, [`${root}bin/oao.js`, "subgraph", "serve", "--rpc", info.rpc, "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    serve.stderr!.on("data", (d) => (log += d));
    try {
      for (let i = 0; i < 300 && !/GraphQL at (\S+),/.test(log); i++) await sleep(100);
      const subgraph = createSubgraphClient({ url: /GraphQL at (\S+),/.exec(log)?.[1] ?? `(no URL in: ${log})` });
      const client = createPublicClient({ transport: http(info.rpc) });
      const wallet = createWalletClient({ account: privateKeyToAccount(devKey(5)), chain: hardhat, transport: http(info.rpc) });
      const fee = await client.readContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "estimateFee", args: [1n, 0n] });
      await client.waitForTransactionReceipt({
        hash: await wallet.writeContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "requestCallback", args: [1n, `0x${"00".repeat(784)}`, zeroAddress, 0n, "0x"], value: fee }),
      });
      const requestId = await client.readContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "requestCount" });
      // The devnet's keeper commits it; the indexer follows.
      let mine: Awaited<ReturnType<typeof getIndexedRequests>> = [];
      for (let i = 0; i < 600 && mine[0]?.status !== "Committed"; i++) {
        await sleep(100);
        mine = await getIndexedRequests(subgraph, { txFrom: wallet.account.address, status: ["Committed"] }).catch(() => []);
      }
      expect(mine.map((r) => r.requestId)).toContain(requestId);
      expect(mine.find((r) => r.requestId === requestId)).toMatchObject({ requester: wallet.account.address.toLowerCase(), answeredBy: info.keeper.toLowerCase(), modelId: 1n });
      await assertSubgraphFresh(client, subgraph, { maxLag: 2n });
      // Every request the devnet has, in the chain's status.
      const all = await getIndexedRequests(subgraph, { first: 1000 });
      expect(all.map((r) => r.requestId)).toEqual(Array.from({ length: Number(requestId) }, (_, i) => requestId - BigInt(i)));
      for (const r of all) {
        const status = await client.readContract({ address: info.contracts.aiOracle!, abi: AIOracleAbi, functionName: "getStatus", args: [r.requestId] });
        expect({ id: r.requestId, status: r.status }).toEqual({ id: r.requestId, status: requestStatuses[status] });
      }
    } finally {
      serve.kill("SIGINT");
    }
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

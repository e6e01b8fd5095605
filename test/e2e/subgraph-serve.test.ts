/**
 * `oao subgraph serve` as its own process, as subgraph/README.md runs it beside `oao devnet`: against a JSON-RPC
 * chain with the protocol deployed (the devnet's deployment, without its keeper), it indexes from the deployment's
 * start block, follows new blocks, serves the SDK's queries at /subgraphs/name/oao and logs one line per batch.
 * Bad input (no node at --rpc, a deployment file that is missing or names contracts the chain lacks, a bad port)
 * is refused with a message saying what to fix.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroAddress, type Hex } from "viem";
import { createSubgraphClient, getIndexedRequests, getOperatorScorecards, getSubgraphFreshness } from "../../sdk/src/subgraph/index.ts";
import { withSoundArtifacts } from "../../keeper/src/demo/artifacts.ts";
import { subgraphNetworks } from "../../keeper/src/demo/subgraph-networks.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the CLI to its exit without blocking this process, which serves the chain's JSON-RPC. */
function oao(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}bin/oao.js`, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("oao subgraph serve", () => {
  const dir = mkdtempSync(join(tmpdir(), "oao-subgraph-serve-"));
  const deployment = join(dir, "networks.json");
  let close: () => Promise<void>;
  let rpc: string;
  let world: LocalWorld;
  let serve: ChildProcess;
  let stderr = "";
  let url: string;

  beforeAll(async () => {
    process.chdir(root);
    const { network } = await import("hardhat");
    const server = await withSoundArtifacts(() => network.createServer({}, "127.0.0.1", 0));
    const { address, port } = await server.listen();
    close = () => server.close();
    rpc = `http://${address}:${port}`;
    world = await createLocalWorld({ rpc });
    await world.registerModel(loadModelFile(resolveModelPath("mnist")));
    await world.fundAndStake(1);
    writeFileSync(deployment, JSON.stringify(subgraphNetworks(world.addresses, world.startBlock)));
    serve = spawn(process.execPath, [`${root}bin/oao.js`, "subgraph", "serve", "--rpc", rpc, "--port", "0", "--deployment", deployment], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    serve.stderr!.on("data", (d) => (stderr += d));
    for (let i = 0; i < 600 && !/GraphQL at (\S+),/.test(stderr); i++) await sleep(100);
    url = /GraphQL at (\S+),/.exec(stderr)?.[1] ?? "";
  }, 120_000);

  afterAll(async () => {
    serve?.kill("SIGINT");
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the deployment's data at /subgraphs/name/oao, follows new blocks and logs each batch", async () => {
    expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/subgraphs\/name\/oao$/);
    const subgraph = createSubgraphClient({ url });
    const modelId = 1n;
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    const input = `0x${"00".repeat(784)}` as Hex;
    await world.publicClient.waitForTransactionReceipt({ hash: await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], { value: fee }) });
    const head = await world.publicClient.getBlockNumber();
    let f = await getSubgraphFreshness(world.publicClient, subgraph, { maxLag: 0n });
    for (let i = 0; i < 300 && !f.fresh; i++) {
      await sleep(100);
      f = await getSubgraphFreshness(world.publicClient, subgraph, { maxLag: 0n });
    }
    expect(f).toMatchObject({ subgraphBlock: head, lag: 0n, hasIndexingErrors: false, fresh: true });

    const [request] = await getIndexedRequests(subgraph, {});
    expect(request).toMatchObject({ requestId: 1n, modelId, status: "Requested", totalFee: fee, requester: world.owner.account.address.toLowerCase(), answeredBy: null });
    const [operator] = await getOperatorScorecards(subgraph, {});
    const account = await world.contracts.staking.read.getAccount([operator!.operator]);
    expect(operator!.activeStake).toBe(account.active);
    expect(account.active).toBeGreaterThan(0n);

    const batches = stderr.split("\n").filter((l) => l.includes('"msg":"indexed blocks"')).map((l) => JSON.parse(l) as { fromBlock: string; toBlock: string; level: number });
    // Info lines covering every block once, in order, from the start block to the request's.
    expect(batches[0]).toMatchObject({ fromBlock: world.startBlock.toString(), level: 30 });
    for (let i = 1; i < batches.length; i++) expect(BigInt(batches[i]!.fromBlock)).toBe(BigInt(batches[i - 1]!.toBlock) + 1n);
    expect(batches.at(-1)!.toBlock).toBe(head.toString());
  });

  it("refuses bad input with what to fix", async () => {
    const noNode = await oao(["subgraph", "serve", "--rpc", "http://127.0.0.1:1", "--deployment", deployment, "--port", "0"]);
    expect(noNode.status).toBe(1);
    expect(noNode.stderr).toMatch(/--rpc http:\/\/127\.0\.0\.1:1: no JSON-RPC node answers there .*start `oao devnet` or pass its URL/);

    const missing = await oao(["subgraph", "serve", "--rpc", rpc, "--deployment", join(dir, "nope.json")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/deployment file .*nope\.json not found: start `oao devnet`/);

    const other = join(dir, "other.json");
    const wrong = subgraphNetworks({ ...world.addresses, aiOracle: "0x000000000000000000000000000000000000dEaD" }, world.startBlock);
    writeFileSync(other, JSON.stringify(wrong));
    const elsewhere = await oao(["subgraph", "serve", "--rpc", rpc, "--deployment", other, "--port", "0"]);
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(/AIOracle at 0x000000000000000000000000000000000000dEaD has no code on the chain at http:.*; pass the --deployment of that chain/);

    const badAddress = join(dir, "bad.json");
    writeFileSync(badAddress, JSON.stringify({ localhost: { AIOracle: { address: "0x12", startBlock: 0 } } }));
    expect((await oao(["subgraph", "serve", "--rpc", rpc, "--deployment", badAddress])).stderr).toMatch(/localhost\.AIOracle\.address: expected a 20-byte hex address, got "0x12"/);

    expect((await oao(["subgraph", "serve", "--port", "http"])).stderr).toMatch(/--port http: expected 0\.\.65535/);
  });
});

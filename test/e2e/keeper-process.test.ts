/**
 * `oao keeper run` as a real process against a JSON-RPC node (Hardhat's, and a separate anvil node from npm
 * with 1 s blocks): killed with SIGKILL in the middle of a
 * dispute and started again, it resumes from its SQLite database and still wins; and `oao devnet`
 * comes up with everything deployed.
 */
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, zeroAddress, type Address, type Hex } from "viem";
import { network } from "hardhat";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld, devKey } from "../../keeper/src/demo/world.ts";
import { anvilAvailable, startAnvil } from "./harness/anvil.ts";
import { startKeeperProc } from "./harness/keeper-proc.ts";
import { closeParties, createParties, HONEST_ACCOUNT } from "../../keeper/src/demo/scenario.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One request on the chain at `rpc`: the cheater (in this process) commits a wrong claim, the honest
 * operator's `oao keeper run` process challenges, is killed with SIGKILL in the VM phase and started
 * again on the same database, and wins; the request finalizes with the honest answer.
 */
async function killedMidDisputeWins(rpc: string): Promise<void> {
    const world = await createLocalWorld({ rpc });
    const modelId = await world.registerModel(model);
    // Both dev operators are funded and staked; the cheater plays in this process, the honest
    // operator's keeper is a separate `oao keeper run` process.
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 11 });
    const startBlock = Number(await world.publicClient.getBlockNumber());
    const sample = loadMnist().test[11]!;
    const input = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
    await world.publicClient.waitForTransactionReceipt({
      hash: await world.contracts.aiOracle.write.requestCallback([modelId, input, zeroAddress, 0n, "0x"], {
        value: await world.contracts.aiOracle.read.estimateFee([modelId, 0n]),
      }),
    });
    const requestId = await world.contracts.aiOracle.read.requestCount();
    await parties.cheater.keeper.tick(); // the cheater's wrong claim stands first

    const keeper = await startKeeperProc({
      rpcUrl: rpc,
      contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
      key: devKey(HONEST_ACCOUNT),
      models: { [modelId.toString()]: "mnist" },
      startBlock,
      config: { pollIntervalMs: 100 },
    });
    const gameAt = async (): Promise<Address | undefined> =>
      (await world.contracts.disputeGameFactory.read.gameCount()) > 0n ? world.contracts.disputeGameFactory.read.gameAt([0n]) : undefined;
    const phaseOf = async (game: Address) =>
      world.publicClient.readContract({ address: game, abi: [{ type: "function", name: "phase", inputs: [], outputs: [{ type: "uint8" }], stateMutability: "view" }], functionName: "phase" });

    let killed = false;
    try {
      for (let i = 0; i < 600; i++) {
        await parties.cheater.keeper.tick().catch(() => undefined);
        const game = await gameAt();
        if (game && !killed && (await phaseOf(game)) === 2 /* Vm */) {
          await keeper.kill("SIGKILL");
          killed = true;
          await keeper.restart(); // same database
        }
        if (game && (await phaseOf(game)) === 4 /* Resolved */) {
          // The honest claim now stands: let its window pass so the keeper finalizes it.
          if (!(await world.contracts.aiOracle.read.isFinalized([requestId]))) await world.advanceTime(3_601n);
        }
        if (await world.contracts.aiOracle.read.isFinalized([requestId])) break;
        await sleep(100);
      }
      expect(killed).toBe(true);
      expect(await world.contracts.aiOracle.read.isFinalized([requestId])).toBe(true);
      const honestAccount = await world.contracts.staking.read.getAccount([parties.honest.address]);
      const cheaterAccount = await world.contracts.staking.read.getAccount([parties.cheater.address]);
      expect(cheaterAccount.jailedUntil).toBeGreaterThan(0n); // slashed and jailed
      expect(honestAccount.jailedUntil).toBe(0n);
      expect(honestAccount.locked).toBe(0n);
    } finally {
      await keeper.kill("SIGKILL");
      closeParties(parties);
    }
}

describe("keeper process", () => {
  it("killed with SIGKILL mid-dispute, restarts from its database and wins", async () => {
    const server = await network.createServer({}, "127.0.0.1", 0);
    const { address, port } = await server.listen();
    try {
      await killedMidDisputeWins(`http://${address}:${port}`);
    } finally {
      await server.close();
    }
  }, 300_000);

  it.skipIf(!anvilAvailable)("against a separate anvil node with 1 s blocks: killed with SIGKILL mid-dispute, restarts and wins", async () => {
    const anvil = await startAnvil({ blockTime: 1 });
    try {
      await killedMidDisputeWins(anvil.url);
    } finally {
      await anvil.stop();
    }
  }, 600_000);

  it("oao keeper stake / status / unstake / withdraw manage the operator's stake", async () => {
    const server = await network.createServer({}, "127.0.0.1", 0);
    const { address, port } = await server.listen();
    const rpc = `http://${address}:${port}`;
    try {
      const world = await createLocalWorld({ rpc });
      const operatorIndex = 5;
      const operator = getAddress((await world.conn.viem.getWalletClients())[operatorIndex]!.account.address);
      await world.publicClient.waitForTransactionReceipt({ hash: await world.contracts.stakeToken.write.mint([operator, 500n * 10n ** 18n]) });
      const dir = mkdtempSync(join(tmpdir(), "oao-keeper-cli-"));
      const configPath = join(dir, "keeper.json");
      writeFileSync(configPath, JSON.stringify({ rpcUrl: rpc, contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking }, dataDir: "data" }));
      const cli = (...args: string[]) =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, [`${root}bin/oao.js`, "keeper", ...args, "--config", configPath], {
            cwd: root,
            env: { ...process.env, OAO_PRIVATE_KEY: devKey(operatorIndex), OAO_LOG_LEVEL: "silent" },
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          let err = "";
          child.stdout!.on("data", (d) => (out += d));
          child.stderr!.on("data", (d) => (err += d));
          child.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n").pop()!) : reject(new Error(err))));
        });
      expect(JSON.parse(await cli("stake", "200000000000000000000"))).toMatchObject({ staked: "200000000000000000000" });
      let status = JSON.parse(await cli("status", "--json"));
      expect(status).toMatchObject({ operator, active: "200000000000000000000", eligible: true, locked: "0" });
      await cli("unstake", "50000000000000000000");
      status = JSON.parse(await cli("status", "--json"));
      expect(status).toMatchObject({ active: "150000000000000000000", unbonding: "50000000000000000000" });
      await expect(cli("unstake", "12abc")).rejects.toThrow(/whole number of wei/);
      await world.advanceTime(7n * 86_400n + 1n); // the dev unbonding period
      const withdrawn = JSON.parse(await cli("withdraw"));
      expect(withdrawn.withdrawn.stake).toMatch(/^0x[0-9a-f]{64}$/);
      expect(await world.contracts.stakeToken.read.balanceOf([operator])).toBe(350n * 10n ** 18n);
    } finally {
      await server.close();
    }
  }, 120_000);

  it("oao devnet serves the deployed protocol over JSON-RPC", async () => {
    const devnet = spawn(process.execPath, [`${root}bin/oao.js`, "devnet", "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      devnet.stdout!.on("data", (d) => (out += d));
      for (let i = 0; i < 1200 && !out.trim().endsWith("}"); i++) await sleep(100);
      const info = JSON.parse(out) as { rpc: string; contracts: Record<string, Address>; modelId: string };
      const res = await fetch(info.rpc, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getCode", params: [info.contracts.aiOracle, "latest"] }),
      });
      const { result } = (await res.json()) as { result: string };
      expect(result.length).toBeGreaterThan(1_000);
      expect(info.modelId).toBe("1");
    } finally {
      devnet.kill("SIGINT");
    }
  }, 120_000);
});

/**
 * `oao devnet`: a persistent local chain for dapp developers (docs/dapp-guide.md §3).
 *   oao devnet [--port 8545] [--host 127.0.0.1] [--keeper-account 1]
 * Serves Hardhat's chain over JSON-RPC, deploys the protocol with Ignition, registers the shipped MNIST model
 * (model 1) and text generation model (keeper/models/text_lm/generate.oao, model 2), deploys a DigitClassifier,
 * writes the subgraph's networks file and manifest for this deployment, prints one JSON object on stdout and runs
 * one honest keeper — the service `oao keeper run` runs, serving both models — from a dev account until
 * SIGINT/SIGTERM.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { createWalletClient, http } from "viem";
import { InputError } from "../../graph/errors.ts";
import { toHex } from "../../graph/index.ts";
import { DEV_DEFAULTS } from "../../../ignition/modules/dev/OracleDev.ts";
import { GAME_DEFAULTS } from "../../../ignition/modules/OracleCore.ts";
import { withSoundArtifacts } from "../demo/artifacts.ts";
import { subgraphNetworks, writeDevnetSubgraph } from "../demo/subgraph-networks.ts";
import { HONEST_ACCOUNT } from "../demo/scenario.ts";
import { createLocalWorld, devKey } from "../demo/world.ts";
import { parseKeeperConfig } from "../service/config.ts";
import { createLogger } from "../service/logger.ts";
import { createMetrics } from "../service/metrics.ts";
import { SHIPPED_MODELS_DIR, loadModelFile, resolveModelPath } from "../service/models.ts";
import { createKeeperRuntime } from "../service/runtime.ts";
import { createKeeperService } from "./keeper.ts";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The devnet's challenge window (OracleLocal uses the dev defaults). */
const LOCAL_CHALLENGE_WINDOW = DEV_DEFAULTS.challengeWindow;
/** The models the devnet registers, in this order (so their ids are 1, 2): shipped model files (keeper/models/). */
export const DEVNET_MODELS = [
  { key: "mnist", entry: "mnist" },
  { key: "text", entry: join(SHIPPED_MODELS_DIR, "text_lm", "generate.oao") },
] as const;

interface DevnetOpts {
  port: string;
  host: string;
  keeperAccount: string;
}

/**
 * `--keeper-account N`: the dev account the devnet's keeper stakes and sends from. `accounts` is how many dev
 * accounts the chain has unlocked (checked once the chain runs); 0 is the deployer.
 */
export function parseKeeperAccount(text: string, accounts?: number): number {
  const index = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(index)) throw new InputError(`--keeper-account ${text}: expected a dev account index, a whole number such as 1`);
  if (index === 0) throw new InputError("--keeper-account 0: dev account 0 deploys the protocol and owns it; pick 1 or above");
  if (accounts !== undefined && index >= accounts) {
    throw new InputError(`--keeper-account ${text}: the devnet's chain has dev accounts 0..${accounts - 1}; pick one of 1..${accounts - 1}`);
  }
  return index;
}

export function buildDevnetCommand(): Command {
  return new Command("devnet")
    .description("a local chain on 127.0.0.1 with the protocol deployed, MNIST (model 1) and the text model (model 2) registered and an honest keeper serving both")
    .option("--port <port>", "JSON-RPC port", "8545")
    .option("--host <host>", "JSON-RPC host", "127.0.0.1")
    .option("--keeper-account <n>", "dev account index the keeper stakes and sends from (not 0, the deployer)", String(HONEST_ACCOUNT))
    .action(async (opts: DevnetOpts) => runDevnet(opts));
}

async function runDevnet(opts: DevnetOpts): Promise<void> {
  const port = Number(opts.port);
  if (!/^\d+$/.test(opts.port) || port > 65_535) throw new InputError(`--port ${opts.port}: expected 0..65535`);
  parseKeeperAccount(opts.keeperAccount); // the syntax, before starting anything
  process.chdir(REPO_ROOT);
  const { network } = await import("hardhat");
  const server = await withSoundArtifacts(() => network.createServer({}, opts.host, port));
  const { address, port: boundPort } = await server.listen();
  const rpc = `http://${address}:${boundPort}`;
  try {
    const unlocked = await createWalletClient({ transport: http(rpc) }).getAddresses(); // eth_accounts
    const keeperAccount = parseKeeperAccount(opts.keeperAccount, unlocked.length);
    // The game's VM trace has production's depth: a text generation graph has nodes far longer than the 2^21 steps of
    // the demo's game (docs/text-generation.md), and production's covers every node a keeper serves.
    const world = await createLocalWorld({ rpc, game: { vmTraceDepth: GAME_DEFAULTS.vmTraceDepth } });
    const models: Record<string, { modelId: string; name: string; file: string; modelRoot: string; nodes: number; textModel: boolean; inputBytes: number }> = {};
    const served: Record<string, string> = {};
    for (const { key, entry } of DEVNET_MODELS) {
      const file = resolveModelPath(entry);
      const model = loadModelFile(file);
      const modelId = await world.registerModel(model);
      const registered = await world.contracts.aiOracle.read.getModel([modelId]);
      models[key] = {
        modelId: modelId.toString(),
        name: model.metadata.name,
        file,
        modelRoot: toHex(model.modelRoot),
        nodes: model.nodes.length,
        // A text model takes a prompt of 1..inputBytes bytes; a fixed one exactly inputBytes (docs/protocol.md §1.4).
        textModel: registered.inputMode === 1,
        inputBytes: Number(registered.inputBytes),
      };
      served[modelId.toString()] = file;
    }
    const keeper = await world.fundAndStake(keeperAccount);
    const classifier = await world.conn.viem.deployContract("DigitClassifier", [world.addresses.aiOracle, BigInt(models.mnist!.modelId)]);
    const subgraph = writeDevnetSubgraph(subgraphNetworks(world.addresses, world.startBlock));

    // The honest keeper: the service `oao keeper run` runs, over this chain's JSON-RPC, serving both models.
    const config = parseKeeperConfig({
      rpcUrl: rpc,
      contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
      dataDir: mkdtempSync(join(tmpdir(), "oao-devnet-keeper-")),
      models: served,
      confirmations: 0,
      pollIntervalMs: 500,
      startBlock: Number(await world.publicClient.getBlockNumber()),
      logLevel: process.env.OAO_LOG_LEVEL ?? "warn",
    });
    const rt = await createKeeperRuntime(config, devKey(keeperAccount), {
      metrics: createMetrics({ defaultMetrics: false }),
      log: createLogger({ level: config.logLevel }),
      // Measuring the guest's steps on every node of the generation graph takes minutes; the shipped models fit
      // production's depth (checked by `oao model import` and keeper/graph/onnx/generate.test.ts).
      skipStepCheck: `the devnet serves its shipped models on a game of production depth ${GAME_DEFAULTS.vmTraceDepth}`,
    });
    if (rt.modelProblems.length > 0) throw new Error(`the devnet's keeper refuses its models: ${rt.modelProblems.join("; ")}`);
    const { service, compute } = createKeeperService(rt);

    const info = {
      rpc,
      chainId: await world.publicClient.getChainId(),
      contracts: { ...world.addresses, digitClassifier: classifier.address },
      startBlock: world.startBlock.toString(),
      /** MNIST's id (as before the text model was added). */
      modelId: models.mnist!.modelId,
      models,
      keeper,
      keeperAccount,
      subgraph,
    };
    console.log(JSON.stringify(info, null, 2));
    console.error(
      `devnet ready on ${rpc}: the honest keeper (dev account ${keeperAccount}, ${keeper}) answers model ${models.mnist!.modelId} (MNIST, ${models.mnist!.inputBytes} int8 pixels) ` +
        `and model ${models.text!.modelId} (text generation: a UTF-8 prompt of 1..${models.text!.inputBytes} bytes in, generated text out). Ctrl-C to stop.`,
    );
    console.error(
      `  Results are final after the ${LOCAL_CHALLENGE_WINDOW} s challenge window of chain time: move the clock with evm_increaseTime and mine a block (docs/dapp-guide.md §3).`,
    );
    console.error(`  Subgraph: ${subgraph.manifest} (subgraph/README.md, "Indexing oao devnet"); without Docker: npx oao subgraph serve --rpc ${rpc}`);
    const stop = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
    await service.run(stop.signal, config.pollIntervalMs);
    await rt.responder.idle();
    await compute.close();
    rt.close();
  } finally {
    await server.close();
  }
}

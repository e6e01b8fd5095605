/**
 * Wires a keeper from its config: clients, store, logger, metrics, models, responder. Shared by
 * `oao keeper …`, the demo and devnet, so they run the same code a staker runs.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import {
  createPublicClient,
  createWalletClient,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AIOracleAbi, DisputeGameFactoryAbi, ModelRegistryAbi, TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { absolutePrestate, nodeClassSteps } from "../../guest/node/vm.ts";
import { GUEST_ELF_PATH } from "../demo/world.ts";
import { createResponder, type Responder, type ResponderParams } from "../chain/responder.ts";
import { watchSends } from "./watchdog.ts";
import { shortError } from "./reconcile.ts";
import { isRetryableRpcError, withRetry } from "../chain/retry.ts";
import { instrumentTransport } from "../chain/transport.ts";
import { openStore, type KeeperStore } from "../store/store.ts";
import type { KeeperConfig } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type KeeperMetrics } from "./metrics.ts";
import type { Readiness } from "./http.ts";
import { loadModelFile, ModelBook, resolveModelPath, type LoadedModel } from "./models.ts";
import { ConfigError } from "../errors.ts";
import { kernelPathLabel, kernelSelection } from "../../graph/wasm.ts";

export interface KeeperRuntime {
  config: KeeperConfig;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  responder: Responder;
  store: KeeperStore;
  log: Logger;
  metrics: KeeperMetrics;
  models: ModelBook;
  /** Why each configured model that is not served was refused (empty when all are served). */
  modelProblems: string[];
  /** The guest program (oao_node.elf) this keeper plays disputes with. */
  elf: Uint8Array;
  /** The live dispute game's vmTraceDepth (TaskManager.disputeGameFactory().vmTraceDepth()). */
  vmTraceDepth: number;
  close(): void;
}

export async function createKeeperRuntime(
  config: KeeperConfig,
  key: `0x${string}`,
  options: {
    log?: Logger;
    metrics?: KeeperMetrics;
    transport?: Transport;
    /**
     * Models already loaded, served instead of loading `config.models` (in-process tools running
     * several keepers share one decoded model and one executor: GPT-2 small is 125 MB each).
     */
    models?: ModelBook;
    /** The guest program to dispute with (default: keeper/guest/build/oao_node.elf). */
    elf?: Uint8Array;
    /**
     * Serve without measuring the guest's VM steps on every node against the game's trace (docs/protocol.md §6.0),
     * so a model with a node longer than the trace is served too; the reason is logged at start-up. Set by tools
     * only, never by a keeper serving users: `oao devnet` and `oao demo`'s text model (production's depth, which
     * their shipped models were checked against when imported, without minutes of guest runs at start),
     * `oao dispute simulate` (a deployment too shallow for its model on purpose: the game ends undecided) and
     * `OAO_TEST_SERVE_LONG_NODES=1` (tests).
     */
    skipStepCheck?: string;
    /** Responder settings (e.g. `window`: transactions in flight) over the config's. */
    responder?: Partial<Pick<ResponderParams, "window" | "bumpAfterBlocks" | "maxBumps" | "pollIntervalMs">>;
  } = {},
): Promise<KeeperRuntime> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  let kernels;
  try {
    kernels = kernelSelection(); // OAO_KERNELS=native|simd|scalar|auto
  } catch (cause) {
    throw new ConfigError((cause as Error).message, { cause });
  }
  log.info({ kernels: kernels.path, reason: kernels.reason }, `graph kernels: ${kernelPathLabel(kernels.path)}`);
  const metrics = options.metrics ?? createMetrics();
  // Every call has a deadline short enough for liveness, and every failed call is counted (a frozen node shows).
  const transport = instrumentTransport(options.transport ?? http(config.rpcUrl, { retryCount: 1, timeout: config.rpcTimeoutMs }), {
    timeoutMs: config.rpcTimeoutMs,
    onError: () => metrics.rpcErrors.inc(),
  });
  const publicClient = createPublicClient({ transport }) as PublicClient;
  // Start-up reads ride out a flaky endpoint (bounded retries); only an answer from the chain
  // (a revert, an empty account) decides that something is misconfigured.
  const retried: Rpc = (fn) =>
    withRetry(fn, { retries: 8, maxDelayMs: 5_000, onRetry: (error, attempt) => log.warn({ attempt, error: shortError(error) }, "start-up RPC read failed; retrying") });
  const chainId = await retried(() => publicClient.getChainId());
  if (config.chainId !== undefined && config.chainId !== chainId) {
    throw new ConfigError(`config.chainId is ${config.chainId} but ${config.rpcUrl} serves chain ${chainId}`);
  }
  await verifyDeployment(publicClient, retried, config.contracts, chainId);
  const vmTraceDepth = await liveVmTraceDepth(publicClient, retried, config.contracts.taskManager);
  const chain = { id: chainId, name: `chain-${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } } as Chain;
  const account = privateKeyToAccount(key);
  const walletClient = createWalletClient({ account, chain, transport });
  const store = openStore(join(config.dataDir, "keeper.db"));
  // Watched: the keeper's watchdog reads its consecutive send failures (readiness reason "tx_path"), dispute moves included.
  const responder = watchSends(createResponder({ publicClient, walletClient, store, log, metrics, window: config.txWindow, ...options.responder }));

  let models = options.models;
  if (models === undefined) {
    models = new ModelBook();
    for (const [id, entry] of Object.entries(config.models)) {
      const path = resolveModelPath(entry);
      models.add(BigInt(id), loadModelFile(path), path);
    }
  }
  const elf = options.elf ?? new Uint8Array(readFileSync(GUEST_ELF_PATH));
  if (options.skipStepCheck) log.warn({ vmTraceDepth, reason: options.skipStepCheck }, "not measuring the models' VM steps against the game's trace: a node longer than it is served");
  const problems = await models.verifyAgainstChain({
    guestPrestate: absolutePrestate(elf),
    vmTraceDepth: options.skipStepCheck ? undefined : vmTraceDepth,
    nodeSteps: nodeStepsCache(join(config.dataDir, "vm-steps.json"), elf, log),
    readModel: async (modelId) => {
      try {
        const model = await retried(() =>
          publicClient.readContract({ address: config.contracts.aiOracle, abi: ModelRegistryAbi, functionName: "getModel", args: [modelId] }),
        );
        return { modelRoot: model.modelRoot as `0x${string}`, absolutePrestate: model.absolutePrestate as `0x${string}` };
      } catch (cause) {
        if (!isRetryableRpcError(cause)) return undefined; // the registry reverted: no model under this id
        throw new ConfigError(`cannot read model ${modelId} from the registry at ${config.contracts.aiOracle}: the RPC keeps failing (${shortError(cause)})`, { cause });
      }
    },
  });
  for (const problem of problems) log.error({ problem }, "model not served");
  log.info({ operator: account.address, chainId, models: models.ids().map(String) }, "keeper runtime ready");
  return { config, publicClient, walletClient, responder, store, log, metrics, models, modelProblems: problems, elf, vmTraceDepth, close: () => store.close() };
}

/**
 * The keeper's /readyz: a configured model that is not served (another file than the registered
 * model, another guest, a node too long for the game) keeps it not ready, since it runs but does not
 * do all it was configured for; otherwise the service loop's own readiness.
 */
export function runtimeReadiness(rt: Pick<KeeperRuntime, "modelProblems">, service: Readiness): Readiness {
  if (rt.modelProblems.length > 0) return { ready: false, reason: `model not served: ${rt.modelProblems.join("; ")}` };
  return service;
}

/**
 * Refuses to start against addresses that are not one deployment of the protocol: each must hold
 * code, and the oracle, task manager and staking contracts must name each other.
 */
/** Runs one RPC read with the start-up retries. */
type Rpc = <T>(fn: () => Promise<T>) => Promise<T>;

async function verifyDeployment(publicClient: PublicClient, rpc: Rpc, contracts: KeeperConfig["contracts"], chainId: number): Promise<void> {
  const { aiOracle, taskManager, staking } = contracts;
  for (const [name, address] of Object.entries({ aiOracle, taskManager, staking })) {
    const code = await rpc(() => publicClient.getCode({ address }));
    if (code === undefined || code === "0x") {
      throw new ConfigError(`config.contracts.${name} = ${address} has no contract code on chain ${chainId}: check the address (and rpcUrl)`);
    }
  }
  const read = async (name: string, address: `0x${string}`, fn: () => Promise<`0x${string}`>) => {
    try {
      return await rpc(fn);
    } catch (cause) {
      if (isRetryableRpcError(cause)) throw cause;
      throw new ConfigError(`config.contracts.${name} = ${address} is not this protocol's ${name} (a view it must have reverted): check the address`, { cause });
    }
  };
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const oracleTm = await read("aiOracle", aiOracle, () => publicClient.readContract({ address: aiOracle, abi: AIOracleAbi, functionName: "taskManager" }));
  if (!same(oracleTm, taskManager)) {
    throw new ConfigError(`config.contracts.taskManager = ${taskManager}, but the oracle at ${aiOracle} uses the task manager ${oracleTm}: use the addresses of one deployment`);
  }
  const tmOracle = await read("taskManager", taskManager, () => publicClient.readContract({ address: taskManager, abi: TaskManagerAbi, functionName: "oracle" }));
  const tmStaking = await read("taskManager", taskManager, () => publicClient.readContract({ address: taskManager, abi: TaskManagerAbi, functionName: "staking" }));
  if (!same(tmOracle, aiOracle)) {
    throw new ConfigError(`config.contracts.aiOracle = ${aiOracle}, but the task manager at ${taskManager} serves the oracle ${tmOracle}: use the addresses of one deployment`);
  }
  if (!same(tmStaking, staking)) {
    throw new ConfigError(`config.contracts.staking = ${staking}, but the task manager at ${taskManager} uses the staking contract ${tmStaking}: use the addresses of one deployment`);
  }
}

/** vmTraceDepth of the game factory that judges new requests (TaskManager.disputeGameFactory()). */
async function liveVmTraceDepth(publicClient: PublicClient, rpc: Rpc, taskManager: `0x${string}`): Promise<number> {
  try {
    const factory = await rpc(() => publicClient.readContract({ address: taskManager, abi: TaskManagerAbi, functionName: "disputeGameFactory" }));
    return await rpc(() => publicClient.readContract({ address: factory, abi: DisputeGameFactoryAbi, functionName: "vmTraceDepth" }));
  } catch (cause) {
    throw new ConfigError(
      `cannot read the dispute game's vmTraceDepth through the task manager at ${taskManager} (disputeGameFactory().vmTraceDepth()): ` +
        `check config.contracts.taskManager and the RPC (${shortError(cause)})`,
      { cause },
    );
  }
}

/** Node step counts measured per (model, guest) in memory: in-process keepers sharing a model measure it once. */
const measured = new Map<string, (number | undefined)[]>();

/**
 * The guest's VM steps per node, measured once per (modelRoot, guest program) and kept in `file`
 * (the keeper's data directory) so a restart does not rerun the guest on every node; a run that
 * has not exited at the bound is measured again next time (the bound may be larger then).
 */
function nodeStepsCache(file: string, elf: Uint8Array, log: Logger) {
  const elfSha = createHash("sha256").update(elf).digest("hex");
  const readCache = (): Record<string, number[]> => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Record<string, number[]>;
    } catch {
      return {};
    }
  };
  return (loaded: LoadedModel, maxSteps: number): (number | undefined)[] => {
    const key = `${loaded.modelRoot}:${elfSha}`;
    const known = measured.get(key) ?? readCache()[key];
    if (known !== undefined && known.every((n) => n !== undefined)) return known;
    log.info({ model: String(loaded.modelId), nodes: loaded.model.nodes.length, maxSteps }, "measuring the guest's VM steps on every node (once per model)");
    // one guest run per node class: a text model's generation graph repeats its step's nodes
    const steps = nodeClassSteps(loaded.model, (input) => loaded.executor.run(input).nodeOutputs, elf, maxSteps);
    measured.set(key, steps);
    if (steps.every((n) => n !== undefined)) {
      const cache = readCache();
      cache[key] = steps as number[];
      writeFileSync(`${file}.tmp`, JSON.stringify(cache));
      renameSync(`${file}.tmp`, file);
    }
    return steps;
  };
}

/**
 * Wires a keeper from its config: clients, store, logger, metrics, models, responder. Shared by
 * `oao keeper …`, the demo and devnet, so they run the same code a staker runs.
 */
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
import { ModelRegistryAbi } from "../../../sdk/src/abis/generated.ts";
import { createResponder, type Responder } from "../chain/responder.ts";
import { openStore, type KeeperStore } from "../store/store.ts";
import type { KeeperConfig } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type KeeperMetrics } from "./metrics.ts";
import { loadModelFile, ModelBook, resolveModelPath } from "./models.ts";
import { ConfigError } from "../errors.ts";

export interface KeeperRuntime {
  config: KeeperConfig;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  responder: Responder;
  store: KeeperStore;
  log: Logger;
  metrics: KeeperMetrics;
  models: ModelBook;
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
  } = {},
): Promise<KeeperRuntime> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const transport = options.transport ?? http(config.rpcUrl, { retryCount: 3, timeout: 20_000 });
  const publicClient = createPublicClient({ transport }) as PublicClient;
  const chainId = await publicClient.getChainId();
  if (config.chainId !== undefined && config.chainId !== chainId) {
    throw new ConfigError(`config.chainId is ${config.chainId} but ${config.rpcUrl} serves chain ${chainId}`);
  }
  const chain = { id: chainId, name: `chain-${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } } as Chain;
  const account = privateKeyToAccount(key);
  const walletClient = createWalletClient({ account, chain, transport });
  const store = openStore(join(config.dataDir, "keeper.db"));
  const responder = createResponder({ publicClient, walletClient, store, log, metrics });

  let models = options.models;
  if (models === undefined) {
    models = new ModelBook();
    for (const [id, entry] of Object.entries(config.models)) models.add(BigInt(id), loadModelFile(resolveModelPath(entry)));
  }
  const problems = await models.verifyAgainstChain(async (modelId) => {
    try {
      const model = await publicClient.readContract({
        address: config.contracts.aiOracle,
        abi: ModelRegistryAbi,
        functionName: "getModel",
        args: [modelId],
      });
      return model.modelRoot as `0x${string}`;
    } catch {
      return undefined;
    }
  });
  for (const problem of problems) log.error({ problem }, "model not served");
  log.info({ operator: account.address, chainId, models: models.ids().map(String) }, "keeper runtime ready");
  return { config, publicClient, walletClient, responder, store, log, metrics, models, close: () => store.close() };
}

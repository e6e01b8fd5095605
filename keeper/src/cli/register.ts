/**
 * `oao model register MODEL`: registers a model file on chain (docs/operator-guide.md §4).
 *   oao model register mnist|DIR|FILE [--config FILE | --rpc URL --oracle ADDRESS] [--fee WEI] [--fee-receiver ADDRESS]
 *                      [--fee-share-bps N] [--fee-token ADDRESS] [--metadata-uri URI] [--prestate HEX] [--json]
 * The descriptor is read from the model file after its integrity check (the SDK's `modelDescriptorFromFile`); the
 * absolutePrestate is the shipped guest program's (keeper/guest/build/oao_node.elf) unless given. The key comes
 * from OAO_PRIVATE_KEY / OAO_PRIVATE_KEY_FILE, as for `oao keeper`. Prints the model id, modelRoot and tx hash.
 */
import { Command } from "commander";
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { createPublicClient, createWalletClient, getAddress, http, isAddress, isHex, parseEventLogs, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AIOracleAbi } from "../../../sdk/src/abis/generated.ts";
import { decodeModelDescriptor, modelDescriptorFromFile } from "../../../sdk/src/model.ts";
import { absolutePrestate } from "../../game/simulate.ts";
import { ConfigError } from "../errors.ts";
import { loadKeeperConfig, loadSigningKey } from "../service/config.ts";
import { resolveModelPath } from "../service/models.ts";
import { GUEST_ELF_PATH } from "../demo/world.ts";

interface RegisterOpts {
  config?: string;
  rpc?: string;
  oracle?: string;
  fee: string;
  feeReceiver?: string;
  feeShareBps: string;
  feeToken?: string;
  metadataUri?: string;
  prestate?: string;
  json?: boolean;
}

const wei = (name: string, text: string): bigint => {
  if (!/^\d+$/.test(text)) throw new ConfigError(`${name} ${JSON.stringify(text)}: a whole number of wei (digits only)`);
  return BigInt(text);
};
const address = (name: string, text: string): Address => {
  if (!isAddress(text, { strict: false })) throw new ConfigError(`${name} ${JSON.stringify(text)}: expected a 0x-prefixed 20-byte address`);
  return getAddress(text);
};

export function registerModelCommand(): Command {
  return new Command("register")
    .description("register a model file on chain: its descriptor, the guest's absolutePrestate and the fee")
    .argument("<model>", "a shipped model name (mnist), a model directory or a model.oao file")
    .option("-c, --config <file>", "keeper config file: its rpcUrl and contracts.aiOracle (or OAO_CONFIG)")
    .option("--rpc <url>", "JSON-RPC endpoint (instead of --config; or OAO_RPC_URL)")
    .option("--oracle <address>", "the AIOracle (instead of --config)")
    .option("--fee <wei>", "model fee per request (wei, or units of --fee-token)", "0")
    .option("--fee-receiver <address>", "receives --fee-share-bps of the model fee (default: the sender)")
    .option("--fee-share-bps <n>", "the fee receiver's share of the model fee, 0..10000 basis points", "0")
    .option("--fee-token <address>", "price the model in this ERC20 (docs/protocol.md §1.5) instead of wei")
    .option("--metadata-uri <uri>", "where the model files are published (default: oao://<model name>)")
    .option("--prestate <hex>", "absolutePrestate (default: the shipped guest program's)")
    .option("--json", "last stdout line: one JSON object")
    .action(async (model: string, opts: RegisterOpts) => {
      const file = resolveModelPath(model);
      const descriptorBytes = modelDescriptorFromFile(new Uint8Array(readFileSync(file)));
      const descriptor = decodeModelDescriptor(descriptorBytes);
      const configPath = opts.config ?? (opts.rpc || opts.oracle ? undefined : process.env.OAO_CONFIG);
      const config = configPath !== undefined ? loadKeeperConfig(configPath) : undefined;
      const rpc = opts.rpc ?? config?.rpcUrl ?? process.env.OAO_RPC_URL;
      const oracleText = opts.oracle ?? config?.contracts.aiOracle;
      if (!rpc) throw new ConfigError("no JSON-RPC endpoint: give --rpc URL, --config FILE or OAO_RPC_URL");
      if (!oracleText) throw new ConfigError("no oracle address: give --oracle ADDRESS or --config FILE");
      const oracle = address("--oracle", oracleText);
      const account = privateKeyToAccount(loadSigningKey());
      const feeShareBps = Number(opts.feeShareBps);
      if (!Number.isInteger(feeShareBps) || feeShareBps < 0) throw new ConfigError(`--fee-share-bps ${opts.feeShareBps}: a whole number of basis points`);
      let prestate: Hex;
      if (opts.prestate !== undefined) {
        if (!isHex(opts.prestate) || opts.prestate.length !== 66) throw new ConfigError("--prestate: expected 0x and 64 hex characters");
        prestate = opts.prestate;
      } else {
        prestate = absolutePrestate(new Uint8Array(readFileSync(GUEST_ELF_PATH)));
      }
      const name = basename(file) === "model.oao" ? basename(dirname(file)) : basename(file).replace(/\.oao$/, "");
      const params = {
        descriptor: descriptorBytes,
        absolutePrestate: prestate,
        fee: wei("--fee", opts.fee),
        feeReceiver: opts.feeReceiver !== undefined ? address("--fee-receiver", opts.feeReceiver) : account.address,
        feeShareBps,
        metadataURI: opts.metadataUri ?? `oao://${name}`,
      };
      const transport = http(rpc);
      const publicClient = createPublicClient({ transport });
      const wallet = createWalletClient({ account, transport, chain: { id: await publicClient.getChainId(), name: "oao", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpc] } } } });
      console.error(`▸ Registering ${name} (${descriptor.nodeCount} nodes, modelRoot ${descriptor.modelRoot}) at ${oracle} from ${account.address}…`);
      // Simulated first: a revert is reported with its decoded custom error and nothing is sent.
      let hash: Hex;
      if (opts.feeToken) {
        const { request } = await publicClient.simulateContract({ account, address: oracle, abi: AIOracleAbi, functionName: "registerModelWithFeeToken", args: [params, address("--fee-token", opts.feeToken)] });
        hash = await wallet.writeContract(request);
      } else {
        const { request } = await publicClient.simulateContract({ account, address: oracle, abi: AIOracleAbi, functionName: "registerModel", args: [params] });
        hash = await wallet.writeContract(request);
      }
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      const [event] = parseEventLogs({ abi: AIOracleAbi, eventName: "ModelRegistered", logs: receipt.logs });
      if (receipt.status !== "success" || !event) throw new Error(`registerModel transaction ${hash} did not register a model`);
      const result = {
        modelId: event.args.modelId.toString(),
        modelRoot: event.args.modelRoot,
        nodeCount: descriptor.nodeCount,
        absolutePrestate: prestate,
        fee: params.fee.toString(),
        feeToken: opts.feeToken ? address("--fee-token", opts.feeToken) : null,
        feeReceiver: params.feeReceiver,
        feeShareBps,
        metadataURI: params.metadataURI,
        owner: account.address,
        tx: hash,
      };
      console.error(`▸ Registered model ${result.modelId}: serve it with "models": { "${result.modelId}": "${model}" } in the keeper config`);
      console.log(opts.json ? JSON.stringify(result) : `model ${result.modelId} registered (tx ${hash})`);
    });
}

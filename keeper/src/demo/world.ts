/**
 * A local world for the demo, devnet and on-chain simulations: a chain (Hardhat's in-process chain by
 * default, or any JSON-RPC node), the whole protocol deployed with Ignition (the production wiring
 * with the real dispute game, around a mintable stake token), a model registered, and funded, staked
 * operators. Everything later runs through the same keeper code a staker runs.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { custom, parseEther, parseEventLogs, toHex as viemHex, type Address, type Hex, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { encodeDescriptor, type Model } from "../../graph/index.ts";
import { absolutePrestate } from "../../game/simulate.ts";
import { withSoundArtifacts } from "./artifacts.ts";

/** Hardhat's and anvil's well-known development mnemonic: local chains only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const GUEST_ELF_PATH = fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url));

export function devKey(index: number): Hex {
  return viemHex(mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey!);
}

export interface GameParams {
  clockDuration: bigint;
  graphWidthBits: number;
  vmWidthBits: number;
  vmTraceDepth: number;
}

export const LOCAL_GAME: GameParams = { clockDuration: 3_600n, graphWidthBits: 2, vmWidthBits: 4, vmTraceDepth: 21 };

export async function createLocalWorld(options: { rpc?: string; game?: Partial<GameParams> } = {}) {
  const { network } = await import("hardhat");
  const conn = options.rpc
    ? await network.connect({ network: "external", override: { url: options.rpc } })
    : await withSoundArtifacts(() => network.create());
  const game = { ...LOCAL_GAME, ...options.game };
  const { OracleLocalModule } = await import("../../../ignition/modules/dev/OracleLocal.ts");
  const [owner] = await conn.viem.getWalletClients();
  // The first block the deployment can be in: where an indexer of this world starts (subgraph startBlock).
  const startBlock = (await (await conn.viem.getPublicClient()).getBlockNumber()) + 1n;
  const deployed = await conn.ignition.deploy(OracleLocalModule, {
    // On an external node Ignition journals deployments per id: a fresh local chain reuses chain id
    // 31337, so each world gets its own id (ignition/deployments/ is not committed).
    ...(options.rpc ? { deploymentId: `oao-local-${Date.now()}-${process.pid}` } : {}),
    parameters: { OracleLocal: { ...game, clockDuration: game.clockDuration.toString(), treasury: owner!.account.address } },
  });
  const publicClient = (await conn.viem.getPublicClient()) as unknown as PublicClient;
  const elf = new Uint8Array(readFileSync(GUEST_ELF_PATH));
  const transport = custom(conn.provider);

  return {
    conn,
    game,
    startBlock,
    publicClient,
    transport,
    owner: owner!,
    elf,
    contracts: deployed,
    addresses: {
      aiOracle: deployed.aiOracle.address,
      taskManager: deployed.taskManager.address,
      staking: deployed.staking.address,
      stakeToken: deployed.stakeToken.address,
      disputeGameFactory: deployed.disputeGameFactory.address,
      preimageOracle: deployed.preimageOracle.address,
      mips: deployed.mips.address,
    },
    /** Registers `model` (descriptor + the guest's absolute prestate, unless another is given); returns its id. */
    async registerModel(model: Model, fee = parseEther("0.01"), prestate: Hex = absolutePrestate(elf)): Promise<bigint> {
      const descriptor = viemHex(
        encodeDescriptor({
          nodeCount: model.nodes.length,
          weightCount: model.weights.length,
          graphRoot: model.graphRoot,
          weightsRoot: model.weightsRoot,
          metadataHash: model.metadataHash,
          inputHeader: model.inputHeader,
          outputHeader: model.outputHeader,
          inputMode: model.inputMode,
        }),
      );
      const hash = await deployed.aiOracle.write.registerModel([
        { descriptor, absolutePrestate: prestate, fee, feeReceiver: owner!.account.address, feeShareBps: 1_000, metadataURI: `local://${model.metadata.name}` },
      ]);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      const [registered] = parseEventLogs({ abi: deployed.aiOracle.abi, eventName: "ModelRegistered", logs: receipt.logs });
      if (!registered) throw new Error(`registerModel ${hash} emitted no ModelRegistered event`);
      return registered.args.modelId;
    },
    /** Mints stake tokens to the dev account `index` and stakes them from it. */
    async fundAndStake(index: number, amount = parseEther("150")): Promise<Address> {
      const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
      const wallets = await conn.viem.getWalletClients();
      const wallet = wallets.find((w) => w.account.address.toLowerCase() === account.address.toLowerCase());
      if (!wallet) throw new Error(`dev account ${index} (${account.address}) is not unlocked on this chain`);
      const wait = async (hash: Hex) => publicClient.waitForTransactionReceipt({ hash });
      await wait(await deployed.stakeToken.write.mint([account.address, amount]));
      await wait(await deployed.stakeToken.write.approve([deployed.staking.address, amount], { account: wallet.account }));
      await wait(await deployed.staking.write.stake([amount], { account: wallet.account }));
      return account.address;
    },
    /** Moves the chain's clock (local chains: Hardhat, anvil). */
    async advanceTime(seconds: bigint): Promise<void> {
      await conn.provider.request({ method: "evm_increaseTime", params: [Number(seconds)] });
      await conn.provider.request({ method: "evm_mine", params: [] });
    },
  };
}

export type LocalWorld = Awaited<ReturnType<typeof createLocalWorld>>;

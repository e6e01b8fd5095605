/**
 * The protocol on a separate node for end-to-end tests: the production wiring deployed with Ignition
 * (createLocalWorld: the real dispute game, a mintable stake token), MNIST registered, operators funded and
 * staked, requests made from MNIST test samples, and what an operator sent read back from the chain
 * (transactions per intent, to show nothing was sent twice).
 */
import { decodeFunctionData, parseEther, parseEventLogs, parseGwei, zeroAddress, type Address, type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex } from "../../../keeper/graph/index.ts";
import { loadMnist } from "../../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../../keeper/src/service/models.ts";
import { createLocalWorld, devKey, type GameParams } from "../../../keeper/src/demo/world.ts";
import { TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";

export const mnistFile = resolveModelPath("mnist");
export const mnist = loadModelFile(mnistFile);
const samples = loadMnist().test;

/** The request input of MNIST test sample `k`. */
export const mnistInput = (k: number): Hex => toHex(encodeTensor(quantizeInput(mnist, Array.from(samples[k]!.pixels)))) as Hex;

export async function createE2eWorld(rpc: string, options: { game?: Partial<GameParams> } = {}) {
  const world = await createLocalWorld({ rpc, ...options });
  const modelId = await world.registerModel(mnist);
  const contracts = { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking };
  const wallets = await world.conn.viem.getWalletClients();
  const requester = wallets[0]!;
  /** Mined transactions from `from` since `fromBlock` (block, recipient, calldata, whether it succeeded), in order. */
  async function sentTxs(from: Address, fromBlock: bigint): Promise<{ blockNumber: bigint; to: Address | null; input: Hex; ok: boolean }[]> {
    const txs: { blockNumber: bigint; to: Address | null; input: Hex; ok: boolean }[] = [];
    const head = await world.publicClient.getBlockNumber();
    for (let b = fromBlock; b <= head; b++) {
      const block = await world.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== from.toLowerCase()) continue;
        const receipt = await world.publicClient.getTransactionReceipt({ hash: tx.hash });
        txs.push({ blockNumber: b, to: tx.to, input: tx.input, ok: receipt.status === "success" });
      }
    }
    return txs;
  }
  return {
    ...world,
    modelId,
    mnistModel: mnist,
    /** What a keeper's config names. */
    keeperContracts: contracts,
    key: devKey,
    /** Funds and stakes dev account `index` (an operator). */
    stake: (index: number, amount = parseEther("150")) => world.fundAndStake(index, amount),
    /**
     * Requests an inference of MNIST sample `k` (optionally with a callback; `modelId` and `input` for another model);
     * returns its id once mined. `mine` is called once it is sent (a chain whose mining is paused: mine its block).
     */
    async request(k: number, o: { callback?: Address; gasLimit?: bigint; modelId?: bigint; input?: Hex; mine?: () => Promise<void> } = {}): Promise<bigint> {
      const id = o.modelId ?? modelId;
      const gasLimit = o.gasLimit ?? 0n;
      const hash = await world.contracts.aiOracle.write.requestCallback([id, o.input ?? mnistInput(k), o.callback ?? zeroAddress, gasLimit, "0x"], {
        value: await world.contracts.aiOracle.read.estimateFee([id, gasLimit]),
        account: requester.account,
      });
      await o.mine?.();
      const receipt = await world.publicClient.waitForTransactionReceipt({ hash });
      const [event] = parseEventLogs({ abi: world.contracts.aiOracle.abi, eventName: "AICallbackRequest", logs: receipt.logs });
      if (!event) throw new Error(`request ${hash} emitted no AICallbackRequest event`);
      return event.args.requestId;
    },
    /** Sends `n` requests of samples from `k0` without waiting between them; resolves when all are mined. */
    async requestMany(n: number, k0 = 0): Promise<void> {
      const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
      let nonce = await world.publicClient.getTransactionCount({ address: requester.account.address, blockTag: "pending" });
      const hashes: Hex[] = [];
      // Full blocks raise the base fee 12.5% a block: a fee cap taken from the current block would leave the later ones stuck.
      const maxFeePerGas = parseGwei("1000");
      for (let i = 0; i < n; i++) {
        hashes.push(await world.contracts.aiOracle.write.requestCallback([modelId, mnistInput(k0 + i), zeroAddress, 0n, "0x"], { value: fee, account: requester.account, nonce: nonce++, gas: 400_000n, maxFeePerGas, maxPriorityFeePerGas: 1n }));
      }
      for (const hash of hashes) await world.publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
    },
    isFinalized: (id: bigint) => world.contracts.aiOracle.read.isFinalized([id]),
    /** The standing claim's operator of request `id` (zero address: none). */
    async standingOperator(id: bigint): Promise<Address> {
      const task = await world.contracts.taskManager.read.getTask([id]);
      if (task.standingClaimId === 0n) return zeroAddress;
      return (await world.contracts.taskManager.read.getClaim([task.standingClaimId])).operator;
    },
    async jailed(operator: Address): Promise<boolean> {
      return (await world.contracts.staking.read.getAccount([operator])).jailedUntil > 0n;
    },
    sentTxs,
    /**
     * Mined transactions from `from` to the task manager since `fromBlock`, counted per intent
     * (`commit:7`, `challenge:7`, `expire:7`) and whether each succeeded: a second success of one intent is a
     * double send, a reverted one a wasted send.
     */
    async intentTxs(from: Address, fromBlock: bigint): Promise<Map<string, { ok: number; reverted: number }>> {
      const counts = new Map<string, { ok: number; reverted: number }>();
      for (const tx of await sentTxs(from, fromBlock)) {
        if (tx.to?.toLowerCase() !== world.addresses.taskManager.toLowerCase()) continue;
        let key: string;
        try {
          const call = decodeFunctionData({ abi: TaskManagerAbi, data: tx.input });
          if (call.functionName !== "commit" && call.functionName !== "challenge" && call.functionName !== "expire") continue;
          key = `${call.functionName}:${(call.args as readonly unknown[])[0] as bigint}`;
        } catch {
          continue;
        }
        const c = counts.get(key) ?? { ok: 0, reverted: 0 };
        if (tx.ok) c.ok++;
        else c.reverted++;
        counts.set(key, c);
      }
      return counts;
    },
  };
}

export type E2eWorld = Awaited<ReturnType<typeof createE2eWorld>>;

/**
 * A fresh in-process Hardhat chain served over real JSON-RPC on 127.0.0.1 (network.createServer),
 * with the oracle, staking, task manager and toy dispute game factory deployed through a plain viem
 * http transport, as a dapp or frontend would reach a node. Test support only (imports hardhat).
 */
import { network } from "hardhat";
import {
  type Address,
  type Hex,
  type PublicClient,
  type TestClient,
  type WalletClient,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  keccak256,
  parseEther,
  toHex,
} from "viem";
import {
  AIOracleAbi,
  MockStakeTokenAbi,
  RecordingReceiverAbi,
  StakingAbi,
  TaskManagerAbi,
  ToyDisputeGameAbi,
  ToyDisputeGameFactoryAbi,
} from "../src/abis/generated.ts";
import {
  AIOracleBytecode,
  MockStakeTokenBytecode,
  RecordingReceiverBytecode,
  StakingBytecode,
  TaskManagerBytecode,
  ToyDisputeGameFactoryBytecode,
} from "../src/abis/bytecode.ts";

export const MIN_STAKE = parseEther("100");
export const BOND = parseEther("10");
export const WINDOW = 3600n;
export const UNBONDING = 7n * 86400n;
export const TIMEOUT = 3600n;
export const MODEL_FEE = parseEther("0.01");
export const PROTOCOL_FEE = parseEther("0.001");

export interface Deployment {
  url: string;
  chainId: number;
  publicClient: PublicClient;
  testClient: TestClient;
  wallet: (account: Address) => WalletClient;
  accounts: { owner: Address; user: Address; alice: Address; bob: Address; referee: Address; carol: Address };
  addresses: { oracle: Address; staking: Address; taskManager: Address; token: Address; factory: Address; receiver: Address };
  close(): Promise<void>;
}

export async function deploy(): Promise<Deployment> {
  const server = await network.createServer({}, "127.0.0.1", 0);
  const { address, port } = await server.listen();
  const url = `http://${address}:${port}`;
  const probe = createPublicClient({ transport: http(url) });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: "hardhat-server",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(url), pollingInterval: 50 });
  const testClient = createTestClient({ chain, mode: "hardhat", transport: http(url) });
  const wallet = (account: Address) => createWalletClient({ chain, account, transport: http(url), pollingInterval: 50 });
  const [owner, user, alice, bob, referee, carol] = await createWalletClient({ chain, transport: http(url) }).getAddresses();
  const accounts = { owner: owner!, user: user!, alice: alice!, bob: bob!, referee: referee!, carol: carol! };
  const w = wallet(accounts.owner);

  const deployed = async (abi: readonly unknown[], bytecode: Hex, args: readonly unknown[] = []): Promise<Address> => {
    const hash = await w.deployContract({ abi: abi as never, bytecode, args: args as never, account: accounts.owner, chain });
    return (await publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
  };
  const send = async (to: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[], from = accounts.owner) => {
    const hash = await wallet(from).writeContract({ address: to, abi: abi as never, functionName, args: args as never, account: from, chain });
    await publicClient.waitForTransactionReceipt({ hash });
  };

  const token = await deployed(MockStakeTokenAbi, MockStakeTokenBytecode);
  const oracle = await deployed(AIOracleAbi, AIOracleBytecode, [
    {
      owner: accounts.owner,
      treasury: accounts.owner,
      callbackGasPrice: 10n ** 9n,
      minCallbackGasPrice: 10n ** 7n,
      maxCallbackGasPrice: 10n ** 12n,
      protocolFee: PROTOCOL_FEE,
      maxProtocolFee: parseEther("1"),
      maxCallbackGasLimit: 2_000_000n,
      requestTimeout: TIMEOUT,
    },
  ]);
  const staking = await deployed(StakingAbi, StakingBytecode, [token, accounts.owner, accounts.owner, MIN_STAKE, UNBONDING, 3n * 86400n, 5000, 2000]);
  const factory = await deployed(ToyDisputeGameFactoryAbi, ToyDisputeGameFactoryBytecode, [accounts.referee]);
  const taskManager = await deployed(TaskManagerAbi, TaskManagerBytecode, [oracle, staking, factory, accounts.owner, WINDOW, BOND, 4096]);
  const receiver = await deployed(RecordingReceiverAbi, RecordingReceiverBytecode, [oracle]);
  await send(oracle, AIOracleAbi, "setTaskManager", [taskManager]);
  await send(staking, StakingAbi, "setSlasher", [taskManager, true]);
  for (const who of [accounts.alice, accounts.bob, accounts.carol]) await send(token, MockStakeTokenAbi, "mint", [who, parseEther("1000")]);

  return {
    url,
    chainId,
    publicClient,
    testClient,
    wallet,
    accounts,
    addresses: { oracle, staking, taskManager, token, factory, receiver },
    close: () => server.close(),
  };
}

export const modelParams = {
  modelRoot: keccak256(toHex("mnist-model")),
  absolutePrestate: keccak256(toHex("guest-prestate")),
  nodeCount: 6,
  fee: MODEL_FEE,
  feeShareBps: 3000,
  metadataURI: "ipfs://mnist",
};

/** A keeper's commit (the SDK has no commit action: that is the keeper's job). */
export async function commit(d: Deployment, from: Address, requestId: bigint, output: Hex): Promise<void> {
  const hash = await d.wallet(from).writeContract({
    address: d.addresses.taskManager,
    abi: TaskManagerAbi,
    functionName: "commit",
    args: [requestId, output, keccak256(output)],
    account: from,
    chain: d.publicClient.chain,
  });
  await d.publicClient.waitForTransactionReceipt({ hash });
}

export async function challenge(d: Deployment, from: Address, requestId: bigint, output: Hex): Promise<Address> {
  const { result, request } = await d.publicClient.simulateContract({
    address: d.addresses.taskManager,
    abi: TaskManagerAbi,
    functionName: "challenge",
    args: [requestId, output, keccak256(output)],
    account: from,
  });
  const hash = await d.wallet(from).writeContract(request);
  await d.publicClient.waitForTransactionReceipt({ hash });
  return result[1];
}

export async function resolveGame(d: Deployment, game: Address, winner: 0 | 1): Promise<void> {
  const hash = await d.wallet(d.accounts.referee).writeContract({
    address: game,
    abi: ToyDisputeGameAbi,
    functionName: "resolve",
    args: [winner],
    account: d.accounts.referee,
    chain: d.publicClient.chain,
  });
  await d.publicClient.waitForTransactionReceipt({ hash });
}

export async function finalize(d: Deployment, requestId: bigint): Promise<void> {
  const hash = await d.wallet(d.accounts.owner).writeContract({
    address: d.addresses.taskManager,
    abi: TaskManagerAbi,
    functionName: "finalize",
    args: [requestId],
    account: d.accounts.owner,
    chain: d.publicClient.chain,
  });
  await d.publicClient.waitForTransactionReceipt({ hash });
}

export async function expire(d: Deployment, requestId: bigint): Promise<void> {
  const hash = await d.wallet(d.accounts.owner).writeContract({
    address: d.addresses.taskManager,
    abi: TaskManagerAbi,
    functionName: "expire",
    args: [requestId],
    account: d.accounts.owner,
    chain: d.publicClient.chain,
  });
  await d.publicClient.waitForTransactionReceipt({ hash });
}

export async function passTime(d: Deployment, seconds: bigint): Promise<void> {
  await d.testClient.increaseTime({ seconds: Number(seconds) });
  await d.testClient.mine({ blocks: 1 });
}

/**
 * A fresh in-process Hardhat chain served over real JSON-RPC on 127.0.0.1 (network.createServer),
 * with the oracle, staking, task manager and a dispute game factory deployed through a plain viem
 * http transport, as a dapp or frontend would reach a node. Test support only (imports hardhat).
 *
 * The default factory is the toy one (a referee decides games, so request lifecycles can be driven
 * quickly); `deploy({ game: "real" })` deploys the real DisputeGameFactory over the MIPS verifier
 * (docs/protocol.md §5). Claims carry valid §3.5 proofs over synthetic traces (test/utils/claims.ts).
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
import { type ClaimProofArg, claimProofFor, syntheticDescriptor } from "../../test/utils/claims.ts";
import { readStandingOpening } from "../../keeper/src/service/claims.ts";
import {
  AIOracleAbi,
  DisputeGameAbi,
  DisputeGameFactoryAbi,
  MIPSAbi,
  MockStakeTokenAbi,
  PreimageOracleAbi,
  RecordingReceiverAbi,
  StakingAbi,
  TaskManagerAbi,
  ToyDisputeGameAbi,
  ToyDisputeGameFactoryAbi,
} from "../src/abis/generated.ts";
import {
  AIOracleBytecode,
  DisputeGameFactoryBytecode,
  MIPSBytecode,
  MockStakeTokenBytecode,
  PreimageOracleBytecode,
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
/** Real games: each side's chess clock (docs/protocol.md §5.5), round widths and the VM trace depth. */
export const CLOCK = 1800n;
export const GRAPH_WIDTH_BITS = 1;
export const VM_WIDTH_BITS = 2;
export const VM_TRACE_DEPTH = 21;

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

export interface DeployOptions {
  /** `toy` (default): games decided by the referee account; `real`: the §5 game over the MIPS verifier. */
  game?: "toy" | "real";
}

export async function deploy({ game = "toy" }: DeployOptions = {}): Promise<Deployment> {
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
  let factory: Address;
  if (game === "toy") {
    factory = await deployed(ToyDisputeGameFactoryAbi, ToyDisputeGameFactoryBytecode, [accounts.referee]);
  } else {
    const preimageOracle = await deployed(PreimageOracleAbi, PreimageOracleBytecode);
    const vm = await deployed(MIPSAbi, MIPSBytecode, [preimageOracle]);
    factory = await deployed(DisputeGameFactoryAbi, DisputeGameFactoryBytecode, [vm, CLOCK, GRAPH_WIDTH_BITS, VM_WIDTH_BITS, VM_TRACE_DEPTH]);
  }
  const taskManager = await deployed(TaskManagerAbi, TaskManagerBytecode, [oracle, staking, factory, accounts.owner, WINDOW, BOND, 4096]);
  const receiver = await deployed(RecordingReceiverAbi, RecordingReceiverBytecode, [oracle]);
  if (game === "real") await send(factory, DisputeGameFactoryAbi, "bindTaskManager", [taskManager]);
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

/** A six-node model with a 5-byte int8 input and a 1-byte int8 output (docs/protocol.md §3.3). */
export const DESCRIPTOR: Hex = syntheticDescriptor({ nodeCount: 6, inputBytes: 5, outputBytes: 1 });

export const modelParams = {
  descriptor: DESCRIPTOR,
  absolutePrestate: keccak256(toHex("guest-prestate")),
  fee: MODEL_FEE,
  feeShareBps: 3000,
  metadataURI: "ipfs://mnist",
};

/** A valid §3.5 proof of a claim on `output` for `requestId`, over a trace whose intermediate states `salt` picks. */
export async function proofFor(d: Deployment, requestId: bigint, output: Hex, salt: Hex = keccak256(output)): Promise<ClaimProofArg> {
  const read = <T>(functionName: "getRequestHeader" | "getModelCommitment", id: bigint) =>
    d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName, args: [id] }) as Promise<T>;
  return claimProofFor(
    {
      read: {
        getRequestHeader: ([id]) => read("getRequestHeader", id),
        getModelCommitment: ([id]) => read("getModelCommitment", id),
      },
    },
    requestId,
    output,
    salt,
  );
}

/** A keeper's commit (the SDK has no commit action: that is the keeper's job). */
export async function commit(d: Deployment, from: Address, requestId: bigint, output: Hex): Promise<void> {
  const hash = await d.wallet(from).writeContract({
    address: d.addresses.taskManager,
    abi: TaskManagerAbi,
    functionName: "commit",
    args: [requestId, output, await proofFor(d, requestId, output)],
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
    args: [requestId, output, await proofFor(d, requestId, output), await readStandingOpening(d.publicClient, d.addresses.taskManager, requestId)],
    account: from,
  });
  const hash = await d.wallet(from).writeContract(request);
  await d.publicClient.waitForTransactionReceipt({ hash });
  return result[1];
}

/** The toy game's referee reports `winner` (GameWinner: 0 Defender, 1 Challenger, 2 Undecided). */
export async function resolveGame(d: Deployment, game: Address, winner: 0 | 1 | 2): Promise<void> {
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

/** Anyone's `claimTimeout` on a real game (docs/protocol.md §5.5). */
export async function claimTimeout(d: Deployment, game: Address): Promise<void> {
  const hash = await d.wallet(d.accounts.owner).writeContract({
    address: game,
    abi: DisputeGameAbi,
    functionName: "claimTimeout",
    account: d.accounts.owner,
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

/**
 * The whole protocol deployed on Hardhat's in-process chain with the real dispute game (factory, MIPS,
 * preimage oracle), the real MNIST model registered, and helpers the dispute tests share: stake, request,
 * post claims with their §3.5 proofs, and read a game.
 */
import { network } from "hardhat";
import { readFileSync } from "node:fs";
import { type Address, type Hex, parseEther, zeroAddress } from "viem";
import { decodeModelFile, type Model } from "../../keeper/graph/model.ts";
import { toHex } from "../../keeper/graph/hash.ts";
import { Trace } from "../../keeper/vm/index.ts";

export const MNIST = new URL("../../keeper/models/mnist/model.oao", import.meta.url);
export const GUEST_ELF = new Uint8Array(readFileSync(new URL("../../keeper/guest/build/oao_node.elf", import.meta.url)));

export const BOND = parseEther("10");
export const MIN_STAKE = parseEther("100");
export const STAKE = parseEther("150");
export const WINDOW = 3600n;
export const CLOCK = 3600n;
export const GRAPH_WIDTH_BITS = 1;
export const VM_WIDTH_BITS = 4;
/** 2^21 steps: MNIST's largest node check runs 1.7M steps in the guest. */
export const VM_TRACE_DEPTH = 21;
export const WINNER_BPS = 5000n;
export const REQUESTER_BPS = 2000n;

export const Side = { Defender: 0, Challenger: 1 } as const;
export const Phase = { Graph: 0, VmStart: 1, Vm: 2, Step: 3, Resolved: 4 } as const;

export function loadMnist(): Model {
  return decodeModelFile(new Uint8Array(readFileSync(MNIST)));
}

export const hx = (b: Uint8Array): Hex => toHex(b) as Hex;

/** A keeper/graph ClaimProof as the tuple `commit`/`challenge` take (the keeper's own encoder). */
export { claimProofArg as proofArg } from "../../keeper/src/service/claims.ts";

export async function deployProtocol(opts: { graphWidthBits?: number; vmWidthBits?: number; vmTraceDepth?: number } = {}) {
  const connection = await network.create();
  const { viem, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [deployer, owner, treasury, stakingTreasury, user, alice, bob, carol, dave, erin] = wallets;
  if (erin === undefined) throw new Error("expected 10 wallet clients");

  const token = await viem.deployContract("MockStakeToken");
  const oracle = await viem.deployContract("AIOracle", [
    {
      owner: owner!.account.address,
      treasury: treasury!.account.address,
      callbackGasPrice: 1_000_000_000n,
      minCallbackGasPrice: 10_000_000n,
      maxCallbackGasPrice: 1_000_000_000_000n,
      protocolFee: parseEther("0.001"),
      maxProtocolFee: parseEther("1"),
      maxCallbackGasLimit: 2_000_000n,
      requestTimeout: 3600n,
    },
  ]);
  const staking = await viem.deployContract("Staking", [
    token.address,
    owner!.account.address,
    stakingTreasury!.account.address,
    MIN_STAKE,
    7n * 86400n,
    3n * 86400n,
    Number(WINNER_BPS),
    Number(REQUESTER_BPS),
  ]);
  const preimageOracle = await viem.deployContract("PreimageOracle");
  const mips = await viem.deployContract("MIPS", [preimageOracle.address]);
  const factory = await viem.deployContract("DisputeGameFactory", [
    mips.address,
    CLOCK,
    opts.graphWidthBits ?? GRAPH_WIDTH_BITS,
    opts.vmWidthBits ?? VM_WIDTH_BITS,
    opts.vmTraceDepth ?? VM_TRACE_DEPTH,
  ]);
  const tm = await viem.deployContract("TaskManager", [
    oracle.address,
    staking.address,
    factory.address,
    owner!.account.address,
    WINDOW,
    BOND,
    4096,
  ]);
  const wait = async (hash: Hex) => {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return r;
  };
  await wait(await oracle.write.setTaskManager([tm.address], { account: owner!.account }));
  await wait(await staking.write.setSlasher([tm.address, true], { account: owner!.account }));
  await wait(await factory.write.bindTaskManager([tm.address]));

  const model = loadMnist();
  const absolutePrestate = Trace.fromElf(GUEST_ELF).stateHashAt(0);
  await wait(
    await oracle.write.registerModel([
      {
        descriptor: hx(model.descriptor),
        absolutePrestate,
        fee: parseEther("0.01"),
        feeReceiver: zeroAddress,
        feeShareBps: 0,
        metadataURI: "mnist",
      },
    ]),
  );
  const modelId = 1n;

  const operators = [alice!, bob!, carol!, dave!, erin!];
  for (const op of operators) {
    await wait(await token.write.mint([op.account.address, STAKE]));
    await wait(await token.write.approve([staking.address, STAKE], { account: op.account }));
    await wait(await staking.write.stake([STAKE], { account: op.account }));
  }

  async function request(input: Uint8Array): Promise<bigint> {
    const fee = await oracle.read.estimateFee([modelId, 0n]);
    await wait(await oracle.write.requestCallback([modelId, hx(input), zeroAddress, 0n, "0x"], { account: user!.account, value: fee }));
    return await oracle.read.requestCount();
  }

  /** Every stake token, wherever it is: the invariant is that this sum never changes. */
  async function tokenTotal(extra: Address[] = []): Promise<bigint> {
    const holders = [staking.address, treasury!.account.address, stakingTreasury!.account.address, user!.account.address, ...operators.map((o) => o.account.address), ...extra];
    let total = 0n;
    for (const h of holders) total += await token.read.balanceOf([h]);
    return total;
  }

  return {
    connection,
    viem,
    networkHelpers,
    publicClient,
    wait,
    token,
    oracle,
    staking,
    preimageOracle,
    mips,
    factory,
    tm,
    model,
    modelId,
    absolutePrestate,
    wallets: { deployer: deployer!, owner: owner!, treasury: treasury!, stakingTreasury: stakingTreasury!, user: user!, alice: alice!, bob: bob!, carol: carol!, dave: dave!, erin: erin! },
    operators,
    request,
    tokenTotal,
  };
}

export type Protocol = Awaited<ReturnType<typeof deployProtocol>>;

/**
 * The shared world of the oracle's TypeScript tests: the core deployed through the Ignition dev module (the
 * production wiring of ignition/modules/core.ts around the mock stake token and the toy dispute game), one
 * registered model, three staked operators, and helpers to send transactions, account for every wei (gas
 * included) and decode custom errors raised anywhere in the core.
 *
 * Each test file calls `createOracleWorld()` once and `world.reset()` (a snapshot revert) before each test.
 */
import hre, { network } from "hardhat";
import { expect } from "vitest";
import {
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  decodeEventLog,
  getAddress,
  keccak256,
  parseAbi,
  parseEther,
  toHex,
  zeroHash,
} from "viem";

import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";
import { claimProofFor, syntheticDescriptor } from "../utils/claims.ts";
import { readStandingOpening } from "../../keeper/src/service/claims.ts";

export const MIN_STAKE = 100n * 10n ** 18n;
export const BOND = 10n * 10n ** 18n;
export const WINDOW = 3_600n;
export const TIMEOUT = 3_600n;
export const JAIL = 3n * 86_400n;
export const MAX_GAS = 5_000_000n; // DEV_DEFAULTS.maxCallbackGasLimit (ORA's Prompt asks for 5M)
export const WINNER_BPS = 5_000n;
export const REQUESTER_BPS = 2_000n;
export const MODEL_FEE = parseEther("0.01");
export const MODEL_SHARE_BPS = 3_000n;
export const PROTOCOL_FEE = parseEther("0.001");
export const CB_GAS = 200_000n;
export const CALLBACK_OVERHEAD_GAS = 50_000n;
export const OPERATOR_STAKE = MIN_STAKE + 50n * 10n ** 18n;

export const INPUT: Hex = "0x0102030405";
export const OUTPUT_A: Hex = "0x07";
export const OUTPUT_B: Hex = "0x03";
export const OUTPUT_C: Hex = "0x05";
export const TRACE_A = keccak256(toHex("traceA"));
export const TRACE_B = keccak256(toHex("traceB"));
export const TRACE_C = keccak256(toHex("traceC"));

/** DeliveryMode and GameWinner as the contracts number them (contracts/lib/Types.sol). */
export const AT_COMMIT = 0;
export const AT_FINALITY = 1;
export const DEFENDER = 0;
export const CHALLENGER = 1;
/** RequestStatus. */
export const Status = {
  None: 0,
  Requested: 1,
  Committed: 2,
  Challenged: 3,
  Finalized: 4,
  Delivered: 5,
  Expired: 6,
  Refunded: 7,
} as const;

/** Enough gas for a commit or finalize that runs a callback of up to MAX_GAS (the 63/64 rule applies). */
export const TX_GAS = 6_500_000n; // above the keeper's bound 700k + calldata + MAX_GAS × 66/63 + 20k

export async function createOracleWorld() {
  const connection = await network.create();
  const { viem, ignition, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const role = (i: number) => {
    const w = wallets[i];
    if (w === undefined) throw new Error(`the test network needs at least ${i + 1} accounts`);
    // Checksummed, as viem decodes addresses in events and return values.
    return Object.assign(w, { address: getAddress(w.account.address) });
  };
  const deployer = role(0); // owner of the core and referee of the toy games
  const treasury = role(1);
  const modelOwner = role(2);
  const modelFeeReceiver = role(3);
  const alice = role(4);
  const bob = role(5);
  const carol = role(6);
  const user = role(7);
  const keeper = role(8);
  const stranger = role(9);

  /** Every error the core can raise, so a revert bubbling up from any contract decodes by name. */
  const errorAbi: Abi[number][] = [];
  for (const name of ["AIOracle", "Staking", "TaskManager", "ToyDisputeGame", "DigitClassifier", "OAOPromptConsumer"]) {
    const artifact = await hre.artifacts.readArtifact(name);
    for (const item of artifact.abi as Abi) {
      if (item.type === "error" && !errorAbi.some((e) => e.type === "error" && e.name === item.name)) errorAbi.push(item);
    }
  }
  // Raised from assembly in ExactGasCall, so solc leaves it out of every contract ABI.
  errorAbi.push(...parseAbi(["error InsufficientGasForCallback(uint256 gasAvailable, uint256 gasLimit)"]));
  const eventAbi: Abi[number][] = [];
  for (const name of ["AIOracle", "Staking", "TaskManager"]) {
    const artifact = await hre.artifacts.readArtifact(name);
    for (const item of artifact.abi as Abi) if (item.type === "event") eventAbi.push(item);
  }

  async function deploy() {
    const core = await ignition.deploy(OracleDevModule, {
      parameters: { OracleDev: { treasury: treasury.address } },
    });
    const { aiOracle, staking, stakeToken } = core;
    await aiOracle.write.registerModel(
      [
        {
          descriptor: syntheticDescriptor(),
          absolutePrestate: keccak256(toHex("guest-prestate")),
          fee: MODEL_FEE,
          feeReceiver: modelFeeReceiver.address,
          feeShareBps: Number(MODEL_SHARE_BPS),
          metadataURI: "ipfs://mnist",
        },
      ],
      { account: modelOwner.account },
    );
    for (const operator of [alice, bob, carol]) {
      await stakeToken.write.mint([operator.address, OPERATOR_STAKE]);
      await stakeToken.write.approve([staking.address, OPERATOR_STAKE], { account: operator.account });
      await staking.write.stake([OPERATOR_STAKE], { account: operator.account });
    }
    const receiver = await viem.deployContract("RecordingReceiver", [aiOracle.address]);
    return { ...core, receiver, modelId: 1n };
  }

  // Deploy once; every later call reverts to the snapshot taken right after.
  const deployed = await networkHelpers.loadFixture(deploy);

  /** Waits for a transaction and returns the receipt. */
  async function send(hash: Promise<Hex>): Promise<TransactionReceipt> {
    return publicClient.waitForTransactionReceipt({ hash: await hash });
  }

  /** Gas fees (wei) each sender paid in blocks `from..to` (reverted transactions included). */
  async function gasFees(from: bigint, to: bigint) {
    const paid = new Map<string, bigint>();
    for (let n = from; n <= to; n++) {
      const block = await publicClient.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        const receipt = await publicClient.getTransactionReceipt({ hash: tx.hash });
        const sender = receipt.from.toLowerCase();
        paid.set(sender, (paid.get(sender) ?? 0n) + receipt.gasUsed * receipt.effectiveGasPrice);
      }
    }
    return paid;
  }

  /**
   * Snapshot of the ETH balance, the oracle credit and the stake-token balance of each account; `delta()` gives the
   * changes since, with the gas fees of every transaction mined in between added back to its sender (so a
   * sender's delta is what the protocol moved, not what the chain charged).
   */
  async function ledger(accounts: Record<string, Address>) {
    const read = async () => {
      const out: Record<string, { eth: bigint; credit: bigint; token: bigint }> = {};
      for (const [label, address] of Object.entries(accounts)) {
        out[label] = {
          eth: await publicClient.getBalance({ address }),
          credit: await deployed.aiOracle.read.pendingWithdrawal([address]),
          token: await deployed.stakeToken.read.balanceOf([address]),
        };
      }
      return out;
    };
    const startBlock = await publicClient.getBlockNumber();
    const before = await read();
    return {
      async delta() {
        const after = await read();
        const fees = await gasFees(startBlock + 1n, await publicClient.getBlockNumber());
        const out: Record<string, { eth: bigint; credit: bigint; token: bigint }> = {};
        for (const [label, address] of Object.entries(accounts)) {
          const a = after[label]!;
          const b = before[label]!;
          const gas = fees.get(address.toLowerCase()) ?? 0n;
          out[label] = { eth: a.eth - b.eth + gas, credit: a.credit - b.credit, token: a.token - b.token };
        }
        return out;
      },
    };
  }

  /** Decoded events of the core contracts in a receipt. */
  function events(receipt: TransactionReceipt) {
    const out: { eventName: string; args: Record<string, unknown>; address: Address }[] = [];
    for (const log of receipt.logs) {
      try {
        const decoded = decodeEventLog({ abi: eventAbi, data: log.data, topics: log.topics });
        out.push({ eventName: String(decoded.eventName), args: (decoded.args ?? {}) as Record<string, unknown>, address: log.address });
      } catch {
        // Not a core event (e.g. a receiver's own event).
      }
    }
    return out;
  }

  function eventsNamed(receipt: TransactionReceipt, name: string) {
    return events(receipt).filter((e) => e.eventName === name);
  }

  /**
   * Expects `action` to revert with custom error `name` carrying `args`, decoded from the revert data (viem's
   * ContractFunctionRevertedError; errors raised by another contract of the core are decoded with the union ABI).
   */
  async function expectRevert(action: Promise<unknown>, name: string, args?: readonly unknown[]) {
    let caught: unknown;
    try {
      await action;
    } catch (error) {
      caught = error;
    }
    expect(caught, `expected a revert with ${name}`).toBeDefined();
    const decoded = decodeRevert(caught);
    expect(decoded?.errorName, `revert of ${String(caught).slice(0, 400)}`).toBe(name);
    if (args !== undefined) expect((decoded?.args ?? []).map(checksummed)).toEqual(args.map(checksummed));
  }

  /** Addresses compare equal whatever their case. */
  function checksummed(value: unknown): unknown {
    return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) ? getAddress(value) : value;
  }

  function decodeRevert(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
    if (!(error instanceof BaseError)) return undefined;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (reverted?.data !== undefined) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    const raw = reverted?.raw ?? findRevertData(error);
    if (raw === undefined || raw.length < 10) return undefined;
    const result = decodeErrorResult({ abi: errorAbi, data: raw });
    return { errorName: result.errorName, args: (result.args ?? []) as readonly unknown[] };
  }

  function findRevertData(error: BaseError): Hex | undefined {
    let found: Hex | undefined;
    error.walk((e) => {
      const data = (e as { data?: unknown }).data;
      if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) found = data as Hex;
      return false;
    });
    return found;
  }

  type Wallet = typeof user;

  /** An options request (the richer entry point) paying exactly the quoted fee; returns its id and receipt. */
  async function request(
    opts: { from?: Wallet; callback?: Address; gasLimit?: bigint; mode?: number; callbackData?: Hex; input?: Hex } = {},
  ) {
    const from = opts.from ?? user;
    const callback = opts.callback ?? "0x0000000000000000000000000000000000000000";
    const gasLimit = opts.gasLimit ?? 0n;
    const fee = await deployed.aiOracle.read.estimateFee([deployed.modelId, gasLimit]);
    const receipt = await send(
      deployed.aiOracle.write.requestWithOptions(
        [
          {
            modelId: deployed.modelId,
            input: opts.input ?? INPUT,
            callbackContract: callback,
            gasLimit,
            callbackData: opts.callbackData ?? "0xc0ffee",
            deliveryMode: opts.mode ?? AT_COMMIT,
            deadline: 0n,
            maxFee: fee,
            refundRecipient: "0x0000000000000000000000000000000000000000",
          },
        ],
        { account: from.account, value: fee },
      ),
    );
    const created = eventsNamed(receipt, "RequestCreated")[0];
    if (created === undefined) throw new Error("no RequestCreated event");
    return { id: created.args.requestId as bigint, fee, receipt };
  }

  /** The §3.5 proof of a claim on `output` for request `id`; `traceRoot` is the salt of its intermediate states. */
  function proofFor(id: bigint, output: Hex, traceRoot: Hex) {
    return claimProofFor(deployed.aiOracle, id, output, traceRoot);
  }

  async function commit(operator: Wallet, id: bigint, output: Hex, traceRoot: Hex) {
    const proof = await proofFor(id, output, traceRoot);
    return send(deployed.taskManager.write.commit([id, output, proof], { account: operator.account, gas: TX_GAS }));
  }

  /**
   * Registers a synthetic model whose output is `outputBytes` int8 values (a claim's output must fit it) and whose
   * input is `inputBytes` int8 values (a request's input must be exactly that long, §3.4; default 5, as INPUT).
   */
  async function registerModelWithOutput(outputBytes: number, inputBytes = 5): Promise<bigint> {
    await send(
      deployed.aiOracle.write.registerModel(
        [
          {
            descriptor: syntheticDescriptor({ outputBytes, inputBytes }),
            absolutePrestate: keccak256(toHex("guest-prestate")),
            fee: MODEL_FEE,
            feeReceiver: modelFeeReceiver.address,
            feeShareBps: Number(MODEL_SHARE_BPS),
            metadataURI: "",
          },
        ],
        { account: modelOwner.account },
      ),
    );
    return await deployed.aiOracle.read.modelCount();
  }

  /** The standing claim's opening (from its posting log), or zeros when none stands: the chain then names the fault. */
  async function standingOpening(id: bigint) {
    const { standingClaimId } = await deployed.taskManager.read.getTask([id]);
    return standingClaimId === 0n ? { traceRoot: zeroHash, finalState: zeroHash } : readStandingOpening(publicClient, deployed.taskManager.address, id);
  }

  /** Posts a competing claim; returns the toy game it opened. */
  async function challenge(operator: Wallet, id: bigint, output: Hex, traceRoot: Hex) {
    const proof = await proofFor(id, output, traceRoot);
    const standing = await standingOpening(id);
    const receipt = await send(
      deployed.taskManager.write.challenge([id, output, proof, standing], { account: operator.account, gas: TX_GAS }),
    );
    const ev = eventsNamed(receipt, "ClaimChallenged")[0];
    if (ev === undefined) throw new Error("no ClaimChallenged event");
    const game = await viem.getContractAt("ToyDisputeGame", ev.args.game as Address);
    return { receipt, game, claimId: ev.args.challengerClaimId as bigint };
  }

  /** A challenge while a game is open against the standing claim: queued (docs/protocol.md §1.6). */
  async function challengeQueued(operator: Wallet, id: bigint, output: Hex, traceRoot: Hex) {
    const proof = await proofFor(id, output, traceRoot);
    const standing = await standingOpening(id);
    const receipt = await send(
      deployed.taskManager.write.challenge([id, output, proof, standing], { account: operator.account, gas: TX_GAS }),
    );
    const ev = eventsNamed(receipt, "ChallengeQueued")[0];
    if (ev === undefined) throw new Error("no ChallengeQueued event");
    return { receipt, claimId: ev.args.challengerClaimId as bigint };
  }

  async function resolve(game: { write: { resolve: (args: [number], o: { account: Wallet["account"] }) => Promise<Hex> } }, winner: number) {
    return send(game.write.resolve([winner], { account: deployer.account }));
  }

  async function finalize(id: bigint, by: Wallet = keeper) {
    return send(deployed.taskManager.write.finalize([id], { account: by.account, gas: TX_GAS }));
  }

  async function afterWindow() {
    await networkHelpers.time.increase(WINDOW + 1n);
  }

  return {
    connection,
    viem,
    networkHelpers,
    publicClient,
    wallets: { deployer, treasury, modelOwner, modelFeeReceiver, alice, bob, carol, user, keeper, stranger },
    ...deployed,
    reset: () => networkHelpers.loadFixture(deploy),
    send,
    ledger,
    events,
    eventsNamed,
    expectRevert,
    request,
    proofFor,
    registerModelWithOutput,
    commit,
    challenge,
    challengeQueued,
    resolve,
    finalize,
    afterWindow,
  };
}

export type OracleWorld = Awaited<ReturnType<typeof createOracleWorld>>;

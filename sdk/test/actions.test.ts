/**
 * The SDK's actions against a real JSON-RPC node (the in-process Hardhat chain behind
 * network.createServer), through a plain viem http transport.
 */
import { readFileSync } from "node:fs";
import { type Address, keccak256, parseEther, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BaseError,
  ContractRevertError,
  InputLengthMismatchError,
  InvalidModelFileError,
  MissingAddressError,
  RequestExpiredError,
  RequestNotFoundError,
  WaitAbortedError,
  WaitTimeoutError,
  type WaitForResultUpdate,
  decodeModelDescriptor,
  estimateFee,
  expireRequest,
  getOperator,
  getRequest,
  isContractRevertError,
  modelDescriptorFromFile,
  oaoActions,
  registerModel,
  requestBatch,
  requestInference,
  requestUnstake,
  stake,
  toOaoError,
  waitForResult,
  watchRequests,
  withdraw,
  withdrawCredit,
} from "../src/index.ts";
import { AIOracleAbi, MockStakeTokenAbi, RecordingReceiverAbi } from "../src/abis/generated.ts";
import { oaoErrorsAbi } from "../src/contracts.ts";
import { syntheticDescriptor } from "../../test/utils/claims.ts";
import {
  BOND,
  DESCRIPTOR,
  type Deployment,
  MIN_STAKE,
  MODEL_FEE,
  PROTOCOL_FEE,
  TIMEOUT,
  UNBONDING,
  WINDOW,
  challenge,
  commit,
  deploy,
  expire,
  finalize,
  modelParams,
  passTime,
  resolveGame,
} from "./chain.ts";

let d: Deployment;
let modelId: bigint;

/** Resolves when `updates` receives one matching `match` (waitForResult's onUpdate is the event source). */
function updateMatching(updates: WaitForResultUpdate[], match: (u: WaitForResultUpdate) => boolean): Promise<WaitForResultUpdate> {
  return new Promise((resolve) => {
    const check = () => {
      const found = updates.find(match);
      if (found) resolve(found);
      else setTimeout(check, 20);
    };
    check();
  });
}

async function newRequest(overrides: { callbackContract?: Address; gasLimit?: bigint; deliveryMode?: "AtCommit" | "AtFinality" } = {}) {
  return requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input: "0x0102030405", ...overrides });
}

beforeAll(async () => {
  d = await deploy();
  ({ modelId } = await registerModel(d.wallet(d.accounts.owner), {
    address: d.addresses.oracle,
    ...modelParams,
    feeReceiver: d.accounts.owner,
  }));
  await stake(d.wallet(d.accounts.alice), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
  await stake(d.wallet(d.accounts.bob), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
  await stake(d.wallet(d.accounts.carol), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
});

afterAll(async () => {
  await d?.close();
});

describe("sdk actions", () => {
  it("deploys at the addresses subgraph/networks.json lists for localhost", () => {
    const networks = JSON.parse(readFileSync(new URL("../../subgraph/networks.json", import.meta.url), "utf8"));
    expect(networks.localhost.AIOracle.address.toLowerCase()).toBe(d.addresses.oracle.toLowerCase());
    expect(networks.localhost.Staking.address.toLowerCase()).toBe(d.addresses.staking.toLowerCase());
    expect(networks.localhost.TaskManager.address.toLowerCase()).toBe(d.addresses.taskManager.toLowerCase());
  });

  it("registerModel returns the new model id and what the registry decoded from the descriptor", async () => {
    expect(modelId).toBe(1n);
    const commitment = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getModelCommitment", args: [modelId] });
    const decoded = decodeModelDescriptor(DESCRIPTOR);
    expect(commitment.modelRoot).toBe(keccak256(DESCRIPTOR));
    expect(commitment.modelRoot).toBe(decoded.modelRoot);
    expect(commitment.nodeCount).toBe(decoded.nodeCount);
    expect(commitment.inputHeader).toBe(decoded.inputHeader);
    expect(commitment.outputHeader).toBe(decoded.outputHeader);
  });

  it("registerModel takes a model file's bytes and registers its descriptor", async () => {
    const file = new Uint8Array(readFileSync(new URL("../../keeper/models/mnist/model.oao", import.meta.url)));
    const { descriptor: _, ...params } = modelParams;
    const registered = await registerModel(d.wallet(d.accounts.carol), { address: d.addresses.oracle, ...params, modelFile: file, feeReceiver: d.accounts.carol });
    const model = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getModel", args: [registered.modelId] });
    expect(model.modelRoot).toBe(registered.modelRoot);
    expect(model.modelRoot).toBe(keccak256(modelDescriptorFromFile(file)));
    expect(model.nodeCount).toBe(registered.nodeCount);
    expect(model.owner).toBe(d.accounts.carol);
  });

  it("registerModel refuses a malformed descriptor before sending, and surfaces the registry's own checks", async () => {
    const wallet = d.wallet(d.accounts.owner);
    const base = { address: d.addresses.oracle, ...modelParams, feeReceiver: d.accounts.owner };
    const local = await registerModel(wallet, { ...base, descriptor: `${DESCRIPTOR}00` }).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(InvalidModelFileError);
    const both = await registerModel(wallet, { ...base, modelFile: new Uint8Array(1) } as never).catch((e: unknown) => e);
    expect((both as BaseError).name).toBe("InvalidParameterError");
    // Well framed, but its input tensor (32769 bytes) is above the registry's 8 chunks: only the registry knows that rule.
    const big = await registerModel(wallet, { ...base, descriptor: syntheticDescriptor({ inputBytes: 32769 }) }).catch((e: unknown) => e);
    if (!isContractRevertError(big, "ModelInputTooLarge")) throw new Error(`expected ModelInputTooLarge, got ${String(big)}`);
    expect(big.args).toEqual([32769n, 32768n]);
  });

  it("estimateFee splits the oracle's quote into model, callback and protocol parts", async () => {
    const fee = await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId, gasLimit: 200_000n });
    expect(fee.modelFee).toBe(MODEL_FEE);
    expect(fee.protocolFee).toBe(PROTOCOL_FEE);
    expect(fee.callbackFee).toBeGreaterThan(0n);
    const quoted = await d.publicClient.readContract({
      address: d.addresses.oracle,
      abi: [{ type: "function", name: "estimateFee", stateMutability: "view", inputs: [{ type: "uint256" }, { type: "uint256" }], outputs: [{ type: "uint256" }] }],
      functionName: "estimateFee",
      args: [modelId, 200_000n],
    });
    expect(fee.total).toBe(quoted);
  });

  it("stake approves and stakes; getOperator reads the account", async () => {
    const op = await getOperator(d.publicClient, { address: d.addresses.staking, operator: d.accounts.alice });
    expect(op.active).toBe(MIN_STAKE + parseEther("50"));
    expect(op.locked).toBe(0n);
    expect(op.free).toBe(op.active);
    expect(op.eligible).toBe(true);
    expect(op.jailed).toBe(false);
  });

  it("requests, commits and finalizes: waitForResult follows to finality", async () => {
    const { requestId } = await newRequest();
    const fresh = await getRequest(d.publicClient, { address: d.addresses.oracle, requestId });
    expect(fresh.status).toBe("Requested");
    expect(fresh.requester).toBe(d.accounts.user);
    expect(fresh.output).toBe("0x");

    const updates: WaitForResultUpdate[] = [];
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20, onUpdate: (u) => updates.push(u) });
    await commit(d, d.accounts.alice, requestId, "0x07");
    await updateMatching(updates, (u) => u.status === "Committed");
    const op = await getOperator(d.publicClient, { address: d.addresses.staking, operator: d.accounts.alice });
    expect(op.locked).toBe(BOND);
    await passTime(d, WINDOW + 1n);
    await finalize(d, requestId);
    const result = await waiting;
    expect(result.finalized).toBe(true);
    expect(result.output).toBe("0x07");
    expect(result.status).toBe("Delivered");
    expect(updates.map((u) => u.status)).toEqual(["Requested", "Committed", "Delivered"]);
  });

  it("until committed resolves at the first standing output, as an OAO callback sees it", async () => {
    const { requestId } = await newRequest();
    await commit(d, d.accounts.alice, requestId, "0x05");
    const result = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, until: "committed", pollingInterval: 20 });
    expect(result.output).toBe("0x05");
    expect(result.finalized).toBe(false);
  });

  it("follows a challenge that overturns the claim and returns the winning output", async () => {
    const { requestId } = await newRequest();
    const updates: WaitForResultUpdate[] = [];
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20, onUpdate: (u) => updates.push(u) });
    await commit(d, d.accounts.carol, requestId, "0x07");
    await updateMatching(updates, (u) => u.status === "Committed");
    const game = await challenge(d, d.accounts.bob, requestId, "0x03");
    await updateMatching(updates, (u) => u.status === "Challenged");
    await resolveGame(d, game, 1); // the challenger wins
    await updateMatching(updates, (u) => u.status === "Committed" && u.output === "0x03");
    await passTime(d, WINDOW + 1n);
    await finalize(d, requestId);
    const result = await waiting;
    expect(result.output).toBe("0x03");
    expect(updates.map((u) => `${u.status}:${u.output}`)).toEqual([
      "Requested:0x",
      "Committed:0x07",
      "Challenged:0x07",
      "Committed:0x03",
      "Delivered:0x03",
    ]);
    const loser = await getOperator(d.publicClient, { address: d.addresses.staking, operator: d.accounts.carol });
    expect(loser.jailed).toBe(true);
    expect(loser.active).toBe(MIN_STAKE + parseEther("50") - BOND);
  });

  it("survives a reorg: a commit that disappears is waited for again and the new chain's result returned", async () => {
    const { requestId } = await newRequest();
    const updates: WaitForResultUpdate[] = [];
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20, onUpdate: (u) => updates.push(u) });
    await updateMatching(updates, (u) => u.status === "Requested");
    const snapshot = await d.testClient.snapshot();
    await commit(d, d.accounts.bob, requestId, "0x09");
    await updateMatching(updates, (u) => u.output === "0x09");
    // Reorg: the blocks with bob's commit are dropped; a different history replaces them.
    await d.testClient.revert({ id: snapshot });
    await updateMatching(updates, (u) => updates.indexOf(u) > 1 && u.status === "Requested");
    await commit(d, d.accounts.bob, requestId, "0x04");
    await passTime(d, WINDOW + 1n);
    await finalize(d, requestId);
    const result = await waiting;
    expect(result.output).toBe("0x04");
    expect(updates.slice(0, 3).map((u) => `${u.status}:${u.output}`)).toEqual(["Requested:0x", "Committed:0x09", "Requested:0x"]);
    // Then the new history: bob's second commit (seen as Committed, or straight as Delivered if the
    // poll happened after finalization), ending in the delivered output.
    expect(updates.slice(3).every((u) => u.output === "0x04")).toBe(true);
    expect(updates.at(-1)?.status).toBe("Delivered");
  });

  it("only counts a state once it has the requested confirmations", async () => {
    const { requestId } = await newRequest();
    await commit(d, d.accounts.alice, requestId, "0x02");
    const params = { address: d.addresses.oracle, requestId, until: "committed" as const, confirmations: 3, pollingInterval: 20 };
    // The commit's block is the head: not 3 blocks deep, so the wait cannot resolve yet.
    const early = await waitForResult(d.publicClient, { ...params, timeout: 150 }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(WaitTimeoutError);
    await d.testClient.mine({ blocks: 3 });
    const result = await waitForResult(d.publicClient, params);
    expect(result.output).toBe("0x02");
    expect(result.blockNumber).toBe((await d.publicClient.getBlockNumber()) - 3n);
  });

  it("calls back a receiver contract at commit (AtCommit delivery)", async () => {
    const { requestId } = await newRequest({ callbackContract: d.addresses.receiver, gasLimit: 300_000n });
    await commit(d, d.accounts.alice, requestId, "0x08");
    const result = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, until: "committed", pollingInterval: 20 });
    expect(result.deliveries).toBe(1);
    expect(result.lastCallbackSucceeded).toBe(true);
    const count = await d.publicClient.readContract({ address: d.addresses.receiver, abi: RecordingReceiverAbi, functionName: "deliveryCount" });
    expect(count).toBe(1n);
  });

  it("times out, aborts, rejects unknown ids and reports expiry with typed errors", async () => {
    const { requestId } = await newRequest();
    const timedOut = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, timeout: 100, pollingInterval: 20 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(WaitTimeoutError);
    expect(timedOut).toBeInstanceOf(BaseError);
    expect((timedOut as WaitTimeoutError).metaMessages?.[0]).toContain("Requested");

    const controller = new AbortController();
    const aborted = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, signal: controller.signal, pollingInterval: 20 }).catch((e: unknown) => e);
    controller.abort(new Error("user left the page"));
    const abortError = await aborted;
    expect(abortError).toBeInstanceOf(WaitAbortedError);
    expect((abortError as WaitAbortedError).walk()).toMatchObject({ message: "user left the page" });

    const unknown = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId: 9999n }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RequestNotFoundError);

    await passTime(d, TIMEOUT + 1n);
    await expire(d, requestId);
    const expired = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20 }).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(RequestExpiredError);
  });

  it("decodes contract reverts into typed errors with their arguments", async () => {
    const underpaid = await requestInference(d.wallet(d.accounts.user), {
      address: d.addresses.oracle,
      modelId,
      input: "0x0102030405",
      value: 1n,
      maxFee: parseEther("1"),
    }).catch((e: unknown) => e);
    expect(underpaid).toBeInstanceOf(ContractRevertError);
    if (!isContractRevertError(underpaid, "InsufficientFee")) throw new Error("expected InsufficientFee");
    const [paid, required] = underpaid.args;
    expect(paid).toBe(1n);
    expect(required).toBe(MODEL_FEE + PROTOCOL_FEE);
    expect(underpaid.shortMessage).toContain("InsufficientFee(1,");

    const unknownModel = await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId: 77n, gasLimit: 0n }).catch((e: unknown) => e);
    expect(isContractRevertError(unknownModel, "UnknownModel")).toBe(true);

    const nothing = await withdraw(d.wallet(d.accounts.alice), { address: d.addresses.staking }).catch((e: unknown) => e);
    expect(isContractRevertError(nothing, "NothingUnbonding")).toBe(true);

    const tooMuch = await requestUnstake(d.wallet(d.accounts.bob), { address: d.addresses.staking, amount: parseEther("100000") }).catch((e: unknown) => e);
    expect(isContractRevertError(tooMuch, "InsufficientFreeStake")).toBe(true);

    const noGas = await requestInference(d.wallet(d.accounts.user), {
      address: d.addresses.oracle,
      modelId,
      input: "0x01",
      callbackContract: d.addresses.receiver,
    }).catch((e: unknown) => e);
    expect((noGas as BaseError).name).toBe("InvalidParameterError");
  });

  it("checks the input's length against the model before sending; the oracle's own revert names both lengths", async () => {
    const before = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "requestCount" });
    for (const input of ["0x0102", "0x010203040506"] as const) {
      const wrong = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(InputLengthMismatchError);
      expect(wrong).toMatchObject({ modelId, expected: 5, given: (input.length - 2) / 2 });
      expect((wrong as BaseError).shortMessage).toContain(`model ${modelId} takes 5 input bytes, got ${(input.length - 2) / 2}`);
    }
    const odd = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input: "0x012" }).catch((e: unknown) => e);
    expect((odd as BaseError).name).toBe("InvalidParameterError");
    const unknown = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: 77n, input: "0x01" }).catch((e: unknown) => e);
    expect(isContractRevertError(unknown, "UnknownModel")).toBe(true);
    expect(await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "requestCount" })).toBe(before);

    // Sent anyway (around the SDK), the oracle refuses it with the same two lengths.
    const fee = (await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId, gasLimit: 0n })).total;
    const reverted = await d.publicClient
      .simulateContract({
        address: d.addresses.oracle,
        abi: [...AIOracleAbi, ...oaoErrorsAbi],
        functionName: "requestCallback",
        args: [modelId, "0x0102", zeroAddress, 0n, "0x"],
        value: fee,
        account: d.accounts.user,
      })
      .catch((e: unknown) => toOaoError(e, "requestCallback"));
    if (!isContractRevertError(reverted, "InputLengthMismatch")) throw new Error("expected InputLengthMismatch");
    expect(reverted.args).toEqual([modelId, 5n, 2n]);
  });

  it("requestUnstake then withdraw after the unbonding period", async () => {
    const { unbondingEnd } = await requestUnstake(d.wallet(d.accounts.bob), { address: d.addresses.staking, amount: parseEther("20") });
    const early = await withdraw(d.wallet(d.accounts.bob), { address: d.addresses.staking }).catch((e: unknown) => e);
    if (!isContractRevertError(early, "UnbondingNotEnded")) throw new Error("expected UnbondingNotEnded");
    expect(early.args[1]).toBe(unbondingEnd);
    await passTime(d, UNBONDING + 1n);
    const { amount } = await withdraw(d.wallet(d.accounts.bob), { address: d.addresses.staking });
    expect(amount).toBe(parseEther("20"));
  });

  it("watchRequests reports new requests of one requester", async () => {
    const seen: bigint[] = [];
    const unwatch = watchRequests(d.publicClient, {
      address: d.addresses.oracle,
      requester: d.accounts.user,
      pollingInterval: 20,
      onRequests: (rs) => seen.push(...rs.map((r) => r.requestId)),
    });
    await new Promise((r) => setTimeout(r, 100)); // let the watcher install its filter
    const { requestId } = await newRequest();
    await requestInference(d.wallet(d.accounts.alice), { address: d.addresses.oracle, modelId, input: "0x0102030405" }); // another requester
    await new Promise<void>((resolve) => {
      const check = () => (seen.includes(requestId) ? resolve() : setTimeout(check, 20));
      check();
    });
    await d.testClient.mine({ blocks: 2 });
    await new Promise((r) => setTimeout(r, 100));
    unwatch();
    expect(seen).toEqual([requestId]);
  });

  it("client.extend(oaoActions({ addresses })) binds the actions to the deployment", async () => {
    const client = d.wallet(d.accounts.user).extend(oaoActions({ addresses: { oracle: d.addresses.oracle } }));
    const fee = await client.estimateFee({ modelId, gasLimit: 0n });
    expect(fee.total).toBe(MODEL_FEE + PROTOCOL_FEE);
    const { requestId } = await client.requestInference({ modelId, input: "0x0a0b0c0d0e" });
    expect((await client.getRequest({ requestId })).status).toBe("Requested");
    const missing = await client.getOperator({ operator: zeroAddress }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MissingAddressError);
    const full = d.publicClient.extend(oaoActions({ addresses: { oracle: d.addresses.oracle, staking: d.addresses.staking } }));
    expect((await full.getOperator({ operator: d.accounts.alice })).operator).toBe(d.accounts.alice);
  });

  it("expireRequest refunds an unanswered request after its deadline, to the refund recipient when one is named", async () => {
    const user = d.wallet(d.accounts.user);
    const { requestId } = await newRequest();
    const early = await expireRequest(d.wallet(d.accounts.bob), { address: d.addresses.taskManager, requestId }).catch((e: unknown) => e);
    expect(isContractRevertError(early, "DeadlineNotPassed")).toBe(true);

    // A named refund recipient gets the excess at once and the expiry refund later.
    const fee = (await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId, gasLimit: 0n })).total;
    const carolBefore = await d.publicClient.getBalance({ address: d.accounts.carol });
    const named = await requestInference(user, {
      address: d.addresses.oracle,
      modelId,
      input: "0x0102030405",
      value: fee + parseEther("1"),
      maxFee: fee,
      refundRecipient: d.accounts.carol,
    });
    expect((await d.publicClient.getBalance({ address: d.accounts.carol })) - carolBefore).toBe(parseEther("1"));

    // One with a callback contract: the caller runs the error callback and is credited its callback fee.
    const withCallback = await newRequest({ callbackContract: d.addresses.receiver, gasLimit: 100_000n });
    await passTime(d, TIMEOUT + 1n);
    const userBefore = await d.publicClient.getBalance({ address: d.accounts.user });
    const expired = await expireRequest(d.wallet(d.accounts.bob), { address: d.addresses.taskManager, requestId });
    expect(expired).toMatchObject({ refunded: MODEL_FEE + PROTOCOL_FEE, paidTo: { account: d.accounts.user, pushed: true }, reason: "expired" });
    expect((await d.publicClient.getBalance({ address: d.accounts.user })) - userBefore).toBe(MODEL_FEE + PROTOCOL_FEE);
    const toCarol = await expireRequest(d.wallet(d.accounts.bob), { address: d.addresses.taskManager, requestId: named.requestId });
    expect(toCarol.paidTo).toEqual({ account: d.accounts.carol, pushed: true });
    const again = await expireRequest(d.wallet(d.accounts.bob), { address: d.addresses.taskManager, requestId }).catch((e: unknown) => e);
    expect(isContractRevertError(again, "RequestNotOpen")).toBe(true);

    const bobCredit = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "pendingWithdrawal", args: [d.accounts.bob] });
    const bound = d.wallet(d.accounts.bob).extend(oaoActions({ addresses: { oracle: d.addresses.oracle, taskManager: d.addresses.taskManager } }));
    const cb = await bound.expireRequest({ requestId: withCallback.requestId });
    expect(cb.refunded).toBe(MODEL_FEE + PROTOCOL_FEE); // the callback fee paid bob for the error callback
    const credit = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "pendingWithdrawal", args: [d.accounts.bob] });
    const stored = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getRequest", args: [withCallback.requestId] });
    expect(credit - bobCredit).toBe(stored.callbackFee);
    expect((await bound.withdrawCredit({})).amount).toBe(credit);
    const nothing = await withdrawCredit(d.wallet(d.accounts.bob), { address: d.addresses.oracle }).catch((e: unknown) => e);
    expect(isContractRevertError(nothing, "NothingToWithdraw")).toBe(true);

    const unbound = d.wallet(d.accounts.bob).extend(oaoActions({ addresses: { oracle: d.addresses.oracle } }));
    await expect(unbound.expireRequest({ requestId: 1n })).rejects.toBeInstanceOf(MissingAddressError);
  });

  it("a token-priced model: estimateFee names the token and quotes the wei part; the request pulls the token fee", async () => {
    const owner = d.wallet(d.accounts.owner);
    const tokenFee = parseEther("3");
    const register = await d.publicClient.simulateContract({
      address: d.addresses.oracle,
      abi: AIOracleAbi,
      functionName: "registerModelWithFeeToken",
      args: [{ ...modelParams, fee: tokenFee, feeReceiver: d.accounts.owner }, d.addresses.token],
      account: d.accounts.owner,
    });
    await d.publicClient.waitForTransactionReceipt({ hash: await owner.writeContract(register.request) });
    const tokenModel = register.result;
    const fee = await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId: tokenModel, gasLimit: 0n });
    expect(fee).toMatchObject({ total: PROTOCOL_FEE, modelFee: tokenFee, callbackFee: 0n, protocolFee: PROTOCOL_FEE });
    expect(fee.feeToken?.toLowerCase()).toBe(d.addresses.token.toLowerCase());
    expect((await estimateFee(d.publicClient, { address: d.addresses.oracle, modelId, gasLimit: 0n })).feeToken).toBeUndefined();

    const user = d.wallet(d.accounts.user);
    const tokenWrite = async (functionName: "mint" | "approve", args: readonly [Address, bigint]) => {
      const hash = await user.writeContract({ address: d.addresses.token, abi: MockStakeTokenAbi, functionName, args, account: d.accounts.user, chain: d.publicClient.chain });
      await d.publicClient.waitForTransactionReceipt({ hash });
    };
    await tokenWrite("mint", [d.accounts.user, tokenFee]);
    const unapproved = await requestInference(user, { address: d.addresses.oracle, modelId: tokenModel, input: "0x0102030405" }).catch((e: unknown) => e);
    expect(isContractRevertError(unapproved, "ERC20InsufficientAllowance")).toBe(true);
    await tokenWrite("approve", [d.addresses.oracle, tokenFee]);
    const before = await d.publicClient.readContract({ address: d.addresses.token, abi: MockStakeTokenAbi, functionName: "balanceOf", args: [d.accounts.user] });
    const { requestId } = await requestInference(user, { address: d.addresses.oracle, modelId: tokenModel, input: "0x0102030405" });
    const after = await d.publicClient.readContract({ address: d.addresses.token, abi: MockStakeTokenAbi, functionName: "balanceOf", args: [d.accounts.user] });
    expect(before - after).toBe(tokenFee);
    expect((await getRequest(d.publicClient, { address: d.addresses.oracle, requestId })).status).toBe("Requested");
  });

  it("requestBatch makes one request per item (ORA's requestBatchInference), checked before sending", async () => {
    const user = d.wallet(d.accounts.user);
    const inputs = ["0x0102030405", "0x0a0b0c0d0e", "0x1112131415"] as const;
    const before = await d.publicClient.getBalance({ address: d.accounts.user });
    const { requestIds, receipt } = await requestBatch(user, { address: d.addresses.oracle, modelId, inputs: [...inputs], callbackContract: d.addresses.receiver, gasLimit: 100_000n });
    expect(requestIds).toHaveLength(3);
    expect(requestIds[1]! - requestIds[0]!).toBe(1n);
    expect(requestIds[2]! - requestIds[1]!).toBe(1n);
    let escrowed = 0n;
    for (let i = 0; i < 3; i++) {
      const stored = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getRequest", args: [requestIds[i]!] });
      expect(stored.inputHash).toBe(keccak256(inputs[i]!));
      expect(stored.callbackContract.toLowerCase()).toBe(d.addresses.receiver.toLowerCase());
      escrowed += stored.modelFee + stored.callbackFee + stored.protocolFee;
    }
    // It paid estimateFeeBatch of its block (the three items' fees) plus the transaction's gas, nothing more.
    const spent = before - (await d.publicClient.getBalance({ address: d.accounts.user }));
    expect(spent - receipt.gasUsed * receipt.effectiveGasPrice).toBe(escrowed);

    const wrong = await requestBatch(user, { address: d.addresses.oracle, modelId, inputs: ["0x0102030405", "0x01"] }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(InputLengthMismatchError);
    const none = await requestBatch(user, { address: d.addresses.oracle, modelId, inputs: [] }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(BaseError);
    const bound = user.extend(oaoActions({ addresses: { oracle: d.addresses.oracle } }));
    expect((await bound.requestBatch({ modelId, inputs: ["0x0102030405"] })).requestIds).toHaveLength(1);
  });
});


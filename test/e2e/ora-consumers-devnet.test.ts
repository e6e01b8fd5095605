/**
 * Consumers written to ORA's published interface and patterns (test/solidity/ora/: ORA's IAIOracle and receiver
 * shapes, nothing imported from this project) against `oao devnet` started as a process, asking its text model:
 * - OraPrompt (ORA's `Prompt`): stores `prompts[modelId][prompt] = string(output)`; the user overpays and the excess
 *   comes back to the user (the consumer has no receive(): docs/protocol.md §1.5, rule 2).
 * - OraSimplePrompt (ORA's `SimplePrompt`): only emits the output; a request to a model nobody serves expires, the
 *   refund reaches the user, the error callback (which ORA's consumer lacks) is a recorded failure and its callback
 *   fee is credited to whoever ran `expire`.
 * - OraPromptNestedInference (ORA's `PromptNestedInference`): its first callback makes the second request from inside
 *   the devnet keeper's commit; the second request's excess goes to the user who paid, not the keeper (§1.5, rule 3).
 * Each text is checked against the keeper's generation recomputed here with the executor, and against the SDK's
 * `waitForResult(...).text`. Finality after the time jump of docs/dapp-guide.md §3.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  parseEventLogs,
  toBytes,
  type Abi,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { decodeText, oaoActions } from "../../sdk/src/index.ts";
import { AIOracleAbi } from "../../sdk/src/abis/generated.ts";
import { DEV_MNEMONIC } from "../../keeper/src/demo/world.ts";
import { loadModel } from "../../keeper/src/service/models.ts";
import { int8Tensor } from "../../keeper/graph/index.ts";
import { devnetPrompt } from "../dapp/devnet-prompt.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The devnet's keeper sends from this dev account (`--keeper-account`); the users here are 3, 4 and 5. */
const KEEPER_ACCOUNT = 6;

interface DevnetInfo {
  rpc: string;
  contracts: { aiOracle: Address; taskManager: Address; staking: Address };
  keeper: Address;
  keeperAccount: number;
  models: Record<"mnist" | "text", { modelId: string; file: string; textModel: boolean; inputBytes: number }>;
}

/** A test consumer's ABI and bytecode, compiled by `hardhat build` from test/solidity/ora/. */
function artifact(name: string): { abi: Abi; bytecode: Hex } {
  return JSON.parse(readFileSync(`${root}artifacts/test/solidity/ora/${name}.sol/${name}.json`, "utf8")) as { abi: Abi; bytecode: Hex };
}

describe("ORA-pattern consumers against oao devnet's text model", () => {
  const devnet = spawn(process.execPath, [`${root}bin/oao.js`, "devnet", "--port", "0", "--keeper-account", String(KEEPER_ACCOUNT)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let info: DevnetInfo;
  let stderr = "";
  let textModelId: bigint;
  let generate: (prompt: string) => string;
  const transport = () => http(info.rpc);
  const publicClient = () => createPublicClient({ chain: hardhat, transport: transport() });
  const testClient = () => createTestClient({ mode: "hardhat", chain: hardhat, transport: transport() });
  /** A dev account's wallet with the SDK's actions (0 deployed the devnet, KEEPER_ACCOUNT is its keeper). */
  const wallet = (index: number) =>
    createWalletClient({ account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }), chain: hardhat, transport: transport() }).extend(
      oaoActions({ addresses: { oracle: info.contracts.aiOracle, taskManager: info.contracts.taskManager, staking: info.contracts.staking } }),
    );

  beforeAll(async () => {
    let out = "";
    devnet.stdout!.on("data", (d) => (out += d));
    devnet.stderr!.on("data", (d) => (stderr += d));
    for (let i = 0; i < 2400 && !out.trim().endsWith("}"); i++) {
      if (devnet.exitCode !== null) throw new Error(`oao devnet exited ${devnet.exitCode}: ${stderr}`);
      await sleep(100);
    }
    info = JSON.parse(out) as DevnetInfo;
    textModelId = BigInt(info.models.text.modelId);
    // What the devnet's honest keeper generates: the committed model run here on the prompt's bytes, up to the first 0x00.
    const { executor } = loadModel(info.models.text.file);
    generate = (prompt) => {
      const bytes = toBytes(prompt);
      const output = executor.infer(int8Tensor([bytes.length], Int8Array.from(bytes, (b) => (b << 24) >> 24)));
      return decodeText(Uint8Array.from(output.data, (v) => v & 0xff));
    };
  }, 300_000);
  afterAll(() => {
    devnet.kill("SIGINT");
  });

  async function deploy(name: string, owner: ReturnType<typeof wallet>, gasLimit: bigint): Promise<Address> {
    const { abi, bytecode } = artifact(name);
    const hash = await owner.deployContract({ abi, bytecode, args: [info.contracts.aiOracle] });
    const { contractAddress } = await publicClient().waitForTransactionReceipt({ hash });
    await mined(await owner.writeContract({ address: contractAddress!, abi, functionName: "setCallbackGasLimit", args: [textModelId, gasLimit] }));
    return getAddress(contractAddress!);
  }
  async function mined(hash: Hash): Promise<TransactionReceipt> {
    const receipt = await publicClient().waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return receipt;
  }
  const gasCost = (r: TransactionReceipt) => r.gasUsed * r.effectiveGasPrice;
  const balance = (address: Address) => publicClient().getBalance({ address });
  const oracleEvents = (r: TransactionReceipt) => parseEventLogs({ abi: AIOracleAbi, logs: r.logs });
  const consumerEvents = (name: string, r: TransactionReceipt) => parseEventLogs({ abi: artifact(name).abi, logs: r.logs }) as unknown as { eventName: string; args: Record<string, unknown> }[];
  /** The receipt of the transaction that delivered `requestId`'s callback (AICallbackResult). */
  async function deliveryReceipt(requestId: bigint): Promise<TransactionReceipt> {
    const logs = await publicClient().getContractEvents({ address: info.contracts.aiOracle, abi: AIOracleAbi, eventName: "AICallbackResult", args: { requestId }, fromBlock: 0n });
    expect(logs.length, `AICallbackResult of request ${requestId}`).toBe(1);
    return publicClient().getTransactionReceipt({ hash: logs[0]!.transactionHash });
  }
  const readModel = (modelId: bigint) => publicClient().readContract({ address: info.contracts.aiOracle, abi: AIOracleAbi, functionName: "getModel", args: [modelId] });
  async function finalize(requestIds: bigint[]) {
    // docs/dapp-guide.md §3: the challenge window is chain time; move the clock and mine, the keeper finalizes.
    await testClient().increaseTime({ seconds: 3_601 });
    await testClient().mine({ blocks: 1 });
    for (const requestId of requestIds) {
      const final = await wallet(3).waitForResult({ requestId, until: "finalized", timeout: 180_000 });
      expect(final.finalized).toBe(true);
    }
  }

  it("prints the text model next to MNIST: both registered, the text one as a text model; the keeper's account", async () => {
    expect(info.keeperAccount).toBe(KEEPER_ACCOUNT);
    expect(info.keeper).toBe(mnemonicToAccount(DEV_MNEMONIC, { addressIndex: KEEPER_ACCOUNT }).address);
    expect(info.models.mnist.modelId).toBe("1");
    expect(info.models.text.modelId).toBe("2");
    const text = await readModel(textModelId);
    expect(text.inputMode).toBe(1);
    expect((await readModel(BigInt(info.models.mnist.modelId))).inputMode).toBe(0);
    expect(info.models.text).toMatchObject({ textModel: true, inputBytes: Number(text.inputBytes) });
    expect(stderr).toMatch(new RegExp(`answers model 1 \\(MNIST.*and model ${textModelId} \\(text generation`));
  });

  it("docs/dapp-guide.md §3's prompt with the SDK: requestText, then waitForResult's text", { timeout: 200_000 }, async () => {
    const { requestId, text } = await devnetPrompt(info);
    expect(text).toBe(generate("And God said, "));
    expect((await wallet(5).getRequest({ requestId })).inputLength).toBe(toBytes("And God said, ").length);
  });

  it("OraPrompt (ORA's Prompt): the callback stores the generated text; the overpayment comes back to the user", { timeout: 300_000 }, async () => {
    const user = wallet(3);
    const address = await deploy("OraPrompt", user, 500_000n);
    const { abi } = artifact("OraPrompt");
    const prompt = "And God said, ";
    const fee = (await publicClient().readContract({ address, abi, functionName: "estimateFee", args: [textModelId] })) as bigint;
    const excess = 12_345_678_901n;
    const before = await balance(user.account.address);
    const receipt = await mined(await user.writeContract({ address, abi, functionName: "calculateAIResult", args: [textModelId, prompt], value: fee + excess }));
    const [request] = consumerEvents("OraPrompt", receipt).filter((e) => e.eventName === "promptRequest");
    const requestId = request!.args.requestId as bigint;
    // No receive(): the excess is pushed on to the user who sent the transaction (tx.origin), none stays in the consumer.
    expect(oracleEvents(receipt).filter((e) => e.eventName === "PaymentSent").map((e) => e.args)).toEqual([{ account: user.account.address, amount: excess }]);
    expect(await balance(user.account.address)).toBe(before - gasCost(receipt) - fee);
    expect(await balance(address)).toBe(0n);

    const committed = await user.waitForResult({ requestId, until: "committed", timeout: 180_000 });
    const want = generate(prompt);
    expect(committed.text).toBe(want);
    expect(committed.text).toBe(decodeText(committed.output));
    expect(await publicClient().readContract({ address, abi, functionName: "getAIResult", args: [textModelId, prompt] })).toBe(want);
    const stored = (await publicClient().readContract({ address, abi, functionName: "requests", args: [requestId] })) as [Address, bigint, Hex, Hex];
    expect(stored[0]).toBe(user.account.address);
    expect(decodeText(stored[3])).toBe(want);
    const delivery = await deliveryReceipt(requestId);
    const updates = consumerEvents("OraPrompt", delivery).filter((e) => e.eventName === "promptsUpdated");
    expect(updates.map((e) => [e.args.requestId, e.args.input, e.args.output])).toEqual([[requestId, prompt, want]]);
    expect(delivery.from.toLowerCase()).toBe(info.keeper.toLowerCase());

    await finalize([requestId]);
    // AtCommit delivery: finality does not call back again.
    expect(await deliveryReceipt(requestId)).toMatchObject({ transactionHash: delivery.transactionHash });
  });

  it("OraSimplePrompt (ORA's SimplePrompt): the callback only emits the text; an expired request refunds the user", { timeout: 300_000 }, async () => {
    const user = wallet(4);
    const address = await deploy("OraSimplePrompt", user, 300_000n);
    const { abi } = artifact("OraSimplePrompt");
    const prompt = "In the beginning";
    const fee = (await publicClient().readContract({ address, abi, functionName: "estimateFee", args: [textModelId] })) as bigint;
    const receipt = await mined(await user.writeContract({ address, abi, functionName: "calculateAIResult", args: [textModelId, prompt], value: fee }));
    const requestId = consumerEvents("OraSimplePrompt", receipt).find((e) => e.eventName === "promptRequest")!.args.requestId as bigint;
    expect(oracleEvents(receipt).some((e) => e.eventName === "PaymentSent")).toBe(false); // paid exactly

    const committed = await user.waitForResult({ requestId, until: "committed", timeout: 180_000 });
    expect(committed.text).toBe(generate(prompt));
    const emitted = consumerEvents("OraSimplePrompt", await deliveryReceipt(requestId)).filter((e) => e.eventName === "promptsUpdated");
    expect(emitted.map((e) => [e.args.requestId, e.args.output, e.args.callbackData])).toEqual([[requestId, committed.text, "0x"]]);
    await finalize([requestId]);

    // A model nobody serves (the text model again, under a new id the devnet's keeper was not configured with).
    const text = await readModel(textModelId);
    const { modelId: unserved } = await user.registerModel({
      modelFile: new Uint8Array(readFileSync(info.models.text.file)),
      absolutePrestate: text.absolutePrestate,
      fee: text.fee,
      feeReceiver: user.account.address,
      feeShareBps: 0,
      metadataURI: "local://unserved",
    });
    await mined(await user.writeContract({ address, abi, functionName: "setCallbackGasLimit", args: [unserved, 300_000n] }));
    const quote = (await publicClient().readContract({ address, abi, functionName: "estimateFee", args: [unserved] })) as bigint;
    const asked = await mined(await user.writeContract({ address, abi, functionName: "calculateAIResult", args: [unserved, prompt], value: quote }));
    const lost = consumerEvents("OraSimplePrompt", asked).find((e) => e.eventName === "promptRequest")!.args.requestId as bigint;
    const parts = await publicClient().readContract({ address: info.contracts.aiOracle, abi: AIOracleAbi, functionName: "getRequest", args: [lost] });
    await testClient().increaseTime({ seconds: 3_601 }); // past its deadline (requestTimeout 3600 s)
    await testClient().mine({ blocks: 1 });
    const credit = async () => publicClient().readContract({ address: info.contracts.aiOracle, abi: AIOracleAbi, functionName: "pendingWithdrawal", args: [user.account.address] });
    const creditBefore = await credit();
    const before = await balance(user.account.address);
    const expired = await user.expireRequest({ requestId: lost });
    const expiry = await publicClient().getTransactionReceipt({ hash: expired.hash });
    // Model and protocol fee back to the user (the consumer cannot take ETH); the callback fee to whoever ran expire.
    expect(expired.reason).toBe("expired");
    expect(expired.refunded).toBe(parts.modelFee + parts.protocolFee);
    expect(expired.paidTo).toEqual({ account: user.account.address, pushed: true });
    expect(await balance(user.account.address)).toBe(before - gasCost(expiry) + expired.refunded);
    expect(await credit()).toBe(creditBefore + parts.callbackFee);
    expect(await balance(address)).toBe(0n);
    // ORA's consumer has no aiOracleCallbackError: the error callback is a recorded failure, not a revert of expire.
    const executed = oracleEvents(expiry).filter((e) => e.eventName === "CallbackExecuted").map((e) => e.args as { isError: boolean; success: boolean });
    expect(executed).toEqual([expect.objectContaining({ isError: true, success: false })]);
  });

  it("OraPromptNestedInference (ORA's PromptNestedInference): the callback makes the second request; its excess reaches the user, not the keeper", { timeout: 400_000 }, async () => {
    const user = wallet(5);
    const address = await deploy("OraPromptNestedInference", user, 800_000n);
    const { abi } = artifact("OraPromptNestedInference");
    const prompt = "Blessed are the";
    const fee = (await publicClient().readContract({ address, abi, functionName: "estimateFee", args: [textModelId] })) as bigint;
    const extra = 987_654_321n;
    const receipt = await mined(await user.writeContract({ address, abi, functionName: "calculateAIResult", args: [textModelId, textModelId, prompt], value: 2n * fee + extra }));
    const firstId = consumerEvents("OraPromptNestedInference", receipt).find((e) => e.eventName === "promptRequest")!.args.requestId as bigint;
    expect(await publicClient().readContract({ address, abi, functionName: "prepaid", args: [firstId] })).toBe(fee + extra);
    expect(await balance(address)).toBe(fee + extra);
    const before = await balance(user.account.address);

    const first = await user.waitForResult({ requestId: firstId, until: "committed", timeout: 180_000 });
    const want = generate(prompt);
    expect(first.text).toBe(want);
    // The keeper's commit ran the first callback, which made the second request (requester: the consumer).
    const delivery = await deliveryReceipt(firstId);
    expect(delivery.from.toLowerCase()).toBe(info.keeper.toLowerCase());
    const secondId = (await publicClient().readContract({ address, abi, functionName: "nestedRequestOf", args: [firstId] })) as bigint;
    expect(secondId).toBeGreaterThan(firstId);
    const created = oracleEvents(delivery).filter((e) => e.eventName === "AICallbackRequest").map((e) => e.args as { account: Address; requestId: bigint; input: Hex; callbackData: Hex });
    expect(created).toEqual([expect.objectContaining({ account: address, requestId: secondId, callbackData: "0x" })]);
    expect(decodeText(created[0]!.input)).toBe(prompt);
    // The second request got the whole prepayment: its excess is pushed to the user who paid (the first request's
    // tx.origin), not to the keeper whose transaction made it.
    const sent = oracleEvents(delivery).filter((e) => e.eventName === "PaymentSent").map((e) => e.args);
    expect(sent).toEqual([{ account: user.account.address, amount: extra }]);
    expect(await balance(user.account.address)).toBe(before + extra);
    expect(await balance(address)).toBe(0n);

    const second = await user.waitForResult({ requestId: secondId, until: "committed", timeout: 180_000 });
    expect(second.text).toBe(want);
    expect(second.requester).toBe(address);
    const updates = consumerEvents("OraPromptNestedInference", await deliveryReceipt(secondId)).filter((e) => e.eventName === "promptsUpdated");
    expect(updates.map((e) => [e.args.requestId, e.args.output, e.args.callbackData])).toEqual([[secondId, want, "0x"]]);
    expect(await publicClient().readContract({ address, abi, functionName: "getAIResult", args: [textModelId, prompt] })).toBe(want);
    await finalize([firstId, secondId]);
    expect(await publicClient().readContract({ address, abi, functionName: "isFinalized", args: [secondId] })).toBe(true);
  });
});

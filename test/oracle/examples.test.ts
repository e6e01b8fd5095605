/**
 * The example consumers against the real oracle (deployed by the Ignition dev module): OAOPromptConsumer, written
 * only against ORA's OAO functions, and DigitClassifier, built on AIOracleCallbackReceiver.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Hex, concatHex, encodePacked, getAddress, stringToHex } from "viem";

import { CHALLENGER, OUTPUT_A, TRACE_A, TRACE_B, createOracleWorld } from "./fixture.ts";

const w = await createOracleWorld();
const { alice, bob, user, keeper } = w.wallets;

beforeEach(() => w.reset());

/** Ten big-endian int32 logits with the maximum at `digit`. */
function logits(digit: number): Hex {
  return concatHex(Array.from({ length: 10 }, (_, i) => encodePacked(["int32"], [i === digit ? 900 : -100 + i])));
}

describe("OAOPromptConsumer (written for ORA's OAO, unchanged)", () => {
  it("requests, receives the answer at commit, sees it become final, and takes the overturned answer", async () => {
    const consumer = await w.viem.deployContract("OAOPromptConsumer", [w.aiOracle.address]);
    // A "text model" with a 12-byte input window (inputs are fixed-size tensors here, §3.4): the prompt fits exactly.
    const textModel = await w.registerModelWithOutput(1, 12);
    const fee = await consumer.read.estimateFee([textModel]);
    expect(fee).toBe(await w.aiOracle.read.estimateFee([textModel, 500_000n]));
    // A prompt of another length is refused by the oracle with both lengths; ORA's consumer sees the revert.
    await w.expectRevert(
      consumer.write.calculateAIResult([textModel, "What is 2+2"], { account: user.account, value: fee }),
      "InputLengthMismatch",
      [textModel, 12n, 11n],
    );
    const receipt = await w.send(consumer.write.calculateAIResult([textModel, "What is 2+2?"], { account: user.account, value: fee }));
    const request = w.eventsNamed(receipt, "AICallbackRequest")[0]!;
    expect(request.args).toMatchObject({ account: getAddress(consumer.address), input: stringToHex("What is 2+2?") });
    const id = request.args.requestId as bigint;

    await w.commit(alice, id, stringToHex("5"), TRACE_A);
    expect(await consumer.read.getAIResult([textModel, "What is 2+2?"])).toBe("5");
    expect(await consumer.read.isFinalized([id])).toBe(false);

    const { game } = await w.challenge(bob, id, stringToHex("4"), TRACE_B);
    await w.resolve(game, CHALLENGER);
    await w.send(w.taskManager.write.deliver([id], { account: keeper.account, gas: 5_000_000n }));
    expect(await consumer.read.getAIResult([textModel, "What is 2+2?"])).toBe("4");
    await w.afterWindow();
    await w.finalize(id);
    expect(await consumer.read.isFinalized([id])).toBe(true);
    expect(await consumer.read.getAIResult([textModel, "What is 2+2?"])).toBe("4");
  });

  it("its own caller check rejects anyone but the oracle", async () => {
    const consumer = await w.viem.deployContract("OAOPromptConsumer", [w.aiOracle.address]);
    await w.expectRevert(consumer.write.aiOracleCallback([1n, OUTPUT_A, "0x"], { account: user.account }), "UnauthorizedCallbackSource", [
      user.address,
    ]);
  });
});

describe("DigitClassifier", () => {
  const image = `0x${"00".repeat(300)}${"ff".repeat(184)}${"00".repeat(300)}` as Hex;

  it("classifies a 784-byte image from ten logits, returns the excess fee, and reports finality", async () => {
    // A model whose output is ten int32 logits' bytes (a claim's output must be the model's output tensor, §3.5).
    const logitsModel = await w.registerModelWithOutput(40, 784);
    const classifier = await w.viem.deployContract("DigitClassifier", [w.aiOracle.address, logitsModel]);
    const fee = await classifier.read.fee();
    const before = await w.publicClient.getBalance({ address: user.address });
    const receipt = await w.send(classifier.write.classify([image], { account: user.account, value: fee + 777n }));
    const spent = before - (await w.publicClient.getBalance({ address: user.address }));
    expect(spent).toBe(fee + receipt.gasUsed * receipt.effectiveGasPrice); // the 777 wei came back
    const id = w.eventsNamed(receipt, "AICallbackRequest")[0]!.args.requestId as bigint;
    expect(await classifier.read.digitOf([id])).toBe(255); // NO_DIGIT until answered

    await w.commit(alice, id, logits(7), TRACE_A);
    expect(await classifier.read.digitOf([id])).toBe(7);
    expect(await classifier.read.isFinal([id])).toBe(false);
    await w.afterWindow();
    await w.finalize(id);
    expect(await classifier.read.isFinal([id])).toBe(true);
  });

  it("a one-byte class output works too; a malformed output stores NO_DIGIT without blocking the request", async () => {
    const classifier = await w.viem.deployContract("DigitClassifier", [w.aiOracle.address, await w.registerModelWithOutput(1, 784)]);
    // A model with a two-byte output: a well-formed claim for it is a malformed class for the classifier.
    const twoBytes = await w.viem.deployContract("DigitClassifier", [w.aiOracle.address, await w.registerModelWithOutput(2, 784)]);
    const fee = await classifier.read.fee();
    const first = await w.send(classifier.write.classify([image], { account: user.account, value: fee }));
    const second = await w.send(twoBytes.write.classify([image], { account: user.account, value: fee }));
    const [id1, id2] = [first, second].map((r) => w.eventsNamed(r, "AICallbackRequest")[0]!.args.requestId as bigint);
    await w.commit(alice, id1!, "0x03", TRACE_A);
    await w.commit(alice, id2!, "0x0b0c", TRACE_A);
    expect(await classifier.read.digitOf([id1!])).toBe(3);
    expect(await twoBytes.read.digitOf([id2!])).toBe(255);
  });

  it("rejects a wrong image size and a low fee with the offending values", async () => {
    const classifier = await w.viem.deployContract("DigitClassifier", [w.aiOracle.address, w.modelId]);
    const fee = await classifier.read.fee();
    await w.expectRevert(classifier.write.classify(["0x01"], { account: user.account, value: fee }), "InvalidImageLength", [1n, 784n]);
    await w.expectRevert(classifier.write.classify([image], { account: user.account, value: fee - 1n }), "FeeTooLow", [fee - 1n, fee]);
  });
});

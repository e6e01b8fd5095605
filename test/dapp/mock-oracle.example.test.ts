// Example from docs/dapp-testing.md (kept identical by test/dapp/dapp-testing-doc.test.ts): a dapp's own
// Hardhat + vitest test of its consumer contract, with MockAIOracle playing the oracle.
import { network } from "hardhat";
import { beforeEach, describe, expect, it } from "vitest";
import { type Hex, concatHex, encodePacked, parseEther } from "viem";

const { viem, networkHelpers } = await network.create();
const [user] = await viem.getWalletClients();
const MODEL_ID = 1n;
const image = `0x${"00".repeat(784)}` as Hex; // what the dapp sends: 28x28 pixels

/** The model's output: ten big-endian int32 logits, highest at `digit`. */
const logits = (digit: number): Hex =>
  concatHex(Array.from({ length: 10 }, (_, i) => encodePacked(["int32"], [i === digit ? 100 : 0])));

async function deploy() {
  const oracle = await viem.deployContract("MockAIOracle");
  await oracle.write.setModelFee([MODEL_ID, parseEther("0.001")]);
  await oracle.write.setCallbackGasPrice([1_000_000_000n]);
  const dapp = await viem.deployContract("DigitClassifier", [oracle.address, MODEL_ID]);
  return { oracle, dapp };
}

/** The dapp asks for a classification; returns the oracle's request id. */
async function classify({ oracle, dapp }: Awaited<ReturnType<typeof deploy>>) {
  await dapp.write.classify([image], { account: user!.account, value: await dapp.read.fee() });
  return oracle.read.requestCount(); // the id of the request just made
}

describe("DigitClassifier with MockAIOracle", () => {
  let c: Awaited<ReturnType<typeof deploy>>;
  beforeEach(async () => {
    c = await networkHelpers.loadFixture(deploy);
  });

  it("stores the digit of a final result", async () => {
    const id = await classify(c);
    await c.oracle.write.fulfill([id, logits(7)]); // the oracle delivers a final result
    expect(await c.dapp.read.digitOf([id])).toBe(7);
    expect(await c.dapp.read.isFinal([id])).toBe(true);
  });

  it("follows an overturned result until it is final (OAO delivery at commit)", async () => {
    const id = await classify(c);
    await c.oracle.write.commitResult([id, logits(1)]); // delivered, can still change
    expect(await c.dapp.read.digitOf([id])).toBe(1);
    expect(await c.dapp.read.isFinal([id])).toBe(false);
    await c.oracle.write.overturn([id, logits(7)]); // a dispute replaced it
    await c.oracle.write.finalize([id]);
    expect(await c.dapp.read.digitOf([id])).toBe(7);
    expect(await c.dapp.read.isFinal([id])).toBe(true);
  });

  it("handles an expired request: refund and error callback", async () => {
    const id = await classify(c);
    const publicClient = await viem.getPublicClient();
    const before = await publicClient.getBalance({ address: c.dapp.address });
    await c.oracle.write.expire([id]); // refunds the requester (the dapp) and calls aiOracleCallbackError(id, 2, ...)
    const after = await publicClient.getBalance({ address: c.dapp.address });
    // The model fee comes back; the callback fee pays whoever ran the error callback (as on the real oracle).
    expect(after - before).toBe(parseEther("0.001"));
    expect(await c.dapp.read.digitOf([id])).toBe(255); // NO_DIGIT: no result ever arrived
  });
});

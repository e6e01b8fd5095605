// A dapp's own test (docs/dapp-guide.md §0): its consumer against MockAIOracle from @oao/contracts, driven with
// @oao/sdk on the dapp's own viem. Run with `npx hardhat build && node --test`.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Hex, toHex } from "viem";
import { isContractRevertError, oaoActions } from "@oao/sdk";

const { viem } = await network.connect();
const [wallet] = await viem.getWalletClients();
const publicClient = await viem.getPublicClient();
const MODEL_ID = 1n;

async function deploy() {
  const oracle = await viem.deployContract("MockAIOracle");
  await oracle.write.setModelFee([MODEL_ID, 10n ** 15n]);
  await oracle.write.setCallbackGasPrice([10n ** 9n]);
  const reader = await viem.deployContract("SummaryReader", [oracle.address, MODEL_ID]);
  const oao = wallet!.extend(oaoActions({ addresses: { oracle: oracle.address } }));
  return { oracle, reader, oao };
}

describe("SummaryReader with MockAIOracle and @oao/sdk", () => {
  it("quotes with the SDK, gets the callback, and withdraws the callback fee it earned", async () => {
    const { oracle, reader, oao } = await deploy();
    const fee = await oao.estimateFee({ modelId: MODEL_ID, gasLimit: 200_000n });
    assert.equal(fee.total, await oracle.read.estimateFee([MODEL_ID, 200_000n]));
    assert.equal(fee.callbackFee, (200_000n + 50_000n) * 10n ** 9n);

    await publicClient.waitForTransactionReceipt({ hash: await reader.write.ask([toHex("hello")], { value: fee.total }) });
    const id = await oracle.read.requestCount();
    const output: Hex = toHex("a short summary");
    await oracle.write.fulfill([id, output]); // the test plays the operator: delivered, final
    assert.equal(await reader.read.outputs([id]), output);
    assert.equal(await oracle.read.isFinalized([id]), true);

    // As on the real oracle, whoever ran the callback is credited its fee, and the fee collector (the mock's
    // deployer, this same account) the model and protocol fee at finality; the SDK withdraws the credit.
    const { amount } = await oao.withdrawCredit({});
    assert.equal(amount, fee.callbackFee + fee.modelFee + fee.protocolFee);
  });

  it("reports an expiry to the consumer with error code 2", async () => {
    const { oracle, reader, oao } = await deploy();
    const fee = await oao.estimateFee({ modelId: MODEL_ID, gasLimit: 200_000n });
    await publicClient.waitForTransactionReceipt({ hash: await reader.write.ask([toHex("hello")], { value: fee.total }) });
    const id = await oracle.read.requestCount();
    await oracle.write.expire([id]);
    assert.equal(await reader.read.errors([id]), 2);
  });

  it("decodes the oracle's custom errors (one viem: the SDK's errors are the dapp's)", async () => {
    const { oao } = await deploy();
    await assert.rejects(oao.estimateFee({ modelId: MODEL_ID, gasLimit: 6_000_000n }), (err: unknown) => {
      assert.ok(isContractRevertError(err, "GasLimitTooHigh"), String(err));
      assert.deepEqual(err.args, [6_000_000n, 5_000_000n]);
      return true;
    });
    const sdkViem = createRequire(import.meta.resolve("@oao/sdk")).resolve("viem");
    assert.equal(sdkViem, createRequire(import.meta.url).resolve("viem"), "@oao/sdk must use the dapp's viem (a peer dependency)");
  });
});

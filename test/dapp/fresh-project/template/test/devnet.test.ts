// The same consumer against the real oracle on `oao devnet` (docs/dapp-guide.md §3): the devnet's keeper answers
// and the callback stores the result. Runs when OAO_DEVNET_ORACLE names the devnet's aiOracle (and
// OAO_DEVNET_RPC its endpoint, default http://127.0.0.1:8545); model 1 is MNIST, whose input is 784 int8 pixels.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Address, type Hex } from "viem";
import { oaoActions } from "@oao/sdk";

const oracle = process.env.OAO_DEVNET_ORACLE as Address | undefined;

describe("SummaryReader on oao devnet", { skip: oracle === undefined ? "set OAO_DEVNET_ORACLE (and OAO_DEVNET_RPC)" : false }, () => {
  it("gets the devnet keeper's answer in its callback", { timeout: 120_000 }, async () => {
    const { viem } = await network.connect({ network: "devnet" });
    const [, , , user] = await viem.getWalletClients(); // account 0 deployed the devnet, 1 is its keeper (2 the demo's)
    const publicClient = await viem.getPublicClient();
    const reader = await viem.deployContract("SummaryReader", [oracle!, 1n], { client: { wallet: user! } });
    const oao = user!.extend(oaoActions({ addresses: { oracle: oracle! } }));
    const { total } = await oao.estimateFee({ modelId: 1n, gasLimit: await reader.read.CALLBACK_GAS() });
    const image = `0x${"00".repeat(784)}` as Hex;
    await publicClient.waitForTransactionReceipt({ hash: await reader.write.ask([image], { value: total }) });
    const requestId = await publicClient.readContract({
      address: oracle!,
      abi: [{ type: "function", name: "requestCount", inputs: [], outputs: [{ type: "uint256" }], stateMutability: "view" }],
      functionName: "requestCount",
    });
    // OAO delivery at commit: the keeper's commit runs the callback.
    const result = await oao.waitForResult({ requestId, until: "committed", timeout: 60_000, pollingInterval: 500 });
    let stored: Hex = "0x";
    for (let i = 0; i < 40 && stored === "0x"; i++) {
      stored = await reader.read.outputs([requestId]);
      if (stored === "0x") await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(stored, result.output);
    assert.ok(stored.length > 2, "the model's output tensor (MNIST: ten int8 logits)");
  });
});

import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { parseEther, type Hex } from "viem";
import { createResponder, TxNotMinedError } from "./responder.ts";
import { openStore } from "../store/store.ts";

describe("responder", () => {
  it("sends intents in order on one nonce lane", async () => {
    const { viem } = await network.create();
    const publicClient = await viem.getPublicClient();
    const [wallet, other] = await viem.getWalletClients();
    const store = openStore(":memory:");
    const responder = createResponder({ publicClient, walletClient: wallet!, store, pollIntervalMs: 5 });
    const receipts = await Promise.all(
      [1n, 2n, 3n].map((i) => responder.submit({ kind: "pay", to: other!.account.address, data: "0x", value: i })),
    );
    const txs = await Promise.all(receipts.map((r) => publicClient.getTransaction({ hash: r.transactionHash })));
    expect(txs.map((t) => t.value)).toEqual([1n, 2n, 3n]);
    expect(txs.map((t) => t.nonce)).toEqual([0, 1, 2]);
    expect(store.listTxs("confirmed").map((t) => t.nonce)).toEqual([0, 1, 2]);
  });

  it("replaces a transaction that is not mined with bumped fees", async () => {
    const { viem, provider, networkHelpers } = await network.create();
    const publicClient = await viem.getPublicClient();
    const [wallet, other] = await viem.getWalletClients();
    await provider.request({ method: "evm_setAutomine", params: [false] });
    let first: { hash: Hex; maxFeePerGas: Hex } | undefined;
    const responder = createResponder({
      publicClient,
      walletClient: wallet!,
      bumpAfterBlocks: 2,
      pollIntervalMs: 5,
      sleep: async () => {
        // The first send gets lost from the pool (as an underpriced transaction would); later ones are mined.
        if (!first) {
          const pool = (await provider.request({ method: "eth_pendingTransactions", params: [] })) as {
            hash: Hex;
            maxFeePerGas: Hex;
          }[];
          first = pool[0];
          if (first) await provider.request({ method: "hardhat_dropTransaction", params: [first.hash] });
        }
        await networkHelpers.mine(1);
      },
    });
    const receipt = await responder.submit({ kind: "pay", to: other!.account.address, data: "0x", value: parseEther("1") });
    expect(receipt.status).toBe("success");
    expect(first).toBeDefined();
    expect(receipt.transactionHash).not.toBe(first!.hash);
    const mined = await publicClient.getTransaction({ hash: receipt.transactionHash });
    expect(mined.nonce).toBe(0);
    expect(mined.maxFeePerGas! > BigInt(first!.maxFeePerGas)).toBe(true);
  });

  it("gives up after the bump bound with a retryable error", async () => {
    const { viem, provider, networkHelpers } = await network.create();
    const publicClient = await viem.getPublicClient();
    const [wallet, other] = await viem.getWalletClients();
    await provider.request({ method: "evm_setAutomine", params: [false] });
    const responder = createResponder({
      publicClient,
      walletClient: wallet!,
      bumpAfterBlocks: 1,
      maxBumps: 2,
      pollIntervalMs: 5,
      sleep: async () => {
        const pool = (await provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex }[];
        for (const tx of pool) await provider.request({ method: "hardhat_dropTransaction", params: [tx.hash] });
        await networkHelpers.mine(1);
      },
    });
    const error = await responder.submit({ kind: "pay", to: other!.account.address, data: "0x", value: 1n }).catch((e) => e);
    expect(error).toBeInstanceOf(TxNotMinedError);
    expect((error as TxNotMinedError).hashes).toHaveLength(3);
    expect((error as TxNotMinedError).retryable).toBe(true);
  });
});

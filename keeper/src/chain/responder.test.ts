import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { createWalletClient, custom, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { createResponder, TxNotMinedError, TxReplacedError } from "./responder.ts";
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

describe("responder: pipelining and resynchronisation (issue 13: 5 and throughput)", () => {
  const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" as const; // Hardhat's account 0
  async function chain() {
    const conn = await network.create();
    const publicClient = await conn.viem.getPublicClient();
    const [, other] = await conn.viem.getWalletClients();
    const account = privateKeyToAccount(KEY0);
    const walletClient = createWalletClient({ account, chain: { ...hardhat, id: await publicClient.getChainId() }, transport: custom(conn.provider) });
    const pool = async () => (await conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex; nonce: Hex }[];
    return { conn, publicClient, walletClient, to: other!.account.address, pool };
  }

  it("sends many transactions without waiting for receipts (one block mines them all), at most `window` in flight", async () => {
    const { conn, publicClient, walletClient, to, pool } = await chain();
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const seen: number[] = [];
    const responder = createResponder({
      publicClient: publicClient as never,
      walletClient,
      window: 4,
      pollIntervalMs: 1,
      sleep: async () => {
        seen.push((await pool()).length);
        await conn.networkHelpers.mine(1);
      },
    });
    const receipts = await Promise.all([1n, 2n, 3n, 4n, 5n, 6n].map((v) => responder.submit({ kind: "pay", to, data: "0x", value: v })));
    expect(seen[0]).toBe(4); // four sent before the first block, none waited for a receipt
    expect(new Set(receipts.slice(0, 4).map((r) => r.blockNumber)).size).toBe(1);
    const txs = await Promise.all(receipts.map((r) => publicClient.getTransaction({ hash: r.transactionHash })));
    expect(txs.map((t) => t.nonce)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(txs.map((t) => t.value)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });

  it("a dropped transaction is sent again and the ones behind it land (no nonce gap)", async () => {
    const { conn, publicClient, walletClient, to, pool } = await chain();
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    let dropped: Hex | undefined;
    const responder = createResponder({
      publicClient: publicClient as never,
      walletClient,
      bumpAfterBlocks: 100, // only the drop can trigger a resend
      pollIntervalMs: 1,
      sleep: async () => {
        if (!dropped) {
          const first = (await pool()).find((t) => Number(t.nonce) === 0)!;
          dropped = first.hash;
          await conn.provider.request({ method: "hardhat_dropTransaction", params: [first.hash] });
          return; // not mined yet: the next poll sees nonce 0 missing from the pool
        }
        await conn.networkHelpers.mine(1);
      },
    });
    const receipts = await Promise.all([1n, 2n, 3n].map((v) => responder.submit({ kind: "pay", to, data: "0x", value: v })));
    expect(receipts.every((r) => r.status === "success")).toBe(true);
    expect(receipts[0]!.transactionHash).not.toBe(dropped); // re-sent (bumped)
    const txs = await Promise.all(receipts.map((r) => publicClient.getTransaction({ hash: r.transactionHash })));
    expect(txs.map((t) => t.nonce)).toEqual([0, 1, 2]);
  });

  it("resynchronises with the chain when its nonce went backwards (evm_revert past mined transactions)", async () => {
    const { conn, publicClient, walletClient, to } = await chain();
    const responder = createResponder({ publicClient: publicClient as never, walletClient, pollIntervalMs: 1 });
    const snapshot = await conn.provider.request({ method: "evm_snapshot", params: [] });
    await responder.submit({ kind: "pay", to, data: "0x", value: 1n });
    await responder.submit({ kind: "pay", to, data: "0x", value: 2n });
    await conn.provider.request({ method: "evm_revert", params: [snapshot] });
    const receipt = await responder.submit({ kind: "pay", to, data: "0x", value: 3n });
    expect(receipt.status).toBe("success");
    expect((await publicClient.getTransaction({ hash: receipt.transactionHash })).nonce).toBe(0);
  });

  it("a restarted responder waits for its earlier run's pending transaction instead of sending the intent again", async () => {
    const { conn, publicClient, walletClient, to, pool } = await chain();
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const store = openStore(":memory:");
    const intent = { kind: "challenge", to, data: "0x1234" as Hex, value: 7n, gas: 50_000n };
    // The first run sends and dies before the receipt (its promise is never settled: the process is gone).
    const first = createResponder({ publicClient: publicClient as never, walletClient, store, pollIntervalMs: 1, sleep: () => new Promise(() => {}) });
    void first.submit(intent);
    for (let i = 0; i < 100 && (await pool()).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const [sent] = await pool();
    expect(sent).toBeDefined();
    const second = createResponder({
      publicClient: publicClient as never,
      walletClient,
      store,
      pollIntervalMs: 1,
      sleep: () => conn.networkHelpers.mine(1),
    });
    const receipt = await second.submit(intent);
    expect(receipt.transactionHash).toBe(sent!.hash);
    expect(await publicClient.getTransactionCount({ address: walletClient.account.address })).toBe(1); // sent once
  });
});

describe("responder: a nonce taken by another transaction", () => {
  it("gives the intent back as retryable TxReplacedError when the chain used its nonce for a transaction not ours", async () => {
    const conn = await network.create();
    const publicClient = await conn.viem.getPublicClient();
    const [owner, other] = await conn.viem.getWalletClients();
    await conn.provider.request({ method: "evm_setAutomine", params: [false] });
    const walletClient = createWalletClient({ account: privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"), chain: { ...hardhat, id: await publicClient.getChainId() }, transport: custom(conn.provider) });
    let replaced = false;
    const responder = createResponder({
      publicClient: publicClient as never,
      walletClient,
      bumpAfterBlocks: 100,
      pollIntervalMs: 1,
      sleep: async () => {
        if (!replaced) {
          replaced = true;
          // Another process with the same key replaces our nonce-0 transaction in the pool (higher fees).
          const [ours] = (await conn.provider.request({ method: "eth_pendingTransactions", params: [] })) as { maxFeePerGas: Hex; maxPriorityFeePerGas: Hex }[];
          await owner!.sendTransaction({ to: other!.account.address, value: 99n, nonce: 0, maxFeePerGas: BigInt(ours!.maxFeePerGas) * 2n, maxPriorityFeePerGas: BigInt(ours!.maxPriorityFeePerGas) * 2n });
        }
        await conn.networkHelpers.mine(1);
      },
    });
    const error = await responder.submit({ kind: "pay", to: other!.account.address, data: "0x", value: 1n }).catch((e) => e);
    expect(error).toBeInstanceOf(TxReplacedError);
    expect((error as TxReplacedError).retryable).toBe(true);
    const next = await responder.submit({ kind: "pay", to: other!.account.address, data: "0x", value: 2n });
    expect((await publicClient.getTransaction({ hash: next.transactionHash })).nonce).toBe(1); // resynchronised
  });
});

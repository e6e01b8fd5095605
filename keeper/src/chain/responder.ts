/**
 * The responder: the only component that holds the operator's wallet and sends transactions.
 *
 * Pipelined nonce lane (docs/protocol.md §6.0 "Transactions"): intents are sent in submission order with
 * consecutive nonces, without waiting for each receipt, up to `window` transactions in flight; receipts are tracked
 * asynchronously (one poll reads the account's mined nonce, and only transactions below it are looked up). Per
 * nonce:
 *  - not mined within `bumpAfterBlocks` blocks → replaced (same nonce) with fees raised by 12.5% + 1 wei, at most
 *    `maxBumps` times, then the caller gets `TxNotMinedError` and the nonce is filled with a 0-value self-transfer
 *    (a "cancel") so the transactions behind it can still be mined;
 *  - dropped from the node's pool (not mined, not known to the node) → sent again with bumped fees (one bump);
 *  - consumed by a transaction that is none of ours (another process with this key, a reorg that dropped ours) →
 *    the caller gets `TxReplacedError` (retryable: the keeper re-derives from the chain what is still owed);
 *  - a nonce below the in-flight ones that the chain does not have (a reorg or a drop left a gap) → a cancel is sent
 *    there, so nothing queues forever behind a hole.
 * With nothing in flight the next nonce is the chain's (`getTransactionCount(pending)`): a nonce that ran ahead of
 * the chain (a reorg, `evm_revert`, a dropped transaction) is resynchronised at once; a "nonce too low" on send
 * resynchronises and re-signs.
 *
 * Crash safety: with a local account every transaction is signed first and recorded (`txs`, with its hash and
 * calldata) before it is sent. At start the responder adopts its transactions of an earlier run that are still in
 * the node's pool (tracks, bumps them), and `submit` of an intent with the same calldata waits for the adopted
 * transaction instead of sending it again; one of them mined while it was down gives such a submit its receipt, read
 * again then: a receipt the chain no longer has (its block reorged away, `evm_revert`) does not count, the intent is
 * sent.
 *
 * Simulation happens before sending: an intent that would revert is rejected with the decoded revert (estimateGas)
 * instead of burning gas, and no nonce is used.
 */
import {
  keccak256,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { KeeperError } from "../errors.ts";
import type { Logger } from "../service/logger.ts";
import { shortError } from "../service/reconcile.ts";
import type { KeeperMetrics } from "../service/metrics.ts";
import type { KeeperStore } from "../store/store.ts";
import { defaultSleep, withRetry } from "./retry.ts";

export interface TxIntent {
  /** What this transaction does, for logs, metrics and the store ("commit", "move", "step"...). */
  kind: string;
  to: Address;
  data: Hex;
  value?: bigint;
  /** Gas limit; estimated (+20%) when absent. */
  gas?: bigint;
  /**
   * Gas added to the estimate (+20%), for a call whose cost depends on what lands before it in the same block (a
   * dispute post estimated while the opponent had not posted runs the round's closing path if mined second).
   */
  gasHeadroom?: bigint;
}

export class TxRevertedError extends KeeperError {
  override name = "TxRevertedError";
  readonly intent: TxIntent;
  readonly receipt: TransactionReceipt;
  constructor(intent: TxIntent, receipt: TransactionReceipt) {
    super(`Transaction ${intent.kind} (${receipt.transactionHash}) reverted in block ${receipt.blockNumber}`);
    this.intent = intent;
    this.receipt = receipt;
  }
}

export class TxNotMinedError extends KeeperError {
  override name = "TxNotMinedError";
  readonly intent: TxIntent;
  readonly nonce: number;
  readonly hashes: Hex[];
  constructor(intent: TxIntent, nonce: number, hashes: Hex[]) {
    super(`Transaction ${intent.kind} with nonce ${nonce} was not mined after ${hashes.length} attempts`, { retryable: true });
    this.intent = intent;
    this.nonce = nonce;
    this.hashes = hashes;
  }
}

/** The nonce of a transaction was used by another transaction (not ours): it will not be mined. */
export class TxReplacedError extends KeeperError {
  override name = "TxReplacedError";
  readonly intent: TxIntent;
  readonly nonce: number;
  constructor(intent: TxIntent, nonce: number) {
    super(`Transaction ${intent.kind} with nonce ${nonce} was replaced or dropped: the chain used that nonce for another transaction`, { retryable: true });
    this.intent = intent;
    this.nonce = nonce;
  }
}

export interface ResponderParams {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  store?: KeeperStore;
  log?: Logger;
  metrics?: KeeperMetrics;
  /** Blocks to wait before replacing a pending transaction with higher fees. */
  bumpAfterBlocks?: number;
  maxBumps?: number;
  /** Most transactions in flight (sent, not mined) at once; 1: wait for each receipt before the next send. */
  window?: number;
  /** How often to look for receipts. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Responder {
  readonly address: Address;
  /** Sends `intent` after every earlier intent (the next nonce), and resolves with its successful receipt. */
  submit(intent: TxIntent): Promise<TransactionReceipt>;
  /** Resolves when every submitted intent is settled. */
  idle(): Promise<void>;
}

const bump = (fee: bigint) => fee + fee / 8n + 1n;

interface Job {
  intent: TxIntent;
  resolve?: (receipt: TransactionReceipt) => void;
  reject?: (error: unknown) => void;
}

interface InFlight extends Job {
  nonce: number;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  hashes: Hex[];
  /** Head block when the current attempt was sent. */
  sentAt: bigint;
  bumps: number;
  /** A 0-value self-transfer filling a nonce (no caller). */
  cancel: boolean;
}

/** Whether a send failed because the nonce is already used on chain. */
const nonceTooLow = (error: unknown) => /nonce too low|nonce has already been used|NonceTooLow|OldNonce/i.test(String((error as Error)?.message ?? error));
/** Whether the node already has this exact transaction (a retried send that had reached it). */
const alreadyKnown = (error: unknown) => /already known|known transaction|already imported|AlreadyKnown/i.test(String((error as Error)?.message ?? error));

export function createResponder(params: ResponderParams): Responder {
  const { publicClient, walletClient } = params;
  const account = walletClient.account;
  const bumpAfterBlocks = BigInt(params.bumpAfterBlocks ?? 3);
  const maxBumps = params.maxBumps ?? 5;
  const window = Math.max(1, params.window ?? 16);
  const pollIntervalMs = params.pollIntervalMs ?? 250;
  const sleep = params.sleep ?? defaultSleep;
  const local = account.type === "local";
  const queue: Job[] = [];
  const inflight = new Map<number, InFlight>();
  let nextNonce: number | undefined;
  let pump: Promise<void> | undefined;
  let adopted = false;
  let idleWaiters: (() => void)[] = [];
  /** Transactions of an earlier run mined while it was not looking, by `to:calldata`: submitting one again returns its receipt. */
  const minedEarlier = new Map<string, TransactionReceipt>();

  const count = (blockTag: "latest" | "pending") => withRetry(() => publicClient.getTransactionCount({ address: account.address, blockTag }));
  const head = () => withRetry(() => publicClient.getBlockNumber({ cacheTime: 0 }));

  function record(p: InFlight, hash: Hex, status: "sent" | "confirmed" | "failed") {
    params.store?.putTx({ nonce: p.nonce, kind: p.intent.kind, payload: { to: p.intent.to, data: p.intent.data }, hash, status });
  }

  /** Signs and sends the current attempt of `p` (its nonce, gas and fees); returns the hash. */
  async function transmit(p: InFlight): Promise<Hex> {
    const tx = {
      account,
      chain: walletClient.chain,
      to: p.intent.to,
      data: p.intent.data,
      value: p.intent.value,
      gas: p.gas,
      nonce: p.nonce,
      maxFeePerGas: p.maxFeePerGas,
      maxPriorityFeePerGas: p.maxPriorityFeePerGas,
    };
    let hash: Hex;
    if (local) {
      const signed = await walletClient.signTransaction(tx as never);
      hash = keccak256(signed);
      record(p, hash, "sent"); // before it is sent: a restart finds it (adopt)
      try {
        await withRetry(() => walletClient.sendRawTransaction({ serializedTransaction: signed }));
      } catch (error) {
        if (!alreadyKnown(error)) throw error;
      }
    } else {
      hash = await withRetry(() => walletClient.sendTransaction(tx as never));
      record(p, hash, "sent");
    }
    if (!p.hashes.includes(hash)) p.hashes.push(hash);
    params.metrics?.txSent.inc({ kind: p.intent.kind });
    params.log?.debug({ kind: p.intent.kind, nonce: p.nonce, hash, bumps: p.bumps }, "transaction sent");
    return hash;
  }

  /** Adopts our transactions of an earlier run that are still in the node's pool (once, before the first send). */
  async function adopt(): Promise<void> {
    adopted = true;
    if (!params.store) return;
    const mined = await count("latest");
    for (const t of params.store.listTxs("sent")) {
      if (t.hash === null || inflight.has(t.nonce) || t.nonce < mined - 256) continue;
      const payload = t.payload as { to: Address; data: Hex };
      if (t.nonce < mined) {
        // Mined (or replaced) since the earlier run stopped reading: a submit of the same calldata gets this receipt.
        const receipt = await publicClient.getTransactionReceipt({ hash: t.hash }).catch(() => undefined);
        params.store.putTx({ ...t, status: receipt?.status === "success" ? "confirmed" : "failed" });
        if (receipt) minedEarlier.set(`${payload.to.toLowerCase()}:${payload.data}`, receipt);
        continue;
      }
      const tx = await publicClient.getTransaction({ hash: t.hash }).catch(() => undefined);
      if (!tx || tx.blockNumber !== null) {
        params.store.putTx({ ...t, status: "failed" }); // dropped while we were down: the intent layer re-derives it
        continue;
      }
      inflight.set(t.nonce, {
        intent: { kind: t.kind, to: payload.to, data: payload.data, value: tx.value },
        nonce: t.nonce,
        gas: tx.gas,
        maxFeePerGas: tx.maxFeePerGas ?? tx.gasPrice ?? 0n,
        maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? tx.gasPrice ?? 0n,
        hashes: [t.hash],
        sentAt: await head(),
        bumps: 0,
        cancel: false,
      });
      params.log?.info({ kind: t.kind, nonce: t.nonce, hash: t.hash }, "adopted a pending transaction of an earlier run");
    }
    if (inflight.size > 0) nextNonce = Math.max(...inflight.keys()) + 1;
  }

  /** Sends a new intent with the next nonce; estimate and fees first (a revert rejects it and uses no nonce). */
  async function sendNew(job: Job): Promise<void> {
    const { intent } = job;
    const key = `${intent.to.toLowerCase()}:${intent.data}`;
    const earlier = minedEarlier.get(key);
    if (earlier) {
      // Read when this responder started: a reorg (or `evm_revert`) since may have taken its block away. Only a
      // receipt the chain still has, in a block the chain still has, counts; else the intent is sent anew.
      let current: TransactionReceipt | undefined;
      try {
        current = await canonicalReceipt(earlier.transactionHash);
      } catch (error) {
        job.reject?.(error); // cannot tell yet: the intent layer retries (the entry stays)
        return;
      }
      minedEarlier.delete(key);
      if (current) {
        if (current.status === "success") job.resolve?.(current);
        else job.reject?.(new TxRevertedError(intent, current));
        return;
      }
      params.log?.warn({ kind: intent.kind, hash: earlier.transactionHash }, "a transaction of an earlier run mined in a block the chain no longer has: sending the intent again");
    }
    // An adopted transaction with this calldata (sent by an earlier run): wait for it instead of sending again.
    for (const p of inflight.values()) {
      if (!p.resolve && !p.cancel && p.intent.to.toLowerCase() === intent.to.toLowerCase() && p.intent.data === intent.data) {
        p.resolve = job.resolve;
        p.reject = job.reject;
        return;
      }
    }
    let gas: bigint;
    let fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    try {
      gas = intent.gas ?? ((await withRetry(() => publicClient.estimateGas({ account, to: intent.to, data: intent.data, value: intent.value }))) * 12n) / 10n + (intent.gasHeadroom ?? 0n);
      fees = (await withRetry(() => publicClient.estimateFeesPerGas())) as typeof fees;
    } catch (error) {
      job.reject?.(error);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      // Nothing in flight: the chain says what the next nonce is (resynchronises one that ran ahead of it).
      if (inflight.size === 0 || nextNonce === undefined) nextNonce = await count("pending").catch(() => nextNonce ?? 0);
      const p: InFlight = { ...job, nonce: nextNonce!, gas, ...fees, hashes: [], sentAt: 0n, bumps: 0, cancel: false };
      try {
        p.sentAt = await head();
        await transmit(p);
        nextNonce = p.nonce + 1;
        inflight.set(p.nonce, p);
        return;
      } catch (error) {
        if (nonceTooLow(error) && attempt < 3) {
          params.log?.warn({ nonce: p.nonce, error: shortError(error) }, "nonce too low: resynchronising with the chain");
          nextNonce = Math.max(await count("pending"), p.nonce + (inflight.size > 0 ? 1 : 0));
          if (inflight.size === 0) nextNonce = undefined;
          continue;
        }
        job.reject?.(error);
        return;
      }
    }
  }

  function settle(p: InFlight, outcome: { receipt?: TransactionReceipt; error?: unknown }) {
    inflight.delete(p.nonce);
    if (outcome.receipt) {
      const ok = outcome.receipt.status === "success";
      record(p, outcome.receipt.transactionHash, ok ? "confirmed" : "failed");
      if (!ok) {
        params.metrics?.txFailed.inc({ kind: p.intent.kind });
        p.reject?.(new TxRevertedError(p.intent, outcome.receipt));
      } else p.resolve?.(outcome.receipt);
      return;
    }
    params.metrics?.txFailed.inc({ kind: p.intent.kind });
    p.reject?.(outcome.error);
  }

  /**
   * The receipt of `hash` if the chain has it now, in a block it still has (its hash at that height); undefined if
   * not (never mined, or mined in a block a reorg took away). RPC failures throw.
   */
  async function canonicalReceipt(hash: Hex): Promise<TransactionReceipt | undefined> {
    const receipt = await withRetry(() => publicClient.getTransactionReceipt({ hash })).catch((error: unknown) => {
      if ((error as Error)?.name === "TransactionReceiptNotFoundError") return undefined;
      throw error;
    });
    if (!receipt) return undefined;
    const block = await withRetry(() => publicClient.getBlock({ blockNumber: receipt.blockNumber })).catch((error: unknown) => {
      if ((error as Error)?.name === "BlockNotFoundError") return undefined;
      throw error;
    });
    return block?.hash === receipt.blockHash ? receipt : undefined;
  }

  async function receiptOf(p: InFlight): Promise<TransactionReceipt | undefined> {
    for (const h of p.hashes) {
      const r = await publicClient.getTransactionReceipt({ hash: h }).catch(() => undefined);
      if (r) return r;
    }
    return undefined;
  }

  /** Replaces `p` (same nonce) with bumped fees; after `maxBumps`, gives its caller up and fills the nonce. */
  async function replace(p: InFlight, now: bigint, why: string): Promise<void> {
    if (p.bumps >= maxBumps) {
      if (p.cancel) {
        inflight.delete(p.nonce); // give up on the filler too; the chain's nonce is read again when idle
        return;
      }
      params.metrics?.txFailed.inc({ kind: p.intent.kind });
      p.reject?.(new TxNotMinedError(p.intent, p.nonce, [...p.hashes]));
      // The nonce must still be used, or everything behind it waits: a 0-value self-transfer replaces the intent.
      Object.assign(p, { intent: { kind: "cancel", to: account.address, data: "0x" as Hex, value: 0n }, gas: 21_000n, cancel: true, bumps: 0, resolve: undefined, reject: undefined });
    }
    p.maxFeePerGas = bump(p.maxFeePerGas);
    p.maxPriorityFeePerGas = bump(p.maxPriorityFeePerGas);
    p.bumps++;
    p.sentAt = now;
    params.log?.info({ kind: p.intent.kind, nonce: p.nonce, maxFeePerGas: p.maxFeePerGas.toString(), why }, "replacing a transaction");
    try {
      await transmit(p);
    } catch (error) {
      if (nonceTooLow(error)) return; // mined meanwhile (or replaced): the next poll finds out
      params.log?.warn({ kind: p.intent.kind, nonce: p.nonce, error: shortError(error) }, "replacement not accepted; retrying next poll");
    }
  }

  /** One pass over the in-flight transactions: receipts, replaced, dropped, stuck, gaps. */
  async function track(): Promise<void> {
    const [mined, now] = await Promise.all([count("latest"), head()]);
    const sorted = [...inflight.values()].sort((a, b) => a.nonce - b.nonce);
    for (const p of sorted) {
      if (p.nonce >= mined) continue;
      const receipt = await receiptOf(p);
      if (receipt) settle(p, { receipt });
      else if (p.cancel) inflight.delete(p.nonce);
      else {
        params.log?.warn({ kind: p.intent.kind, nonce: p.nonce }, "nonce used by a transaction that is not ours: giving the intent back");
        settle(p, { error: new TxReplacedError(p.intent, p.nonce) });
      }
    }
    const waiting = [...inflight.values()].sort((a, b) => a.nonce - b.nonce);
    if (waiting.length === 0) {
      // Nothing in flight: if the chain's nonce went backwards (a reorg took mined ones), the next send reads it again.
      if (nextNonce !== undefined && mined < nextNonce) nextNonce = undefined;
      return;
    }
    const pending = await count("pending");
    for (const p of waiting) {
      if (!inflight.has(p.nonce)) continue;
      let dropped = false;
      if (pending <= p.nonce) {
        const last = p.hashes.at(-1)!;
        dropped = (await publicClient.getTransaction({ hash: last }).catch(() => undefined)) === undefined;
      }
      if (dropped) await replace(p, now, "dropped from the node's pool");
      else if (now >= p.sentAt + bumpAfterBlocks) await replace(p, now, `not mined within ${bumpAfterBlocks} blocks`);
    }
    // A hole below the in-flight nonces (a reorg or a drop of a transaction no longer tracked): fill it.
    const lowest = Math.min(...inflight.keys());
    for (let n = mined; n < lowest; n++) {
      const fees = (await withRetry(() => publicClient.estimateFeesPerGas())) as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
      const p: InFlight = {
        intent: { kind: "cancel", to: account.address, data: "0x", value: 0n },
        nonce: n,
        gas: 21_000n,
        maxFeePerGas: bump(bump(fees.maxFeePerGas)),
        maxPriorityFeePerGas: bump(bump(fees.maxPriorityFeePerGas)),
        hashes: [],
        sentAt: now,
        bumps: 0,
        cancel: true,
      };
      params.log?.warn({ nonce: n }, "nonce gap below the transactions in flight: filling it");
      try {
        await transmit(p);
        inflight.set(n, p);
      } catch (error) {
        params.log?.warn({ nonce: n, error: shortError(error) }, "could not fill the nonce gap yet");
      }
    }
  }

  async function run(): Promise<void> {
    try {
      if (!adopted) await adopt().catch((error: Error) => params.log?.warn({ error: shortError(error) }, "could not read earlier transactions"));
      while (queue.length > 0 || inflight.size > 0) {
        while (queue.length > 0 && [...inflight.values()].filter((p) => !p.cancel).length < window) await sendNew(queue.shift()!);
        if (inflight.size === 0) continue;
        try {
          await track();
        } catch (error) {
          params.log?.warn({ error: shortError(error) }, "receipt tracking failed; retrying");
        }
        if (inflight.size > 0) await sleep(pollIntervalMs);
      }
    } finally {
      pump = undefined;
      if (queue.length > 0 || inflight.size > 0) start();
      else {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  function start() {
    if (!pump) pump = run();
  }

  return {
    address: account.address,
    submit(intent) {
      return new Promise<TransactionReceipt>((resolve, reject) => {
        queue.push({ intent, resolve, reject });
        start();
      });
    },
    idle: () => (pump ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
  };
}

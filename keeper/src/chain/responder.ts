/**
 * The responder: the only component that holds the operator's wallet and sends transactions.
 *
 * One nonce lane: intents are sent strictly one after another, in submission order, each with the
 * next nonce. A transaction not mined within `bumpAfterBlocks` blocks is replaced (same nonce) with
 * fees raised by 12.5% + 1 wei (the usual mempool replacement rule), up to `maxBumps` times. Each
 * send is recorded in the store so a restarted keeper knows which nonces were in flight.
 *
 * Simulation happens before sending: an intent that would revert is rejected with the decoded
 * revert instead of burning gas.
 */
import type { Account, Address, Chain, Hex, PublicClient, TransactionReceipt, Transport, WalletClient } from "viem";
import { KeeperError } from "../errors.ts";
import type { Logger } from "../service/logger.ts";
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
}

export class TxRevertedError extends KeeperError {
  override name = "TxRevertedError";
  constructor(
    readonly intent: TxIntent,
    readonly receipt: TransactionReceipt,
  ) {
    super(`Transaction ${intent.kind} (${receipt.transactionHash}) reverted in block ${receipt.blockNumber}`);
  }
}

export class TxNotMinedError extends KeeperError {
  override name = "TxNotMinedError";
  constructor(readonly intent: TxIntent, readonly nonce: number, readonly hashes: Hex[]) {
    super(`Transaction ${intent.kind} with nonce ${nonce} was not mined after ${hashes.length} attempts`, {
      retryable: true,
    });
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
  /** How often to look for the receipt. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Responder {
  readonly address: Address;
  /** Sends `intent` after every earlier intent, and resolves with its successful receipt. */
  submit(intent: TxIntent): Promise<TransactionReceipt>;
  /** Resolves when every submitted intent is settled. */
  idle(): Promise<void>;
}

const bump = (fee: bigint) => fee + fee / 8n + 1n;

export function createResponder(params: ResponderParams): Responder {
  const { publicClient, walletClient } = params;
  const account = walletClient.account;
  const bumpAfterBlocks = BigInt(params.bumpAfterBlocks ?? 3);
  const maxBumps = params.maxBumps ?? 5;
  const pollIntervalMs = params.pollIntervalMs ?? 250;
  const sleep = params.sleep ?? defaultSleep;
  let lane: Promise<unknown> = Promise.resolve();
  let nextNonce: number | undefined;

  async function send(intent: TxIntent): Promise<TransactionReceipt> {
    const pending = await withRetry(() =>
      publicClient.getTransactionCount({ address: account.address, blockTag: "pending" }),
    );
    const nonce = Math.max(pending, nextNonce ?? 0);
    // Simulate first: a revert surfaces here, decoded, and nothing is spent.
    const gas =
      intent.gas ??
      ((await withRetry(() =>
        publicClient.estimateGas({
          account,
          to: intent.to,
          data: intent.data,
          value: intent.value,
        }),
      )) *
        12n) /
        10n;
    const fees = await withRetry(() => publicClient.estimateFeesPerGas());
    let maxFeePerGas = fees.maxFeePerGas;
    let maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
    const hashes: Hex[] = [];

    for (let attempt = 0; attempt <= maxBumps; attempt++) {
      const hash = await withRetry(() =>
        walletClient.sendTransaction({
          account,
          chain: walletClient.chain,
          to: intent.to,
          data: intent.data,
          value: intent.value,
          gas,
          nonce,
          maxFeePerGas,
          maxPriorityFeePerGas,
        }),
      );
      hashes.push(hash);
      nextNonce = nonce + 1;
      params.metrics?.txSent.inc({ kind: intent.kind });
      params.store?.putTx({ nonce, kind: intent.kind, payload: { to: intent.to, data: intent.data }, hash, status: "sent" });
      params.log?.debug({ kind: intent.kind, nonce, hash, attempt }, "transaction sent");

      const sentAt = await withRetry(() => publicClient.getBlockNumber({ cacheTime: 0 }));
      for (;;) {
        for (const h of hashes) {
          const receipt = await publicClient.getTransactionReceipt({ hash: h }).catch(() => undefined);
          if (receipt) {
            params.store?.putTx({
              nonce,
              kind: intent.kind,
              payload: { to: intent.to, data: intent.data },
              hash: h,
              status: receipt.status === "success" ? "confirmed" : "failed",
            });
            if (receipt.status !== "success") {
              params.metrics?.txFailed.inc({ kind: intent.kind });
              throw new TxRevertedError(intent, receipt);
            }
            return receipt;
          }
        }
        const head = await withRetry(() => publicClient.getBlockNumber({ cacheTime: 0 }));
        if (head >= sentAt + bumpAfterBlocks) break;
        await sleep(pollIntervalMs);
      }
      maxFeePerGas = bump(maxFeePerGas);
      maxPriorityFeePerGas = bump(maxPriorityFeePerGas);
      params.log?.info({ kind: intent.kind, nonce, maxFeePerGas: maxFeePerGas.toString() }, "replacing stuck transaction");
    }
    params.metrics?.txFailed.inc({ kind: intent.kind });
    throw new TxNotMinedError(intent, nonce, hashes);
  }

  return {
    address: account.address,
    submit(intent) {
      const result = lane.then(() => send(intent));
      // The lane continues after a failure: one bad intent must not block the ones behind it.
      lane = result.catch(() => undefined);
      return result;
    },
    idle: () => lane.then(() => undefined),
  };
}

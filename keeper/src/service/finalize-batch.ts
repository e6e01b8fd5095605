/**
 * Packing due finalizations into `TaskManager.finalizeMany` transactions (docs/protocol.md §1.6, §6.0). Pure: no I/O.
 * Each id needs its on-chain reserve (`finalizeGasReserve`: the contract skips an id when less gas is left), so a
 * transaction holds ids in order while the sum of their reserves fits the budget `finalizeGasPerTx`, and at most
 * `maxBatch` (`MAX_FINALIZE_BATCH`) ids. An id whose reserve alone exceeds the budget goes in a transaction of its
 * own (a 5 M-gas callback must still be finalized).
 */

/** Fixed gas of one finalizeMany transaction besides the ids' reserves: intrinsic gas, calldata, the loop. */
export const FINALIZE_TX_OVERHEAD = 60_000n;
/** Calldata and loop cost per id on top of its reserve (32 calldata bytes, the skip checks). */
export const FINALIZE_PER_ID_OVERHEAD = 5_000n;

export interface DueFinalization {
  requestId: bigint;
  /** `TaskManager.finalizeGasReserve(requestId)`. */
  reserve: bigint;
}

export interface FinalizeBatch {
  requestIds: bigint[];
  /** The transaction's gas limit: every id's reserve fits, so the contract skips none for want of gas. */
  gas: bigint;
}

export function packFinalizations(due: readonly DueFinalization[], gasPerTx: bigint, maxBatch: number): FinalizeBatch[] {
  if (maxBatch < 1) throw new RangeError(`maxBatch must be at least 1, got ${maxBatch}`);
  const batches: FinalizeBatch[] = [];
  let ids: bigint[] = [];
  let gas = FINALIZE_TX_OVERHEAD;
  for (const { requestId, reserve } of due) {
    const need = reserve + FINALIZE_PER_ID_OVERHEAD;
    if (ids.length > 0 && (gas + need > gasPerTx || ids.length >= maxBatch)) {
      batches.push({ requestIds: ids, gas });
      ids = [];
      gas = FINALIZE_TX_OVERHEAD;
    }
    ids.push(requestId);
    gas += need;
  }
  if (ids.length > 0) batches.push({ requestIds: ids, gas });
  return batches;
}

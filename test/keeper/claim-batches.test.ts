/**
 * Requests served as a batch (issue 16, "batched requests served as a batch"; docs/protocol.md §6.0 "Batches"): the
 * pending MNIST requests a tick answers are computed as one batched run per model (Executor.runBatch), in-thread and
 * on a compute pool, and each is committed with exactly the output and traceRoot a run of its own gives.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, type Hex } from "viem";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
import { readClaimOpening } from "../../keeper/src/service/claims.ts";
import { createComputePool } from "../../keeper/src/service/compute-pool.ts";
import { createInThreadCompute } from "../../keeper/src/service/compute.ts";
import { resolveModelPath } from "../../keeper/src/service/models.ts";
import { keeperTestbed } from "./testbed.ts";

describe("a keeper computes the claims of pending requests as batches", () => {
  const tb = keeperTestbed();

  async function serveBatch(kind: "in-thread" | "pool", samples: number[]) {
    const ids: bigint[] = [];
    for (const k of samples) ids.push(await tb.request(k));
    const rt = await tb.runtime(mkdtempSync(join(tmpdir(), `oao-batch-${kind}-`)));
    const compute =
      kind === "pool" ? createComputePool({ threads: 1, modelFile: (id) => (id === 1n ? resolveModelPath("mnist") : undefined), log: rt.log }) : createInThreadCompute(rt.models);
    const keeper = tb.keeperOf(rt, { compute, fromBlock: (await rt.publicClient.getBlockNumber()) - BigInt(samples.length) });
    try {
      for (let i = 0; i < 200 && ids.some((id) => rt.store.getRequest(id)?.status !== "committed"); i++) {
        await keeper.tick();
        while (keeper.computing() > 0) await new Promise((r) => setTimeout(r, 5));
      }
      const batches = (await rt.metrics.registry.getSingleMetric("oao_keeper_claim_batches_total")?.get())?.values[0]?.value;
      return { ids, batches };
    } finally {
      await compute.close();
      rt.close();
    }
  }

  for (const kind of ["in-thread", "pool"] as const) {
    it(`${kind}: five requests in one batch, each committed with its own run's output and traceRoot`, async () => {
      const samples = kind === "pool" ? [10, 11, 12, 13, 14] : [20, 21, 22, 23, 24];
      const { ids, batches } = await serveBatch(kind, samples);
      expect(batches).toBe(1);
      for (const [i, id] of ids.entries()) {
        const task = await tb.core.taskManager.read.getTask([id]);
        const claim = await tb.core.taskManager.read.getClaim([task.standingClaimId]);
        const own = tb.executor.run(tb.inputOf(samples[i]!));
        // The trace root is in the claim's event (the chain keeps its hash with State_n until a challenge).
        const opening = await readClaimOpening(await tb.conn.viem.getPublicClient(), tb.core.taskManager.address, task.standingClaimId, 0n);
        expect(opening.traceRoot, `request ${id}`).toBe(toHex(own.trace.traceRoot));
        expect(claim.outputHash).toBe(keccak256(toHex(encodeTensor(own.output)) as Hex));
      }
    }, 120_000);
  }
});

/**
 * Issue 13 failure 9: /healthz must answer while the main thread computes. The keeper's tick blocks the main thread
 * in a busy loop (~1.5 s, standing for a GPT-2 inference or a guest run); an HTTP client in another thread polls
 * /healthz and /readyz and counts its answers in shared memory. Answers counted while the main thread never yielded
 * prove the ops server runs off it (ordering, not timing: nothing here asserts a duration).
 */
import { describe, it, expect } from "vitest";
import { Worker } from "node:worker_threads";
import { network } from "hardhat";
import { createPublicClient, custom, type Address, type PublicClient } from "viem";
import { startOpsServer } from "./http.ts";
import { createKeeper } from "./keeper.ts";
import { createLogger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { ModelBook } from "./models.ts";
import { openStore } from "../store/store.ts";
import type { Responder } from "../chain/responder.ts";

const A = "0x00000000000000000000000000000000000000a1" as Address;

const CLIENT = `
const { workerData } = require("node:worker_threads");
const c = new Int32Array(workerData.shared);
(async () => {
  while (Atomics.load(c, 7) === 0) {
    for (const [path, slot] of [["/healthz", 0], ["/readyz", 2]]) {
      try {
        const r = await fetch(workerData.url + path);
        await r.text();
        Atomics.store(c, slot + 1, r.status);
        Atomics.add(c, slot, 1);
      } catch {
        Atomics.add(c, 6, 1);
      }
    }
  }
})();
`;

describe("ops server off the main thread", () => {
  it("/healthz and /readyz answer while a tick blocks the main thread", async () => {
    const conn = await network.create();
    const publicClient = createPublicClient({ transport: custom(conn.provider) }) as PublicClient;
    const responder: Responder = { address: A, submit: () => Promise.reject(new Error("none")), idle: async () => {} };
    const metrics = createMetrics({ defaultMetrics: false });
    const shared = new SharedArrayBuffer(8 * 4);
    const c = new Int32Array(shared);
    let block = false;
    let during: { health: number; ready: number; healthStatus: number; readyStatus: number } | undefined;
    const keeper = createKeeper({
      publicClient,
      responder,
      addresses: { aiOracle: A, taskManager: A, staking: A },
      store: openStore(":memory:"),
      models: new ModelBook(),
      log: createLogger({ level: "silent" }),
      metrics,
      confirmations: 0,
      fromBlock: 0n,
      disputes: {
        onGameCreated() {},
        async tick() {
          if (!block || during) return;
          // The main thread computes: no await, no I/O, for ~1.5 s.
          const health0 = Atomics.load(c, 0);
          const ready0 = Atomics.load(c, 2);
          const until = performance.now() + 1_500;
          while (performance.now() < until) {
            /* busy */
          }
          during = { health: Atomics.load(c, 0) - health0, ready: Atomics.load(c, 2) - ready0, healthStatus: Atomics.load(c, 1), readyStatus: Atomics.load(c, 3) };
        },
      },
    });
    await keeper.tick(); // synced: ready
    const ops = await startOpsServer({ host: "127.0.0.1", port: 0, metrics, readiness: () => keeper.readiness(), loop: () => ({ state: keeper.loopState(), boundMs: keeper.readyWithinMs }) });
    const client = new Worker(CLIENT, { eval: true, workerData: { url: ops.url, shared } });
    try {
      while (Atomics.load(c, 0) === 0 || Atomics.load(c, 2) === 0) await new Promise((r) => setTimeout(r, 10));
      block = true;
      await keeper.tick(); // blocks the main thread inside the tick
      expect(during).toBeDefined();
      expect(during!.health).toBeGreaterThan(0); // /healthz answered while the main thread was busy
      expect(during!.healthStatus).toBe(200); // computing is healthy
      expect(during!.ready).toBeGreaterThan(0); // /readyz too (from the last snapshot)
      expect(during!.readyStatus).toBe(200);
      expect(Atomics.load(c, 6)).toBe(0);
    } finally {
      Atomics.store(c, 7, 1);
      await client.terminate();
      await ops.close();
    }
  });
});

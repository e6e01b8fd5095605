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
        if (slot === 0 && r.status === 503) Atomics.store(c, 5, 1);
        Atomics.add(c, slot, 1);
      } catch {
        Atomics.add(c, 6, 1);
      }
    }
  }
})();
`;

describe("ops server off the main thread", () => {
  /** A keeper whose next tick blocks the main thread ~1.5 s, its ops server, and a client thread polling it. */
  async function blockedTick(ops: { healthBoundMs?: number; heartbeatMs?: number }) {
    const conn = await network.create();
    const publicClient = createPublicClient({ transport: custom(conn.provider) }) as PublicClient;
    const responder: Responder = { address: A, submit: () => Promise.reject(new Error("none")), idle: async () => {} };
    const metrics = createMetrics({ defaultMetrics: false });
    const shared = new SharedArrayBuffer(8 * 4);
    const c = new Int32Array(shared);
    let block = false;
    let during: { health: number; ready: number; healthStatus: number; readyStatus: number; unhealthySeen: boolean } | undefined;
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
          during = {
            health: Atomics.load(c, 0) - health0,
            ready: Atomics.load(c, 2) - ready0,
            healthStatus: Atomics.load(c, 1),
            readyStatus: Atomics.load(c, 3),
            unhealthySeen: Atomics.load(c, 5) === 1,
          };
        },
      },
    });
    await keeper.tick(); // synced: ready
    const server = await startOpsServer({
      host: "127.0.0.1",
      port: 0,
      metrics,
      readiness: () => keeper.readiness(),
      loop: () => ({ state: keeper.loopState(), boundMs: keeper.readyWithinMs }),
      ...ops,
    });
    const client = new Worker(CLIENT, { eval: true, workerData: { url: server.url, shared } });
    try {
      while (Atomics.load(c, 0) === 0 || Atomics.load(c, 2) === 0) await new Promise((r) => setTimeout(r, 10));
      expect(Atomics.load(c, 5)).toBe(0); // healthy before the block
      block = true;
      await keeper.tick(); // blocks the main thread inside the tick
      return { during: during!, failures: Atomics.load(c, 6) };
    } finally {
      Atomics.store(c, 7, 1);
      await client.terminate();
      await server.close();
    }
  }

  it("/healthz and /readyz answer while a tick blocks the main thread", async () => {
    const { during, failures } = await blockedTick({});
    expect(during.health).toBeGreaterThan(0); // /healthz answered while the main thread was busy
    expect(during.healthStatus).toBe(200); // computing is healthy
    expect(during.ready).toBeGreaterThan(0); // /readyz too (from the last snapshot)
    expect(during.readyStatus).toBe(200);
    expect(failures).toBe(0);
  });

  it("a main loop blocked past the health bound shows as unhealthy (503) while it is blocked", async () => {
    const { during } = await blockedTick({ healthBoundMs: 300, heartbeatMs: 50 }); // the block (1.5 s) outlasts the bound
    expect(during.health).toBeGreaterThan(0);
    expect(during.unhealthySeen).toBe(true);
  });
});

import { describe, it, expect } from "vitest";
import { startOpsServer } from "./http.ts";
import { createMetrics } from "./metrics.ts";

describe("ops server", () => {
  it("serves healthz, readyz and metrics", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let ready = false;
    const server = await startOpsServer({ host: "127.0.0.1", port: 0, metrics, readiness: () => ({ ready, reason: "syncing" }) });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: "not ready", reason: "syncing" });
      ready = true;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      metrics.commits.inc();
      const body = await (await fetch(`${server.url}/metrics`)).text();
      expect(body).toContain("oao_keeper_commits_total 1");
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect((await fetch(`${server.url}/healthz`, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

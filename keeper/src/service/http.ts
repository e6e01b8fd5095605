/** The keeper's operations endpoint: /healthz (process alive), /readyz (synced and able to act), /metrics. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KeeperMetrics } from "./metrics.ts";

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(params: {
  host: string;
  port: number;
  metrics: KeeperMetrics;
  readiness: () => Readiness;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
    } else if (path === "/readyz") {
      const r = params.readiness();
      res
        .writeHead(r.ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: r.ready ? "ready" : "not ready", reason: r.reason }));
    } else if (path === "/metrics") {
      params.metrics.registry
        .metrics()
        .then((body) => res.writeHead(200, { "content-type": params.metrics.registry.contentType }).end(body))
        .catch((error: Error) => res.writeHead(500).end(error.message));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(params.port, params.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/**
 * The ops server's thread (docs/protocol.md §6.0 "Ops endpoints"): serves /healthz, /readyz and /metrics while the
 * main thread computes (an inference, a guest run, a long tick). The main thread writes a heartbeat (Date.now(), in
 * a SharedArrayBuffer) whenever its event loop runs, and answers state requests when it can; this thread asks it
 * for fresh readiness and metrics, waits at most `askTimeoutMs`, and otherwise serves the last snapshot the main
 * thread posted, its readiness re-evaluated with this thread's clock (so time-based bounds still move while the main
 * thread is blocked).
 *
 * Erasable TypeScript only: Node loads this file with type stripping (no loader in a worker).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { evaluateHealth, evaluateReadiness, type LoopState, type Readiness } from "./health.ts";

interface Snapshot {
  readiness: Readiness;
  loop?: { state: LoopState; boundMs: number };
  metrics?: { contentType: string; body: string };
}

const data = workerData as { host: string; port: number; heartbeat: SharedArrayBuffer; healthBoundMs: number; askTimeoutMs: number; fault?: string };
/** A cheating keeper (--fault) says so on every answer. */
const faultField = data.fault === undefined ? {} : { fault: data.fault };
const heartbeat = new BigInt64Array(data.heartbeat);
const port = parentPort!;
let last: Snapshot = { readiness: { ready: false, reason: "starting" } };
let asks = 0;
const waiting = new Map<number, (s: Snapshot) => void>();

port.on("message", (message: { type: string; id?: number; snapshot?: Snapshot }) => {
  if (message.type === "snapshot" && message.snapshot) {
    last = { ...last, ...message.snapshot };
    if (message.id !== undefined) waiting.get(message.id)?.(last);
  } else if (message.type === "close") {
    server.close(() => port.postMessage({ type: "closed" }));
  }
});

/** Fresh state from the main thread, or (when it does not answer in time: it is computing) the last one. */
function ask(what: "readiness" | "metrics"): Promise<{ snapshot: Snapshot; fresh: boolean }> {
  const id = ++asks;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve({ snapshot: last, fresh: false });
    }, data.askTimeoutMs);
    waiting.set(id, (snapshot) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve({ snapshot, fresh: true });
    });
    port.postMessage({ type: "ask", id, what });
  });
}

function health() {
  return evaluateHealth(Number(Atomics.load(heartbeat, 0)), Date.now(), data.healthBoundMs);
}

function readinessOf(snapshot: Snapshot, fresh: boolean): Readiness {
  const h = health();
  if (!h.healthy) return { ready: false, reason: `the main loop has not run for ${Math.round(h.mainLoopLagMs / 1000)} s` };
  if (fresh || snapshot.loop === undefined) return snapshot.readiness;
  const fromLoop = evaluateReadiness(snapshot.loop.state, Date.now(), snapshot.loop.boundMs);
  return snapshot.readiness.ready ? fromLoop : snapshot.readiness;
}

const json = (res: import("node:http").ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET") {
    res.writeHead(405, { allow: "GET" }).end();
    return;
  }
  if (path === "/healthz") {
    const h = health();
    json(res, h.healthy ? 200 : 503, { status: h.healthy ? "ok" : "unhealthy", mainLoopLagMs: h.mainLoopLagMs, ...faultField });
  } else if (path === "/readyz") {
    void ask("readiness").then(({ snapshot, fresh }) => {
      const r = readinessOf(snapshot, fresh);
      json(res, r.ready ? 200 : 503, { status: r.ready ? "ready" : "not ready", reason: r.reason, ...faultField });
    });
  } else if (path === "/metrics") {
    void ask("metrics").then(({ snapshot }) => {
      if (!snapshot.metrics) res.writeHead(503).end("no metrics yet");
      else res.writeHead(200, { "content-type": snapshot.metrics.contentType }).end(snapshot.metrics.body);
    });
  } else {
    res.writeHead(404).end();
  }
});
server.on("error", (error) => port.postMessage({ type: "error", message: error.message }));
server.listen(data.port, data.host, () => {
  const { address, port: p } = server.address() as AddressInfo;
  port.postMessage({ type: "listening", url: `http://${address}:${p}` });
});

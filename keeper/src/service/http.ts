/**
 * The keeper's operations endpoint: /healthz (the main loop is alive), /readyz (synced and able to act), /metrics.
 *
 * The HTTP server runs in a worker thread (keeper/src/service/ops-worker.ts), so it answers while the main thread
 * computes (an inference or a guest run blocks the event loop for seconds). The main thread publishes a heartbeat
 * (every `heartbeatMs`, in a SharedArrayBuffer), and its readiness and metrics: on each heartbeat and whenever the
 * worker asks. /healthz reports the heartbeat's age and is unhealthy past `healthBoundMs` (a hung main loop).
 */
import { startTsWorker } from "./ts-worker.ts";
import type { KeeperMetrics } from "./metrics.ts";
import type { LoopState, Readiness } from "./health.ts";

export type { Readiness } from "./health.ts";

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(params: {
  host: string;
  port: number;
  metrics: KeeperMetrics;
  readiness: () => Readiness;
  /** The service loop's state, so the worker can re-evaluate readiness with its own clock while the main thread is busy. */
  loop?: () => { state: LoopState; boundMs: number };
  /** /healthz is unhealthy when the main loop has not run for longer than this (default 60 s). */
  healthBoundMs?: number;
  heartbeatMs?: number;
  /** How long the worker waits for fresh state from the main thread before serving the last snapshot (default 100 ms). */
  askTimeoutMs?: number;
  /** An injected fault (`oao keeper run --fault`): shown on /healthz and /readyz. */
  fault?: string;
}): Promise<OpsServer> {
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new BigInt64Array(heartbeat);
  Atomics.store(beat, 0, BigInt(Date.now()));
  const workerData = { host: params.host, port: params.port, heartbeat, healthBoundMs: params.healthBoundMs ?? 60_000, askTimeoutMs: params.askTimeoutMs ?? 100, fault: params.fault };
  const file = new URL("./ops-worker.ts", import.meta.url);
  const worker = startTsWorker(file, { workerData });
  const snapshot = async (what: "readiness" | "metrics" | "all") => {
    const s: Record<string, unknown> = {};
    if (what !== "metrics") {
      s.readiness = params.readiness();
      if (params.loop) s.loop = params.loop();
    }
    if (what !== "readiness") s.metrics = { contentType: params.metrics.registry.contentType, body: await params.metrics.registry.metrics() };
    return s;
  };
  worker.on("message", (message: { type: string; id?: number; what?: "readiness" | "metrics" }) => {
    if (message.type !== "ask") return;
    void snapshot(message.what ?? "all").then((s) => worker.postMessage({ type: "snapshot", id: message.id, snapshot: s }));
  });
  const timer = setInterval(() => {
    Atomics.store(beat, 0, BigInt(Date.now()));
    void snapshot("all").then((s) => worker.postMessage({ type: "snapshot", snapshot: s }));
  }, params.heartbeatMs ?? 250);
  timer.unref(); // the worker keeps the process alive until `close`
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (m: { type: string; url?: string; message?: string }) => {
      if (m.type === "listening") resolve(m.url!);
      else if (m.type === "error") reject(new Error(`ops server: ${m.message}`));
      else return;
      worker.off("message", onMessage);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
  worker.postMessage({ type: "snapshot", snapshot: await snapshot("all") });
  return {
    url,
    close: async () => {
      clearInterval(timer);
      const closed = new Promise<void>((resolve) => worker.on("message", (m: { type: string }) => m.type === "closed" && resolve()));
      worker.postMessage({ type: "close" });
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
      await worker.terminate();
    },
  };
}

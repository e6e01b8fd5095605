/**
 * An HTTP JSON-RPC proxy in front of a node, for fault injection: it forwards every call and, as told, drops
 * calls (closes the connection), answers them with an HTTP 503 or a JSON-RPC error, delays them, refuses
 * `eth_sendRawTransaction` (HTTP 503) for a while, or freezes (holds every call unanswered until thawed).
 * Random faults come from a seeded generator: a run is reproducible from its seed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "../../../keeper/graph/fixtures.ts";

export { seededRandom };

export interface RandomFaults {
  /** Probability a call is dropped (connection destroyed, no answer). */
  drop?: number;
  /** Probability a call gets HTTP 503. */
  httpError?: number;
  /** Probability a call gets a JSON-RPC error (-32603). */
  rpcError?: number;
  /** Probability a call is delayed by up to `maxDelayMs`. */
  delay?: number;
  maxDelayMs?: number;
}

export interface FaultProxy {
  url: string;
  /** Calls forwarded and faults injected so far (by method). */
  stats: { calls: number; faults: number; sendsRefused: number; byMethod: Record<string, number> };
  /** Random faults from now on (seeded); `{}` stops them. */
  setRandom(faults: RandomFaults, seed?: number): void;
  /** Refuse eth_sendRawTransaction (HTTP 503) until `refuseSends(false)`, or for `ms`. */
  refuseSends(on: boolean | number): void;
  /** Hold every call unanswered until `thaw()` (a frozen node behind a live TCP endpoint). */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  let random: RandomFaults = {};
  let rand = seededRandom(1);
  let refuseUntil = 0;
  let frozen = false;
  const held: (() => void)[] = [];
  const stats = { calls: 0, faults: 0, sendsRefused: 0, byMethod: {} as Record<string, number> };

  const forward = async (body: string, res: ServerResponse) => {
    try {
      const r = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
      res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
    } catch (error) {
      res.writeHead(502).end(String((error as Error).message));
    }
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let methods: string[] = [];
    let ids: unknown[] = [];
    try {
      const parsed = JSON.parse(body) as { method: string; id: unknown } | { method: string; id: unknown }[];
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      methods = calls.map((c) => c.method);
      ids = calls.map((c) => c.id);
    } catch {
      // not JSON: forwarded as is (the node answers with its own error)
    }
    stats.calls++;
    for (const m of methods) stats.byMethod[m] = (stats.byMethod[m] ?? 0) + 1;
    if (frozen) {
      await new Promise<void>((resume) => held.push(resume));
    }
    if (methods.includes("eth_sendRawTransaction") && Date.now() < refuseUntil) {
      stats.faults++;
      stats.sendsRefused++;
      res.writeHead(503).end("transaction path down (fault proxy)");
      return;
    }
    const p = rand();
    let edge = 0;
    if (p < (edge += random.drop ?? 0)) {
      stats.faults++;
      req.socket.destroy();
      return;
    }
    if (p < (edge += random.httpError ?? 0)) {
      stats.faults++;
      res.writeHead(503).end("service unavailable (fault proxy)");
      return;
    }
    if (p < (edge += random.rpcError ?? 0)) {
      stats.faults++;
      const error = (id: unknown) => ({ jsonrpc: "2.0", id, error: { code: -32603, message: "internal error (fault proxy)" } });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ids.length === 1 ? error(ids[0]) : ids.map(error)));
      return;
    }
    if (p < (edge += random.delay ?? 0)) {
      stats.faults++;
      await new Promise((r) => setTimeout(r, Math.floor(rand() * (random.maxDelayMs ?? 2_000))));
    }
    await forward(body, res);
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const thaw = () => {
    frozen = false;
    for (const resume of held.splice(0)) resume();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setRandom(faults, seed = 1) {
      random = faults;
      rand = seededRandom(seed);
    },
    refuseSends(on) {
      refuseUntil = on === false ? 0 : on === true ? Number.POSITIVE_INFINITY : Date.now() + on;
    },
    freeze: () => void (frozen = true),
    thaw,
    async close() {
      thaw();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

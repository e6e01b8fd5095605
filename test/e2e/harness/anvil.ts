/**
 * A separate anvil node for end-to-end tests (npm @foundry-rs/anvil-linux-amd64, an optional dependency): started
 * on a free port with 1 s blocks, driven over JSON-RPC (snapshot/revert, time), frozen with SIGSTOP and thawed
 * with SIGCONT, killed at the end. `anvilAvailable` is false where the binary is absent (tests skip).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const ANVIL_BIN = `${ROOT}node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`;
export const anvilAvailable = existsSync(ANVIL_BIN);
export const ANVIL_MISSING = `anvil binary missing at ${ANVIL_BIN} (optional dependency @foundry-rs/anvil-linux-amd64): skipped`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let rpcIds = 0;
/** One JSON-RPC call to `url`; throws on an error answer. */
export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcIds, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export interface Anvil {
  url: string;
  process: ChildProcess;
  request<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  snapshot(): Promise<string>;
  /** evm_revert to a snapshot: the blocks after it disappear (a deep reorg to anyone watching). */
  revert(id: string): Promise<void>;
  blockNumber(): Promise<bigint>;
  /** A block every `seconds` from now on (no more block per transaction). */
  intervalMining(seconds: number): Promise<void>;
  /** No more blocks (transactions wait in the pool) until `intervalMining` or `mine`. */
  pauseMining(): Promise<void>;
  /** Mines one block now (with what the pool holds). */
  mine(): Promise<void>;
  /** The pool's pending transactions sent from `from` (txpool_content), lowest nonce first. */
  pendingFrom(from: string): Promise<{ hash: `0x${string}`; nonce: bigint; to: string | null; input: `0x${string}` }[]>;
  /** anvil_dropTransaction: the pool forgets `hash` (as a node that dropped it would); true if it held it. */
  dropTransaction(hash: `0x${string}`): Promise<boolean>;
  /** SIGSTOP: the node stops answering (connections hang), as a frozen node does. */
  freeze(): void;
  /** SIGCONT */
  thaw(): void;
  stop(): Promise<void>;
}

/** `blockTime` 0: a block per transaction (fast deployment; `intervalMining` switches to timed blocks later). */
export async function startAnvil(options: { blockTime?: number; accounts?: number } = {}): Promise<Anvil> {
  const port = await freePort();
  const blockTime = options.blockTime ?? 1;
  const proc = spawn(
    ANVIL_BIN,
    ["--port", String(port), ...(blockTime > 0 ? ["--block-time", String(blockTime)] : []), "--accounts", String(options.accounts ?? 20), "--silent"],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    up = await rpcCall(url, "eth_chainId").then(() => true, () => false);
    if (!up) await sleep(50);
  }
  if (!up) {
    proc.kill("SIGKILL");
    throw new Error(`anvil did not answer on ${url} within 10 s`);
  }
  return {
    url,
    process: proc,
    request: (method, params = []) => rpcCall(url, method, params),
    snapshot: () => rpcCall<string>(url, "evm_snapshot"),
    async revert(id) {
      const ok = await rpcCall<boolean>(url, "evm_revert", [id]);
      if (!ok) throw new Error(`evm_revert ${id} refused`);
    },
    async intervalMining(seconds) {
      await rpcCall(url, "evm_setAutomine", [false]);
      await rpcCall(url, "evm_setIntervalMining", [seconds]);
    },
    async pauseMining() {
      await rpcCall(url, "evm_setAutomine", [false]);
      await rpcCall(url, "evm_setIntervalMining", [0]);
    },
    async mine() {
      await rpcCall(url, "evm_mine");
    },
    async pendingFrom(from) {
      type PoolTx = { hash: `0x${string}`; nonce: string; to: string | null; input: `0x${string}` };
      const pool = await rpcCall<{ pending: Record<string, Record<string, PoolTx>> }>(url, "txpool_content");
      const mine = Object.entries(pool.pending ?? {}).find(([a]) => a.toLowerCase() === from.toLowerCase())?.[1] ?? {};
      return Object.values(mine)
        .map((t) => ({ hash: t.hash, nonce: BigInt(t.nonce), to: t.to, input: t.input }))
        .sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0));
    },
    async dropTransaction(hash) {
      const dropped = await rpcCall<string | null>(url, "anvil_dropTransaction", [hash]);
      return dropped !== null;
    },
    blockNumber: async () => BigInt(await rpcCall<string>(url, "eth_blockNumber")),
    freeze: () => void proc.kill("SIGSTOP"),
    thaw: () => void proc.kill("SIGCONT"),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await new Promise((r) => proc.once("exit", r));
    },
  };
}

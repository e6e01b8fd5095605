/**
 * `oao keeper run` as its own process for end-to-end tests: a config file in a fresh data directory, the
 * operator key in the environment, a fixed ops port; SIGKILL and restart on the same database; /readyz,
 * /healthz and /metrics read over HTTP; the process's stderr (JSON log lines) kept for assertions.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { freePort, ROOT, sleep } from "./anvil.ts";

export interface KeeperProcOptions {
  rpcUrl: string;
  contracts: { aiOracle: Address; taskManager: Address; staking: Address };
  key: Hex;
  /** Model id -> model entry ("mnist" or a directory). */
  models: Record<string, string>;
  startBlock?: number | bigint;
  /** Extra config fields (pollIntervalMs, rpcTimeoutMs, txWindow, …). */
  config?: Record<string, unknown>;
  /** `--fault SPEC`: a cheating keeper. */
  fault?: string;
  faultSeed?: number;
  /** Extra environment (e.g. OAO_TEST_CRASH_BEFORE_SEND) for the next start only. */
  env?: Record<string, string>;
  logLevel?: string;
  name?: string;
}

export interface KeeperProc {
  name: string;
  dataDir: string;
  configPath: string;
  opsUrl: string;
  process: ChildProcess;
  /** stderr so far (JSON log lines). */
  log(): string;
  /** Resolves with the exit's signal (or code) of the current process. */
  exited(): Promise<NodeJS.Signals | number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same database and config (after a kill), with `env` for this start only. */
  restart(env?: Record<string, string>): Promise<void>;
  readyz(): Promise<{ status: number; body: { status: string; reason?: string; fault?: string } } | undefined>;
  healthz(): Promise<{ status: number; body: { status: string; mainLoopLagMs: number; fault?: string } } | undefined>;
  /** A metric's value from /metrics (summed over labels), undefined when absent or unreachable. */
  metric(name: string): Promise<number | undefined>;
  /** Waits until /readyz answers (either way), i.e. the runtime is up and the ops server listens. */
  waitUp(timeoutMs?: number): Promise<void>;
}

export async function startKeeperProc(o: KeeperProcOptions): Promise<KeeperProc> {
  const name = o.name ?? "keeper";
  const dataDir = mkdtempSync(join(tmpdir(), `oao-e2e-${name}-`));
  const port = await freePort();
  const configPath = join(dataDir, "keeper.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      rpcUrl: o.rpcUrl,
      contracts: o.contracts,
      dataDir: "data",
      models: o.models,
      ...(o.startBlock !== undefined ? { startBlock: Number(o.startBlock) } : {}),
      confirmations: 0,
      pollIntervalMs: 200,
      http: { port },
      ...o.config,
    }),
  );
  let stderr = "";
  const spawnOne = (env: Record<string, string> = {}) => {
    const args = [`${ROOT}bin/oao.js`, "keeper", "run", "--config", configPath];
    if (o.fault) args.push("--fault", o.fault, ...(o.faultSeed !== undefined ? ["--fault-seed", String(o.faultSeed)] : []));
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, OAO_PRIVATE_KEY: o.key, OAO_LOG_LEVEL: o.logLevel ?? "warn", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
    });
    const exit = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
    return { child, exit };
  };
  let current = spawnOne(o.env);
  const opsUrl = `http://127.0.0.1:${port}`;
  const getJson = async <T>(path: string): Promise<{ status: number; body: T } | undefined> => {
    try {
      const res = await fetch(`${opsUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: (await res.json()) as T };
    } catch {
      return undefined;
    }
  };
  const proc: KeeperProc = {
    name,
    dataDir,
    configPath,
    opsUrl,
    get process() {
      return current.child;
    },
    log: () => stderr,
    exited: () => current.exit,
    async kill(signal = "SIGKILL") {
      if (current.child.exitCode !== null || current.child.signalCode !== null) return;
      current.child.kill(signal);
      await current.exit;
    },
    async restart(env) {
      await proc.kill();
      current = spawnOne(env);
    },
    readyz: () => getJson("/readyz"),
    healthz: () => getJson("/healthz"),
    async metric(metric) {
      try {
        const text = await (await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
        let sum: number | undefined;
        for (const line of text.split("\n")) {
          const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
          if (m && m[1] === metric) sum = (sum ?? 0) + Number(m[3]);
        }
        return sum;
      } catch {
        return undefined;
      }
    },
    async waitUp(timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (current.child.exitCode !== null || current.child.signalCode !== null) throw new Error(`${name} exited before serving /readyz:\n${stderr.slice(-3_000)}`);
        if (await proc.readyz()) return;
        await sleep(200);
      }
      throw new Error(`${name}: /readyz not answering after ${timeoutMs} ms:\n${stderr.slice(-3_000)}`);
    },
  };
  return proc;
}

/**
 * Keeper configuration: a JSON file, overridden by environment variables, validated with clear
 * errors that name the field and say what to fix. The private key is never part of the parsed
 * config that gets logged: it is loaded separately by `loadSigningKey`.
 */
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((value) => value as `0x${string}`);

export const keeperConfigSchema = z
  .object({
    rpcUrl: z.string().url("must be an http(s) or ws(s) URL, e.g. http://127.0.0.1:8545"),
    chainId: z.number().int().positive().optional(),
    contracts: z
      .object({
        aiOracle: address,
        taskManager: address,
        staking: address,
        disputeGame: address.optional(),
        preimageOracle: address.optional(),
      })
      .strict(),
    /** Where the SQLite database and trace caches live. */
    dataDir: z.string().min(1).default(".oao/keeper"),
    /** Model id -> model directory (or "mnist" for the shipped model). */
    models: z.record(z.string().regex(/^\d+$/, "model ids are decimal integers"), z.string().min(1)).default({}),
    /** First block to read when the database has no cursor yet (e.g. the deployment block). Default: the head. */
    startBlock: z.number().int().min(0).optional(),
    /** Blocks a log must be buried under before the keeper acts on it. */
    confirmations: z.number().int().min(0).max(64).default(1),
    pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
    /** Deadline of one JSON-RPC call (a frozen node fails calls instead of hanging the keeper). */
    rpcTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    http: z
      .object({
        host: z.string().default("127.0.0.1"),
        port: z.number().int().min(0).max(65_535).default(9464),
      })
      .strict()
      .default({}),
    /** Upper bound on queued work items; beyond it new requests wait on chain, not in memory. */
    maxQueue: z.number().int().min(1).max(1_000_000).default(1_000),
    /** Transactions in flight at once (sent with consecutive nonces, not mined yet); 1 waits for each receipt. */
    txWindow: z.number().int().min(1).max(256).default(64),
    /**
     * Operator addresses of the other honest keepers sharing the load (may include this keeper's own): each request
     * is committed first by the operator ranked first by keccak256(requestId, operator); the others wait
     * `commitBackoffBlocks` blocks per rank before committing (keeper/src/service/peers.ts).
     */
    peers: z.array(address).max(64, "at most 64 peers").default([]),
    /** Blocks a keeper waits per rank among `peers` before committing to a request. */
    commitBackoffBlocks: z.number().int().min(0).max(1_000).default(3),
    /** Gas budget of one finalizeMany transaction (due finalizations are packed by their on-chain reserves). */
    finalizeGasPerTx: z.number().int().min(500_000, "must be at least 500000 (one finalization with a small callback)").max(30_000_000).default(8_000_000),
    /**
     * Not ready ("backlog") while an answerable request of a served model is within this many seconds of its
     * deadline and not committed (the keeper is falling behind; the requester would get a refund, not an answer).
     */
    deadlineMarginSeconds: z.number().int().min(0, "must be 0 (only overdue requests) or more seconds").max(86_400, "must be at most 86400 s (one day)").default(300),
    /**
     * Worker threads computing claims (plus one more for dispute moves), so inference and guest runs never block the
     * keeper's loop; 0 computes everything on the main thread (docs/protocol.md §6.0 "Compute threads").
     */
    computeThreads: z.number().int().min(0).max(64).default(1),
    /** Refund (`expire`) requests of served models that expired unanswered; false: only forget them. */
    expireUnanswered: z.boolean().default(true),
    /** Fault injection for tests and demos only (issue 5): e.g. "graph:3", "silent". */
    fault: z.string().optional(),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  })
  .strict();

export type KeeperConfig = z.infer<typeof keeperConfigSchema>;

/** Environment variables that override file values (documented in docs/operator-guide.md). */
const ENV_OVERRIDES: Record<string, (config: Record<string, unknown>, value: string) => void> = {
  OAO_RPC_URL: (c, v) => (c.rpcUrl = v),
  OAO_DATA_DIR: (c, v) => (c.dataDir = v),
  OAO_LOG_LEVEL: (c, v) => (c.logLevel = v),
  OAO_HTTP_PORT: (c, v) => {
    c.http = { ...((c.http as object) ?? {}), port: Number(v) };
  },
};

export function formatZodError(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => `  ${source}: ${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("\n");
}

/** Parses and validates a config object (file content already merged with env). */
export function parseKeeperConfig(raw: unknown, source = "config"): KeeperConfig {
  const result = keeperConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`Invalid keeper configuration:\n${formatZodError(result.error, source)}`);
  }
  return result.data;
}

/** Reads `path` (JSON), applies env overrides, validates; relative dataDir resolves against the file. */
export function loadKeeperConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KeeperConfig {
  let raw: Record<string, unknown> = {};
  let source = "environment";
  if (path !== undefined) {
    source = path;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (cause) {
      throw new ConfigError(`Cannot read keeper config file ${path}: ${(cause as Error).message}`, { cause });
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new ConfigError(`Keeper config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new ConfigError(`Keeper config file ${path} must contain a JSON object`);
    }
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== "") apply(raw, value);
  }
  const config = parseKeeperConfig(raw, source);
  if (path !== undefined) config.dataDir = resolve(dirname(path), config.dataDir);
  return config;
}

/**
 * Loads the operator's private key from `OAO_PRIVATE_KEY` or the file named by
 * `OAO_PRIVATE_KEY_FILE` (or `keyFile`). The key is returned, never logged or stored.
 */
export function loadSigningKey(env: NodeJS.ProcessEnv = process.env, keyFile?: string): `0x${string}` {
  let key = env.OAO_PRIVATE_KEY;
  const file = keyFile ?? env.OAO_PRIVATE_KEY_FILE;
  if (!key && file) {
    try {
      key = readFileSync(file, "utf8").trim();
    } catch (cause) {
      throw new ConfigError(`Cannot read private key file ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  if (!key) {
    throw new ConfigError(
      "No operator key: set OAO_PRIVATE_KEY, or OAO_PRIVATE_KEY_FILE to a file holding a 0x-prefixed 32-byte hex key",
    );
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    // Never echo the value: it may be a real key with a typo.
    throw new ConfigError("The operator key must be 0x followed by 64 hex characters (32 bytes)");
  }
  return key as `0x${string}`;
}

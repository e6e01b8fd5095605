/**
 * The keeper's persistent store: an embedded SQLite database (Node's built-in `node:sqlite`), so a
 * keeper killed at any point (even SIGKILL in the middle of a dispute) resumes from what it last
 * committed to disk. Every write is one transaction; WAL mode with synchronous=FULL makes each
 * committed transaction durable.
 *
 * Values that are bigints on chain (ids, amounts) are stored as decimal TEXT: SQLite integers are
 * 64-bit and request ids need not fit.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StoreError } from "../errors.ts";

const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE requests (
     request_id TEXT PRIMARY KEY,
     model_id TEXT NOT NULL,
     requester TEXT NOT NULL,
     input BLOB NOT NULL,
     block_number INTEGER NOT NULL,
     status TEXT NOT NULL,
     error TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX requests_status ON requests(status);
   CREATE TABLE claims (
     claim_id TEXT PRIMARY KEY,
     request_id TEXT NOT NULL,
     operator TEXT NOT NULL,
     output BLOB,
     output_hash TEXT NOT NULL,
     trace_root TEXT NOT NULL,
     ours INTEGER NOT NULL,
     status TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX claims_request ON claims(request_id);
   CREATE TABLE games (
     game_id TEXT PRIMARY KEY,
     request_id TEXT NOT NULL,
     role TEXT NOT NULL,
     status TEXT NOT NULL,
     state TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE txs (
     nonce INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     hash TEXT,
     status TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // The intent log (docs/protocol.md §6.0): what the keeper decided to send, written before it is sent and
  // reconciled against the chain until the chain shows it happened or made it moot.
  `CREATE TABLE intents (
     kind TEXT NOT NULL,
     request_id TEXT NOT NULL,
     target TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT,
     not_before INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (kind, request_id, target)
   );
   CREATE INDEX intents_status ON intents(status, not_before);
   CREATE INDEX requests_status_order ON requests(status, block_number, request_id);`,
  // Reorgs (docs/protocol.md §6.0 "Reorgs"): the hash of the block a request was read from (a canonical-history
  // witness: a block hash commits to every block below it) and the last block of any event applied to it (what a
  // rollback to a block must undo).
  `ALTER TABLE requests ADD COLUMN block_hash TEXT;
   ALTER TABLE requests ADD COLUMN last_block INTEGER NOT NULL DEFAULT 0;
   UPDATE requests SET last_block = block_number;
   CREATE INDEX requests_last_block ON requests(last_block);`,
];

/**
 * pending: ours to answer; computing: our commit is decided (an open `commit` intent) and being sent;
 * committed: our claim stands; watching: another operator's claim stands and we check it; disputed: we
 * decided to challenge it (an open `challenge` intent) or did; expiring: it expired unanswered and we refund
 * it (an open `expire` intent); skipped: not a model we serve; failed: cannot be answered (the error says
 * why); cancelled: a game found it undecidable (§5.4) and it waits for its refund; done: settled.
 */
export type RequestStatus =
  | "pending"
  | "computing"
  | "committed"
  | "watching"
  | "disputed"
  | "expiring"
  | "skipped"
  | "failed"
  | "cancelled"
  | "done";
export type GameRole = "defender" | "challenger";

export interface StoredRequest {
  requestId: bigint;
  modelId: bigint;
  requester: `0x${string}`;
  input: Uint8Array;
  blockNumber: bigint;
  status: RequestStatus;
  error: string | null;
  /** Hash of the block the request was read from (absent in rows written before reorg handling). */
  blockHash?: `0x${string}`;
}

export interface StoredClaim {
  claimId: bigint;
  requestId: bigint;
  operator: `0x${string}`;
  output: Uint8Array | null;
  outputHash: `0x${string}`;
  traceRoot: `0x${string}`;
  ours: boolean;
  status: string;
}

export interface StoredGame<State = unknown> {
  gameId: bigint;
  requestId: bigint;
  role: GameRole;
  status: string;
  state: State;
}

export interface StoredTx {
  nonce: number;
  kind: string;
  payload: unknown;
  hash: `0x${string}` | null;
  status: "pending" | "sent" | "confirmed" | "failed";
}

/**
 * One decided action (commit, challenge or expire of a request; `target` is the standing claim a challenge is
 * against, 0 otherwise). open: still to be made or confirmed; done: the chain shows it happened; moot: the chain
 * made it unnecessary or impossible (`lastError` says why).
 */
export type IntentKind = "commit" | "challenge" | "expire";
export interface StoredIntent {
  kind: IntentKind;
  requestId: bigint;
  target: bigint;
  status: "open" | "done" | "moot";
  attempts: number;
  lastError: string | null;
  /** Not retried before this time (ms, the store's clock): the backoff after a transient failure. */
  notBefore: number;
}

/** Where a page of `listRequests` starts: after this row in (block number, request id) order. */
export interface RequestCursor {
  blockNumber: bigint;
  requestId: bigint;
}

type Row = Record<string, unknown>;

export interface KeeperStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  upsertRequest(request: StoredRequest): void;
  setRequestStatus(requestId: bigint, status: RequestStatus, error?: string): void;
  getRequest(requestId: bigint): StoredRequest | undefined;
  /** Records that an event of block `block` was applied to the request (what a rollback to a lower block undoes). */
  touchRequest(requestId: bigint, block: bigint): void;
  /** Requests some event of a block above `block` was applied to (their derived state is undone by a rollback). */
  listRequestsTouchedAfter(block: bigint): StoredRequest[];
  /** Forgets a request with its claims, intents and games (a rollback: its history is re-read from the chain). */
  deleteRequest(requestId: bigint): void;
  deleteClaim(claimId: bigint): void;
  /** Forgets a request's settled (done, moot) intents: the chain is asked again what is owed. */
  deleteSettledIntents(requestId: bigint): void;
  /** Distinct (block, hash) of stored requests at or below `atOrBelow`, highest first. */
  listRequestBlocks(atOrBelow: bigint, limit: number): { blockNumber: bigint; blockHash: `0x${string}` }[];
  /** Requests with `status` in (block, id) order, `limit` of them after `after` (paging through all of them). */
  listRequests(status: RequestStatus, limit?: number, after?: RequestCursor): StoredRequest[];
  countRequests(status?: RequestStatus): number;
  upsertClaim(claim: StoredClaim): void;
  getClaim(claimId: bigint): StoredClaim | undefined;
  listClaims(requestId: bigint): StoredClaim[];
  upsertGame<State>(game: StoredGame<State>): void;
  getGame<State>(gameId: bigint): StoredGame<State> | undefined;
  listGames<State>(status?: string): StoredGame<State>[];
  putIntent(intent: StoredIntent): void;
  getIntent(kind: IntentKind, requestId: bigint, target?: bigint): StoredIntent | undefined;
  /** Open intents of a request (any kind). */
  listRequestIntents(requestId: bigint): StoredIntent[];
  /** Intents with `status`, oldest retry time first; `dueBy`: only those with `notBefore <= dueBy`. */
  listIntents(status: StoredIntent["status"], options?: { dueBy?: number; limit?: number }): StoredIntent[];
  countIntents(status: StoredIntent["status"]): number;
  putTx(tx: StoredTx): void;
  listTxs(status?: StoredTx["status"]): StoredTx[];
  /** Runs `fn` in one transaction: all its writes land, or none. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

const json = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
const parse = <T>(text: string): T =>
  JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === "object" && "$bigint" in (v as object) ? BigInt((v as { $bigint: string }).$bigint) : v,
  ) as T;

/** Opens (creating if needed) the store at `path`; `":memory:"` for tests. */
export function openStore(path: string, clock: () => number = Date.now): KeeperStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  } catch (cause) {
    throw new StoreError(`Cannot open the keeper database at ${path}: ${(cause as Error).message}`, { cause });
  }
  checkIntegrity(db, path);
  migrate(db);

  const toRequest = (r: Row): StoredRequest => ({
    requestId: BigInt(r.request_id as string),
    modelId: BigInt(r.model_id as string),
    requester: r.requester as `0x${string}`,
    input: new Uint8Array(r.input as Uint8Array),
    blockNumber: BigInt(r.block_number as number),
    status: r.status as RequestStatus,
    error: (r.error as string | null) ?? null,
    ...(r.block_hash ? { blockHash: r.block_hash as `0x${string}` } : {}),
  });
  const toClaim = (r: Row): StoredClaim => ({
    claimId: BigInt(r.claim_id as string),
    requestId: BigInt(r.request_id as string),
    operator: r.operator as `0x${string}`,
    output: r.output === null ? null : new Uint8Array(r.output as Uint8Array),
    outputHash: r.output_hash as `0x${string}`,
    traceRoot: r.trace_root as `0x${string}`,
    ours: r.ours === 1,
    status: r.status as string,
  });
  const toGame = <S>(r: Row): StoredGame<S> => ({
    gameId: BigInt(r.game_id as string),
    requestId: BigInt(r.request_id as string),
    role: r.role as GameRole,
    status: r.status as string,
    state: parse<S>(r.state as string),
  });
  const toIntent = (r: Row): StoredIntent => ({
    kind: r.kind as IntentKind,
    requestId: BigInt(r.request_id as string),
    target: BigInt(r.target as string),
    status: r.status as StoredIntent["status"],
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    notBefore: r.not_before as number,
  });
  const toTx = (r: Row): StoredTx => ({
    nonce: r.nonce as number,
    kind: r.kind as string,
    payload: parse(r.payload as string),
    hash: (r.hash as `0x${string}` | null) ?? null,
    status: r.status as StoredTx["status"],
  });

  const stmt = {
    getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
    setMeta: db.prepare("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    upsertRequest: db.prepare(
      `INSERT INTO requests(request_id, model_id, requester, input, block_number, status, error, updated_at, block_hash, last_block)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(request_id) DO UPDATE SET model_id = excluded.model_id, requester = excluded.requester,
         input = excluded.input, block_number = excluded.block_number, status = excluded.status,
         error = excluded.error, updated_at = excluded.updated_at, block_hash = COALESCE(excluded.block_hash, requests.block_hash),
         last_block = MAX(requests.last_block, excluded.last_block)`,
    ),
    touchRequest: db.prepare("UPDATE requests SET last_block = MAX(last_block, ?) WHERE request_id = ?"),
    listTouchedAfter: db.prepare("SELECT * FROM requests WHERE last_block > ? ORDER BY block_number, CAST(request_id AS INTEGER)"),
    deleteRequest: db.prepare("DELETE FROM requests WHERE request_id = ?"),
    deleteClaims: db.prepare("DELETE FROM claims WHERE request_id = ?"),
    deleteIntents: db.prepare("DELETE FROM intents WHERE request_id = ?"),
    deleteClaim: db.prepare("DELETE FROM claims WHERE claim_id = ?"),
    deleteGames: db.prepare("DELETE FROM games WHERE request_id = ?"),
    deleteSettledIntents: db.prepare("DELETE FROM intents WHERE request_id = ? AND status != 'open'"),
    listRequestBlocks: db.prepare(
      "SELECT block_number, block_hash FROM requests WHERE block_hash IS NOT NULL AND block_number <= ? GROUP BY block_number, block_hash ORDER BY block_number DESC LIMIT ?",
    ),
    setRequestStatus: db.prepare("UPDATE requests SET status = ?, error = ?, updated_at = ? WHERE request_id = ?"),
    getRequest: db.prepare("SELECT * FROM requests WHERE request_id = ?"),
    listRequests: db.prepare("SELECT * FROM requests WHERE status = ? ORDER BY block_number, CAST(request_id AS INTEGER) LIMIT ?"),
    listRequestsAfter: db.prepare(
      `SELECT * FROM requests WHERE status = ? AND (block_number > ? OR (block_number = ? AND CAST(request_id AS INTEGER) > CAST(? AS INTEGER)))
       ORDER BY block_number, CAST(request_id AS INTEGER) LIMIT ?`,
    ),
    putIntent: db.prepare(
      `INSERT INTO intents(kind, request_id, target, status, attempts, last_error, not_before, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(kind, request_id, target) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         last_error = excluded.last_error, not_before = excluded.not_before, updated_at = excluded.updated_at`,
    ),
    getIntent: db.prepare("SELECT * FROM intents WHERE kind = ? AND request_id = ? AND target = ?"),
    listRequestIntents: db.prepare("SELECT * FROM intents WHERE request_id = ? AND status = 'open' ORDER BY kind, CAST(target AS INTEGER)"),
    listIntents: db.prepare("SELECT * FROM intents WHERE status = ? AND not_before <= ? ORDER BY not_before, CAST(request_id AS INTEGER) LIMIT ?"),
    countIntents: db.prepare("SELECT COUNT(*) AS n FROM intents WHERE status = ?"),
    countRequests: db.prepare("SELECT COUNT(*) AS n FROM requests"),
    countRequestsBy: db.prepare("SELECT COUNT(*) AS n FROM requests WHERE status = ?"),
    upsertClaim: db.prepare(
      `INSERT INTO claims(claim_id, request_id, operator, output, output_hash, trace_root, ours, status, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(claim_id) DO UPDATE SET status = excluded.status, output = COALESCE(excluded.output, claims.output),
         updated_at = excluded.updated_at`,
    ),
    getClaim: db.prepare("SELECT * FROM claims WHERE claim_id = ?"),
    listClaims: db.prepare("SELECT * FROM claims WHERE request_id = ? ORDER BY CAST(claim_id AS INTEGER)"),
    upsertGame: db.prepare(
      `INSERT INTO games(game_id, request_id, role, status, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(game_id) DO UPDATE SET request_id = excluded.request_id, role = excluded.role, status = excluded.status, state = excluded.state, updated_at = excluded.updated_at`,
    ),
    getGame: db.prepare("SELECT * FROM games WHERE game_id = ?"),
    listGames: db.prepare("SELECT * FROM games ORDER BY CAST(game_id AS INTEGER)"),
    listGamesBy: db.prepare("SELECT * FROM games WHERE status = ? ORDER BY CAST(game_id AS INTEGER)"),
    putTx: db.prepare(
      `INSERT INTO txs(nonce, kind, payload, hash, status, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(nonce) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, hash = excluded.hash,
         status = excluded.status, updated_at = excluded.updated_at`,
    ),
    listTxs: db.prepare("SELECT * FROM txs ORDER BY nonce"),
    listTxsBy: db.prepare("SELECT * FROM txs WHERE status = ? ORDER BY nonce"),
  };

  let depth = 0;
  return {
    getMeta: (key) => (stmt.getMeta.get(key) as Row | undefined)?.value as string | undefined,
    setMeta: (key, value) => void stmt.setMeta.run(key, value),
    upsertRequest: (r) => {
      if (r.blockNumber > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new StoreError(`Block number ${r.blockNumber} of request ${r.requestId} is out of range`);
      }
      stmt.upsertRequest.run(
        r.requestId.toString(),
        r.modelId.toString(),
        r.requester,
        r.input,
        Number(r.blockNumber),
        r.status,
        r.error,
        clock(),
        r.blockHash ?? null,
        Number(r.blockNumber),
      );
    },
    touchRequest: (id, block) => void stmt.touchRequest.run(Number(block), id.toString()),
    listRequestsTouchedAfter: (block) => (stmt.listTouchedAfter.all(Number(block)) as Row[]).map(toRequest),
    deleteRequest: (id) => {
      stmt.deleteClaims.run(id.toString());
      stmt.deleteIntents.run(id.toString());
      stmt.deleteGames.run(id.toString());
      stmt.deleteRequest.run(id.toString());
    },
    deleteClaim: (id) => void stmt.deleteClaim.run(id.toString()),
    deleteSettledIntents: (id) => void stmt.deleteSettledIntents.run(id.toString()),
    listRequestBlocks: (atOrBelow, limit) =>
      (stmt.listRequestBlocks.all(Number(atOrBelow < 0n ? -1n : atOrBelow), limit) as Row[]).map((r) => ({
        blockNumber: BigInt(r.block_number as number),
        blockHash: r.block_hash as `0x${string}`,
      })),
    setRequestStatus: (id, status, error) => {
      const result = stmt.setRequestStatus.run(status, error ?? null, clock(), id.toString());
      if (result.changes === 0) throw new StoreError(`Unknown request ${id}: store it before changing its status`);
    },
    getRequest: (id) => {
      const row = stmt.getRequest.get(id.toString()) as Row | undefined;
      return row && toRequest(row);
    },
    listRequests: (status, limit = 1_000, after) =>
      (after === undefined
        ? (stmt.listRequests.all(status, limit) as Row[])
        : (stmt.listRequestsAfter.all(status, Number(after.blockNumber), Number(after.blockNumber), after.requestId.toString(), limit) as Row[])
      ).map(toRequest),
    countRequests: (status) =>
      ((status ? stmt.countRequestsBy.get(status) : stmt.countRequests.get()) as Row).n as number,
    upsertClaim: (c) =>
      void stmt.upsertClaim.run(
        c.claimId.toString(),
        c.requestId.toString(),
        c.operator,
        c.output,
        c.outputHash,
        c.traceRoot,
        c.ours ? 1 : 0,
        c.status,
        clock(),
      ),
    getClaim: (id) => {
      const row = stmt.getClaim.get(id.toString()) as Row | undefined;
      return row && toClaim(row);
    },
    listClaims: (requestId) => (stmt.listClaims.all(requestId.toString()) as Row[]).map(toClaim),
    upsertGame: (g) =>
      void stmt.upsertGame.run(g.gameId.toString(), g.requestId.toString(), g.role, g.status, json(g.state), clock()),
    getGame: <S>(id: bigint) => {
      const row = stmt.getGame.get(id.toString()) as Row | undefined;
      return row && toGame<S>(row);
    },
    listGames: <S>(status?: string) =>
      ((status ? stmt.listGamesBy.all(status) : stmt.listGames.all()) as Row[]).map((r) => toGame<S>(r)),
    putIntent: (i) =>
      void stmt.putIntent.run(i.kind, i.requestId.toString(), i.target.toString(), i.status, i.attempts, i.lastError, i.notBefore, clock()),
    getIntent: (kind, requestId, target = 0n) => {
      const row = stmt.getIntent.get(kind, requestId.toString(), target.toString()) as Row | undefined;
      return row && toIntent(row);
    },
    listRequestIntents: (requestId) => (stmt.listRequestIntents.all(requestId.toString()) as Row[]).map(toIntent),
    listIntents: (status, options = {}) =>
      (stmt.listIntents.all(status, options.dueBy ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000) as Row[]).map(toIntent),
    countIntents: (status) => (stmt.countIntents.get(status) as Row).n as number,
    putTx: (t) => void stmt.putTx.run(t.nonce, t.kind, json(t.payload), t.hash, t.status, clock()),
    listTxs: (status) => ((status ? stmt.listTxsBy.all(status) : stmt.listTxs.all()) as Row[]).map(toTx),
    transaction: <T>(fn: () => T): T => {
      // Nested calls join the outer transaction.
      if (depth > 0) return fn();
      db.exec("BEGIN IMMEDIATE");
      depth++;
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      } finally {
        depth--;
      }
    },
    close: () => db.close(),
  };
}

/**
 * `PRAGMA quick_check` on open: a database with damaged pages (a disk fault, a copy taken mid-write) is refused with
 * what to do, rather than read as if it were whole (a lost row is a forgotten intent). Linear in the file's size.
 */
function checkIntegrity(db: DatabaseSync, path: string): void {
  let problems: string[];
  try {
    problems = (db.prepare("PRAGMA quick_check(5)").all() as Row[]).flatMap((r) => String(Object.values(r)[0]).split("\n"));
  } catch (cause) {
    db.close();
    throw new StoreError(damaged(path, (cause as Error).message), { cause });
  }
  if (problems.length === 1 && problems[0] === "ok") return;
  db.close();
  throw new StoreError(damaged(path, problems.slice(0, 5).join("; ")));
}

const damaged = (path: string, detail: string) =>
  `The keeper database at ${path} is damaged (SQLite quick_check: ${detail}). Stop the keeper, move the file (and its -wal/-shm files) aside ` +
  `and start again with an empty store: the keeper re-reads the chain from its start block and reconciles what is owed (a backup of a ` +
  `healthy copy may be restored instead)`;

function migrate(db: DatabaseSync): void {
  const version = (db.prepare("PRAGMA user_version").get() as Row).user_version as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      `The keeper database has schema version ${version}, newer than this keeper knows (${MIGRATIONS.length}): upgrade the keeper`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec("BEGIN");
    try {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

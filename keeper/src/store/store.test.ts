import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "./store.ts";
import { StoreError } from "../errors.ts";

const request = (id: bigint, status: "pending" | "committed" = "pending") => ({
  requestId: id,
  modelId: 1n,
  requester: "0x00000000000000000000000000000000000000aa" as const,
  input: new Uint8Array([1, 2, 3]),
  blockNumber: 10n + (id % 1000n),
  status,
  error: null,
});

describe("keeper store", () => {
  it("persists requests, claims, games and txs across reopen", () => {
    const path = join(mkdtempSync(join(tmpdir(), "oao-store-")), "keeper.db");
    const a = openStore(path);
    a.upsertRequest(request(2n ** 70n));
    a.upsertClaim({
      claimId: 5n,
      requestId: 2n ** 70n,
      operator: "0x00000000000000000000000000000000000000bb",
      output: new Uint8Array([7]),
      outputHash: "0x01",
      traceRoot: "0x02",
      ours: true,
      status: "standing",
    });
    a.upsertGame({ gameId: 9n, requestId: 2n ** 70n, role: "defender", status: "active", state: { depth: 3n, moves: [1] } });
    a.putTx({ nonce: 4, kind: "commit", payload: { requestId: 2n ** 70n }, hash: null, status: "pending" });
    a.setMeta("cursor", "123");
    a.close();

    const b = openStore(path);
    expect(b.getRequest(2n ** 70n)).toEqual(request(2n ** 70n));
    expect(b.getClaim(5n)?.ours).toBe(true);
    expect(b.getGame<{ depth: bigint }>(9n)?.state.depth).toBe(3n);
    expect(b.listTxs("pending")[0]?.payload).toEqual({ requestId: 2n ** 70n });
    expect(b.getMeta("cursor")).toBe("123");
    b.close();
  });

  it("rolls back a failed transaction entirely", () => {
    const store = openStore(":memory:");
    expect(() =>
      store.transaction(() => {
        store.upsertRequest(request(1n));
        throw new Error("crash in the middle");
      }),
    ).toThrow("crash in the middle");
    expect(store.getRequest(1n)).toBeUndefined();
  });

  it("lists by status in block order and counts", () => {
    const store = openStore(":memory:");
    store.upsertRequest(request(3n));
    store.upsertRequest(request(1n));
    store.upsertRequest(request(2n, "committed"));
    expect(store.listRequests("pending").map((r) => r.requestId)).toEqual([1n, 3n]);
    expect(store.countRequests()).toBe(3);
    expect(store.countRequests("committed")).toBe(1);
  });

  it("refuses to change the status of an unknown request", () => {
    const store = openStore(":memory:");
    expect(() => store.setRequestStatus(42n, "done")).toThrow(StoreError);
  });

  it("pages through every request of a status in (block, id) order", () => {
    const store = openStore(":memory:");
    for (let i = 1n; i <= 700n; i++) store.upsertRequest({ ...request(i), blockNumber: 10n + i / 3n });
    const seen: bigint[] = [];
    let after: { blockNumber: bigint; requestId: bigint } | undefined;
    for (;;) {
      const page = store.listRequests("pending", 256, after);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.requestId));
      after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
    }
    expect(seen).toEqual(Array.from({ length: 700 }, (_, i) => BigInt(i + 1)));
  });

  it("keeps the intent log across reopen: open intents by due time, settled ones kept", () => {
    const path = join(mkdtempSync(join(tmpdir(), "oao-store-")), "keeper.db");
    const a = openStore(path);
    a.upsertRequest(request(1n));
    a.putIntent({ kind: "challenge", requestId: 1n, target: 9n, status: "open", attempts: 2, lastError: "HTTP request failed.", notBefore: 500 });
    a.putIntent({ kind: "commit", requestId: 2n, target: 0n, status: "open", attempts: 0, lastError: null, notBefore: 0 });
    a.putIntent({ kind: "expire", requestId: 3n, target: 0n, status: "done", attempts: 0, lastError: null, notBefore: 0 });
    a.close();
    const b = openStore(path);
    expect(b.listIntents("open").map((i) => i.kind)).toEqual(["commit", "challenge"]);
    expect(b.listIntents("open", { dueBy: 100 }).map((i) => i.kind)).toEqual(["commit"]);
    expect(b.getIntent("challenge", 1n, 9n)).toEqual({ kind: "challenge", requestId: 1n, target: 9n, status: "open", attempts: 2, lastError: "HTTP request failed.", notBefore: 500 });
    expect(b.listRequestIntents(1n)).toHaveLength(1);
    expect(b.countIntents("done")).toBe(1);
    b.putIntent({ ...b.getIntent("challenge", 1n, 9n)!, status: "done", lastError: null });
    expect(b.listRequestIntents(1n)).toEqual([]);
    b.close();
  });

  it("rollback primitives: blocks touched, forgetting a request with its claims, intents and games, request block hashes", () => {
    const s = openStore(":memory:");
    const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;
    s.upsertRequest({ ...request(1n), blockNumber: 5n, blockHash: hash(5) });
    s.upsertRequest({ ...request(2n), blockNumber: 7n, blockHash: hash(7) });
    s.upsertRequest({ ...request(3n), blockNumber: 7n });
    expect(s.getRequest(1n)?.blockHash).toBe(hash(5));
    expect(s.getRequest(3n)?.blockHash).toBeUndefined();
    s.touchRequest(1n, 9n);
    s.touchRequest(1n, 8n); // never lowers it
    expect(s.listRequestsTouchedAfter(7n).map((r) => r.requestId)).toEqual([1n]);
    expect(s.listRequestsTouchedAfter(6n).map((r) => r.requestId)).toEqual([1n, 2n, 3n]);
    expect(s.listRequestBlocks(10n, 10)).toEqual([{ blockNumber: 7n, blockHash: hash(7) }, { blockNumber: 5n, blockHash: hash(5) }]);
    expect(s.listRequestBlocks(6n, 10)).toEqual([{ blockNumber: 5n, blockHash: hash(5) }]);
    s.upsertClaim({ claimId: 4n, requestId: 1n, operator: "0x00000000000000000000000000000000000000bb", output: null, outputHash: "0x01", traceRoot: "0x02", ours: true, status: "standing" });
    s.putIntent({ kind: "commit", requestId: 1n, target: 0n, status: "done", attempts: 0, lastError: null, notBefore: 0 });
    s.putIntent({ kind: "expire", requestId: 1n, target: 0n, status: "open", attempts: 0, lastError: null, notBefore: 0 });
    s.upsertGame({ gameId: 11n, requestId: 1n, role: "challenger", status: "active", state: {} });
    s.deleteSettledIntents(1n);
    expect(s.getIntent("commit", 1n)).toBeUndefined();
    expect(s.getIntent("expire", 1n)?.status).toBe("open");
    s.deleteRequest(1n);
    expect(s.getRequest(1n)).toBeUndefined();
    expect(s.getClaim(4n)).toBeUndefined();
    expect(s.listRequestIntents(1n)).toEqual([]);
    expect(s.getGame(11n)).toBeUndefined();
    expect(s.getRequest(2n)).toBeDefined();
  });

  it("refuses a database whose pages are damaged, saying what to do; a whole one opens", () => {
    const path = join(mkdtempSync(join(tmpdir(), "oao-store-")), "keeper.db");
    const a = openStore(path);
    for (let i = 0n; i < 400n; i++) a.upsertRequest(request(i));
    a.close();
    expect(openStore(path).countRequests("pending")).toBe(400); // reopened whole (and closed below with the file)
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length).toBeGreaterThan(4 * pageSize);
    // Garbage over every page after the schema page (a disk fault): the header still reads, the b-trees do not.
    for (let i = pageSize; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      openStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/keeper database at .*keeper\.db is damaged \(SQLite quick_check: .+\)\. Stop the keeper, move the file/);
  });
});

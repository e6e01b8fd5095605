/**
 * BlockStore: a rolled-back block leaves the store as it was before the block (updates undone, new entities and
 * timeseries points gone, removals restored); a committed block stays.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSchema } from "../tests/runner/schema.ts";
import { formatValue, type StoreValue } from "../tests/runner/store.ts";
import { BlockStore } from "./block-store.ts";

const dir = mkdtempSync(join(tmpdir(), "oao-block-store-"));
writeFileSync(
  join(dir, "schema.graphql"),
  `type Counter @entity(immutable: false) { id: ID! n: Int! }
   type Point @entity(timeseries: true) { id: Int8! timestamp: Timestamp! v: Int! }`,
);
const schema = loadSchema(join(dir, "schema.graphql"));
const int = (value: number): StoreValue => ({ kind: "Int", value });
const counter = (id: string, n: number) => new Map<string, StoreValue>([["id", { kind: "String", value: id }], ["n", int(n)]]);
const point = (v: number) => new Map<string, StoreValue>([["id", { kind: "Int8", value: 0n }], ["timestamp", { kind: "Timestamp", value: 1n }], ["v", int(v)]]);
const dump = (s: BlockStore) =>
  Object.fromEntries([...s.entities].map(([type, table]) => [type, Object.fromEntries([...table].map(([id, e]) => [id, formatValue(e.get(type === "Point" ? "v" : "n")!)]))]));

describe("BlockStore", () => {
  it("rolls a block back to the state before it; keeps committed blocks", () => {
    const store = new BlockStore(schema);
    store.begin();
    store.set("Counter", "a", counter("a", 1));
    store.set("Counter", "b", counter("b", 1));
    store.set("Point", "0", point(10));
    store.commit();
    const before = dump(store);
    expect(before).toEqual({ Counter: { a: "1", b: "1" }, Point: { "1": "10" } });

    store.begin();
    store.set("Counter", "a", counter("a", 2));
    store.set("Counter", "a", counter("a", 3)); // twice in the block: undone to the value before the block
    store.set("Counter", "c", counter("c", 1));
    store.remove("Counter", "b");
    store.set("Point", "0", point(20));
    store.set("Point", "1", point(30)); // a given id that exists: still a new point
    expect(dump(store)).toEqual({ Counter: { a: "3", c: "1" }, Point: { "1": "10", "2": "20", "3": "30" } });
    store.rollback();
    expect(dump(store)).toEqual(before);
  });
});

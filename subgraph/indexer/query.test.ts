/**
 * The dev indexer's query semantics (query.ts) on a small schema whose store is filled here: filters,
 * ordering, pagination, references and derived lists, `_meta`, and the errors for what it does not serve.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSchema } from "../tests/runner/schema.ts";
import { EntityStore, type EntityData, type StoreValue } from "../tests/runner/store.ts";
import { createQueryEngine } from "./query.ts";

const sdl = `
enum Color { Red Green }
type Owner @entity(immutable: false) {
  id: Bytes!
  name: String!
  pets: [Pet!]! @derivedFrom(field: "owner")
}
type Pet @entity(immutable: false) {
  id: ID!
  n: BigInt!
  name: String!
  color: Color!
  owner: Owner!
  tag: Bytes
  note: String
  tags: [String!]!
}
type Point @entity(timeseries: true) {
  id: Int8!
  timestamp: Timestamp!
  v: BigInt!
}
type Stat @aggregation(intervals: ["hour"], source: "Point") {
  id: Int8!
  timestamp: Timestamp!
  total: BigInt! @aggregate(fn: "sum", arg: "v")
}
`;

const dir = mkdtempSync(join(tmpdir(), "oao-query-"));
writeFileSync(join(dir, "schema.graphql"), sdl);
const schema = loadSchema(join(dir, "schema.graphql"));
const store = new EntityStore(schema);

const ALICE = "0x00000000000000000000000000000000000000a1";
const BOB = "0x00000000000000000000000000000000000000b2";
const hex = (h: string): StoreValue => ({ kind: "Bytes", value: Uint8Array.from(Buffer.from(h.slice(2), "hex")) });
const str = (value: string): StoreValue => ({ kind: "String", value });
const NULL: StoreValue = { kind: "Null" };

store.set("Owner", ALICE, new Map([["id", hex(ALICE)], ["name", str("Alice")]]));
store.set("Owner", BOB, new Map([["id", hex(BOB)], ["name", str("bob")]]));
const pets: [string, bigint, string, "Red" | "Green", string, string | null, string | null, string[]][] = [
  ["1", 9n, "Rex", "Red", ALICE, "0xdeadbeef", "good dog", ["a", "b"]],
  ["2", 10n, "Tom", "Green", BOB, null, null, ["b"]],
  ["3", 100n, "rosa", "Red", BOB, "0x0deadb", "Barks", []],
  ["10", -5n, "Ann", "Green", ALICE, "0xbeef", null, ["a"]],
];
for (const [id, n, name, color, owner, tag, note, tags] of pets) {
  const data: EntityData = new Map<string, StoreValue>([
    ["id", str(id)],
    ["n", { kind: "BigInt", value: n }],
    ["name", str(name)],
    ["color", str(color)],
    ["owner", hex(owner)],
    ["tag", tag ? hex(tag) : NULL],
    ["note", note ? str(note) : NULL],
    ["tags", { kind: "Array", value: tags.map(str) }],
  ]);
  store.set("Pet", id, data);
}

const head = { number: 42n, hash: `0x${"ab".repeat(32)}` as `0x${string}`, timestamp: 1_700_000_000n };
const engine = createQueryEngine({ store, schema, head: () => head, hasIndexingErrors: () => false, deployment: "test" }, sdl);

async function query(q: string, variables?: Record<string, unknown>) {
  const r = await engine.execute(q, variables);
  return { data: r.data as Record<string, unknown> | null | undefined, errors: r.errors?.map((e) => e.message) };
}
async function ids(where: string, extra = ""): Promise<string[]> {
  const r = await query(`{ pets(where: ${where} ${extra}) { id } }`);
  expect(r.errors).toBeUndefined();
  return (r.data!.pets as { id: string }[]).map((p) => p.id);
}

describe("dev indexer queries", () => {
  it("filters: equality, _not, _in, _gt/_lte on BigInt values (numerically), enums", async () => {
    expect(await ids(`{ n: "10" }`)).toEqual(["2"]);
    expect(await ids(`{ n_gt: "9" }`)).toEqual(["2", "3"]);
    expect(await ids(`{ n_lte: "9" }`)).toEqual(["1", "10"]);
    expect(await ids(`{ color: Red }`)).toEqual(["1", "3"]);
    expect(await ids(`{ color_not: Red }`)).toEqual(["10", "2"]);
    expect(await ids(`{ name_in: ["Tom", "Ann", "nobody"] }`)).toEqual(["10", "2"]);
    expect(await ids(`{ name_not_in: ["Tom", "Ann"] }`)).toEqual(["1", "3"]);
  });

  it("null: `field: null` and `field_not: null`; comparisons with a null field are false", async () => {
    expect(await ids(`{ note: null }`)).toEqual(["10", "2"]);
    expect(await ids(`{ note_not: null }`)).toEqual(["1", "3"]);
    expect(await ids(`{ note_not: "Barks" }`)).toEqual(["1"]); // as SQL: the null notes are not "not Barks"
  });

  it("strings, bytes and lists", async () => {
    expect(await ids(`{ name_starts_with: "R" }`)).toEqual(["1"]);
    expect(await ids(`{ name_starts_with_nocase: "r" }`)).toEqual(["1", "3"]);
    expect(await ids(`{ note_contains_nocase: "BARK" }`)).toEqual(["3"]);
    expect(await ids(`{ name_not_ends_with: "x" }`)).toEqual(["10", "2", "3"]);
    expect(await ids(`{ tag_contains: "0xbeef" }`)).toEqual(["1", "10"]);
    expect(await ids(`{ tag_contains: "0xdead" }`)).toEqual(["1"]); // 0x0deadb has "dead" only across byte boundaries
    expect(await ids(`{ tag: "0xDEADBEEF" }`)).toEqual(["1"]);
    expect(await ids(`{ tags_contains: ["b"] }`)).toEqual(["1", "2"]);
    expect(await ids(`{ tags: ["a"] }`)).toEqual(["10"]);
  });

  it("references, nested filters through references and derived lists, and/or", async () => {
    expect(await ids(`{ owner: "${BOB}" }`)).toEqual(["2", "3"]);
    expect(await ids(`{ owner_: { name_starts_with: "A" } }`)).toEqual(["1", "10"]);
    expect(await ids(`{ or: [{ n: "9" }, { name: "Tom" }] }`)).toEqual(["1", "2"]);
    expect(await ids(`{ and: [{ color: Red }, { owner: "${BOB}" }] }`)).toEqual(["3"]);
    const r = await query(`{ owners(where: { pets_: { n_gt: "50" } }) { id name } }`);
    expect(r.data!.owners).toEqual([{ id: BOB, name: "bob" }]);
  });

  it("orderBy (numeric for BigInt, through a reference with ref__field), orderDirection, first, skip; by id without orderBy", async () => {
    expect(await ids(`{}`)).toEqual(["1", "10", "2", "3"]); // String ids sort as text, as in graph-node
    expect(await ids(`{}`, `, orderBy: n`)).toEqual(["10", "1", "2", "3"]);
    expect(await ids(`{}`, `, orderBy: n, orderDirection: desc, first: 2`)).toEqual(["3", "2"]);
    expect(await ids(`{}`, `, orderBy: n, skip: 3`)).toEqual(["3"]);
    // Nulls last ascending, first descending; ties broken by id.
    expect(await ids(`{}`, `, orderBy: note`)).toEqual(["3", "1", "10", "2"]);
    expect(await ids(`{}`, `, orderBy: note, orderDirection: desc`)).toEqual(["2", "10", "1", "3"]);
    expect(await ids(`{}`, `, orderBy: owner__name, orderDirection: desc`)).toEqual(["3", "2", "10", "1"]);
  });

  it("entities by id (Bytes ids in any case), scalars as graph-node returns them, references and derived lists with arguments", async () => {
    const r = await query(`{
      owner(id: "${ALICE.toUpperCase().replace("0X", "0x")}") { id pets(orderBy: n, orderDirection: desc, first: 1) { id n tag owner { name } } }
      pet(id: "3") { n tag note tags color owner { id } }
      nobody: pet(id: "99") { id }
    }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      owner: { id: ALICE, pets: [{ id: "1", n: "9", tag: "0xdeadbeef", owner: { name: "Alice" } }] },
      pet: { n: "100", tag: "0x0deadb", note: "Barks", tags: [], color: "Red", owner: { id: BOB } },
      nobody: null,
    });
  });

  it("_meta: the latest indexed block; `block:` at that block is served, any other is a time-travel error", async () => {
    const r = await query(`{ _meta { block { number hash timestamp } deployment hasIndexingErrors } }`);
    expect(r.data!._meta).toEqual({ block: { number: 42, hash: head.hash, timestamp: 1_700_000_000 }, deployment: "test", hasIndexingErrors: false });
    expect((await query(`{ pets(block: { number: 42 }) { id } }`)).errors).toBeUndefined();
    expect((await query(`{ pets(block: { number: 41 }) { id } }`)).errors).toEqual([expect.stringMatching(/time-travel queries are not supported by the dev indexer; it answers at its latest block 42/)]);
    expect((await query(`{ pets(block: { number_gte: 43 }) { id } }`)).errors).toEqual([expect.stringMatching(/only indexed up to block 42/)]);
  });

  it("clear errors: bad filter values, limits, _change_block, aggregations, unknown fields", async () => {
    const errors = async (q: string, variables?: Record<string, unknown>) => (await query(q, variables)).errors ?? [];
    expect(await errors(`query($w: Pet_filter) { pets(where: $w) { id } }`, { w: { n_gt: "ten" } })).toEqual([
      'where.n_gt: expected an integer (a decimal string for BigInt), got "ten"',
    ]);
    expect(await errors(`{ pets(where: { tag: "beef" }) { id } }`)).toEqual(['where.tag: expected 0x-prefixed hex bytes, got "beef"']);
    expect(await errors(`{ pets(where: { n_gt: null }) { id } }`)).toEqual(["where.n_gt: null can only be compared with `n` and `n_not`"]);
    // Checked before any row is looked at: also where nothing would match.
    expect(await errors(`{ pets(where: { name: "nobody", _change_block: { number_gte: 1 } }) { id } }`)).toEqual([
      "where._change_block: _change_block filters are not supported by the dev indexer (it keeps no history)",
    ]);
    expect(await errors(`{ pets(where: { color: Red, or: [{ n: "9" }, { name: "Tom" }] }) { id } }`)).toEqual([
      "where: Cannot mix column filters with 'or' operator at the same level. Found column filter(s) 'color' alongside 'or' operator (graph-node's rule: repeat them inside each 'or' clause)",
    ]);
    expect(await ids(`{ or: [{ color: Red, n: "9" }, { color: Red, name: "Tom" }] }`)).toEqual(["1"]);
    expect(await errors(`{ pets(first: 1001) { id } }`)).toEqual(["The `first` argument must be between 0 and 1000, but is 1001"]);
    expect(await errors(`{ pets(skip: 5001) { id } }`)).toEqual(["The `skip` argument must be between 0 and 5000, but is 5001"]);
    expect(await errors(`{ stats(interval: hour) { id } }`)).toEqual(["stats: aggregations (Stat) are computed by graph-node; the dev indexer does not compute them"]);
    expect(await errors(`{ pets(where: { legs: 4 }) { id } }`)).toEqual(['Field "legs" is not defined by type "Pet_filter". Did you mean "tags"?']);
  });
});

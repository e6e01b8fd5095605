/**
 * graph-node's query semantics over the in-memory store: the query schema graph-node derives from
 * schema.graphql (subgraph/tools/query-schema.ts), executed by graphql-js with one field resolver.
 *
 * - `entity(id:)` and `entities(where, orderBy, orderDirection, first, skip)`; the same arguments on
 *   entity-list fields, `@derivedFrom` lists included; single references resolved to their entity.
 * - `where`: equality, `_not`, `_in`, `_not_in`, `_gt`, `_gte`, `_lt`, `_lte`, the string and bytes
 *   `_contains`/`_starts_with`/`_ends_with` families (with `_not_` and `_nocase`), list `_contains`,
 *   nested `field_` filters, `and`/`or` (`or` beside column filters refused, as graph-node does); comparisons
 *   with a null field are false, as in SQL.
 * - `orderBy` an own scalar field or `ref__field`, ties broken by id in the same direction; with
 *   no `orderBy`, by id. Nulls last ascending, first descending (Postgres' default).
 * - BigInt, BigDecimal, Int8 and Timestamp as decimal strings, Bytes as lowercase 0x-hex.
 * - `_meta { block { number hash timestamp } deployment hasIndexingErrors }`.
 *
 * Not served, each a GraphQL error saying so: time-travel (`block:` other than the latest indexed
 * block), `_change_block`, and aggregations (`@aggregation` types, which graph-node computes).
 */
import { buildSchema, graphql, GraphQLError, type ExecutionResult, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import * as dec from "../tests/runner/decimal.ts";
import type { FieldInfo, SchemaInfo } from "../tests/runner/schema.ts";
import { formatValue, type EntityData, type EntityStore, type StoreValue } from "../tests/runner/store.ts";
import { buildQuerySchemaSdl, pluralize } from "../tools/query-schema.ts";
import type { IndexedBlock } from "./indexer.ts";

/** graph-node's limits on `first` and `skip`. */
export const MAX_FIRST = 1000;
export const MAX_SKIP = 5000;

export interface QuerySource {
  store: EntityStore;
  schema: SchemaInfo;
  head(): IndexedBlock;
  hasIndexingErrors(): boolean;
  deployment: string;
}

interface Row {
  readonly type: string;
  readonly id: string;
  readonly data: EntityData;
}

type Scalar = bigint | string | boolean | dec.Decimal;
type Where = Record<string, unknown>;

const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && "data" in v && "type" in v;
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const NUMERIC = new Set(["BigInt", "Int", "Int8", "Timestamp"]);

/** Filter suffixes, longest first so `_not_in` is not read as `_in`. */
const OPS = [
  "_not_contains_nocase", "_not_starts_with_nocase", "_not_ends_with_nocase", "_contains_nocase", "_starts_with_nocase",
  "_ends_with_nocase", "_not_starts_with", "_not_ends_with", "_not_contains", "_starts_with", "_ends_with", "_contains",
  "_not_in", "_not", "_in", "_gte", "_lte", "_gt", "_lt",
];

function fail(message: string): never {
  throw new GraphQLError(message);
}

export function createQueryEngine(source: QuerySource, schemaSdl: string): { schema: GraphQLSchema; execute(query: string, variables?: Record<string, unknown>, operationName?: string): Promise<ExecutionResult> } {
  const schema = buildSchema(buildQuerySchemaSdl(schemaSdl));
  const { store } = source;
  const entities = source.schema.entities;
  const aggregations = new Set(
    [...schemaSdl.matchAll(/^type\s+(\w+)\s+@aggregation/gm)].map((m) => m[1]!),
  );
  const roots = new Map<string, { type: string; single: boolean }>();
  for (const name of entities.keys()) {
    roots.set(lowerFirst(name), { type: name, single: true });
    roots.set(pluralize(lowerFirst(name)), { type: name, single: false });
  }

  const fieldOf = (type: string, name: string, where: string): FieldInfo => {
    const f = entities.get(type)?.fields.get(name);
    if (!f) fail(`${where}: ${type} has no field \`${name}\``);
    return f;
  };
  const idType = (type: string) => entities.get(type)!.fields.get("id")!.type;
  /** The scalar class a field compares as: its own type, or its target's id type for a reference. */
  const classOf = (f: FieldInfo): string => (entities.has(f.type) ? idType(f.type) : source.schema.enums.has(f.type) ? "String" : f.type);

  const row = (type: string, data: EntityData): Row => ({ type, id: formatValue(data.get("id")!), data });
  const all = (type: string): Row[] => [...(store.entities.get(type)?.values() ?? [])].map((d) => row(type, d));
  const get = (type: string, id: string): Row | null => {
    const data = store.entities.get(type)?.get(idType(type) === "Bytes" ? id.toLowerCase() : id);
    return data ? row(type, data) : null;
  };
  /** The entities a `@derivedFrom` field lists: those of its type whose link field references `parent`. */
  const derived = (parent: Row, f: FieldInfo): Row[] =>
    all(f.type).filter((r) => {
      const v = r.data.get(f.derivedFrom!);
      const refs = v?.kind === "Array" ? v.value : v && v.kind !== "Null" ? [v] : [];
      return refs.some((ref) => formatValue(ref) === parent.id);
    });
  const referenced = (r: Row, f: FieldInfo): Row[] => {
    if (f.derivedFrom) return derived(r, f);
    const v = r.data.get(f.name);
    if (!v || v.kind === "Null") return [];
    const ids = v.kind === "Array" ? v.value : [v];
    return ids.map((id) => get(f.type, formatValue(id))).filter((x): x is Row => x !== null);
  };

  const fromStore = (v: StoreValue): Scalar => {
    switch (v.kind) {
      case "BigInt":
      case "Int8":
      case "Timestamp":
        return v.value;
      case "Int":
        return BigInt(v.value);
      case "BigDecimal":
        return v.value;
      case "Bool":
        return v.value;
      case "String":
        return v.value;
      case "Bytes":
        return formatValue(v);
      default:
        return fail(`a ${v.kind} value cannot be compared`);
    }
  };
  const fromFilter = (cls: string, raw: unknown, path: string): Scalar => {
    if (NUMERIC.has(cls)) {
      if ((typeof raw === "string" && /^-?\d+$/.test(raw)) || (typeof raw === "number" && Number.isSafeInteger(raw))) return BigInt(raw);
      return fail(`${path}: expected an integer (a decimal string for ${cls}), got ${JSON.stringify(raw)}`);
    }
    if (cls === "BigDecimal") {
      if (typeof raw === "string" && /^-?\d+(\.\d+)?$/.test(raw)) return dec.fromString(raw);
      return fail(`${path}: expected a decimal string, got ${JSON.stringify(raw)}`);
    }
    if (cls === "Boolean") {
      if (typeof raw === "boolean") return raw;
      return fail(`${path}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    if (cls === "Bytes") {
      if (typeof raw === "string" && /^0x([0-9a-fA-F]{2})*$/.test(raw)) return raw.toLowerCase();
      return fail(`${path}: expected 0x-prefixed hex bytes, got ${JSON.stringify(raw)}`);
    }
    if (typeof raw === "string") return raw;
    return fail(`${path}: expected a string, got ${JSON.stringify(raw)}`);
  };
  const compare = (a: Scalar, b: Scalar): number => {
    if (typeof a === "object" && typeof b === "object") {
      const d = dec.minus(a, b).digits;
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  };

  const textOp = (op: string, cls: string, arg: string): ((value: string) => boolean) => {
    const nocase = op.endsWith("_nocase");
    const base = op.replace(/_nocase$/, "").replace(/^_not/, "");
    const a = nocase ? arg.toLowerCase() : arg;
    let hit: (v: string) => boolean;
    if (cls === "Bytes") {
      if (base !== "_contains") fail(`${op} is not a Bytes filter`);
      // Whole bytes only: the argument's hex at an even offset of the value's.
      hit = (v) => {
        for (let i = v.indexOf(a.slice(2), 2); i !== -1; i = v.indexOf(a.slice(2), i + 1)) if (i % 2 === 0) return true;
        return false;
      };
    } else hit = base === "_contains" ? (v) => v.includes(a) : base === "_starts_with" ? (v) => v.startsWith(a) : (v) => v.endsWith(a);
    const negate = op.startsWith("_not");
    return (value) => hit(nocase ? value.toLowerCase() : value) !== negate;
  };

  type Predicate = (r: Row) => boolean;
  const stored = (r: Row, f: FieldInfo): StoreValue | null => {
    const v = r.data.get(f.name);
    return v && v.kind !== "Null" ? v : null;
  };

  /** One `field_op: value` condition; the value is checked here, before any row. */
  const condition = (f: FieldInfo, op: string, raw: unknown, path: string): Predicate => {
    const cls = classOf(f);
    if (raw === null) {
      if (op === "") return (r) => stored(r, f) === null;
      if (op === "_not") return (r) => stored(r, f) !== null;
      return fail(`${path}: null can only be compared with \`${f.name}\` and \`${f.name}_not\``);
    }
    const list = (what: string): unknown[] => (Array.isArray(raw) ? raw : fail(`${path}: expected a list of ${what}`));
    if (f.list) {
      const nocase = op.endsWith("_nocase");
      const norm = (x: Scalar) => (nocase && typeof x === "string" ? x.toLowerCase() : x);
      const want = list(cls).map((x, i) => norm(fromFilter(cls, x, `${path}[${i}]`)));
      const items = (r: Row) => {
        const v = stored(r, f);
        return v?.kind === "Array" ? v.value.map((x) => norm(fromStore(x))) : null;
      };
      const has = (have: Scalar[]) => want.every((w) => have.some((h) => compare(h, w) === 0));
      const same = (have: Scalar[]) => have.length === want.length && have.every((h, i) => compare(h, want[i]!) === 0);
      const on = (fn: (have: Scalar[]) => boolean): Predicate => (r) => {
        const have = items(r);
        return have !== null && fn(have);
      };
      if (op === "") return on(same);
      if (op === "_not") return on((h) => !same(h));
      if (op === "_contains" || op === "_contains_nocase") return on(has);
      if (op === "_not_contains" || op === "_not_contains_nocase") return on((h) => !has(h));
      return fail(`${path}: ${op} is not a filter of list fields`);
    }
    const on = (fn: (v: Scalar) => boolean): Predicate => (r) => {
      const v = stored(r, f);
      return v !== null && fn(fromStore(v)); // SQL: a comparison with null is never true
    };
    if (op === "_in" || op === "_not_in") {
      const set = list(cls).map((x, i) => fromFilter(cls, x, `${path}[${i}]`));
      const hit = (v: Scalar) => set.some((x) => compare(v, x) === 0);
      return on(op === "_in" ? hit : (v) => !hit(v));
    }
    const arg = fromFilter(cls, raw, path);
    switch (op) {
      case "":
        return on((v) => compare(v, arg) === 0);
      case "_not":
        return on((v) => compare(v, arg) !== 0);
      case "_gt":
        return on((v) => compare(v, arg) > 0);
      case "_gte":
        return on((v) => compare(v, arg) >= 0);
      case "_lt":
        return on((v) => compare(v, arg) < 0);
      case "_lte":
        return on((v) => compare(v, arg) <= 0);
      default: {
        if (typeof arg !== "string") return fail(`${path}: ${op} applies to strings and bytes only`);
        const text = textOp(op, cls, arg);
        return on((v) => typeof v === "string" && text(v));
      }
    }
  };

  /** A `where` input of `type` as a predicate: every key checked (and every value coerced) once. */
  const compileWhere = (type: string, where: Where, path: string): Predicate => {
    const info = entities.get(type)!;
    const parts: Predicate[] = [];
    // graph-node refuses this at query time (its schema accepts it): the SDK's documents must not do it.
    const columns = Object.keys(where).filter((k) => k !== "or" && k !== "and" && k !== "_change_block");
    if ("or" in where && columns.length > 0) {
      fail(`${path}: Cannot mix column filters with 'or' operator at the same level. Found column filter(s) ${columns.map((c) => `'${c}'`).join(", ")} alongside 'or' operator (graph-node's rule: repeat them inside each 'or' clause)`);
    }
    for (const [key, raw] of Object.entries(where)) {
      const at = `${path}.${key}`;
      if (key === "and" || key === "or") {
        const subs = ((raw ?? []) as Where[]).map((w, i) => compileWhere(type, w, `${at}[${i}]`));
        parts.push(key === "and" ? (r) => subs.every((p) => p(r)) : (r) => subs.some((p) => p(r)));
        continue;
      }
      if (key === "_change_block") fail(`${at}: _change_block filters are not supported by the dev indexer (it keeps no history)`);
      if (key.endsWith("_") && info.fields.has(key.slice(0, -1))) {
        const f = info.fields.get(key.slice(0, -1))!;
        if (raw === null || typeof raw !== "object") fail(`${at}: a nested filter needs an object`);
        const sub = compileWhere(f.type, raw as Where, at);
        parts.push((r) => referenced(r, f).some(sub));
        continue;
      }
      const op = OPS.find((o) => key.endsWith(o) && info.fields.has(key.slice(0, -o.length))) ?? "";
      const f = fieldOf(type, op ? key.slice(0, -op.length) : key, path);
      if (f.derivedFrom) fail(`${at}: \`${f.name}\` is derived; filter it with \`${f.name}_\``);
      parts.push(condition(f, op, raw, at));
    }
    return (r) => parts.every((p) => p(r));
  };

  const sortKey = (r: Row, orderBy: string): Scalar | null => {
    const [name, sub] = orderBy.split("__") as [string, string | undefined];
    const f = fieldOf(r.type, name, "orderBy");
    if (f.list || f.derivedFrom) fail(`orderBy: cannot order by the list field \`${name}\``);
    if (sub !== undefined) {
      const target = referenced(r, f)[0];
      if (!target) return null;
      return sortKey(target, sub);
    }
    const v = r.data.get(name);
    return v && v.kind !== "Null" ? fromStore(v) : null;
  };

  const collection = (rows: Row[], type: string, args: Record<string, unknown>): Row[] => {
    const first = (args.first as number | undefined) ?? 100;
    const skip = (args.skip as number | undefined) ?? 0;
    if (first < 0 || first > MAX_FIRST) fail(`The \`first\` argument must be between 0 and ${MAX_FIRST}, but is ${first}`);
    if (skip < 0 || skip > MAX_SKIP) fail(`The \`skip\` argument must be between 0 and ${MAX_SKIP}, but is ${skip}`);
    const where = args.where as Where | undefined | null;
    const filtered = where ? rows.filter(compileWhere(type, where, "where")) : rows;
    const orderBy = (args.orderBy as string | undefined) ?? "id";
    const desc = args.orderDirection === "desc";
    const keyed = filtered.map((r) => ({ r, k: sortKey(r, orderBy), id: fromStore(r.data.get("id")!) }));
    keyed.sort((a, b) => {
      let c: number;
      if (a.k === null || b.k === null) c = a.k === b.k ? 0 : a.k === null ? 1 : -1; // nulls last ascending
      else c = compare(a.k, b.k);
      if (c === 0) c = compare(a.id, b.id);
      return desc ? -c : c;
    });
    return keyed.slice(skip, skip + first).map((x) => x.r);
  };

  const checkBlock = (block: unknown) => {
    if (block === undefined || block === null) return;
    const b = block as { hash?: string; number?: number; number_gte?: number };
    const head = source.head();
    const latest = (b.number === undefined || BigInt(b.number) === head.number) && (b.hash === undefined || b.hash.toLowerCase() === head.hash);
    if (b.number_gte !== undefined && BigInt(b.number_gte) > head.number) {
      fail(`block { number_gte: ${b.number_gte} }: the dev indexer has only indexed up to block ${head.number}`);
    }
    if (!latest) fail(`block ${JSON.stringify(b)}: time-travel queries are not supported by the dev indexer; it answers at its latest block ${head.number}`);
  };

  const toGraphql = (v: StoreValue): unknown => {
    switch (v.kind) {
      case "Int":
      case "Bool":
      case "String":
        return v.value;
      case "Null":
        return null;
      case "Array":
        return v.value.map(toGraphql);
      default:
        return formatValue(v); // BigInt, BigDecimal, Int8, Timestamp as decimal strings; Bytes as hex
    }
  };

  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (parent, args, _ctx, info) => {
    if (info.parentType.name === "Query") {
      if (info.fieldName === "_meta") {
        checkBlock(args.block);
        const head = source.head();
        return {
          block: { number: Number(head.number), hash: head.hash, timestamp: head.timestamp === null ? null : Number(head.timestamp), parentHash: null },
          deployment: source.deployment,
          hasIndexingErrors: source.hasIndexingErrors(),
        };
      }
      const root = roots.get(info.fieldName);
      if (!root) {
        const agg = [...aggregations].find((a) => pluralize(lowerFirst(a)) === info.fieldName);
        fail(agg ? `${info.fieldName}: aggregations (${agg}) are computed by graph-node; the dev indexer does not compute them` : `unknown query field ${info.fieldName}`);
      }
      checkBlock(args.block);
      if (root.single) return get(root.type, args.id as string);
      return collection(all(root.type), root.type, args);
    }
    if (isRow(parent)) {
      const f = fieldOf(parent.type, info.fieldName, parent.type);
      if (entities.has(f.type)) {
        const rows = referenced(parent, f);
        return f.list ? collection(rows, f.type, args) : (rows[0] ?? null);
      }
      const v = parent.data.get(f.name);
      return v ? toGraphql(v) : null;
    }
    return (parent as Record<string, unknown>)[info.fieldName];
  };

  return {
    schema,
    execute: (query, variables, operationName) =>
      Promise.resolve(graphql({ schema, source: query, variableValues: variables ?? null, operationName: operationName ?? null, fieldResolver })),
  };
}

/**
 * Derives the GraphQL *query* schema graph-node serves for a subgraph from its schema.graphql,
 * following graph-node's API generation (graph/src/schema/api.rs): per entity a single-entity
 * field (`request(id:)`) and a collection field (`requests(skip, first, orderBy, orderDirection,
 * where, block)`), `<Type>_filter` inputs with the scalar operators, `<Type>_orderBy` enums,
 * nested filters (`field_`), `and`/`or`, aggregations queried by `interval`, and `_meta`.
 *
 * No graph-node is available offline, so the SDK's query documents are validated against this
 * schema (sdk/test/subgraph-documents.test.ts). It covers what graph-node generates for the kinds
 * of fields this subgraph uses; the full-text search and subscription types are left out.
 */
import { readFileSync } from "node:fs";
import { Kind, parse, type ConstDirectiveNode, type FieldDefinitionNode, type TypeNode } from "graphql";

interface Field {
  name: string;
  type: string;
  list: boolean;
  nonNull: boolean;
  derived: boolean;
}

interface TypeInfo {
  name: string;
  kind: "entity" | "aggregation";
  fields: Field[];
  sdl: string;
}

/** Plural as graph-node's inflector forms it for these names (`slash` → `slashes`, `feeStats` stays). */
export function pluralize(name: string): string {
  if (/(ss|sh|ch|x|z)$/.test(name)) return `${name}es`;
  if (/s$/.test(name)) return name;
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  return `${name}s`;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function unwrap(t: TypeNode): { type: string; list: boolean; nonNull: boolean } {
  let nonNull = false;
  let list = false;
  let node = t;
  if (node.kind === Kind.NON_NULL_TYPE) {
    nonNull = true;
    node = node.type;
  }
  if (node.kind === Kind.LIST_TYPE) {
    list = true;
    node = node.type;
    if (node.kind === Kind.NON_NULL_TYPE) node = node.type;
  }
  if (node.kind !== Kind.NAMED_TYPE) throw new Error("nested lists are not supported");
  return { type: node.name.value, list, nonNull };
}

function has(directives: readonly ConstDirectiveNode[] | undefined, name: string): boolean {
  return directives?.some((d) => d.name.value === name) ?? false;
}

function printType(f: Field): string {
  const inner = f.list ? `[${f.type}!]` : f.type;
  return f.nonNull ? `${inner}!` : inner;
}

/** Operators graph-node generates for a scalar (or enum/reference) field. */
function operators(f: Field, isEnum: boolean, isEntity: boolean): [string, string][] {
  const t = isEntity ? "String" : f.type;
  if (f.list) {
    const list = `[${t}!]`;
    const ops: [string, string][] = [
      ["", list],
      ["_not", list],
      ["_contains", list],
      ["_not_contains", list],
    ];
    if (t === "String" || isEntity) ops.push(["_contains_nocase", list], ["_not_contains_nocase", list]);
    return ops;
  }
  const base: [string, string][] = [
    ["", t],
    ["_not", t],
    ["_in", `[${t}!]`],
    ["_not_in", `[${t}!]`],
  ];
  if (t === "Boolean" || isEnum) return base;
  base.push(["_gt", t], ["_lt", t], ["_gte", t], ["_lte", t]);
  if (t === "Bytes") base.push(["_contains", t], ["_not_contains", t]);
  if (t === "String") {
    for (const op of ["contains", "not_contains", "starts_with", "not_starts_with", "ends_with", "not_ends_with"]) {
      base.push([`_${op}`, t], [`_${op}_nocase`, t]);
    }
  }
  return base;
}

export function buildQuerySchemaSdl(schemaSdl: string): string {
  const doc = parse(schemaSdl);
  const enums: string[] = [];
  const enumNames = new Set<string>();
  const types: TypeInfo[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      enumNames.add(def.name.value);
      enums.push(`enum ${def.name.value} { ${(def.values ?? []).map((v) => v.name.value).join(" ")} }`);
    }
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const kind = has(def.directives, "entity") ? "entity" : has(def.directives, "aggregation") ? "aggregation" : null;
    if (!kind) continue;
    const fields = (def.fields ?? []).map((f: FieldDefinitionNode) => ({
      name: f.name.value,
      ...unwrap(f.type),
      derived: has(f.directives, "derivedFrom"),
    }));
    types.push({ name: def.name.value, kind, fields, sdl: "" });
  }
  const entityNames = new Set(types.map((t) => t.name));
  const out: string[] = [
    "scalar BigInt",
    "scalar BigDecimal",
    "scalar Bytes",
    "scalar Int8",
    "scalar Timestamp",
    "enum OrderDirection { asc desc }",
    "enum _SubgraphErrorPolicy_ { allow deny }",
    "enum Aggregation_interval { hour day }",
    "input Block_height { hash: Bytes number: Int number_gte: Int }",
    "input BlockChangedFilter { number_gte: Int! }",
    "type _Block_ { hash: Bytes number: Int! timestamp: Int parentHash: Bytes }",
    "type _Meta_ { block: _Block_! deployment: String! hasIndexingErrors: Boolean! }",
    ...enums,
  ];
  const collectionArgs = (t: string) =>
    `skip: Int = 0, first: Int = 100, orderBy: ${t}_orderBy, orderDirection: OrderDirection, where: ${t}_filter`;
  const queryFields: string[] = [];

  for (const t of types) {
    // Object type: entity-list fields take collection arguments.
    const objFields = t.fields.map((f) => {
      const args = entityNames.has(f.type) && f.list ? `(${collectionArgs(f.type)})` : "";
      const type = entityNames.has(f.type) && f.list ? `[${f.type}!]!` : printType(f);
      return `  ${f.name}${args}: ${type}`;
    });
    out.push(`type ${t.name} {\n${objFields.join("\n")}\n}`);

    // Filter input.
    const filter: string[] = [];
    for (const f of t.fields) {
      const isEntity = entityNames.has(f.type);
      if (!f.derived) {
        for (const [suffix, type] of operators(f, enumNames.has(f.type), isEntity)) filter.push(`  ${f.name}${suffix}: ${type}`);
      }
      if (isEntity) filter.push(`  ${f.name}_: ${f.type}_filter`);
    }
    filter.push("  _change_block: BlockChangedFilter", `  and: [${t.name}_filter]`, `  or: [${t.name}_filter]`);
    out.push(`input ${t.name}_filter {\n${filter.join("\n")}\n}`);

    // Order-by enum: own fields, and `ref__field` for the scalar fields of single references.
    const order: string[] = t.fields.map((f) => f.name);
    for (const f of t.fields) {
      const ref = types.find((r) => r.name === f.type);
      if (!ref || f.list) continue;
      for (const rf of ref.fields) if (!entityNames.has(rf.type) && !rf.list) order.push(`${f.name}__${rf.name}`);
    }
    out.push(`enum ${t.name}_orderBy { ${order.join(" ")} }`);

    const single = lowerFirst(t.name);
    const plural = pluralize(single);
    const common = "block: Block_height, subgraphError: _SubgraphErrorPolicy_! = deny";
    if (t.kind === "entity") {
      queryFields.push(`  ${single}(id: ID!, ${common}): ${t.name}`);
      queryFields.push(`  ${plural}(${collectionArgs(t.name)}, ${common}): [${t.name}!]!`);
    } else {
      queryFields.push(`  ${plural}(interval: Aggregation_interval!, ${collectionArgs(t.name)}, ${common}): [${t.name}!]!`);
    }
  }
  queryFields.push("  _meta(block: Block_height): _Meta_");
  out.push(`type Query {\n${queryFields.join("\n")}\n}`);
  return out.join("\n\n") + "\n";
}

export function buildQuerySchemaSdlFromFile(path: string): string {
  return buildQuerySchemaSdl(readFileSync(path, "utf8"));
}

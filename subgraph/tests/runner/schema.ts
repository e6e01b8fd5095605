/**
 * The parts of a subgraph schema the runner's store enforces the way graph-node does: entity
 * types, immutability, timeseries, non-null fields, field value kinds and `@derivedFrom` links.
 */
import { readFileSync } from "node:fs";
import { Kind, parse, type TypeNode, type ConstDirectiveNode } from "graphql";

export interface FieldInfo {
  name: string;
  /** Named type at the bottom (`BigInt`, `Bytes`, `Request`, an enum…). */
  type: string;
  nonNull: boolean;
  list: boolean;
  /** For `@derivedFrom(field: "x")`: `x` (the field is virtual, never stored). */
  derivedFrom?: string;
}

export interface EntityInfo {
  name: string;
  immutable: boolean;
  timeseries: boolean;
  fields: Map<string, FieldInfo>;
}

export interface SchemaInfo {
  entities: Map<string, EntityInfo>;
  enums: Set<string>;
}

function unwrap(type: TypeNode): { type: string; nonNull: boolean; list: boolean } {
  let nonNull = false;
  let list = false;
  let t = type;
  if (t.kind === Kind.NON_NULL_TYPE) {
    nonNull = true;
    t = t.type;
  }
  if (t.kind === Kind.LIST_TYPE) {
    list = true;
    t = t.type;
    if (t.kind === Kind.NON_NULL_TYPE) t = t.type;
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new Error("nested lists are not supported by subgraphs");
  return { type: t.name.value, nonNull, list };
}

function directiveArg(d: ConstDirectiveNode | undefined, name: string): string | boolean | undefined {
  const arg = d?.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  if (arg.value.kind === Kind.BOOLEAN) return arg.value.value;
  if (arg.value.kind === Kind.STRING) return arg.value.value;
  return undefined;
}

export function loadSchema(path: string): SchemaInfo {
  const doc = parse(readFileSync(path, "utf8"));
  const entities = new Map<string, EntityInfo>();
  const enums = new Set<string>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) enums.add(def.name.value);
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const entity = def.directives?.find((d) => d.name.value === "entity");
    if (!entity) continue; // @aggregation types are computed by graph-node, never set by mappings
    const fields = new Map<string, FieldInfo>();
    for (const f of def.fields ?? []) {
      const derived = f.directives?.find((d) => d.name.value === "derivedFrom");
      const derivedFrom = directiveArg(derived, "field");
      fields.set(f.name.value, {
        name: f.name.value,
        ...unwrap(f.type),
        ...(typeof derivedFrom === "string" ? { derivedFrom } : {}),
      });
    }
    entities.set(def.name.value, {
      name: def.name.value,
      immutable: directiveArg(entity, "immutable") === true,
      timeseries: directiveArg(entity, "timeseries") === true,
      fields,
    });
  }
  return { entities, enums };
}

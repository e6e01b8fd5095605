/**
 * An in-memory entity store with graph-node's checks: unknown entity types and fields, missing
 * non-null fields, value kinds that do not match the schema, and updates or removals of immutable
 * entities are errors (graph-node fails the handler on each of these).
 */
import type { Decimal } from "./decimal.ts";
import { toString as decimalToString } from "./decimal.ts";
import { toHex } from "./memory.ts";
import type { EntityInfo, FieldInfo, SchemaInfo } from "./schema.ts";

export type StoreValue =
  | { kind: "String"; value: string }
  | { kind: "Int"; value: number }
  | { kind: "BigDecimal"; value: Decimal }
  | { kind: "Bool"; value: boolean }
  | { kind: "Array"; value: StoreValue[] }
  | { kind: "Null" }
  | { kind: "Bytes"; value: Uint8Array }
  | { kind: "BigInt"; value: bigint }
  | { kind: "Int8"; value: bigint }
  | { kind: "Timestamp"; value: bigint };

export type EntityData = Map<string, StoreValue>;

/** The string form matchstick's `assert.fieldEquals` compares against. */
export function formatValue(v: StoreValue): string {
  switch (v.kind) {
    case "String":
      return v.value;
    case "Int":
      return String(v.value);
    case "BigDecimal":
      return decimalToString(v.value);
    case "Bool":
      return v.value ? "true" : "false";
    case "Array":
      return `[${v.value.map(formatValue).join(", ")}]`;
    case "Null":
      return "null";
    case "Bytes":
      return toHex(v.value);
    case "BigInt":
    case "Int8":
    case "Timestamp":
      return v.value.toString();
  }
}

const scalarKinds: Record<string, StoreValue["kind"][]> = {
  ID: ["String", "Bytes"],
  String: ["String"],
  Bytes: ["Bytes"],
  BigInt: ["BigInt"],
  BigDecimal: ["BigDecimal"],
  Int: ["Int"],
  Int8: ["Int8", "Int"],
  Boolean: ["Bool"],
  Timestamp: ["Timestamp", "Int8"],
};

export class EntityStore {
  readonly entities = new Map<string, Map<string, EntityData>>();
  readonly inBlock = new Map<string, Map<string, EntityData>>();
  private nextTimeseriesId = new Map<string, bigint>();

  constructor(private readonly schema: SchemaInfo) {}

  private info(type: string): EntityInfo {
    const info = this.schema.entities.get(type);
    if (!info) throw new Error(`store: unknown entity type \`${type}\` (not an @entity in schema.graphql)`);
    return info;
  }

  private allowedKinds(field: FieldInfo): StoreValue["kind"][] {
    const scalar = scalarKinds[field.type];
    if (scalar) return scalar;
    if (this.schema.enums.has(field.type)) return ["String"];
    const ref = this.schema.entities.get(field.type);
    if (ref) return this.allowedKinds(ref.fields.get("id")!);
    throw new Error(`store: field \`${field.name}\` has unknown type \`${field.type}\``);
  }

  private check(type: string, id: string, data: EntityData): void {
    const info = this.info(type);
    const where = `entity ${type}[${id}]`;
    for (const [name, value] of data) {
      const field = info.fields.get(name);
      if (!field) throw new Error(`store: ${where}: unknown field \`${name}\``);
      if (field.derivedFrom) throw new Error(`store: ${where}: derived field \`${name}\` cannot be set`);
      if (value.kind === "Null") continue;
      const allowed = this.allowedKinds(field);
      if (field.list) {
        if (value.kind !== "Array") throw new Error(`store: ${where}: field \`${name}\` is a list, got ${value.kind}`);
        for (const item of value.value) {
          if (!allowed.includes(item.kind)) {
            throw new Error(`store: ${where}: list \`${name}\` holds ${item.kind}, expected ${field.type}`);
          }
        }
      } else if (!allowed.includes(value.kind)) {
        throw new Error(`store: ${where}: field \`${name}\` is ${value.kind}, expected ${field.type}`);
      }
    }
    for (const field of info.fields.values()) {
      if (!field.nonNull || field.derivedFrom) continue;
      if (info.timeseries && (field.name === "id" || field.name === "timestamp")) continue;
      const value = data.get(field.name);
      if (!value || value.kind === "Null") {
        throw new Error(`store: ${where}: missing value for non-nullable field \`${field.name}\``);
      }
    }
  }

  set(type: string, id: string, data: EntityData): void {
    const info = this.info(type);
    if (info.timeseries) {
      // graph-node assigns timeseries ids itself, in insertion order.
      const next = (this.nextTimeseriesId.get(type) ?? 0n) + 1n;
      this.nextTimeseriesId.set(type, next);
      id = next.toString();
      data = new Map(data).set("id", { kind: "Int8", value: next });
    }
    this.check(type, id, data);
    const table = this.entities.get(type) ?? new Map<string, EntityData>();
    const existing = table.get(id);
    if (existing && info.immutable) {
      throw new Error(`store: entity ${type}[${id}] is immutable and was already set; it cannot be updated`);
    }
    // graph-node merges a set into the stored entity (fields not in `data` keep their values).
    const merged: EntityData = new Map(existing ?? []);
    for (const [k, v] of data) merged.set(k, v);
    table.set(id, merged);
    this.entities.set(type, table);
    const block = this.inBlock.get(type) ?? new Map<string, EntityData>();
    block.set(id, merged);
    this.inBlock.set(type, block);
  }

  get(type: string, id: string): EntityData | null {
    this.info(type);
    return this.entities.get(type)?.get(id) ?? null;
  }

  getInBlock(type: string, id: string): EntityData | null {
    this.info(type);
    return this.inBlock.get(type)?.get(id) ?? null;
  }

  remove(type: string, id: string): void {
    if (this.info(type).immutable) throw new Error(`store: entity ${type}[${id}] is immutable and cannot be removed`);
    this.entities.get(type)?.delete(id);
    this.inBlock.get(type)?.delete(id);
  }

  /** Entities of the type a derived field points at whose link field references `id`. */
  loadRelated(type: string, id: string, fieldName: string): EntityData[] {
    const field = this.info(type).fields.get(fieldName);
    if (!field?.derivedFrom) throw new Error(`store: ${type}.${fieldName} is not a @derivedFrom field`);
    const link = field.derivedFrom;
    const out: EntityData[] = [];
    for (const data of this.entities.get(field.type)?.values() ?? []) {
      const v = data.get(link);
      const refs = v?.kind === "Array" ? v.value : v ? [v] : [];
      if (refs.some((r) => formatValue(r) === id)) out.push(data);
    }
    return out;
  }

  count(type: string): number {
    return this.entities.get(type)?.size ?? 0;
  }

  clear(): void {
    this.entities.clear();
    this.inBlock.clear();
    this.nextTimeseriesId.clear();
  }

  clearInBlock(): void {
    this.inBlock.clear();
  }
}

/**
 * Checked reads of subgraph rows. graph-node returns BigInt and Bytes as strings and omits nothing it was asked
 * for, but a subgraph deployed from another schema (an older version, a fork) or a proxy can: every field the
 * query functions convert is checked here, and a missing or malformed one is a SubgraphResponseError naming the
 * entity, the field and the row, instead of `TypeError: Cannot convert undefined to a BigInt`.
 */
import type { Address, Hex } from "viem";
import { SubgraphResponseError } from "../errors/subgraph.ts";

type Json = Record<string, unknown>;

export class RowReader {
  constructor(
    private readonly row: Json,
    /** The entity, for messages: "Request". */
    readonly entity: string,
    /** Where the row is in the response: "requests[3]". */
    readonly path: string,
  ) {}

  static list(data: unknown, key: string, entity: string): RowReader[] {
    const value = data !== null && typeof data === "object" ? (data as Json)[key] : undefined;
    if (!Array.isArray(value)) throw new SubgraphResponseError({ entity, field: key, path: key, problem: value === undefined ? "missing" : "not a list", value });
    return value.map((row, i) => RowReader.of(row, entity, `${key}[${i}]`));
  }

  static of(row: unknown, entity: string, path: string): RowReader {
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new SubgraphResponseError({ entity, field: "", path, problem: "not an object", value: row });
    }
    return new RowReader(row as Json, entity, path);
  }

  private fail(field: string, problem: string, value: unknown): never {
    throw new SubgraphResponseError({ entity: this.entity, field, path: `${this.path}.${field}`, problem, value });
  }

  private present(field: string): unknown {
    if (!(field in this.row) || this.row[field] === undefined) this.fail(field, "missing", undefined);
    return this.row[field];
  }

  bigint(field: string): bigint {
    const v = this.present(field);
    if ((typeof v === "string" && /^-?\d+$/.test(v)) || (typeof v === "number" && Number.isSafeInteger(v))) return BigInt(v);
    return this.fail(field, "not an integer", v);
  }

  bigintOrNull(field: string): bigint | null {
    return this.present(field) === null ? null : this.bigint(field);
  }

  int(field: string): number {
    const v = this.present(field);
    if (typeof v === "number" && Number.isSafeInteger(v)) return v;
    return this.fail(field, "not an Int", v);
  }

  bool(field: string): boolean {
    const v = this.present(field);
    if (typeof v === "boolean") return v;
    return this.fail(field, "not a Boolean", v);
  }

  hex(field: string): Hex {
    const v = this.present(field);
    if (typeof v === "string" && /^0x([0-9a-fA-F]{2})*$/.test(v)) return v as Hex;
    return this.fail(field, "not 0x-prefixed bytes", v);
  }

  hexOrNull(field: string): Hex | null {
    return this.present(field) === null ? null : this.hex(field);
  }

  address(field: string): Address {
    const v = this.present(field);
    if (typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v)) return v as Address;
    return this.fail(field, "not an address", v);
  }

  string(field: string): string {
    const v = this.present(field);
    if (typeof v === "string") return v;
    return this.fail(field, "not a String", v);
  }

  stringOrNull(field: string): string | null {
    return this.present(field) === null ? null : this.string(field);
  }

  oneOf<const T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.present(field);
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(field, `not one of ${allowed.join(", ")}`, v);
  }

  oneOfOrNull<const T extends string>(field: string, allowed: readonly T[]): T | null {
    return this.present(field) === null ? null : this.oneOf(field, allowed);
  }

  /** A linked entity (`model { id modelId }`). */
  nested(field: string, entity: string): RowReader {
    const v = this.present(field);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(field, "not an object", v);
    return new RowReader(v as Json, entity, `${this.path}.${field}`);
  }

  nestedOrNull(field: string, entity: string): RowReader | null {
    return this.present(field) === null ? null : this.nested(field, entity);
  }
}

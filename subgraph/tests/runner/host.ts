/**
 * JavaScript implementations of the graph-node host functions (graph-ts's `declare`d imports) and
 * of matchstick's test host functions, for one instantiated test module.
 *
 * Imports are matched by name without the module prefix (as graph-node does). A host function the
 * runner does not implement is still provided, and throws when called, naming itself: a test can
 * never pass by silently skipping one.
 */
import { keccak256 } from "viem";
import * as dec from "./decimal.ts";
import { AsMemory, TypeId, bigIntFromLE, bigIntToLE, toHex } from "./memory.ts";
import { EntityStore, formatValue, type EntityData, type StoreValue } from "./store.ts";
import type { ImportDescriptor, Imports } from "./wasm.ts";

export class AbortError extends Error {}

export interface TestCase {
  name: string;
  shouldFail: boolean;
  fn: number;
}

export interface Scope {
  name: string;
  tests: TestCase[];
  children: Scope[];
  hooks: { beforeAll: number[]; afterAll: number[]; beforeEach: number[]; afterEach: number[] };
}

export function newScope(name: string): Scope {
  return { name, tests: [], children: [], hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] } };
}

export interface HostState {
  mem: AsMemory | null;
  store: EntityStore;
  /** Registration scope stack; [0] is the file scope. */
  scopes: Scope[];
  logs: string[];
  /** Assertion failures reported by the host (matchstick prints them; the test then aborts). */
  failures: string[];
  dataSource: { address: string; network: string };
  createdDataSources: Map<string, string[]>;
  callTable(index: number): void;
}

const ETH_KIND = ["address", "fixedBytes", "bytes", "int", "uint", "bool", "string", "fixedArray", "array", "tuple"];
const LOG_LEVEL = ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "SUCCESS"];

function readStoreValue(mem: AsMemory, ptr: number): StoreValue {
  const kind = mem.i32(ptr);
  const data = mem.u64(ptr + 8);
  const p = Number(data & 0xffffffffn);
  switch (kind) {
    case 0:
      return { kind: "String", value: mem.string(p) };
    case 1:
      return { kind: "Int", value: Number(BigInt.asIntN(32, data)) };
    case 2:
      return { kind: "BigDecimal", value: readDecimal(mem, p) };
    case 3:
      return { kind: "Bool", value: data !== 0n };
    case 4:
      return { kind: "Array", value: mem.array(p).map((e) => readStoreValue(mem, e)) };
    case 5:
      return { kind: "Null" };
    case 6:
      return { kind: "Bytes", value: mem.bytes(p) };
    case 7:
      return { kind: "BigInt", value: bigIntFromLE(mem.bytes(p)) };
    case 8:
      return { kind: "Int8", value: BigInt.asIntN(64, data) };
    case 9:
      return { kind: "Timestamp", value: BigInt.asIntN(64, data) };
    default:
      throw new Error(`unknown store value kind ${kind}`);
  }
}

function writeStoreValue(mem: AsMemory, v: StoreValue): number {
  const e = (kind: number, data: bigint) => mem.newEnum(kind, data, TypeId.StoreValue);
  switch (v.kind) {
    case "String":
      return e(0, BigInt(mem.newString(v.value)));
    case "Int":
      return e(1, BigInt(v.value));
    case "BigDecimal":
      return e(2, BigInt(writeDecimal(mem, v.value)));
    case "Bool":
      return e(3, v.value ? 1n : 0n);
    case "Array":
      return e(4, BigInt(mem.newArray(v.value.map((x) => writeStoreValue(mem, x)), TypeId.ArrayStoreValue)));
    case "Null":
      return e(5, 0n);
    case "Bytes":
      return e(6, BigInt(mem.newBytes(v.value)));
    case "BigInt":
      return e(7, BigInt(mem.newBytes(bigIntToLE(v.value))));
    case "Int8":
      return e(8, v.value);
    case "Timestamp":
      return e(9, v.value);
  }
}

function readDecimal(mem: AsMemory, ptr: number): dec.Decimal {
  return { digits: bigIntFromLE(mem.bytes(mem.u32(ptr))), exp: bigIntFromLE(mem.bytes(mem.u32(ptr + 4))) };
}

function writeDecimal(mem: AsMemory, d: dec.Decimal): number {
  return mem.newObject([mem.newBytes(bigIntToLE(d.digits)), mem.newBytes(bigIntToLE(d.exp))], TypeId.BigDecimal);
}

function readEntity(mem: AsMemory, ptr: number): EntityData {
  const data: EntityData = new Map();
  for (const entry of mem.array(mem.u32(ptr))) {
    data.set(mem.string(mem.u32(entry)), readStoreValue(mem, mem.u32(entry + 4)));
  }
  return data;
}

function writeEntity(mem: AsMemory, data: EntityData): number {
  const entries = [...data].map(([k, v]) =>
    mem.newObject([mem.newString(k), writeStoreValue(mem, v)], TypeId.TypedMapEntryStringStoreValue),
  );
  return mem.newObject([mem.newArray(entries, TypeId.ArrayTypedMapEntryStringStoreValue)], TypeId.TypedMapStringStoreValue);
}

/** An `ethereum.Value` as a comparable, printable string. */
function formatEthValue(mem: AsMemory, ptr: number): string {
  const kind = mem.i32(ptr);
  const data = mem.u64(ptr + 8);
  const p = Number(data & 0xffffffffn);
  const name = ETH_KIND[kind] ?? `kind${kind}`;
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return `${name}(${toHex(mem.bytes(p))})`;
    case 3:
    case 4:
      return `${name}(${bigIntFromLE(mem.bytes(p))})`;
    case 5:
      return `bool(${data !== 0n})`;
    case 6:
      return `string(${JSON.stringify(mem.string(p))})`;
    default:
      return `${name}[${mem.array(p).map((e) => formatEthValue(mem, e)).join(", ")}]`;
  }
}

export function createImports(
  state: HostState,
  moduleImports: ImportDescriptor[],
): Imports {
  const m = (): AsMemory => {
    if (!state.mem) throw new Error("host function called before the module was instantiated");
    return state.mem;
  };
  const str = (p: number) => m().string(p);
  const big = (p: number) => bigIntFromLE(m().bytes(p));
  const newBig = (n: bigint) => m().newBytes(bigIntToLE(n));
  const newDec = (d: dec.Decimal) => writeDecimal(m(), d);
  const readDec = (p: number) => readDecimal(m(), p);
  const fail = (message: string): false => {
    state.failures.push(message);
    return false;
  };
  const fieldEquals = (type: string, id: string, field: string, expected: string, message?: string): boolean => {
    const entity = state.store.get(type, id);
    if (!entity) return fail(message ?? `assert.fieldEquals: ${type}[${id}] is not in the store`);
    const value = entity.get(field);
    const actual = value ? formatValue(value) : "null";
    if (actual === expected) return true;
    return fail(message ?? `assert.fieldEquals: ${type}[${id}].${field}: expected "${expected}", got "${actual}"`);
  };
  const equals = (a: number, b: number, message?: string): boolean => {
    const x = formatEthValue(m(), a);
    const y = formatEthValue(m(), b);
    return x === y || fail(message ?? `assert.equals: expected ${x}, got ${y}`);
  };
  const notInStore = (type: string, id: string, message?: string): boolean =>
    state.store.get(type, id) === null || fail(message ?? `assert.notInStore: ${type}[${id}] is in the store`);
  const dsCount = (template: string, n: number, message?: string): boolean => {
    const got = state.createdDataSources.get(template)?.length ?? 0;
    return got === n || fail(message ?? `assert.dataSourceCount: ${template}: expected ${n}, got ${got}`);
  };
  const dsExists = (template: string, address: string, message?: string): boolean =>
    (state.createdDataSources.get(template) ?? []).some((a) => a.toLowerCase() === address.toLowerCase()) ||
    fail(message ?? `assert.dataSourceExists: ${template} at ${address} was not created`);
  const register = (scope: Scope | undefined): Scope => {
    if (!scope) throw new Error("registration outside any scope");
    return scope;
  };

  const fns: Record<string, (...args: number[]) => number | bigint | void> = {
    abort(msg, file, line, col) {
      const text = msg ? str(msg) : "abort";
      const where = file ? ` (${str(file)}:${line}:${col})` : "";
      throw new AbortError(text + where);
    },
    // graph-ts: store
    "store.get": (t, id) => {
      const e = state.store.get(str(t), str(id));
      return e ? writeEntity(m(), e) : 0;
    },
    "store.get_in_block": (t, id) => {
      const e = state.store.getInBlock(str(t), str(id));
      return e ? writeEntity(m(), e) : 0;
    },
    "store.set": (t, id, data) => state.store.set(str(t), str(id), readEntity(m(), data)),
    "store.remove": (t, id) => state.store.remove(str(t), str(id)),
    "store.loadRelated": (t, id, field) =>
      m().newArray(
        state.store.loadRelated(str(t), str(id), str(field)).map((e) => writeEntity(m(), e)),
        TypeId.ArrayTypedMapEntryStringStoreValue,
      ),
    // graph-ts: crypto, log
    "crypto.keccak256": (p) => m().newBytes(Buffer.from(keccak256(m().bytes(p)).slice(2), "hex")),
    "log.log": (level, msg) => {
      const text = `[${LOG_LEVEL[level] ?? level}] ${str(msg)}`;
      state.logs.push(text);
      // graph-node fails the handler on a critical log; matchstick fails the test.
      if (level === 0) throw new AbortError(`log.critical: ${str(msg)}`);
    },
    // graph-ts: BigInt
    "bigInt.plus": (a, b) => newBig(big(a) + big(b)),
    "bigInt.minus": (a, b) => newBig(big(a) - big(b)),
    "bigInt.times": (a, b) => newBig(big(a) * big(b)),
    "bigInt.dividedBy": (a, b) => {
      const d = big(b);
      if (d === 0n) throw new AbortError("BigInt division by zero");
      return newBig(big(a) / d);
    },
    "bigInt.dividedByDecimal": (a, b) => newDec(dec.dividedBy({ digits: big(a), exp: 0n }, readDec(b))),
    "bigInt.mod": (a, b) => {
      const d = big(b);
      if (d === 0n) throw new AbortError("BigInt modulo by zero");
      return newBig(big(a) % d);
    },
    "bigInt.pow": (a, e) => newBig(big(a) ** BigInt(e)),
    "bigInt.fromString": (s) => newBig(BigInt(str(s))),
    "bigInt.bitOr": (a, b) => newBig(big(a) | big(b)),
    "bigInt.bitAnd": (a, b) => newBig(big(a) & big(b)),
    "bigInt.leftShift": (a, n) => newBig(big(a) << BigInt(n)),
    "bigInt.rightShift": (a, n) => newBig(big(a) >> BigInt(n)),
    // graph-ts: BigDecimal
    "bigDecimal.plus": (a, b) => newDec(dec.plus(readDec(a), readDec(b))),
    "bigDecimal.minus": (a, b) => newDec(dec.minus(readDec(a), readDec(b))),
    "bigDecimal.times": (a, b) => newDec(dec.times(readDec(a), readDec(b))),
    "bigDecimal.dividedBy": (a, b) => newDec(dec.dividedBy(readDec(a), readDec(b))),
    "bigDecimal.equals": (a, b) => (dec.equals(readDec(a), readDec(b)) ? 1 : 0),
    "bigDecimal.toString": (a) => m().newString(dec.toString(readDec(a))),
    "bigDecimal.fromString": (s) => newDec(dec.fromString(str(s))),
    // graph-ts: typeConversion
    "typeConversion.bytesToString": (p) =>
      m().newString(Buffer.from(m().bytes(p)).toString("utf8").replace(/\u0000/g, "")),
    "typeConversion.bytesToHex": (p) => m().newString(toHex(m().bytes(p))),
    "typeConversion.bigIntToString": (p) => m().newString(big(p).toString()),
    "typeConversion.bigIntToHex": (p) => {
      const n = big(p);
      return m().newString(n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);
    },
    "typeConversion.stringToH160": (p) => {
      const s = str(p);
      const hex = s.startsWith("0x") ? s.slice(2) : s;
      if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new AbortError(`stringToH160: not a 20-byte hex address: "${s}"`);
      return m().newBytes(Buffer.from(hex, "hex"));
    },
    // graph-ts: dataSource
    "dataSource.address": () => m().newBytes(Buffer.from(state.dataSource.address.slice(2), "hex")),
    "dataSource.network": () => m().newString(state.dataSource.network),
    "dataSource.context": () => writeEntity(m(), new Map()),
    "dataSource.create": (name, params) => {
      const list = state.createdDataSources.get(str(name)) ?? [];
      list.push(...m().array(params).map(str));
      state.createdDataSources.set(str(name), list);
    },
    // matchstick: registration
    _registerTest: (name, shouldFail, fn) => {
      register(state.scopes.at(-1)).tests.push({ name: str(name), shouldFail: shouldFail !== 0, fn });
    },
    _registerDescribe: (name, fn) => {
      const scope = newScope(str(name));
      register(state.scopes.at(-1)).children.push(scope);
      state.scopes.push(scope);
      try {
        state.callTable(fn);
      } finally {
        state.scopes.pop();
      }
    },
    _registerHook: (fn, type) => {
      const kind = str(type) as keyof Scope["hooks"];
      const hooks = register(state.scopes.at(-1)).hooks[kind];
      if (!hooks) throw new Error(`unknown hook type ${kind}`);
      hooks.push(fn);
    },
    // matchstick: store helpers
    clearStore: () => state.store.clear(),
    clearInBlockStore: () => state.store.clearInBlock(),
    countEntities: (t) => state.store.count(str(t)),
    logStore: () => {
      for (const [type, table] of state.store.entities) {
        for (const [id, data] of table) {
          state.logs.push(`${type}[${id}] ${[...data].map(([k, v]) => `${k}=${formatValue(v)}`).join(" ")}`);
        }
      }
    },
    logEntity: (t, id) => {
      const e = state.store.get(str(t), str(id));
      state.logs.push(`${str(t)}[${str(id)}] ${e ? [...e].map(([k, v]) => `${k}=${formatValue(v)}`).join(" ") : "(none)"}`);
    },
    "dataSourceMock.setReturnValues": (address, network) => {
      state.dataSource = { address: str(address), network: str(network) };
    },
    // matchstick: assertions
    "_assert.fieldEquals": (t, id, f, v) => (fieldEquals(str(t), str(id), str(f), str(v)) ? 1 : 0),
    "_assert.fieldEqualsWithMessage": (t, id, f, v, msg) =>
      fieldEquals(str(t), str(id), str(f), str(v), str(msg)) ? 1 : 0,
    "_assert.equals": (a, b) => (equals(a, b) ? 1 : 0),
    "_assert.equalsWithMessage": (a, b, msg) => (equals(a, b, str(msg)) ? 1 : 0),
    "_assert.notInStore": (t, id) => (notInStore(str(t), str(id)) ? 1 : 0),
    "_assert.notInStoreWithMessage": (t, id, msg) => (notInStore(str(t), str(id), str(msg)) ? 1 : 0),
    "_assert.dataSourceCount": (t, n) => (dsCount(str(t), n) ? 1 : 0),
    "_assert.dataSourceCountWithMessage": (t, n, msg) => (dsCount(str(t), n, str(msg)) ? 1 : 0),
    "_assert.dataSourceExists": (t, a) => (dsExists(str(t), str(a)) ? 1 : 0),
    "_assert.dataSourceExistsWithMessage": (t, a, msg) => (dsExists(str(t), str(a), str(msg)) ? 1 : 0),
  };

  const imports: Imports = {};
  for (const imp of moduleImports) {
    if (imp.kind !== "function") throw new Error(`unsupported import kind ${imp.kind} for ${imp.module}.${imp.name}`);
    const fn =
      fns[imp.name] ??
      ((..._args: number[]) => {
        throw new Error(`host function ${imp.module}.${imp.name} is not implemented by the offline test runner`);
      });
    (imports[imp.module] ??= {})[imp.name] = fn;
  }
  return imports;
}

/**
 * Runs one compiled mapping handler on one chain event, as graph-node does: a fresh instance of the
 * mapping module per trigger (module-level state never survives a trigger), `_start` first, the
 * `ethereum.Event` written into the module's memory in graph-node's layout (graph-ts
 * chain/ethereum.ts: Event, Block, Transaction, EventParam, Value), then the handler. The host
 * functions and the store are the offline runner's (subgraph/tests/runner/host.ts, store.ts).
 */
import { readFileSync } from "node:fs";
import { decodeEventLog, hexToBytes, type AbiEvent, type AbiParameter, type Hex } from "viem";
import { AbortError, createImports, newScope, type HostState } from "../tests/runner/host.ts";
import { AsMemory, TypeId, bigIntToLE, type AsExports } from "../tests/runner/memory.ts";
import type { EntityStore } from "../tests/runner/store.ts";
import { wasm } from "../tests/runner/wasm.ts";

/** ethereum.ValueKind (graph-ts chain/ethereum.ts). */
const ValueKind = { Address: 0, FixedBytes: 1, Bytes: 2, Int: 3, Uint: 4, Bool: 5, String: 6, FixedArray: 7, Array: 8, Tuple: 9 } as const;

export interface EventBlock {
  hash: Hex;
  parentHash: Hex;
  sha3Uncles: Hex;
  miner: Hex;
  stateRoot: Hex;
  transactionsRoot: Hex;
  receiptsRoot: Hex;
  number: bigint;
  gasUsed: bigint;
  gasLimit: bigint;
  timestamp: bigint;
  difficulty: bigint;
  totalDifficulty: bigint | null;
  size: bigint | null;
  baseFeePerGas: bigint | null;
}

export interface EventTransaction {
  hash: Hex;
  transactionIndex: number;
  from: Hex;
  to: Hex | null;
  value: bigint;
  gas: bigint;
  gasPrice?: bigint | undefined;
  input: Hex;
  nonce: number;
}

export interface EventLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  logIndex: number;
}

export interface Trigger {
  handler: string;
  event: AbiEvent;
  log: EventLog;
  block: EventBlock;
  transaction: EventTransaction;
}

export class HandlerError extends Error {
  constructor(
    message: string,
    /** The mapping's log lines up to the failure. */
    readonly logs: string[],
  ) {
    super(message);
    this.name = "HandlerError";
  }
}

const dynamic = (p: AbiParameter) => p.type === "string" || p.type === "bytes" || p.type === "tuple" || p.type.endsWith("]");

function writeValue(mem: AsMemory, param: AbiParameter, value: unknown): number {
  const e = (kind: number, data: number | bigint) => mem.newEnum(kind, BigInt(data), TypeId.EthereumValue);
  const list = (kind: number, items: number[]) => e(kind, mem.newArray(items, TypeId.ArrayEthereumValue));
  const type = param.type;
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const inner = { ...param, type: array[1]! } as AbiParameter;
    return list(array[2] === "" ? ValueKind.Array : ValueKind.FixedArray, (value as unknown[]).map((v) => writeValue(mem, inner, v)));
  }
  if (type === "tuple") {
    const components = (param as { components: readonly AbiParameter[] }).components;
    const get = (c: AbiParameter, i: number) => (Array.isArray(value) ? value[i] : (value as Record<string, unknown>)[c.name!]);
    return list(ValueKind.Tuple, components.map((c, i) => writeValue(mem, c, get(c, i))));
  }
  if (type === "address") return e(ValueKind.Address, mem.newBytes(hexToBytes(value as Hex)));
  if (type === "bytes") return e(ValueKind.Bytes, mem.newBytes(hexToBytes(value as Hex)));
  if (/^bytes\d+$/.test(type)) return e(ValueKind.FixedBytes, mem.newBytes(hexToBytes(value as Hex)));
  if (/^int\d*$/.test(type)) return e(ValueKind.Int, mem.newBytes(bigIntToLE(value as bigint)));
  if (/^uint\d*$/.test(type)) return e(ValueKind.Uint, mem.newBytes(bigIntToLE(BigInt(value as bigint | number))));
  if (type === "bool") return e(ValueKind.Bool, value ? 1 : 0);
  if (type === "string") return e(ValueKind.String, mem.newString(value as string));
  throw new Error(`ABI type ${type} of parameter ${param.name ?? "?"} cannot be passed to a mapping`);
}

/** The event's parameters in ABI order; an indexed parameter of a dynamic type is its topic (graph-node passes the hash). */
function writeParams(mem: AsMemory, event: AbiEvent, log: EventLog): number {
  const { args } = decodeEventLog({ abi: [event], data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true });
  const values = args as unknown as Record<string, unknown> | unknown[];
  const params = event.inputs.map((input, i) => {
    const raw = Array.isArray(values) ? values[i] : values[input.name!];
    const value =
      input.indexed && dynamic(input)
        ? mem.newEnum(ValueKind.FixedBytes, BigInt(mem.newBytes(hexToBytes(raw as Hex))), TypeId.EthereumValue)
        : writeValue(mem, input, raw);
    return mem.newObject([mem.newString(input.name ?? ""), value], TypeId.EventParam);
  });
  return mem.newArray(params, TypeId.ArrayEventParam);
}

function writeEvent(mem: AsMemory, t: Trigger): number {
  const bytes = (h: Hex) => mem.newBytes(hexToBytes(h));
  const big = (n: bigint) => mem.newBytes(bigIntToLE(n));
  const b = t.block;
  const block = mem.newObject(
    [
      bytes(b.hash),
      bytes(b.parentHash),
      bytes(b.sha3Uncles),
      bytes(b.miner),
      bytes(b.stateRoot),
      bytes(b.transactionsRoot),
      bytes(b.receiptsRoot),
      big(b.number),
      big(b.gasUsed),
      big(b.gasLimit),
      big(b.timestamp),
      big(b.difficulty),
      big(b.totalDifficulty ?? 0n),
      b.size === null ? 0 : big(b.size),
      b.baseFeePerGas === null ? 0 : big(b.baseFeePerGas),
    ],
    TypeId.EthereumBlock,
  );
  const tx = t.transaction;
  const transaction = mem.newObject(
    [
      bytes(tx.hash),
      big(BigInt(tx.transactionIndex)),
      bytes(tx.from),
      tx.to === null ? 0 : bytes(tx.to),
      big(tx.value),
      big(tx.gas),
      big(tx.gasPrice ?? 0n),
      bytes(tx.input),
      big(BigInt(tx.nonce)),
    ],
    TypeId.EthereumTransaction,
  );
  const logIndex = big(BigInt(t.log.logIndex));
  // The node gives no transaction-relative log index (`transactionLogIndex` is a Parity field): graph-node
  // then passes the block's log index, as here. No mapping reads it.
  return mem.newObject(
    [bytes(t.log.address), logIndex, logIndex, 0, block, transaction, writeParams(mem, t.event, t.log), 0],
    TypeId.EthereumEvent,
  );
}

/** Compiled mapping modules by file, shared by every trigger of the data sources using them. */
export class MappingRunner {
  private readonly modules = new Map<string, Promise<object>>();

  constructor(
    private readonly store: EntityStore,
    private readonly network: string,
  ) {}

  private module(wasmFile: string): Promise<object> {
    let m = this.modules.get(wasmFile);
    if (!m) {
      m = wasm.compile(readFileSync(wasmFile));
      this.modules.set(wasmFile, m);
    }
    return m;
  }

  /**
   * Runs `trigger.handler` of the mapping in `wasmFile` for the data source at `address`. Returns the
   * data sources the handler created from templates (template name → addresses) and its log lines.
   */
  async run(wasmFile: string, address: Hex, trigger: Trigger): Promise<{ created: Map<string, string[]>; logs: string[] }> {
    const module = await this.module(wasmFile);
    const state: HostState = {
      mem: null,
      store: this.store,
      scopes: [newScope("")],
      logs: [],
      failures: [],
      dataSource: { address, network: this.network },
      createdDataSources: new Map(),
      callTable() {
        throw new Error("a mapping handler called a test callback");
      },
    };
    try {
      const instance = await wasm.instantiate(module, createImports(state, wasm.Module.imports(module)));
      const exports = instance.exports as unknown as AsExports & Record<string, unknown>;
      state.mem = new AsMemory(exports);
      exports._start?.();
      const handler = exports[trigger.handler];
      if (typeof handler !== "function") throw new Error(`the mapping ${wasmFile} exports no function ${trigger.handler}`);
      (handler as (event: number) => void)(writeEvent(state.mem, trigger));
    } catch (e) {
      const message = e instanceof AbortError || e instanceof Error ? e.message : String(e);
      throw new HandlerError(
        `${trigger.handler} failed on ${trigger.event.name} (block ${trigger.block.number}, log ${trigger.log.logIndex}, tx ${trigger.transaction.hash}): ${message}`,
        state.logs,
      );
    }
    return { created: state.createdDataSources, logs: state.logs };
  }
}

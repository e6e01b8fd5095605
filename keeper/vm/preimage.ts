/**
 * The preimage oracle, off chain (docs/protocol.md §4.5).
 *
 * A `PreimageSource` answers the guest's keys with unframed data; the VM frames it
 * (`u64 BE length ‖ data`) and serves 32-byte parts like `PreimageOracle.readPreimage`. Keys are
 * the guest's own: a local key (type 1) is looked up as written by the guest, and `localizeKey`
 * gives the key the on-chain oracle stores it under for a (caller, localContext) pair.
 */
import { VmStepError } from "./errors.ts";
import { type Hex, bytesEqual, concatBytes, fromHex, toHex } from "./hex.ts";
import { keccak256 } from "./keccak.ts";

export const KEY_TYPE_LOCAL = 1;
export const KEY_TYPE_KECCAK = 2;
export const MAX_PREIMAGE_BYTES = 32768;
export const MAX_LOCAL_BYTES = 32;

/** Where the VM gets preimages and sends hints. */
export interface PreimageSource {
  /** The data (unframed) for a 32-byte key, as the guest wrote it. Throw if unknown. */
  getPreimage(key: Uint8Array): Uint8Array;
  /** Bytes the guest wrote to the hint descriptor (fd 4), one call per write syscall. */
  hint?(hint: Uint8Array): void;
}

/** The key of keccak-keyed data: keccak256(data) with its first byte set to 2. */
export function keccakKey(data: Uint8Array): Uint8Array {
  const key = keccak256(data);
  key[0] = KEY_TYPE_KECCAK;
  return key;
}

/** The local key for identifier `ident` (1 model root, 2 node index, 3 pre-state, 4 post-state). */
export function localKey(ident: bigint | number): Uint8Array {
  const id = BigInt(ident);
  if (id < 0n || id >= 1n << 248n) throw new RangeError(`local key identifier out of range: ${id}`);
  const key = new Uint8Array(32);
  let v = id;
  for (let i = 31; i >= 1; i--) {
    key[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  key[0] = KEY_TYPE_LOCAL;
  return key;
}

/** Who reads local data on chain: the contract calling `MIPS.step`, and its local context. */
export interface LocalContext {
  caller: Hex;
  localContext: Hex;
}

/**
 * The key a local key is stored under in the on-chain oracle (§4.5):
 * keccak256(key ‖ bytes32(caller) ‖ localContext) with its first byte set to 1.
 * Keys of other types are returned unchanged.
 */
export function localizeKey(key: Uint8Array, ctx: LocalContext): Uint8Array {
  if (key[0] !== KEY_TYPE_LOCAL) return key.slice();
  const caller = fromHex(ctx.caller);
  const context = fromHex(ctx.localContext);
  if (caller.length !== 20) throw new RangeError(`caller must be a 20-byte address, got ${ctx.caller}`);
  if (context.length !== 32) throw new RangeError(`localContext must be 32 bytes, got ${ctx.localContext}`);
  const paddedCaller = new Uint8Array(32);
  paddedCaller.set(caller, 12);
  const out = keccak256(concatBytes(key, paddedCaller, context));
  out[0] = KEY_TYPE_LOCAL;
  return out;
}

/** `u64 BE length ‖ data`. */
export function framePreimage(data: Uint8Array): Uint8Array {
  const framed = new Uint8Array(8 + data.length);
  new DataView(framed.buffer).setBigUint64(0, BigInt(data.length));
  framed.set(data, 8);
  return framed;
}

/** A part of a framed preimage, as `PreimageOracle.readPreimage` returns it. */
export interface PreimagePart {
  part: Uint8Array;
  partLen: number;
}

/**
 * The 32 bytes at `offset` of the framed preimage (zero-padded) and their length (§4.5), in `out` if given (its
 * part overwritten: fast mode's syscalls reuse one) or a new part.
 */
export function preimagePart(framed: Uint8Array, key: Uint8Array, offset: number, out?: PreimagePart): PreimagePart {
  if (offset > framed.length) {
    throw new VmStepError("PartOffsetOOB", [toHex(key), offset], `offset ${offset} past the framed length ${framed.length}`);
  }
  const res = out ?? { part: new Uint8Array(32), partLen: 0 };
  const part = res.part;
  const partLen = Math.min(32, framed.length - offset);
  // Loops, not set(subarray)/fill: no view allocated (fast mode reads 4 bytes per call).
  for (let i = 0; i < partLen; i++) part[i] = framed[offset + i]!;
  if (out !== undefined) for (let i = partLen; i < 32; i++) part[i] = 0;
  res.partLen = partLen;
  return res;
}

/** Checks data against the limits and, for a keccak key, its hash (as the on-chain oracle does). */
export function checkPreimage(key: Uint8Array, data: Uint8Array): void {
  if (key[0] === KEY_TYPE_KECCAK) {
    if (data.length > MAX_PREIMAGE_BYTES) {
      throw new RangeError(`preimage of ${toHex(key)} has ${data.length} bytes, more than ${MAX_PREIMAGE_BYTES}`);
    }
    if (!bytesEqual(keccakKey(data), key)) throw new RangeError(`data does not hash to keccak key ${toHex(key)}`);
  } else if (key[0] === KEY_TYPE_LOCAL) {
    if (data.length > MAX_LOCAL_BYTES) {
      throw new RangeError(`local datum ${toHex(key)} has ${data.length} bytes, more than ${MAX_LOCAL_BYTES}`);
    }
  } else {
    throw new RangeError(`unknown preimage key type ${key[0]} in ${toHex(key)}`);
  }
}

/**
 * An in-memory source: keccak data added with `addKeccak` (keyed by hash) and local data with
 * `setLocal`. Checks sizes and hashes on the way in.
 */
export class MapPreimageSource implements PreimageSource {
  private readonly data = new Map<string, Uint8Array>();
  readonly hints: Uint8Array[] = [];

  addKeccak(data: Uint8Array): Uint8Array {
    const key = keccakKey(data);
    this.set(key, data);
    return key;
  }

  setLocal(ident: bigint | number, data: Uint8Array): Uint8Array {
    const key = localKey(ident);
    this.set(key, data);
    return key;
  }

  set(key: Uint8Array, data: Uint8Array): void {
    if (key.length !== 32) throw new RangeError(`preimage key must be 32 bytes, got ${key.length}`);
    checkPreimage(key, data);
    this.data.set(toHex(key), data.slice());
  }

  getPreimage(key: Uint8Array): Uint8Array {
    const data = this.data.get(toHex(key));
    if (data === undefined) {
      throw new VmStepError("PreimageNotFound", [toHex(key)], "the preimage source has no data for this key");
    }
    return data;
  }

  hint(hint: Uint8Array): void {
    this.hints.push(hint.slice());
  }

  /** All (key, data) pairs, e.g. to load them into the on-chain oracle. */
  entries(): { key: Uint8Array; data: Uint8Array }[] {
    return [...this.data.entries()].map(([k, data]) => ({ key: fromHex(k), data }));
  }
}

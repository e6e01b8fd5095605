/**
 * The packed VM state and its hash (docs/protocol.md §4.1).
 *
 * | off | size | field          |
 * |----:|-----:|----------------|
 * |   0 |   32 | memRoot        |
 * |  32 |   32 | preimageKey    |
 * |  64 |    4 | preimageOffset |
 * |  68 |    4 | pc             |
 * |  72 |    4 | nextPC         |
 * |  76 |    4 | lo             |
 * |  80 |    4 | hi             |
 * |  84 |    4 | heap           |
 * |  88 |    1 | exitCode       |
 * |  89 |    1 | exited         |
 * |  90 |    8 | step           |
 * |  98 |  128 | registers[32]  |
 */
import { VmStepError } from "./errors.ts";
import { type Hex, toHex } from "./hex.ts";
import { keccak256 } from "./keccak.ts";

export const STATE_SIZE = 226;
/** First address handed out by mmap; program segments must end below it (§4.6, §4.7). */
export const HEAP_START = 0x20000000;
/** Initial stack pointer (§4.7). */
export const INITIAL_SP = 0x7fff_f000;

export const VmStatus = { VALID: 0, INVALID: 1, PANIC: 2, UNFINISHED: 3 } as const;
export type VmStatus = (typeof VmStatus)[keyof typeof VmStatus];

/** A decoded state. All 32-bit fields are unsigned numbers. */
export interface VmState {
  memRoot: Uint8Array;
  preimageKey: Uint8Array;
  preimageOffset: number;
  pc: number;
  nextPC: number;
  lo: number;
  hi: number;
  heap: number;
  exitCode: number;
  exited: boolean;
  step: bigint;
  /** 32 registers; registers[0] is 0. */
  registers: Uint32Array;
}

/** The status a game reads from the top byte of a state hash. */
export function vmStatus(exited: boolean, exitCode: number): VmStatus {
  if (!exited) return VmStatus.UNFINISHED;
  if (exitCode === 0) return VmStatus.VALID;
  if (exitCode === 1) return VmStatus.INVALID;
  return VmStatus.PANIC;
}

export function encodeState(s: VmState): Uint8Array {
  if (s.memRoot.length !== 32 || s.preimageKey.length !== 32) {
    throw new RangeError("encodeState: memRoot and preimageKey must be 32 bytes");
  }
  if (s.registers.length !== 32) throw new RangeError("encodeState: need 32 registers");
  const out = new Uint8Array(STATE_SIZE);
  const view = new DataView(out.buffer);
  out.set(s.memRoot, 0);
  out.set(s.preimageKey, 32);
  view.setUint32(64, s.preimageOffset >>> 0);
  view.setUint32(68, s.pc >>> 0);
  view.setUint32(72, s.nextPC >>> 0);
  view.setUint32(76, s.lo >>> 0);
  view.setUint32(80, s.hi >>> 0);
  view.setUint32(84, s.heap >>> 0);
  out[88] = s.exitCode & 0xff;
  out[89] = s.exited ? 1 : 0;
  view.setBigUint64(90, BigInt.asUintN(64, s.step));
  for (let i = 0; i < 32; i++) view.setUint32(98 + 4 * i, s.registers[i]! >>> 0);
  return out;
}

/** Decodes a packed state; fails like `MIPS.step` on a malformed one (§4.1). */
export function decodeState(packed: Uint8Array): VmState {
  if (packed.length !== STATE_SIZE) {
    throw new VmStepError("InvalidState", [], `packed state must be ${STATE_SIZE} bytes, got ${packed.length}`);
  }
  const exitedByte = packed[89]!;
  if (exitedByte > 1) {
    throw new VmStepError("InvalidState", [], `exited byte must be 0 or 1, got ${exitedByte}`);
  }
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const registers = new Uint32Array(32);
  for (let i = 0; i < 32; i++) registers[i] = view.getUint32(98 + 4 * i);
  if (registers[0] !== 0) {
    throw new VmStepError("InvalidState", [], `registers[0] must be 0, got 0x${registers[0]!.toString(16)}`);
  }
  return {
    memRoot: packed.slice(0, 32),
    preimageKey: packed.slice(32, 64),
    preimageOffset: view.getUint32(64),
    pc: view.getUint32(68),
    nextPC: view.getUint32(72),
    lo: view.getUint32(76),
    hi: view.getUint32(80),
    heap: view.getUint32(84),
    exitCode: packed[88]!,
    exited: exitedByte === 1,
    step: view.getBigUint64(90),
    registers,
  };
}

/** keccak256(packed) with the top byte replaced by the status (§4.1). */
export function stateHashBytes(packed: Uint8Array): Uint8Array {
  if (packed.length !== STATE_SIZE) throw new RangeError(`stateHash: need ${STATE_SIZE} bytes`);
  const h = keccak256(packed);
  h[0] = vmStatus(packed[89] === 1, packed[88]!);
  return h;
}

export function stateHash(packed: Uint8Array): Hex {
  return toHex(stateHashBytes(packed));
}

/** The status encoded in a state hash. */
export function statusOfHash(hash: Hex): VmStatus {
  const status = Number.parseInt(hash.slice(2, 4), 16);
  if (status > 3) throw new RangeError(`not a VM state hash (status byte ${status}): ${hash}`);
  return status as VmStatus;
}

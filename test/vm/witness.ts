/**
 * Encoders for hand-made VM witnesses (docs/protocol.md §4.1, §4.2, §4.5): the packed state, its
 * status-tagged hash, and memory proofs over a sparse memory of a few leaves. Not a VM: the tests
 * state every expected post-state themselves. Written from the spec, independently of both
 * contracts/vm and keeper/vm, so that agreeing with MIPS.step checks the encodings themselves.
 */
import { type Hex, bytesToHex, concat, hexToBytes, keccak256, pad, toHex } from "viem";

export const STATE_SIZE = 226;
export const MEMORY_DEPTH = 27;
export const MEMORY_PROOF_SIZE = 896;

export interface VmStateFields {
  memRoot: Hex;
  preimageKey: Hex;
  preimageOffset: number;
  pc: number;
  nextPC: number;
  lo: number;
  hi: number;
  heap: number;
  exitCode: number;
  exited: boolean;
  step: bigint;
  /** 32 registers. */
  registers: number[];
}

const ZERO32: Hex = `0x${"00".repeat(32)}`;

/** The initial-state defaults of §4.7 with pc at `pc` and an empty memory root filled in later. */
export function baseState(pc = 0x1000): VmStateFields {
  const registers = new Array<number>(32).fill(0);
  registers[29] = 0x7ffff000;
  return {
    memRoot: ZERO32,
    preimageKey: ZERO32,
    preimageOffset: 0,
    pc,
    nextPC: (pc + 4) >>> 0,
    lo: 0,
    hi: 0,
    heap: 0x20000000,
    exitCode: 0,
    exited: false,
    step: 0n,
    registers,
  };
}

export function cloneState(s: VmStateFields): VmStateFields {
  return { ...s, registers: [...s.registers] };
}

/** The state after a non-branch instruction: pc advanced, step + 1. */
export function advanced(s: VmStateFields): VmStateFields {
  const e = cloneState(s);
  e.pc = s.nextPC >>> 0;
  e.nextPC = (s.nextPC + 4) >>> 0;
  e.step = s.step + 1n;
  return e;
}

function u32(v: number): Hex {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`not a u32: ${v}`);
  return pad(toHex(v), { size: 4 });
}

/** The packed 226-byte state of §4.1. */
export function packState(s: VmStateFields): Hex {
  if (s.registers.length !== 32) throw new RangeError(`expected 32 registers, got ${s.registers.length}`);
  const packed = concat([
    s.memRoot,
    s.preimageKey,
    u32(s.preimageOffset),
    u32(s.pc),
    u32(s.nextPC),
    u32(s.lo),
    u32(s.hi),
    u32(s.heap),
    pad(toHex(s.exitCode), { size: 1 }),
    s.exited ? "0x01" : "0x00",
    pad(toHex(s.step), { size: 8 }),
    ...s.registers.map(u32),
  ]);
  if ((packed.length - 2) / 2 !== STATE_SIZE) throw new Error(`packed state is ${(packed.length - 2) / 2} bytes`);
  return packed;
}

/** keccak256(packed) with the status (§4.1) in the most significant byte. */
export function stateHashOf(s: VmStateFields): Hex {
  const h = hexToBytes(keccak256(packState(s)));
  h[0] = !s.exited ? 3 : s.exitCode === 0 ? 0 : s.exitCode === 1 ? 1 : 2;
  return bytesToHex(h);
}

const zeroHashes: Uint8Array[] = (() => {
  const z: Uint8Array[] = [new Uint8Array(32)];
  for (let h = 1; h <= MEMORY_DEPTH; h++) z.push(hashPair(z[h - 1]!, z[h - 1]!));
  return z;
})();

function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(a, 0);
  buf.set(b, 32);
  return keccak256(buf, "bytes");
}

/** A memory of a few non-zero leaves with its Merkle root and proofs (§4.2). */
export class SparseMemory {
  private readonly leaves = new Map<number, Uint8Array>();

  clone(): SparseMemory {
    const m = new SparseMemory();
    for (const [k, v] of this.leaves) m.leaves.set(k, v.slice());
    return m;
  }

  writeWord(addr: number, word: number): this {
    if ((addr & 3) !== 0) throw new RangeError(`unaligned word address 0x${addr.toString(16)}`);
    const index = addr >>> 5;
    const leaf = this.leaves.get(index) ?? new Uint8Array(32);
    new DataView(leaf.buffer).setUint32(addr & 0x1c, word >>> 0, false);
    this.leaves.set(index, leaf);
    return this;
  }

  readWord(addr: number): number {
    const leaf = this.leaves.get(addr >>> 5);
    return leaf === undefined ? 0 : new DataView(leaf.buffer).getUint32(addr & 0x1c, false);
  }

  private node(height: number, index: number): Uint8Array {
    const lo = index * 2 ** height;
    const hi = (index + 1) * 2 ** height;
    let any = false;
    for (const k of this.leaves.keys()) {
      if (k >= lo && k < hi) {
        any = true;
        break;
      }
    }
    if (!any) return zeroHashes[height]!;
    if (height === 0) return this.leaves.get(index)!;
    return hashPair(this.node(height - 1, index * 2), this.node(height - 1, index * 2 + 1));
  }

  root(): Hex {
    return bytesToHex(this.node(MEMORY_DEPTH, 0));
  }

  /** The 896-byte proof of the leaf containing `addr`: the leaf, then 27 siblings bottom-up. */
  proof(addr: number): Hex {
    const index = addr >>> 5;
    const parts: Uint8Array[] = [this.node(0, index)];
    for (let h = 0; h < MEMORY_DEPTH; h++) parts.push(this.node(h, (index >>> h) ^ 1));
    return bytesToHex(Uint8Array.from(parts.flatMap((p) => [...p])));
  }
}

/** The keccak key of `data` (type byte 2, §4.5). */
export function keccakKey(data: Hex): Hex {
  const k = hexToBytes(keccak256(data));
  k[0] = 2;
  return bytesToHex(k);
}

/** The local key of `ident` (type byte 1). */
export function localKey(ident: bigint): Hex {
  return pad(toHex((1n << 248n) | ident), { size: 32 });
}

// ------------------------------------------------------------------ instruction encoders

export const enc = {
  r: (rs: number, rt: number, rd: number, sa: number, fun: number): number =>
    ((rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | fun) >>> 0,
  i: (op: number, rs: number, rt: number, imm: number): number => ((op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)) >>> 0,
  j: (op: number, target: number): number => ((op << 26) | ((target >>> 2) & 0x03ffffff)) >>> 0,
  syscall: 0x0000000c,
};

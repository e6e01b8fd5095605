/**
 * Random differential test (docs/protocol.md §4): seeded random machine states and random
 * instruction words, each stepped by keeper/vm (`stepWithWitness`, and `verifyStep` on the
 * witness bytes alone) and by `MIPS.step` on Hardhat's chain (through `MIPSStepBatch.run`, which
 * reports every step's hash or revert data). Every step must agree: the same post-state hash, or
 * a failure on both sides with the same error.
 *
 * The program differential (differential.test.ts) only sees what clang emits for our guests; this
 * one reaches what it never emits: a lone `swr` into a leaf whose other words are non-zero, `ext`
 * past bit 31, REGIMM encodings that do not exist, r0 ≠ 0 in a packed state, syscalls on odd fds
 * with odd lengths, preimage reads at and past the end of the data, the top of memory, delay slots.
 *
 * Each run has a systematic part (every supported instruction in and out of a delay slot, every
 * load/store at every alignment and word of its leaf, every syscall on every fd, every preimage at
 * its boundary offsets, malformed states) and a random part. Failures are compared by error name
 * and, where both sides give the same number of arguments, by arguments; keeper/vm's PartOffsetOOB
 * (a read past the end) and PreimageNotFound (an unknown key) are the chain's PreimageNotLoaded (no
 * such part can be loaded). Two chains check 128-step batches while the next ones are prepared:
 * the default run (about 4,000 steps) takes about 20-35 s on a loaded 2-core machine. Environment:
 * - `VM_FUZZ_SEED`  (default 0x5eed0001): the PRNG seed (printed; a failure message repeats it);
 * - `VM_FUZZ_STEPS` (default 3000): random cases on top of the systematic ones.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Abi, type Hex, decodeErrorResult, hexToBigInt, pad, size } from "viem";
import {
  INSTRUCTIONS,
  type InstructionEncoding,
  Machine,
  MapPreimageSource,
  Memory,
  type PreimagePart,
  type PreimageSource,
  type StepWitness,
  Sys,
  VmStepError,
  decodeInstruction,
  keccakKey,
  localKey,
  signExtend,
  stateHash,
  stepWithWitness,
  toHex,
  verifyStep,
  witnessPreimageReader,
} from "../../keeper/vm/index.ts";
import { type StepCase, type VmChain, deployVm } from "./harness.ts";

function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw); // decimal or 0x-hex
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return v;
}
const SEED = envInteger("VM_FUZZ_SEED", 0x5eed0001) >>> 0;
const RANDOM_CASES = envInteger("VM_FUZZ_STEPS", 3000);
const CONTEXT: Hex = `0x${"5a".repeat(32)}`;
const BATCH_SIZE = 128;
/** Share of successful steps also sent with a tampered proof. */
const TAMPER_RATE = 0.05;
/** Chains checking batches in parallel (as in differential.test.ts). */
const CHAINS = 2;

// ------------------------------------------------------------------ PRNG

/** sfc32 (Small Fast Counter): a seeded 32-bit PRNG; the same seed gives the same cases. */
class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  below(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

/** A 32-bit value drawn towards the edges: 0, ±1, sign boundaries, small numbers, byte patterns. */
function edgy(r: Prng): number {
  switch (r.below(6)) {
    case 0:
      return r.pick([0, 1, 2, 3, 4, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0xff, 0x100, 0xffff, 0x8000, 0xffff8000, 0x10000]);
    case 1:
      return r.below(64);
    case 2:
      return (0xffffffff - r.below(64)) >>> 0;
    default:
      return r.u32();
  }
}

// ------------------------------------------------------------------ preimages

/** Keccak preimages of lengths around the 32-byte part and the 8-byte length prefix. */
const KECCAK_LENGTHS = [0, 1, 3, 4, 5, 8, 23, 24, 31, 32, 33, 57, 100];
/** Local data (ident -> length, at most 32 bytes). */
const LOCAL_LENGTHS: Record<number, number> = { 1: 32, 2: 4, 3: 0, 4: 17 };

interface KnownPreimage {
  key: Uint8Array;
  data: Uint8Array;
}

function buildPreimages(): { source: PreimageSource; known: KnownPreimage[] } {
  const map = new MapPreimageSource();
  const known: KnownPreimage[] = [];
  const r = new Prng(0x1badb002);
  for (const len of KECCAK_LENGTHS) {
    const data = Uint8Array.from({ length: len }, () => r.below(256));
    known.push({ key: map.addKeccak(data), data });
  }
  for (const [ident, len] of Object.entries(LOCAL_LENGTHS)) {
    const data = Uint8Array.from({ length: len }, () => r.below(256));
    known.push({ key: map.setLocal(Number(ident), data), data });
  }
  // No hint() method: hint writes would otherwise copy up to 1 MiB of memory per random case.
  return { source: { getPreimage: (key) => map.getPreimage(key) }, known };
}

// ------------------------------------------------------------------ cases

const R = (insn: number): number => insn >>> 0;
const LOADS_STORES = INSTRUCTIONS.filter((e) => e.memory === true);
const SYSCALLS = [Sys.MMAP, Sys.BRK, Sys.EXIT_GROUP, Sys.EXIT, Sys.READ, Sys.WRITE, Sys.FCNTL];
const BAD_SYSCALLS = [0, 4000, 4002, 4005, 4044, 4046, 4054, 4056, 4089, 4091, 4245, 4247, 0xffffffff, 0x80000fa3];
const FDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xffffffff, 0x80000005, 0x105];
const COUNTS = [0, 1, 2, 3, 4, 5, 7, 0x7fffffff, 0x80000000, 0xffffffff];
const INVALID_OPCODES = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1d, 0x1e, 0x27, 0x2c, 0x2d, 0x2f, 0x31, 0x32, 0x34, 0x35, 0x36, 0x37, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f];

/** One fuzz case: a pre-state machine, or a packed state with no machine (malformed states). */
interface FuzzCase {
  label: string;
  /** Coverage key: instruction name, `syscall:<n>:fd<fd>`, `invalid`, `exited`, `malformed`. */
  kind: string;
  machine: Machine;
  /** The data word address the step touches, if any (the proof a failing step is sent with). */
  dataAddr?: number;
  /** Rewrites the packed pre-state: the case is then checked with verifyStep only (no machine step). */
  corrupt?: (packed: Uint8Array) => Uint8Array;
}

interface Gen {
  r: Prng;
  source: PreimageSource;
  known: KnownPreimage[];
}

function newMachine(g: Gen): Machine {
  const r = g.r;
  const m = new Machine(new Memory(), { preimages: g.source, outputLimit: 256 });
  for (let i = 1; i < 32; i++) m.registers[i] = edgy(r) | 0;
  m.lo = edgy(r);
  m.hi = edgy(r);
  m.heap = r.chance(0.5) ? 0x20000000 : edgy(r);
  m.step = r.chance(0.9) ? r.below(1 << 30) : r.below(2 ** 21) * 2 ** 32 + r.u32();
  const pcChoice = r.below(10);
  const pc =
    pcChoice < 5
      ? (0x00400000 + 4 * r.below(2048)) >>> 0
      : pcChoice === 5
        ? r.pick([0xfffffffc, 0xfffffff8, 0xffffffe0, 0, 4, 0x7ffffffc, 0x80000000])
        : pcChoice === 6
          ? (r.u32() & ~3) >>> 0
          : (0x10000000 + 4 * r.below(64)) >>> 0;
  setPc(r, m, pc);
  setPreimageCursor(g, m);
  // Non-zero neighbours of the instruction in its leaf.
  fillLeaf(r, m, pc & ~3);
  return m;
}

/** pc and nextPC: mostly outside a delay slot, sometimes in one (nextPC ≠ pc + 4). */
function setPc(r: Prng, m: Machine, pc: number): void {
  m.pc = pc >>> 0;
  const c = r.below(10);
  m.nextPC = c < 8 ? (pc + 4) >>> 0 : c === 8 ? (r.u32() & ~3) >>> 0 : r.pick([(pc + 8) >>> 0, pc >>> 0, (pc - 4) >>> 0]);
}

function inDelaySlot(m: Machine): void {
  m.nextPC = (m.pc + 4 * (2 + (m.pc & 0xff))) >>> 0;
}

function setPreimageCursor(g: Gen, m: Machine): void {
  const r = g.r;
  const c = r.below(20);
  if (c < 15) {
    const p = r.pick(g.known);
    m.preimageKey = p.key.slice();
    m.preimageOffset = preimageOffsetFor(r, p.data.length);
  } else if (c === 15) {
    m.preimageKey = keccakKey(Uint8Array.of(r.below(256), 0xee)).slice(); // unknown keccak preimage
    m.preimageOffset = r.below(12);
  } else if (c === 16) {
    m.preimageKey = localKey(5 + r.below(1000)).slice(); // unknown local ident
    m.preimageOffset = r.below(12);
  } else {
    m.preimageKey = Uint8Array.from({ length: 32 }, () => r.below(256)); // any type byte
    m.preimageOffset = edgy(r);
  }
}

/** Offsets at the edges of a framed preimage (`u64 length ‖ data`): 0, 7, 8, the end, past it. */
function preimageOffsetFor(r: Prng, length: number): number {
  const framed = 8 + length;
  return r.pick([0, 7, 8, 9, r.below(framed + 1), r.below(framed + 1), framed - 1, framed, framed, framed + 1, framed + 1 + r.below(40), 0xffffffff]) >>> 0;
}

/** Writes random (mostly non-zero) words over the leaf holding `addr`. */
function fillLeaf(r: Prng, m: Machine, addr: number): void {
  const leaf = (addr & ~31) >>> 0;
  for (let i = 0; i < 8; i++) if (r.chance(0.8)) m.memory.writeMem((leaf + 4 * i) >>> 0, r.chance(0.1) ? 0 : r.u32());
}

/** Places the instruction at pc (after the leaf was filled). */
function placeInsn(m: Machine, insn: number): void {
  if ((m.pc & 3) === 0) m.memory.writeMem(m.pc, insn >>> 0);
}

/** A target address for a data access: the top of memory, the pc's leaf, the stack, anywhere. */
function dataTarget(r: Prng, m: Machine): number {
  switch (r.below(7)) {
    case 0:
      return (0xffffffe0 + r.below(32)) >>> 0; // the last leaf of memory
    case 1:
      return (m.pc - 16 + r.below(48)) >>> 0; // near the instruction (often its own leaf)
    case 2:
      return r.below(64); // the bottom of memory
    case 3:
      return (0x7fffe000 + r.below(0x2000)) >>> 0;
    case 4:
      return r.u32();
    default:
      return (0x10000000 + r.below(0x1000)) >>> 0;
  }
}

/** Random rs/rt/rd/sa/imm around an encoding's fixed fields. */
function encode(r: Prng, e: InstructionEncoding): number {
  let w = e.opcode << 26;
  if (e.opcode === 0x02 || e.opcode === 0x03) return R(w | (r.u32() & 0x03ffffff));
  // srl with rs ≠ 0 and srlv with sa ≠ 0 are the MIPS32r2 rotations (invalid): mostly valid here.
  const rotField = r.chance(0.9) ? 0 : r.below(32);
  w |= (e.name === "srl" ? rotField : r.below(32)) << 21;
  w |= (e.rt ?? r.below(32)) << 16;
  if (e.funct !== undefined) {
    w |= r.below(32) << 11;
    w |= (e.sa ?? (e.name === "srlv" ? rotField : r.below(32))) << 6;
    w |= e.funct;
  } else {
    w |= r.u32() & 0xffff;
  }
  return R(w);
}

const field = {
  rs: (insn: number) => (insn >>> 21) & 31,
  rt: (insn: number) => (insn >>> 16) & 31,
};

/** Points a load/store's effective address at `target` by setting its base register. */
function aimLoadStore(r: Prng, m: Machine, insn: number, target: number): { insn: number; dataAddr: number } {
  let rs = field.rs(insn);
  if (rs === 0 && r.chance(0.8)) {
    rs = 1 + r.below(31);
    insn = R((insn & ~(31 << 21)) | (rs << 21));
  }
  const simm = signExtend(insn & 0xffff, 16);
  if (rs !== 0) m.registers[rs] = (target - simm) | 0;
  const addr = rs === 0 ? simm : target >>> 0;
  fillLeaf(r, m, addr);
  placeInsn(m, insn);
  return { insn, dataAddr: (addr & ~3) >>> 0 };
}

/** The data word a syscall touches: read on fd 5 and write on fd 6 (§4.6). */
function syscallDataAddr(m: Machine): number | undefined {
  const n = m.registers[2]! >>> 0;
  const fd = m.registers[4]! >>> 0;
  if ((n === Sys.READ && fd === 5) || (n === Sys.WRITE && fd === 6)) return (m.registers[5]! & ~3) >>> 0;
  return undefined;
}

function syscallCase(g: Gen, number: number, fd: number, count: number): FuzzCase {
  const r = g.r;
  const m = newMachine(g);
  const insn = R(0x0000000c | ((r.chance(0.2) ? r.u32() & 0xfffff : 0) << 6)); // the code field is ignored
  m.registers[2] = number | 0;
  m.registers[4] = fd | 0;
  m.registers[6] = count | 0;
  const addr = r.chance(0.3) ? dataTarget(r, m) : (0x10000000 + r.below(256)) >>> 0;
  m.registers[5] = addr | 0;
  if (number === Sys.FCNTL) m.registers[5] = r.chance(0.7) ? 3 : edgy(r) | 0; // cmd
  if (number === Sys.MMAP) {
    m.registers[4] = r.chance(0.6) ? 0 : edgy(r) | 0;
    m.registers[5] = edgy(r) | 0;
  }
  fillLeaf(r, m, addr);
  placeInsn(m, insn);
  const kind = number === Sys.READ || number === Sys.WRITE || number === Sys.FCNTL ? `syscall:${number}:fd${fd >>> 0}` : `syscall:${number >>> 0}`;
  const c: FuzzCase = { label: kind, kind, machine: m };
  const d = syscallDataAddr(m);
  if (d !== undefined) c.dataAddr = d;
  return c;
}

/** A case for one table entry, with random fields; loads and stores aimed at a random target. */
function tableCase(g: Gen, e: InstructionEncoding, opts: { delaySlot?: boolean; alignment?: number; wordInLeaf?: number; top?: boolean } = {}): FuzzCase {
  const r = g.r;
  if (e.name === "syscall") return syscallCase(g, r.pick(SYSCALLS), r.pick(FDS), r.pick(COUNTS));
  const m = newMachine(g);
  if (opts.delaySlot === true) inDelaySlot(m);
  let insn = encode(r, e);
  const c: FuzzCase = { label: e.name, kind: e.name, machine: m };
  if (e.memory === true) {
    let target = dataTarget(r, m);
    if (opts.top === true) target = 0xffffffe0 + 4 * (opts.wordInLeaf ?? 7);
    else if (opts.wordInLeaf !== undefined) target = (target & ~31) + 4 * opts.wordInLeaf;
    if (opts.alignment !== undefined) target = (target & ~3) + opts.alignment;
    const aimed = aimLoadStore(r, m, insn, target >>> 0);
    insn = aimed.insn;
    c.dataAddr = aimed.dataAddr;
  } else {
    const rs = field.rs(insn);
    const rt = field.rt(insn);
    // Operands that make conditions hold: equal registers (beq/bne/teq/tne, movz), zero divisors.
    if (r.chance(0.25) && rt !== 0) m.registers[rt] = rs === 0 ? 0 : m.registers[rs]!;
    if (r.chance(0.1) && rt !== 0) m.registers[rt] = 0;
    if (r.chance(0.05) && rs !== 0 && rt !== 0) {
      m.registers[rs] = 0x80000000 | 0;
      m.registers[rt] = -1;
    }
    placeInsn(m, insn);
  }
  c.label = `${e.name} ${toHex(Uint8Array.of(insn >>> 24, insn >>> 16, insn >>> 8, insn))}`;
  return c;
}

/** Encodings outside §4.4, including the MIPS32r2 rotations and bad ext/ins bit ranges. */
function invalidCase(g: Gen): FuzzCase {
  const r = g.r;
  const m = newMachine(g);
  const rand = r.u32() & 0x03ffffff;
  let insn: number;
  let kind = "invalid";
  switch (r.below(10)) {
    case 0:
      insn = (r.pick(INVALID_OPCODES) << 26) | rand;
      break;
    case 1: {
      const valid = new Set(INSTRUCTIONS.filter((e) => e.opcode === 0).map((e) => e.funct));
      const funcs = [...Array(64).keys()].filter((f) => !valid.has(f));
      insn = (rand & ~63) | r.pick(funcs);
      break;
    }
    case 2: {
      const valid = new Set(INSTRUCTIONS.filter((e) => e.opcode === 1).map((e) => e.rt));
      const rts = [...Array(32).keys()].filter((x) => !valid.has(x));
      insn = (1 << 26) | (rand & ~(31 << 16)) | (r.pick(rts) << 16);
      kind = "invalid:regimm";
      if (r.chance(0.5)) inDelaySlot(m);
      break;
    }
    case 3: {
      const valid = new Set(INSTRUCTIONS.filter((e) => e.opcode === 0x1c).map((e) => e.funct));
      const funcs = [...Array(64).keys()].filter((f) => !valid.has(f));
      insn = (0x1c << 26) | (rand & ~63) | r.pick(funcs);
      break;
    }
    case 4: {
      const funcs = [...Array(64).keys()].filter((f) => f !== 0 && f !== 4 && f !== 0x20);
      insn = (0x1f << 26) | (rand & ~63) | r.pick(funcs);
      break;
    }
    case 5: {
      const sas = [...Array(32).keys()].filter((x) => x !== 2 && x !== 0x10 && x !== 0x18);
      insn = (0x1f << 26) | (rand & ~(63 | (31 << 6))) | (r.pick(sas) << 6) | 0x20;
      break;
    }
    case 6: // rotr: srl with the R bit (rs = 1), and srl with other non-zero rs
      insn = (rand & ~((31 << 21) | 63)) | ((r.chance(0.6) ? 1 : 1 + r.below(31)) << 21) | 0x02;
      kind = "invalid:rotr";
      break;
    case 7: // rotrv: srlv with the R bit (sa = 1), and srlv with other non-zero sa
      insn = (rand & ~((31 << 6) | 63)) | ((r.chance(0.6) ? 1 : 1 + r.below(31)) << 6) | 0x06;
      kind = "invalid:rotrv";
      break;
    case 8: {
      // ext with pos + size > 32 (size = msbd + 1 in rd, pos in sa)
      const pos = 1 + r.below(31);
      const msbd = 32 - pos + r.below(pos);
      insn = (0x1f << 26) | (rand & 0x03ff0000) | (msbd << 11) | (pos << 6) | 0x00;
      kind = "invalid:ext";
      break;
    }
    default: {
      // ins with msb < lsb
      const lsb = 1 + r.below(31);
      insn = (0x1f << 26) | (rand & 0x03ff0000) | (r.below(lsb) << 11) | (lsb << 6) | 0x04;
      kind = "invalid:ins";
    }
  }
  insn = R(insn);
  placeInsn(m, insn);
  return { label: `${kind} ${insn.toString(16)}`, kind, machine: m };
}

/** Any 32-bit word (loads and stores among them aimed at real memory). */
function rawCase(g: Gen): FuzzCase {
  const r = g.r;
  const m = newMachine(g);
  let insn = r.u32();
  const e = decodeInstruction(insn);
  const c: FuzzCase = { label: `raw ${insn.toString(16)}`, kind: e === undefined ? "invalid" : e.name, machine: m };
  if (e?.memory === true) {
    const aimed = aimLoadStore(r, m, insn, dataTarget(r, m));
    insn = aimed.insn;
    c.dataAddr = aimed.dataAddr;
  } else {
    placeInsn(m, insn);
    if (e?.name === "syscall") {
      const d = syscallDataAddr(m);
      if (d !== undefined) c.dataAddr = d;
    }
  }
  return c;
}

/** An exited state (steps to itself, whatever pc points at) or a malformed packed state. */
function stateCase(g: Gen): FuzzCase {
  const r = g.r;
  const m = newMachine(g);
  placeInsn(m, r.u32());
  switch (r.below(5)) {
    case 0:
      m.exited = true;
      m.exitCode = r.below(256);
      return { label: `exited ${m.exitCode}`, kind: "exited", machine: m };
    case 1: {
      const v = r.chance(0.5) ? 1 : r.u32() | 1;
      const corrupt = (p: Uint8Array): Uint8Array => {
        new DataView(p.buffer, p.byteOffset).setUint32(98, v >>> 0);
        return p;
      };
      return { label: `r0 = ${v.toString(16)}`, kind: "malformed:r0", machine: m, corrupt };
    }
    case 2: {
      const b = 2 + r.below(254);
      const corrupt = (p: Uint8Array): Uint8Array => {
        p[89] = b;
        return p;
      };
      return { label: `exited byte ${b}`, kind: "malformed:exited", machine: m, corrupt };
    }
    case 3: {
      // The last step counters: step + 1 wraps modulo 2^64 (§4.1).
      const step = r.pick([0xffffffffffffffffn, 0xfffffffffffffffen, 0x00000000ffffffffn]);
      placeInsn(m, 0x00000000); // sll r0, r0, 0 (nop)
      const corrupt = (p: Uint8Array): Uint8Array => {
        new DataView(p.buffer, p.byteOffset).setBigUint64(90, step);
        return p;
      };
      return { label: `step ${step.toString(16)}`, kind: "step-counter", machine: m, corrupt };
    }
    default: {
      const length = r.pick([0, 225, 227, 256]);
      const corrupt = (p: Uint8Array): Uint8Array => {
        const out = new Uint8Array(length);
        out.set(p.subarray(0, Math.min(length, p.length)));
        return out;
      };
      return { label: `state of ${length} bytes`, kind: "malformed:length", machine: m, corrupt };
    }
  }
}

/** Every supported instruction (in and out of a delay slot), load/store alignment, syscall and fd. */
function systematicCases(g: Gen): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const e of INSTRUCTIONS) {
    for (let k = 0; k < 3; k++) out.push(tableCase(g, e));
    out.push(tableCase(g, e, { delaySlot: true }));
  }
  for (const e of LOADS_STORES) {
    for (let a = 0; a < 4; a++) {
      for (const w of [0, 1, 3, 7]) out.push(tableCase(g, e, { alignment: a, wordInLeaf: w }));
      out.push(tableCase(g, e, { alignment: a, wordInLeaf: g.r.below(8), top: true }));
    }
  }
  for (const n of [...SYSCALLS, ...BAD_SYSCALLS]) {
    const fds = n === Sys.READ || n === Sys.WRITE || n === Sys.FCNTL ? FDS : [g.r.pick(FDS)];
    for (const fd of fds) for (let k = 0; k < 2; k++) out.push(syscallCase(g, n, fd, g.r.pick(COUNTS)));
  }
  // Preimage reads of every known preimage at its boundary offsets, into every byte of a word.
  for (const p of g.known) {
    const framed = 8 + p.data.length;
    for (const offset of [0, 7, 8, framed - 1, framed, framed + 1]) {
      if (offset < 0) continue;
      const c = syscallCase(g, Sys.READ, 5, g.r.pick([1, 2, 3, 4, 100, 0xffffffff]));
      c.machine.preimageKey = p.key.slice();
      c.machine.preimageOffset = offset;
      c.kind = "syscall:4003:fd5";
      c.label = `read fd 5 of a ${p.data.length}-byte preimage at ${offset}`;
      out.push(c);
    }
  }
  for (let k = 0; k < 24; k++) out.push(invalidCase(g));
  for (let k = 0; k < 30; k++) out.push(stateCase(g));
  return out;
}

function randomCase(g: Gen): FuzzCase {
  const c = g.r.below(100);
  if (c < 62) return tableCase(g, g.r.pick(INSTRUCTIONS));
  if (c < 66) return tableCase(g, g.r.pick(INSTRUCTIONS), { delaySlot: true });
  if (c < 72) return syscallCase(g, g.r.chance(0.85) ? g.r.pick(SYSCALLS) : g.r.pick(BAD_SYSCALLS), g.r.pick(FDS), g.r.pick(COUNTS));
  if (c < 78) return syscallCase(g, g.r.pick([Sys.READ, Sys.WRITE]), g.r.pick([5, 6]), g.r.pick(COUNTS)); // the preimage fds
  if (c < 88) return invalidCase(g);
  if (c < 95) return rawCase(g);
  return stateCase(g);
}

// ------------------------------------------------------------------ keeper side

/** What one side did with a step: a post-state hash or a failure. */
type Outcome = { ok: true; hash: Hex } | { ok: false; error: string; detail: string; args?: string[] };

interface Prepared {
  c: FuzzCase;
  keeper: Outcome;
  chainCase: StepCase;
}

/** keeper/vm errors named as the chain's: an unloadable or unknown part is PreimageNotLoaded on chain. */
function chainName(reason: string): string {
  return reason === "PartOffsetOOB" || reason === "PreimageNotFound" ? "PreimageNotLoaded" : reason;
}

function keeperFailure(e: unknown): Outcome {
  if (!(e instanceof VmStepError)) throw e;
  const error = chainName(e.reason);
  const out: Outcome = { ok: false, error, detail: e.message };
  // The error's arguments too (the address, the instruction word, the syscall number, the proof
  // lengths), unless keeper/vm names them differently (the preimage errors) or gives none.
  if (error !== "PreimageNotLoaded" && e.args.length > 0) out.args = e.args.map((a) => (typeof a === "number" ? String(a >>> 0) : String(a)));
  return out;
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.ok || b.ok) return a.ok && b.ok && a.hash === b.hash;
  if (a.error !== b.error) return false;
  // InvalidMemoryProof carries the address off chain only: arguments are compared at equal arity.
  if (a.args === undefined || b.args === undefined || a.args.length !== b.args.length) return true;
  return a.args.join() === b.args.join();
}

function show(o: Outcome): string {
  return o.ok ? o.hash : `${o.error} (${o.detail})`;
}

/**
 * Steps a case in keeper/vm: `stepWithWitness` on the machine, and `verifyStep` on the witness
 * bytes (they must agree). A failing step is sent to the chain with the instruction proof and the
 * proof of the data word it would touch.
 */
/**
 * A variant of a successful witness with its proof tampered with: cut short (InvalidProofLength),
 * one bit flipped in the leaf or a sibling (InvalidMemoryProof) or extra bytes appended (ignored:
 * the same hash). keeper/vm's outcome is verifyStep's on the same bytes.
 */
function tamperedVariant(r: Prng, c: FuzzCase, w: StepWitness, chainCase: StepCase): Prepared {
  const proof = w.proof;
  const mode = r.below(3);
  let bad: Uint8Array;
  let kind: string;
  if (mode === 0) {
    bad = proof.slice(0, Math.max(0, proof.length - 1 - r.below(64)));
    kind = "proof:short";
  } else if (mode === 1) {
    bad = proof.slice();
    bad[r.below(bad.length)]! ^= 1 << r.below(8);
    kind = "proof:flipped";
  } else {
    bad = new Uint8Array(proof.length + 1 + r.below(64));
    bad.set(proof);
    for (let i = proof.length; i < bad.length; i++) bad[i] = r.below(256);
    kind = "proof:extra";
  }
  let keeper: Outcome;
  try {
    keeper = { ok: true, hash: verifyStep(w.preState, bad, witnessPreimageReader(w)) };
  } catch (e) {
    keeper = keeperFailure(e);
  }
  const label = `${c.label} (${kind})`;
  return { c: { ...c, label, kind }, keeper, chainCase: { ...chainCase, label, proof: toHex(bad) } };
}

function prepare(c: FuzzCase, ctx: { caller: Hex; localContext: Hex }, mismatches: string[], r: Prng): Prepared[] {
  const m = c.machine;
  const preState = m.encodeState();
  const insnProof = (m.pc & 3) === 0 ? m.memory.merkleProof(m.pc) : new Uint8Array(0);
  const dataProof = c.dataAddr === undefined ? new Uint8Array(0) : m.memory.merkleProof(c.dataAddr);
  const fullProof = new Uint8Array(insnProof.length + dataProof.length);
  fullProof.set(insnProof);
  fullProof.set(dataProof, insnProof.length);
  const base = { label: c.label, localContext: CONTEXT, postStateHash: "0x" as Hex };
  const sourceReader = (key: Uint8Array, offset: number): PreimagePart => m.readPreimage(key, offset);

  if (c.corrupt !== undefined) {
    const packed = c.corrupt(preState.slice());
    let keeper: Outcome;
    try {
      keeper = { ok: true, hash: verifyStep(packed, fullProof, sourceReader) };
    } catch (e) {
      keeper = keeperFailure(e);
    }
    return [{ c, keeper, chainCase: { ...base, preState: toHex(packed), proof: toHex(fullProof) } }];
  }

  let keeper: Outcome;
  let chainCase: StepCase;
  const variants: Prepared[] = [];
  try {
    const w = stepWithWitness(m, ctx);
    keeper = { ok: true, hash: w.postStateHash };
    chainCase = { ...base, preState: toHex(w.preState), proof: toHex(w.proof), postStateHash: w.postStateHash };
    if (w.preimage !== undefined) {
      chainCase.preimage = { key: toHex(w.preimage.key), offset: w.preimage.offset, data: toHex(w.preimage.data) };
    }
    // The witness alone must give the same hash (what MIPS.step computes, off chain).
    let verified: Outcome;
    try {
      verified = { ok: true, hash: verifyStep(w.preState, w.proof, witnessPreimageReader(w)) };
    } catch (e) {
      verified = keeperFailure(e);
    }
    if (!sameOutcome(keeper, verified)) mismatches.push(`${c.label}: stepWithWitness ${show(keeper)}, verifyStep ${show(verified)}`);
    if (stateHash(w.preState) !== w.preStateHash) mismatches.push(`${c.label}: witness preStateHash is not the hash of preState`);
    if (w.proof.length > 0 && r.chance(TAMPER_RATE)) variants.push(tamperedVariant(r, c, w, chainCase));
  } catch (e) {
    keeper = keeperFailure(e);
    chainCase = { ...base, preState: toHex(preState), proof: toHex(fullProof) };
    let verified: Outcome;
    try {
      verified = { ok: true, hash: verifyStep(preState, fullProof, sourceReader) };
    } catch (e2) {
      verified = keeperFailure(e2);
    }
    if (!sameOutcome(keeper, verified)) mismatches.push(`${c.label}: stepWithWitness ${show(keeper)}, verifyStep ${show(verified)}`);
  }
  return [{ c, keeper, chainCase }, ...variants];
}

// ------------------------------------------------------------------ chain side

function chainOutcomes(vm: VmChain): (cases: StepCase[]) => Promise<Outcome[]> {
  const abi = [...vm.mips.abi, ...vm.oracle.abi] as Abi;
  return async (cases) => {
    const { result } = await vm.batch.simulate.run([cases.map((c) => c.preState), cases.map((c) => c.proof), CONTEXT]);
    const [ok, post, reasons] = result as readonly [readonly boolean[], readonly Hex[], readonly Hex[]];
    return cases.map((_, i): Outcome => {
      if (ok[i]) return { ok: true, hash: post[i]! };
      const data = reasons[i]!;
      try {
        const d = decodeErrorResult({ abi, data });
        const args = (d.args ?? []).map(String);
        return { ok: false, error: d.errorName, detail: `${d.errorName}(${args.join(", ")})`, args };
      } catch {
        const panic = data.startsWith("0x4e487b71");
        return { ok: false, error: panic ? "Panic" : "UnknownRevert", detail: data };
      }
    });
  };
}

/**
 * Loads the preimage parts a batch's witnesses read (each once), local data for the batch contract
 * (the caller of every step). Hardhat mines each transaction as it is sent: only the last receipt
 * is awaited (harness.loadPreimage awaits each, which would dominate this test's time).
 */
let loadCount = 0;
/** Gas of a load transaction, given (estimating it would run it many times). */
const LOAD_GAS = 25_000_000n;

async function loadParts(vm: VmChain, batch: readonly Prepared[], loaded: Set<string>): Promise<void> {
  const keccak: { offset: bigint; data: Hex }[] = [];
  const local: { ident: bigint; word: Hex; size: bigint; offset: bigint }[] = [];
  for (const { chainCase: c } of batch) {
    const p = c.preimage;
    if (p === undefined) continue;
    const id = `${p.key}:${p.offset}`;
    if (loaded.has(id)) continue;
    loaded.add(id);
    const key = hexToBigInt(p.key);
    if (key >> 248n === 2n) keccak.push({ offset: BigInt(p.offset), data: p.data });
    else {
      const word = size(p.data) === 0 ? pad("0x", { size: 32 }) : pad(p.data, { size: 32, dir: "right" });
      local.push({ ident: key & ((1n << 248n) - 1n), word, size: BigInt(size(p.data)), offset: BigInt(p.offset) });
    }
  }
  if (keccak.length + local.length === 0) return;
  loadCount += keccak.length + local.length;
  const hash = await vm.batch.write.loadParts([
    keccak.map((k) => ({ partOffset: k.offset, preimage: k.data })),
    local.map((l) => ({ ident: l.ident, word: l.word, size: l.size, partOffset: l.offset })),
    CONTEXT,
  ], { gas: LOAD_GAS });
  const receipt = await vm.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`preimage loads ${hash} reverted`);
}

// ------------------------------------------------------------------ the test

describe(`random differential: keeper/vm vs MIPS.step (seed 0x${SEED.toString(16)}, ${RANDOM_CASES} random cases)`, () => {
  let chains: VmChain[];
  beforeAll(async () => {
    chains = await Promise.all(Array.from({ length: CHAINS }, () => deployVm({ hardfork: "cancun" })));
  });

  it("every random step has the same outcome on both sides", { timeout: 900_000 }, async () => {
    console.log(`random differential: VM_FUZZ_SEED=0x${SEED.toString(16)} VM_FUZZ_STEPS=${RANDOM_CASES}`);
    const t0 = performance.now();
    // Local keys are localized to the batch contract, deployed at the same address on every chain.
    const caller = chains[0]!.batch.address as Hex;
    for (const vm of chains) expect(vm.batch.address).toBe(caller);
    const ctx = { caller, localContext: CONTEXT };
    const { source, known } = buildPreimages();
    const g: Gen = { r: new Prng(SEED), source, known };
    const tamper = new Prng(SEED ^ 0x7a3e9001);
    const lanes = chains.map((vm) => ({ vm, run: chainOutcomes(vm), loaded: new Set<string>(), busy: Promise.resolve() }));
    const mismatches: string[] = [];
    const coverage = new Map<string, number>();
    const errors = new Map<string, number>();
    const mismatchKinds = new Map<string, number>();
    let keeperMs = 0;
    let total = 0;
    let agreedFailures = 0;

    const check = async (lane: (typeof lanes)[number], batch: Prepared[], first: number): Promise<void> => {
      await loadParts(lane.vm, batch, lane.loaded);
      const chain = await lane.run(batch.map((p) => p.chainCase));
      batch.forEach((p, i) => {
        const got = chain[i]!;
        if (!sameOutcome(p.keeper, got)) {
          mismatchKinds.set(p.c.kind, (mismatchKinds.get(p.c.kind) ?? 0) + 1);
          mismatches.push(`#${first + i} ${p.c.label}: keeper/vm ${show(p.keeper)}, MIPS.step ${show(got)}\n    preState ${p.chainCase.preState}`);
        } else if (!got.ok) {
          agreedFailures++;
          errors.set(got.error, (errors.get(got.error) ?? 0) + 1);
        }
      });
      total += batch.length;
    };

    const systematic = systematicCases(g);
    const count = systematic.length + RANDOM_CASES;
    let batch: Prepared[] = [];
    let batches = 0;
    let submitted = 0;
    for (let i = 0; i < count; i++) {
      const c = i < systematic.length ? systematic[i]! : randomCase(g);
      coverage.set(c.kind, (coverage.get(c.kind) ?? 0) + 1);
      const t = performance.now();
      for (const p of prepare(c, ctx, mismatches, tamper)) {
        batch.push(p);
        if (p.c !== c) coverage.set(p.c.kind, (coverage.get(p.c.kind) ?? 0) + 1);
      }
      keeperMs += performance.now() - t;
      if (batch.length >= BATCH_SIZE || i === count - 1) {
        // The chains check earlier batches while the next ones are prepared.
        const lane = lanes[batches++ % lanes.length]!;
        await lane.busy;
        lane.busy = check(lane, batch, submitted);
        submitted += batch.length;
        batch = [];
      }
    }
    await Promise.all(lanes.map((l) => l.busy));
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `random differential: ${total} steps in ${seconds} s (keeper/vm witnesses and verifyStep ${(keeperMs / 1000).toFixed(1)} s, ` +
        `the chains overlapped with it), ${loadCount} preimage parts loaded, ${agreedFailures} steps failing on both sides ` +
        `(${[...errors].map(([k, v]) => `${k} ${v}`).join(", ")})`,
    );
    if (mismatches.length > 0) {
      console.log(`random differential: mismatches by case kind: ${[...mismatchKinds].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    }

    expect(total).toBeGreaterThanOrEqual(count);
    // Coverage: every supported instruction, every syscall, every read/write/fcntl fd.
    for (const e of INSTRUCTIONS) expect(coverage.get(e.name) ?? 0, `coverage of ${e.name}`).toBeGreaterThanOrEqual(e.name === "syscall" ? 0 : 4);
    for (const n of [Sys.READ, Sys.WRITE, Sys.FCNTL]) for (const fd of FDS) expect(coverage.get(`syscall:${n}:fd${fd}`) ?? 0, `syscall ${n} fd ${fd}`).toBeGreaterThan(0);
    for (const n of [Sys.MMAP, Sys.BRK, Sys.EXIT, Sys.EXIT_GROUP, ...BAD_SYSCALLS]) expect(coverage.get(`syscall:${n >>> 0}`) ?? 0, `syscall ${n}`).toBeGreaterThan(0);
    for (const k of ["invalid:regimm", "invalid:rotr", "invalid:rotrv", "invalid:ext", "invalid:ins", "exited", "malformed:r0", "malformed:exited", "malformed:length", "step-counter", "proof:short", "proof:flipped", "proof:extra"]) {
      expect(coverage.get(k) ?? 0, `coverage of ${k}`).toBeGreaterThan(0);
    }
    expect(mismatches.slice(0, 20), `seed 0x${SEED.toString(16)}: ${mismatches.length} mismatches`).toEqual([]);
  });
});

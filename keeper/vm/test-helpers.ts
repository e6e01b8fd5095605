/**
 * Test helpers for keeper/vm: an assembler for single instructions (from the opcode table) and
 * machines with crafted states. Used by the *.test.ts files only.
 */
import { VmStepError } from "./errors.ts";
import { INSTRUCTIONS, type InstructionEncoding } from "./instructions.ts";
import { Machine } from "./machine.ts";
import { Memory } from "./memory.ts";
import { runFast, stepMachine } from "./step.ts";

export interface Fields {
  rs?: number;
  rt?: number;
  rd?: number;
  sa?: number;
  imm?: number;
  target?: number;
}

export function encodingOf(name: string): InstructionEncoding {
  const e = INSTRUCTIONS.find((x) => x.name === name);
  if (e === undefined) throw new Error(`no instruction named ${name}`);
  return e;
}

/** Encodes an instruction by mnemonic; group fields (funct, REGIMM rt, BSHFL sa) come from the table. */
export function asm(name: string, f: Fields = {}): number {
  const e = encodingOf(name);
  let w = e.opcode << 26;
  if (e.opcode === 0x02 || e.opcode === 0x03) return (w | ((f.target ?? 0) & 0x03ffffff)) >>> 0;
  w |= ((f.rs ?? 0) & 31) << 21;
  w |= ((e.rt ?? f.rt ?? 0) & 31) << 16;
  if (e.funct !== undefined || e.opcode === 0x00) {
    w |= ((f.rd ?? 0) & 31) << 11;
    w |= ((e.sa ?? f.sa ?? 0) & 31) << 6;
    w |= e.funct ?? 0;
  } else {
    w |= (f.imm ?? 0) & 0xffff;
  }
  return w >>> 0;
}

export const CODE_BASE = 0x00400000;
export const DATA_BASE = 0x10000000;

export interface CraftedState {
  pc?: number;
  nextPC?: number;
  hi?: number;
  lo?: number;
  heap?: number;
  regs?: Record<number, number>;
  /** word address -> value */
  mem?: Record<number, number>;
  /** instructions placed at pc, pc+4, ... */
  code: number[];
}

export function craftMachine(s: CraftedState): Machine {
  const m = new Machine(new Memory(), { outputLimit: 4096 });
  m.pc = s.pc ?? CODE_BASE;
  m.nextPC = s.nextPC ?? (m.pc + 4) >>> 0;
  m.hi = (s.hi ?? 0) >>> 0;
  m.lo = (s.lo ?? 0) >>> 0;
  m.heap = s.heap ?? 0x20000000;
  for (const [r, v] of Object.entries(s.regs ?? {})) if (Number(r) !== 0) m.registers[Number(r)] = v | 0;
  for (const [a, v] of Object.entries(s.mem ?? {})) m.memory.writeMem(Number(a), v >>> 0);
  s.code.forEach((insn, i) => m.memory.writeMem((m.pc + 4 * i) >>> 0, insn));
  return m;
}

/** The comparable part of a machine (everything but memory, which is compared by root). */
export function cpuOf(m: Machine): Record<string, unknown> {
  return {
    pc: m.pc >>> 0,
    nextPC: m.nextPC >>> 0,
    hi: m.hi >>> 0,
    lo: m.lo >>> 0,
    heap: m.heap >>> 0,
    exited: m.exited,
    exitCode: m.exitCode,
    step: m.step,
    preimageOffset: m.preimageOffset,
    preimageKey: Buffer.from(m.preimageKey).toString("hex"),
    registers: Array.from(m.registers, (x) => x >>> 0),
  };
}

export type Outcome = { ok: true; machine: Machine } | { ok: false; reason: string; message: string };

function attempt(m: Machine, run: (m: Machine) => void): Outcome {
  try {
    run(m);
    return { ok: true, machine: m };
  } catch (e) {
    if (e instanceof VmStepError) return { ok: false, reason: e.reason, message: e.message };
    throw e;
  }
}

/** Executes one step with the reference semantics. */
export function stepReference(m: Machine): Outcome {
  return attempt(m, stepMachine);
}

/** Executes one step with the fast interpreter. */
export function stepFast(m: Machine): Outcome {
  return attempt(m, (x) => runFast(x, 1, { mode: "interp" }));
}

/** Executes one step with the block translator: the instruction alone as a translated block. */
export function stepJit(m: Machine): Outcome {
  return attempt(m, (x) => runFast(x, 1, { mode: "jit", jitThreshold: 0, jitMaxBlock: 1 }));
}

/** A small deterministic PRNG (xorshift32) for fuzz tests: same seed, same cases everywhere. */
export class Rng {
  constructor(private s: number) {
    if (s === 0) this.s = 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

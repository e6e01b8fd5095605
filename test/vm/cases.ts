/**
 * Hand-made witnesses, one or more per instruction class (docs/protocol.md §4.4, §4.6): each pre-state
 * is built in a sparse memory and each expected post-state is written out by hand. They drive the
 * harness before (and besides) the TypeScript VM, and are the gas benchmark's instruction classes.
 */
import { type Hex, concat, toHex } from "viem";
import type { StepCase } from "./harness.ts";
import {
  SparseMemory,
  type VmStateFields,
  advanced,
  baseState,
  cloneState,
  enc,
  keccakKey,
  localKey,
  packState,
  stateHashOf,
} from "./witness.ts";

export const CONTEXT: Hex = `0x${"c7".repeat(32)}`;
const DATA = 0x2000;
const BUF = 0x3000;

export interface CaseSpec {
  label: string;
  insn: number;
  setup?: (s: VmStateFields, mem: SparseMemory) => void;
  dataAddr?: number;
  /** Edits the expected post-state (pre-filled as "pc advanced, step + 1"); mem is a copy to store into. */
  expect: (e: VmStateFields, mem: SparseMemory) => void;
  preimage?: StepCase["preimage"];
}

export function buildCase(spec: CaseSpec): StepCase {
  const mem = new SparseMemory().writeWord(0x5000, 0x5a5a5a5a); // a second leaf: non-trivial siblings
  const pre = baseState();
  spec.setup?.(pre, mem);
  mem.writeWord(pre.pc, spec.insn);
  pre.memRoot = mem.root();
  const proofs: Hex[] = [mem.proof(pre.pc)];
  if (spec.dataAddr !== undefined) proofs.push(mem.proof(spec.dataAddr & ~3));
  const post = advanced(pre);
  const after = mem.clone();
  spec.expect(post, after);
  post.memRoot = after.root();
  const c: StepCase = {
    label: spec.label,
    preState: packState(pre),
    proof: concat(proofs),
    localContext: CONTEXT,
    postStateHash: stateHashOf(post),
  };
  if (spec.preimage !== undefined) c.preimage = spec.preimage;
  return c;
}

const R8 = 8;
const R9 = 9;
const R10 = 10;
const preimageData: Hex = toHex(new TextEncoder().encode("the quick brown fox jumps over the lazy dog"));

/** Instruction classes: ALU, branch, jump, load, store, hi/lo, syscalls, preimage key write and read. */
export const handCases: Record<string, CaseSpec> = {
  alu: {
    label: "alu addu",
    insn: enc.r(R8, R9, R10, 0, 0x21),
    setup: (s) => {
      s.registers[R8] = 0xfffffff0;
      s.registers[R9] = 0x20;
    },
    expect: (e) => {
      e.registers[R10] = 0x10;
    },
  },
  branch: {
    label: "branch bne taken",
    insn: enc.i(0x05, R8, R9, 0xfff0),
    setup: (s) => {
      s.registers[R8] = 1;
    },
    expect: (e) => {
      e.pc = 0x1004;
      e.nextPC = 0x1004 - 64;
    },
  },
  jump: {
    label: "jump jal",
    insn: enc.j(0x03, 0x00400000),
    expect: (e) => {
      e.pc = 0x1004;
      e.nextPC = 0x00400000;
      e.registers[31] = 0x1008;
    },
  },
  load: {
    label: "load lw",
    insn: enc.i(0x23, R8, R9, 8),
    dataAddr: DATA + 8,
    setup: (s, mem) => {
      s.registers[R8] = DATA;
      mem.writeWord(DATA + 8, 0xcafebabe);
    },
    expect: (e) => {
      e.registers[R9] = 0xcafebabe;
    },
  },
  store: {
    label: "store sw",
    insn: enc.i(0x2b, R8, R9, 4),
    dataAddr: DATA + 4,
    setup: (s, mem) => {
      s.registers[R8] = DATA;
      s.registers[R9] = 0x01020304;
      mem.writeWord(DATA + 4, 0xffffffff);
    },
    expect: (_e, mem) => {
      mem.writeWord(DATA + 4, 0x01020304);
    },
  },
  storeByte: {
    label: "store sb",
    insn: enc.i(0x28, R8, R9, 1),
    dataAddr: DATA + 1,
    setup: (s, mem) => {
      s.registers[R8] = DATA;
      s.registers[R9] = 0xaabbccdd;
      mem.writeWord(DATA, 0x11223344);
    },
    expect: (_e, mem) => {
      mem.writeWord(DATA, 0x11dd3344);
    },
  },
  hilo: {
    label: "hilo divu",
    insn: enc.r(R8, R9, 0, 0, 0x1b),
    setup: (s) => {
      s.registers[R8] = 100;
      s.registers[R9] = 7;
    },
    expect: (e) => {
      e.lo = 14;
      e.hi = 2;
    },
  },
  mmap: {
    label: "syscall mmap",
    insn: enc.syscall,
    setup: (s) => {
      s.registers[2] = 4090;
      s.registers[5] = 10000;
    },
    expect: (e) => {
      e.registers[2] = 0x20000000;
      e.registers[7] = 0;
      e.heap = 0x20000000 + 12288;
    },
  },
  exit: {
    label: "syscall exit_group",
    insn: enc.syscall,
    setup: (s) => {
      s.registers[2] = 4246;
      s.registers[4] = 1;
    },
    expect: (e) => {
      e.pc = 0x1000; // exit does not advance pc
      e.nextPC = 0x1004;
      e.exited = true;
      e.exitCode = 1;
    },
  },
  preimageKeyWrite: {
    label: "syscall write fd 6 (preimage key)",
    insn: enc.syscall,
    dataAddr: BUF,
    setup: (s, mem) => {
      s.registers[2] = 4004;
      s.registers[4] = 6;
      s.registers[5] = BUF;
      s.registers[6] = 4;
      s.preimageKey = `0x${"00".repeat(31)}ab`;
      s.preimageOffset = 5;
      mem.writeWord(BUF, 0x01020304);
    },
    expect: (e) => {
      e.registers[2] = 4;
      e.registers[7] = 0;
      e.preimageKey = `0x${"00".repeat(27)}ab01020304`;
      e.preimageOffset = 0;
    },
  },
  preimageRead: {
    label: "syscall read fd 5 (keccak preimage)",
    insn: enc.syscall,
    dataAddr: BUF + 1,
    setup: (s, mem) => {
      s.registers[2] = 4003;
      s.registers[4] = 5;
      s.registers[5] = BUF + 1;
      s.registers[6] = 100;
      s.preimageKey = keccakKey(preimageData);
      s.preimageOffset = 8; // past the length prefix: "the"
      mem.writeWord(BUF, 0xffffffff);
    },
    expect: (e, mem) => {
      e.registers[2] = 3;
      e.registers[7] = 0;
      e.preimageOffset = 11;
      mem.writeWord(BUF, 0xff746865); // 't' 'h' 'e'
    },
    preimage: { key: keccakKey(preimageData), offset: 8, data: preimageData },
  },
  localRead: {
    label: "syscall read fd 5 (local data)",
    insn: enc.syscall,
    dataAddr: BUF,
    setup: (s, mem) => {
      s.registers[2] = 4003;
      s.registers[4] = 5;
      s.registers[5] = BUF;
      s.registers[6] = 4;
      s.preimageKey = localKey(3n);
      s.preimageOffset = 8;
      mem.writeWord(BUF, 0);
    },
    expect: (e, mem) => {
      e.registers[2] = 4;
      e.registers[7] = 0;
      e.preimageOffset = 12;
      mem.writeWord(BUF, 0xdeadbeef);
    },
    preimage: { key: localKey(3n), offset: 8, data: "0xdeadbeef0102" },
  },
};

/** An exited state: it steps to itself, with no proof. */
export function exitedCase(): StepCase {
  const s = baseState();
  s.exited = true;
  s.exitCode = 7;
  s.step = 99n;
  return { label: "exited", preState: packState(s), proof: "0x", localContext: CONTEXT, postStateHash: stateHashOf(cloneState(s)) };
}

/**
 * The block translator (jit.ts) against the interpreter and the reference step: every guest test
 * program run whole and stopped at seeded random step budgets (mid-block included), state hash at
 * every stop; failures (trap.elf, crafted failing instructions inside blocks); self-modifying code
 * (a block storing into its own page, the host writing code between runs, a snapshot's machine);
 * blocks going on past conditional branches; syscalls inside blocks (preimage reads, in the block or called out: every count and
 * alignment, a key changed mid-loop, an offset past the end; output, exit, a read into the block's own page, failures, the memory cap);
 * and seeded random instruction sequences, branches and delay slots included.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GUEST_BUILD_DIR, listGuestPrograms } from "../guest/build.ts";
import { BENCH_LOOP_DEFAULT_ITERATIONS, benchLoopPreimages } from "../guest/inputs.ts";
import { VmMemoryLimitError, VmStepError } from "./errors.ts";
import { loadElf } from "./elf.ts";
import { INSTRUCTIONS } from "./instructions.ts";
import { blockSource, jitStats } from "./jit.ts";
import { Machine } from "./machine.ts";
import { MapPreimageSource } from "./preimage.ts";
import { type FastOptions, runFast, setVmMode, stepMachine, vmMode } from "./step.ts";
import { CODE_BASE, DATA_BASE, Rng, asm, cpuOf, craftMachine } from "./test-helpers.ts";

const elf = (name: string): Uint8Array => readFileSync(join(GUEST_BUILD_DIR, `${name}.elf`));
const programs = listGuestPrograms().filter((p) => p.kind === "tests");

function sourceFor(name: string): MapPreimageSource {
  if (name === "bench_loop") return benchLoopPreimages(BENCH_LOOP_DEFAULT_ITERATIONS);
  const source = new MapPreimageSource();
  const data = new Uint8Array(100).map((_, i) => (i * 7 + 3) & 0xff);
  source.setLocal(1, source.addKeccak(data));
  source.setLocal(2, new Uint8Array([0, 0, 1, 2]));
  return source;
}

type Runner = (m: Machine, n: number) => void;
const JIT_NOW: FastOptions = { mode: "jit", jitThreshold: 0 };
const RUNNERS: [string, Runner][] = [
  ["reference", (m, n) => {
    for (let i = 0; i < n && !m.exited; i++) stepMachine(m);
  }],
  ["interp", (m, n) => void runFast(m, n, { mode: "interp" })],
  ["jit (translate at once)", (m, n) => void runFast(m, n, JIT_NOW)],
  ["jit (default threshold)", (m, n) => void runFast(m, n, { mode: "jit" })],
];

type Outcome = { ok: true } | { ok: false; reason: string };
function attempt(run: () => void): Outcome {
  try {
    run();
    return { ok: true };
  } catch (e) {
    if (e instanceof VmStepError) return { ok: false, reason: e.reason };
    if (e instanceof VmMemoryLimitError) return { ok: false, reason: `${e.name}: ${e.message}` };
    throw e;
  }
}

/** Everything a run can differ in: the CPU state, the memory root (in the hash), the output. */
function observe(m: Machine): Record<string, unknown> {
  return { ...cpuOf(m), hash: m.stateHash(), stdout: Buffer.from(m.stdout.bytes()).toString("hex"), stderr: Buffer.from(m.stderr.bytes()).toString("hex") };
}

describe("fast mode selection", () => {
  it("defaults to jit, and setVmMode forces either mode", () => {
    const before = vmMode();
    try {
      setVmMode(undefined);
      expect(vmMode()).toBe(process.env.OAO_VM?.trim() === "" || process.env.OAO_VM === undefined ? "jit" : process.env.OAO_VM.trim().toLowerCase());
      setVmMode("interp");
      expect(vmMode()).toBe("interp");
      setVmMode("jit");
      expect(vmMode()).toBe("jit");
      expect(() => setVmMode("fast" as "jit")).toThrow(/expected interp or jit/);
    } finally {
      setVmMode(before);
    }
  });
});

describe("jit: every guest test program equals the interpreter and the reference", () => {
  for (const p of programs) {
    it(`${p.name}: whole run, then random step budgets with the state hash at every stop`, () => {
      const fresh = (): Machine => loadElf(elf(p.name), { preimages: sourceFor(p.name) });
      // Whole runs: same end (exit or failure), state, step count, stdout and stderr.
      const ends = RUNNERS.map(([name, run]) => {
        const m = fresh();
        const outcome = attempt(() => run(m, Number.MAX_SAFE_INTEGER));
        return { name, outcome, state: observe(m) };
      });
      for (const e of ends.slice(1)) expect({ outcome: e.outcome, state: e.state }, e.name).toEqual({ outcome: ends[0]!.outcome, state: ends[0]!.state });
      if (p.name === "trap") expect(ends[0]!.outcome).toEqual({ ok: false, reason: "Trap" });
      else expect(ends[0]!.state.exited).toBe(true);
      const total = ends[0]!.state.step as number;
      // Random budgets: mostly short (stops inside blocks), some long.
      const rng = new Rng(0x7a11 + p.name.length * 977 + p.name.charCodeAt(0));
      const machines = RUNNERS.map(() => fresh());
      let stops = 0;
      for (;;) {
        const n = rng.below(4) === 0 ? 1 + rng.below(Math.max(1, total >>> 5)) : 1 + rng.below(40);
        const outcomes = RUNNERS.map(([, run], i) => attempt(() => run(machines[i]!, n)));
        const want = observe(machines[0]!);
        for (let i = 1; i < RUNNERS.length; i++) {
          expect({ outcome: outcomes[i], state: observe(machines[i]!) }, `${RUNNERS[i]![0]} at stop ${stops}`).toEqual({ outcome: outcomes[0], state: want });
        }
        stops++;
        if (!outcomes[0]!.ok || machines[0]!.exited) break;
      }
      expect(stops).toBeGreaterThan(Math.min(20, Math.floor(total / 100)));
    });
  }
});

/** A machine with `code` at CODE_BASE, data around DATA_BASE, and the registers given. */
function crafted(code: number[], regs: Record<number, number> = {}): Machine {
  return craftMachine({ code, regs, mem: { [DATA_BASE]: 0x11223344, [DATA_BASE + 4]: 0x55667788 } });
}

/** Runs copies of a crafted machine in every mode and compares after each of `budgets`. */
function compareModes(make: () => Machine, budgets: number[]): Outcome[] {
  const machines = RUNNERS.map(() => make());
  const seen: Outcome[] = [];
  for (const [stop, n] of budgets.entries()) {
    const outcomes = RUNNERS.map(([, run], i) => attempt(() => run(machines[i]!, n)));
    const want = observe(machines[0]!);
    for (let i = 1; i < RUNNERS.length; i++) {
      expect({ outcome: outcomes[i], state: observe(machines[i]!) }, `${RUNNERS[i]![0]} at stop ${stop}`).toEqual({ outcome: outcomes[0], state: want });
    }
    seen.push(outcomes[0]!);
    if (!outcomes[0]!.ok) break;
  }
  return seen;
}

const INVALID = 0xfc000000; // opcode 0x3f: ends a block, fails the step

describe("jit: failures inside a block leave the state before the failing step", () => {
  const cases: [string, number[], Record<number, number>, string][] = [
    ["lw unaligned after two adds", [asm("addiu", { rs: 1, rt: 1, imm: 1 }), asm("addu", { rs: 1, rt: 2, rd: 3 }), asm("lw", { rs: 1, rt: 4, imm: 0 }), INVALID], { 1: DATA_BASE, 2: 5 }, "UnalignedAccess"],
    ["sh unaligned", [asm("ori", { rs: 0, rt: 5, imm: 9 }), asm("sh", { rs: 1, rt: 5, imm: 1 }), INVALID], { 1: DATA_BASE }, "UnalignedAccess"],
    ["div by zero", [asm("addiu", { rs: 0, rt: 7, imm: 3 }), asm("mthi", { rs: 7 }), asm("div", { rs: 7, rt: 8 }), INVALID], {}, "DivisionByZero"],
    ["divu by zero", [asm("mtlo", { rs: 1 }), asm("divu", { rs: 1, rt: 0 }), INVALID], { 1: 77 }, "DivisionByZero"],
    ["teq that holds", [asm("addiu", { rs: 2, rt: 2, imm: 1 }), asm("teq", { rs: 2, rt: 3 }), INVALID], { 2: 4, 3: 5 }, "Trap"],
    ["tne that holds", [asm("tne", { rs: 2, rt: 3 }), INVALID], { 2: 4 }, "Trap"],
    [
      "unaligned load in a delay slot (taken branch)",
      [asm("addiu", { rs: 0, rt: 9, imm: 1 }), asm("bne", { rs: 9, rt: 0, imm: 6 }), asm("lw", { rs: 1, rt: 4, imm: 2 }), INVALID],
      { 1: DATA_BASE },
      "UnalignedAccess",
    ],
    ["a branch in a delay slot", [asm("addiu", { rs: 0, rt: 9, imm: 1 }), asm("beq", { rs: 0, rt: 0, imm: 3 }), asm("j", { target: 0 }), INVALID], {}, "JumpInDelaySlot"],
    ["ext out of range ends the block", [asm("addiu", { rs: 0, rt: 9, imm: 1 }), asm("ext", { rs: 9, rt: 10, rd: 20, sa: 20 })], {}, "InvalidInstruction"],
    ["srl with rs != 0 (rotr)", [asm("addiu", { rs: 0, rt: 9, imm: 1 }), asm("srl", { rs: 1, rt: 9, rd: 10, sa: 3 })], {}, "InvalidInstruction"],
    ["unknown syscall", [asm("addiu", { rs: 0, rt: 2, imm: 4999 }), asm("syscall")], {}, "InvalidSyscall"],
    [
      "div by zero in the 50th round of a block that loops in itself",
      [asm("addiu", { rs: 3, rt: 3, imm: -1 }), asm("div", { rs: 4, rt: 3 }), asm("mflo", { rd: 5 }), asm("beq", { rs: 0, rt: 0, imm: -4 }), asm("addu", { rs: 5, rt: 6, rd: 6 })],
      { 3: 50, 4: 1000 },
      "DivisionByZero",
    ],
    [
      "unaligned store in a later round of a loop (in its delay slot)",
      [asm("addiu", { rs: 1, rt: 1, imm: 1 }), asm("srl", { rt: 1, rd: 2, sa: 3 }), asm("bne", { rs: 0, rt: 9, imm: -3 }), asm("sw", { rs: 2, rt: 1, imm: 0x3000 })],
      { 1: 0, 9: 1 },
      "UnalignedAccess",
    ],
  ];
  for (const [name, code, regs, reason] of cases) {
    it(name, () => {
      const rng = new Rng(code.length);
      const random = Array.from({ length: 80 }, () => 1 + rng.below(15));
      for (const budgets of [[1000], [1, 1, 1, 1, 1, 1, 1000], [2, 1000], [3, 1000], [7, 13, 1000], [...random, 1000]]) {
        const seen = compareModes(() => crafted(code, regs), budgets);
        expect(seen.some((o) => !o.ok && o.reason === reason), `${name}: ${JSON.stringify(seen)}`).toBe(true);
      }
    });
  }
});

describe("jit: the memory cap stops every mode at the same step, in the state before it", () => {
  const capped = (code: number[], regs: Record<number, number>, extraPages: number) => () => {
    const m = crafted(code, regs);
    m.memory.maxPages = m.memory.pageCount + extraPages;
    return m;
  };
  const far = DATA_BASE + 0x100000;
  const cases: [string, number[]][] = [
    // each round stores into a page never written before; the loop runs inside one translated block
    ["a store to a new page each round of a block that loops in itself", [asm("sw", { rs: 2, rt: 1, imm: 0 }), asm("addiu", { rs: 2, rt: 2, imm: 4096 }), asm("bne", { rs: 2, rt: 3, imm: -3 }), asm("addiu", { rs: 1, rt: 1, imm: 1 })]],
    ["the same with the store in the branch's delay slot", [asm("addiu", { rs: 2, rt: 2, imm: 4096 }), asm("bne", { rs: 2, rt: 3, imm: -2 }), asm("sw", { rs: 2, rt: 1, imm: 0 })]],
    ["a byte store (sb) after stores into pages already written", [asm("sw", { rs: 2, rt: 1, imm: 4 }), asm("sb", { rs: 2, rt: 1, imm: 4097 }), asm("addiu", { rs: 2, rt: 2, imm: 4096 }), asm("bne", { rs: 2, rt: 3, imm: -4 }), asm("addiu", { rs: 1, rt: 1, imm: 1 })]],
  ];
  for (const [name, code] of cases) {
    it(name, () => {
      const regs = { 1: 7, 2: far, 3: far + 4096 * 40 };
      for (const budgets of [[1000], [1, 1, 1, 1000], [5, 1000], [3, 7, 1000]]) {
        const seen = compareModes(capped(code, regs, 6), budgets);
        const last = seen.at(-1)!;
        expect(last.ok, `${name}: ${JSON.stringify(seen)}`).toBe(false);
        expect(!last.ok && last.reason).toMatch(/^VmMemoryLimitError: memory cap reached: writing page 0x10\d{3} .* beyond the cap of \d+ pages of 4 KiB/);
      }
      // Without the cap the same code runs on.
      expect(compareModes(capped(code, regs, 1000), [1000]).every((o) => o.ok)).toBe(true);
    });
  }

  it("alloc.elf (465 pages) under a 100-page cap: the same step, state and page count in every mode", () => {
    const bytes = elf("alloc");
    const outcomes = RUNNERS.map(([, run]) => {
      const m = loadElf(bytes);
      m.memory.maxPages = 100;
      const outcome = attempt(() => run(m, 1_000_000));
      return { outcome, step: m.step, pages: m.memory.pageCount, state: observe(m) };
    });
    expect(outcomes[0]!.outcome.ok).toBe(false);
    expect(outcomes[0]!.pages).toBe(100);
    expect(outcomes[0]!.step).toBeGreaterThan(0);
    for (const o of outcomes.slice(1)) expect(o).toEqual(outcomes[0]);
  });
});

describe("jit: a block goes on past a conditional branch along its not-taken path", () => {
  // index 1: beq r4, r0 -> index 6; its delay slot at 2; the not-taken path 3..5 in the same block
  const code = (slot: number) => [
    asm("addiu", { rs: 3, rt: 3, imm: 1 }),
    asm("beq", { rs: 4, rt: 0, imm: 4 }),
    slot,
    asm("addiu", { rs: 6, rt: 6, imm: 1 }),
    asm("bne", { rs: 3, rt: 7, imm: -5 }),
    asm("addiu", { rs: 8, rt: 8, imm: 1 }),
    asm("addiu", { rs: 9, rt: 9, imm: 1 }),
    INVALID,
  ];
  const budgets = [[10_000], [1, 1, 1, 1, 1, 1, 1, 10_000], [2, 3, 10_000], [3, 4, 5, 10_000]];

  it("taken and not taken, in a loop: the same states as the interpreter at every stop", () => {
    for (const r4 of [0, 1]) for (const b of budgets) compareModes(() => crafted(code(asm("addiu", { rs: 5, rt: 5, imm: 1 })), { 4: r4, 7: 20 }), b);
    const m = crafted(code(asm("addiu", { rs: 5, rt: 5, imm: 1 })), { 4: 1, 7: 20 });
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect([m.registers[3], m.registers[5], m.registers[6], m.registers[8], m.registers[9]]).toEqual([20, 20, 20, 20, 1]);
  });

  it("a failing load in the delay slot of a taken branch inside a block leaves nextPC at the target", () => {
    for (const b of budgets) {
      const seen = compareModes(() => crafted(code(asm("lw", { rs: 1, rt: 10, imm: 2 })), { 1: DATA_BASE, 4: 0, 7: 20 }), b);
      expect(seen.at(-1)).toEqual({ ok: false, reason: "UnalignedAccess" });
    }
    const m = crafted(code(asm("lw", { rs: 1, rt: 10, imm: 2 })), { 1: DATA_BASE, 4: 0, 7: 20 });
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect([m.pc, m.nextPC, m.step]).toEqual([CODE_BASE + 8, CODE_BASE + 24, 2]);
  });

  it("a store into the block's own page from the delay slot of a branch inside it (taken or not)", () => {
    // the slot stores `addiu r9, r9, 100` over index 6 (the taken target): later rounds see it
    const patched = asm("addiu", { rs: 9, rt: 9, imm: 100 });
    for (const r4 of [0, 1]) {
      for (const b of budgets) compareModes(() => crafted(code(asm("sw", { rs: 1, rt: 2, imm: 24 })), { 1: CODE_BASE, 2: patched, 4: r4, 7: 20 }), b);
      const m = crafted(code(asm("sw", { rs: 1, rt: 2, imm: 24 })), { 1: CODE_BASE, 2: patched, 4: r4, 7: 20 });
      expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
      expect(m.registers[9]).toBe(100);
    }
  });
});

describe("jit: syscalls inside a block (a call out to the interpreter's handleSyscall)", () => {
  const READ = 4003;
  const data = new Uint8Array(37).map((_, i) => (i * 29 + 5) & 0xff);
  /** A crafted machine whose preimage key is the keccak key of `bytes`, at `offset` of its framed preimage. */
  const withPreimage = (code: number[], regs: Record<number, number>, bytes = data, offset = 0) => () => {
    const m = crafted(code, regs);
    const source = new MapPreimageSource();
    m.preimages = source;
    m.preimageKey = source.addKeccak(bytes).slice();
    m.preimageOffset = offset;
    return m;
  };
  /** read(5, r<addr>, 4): the syscall and the 4 instructions setting its number and arguments. */
  const read4 = (addr: number) => [
    asm("addiu", { rs: 0, rt: 2, imm: READ }),
    asm("addiu", { rs: 0, rt: 4, imm: 5 }),
    asm("addu", { rs: addr, rt: 0, rd: 5 }),
    asm("addiu", { rs: 0, rt: 6, imm: 4 }),
    asm("syscall"),
  ];
  // read(5, r8, 4) until it returns 0: the syscall sits mid-block in a block that loops in itself
  const readLoop = [
    ...read4(8),
    asm("addu", { rs: 8, rt: 2, rd: 8 }),
    asm("addu", { rs: 9, rt: 2, rd: 9 }),
    asm("bne", { rs: 2, rt: 0, imm: -8 }),
    asm("sll"),
    INVALID,
  ];

  it("a preimage read loop: every mode reads the same bytes to the same state, at every stop", () => {
    const rng = new Rng(0x5c);
    for (const start of [DATA_BASE, DATA_BASE + 1, DATA_BASE + 4095 - 8]) {
      for (const budgets of [[10_000], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10_000], [4, 5, 10_000], Array.from({ length: 40 }, () => 1 + rng.below(20)).concat([10_000])]) {
        const seen = compareModes(withPreimage(readLoop, { 8: start }), budgets);
        expect(seen.at(-1)).toEqual({ ok: false, reason: "InvalidInstruction" });
      }
    }
    const before = jitStats();
    const m = withPreimage(readLoop, { 8: DATA_BASE + 1 })();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[9]).toBe(8 + data.length);
    expect(m.memory.readBytes(DATA_BASE + 9, data.length)).toEqual(data);
    // Every read ran inside the translated block (the failing INVALID is the interpreter's, and throws).
    expect(jitStats().interpretedSteps - before.interpretedSteps).toBe(0);
  });

  it("in-block reads (no call out) of every count and alignment, to the end of the preimage, equal the interpreter's", () => {
    // read(5, r8, r6) with r6 cycling 0..5 and r8 advancing by what the read returned: counts 0-3 read fewer bytes
    const code = [
      asm("addiu", { rs: 0, rt: 2, imm: READ }),
      asm("addiu", { rs: 0, rt: 4, imm: 5 }),
      asm("addu", { rs: 8, rt: 0, rd: 5 }),
      asm("addiu", { rs: 10, rt: 10, imm: 1 }),
      asm("andi", { rs: 10, rt: 6, imm: 7 }),
      asm("syscall"),
      asm("addu", { rs: 8, rt: 2, rd: 8 }),
      asm("bne", { rs: 10, rt: 11, imm: -8 }),
      asm("addu", { rs: 9, rt: 2, rd: 9 }),
      INVALID,
    ];
    for (const start of [DATA_BASE, DATA_BASE + 2, DATA_BASE + 3]) {
      for (const budgets of [[10_000], [6, 7, 10_000], [1, 2, 3, 5, 8, 13, 21, 10_000]]) {
        const seen = compareModes(withPreimage(code, { 8: start, 11: 200 }), budgets);
        expect(seen.at(-1)).toEqual({ ok: false, reason: "InvalidInstruction" });
      }
    }
    const m = withPreimage(code, { 8: DATA_BASE + 3, 11: 200 })();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[9]).toBe(8 + data.length);
    expect(m.memory.readBytes(DATA_BASE + 3 + 8, data.length)).toEqual(data);
  });

  it("a key written mid-loop (in place) makes the next in-block read the new preimage's", () => {
    // Each round reads 12 bytes of the current preimage to r12 (3 reads of 4), then writes the 32 key bytes at r13
    // (8 writes of 4 to fd 6: the key array changes in place, the offset goes back to 0), alternating two keys.
    const other = new Uint8Array(21).map((_, i) => (i * 13 + 1) & 0xff);
    const code = [
      asm("addiu", { rs: 0, rt: 16, imm: 3 }),
      ...read4(12),
      asm("addiu", { rs: 12, rt: 12, imm: 4 }),
      asm("addiu", { rs: 16, rt: 16, imm: -1 }),
      asm("bne", { rs: 16, rt: 0, imm: -8 }),
      asm("sll"),
      // write(6, r13 + 4k, 4) for k = 0..7
      asm("addiu", { rs: 0, rt: 14, imm: 8 }),
      asm("addu", { rs: 13, rt: 0, rd: 5 }),
      asm("addiu", { rs: 0, rt: 2, imm: 4004 }),
      asm("addiu", { rs: 0, rt: 4, imm: 6 }),
      asm("addiu", { rs: 0, rt: 6, imm: 4 }),
      asm("syscall"),
      asm("addiu", { rs: 14, rt: 14, imm: -1 }),
      asm("bne", { rs: 14, rt: 0, imm: -6 }),
      asm("addiu", { rs: 5, rt: 5, imm: 4 }),
      // the next round writes the other key: r13 ^= 32
      asm("xori", { rs: 13, rt: 13, imm: 32 }),
      asm("addiu", { rs: 15, rt: 15, imm: -1 }),
      asm("bne", { rs: 15, rt: 0, imm: -22 }),
      asm("sll"),
      INVALID,
    ];
    const keys = DATA_BASE + 0x800;
    const rounds = 6;
    const make = () => {
      const m = withPreimage(code, { 12: DATA_BASE, 13: keys, 15: rounds })();
      const source = m.preimages as MapPreimageSource;
      m.memory.setBytes(keys, source.addKeccak(other));
      m.memory.setBytes(keys + 32, m.preimageKey);
      return m;
    };
    for (const budgets of [[10_000], [5, 10_000], [1, 3, 7, 15, 31, 63, 10_000]]) {
      const seen = compareModes(make, budgets);
      expect(seen.at(-1)).toEqual({ ok: false, reason: "InvalidInstruction" });
    }
    const m = make();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    // Round k read the first 12 bytes of its framed preimage (data's in even rounds, other's in odd ones).
    const frame12 = (d: Uint8Array) => [0, 0, 0, 0, 0, 0, 0, d.length, d[0]!, d[1]!, d[2]!, d[3]!];
    const want = Array.from({ length: rounds }, (_, k) => frame12(k % 2 === 0 ? data : other)).flat();
    expect(Array.from(m.memory.readBytes(DATA_BASE, 12 * rounds))).toEqual(want);
  });

  it("a read at an offset past the preimage's end with its frame already fetched fails as the interpreter's does", () => {
    const code = [...read4(8), asm("addiu", { rs: 8, rt: 8, imm: 4 }), ...read4(8), INVALID];
    const make = () => {
      const m = withPreimage(code, { 8: DATA_BASE }, data)();
      runFast(m, 5, { mode: "interp" }); // the first read fetches the frame
      m.preimageOffset = 8 + data.length + 1;
      return m;
    };
    for (const budgets of [[10_000], [4, 10_000], [5, 10_000]]) {
      const seen = compareModes(make, budgets);
      expect(seen.at(-1)).toEqual({ ok: false, reason: "PartOffsetOOB" });
    }
    const m = make();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect([m.step, m.pc]).toEqual([10, CODE_BASE + 40]); // the second read's syscall
  });

  it("exit mid-block stops every mode at the exit, with the instructions after it not run", () => {
    const code = [asm("addiu", { rs: 3, rt: 3, imm: 1 }), asm("addiu", { rs: 0, rt: 2, imm: 4246 }), asm("addiu", { rs: 0, rt: 4, imm: 7 }), asm("syscall"), asm("addiu", { rs: 3, rt: 3, imm: 1 }), INVALID];
    for (const budgets of [[10_000], [1, 1, 1, 1, 1], [3, 10], [4]]) compareModes(() => crafted(code), budgets);
    const m = crafted(code);
    expect(runFast(m, 10_000, JIT_NOW)).toBe(4);
    expect([m.exited, m.exitCode, m.step, m.registers[3], m.pc]).toEqual([true, 7, 4, 1, CODE_BASE + 12]);
  });

  it("writes to stdout from a loop: the same output in every mode", () => {
    const code = [
      asm("addiu", { rs: 0, rt: 2, imm: 4004 }),
      asm("addiu", { rs: 0, rt: 4, imm: 1 }),
      asm("addu", { rs: 8, rt: 0, rd: 5 }),
      asm("addiu", { rs: 0, rt: 6, imm: 3 }),
      asm("syscall"),
      asm("addiu", { rs: 10, rt: 10, imm: -1 }),
      asm("bne", { rs: 10, rt: 0, imm: -7 }),
      asm("addiu", { rs: 8, rt: 8, imm: 1 }),
      INVALID,
    ];
    for (const budgets of [[10_000], [5, 6, 7, 10_000], [2, 2, 2, 2, 2, 2, 2, 10_000]]) compareModes(() => crafted(code, { 8: DATA_BASE, 10: 5 }), budgets);
    const m = crafted(code, { 8: DATA_BASE, 10: 5 });
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(Buffer.from(m.stdout.bytes()).toString("hex")).toBe("112233223344334455445566556677");
  });

  it("a read that writes an instruction later into the block's own page runs the new instruction", () => {
    const patched = asm("addiu", { rs: 3, rt: 3, imm: 100 });
    const word = new Uint8Array([patched >>> 24, (patched >>> 16) & 0xff, (patched >>> 8) & 0xff, patched & 0xff]);
    const code = [
      asm("addiu", { rs: 0, rt: 2, imm: READ }),
      asm("addiu", { rs: 0, rt: 4, imm: 5 }),
      asm("addiu", { rs: 0, rt: 6, imm: 4 }),
      asm("syscall"),
      asm("addiu", { rs: 3, rt: 3, imm: 1 }), // replaced by the read: +100
      asm("addiu", { rs: 3, rt: 3, imm: 1 }),
      INVALID,
    ];
    const regs = { 5: CODE_BASE + 16 };
    for (const budgets of [[10_000], [4, 10_000], [1, 1, 1, 1, 1, 1, 10_000]]) compareModes(withPreimage(code, regs, word, 8), budgets);
    const m = withPreimage(code, regs, word, 8)();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[3]).toBe(101);
  });

  it("a load after a read into a page shared with a snapshot sees the read's bytes (the block's page caches are dropped)", () => {
    const code = [
      asm("lw", { rs: 8, rt: 10, imm: 0 }),
      ...read4(8),
      asm("lw", { rs: 8, rt: 11, imm: 0 }),
      asm("addu", { rs: 12, rt: 11, rd: 12 }),
      asm("addiu", { rs: 8, rt: 8, imm: 4 }),
      asm("bne", { rs: 8, rt: 13, imm: -10 }),
      asm("addu", { rs: 14, rt: 10, rd: 14 }),
      INVALID,
    ];
    const make = () => {
      const m = withPreimage(code, { 8: DATA_BASE, 13: DATA_BASE + 32 }, data, 8)();
      m.snapshot(); // every page now shared copy-on-write: the read replaces the data page's object
      return m;
    };
    for (const budgets of [[10_000], [7, 10_000], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10_000]]) compareModes(make, budgets);
    const m = make();
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum = (sum + ((data[4 * i]! << 24) | (data[4 * i + 1]! << 16) | (data[4 * i + 2]! << 8) | data[4 * i + 3]!)) | 0;
    expect(m.registers[12]).toBe(sum);
  });

  it("a failing read mid-block (no preimage source) leaves the state before it in every mode", () => {
    const code = [asm("addiu", { rs: 0, rt: 2, imm: READ }), asm("addiu", { rs: 0, rt: 4, imm: 5 }), asm("addiu", { rs: 0, rt: 6, imm: 4 }), asm("syscall"), asm("addiu", { rs: 3, rt: 3, imm: 1 }), INVALID];
    for (const budgets of [[10_000], [2, 10_000], [3, 10_000]]) {
      const seen = compareModes(() => crafted(code, { 5: DATA_BASE }), budgets);
      expect(seen.at(-1)).toEqual({ ok: false, reason: "PreimageNotFound" });
    }
    const m = crafted(code, { 5: DATA_BASE });
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect([m.step, m.pc, m.registers[2], m.registers[6]]).toEqual([3, CODE_BASE + 12, READ, 4]);
  });

  it("reads into a new page each round stop at the memory cap at the same step in every mode", () => {
    // read(5, r5, 4); r5 += 4096: each round's read writes a page never written before
    const code = [
      asm("addiu", { rs: 0, rt: 2, imm: READ }),
      asm("addiu", { rs: 0, rt: 4, imm: 5 }),
      asm("addiu", { rs: 0, rt: 6, imm: 4 }),
      asm("syscall"),
      asm("bne", { rs: 5, rt: 7, imm: -5 }),
      asm("addiu", { rs: 5, rt: 5, imm: 4096 }),
      INVALID,
    ];
    const far = DATA_BASE + 0x100000;
    const make = () => {
      const m = withPreimage(code, { 5: far, 7: far + 4096 * 40 }, new Uint8Array(4000))();
      m.memory.maxPages = m.memory.pageCount + 6;
      return m;
    };
    for (const budgets of [[1000], [1, 1, 1, 1000], [5, 1000], [3, 7, 1000]]) {
      const seen = compareModes(make, budgets);
      const last = seen.at(-1)!;
      expect(!last.ok && last.reason).toMatch(/^VmMemoryLimitError: memory cap reached/);
    }
  });
});

describe("jit: self-modifying code", () => {
  it("a block that stores a new instruction later into itself runs the new instruction", () => {
    // r2 <- the word of `addiu r3, r3, 100`; sw r2 -> code[3] (was addiu r3, r3, 1); loop 5 times
    const patched = asm("addiu", { rs: 3, rt: 3, imm: 100 });
    const code = [
      asm("lui", { rt: 2, imm: patched >>> 16 }),
      asm("ori", { rs: 2, rt: 2, imm: patched & 0xffff }),
      asm("sw", { rs: 1, rt: 2, imm: 12 }),
      asm("addiu", { rs: 3, rt: 3, imm: 1 }),
      asm("addiu", { rs: 4, rt: 4, imm: -1 }),
      asm("bne", { rs: 4, rt: 0, imm: -6 }),
      asm("nor", { rs: 0, rt: 0, rd: 0 }),
      INVALID,
    ];
    const regs = { 1: CODE_BASE, 4: 5 };
    for (const budgets of [[10_000], [3, 4, 5, 10_000], [1, 1, 1, 1, 1, 1, 1, 1, 10_000]]) {
      const seen = compareModes(() => crafted(code, regs), budgets);
      expect(seen[seen.length - 1]).toEqual({ ok: false, reason: "InvalidInstruction" });
    }
    const m = crafted(code, regs);
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[3]).toBe(500);
  });

  it("a block that loops in itself and patches its own first instruction from its delay slot", () => {
    const patched = asm("addiu", { rs: 3, rt: 3, imm: 100 });
    const code = [asm("addiu", { rs: 3, rt: 3, imm: 1 }), asm("bne", { rs: 4, rt: 3, imm: -2 }), asm("sw", { rs: 6, rt: 5, imm: 0 }), INVALID];
    const regs = { 4: 301, 5: patched, 6: CODE_BASE };
    for (const budgets of [[10_000], [2, 5, 10_000], [3, 3, 3, 10_000]]) compareModes(() => crafted(code, regs), budgets);
    const m = crafted(code, regs);
    expect(() => runFast(m, 10_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[3]).toBe(301);
    expect(m.step).toBe(3 * 4);
  });

  it("a loop that rewrites the next block's code every round", () => {
    // round k stores `addiu r5, r0, k` over the first word of the block after the branch
    const code = [
      asm("addiu", { rs: 6, rt: 6, imm: 1 }), // r6 = k
      asm("lui", { rt: 2, imm: 0x2405 }), // addiu r5, r0, 0 = 0x24050000
      asm("or", { rs: 2, rt: 6, rd: 2 }),
      asm("sw", { rs: 1, rt: 2, imm: 28 }),
      asm("beq", { rs: 0, rt: 0, imm: 2 }),
      asm("sll"),
      INVALID,
      0, // patched: addiu r5, r0, k
      asm("addu", { rs: 7, rt: 5, rd: 7 }),
      asm("slti", { rs: 6, rt: 8, imm: 40 }),
      asm("bne", { rs: 8, rt: 0, imm: -11 }),
      asm("sll"),
      INVALID,
    ];
    const regs = { 1: CODE_BASE };
    const rng = new Rng(99);
    for (let t = 0; t < 4; t++) {
      const budgets = Array.from({ length: 60 }, () => 1 + rng.below(t === 0 ? 1000 : 9));
      compareModes(() => crafted(code, regs), budgets);
    }
    const m = crafted(code, regs);
    expect(() => runFast(m, 100_000, JIT_NOW)).toThrow(VmStepError);
    expect(m.registers[7]).toBe((40 * 41) / 2);
  });

  it("the host writing code between runs, and a machine from a snapshot, see the new code", () => {
    const code = [asm("addiu", { rs: 3, rt: 3, imm: 1 }), asm("beq", { rs: 0, rt: 0, imm: -2 }), asm("sll")];
    const m = crafted(code);
    runFast(m, 3000, JIT_NOW);
    expect(m.registers[3]).toBe(1000);
    const snap = m.snapshot();
    m.memory.writeMem(CODE_BASE, asm("addiu", { rs: 3, rt: 3, imm: 2 }));
    runFast(m, 3000, JIT_NOW);
    expect(m.registers[3]).toBe(3000);
    const restored = Machine.fromSnapshot(snap);
    runFast(restored, 3000, JIT_NOW);
    expect(restored.registers[3]).toBe(2000);
    restored.memory.setBytes(CODE_BASE + 2, new Uint8Array([0, 3]));
    runFast(restored, 3000, JIT_NOW);
    expect(restored.registers[3]).toBe(5000);
    runFast(m, 3, JIT_NOW);
    expect(m.registers[3]).toBe(3002);
  });
});

describe("jit: random instruction sequences", () => {
  const EDGE = [0, 1, 2, 3, 4, 31, 32, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0xffff, 0x8000];
  /** Branches stay in the code; loads and stores mostly near DATA_BASE (and sometimes the code). */
  function randomCode(rng: Rng, n: number): number[] {
    const code: number[] = [];
    for (let i = 0; i < n; i++) {
      const e = rng.pick(INSTRUCTIONS);
      if (rng.below(25) === 0) {
        code.push(rng.next());
        continue;
      }
      const f = { rs: rng.below(8), rt: rng.below(8), rd: rng.below(8), sa: rng.below(32), imm: rng.next(), target: rng.next() };
      if (e.name === "syscall") continue;
      if (e.opcode >= 0x01 && e.opcode <= 0x07 && e.opcode !== 0x02 && e.opcode !== 0x03) f.imm = (rng.below(n + 4) - i - 1) & 0xffff;
      if (e.opcode === 0x02 || e.opcode === 0x03) f.target = (CODE_BASE >>> 2) + rng.below(n + 2);
      if (e.opcode >= 0x20) f.imm = rng.below(3) === 0 ? rng.next() : rng.below(64) - 16;
      if (e.name === "jr" || e.name === "jalr") f.rs = 7;
      code.push(asm(e.name, f));
    }
    code.push(INVALID);
    return code;
  }

  it("the translator equals the interpreter and the reference at random stops", () => {
    const rng = new Rng(0x0b10c);
    const before = jitStats();
    let failures = 0;
    let steps = 0;
    for (let t = 0; t < 400; t++) {
      const code = randomCode(rng, 4 + rng.below(40));
      const regs: Record<number, number> = {};
      for (let i = 1; i < 8; i++) {
        const k = rng.below(4);
        regs[i] = k === 0 ? rng.pick(EDGE) : k === 1 ? DATA_BASE + (rng.below(32) << 2) + (rng.below(3) === 0 ? rng.below(4) : 0) : k === 2 ? CODE_BASE + 4 * rng.below(code.length) : rng.next();
      }
      regs[7] = CODE_BASE + 4 * rng.below(code.length);
      const budgets = Array.from({ length: 12 }, () => 1 + rng.below(rng.below(3) === 0 ? 200 : 12));
      const hi = rng.next();
      const lo = rng.next();
      const seen = compareModes(() => {
        const m = crafted(code, regs);
        m.hi = hi;
        m.lo = lo;
        return m;
      }, budgets);
      if (seen.some((o) => !o.ok)) failures++;
      steps += budgets.length;
    }
    expect(failures).toBeGreaterThan(50);
    expect(failures).toBeLessThan(400);
    expect(steps).toBeGreaterThan(0);
    // The translator ran a real share of it (blocks, side exits), not just the interpreter.
    const after = jitStats();
    expect(after.blockRuns - before.blockRuns).toBeGreaterThan(1000);
    expect(after.compiled - before.compiled).toBeGreaterThan(300);
    expect(after.failed).toBe(0);
  });
});

describe("jit: generated source", () => {
  it("is straight-line JavaScript with one local per register used", () => {
    const src = blockSource(CODE_BASE, [asm("addu", { rs: 4, rt: 5, rd: 2 }), asm("jr", { rs: 31 }), asm("sll")]);
    expect(src).toMatch(/r2 = \(r4 \+ r5\) \| 0;/);
    expect(src).toMatch(/np = r31;/);
    expect(src).toMatch(/r\[2\] = r2;/);
    expect(src).not.toMatch(/r\[4\] = /);
  });
});

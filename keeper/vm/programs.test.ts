/**
 * Every guest test program (keeper/guest/tests) in the VM: exit code and stdout equal to qemu-mips
 * (recorded in keeper/guest/build/expected.json, and run live when qemu-mips is installed); the
 * fast interpreter equal to the reference step on every step; witnesses that verify from their
 * bytes alone on every step of the small programs and on samples of the large ones.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GUEST_BUILD_DIR, findQemu, listGuestPrograms, readExpected, runUnderQemu } from "../guest/build.ts";
import { BENCH_LOOP_DEFAULT_ITERATIONS, benchLoopPreimages } from "../guest/inputs.ts";
import { VmStepError } from "./errors.ts";
import { toHex } from "./hex.ts";
import { loadElf } from "./elf.ts";
import type { Machine } from "./machine.ts";
import { MapPreimageSource, localizeKey } from "./preimage.ts";
import { runFast, stepMachine, stepWithWitness, verifyStep, witnessPreimageReader } from "./step.ts";
import { runElf } from "./trace.ts";

const elfPath = (name: string): string => join(GUEST_BUILD_DIR, `${name}.elf`);
const elf = (name: string): Uint8Array => readFileSync(elfPath(name));
const programs = listGuestPrograms().filter((p) => p.kind === "tests");
const expected = readExpected();
const qemu = findQemu();
if (qemu === undefined) console.warn("keeper/vm: qemu-mips not found: comparing with the recorded expected.json only");

/** The preimages the `preimage` program reads: local 1 = a keccak key, local 2 = a node index. */
function preimageSource(): { source: MapPreimageSource; data: Uint8Array } {
  const source = new MapPreimageSource();
  const data = new Uint8Array(100).map((_, i) => (i * 7 + 3) & 0xff);
  source.setLocal(1, source.addKeccak(data));
  source.setLocal(2, new Uint8Array([0, 0, 1, 2]));
  return { source, data };
}

/**
 * What a program reads from the oracle: bench_loop its iteration count (the count it runs without
 * an oracle, so that qemu-mips's output is the reference), the others preimage.elf's inputs.
 */
function sourceFor(name: string): MapPreimageSource {
  return name === "bench_loop" ? benchLoopPreimages(BENCH_LOOP_DEFAULT_ITERATIONS) : preimageSource().source;
}

function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

const VM_ONLY_EXPECTED: Record<string, { exitCode: number; stdout: string }> = {
  syscalls: {
    exitCode: 0,
    stdout: [
      ...[0, 1, 1, 0, 1, 0, 1, -1].map((v) => `fcntl ${v}`),
      "fcntl-cmd -1",
      "read0 0",
      "read3 8",
      "read9 -1",
      "write9 -1",
      `brk ${0x40000000}`,
      `mmap-fixed ${0x30000000}`,
      `mmap-a ${0x20000000}`,
      `mmap-c ${0x20001000}`,
      `mmap-d ${0x20003000}`,
      "",
    ].join("\n"),
  },
  preimage: (() => {
    const { data } = preimageSource();
    return { exitCode: 0, stdout: `data 100 0x${fnv(data).toString(16).padStart(8, "0")}\nnode 4 258\nreread ok\n` };
  })(),
};

describe("guest programs: results", () => {
  it("has a reference result for every program", () => {
    for (const p of programs) {
      if (p.name === "trap") continue;
      expect(expected[p.name] ?? VM_ONLY_EXPECTED[p.name], p.name).toBeDefined();
    }
  });

  for (const p of programs) {
    if (p.name === "trap") continue;
    it(`${p.name}: exit code and stdout${p.vmOnly ? "" : " equal qemu-mips"}`, () => {
      const want = expected[p.name] ?? VM_ONLY_EXPECTED[p.name]!;
      const result = runElf(elf(p.name), { preimages: sourceFor(p.name) });
      expect(result.exited).toBe(true);
      expect({ exitCode: result.exitCode, stdout: new TextDecoder().decode(result.stdout) }).toEqual(want);
      if (qemu !== undefined && !p.vmOnly) expect(runUnderQemu(qemu, elfPath(p.name))).toEqual(want);
    });
  }

  it("trap: teq with a true condition fails the step", () => {
    const m = loadElf(elf("trap"));
    expect(() => runFast(m, 1000)).toThrow(VmStepError);
    try {
      runFast(m, 1000);
    } catch (e) {
      expect((e as VmStepError).reason).toBe("Trap");
    }
    expect(m.exited).toBe(false);
  });

  it.skipIf(qemu === undefined)("trap: qemu-mips raises SIGTRAP on the same program", () => {
    expect(runUnderQemu(qemu!, elfPath("trap")).exitCode).toBe(128 + 5);
  });

  it("panic and exit1 put their status in the state hash", () => {
    expect(runElf(elf("exit1")).stateHash.slice(0, 4)).toBe("0x01");
    expect(runElf(elf("panic")).stateHash.slice(0, 4)).toBe("0x02");
    expect(runElf(elf("hello")).stateHash.slice(0, 4)).toBe("0x00");
    expect(runElf(elf("hello"), { maxSteps: 10 }).stateHash.slice(0, 4)).toBe("0x03");
  });
});

/** A cheap fingerprint of the CPU state for comparing millions of steps. */
function fingerprint(m: Machine): string {
  let h = 0;
  for (let i = 0; i < 32; i++) h = Math.imul(h ^ m.registers[i]!, 0x01000193);
  return `${m.step}:${m.pc}:${m.nextPC}:${m.hi}:${m.lo}:${m.heap}:${m.preimageOffset}:${h}`;
}

describe("guest programs: fast mode equals the reference step", () => {
  for (const p of programs) {
    if (p.name === "trap") continue;
    it(p.name, () => {
      const fast = loadElf(elf(p.name), { preimages: sourceFor(p.name) });
      const ref = loadElf(elf(p.name), { preimages: sourceFor(p.name) });
      let n = 0;
      while (!ref.exited) {
        stepMachine(ref);
        runFast(fast, 1);
        n++;
        const a = fingerprint(ref);
        const b = fingerprint(fast);
        if (a !== b) throw new Error(`${p.name}: step ${n}: reference ${a} != fast ${b}`);
        if (n % 200_000 === 0) expect(fast.stateHash()).toBe(ref.stateHash());
      }
      expect(fast.exited).toBe(true);
      expect(fast.stateHash()).toBe(ref.stateHash());
      // and one long fast run lands on the same final state
      const whole = loadElf(elf(p.name), { preimages: sourceFor(p.name) });
      runFast(whole, Number.MAX_SAFE_INTEGER);
      expect(whole.stateHash()).toBe(ref.stateHash());
    });
  }
});

/** Programs whose every step gets a witness; the others get every syscall step and samples. */
const WITNESS_EVERY_STEP = new Set(["hello", "exit1", "panic", "special"]);

describe("guest programs: witnesses verify from their bytes alone", () => {
  const ctx = { caller: "0x00000000000000000000000000000000000000aa", localContext: `0x${"11".repeat(32)}` } as const;
  for (const p of programs) {
    if (p.name === "trap") continue;
    it(p.name, () => {
      const total = runElf(elf(p.name), { preimages: sourceFor(p.name) }).steps;
      const stride = WITNESS_EVERY_STEP.has(p.name) ? 1 : Math.max(1, Math.floor(total / 150));
      const m = loadElf(elf(p.name), { preimages: sourceFor(p.name) });
      let checked = 0;
      while (!m.exited) {
        const insn = m.memory.readMem(m.pc);
        const isSyscall = insn === 0x0000000c;
        if (m.step % stride !== 0 && !isSyscall) {
          runFast(m, 1);
          continue;
        }
        const w = stepWithWitness(m, ctx);
        expect(w.proof.length === 896 || w.proof.length === 1792).toBe(true);
        if (w.preimage !== undefined) {
          expect(toHex(w.preimage.oracleKey)).toBe(toHex(localizeKey(w.preimage.key, ctx)));
          if (w.preimage.key[0] === 1) expect(toHex(w.preimage.oracleKey)).not.toBe(toHex(w.preimage.key));
        }
        expect(verifyStep(w.preState, w.proof, witnessPreimageReader(w)), `${p.name} step ${w.step}`).toBe(w.postStateHash);
        checked++;
      }
      expect(checked).toBeGreaterThan(20);
    });
  }

  it("a wrong proof or a short proof fails like MIPS.step", () => {
    const m = loadElf(elf("hello"));
    runFast(m, 5);
    let w = stepWithWitness(m);
    while (w.proof.length !== 1792) w = stepWithWitness(m);
    const bad = w.proof.slice();
    bad[900] = bad[900]! ^ 1;
    expect(() => verifyStep(w.preState, bad)).toThrow(/InvalidMemoryProof/);
    const badInsn = w.proof.slice();
    badInsn[0] = badInsn[0]! ^ 0x80;
    expect(() => verifyStep(w.preState, badInsn)).toThrow(/InvalidMemoryProof/);
    expect(() => verifyStep(w.preState, w.proof.subarray(0, 1000))).toThrow(/InvalidProofLength\(0x00000700, 0x000003e8\)/);
    expect(() => verifyStep(w.preState, new Uint8Array(0))).toThrow(/InvalidProofLength/);
  });
});

describe("qemu-mips", () => {
  it.skipIf(qemu === undefined)("is the qemu the expected outputs were recorded with", () => {
    expect(execFileSync(qemu!, ["-version"], { encoding: "utf8" })).toMatch(/qemu-mips version/);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GUEST_BUILD_DIR } from "../guest/build.ts";
import { ElfError } from "./errors.ts";
import { loadElf, parseElf } from "./elf.ts";
import { HEAP_START, INITIAL_SP } from "./state.ts";

const hello = readFileSync(join(GUEST_BUILD_DIR, "hello.elf"));

function patched(f: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = new Uint8Array(hello);
  f(new DataView(bytes.buffer), bytes);
  return bytes;
}

describe("ELF loader (§4.7)", () => {
  it("loads segments, zeroes bss and sets the initial registers", () => {
    const p = parseElf(hello);
    const m = loadElf(hello);
    expect(m.pc).toBe(p.entry);
    expect(m.nextPC).toBe(p.entry + 4);
    expect(m.heap).toBe(HEAP_START);
    expect(m.registers[29]! >>> 0).toBe(INITIAL_SP);
    expect(Array.from(m.registers).filter((v, i) => i !== 29 && v !== 0)).toEqual([]);
    for (const s of p.segments) {
      expect(m.memory.readBytes(s.vaddr, s.data.length)).toEqual(Uint8Array.from(s.data));
      expect(m.memory.readBytes(s.vaddr + s.data.length, s.memsz - s.data.length).every((b) => b === 0)).toBe(true);
    }
    expect(m.step).toBe(0);
    expect(m.stateHash().slice(0, 4)).toBe("0x03");
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ["an empty file", new Uint8Array(0), /shorter than an ELF header/],
    ["a text file", new TextEncoder().encode("#!/bin/sh\necho this is not an ELF file at all, not even close\n"), /bad magic/],
    ["a 64-bit ELF", patched((_, b) => (b[4] = 2)), /not a 32-bit ELF/],
    ["a little-endian ELF", patched((_, b) => (b[5] = 1)), /little-endian/],
    ["a non-MIPS ELF", patched((v) => v.setUint16(18, 62)), /not a MIPS ELF/],
    ["a relocatable object", patched((v) => v.setUint16(16, 1)), /not a static executable/],
    ["a segment past the end of the file", patched((v) => v.setUint32(v.getUint32(28) + 32 + 4, 0x7fff0000)), /run past the end/],
    ["a segment above HEAP_START", patched((v) => v.setUint32(v.getUint32(28) + 32 + 8, 0x1fffff00)), /HEAP_START/],
    ["an oversized segment", patched((v) => v.setUint32(v.getUint32(28) + 32 + 20, 0x30000000)), /HEAP_START/],
    ["an entry outside the segments", patched((v) => v.setUint32(24, 0x10000000)), /outside every PT_LOAD/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => parseElf(bytes)).toThrow(ElfError);
      expect(() => parseElf(bytes)).toThrow(message);
    });
  }
});

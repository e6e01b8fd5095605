/**
 * Loader for guest programs (docs/protocol.md §4.7): a static big-endian MIPS32 ELF (ET_EXEC,
 * EM_MIPS). PT_LOAD segments are copied to memory (bss zero-filled) and must end at or below
 * HEAP_START. Anything else is refused with an ElfError saying what is wrong.
 */
import { ElfError } from "./errors.ts";
import { Machine, type MachineOptions } from "./machine.ts";
import { Memory } from "./memory.ts";
import { HEAP_START, INITIAL_SP } from "./state.ts";

const PT_LOAD = 1;
const ET_EXEC = 2;
const EM_MIPS = 8;

export interface ElfSegment {
  vaddr: number;
  data: Uint8Array;
  memsz: number;
}

export interface ElfProgram {
  entry: number;
  segments: ElfSegment[];
}

/** Parses and validates a program; throws ElfError on anything the VM cannot load. */
export function parseElf(bytes: Uint8Array): ElfProgram {
  if (bytes.length < 52) throw new ElfError(`not an ELF file: ${bytes.length} bytes is shorter than an ELF header`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError("not an ELF file: bad magic (expected 7f 45 4c 46)");
  }
  if (bytes[4] !== 1) throw new ElfError(`not a 32-bit ELF (EI_CLASS ${bytes[4]}); build with -mabi=32 for mips32`);
  if (bytes[5] === 1) {
    throw new ElfError("little-endian ELF: the VM is big-endian MIPS; build with --target=mips-unknown-elf (not mipsel)");
  }
  if (bytes[5] !== 2) throw new ElfError(`bad ELF data encoding ${bytes[5]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16);
  const machine = view.getUint16(18);
  if (machine !== EM_MIPS) throw new ElfError(`not a MIPS ELF (e_machine ${machine}, expected ${EM_MIPS})`);
  if (type !== ET_EXEC) {
    throw new ElfError(`not a static executable (e_type ${type}, expected ET_EXEC=2); link with ld.lld -static`);
  }
  const entry = view.getUint32(24);
  const phoff = view.getUint32(28);
  const phentsize = view.getUint16(42);
  const phnum = view.getUint16(44);
  if (phentsize < 32) throw new ElfError(`bad program header size ${phentsize}`);
  if (phoff + phnum * phentsize > bytes.length) throw new ElfError("program headers run past the end of the file");
  if ((entry & 3) !== 0) throw new ElfError(`entry point 0x${entry.toString(16)} is not word-aligned`);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (view.getUint32(h) !== PT_LOAD) continue;
    const offset = view.getUint32(h + 4);
    const vaddr = view.getUint32(h + 8);
    const filesz = view.getUint32(h + 16);
    const memsz = view.getUint32(h + 20);
    if (memsz === 0) continue;
    if (filesz > memsz) throw new ElfError(`segment ${i}: p_filesz ${filesz} > p_memsz ${memsz}`);
    if (offset + filesz > bytes.length) {
      throw new ElfError(`segment ${i}: file bytes [${offset}, ${offset + filesz}) run past the end of the ${bytes.length}-byte file`);
    }
    if (vaddr + memsz > HEAP_START) {
      throw new ElfError(
        `segment ${i} at 0x${vaddr.toString(16)} with ${memsz} bytes ends above HEAP_START (0x${HEAP_START.toString(16)}): ` +
          "oversized segment, or not linked with keeper/guest/runtime/link.ld",
      );
    }
    segments.push({ vaddr, data: bytes.subarray(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) throw new ElfError("no PT_LOAD segment: nothing to run");
  const inside = segments.some((s) => entry >= s.vaddr && entry < s.vaddr + s.memsz);
  if (!inside) throw new ElfError(`entry point 0x${entry.toString(16)} is outside every PT_LOAD segment`);
  return { entry, segments };
}

/** The initial machine of a program (§4.7): segments loaded, pc at the entry, $sp set. */
export function loadElf(bytes: Uint8Array, options: MachineOptions = {}): Machine {
  const program = parseElf(bytes);
  const memory = new Memory();
  for (const s of program.segments) memory.setBytes(s.vaddr, s.data); // bss stays zero
  const m = new Machine(memory, options);
  m.pc = program.entry;
  m.nextPC = (program.entry + 4) >>> 0;
  m.heap = HEAP_START;
  m.registers[29] = INITIAL_SP;
  return m;
}

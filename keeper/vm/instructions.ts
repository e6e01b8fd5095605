/**
 * Decode and execute one MIPS32 instruction (docs/protocol.md §4.4): the reference semantics,
 * with the function names of contracts/vm/lib/MIPSInstructions.sol (§4.8). The fast interpreter
 * (step.ts `runFast`) inlines the common cases and is tested equal to this on every step.
 *
 * Registers are an Int32Array; every other 32-bit value here is an unsigned number.
 */
import { VmStepError } from "./errors.ts";

/** Major opcodes (bits 31..26). */
export const Op = {
  SPECIAL: 0x00,
  REGIMM: 0x01,
  J: 0x02,
  JAL: 0x03,
  BEQ: 0x04,
  BNE: 0x05,
  BLEZ: 0x06,
  BGTZ: 0x07,
  ADDI: 0x08,
  ADDIU: 0x09,
  SLTI: 0x0a,
  SLTIU: 0x0b,
  ANDI: 0x0c,
  ORI: 0x0d,
  XORI: 0x0e,
  LUI: 0x0f,
  SPECIAL2: 0x1c,
  SPECIAL3: 0x1f,
  LB: 0x20,
  LH: 0x21,
  LWL: 0x22,
  LW: 0x23,
  LBU: 0x24,
  LHU: 0x25,
  LWR: 0x26,
  SB: 0x28,
  SH: 0x29,
  SWL: 0x2a,
  SW: 0x2b,
  SWR: 0x2e,
  LL: 0x30,
  PREF: 0x33,
  SC: 0x38,
} as const;

/** SPECIAL function codes (bits 5..0). */
export const Funct = {
  SLL: 0x00,
  SRL: 0x02,
  SRA: 0x03,
  SLLV: 0x04,
  SRLV: 0x06,
  SRAV: 0x07,
  JR: 0x08,
  JALR: 0x09,
  MOVZ: 0x0a,
  MOVN: 0x0b,
  SYSCALL: 0x0c,
  SYNC: 0x0f,
  MFHI: 0x10,
  MTHI: 0x11,
  MFLO: 0x12,
  MTLO: 0x13,
  MULT: 0x18,
  MULTU: 0x19,
  DIV: 0x1a,
  DIVU: 0x1b,
  ADD: 0x20,
  ADDU: 0x21,
  SUB: 0x22,
  SUBU: 0x23,
  AND: 0x24,
  OR: 0x25,
  XOR: 0x26,
  NOR: 0x27,
  SLT: 0x2a,
  SLTU: 0x2b,
  TEQ: 0x34,
  TNE: 0x36,
} as const;

/** SPECIAL2 function codes. */
export const Funct2 = { MADD: 0x00, MADDU: 0x01, MUL: 0x02, MSUB: 0x04, MSUBU: 0x05, CLZ: 0x20, CLO: 0x21 } as const;

/** SPECIAL3 function codes, and the `sa` field of BSHFL. */
export const Funct3 = { EXT: 0x00, INS: 0x04, BSHFL: 0x20 } as const;
export const Bshfl = { WSBH: 0x02, SEB: 0x10, SEH: 0x18 } as const;

/** REGIMM `rt` codes. */
export const RegImm = { BLTZ: 0x00, BGEZ: 0x01, BLTZAL: 0x10, BGEZAL: 0x11 } as const;

/** How an instruction is selected: by opcode, then funct / rt / sa as its group needs. */
export interface InstructionEncoding {
  name: string;
  opcode: number;
  funct?: number;
  rt?: number;
  sa?: number;
  /** Accesses a data word (needs the second memory proof, §4.3). Syscalls decide at run time. */
  memory?: boolean;
  /**
   * Bits that must be zero (§4.4): `srl` with rs ≠ 0 and `srlv` with sa ≠ 0 are the MIPS32r2
   * rotations `rotr`/`rotrv`, which the VM does not implement.
   */
  zeroBits?: number;
}

/** The rs field (bits 25..21) and the sa field (bits 10..6). */
const RS_BITS = 0x03e00000;
const SA_BITS = 0x000007c0;

function group<T extends Record<string, number>>(
  codes: T,
  make: (name: string, code: number) => InstructionEncoding,
): InstructionEncoding[] {
  return Object.entries(codes).map(([name, code]) => make(name.toLowerCase(), code));
}

/** Every supported instruction (§4.4): the one table tests and tools enumerate. */
export const INSTRUCTIONS: readonly InstructionEncoding[] = [
  ...group(Funct, (name, funct) => ({
    name,
    opcode: Op.SPECIAL,
    funct,
    ...(funct === Funct.SRL ? { zeroBits: RS_BITS } : funct === Funct.SRLV ? { zeroBits: SA_BITS } : {}),
  })),
  ...group(RegImm, (name, rt) => ({ name, opcode: Op.REGIMM, rt })),
  ...group(Funct2, (name, funct) => ({ name, opcode: Op.SPECIAL2, funct })),
  { name: "ext", opcode: Op.SPECIAL3, funct: Funct3.EXT },
  { name: "ins", opcode: Op.SPECIAL3, funct: Funct3.INS },
  ...group(Bshfl, (name, sa) => ({ name, opcode: Op.SPECIAL3, funct: Funct3.BSHFL, sa })),
  ...Object.entries(Op)
    .filter(([, code]) => code !== Op.SPECIAL && code !== Op.REGIMM && code !== Op.SPECIAL2 && code !== Op.SPECIAL3)
    .map(([name, opcode]) => ({
      name: name.toLowerCase(),
      opcode,
      memory: (opcode >= Op.LB && opcode <= Op.SC && opcode !== Op.PREF) || undefined,
    })),
];

/** The table entry an instruction word selects, or undefined if it is not supported. */
export function decodeInstruction(insn: number): InstructionEncoding | undefined {
  const opcode = insn >>> 26;
  const funct = insn & 0x3f;
  const rt = (insn >>> 16) & 0x1f;
  const sa = (insn >>> 6) & 0x1f;
  return INSTRUCTIONS.find(
    (e) =>
      e.opcode === opcode &&
      (e.funct === undefined || e.funct === funct) &&
      (e.rt === undefined || e.rt === rt) &&
      (e.sa === undefined || e.sa === sa) &&
      ((e.zeroBits ?? 0) & insn) === 0,
  );
}

/** The registers and control state an instruction sees. */
export interface CpuState {
  pc: number;
  nextPC: number;
  lo: number;
  hi: number;
  registers: Int32Array;
}

/** Word-granular data memory (§4.2): addresses are word-aligned. */
export interface DataMemory {
  readMem(addr: number): number;
  writeMem(addr: number, value: number): void;
}

/** Sign-extends the low `bits` bits of `value` (unsigned result). */
export function signExtend(value: number, bits: number): number {
  const shift = 32 - bits;
  return ((value << shift) >> shift) >>> 0;
}

function fail(reason: "InvalidInstruction", insn: number, details: string): never {
  throw new VmStepError(reason, [insn >>> 0], details);
}

/** Fails unless the step is outside a delay slot (§4.4). */
function checkNotInDelaySlot(cpu: CpuState): void {
  if ((cpu.nextPC >>> 0) !== ((cpu.pc + 4) >>> 0)) {
    throw new VmStepError("JumpInDelaySlot", [cpu.pc >>> 0], "branch or jump in a delay slot");
  }
}

/** Conditional branches (BEQ, BNE, BLEZ, BGTZ, REGIMM). `rs` is the value of register rs. */
export function handleBranch(cpu: CpuState, opcode: number, insn: number, rtReg: number, rs: number): void {
  // Decoding comes first (§4.4): a REGIMM rt that is no branch is InvalidInstruction, even in a
  // delay slot, as on chain.
  if (opcode === Op.REGIMM && rtReg !== RegImm.BLTZ && rtReg !== RegImm.BGEZ && rtReg !== RegImm.BLTZAL && rtReg !== RegImm.BGEZAL) {
    return fail("InvalidInstruction", insn, `REGIMM rt=${rtReg}`);
  }
  checkNotInDelaySlot(cpu);
  const srs = rs | 0;
  let shouldBranch: boolean;
  switch (opcode) {
    case Op.BEQ:
      shouldBranch = (rs >>> 0) === (cpu.registers[rtReg]! >>> 0);
      break;
    case Op.BNE:
      shouldBranch = (rs >>> 0) !== (cpu.registers[rtReg]! >>> 0);
      break;
    case Op.BLEZ:
      shouldBranch = srs <= 0;
      break;
    case Op.BGTZ:
      shouldBranch = srs > 0;
      break;
    case Op.REGIMM:
      switch (rtReg) {
        case RegImm.BLTZ:
        case RegImm.BLTZAL:
          shouldBranch = srs < 0;
          break;
        case RegImm.BGEZ:
        case RegImm.BGEZAL:
          shouldBranch = srs >= 0;
          break;
        default:
          return fail("InvalidInstruction", insn, `REGIMM rt=${rtReg}`);
      }
      // The link is written whether or not the branch is taken (§4.4).
      if (rtReg === RegImm.BLTZAL || rtReg === RegImm.BGEZAL) cpu.registers[31] = (cpu.pc + 8) | 0;
      break;
    default:
      return fail("InvalidInstruction", insn, `not a branch opcode ${opcode}`);
  }
  const prevPC = cpu.pc;
  cpu.pc = cpu.nextPC;
  cpu.nextPC = shouldBranch ? (prevPC + 4 + (signExtend(insn & 0xffff, 16) << 2)) >>> 0 : (cpu.nextPC + 4) >>> 0;
}

/** Jumps (J, JAL, JR, JALR): the delay slot runs next, then `dest`. linkReg 0 = no link. */
export function handleJump(cpu: CpuState, linkReg: number, dest: number): void {
  checkNotInDelaySlot(cpu);
  const prevPC = cpu.pc;
  cpu.pc = cpu.nextPC;
  cpu.nextPC = dest >>> 0;
  if (linkReg !== 0) cpu.registers[linkReg] = (prevPC + 8) | 0;
}

/** Writes `value` to register rd when `conditional` holds (never to r0), and advances pc. */
export function handleRd(cpu: CpuState, rd: number, value: number, conditional: boolean): void {
  if (conditional && rd !== 0) cpu.registers[rd] = value | 0;
  cpu.pc = cpu.nextPC;
  cpu.nextPC = (cpu.nextPC + 4) >>> 0;
}

/** High 32 bits of the unsigned 64-bit product of two u32. */
export function mulHiU(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** High 32 bits of the signed 64-bit product of two i32. */
export function mulHiS(a: number, b: number): number {
  let hi = mulHiU(a, b);
  if ((a | 0) < 0) hi -= b >>> 0;
  if ((b | 0) < 0) hi -= a >>> 0;
  return hi >>> 0;
}

/** HI/LO instructions: mfhi/mthi/mflo/mtlo, mult(u), div(u), madd(u), msub(u). */
export function handleHiLo(cpu: CpuState, opcode: number, fun: number, rs: number, rt: number, rd: number): void {
  let val = 0;
  let writeRd = false;
  if (opcode === Op.SPECIAL2) {
    const signed = fun === Funct2.MADD || fun === Funct2.MSUB;
    const pLo = Math.imul(rs, rt) >>> 0;
    const pHi = signed ? mulHiS(rs, rt) : mulHiU(rs, rt);
    const lo = cpu.lo >>> 0;
    const hi = cpu.hi >>> 0;
    if (fun === Funct2.MADD || fun === Funct2.MADDU) {
      const newLo = (lo + pLo) >>> 0;
      cpu.hi = (hi + pHi + (newLo < lo ? 1 : 0)) >>> 0;
      cpu.lo = newLo;
    } else {
      const newLo = (lo - pLo) >>> 0;
      cpu.hi = (hi - pHi - (lo < pLo ? 1 : 0)) >>> 0;
      cpu.lo = newLo;
    }
  } else {
    switch (fun) {
      case Funct.MFHI:
        val = cpu.hi;
        writeRd = true;
        break;
      case Funct.MTHI:
        cpu.hi = rs >>> 0;
        break;
      case Funct.MFLO:
        val = cpu.lo;
        writeRd = true;
        break;
      case Funct.MTLO:
        cpu.lo = rs >>> 0;
        break;
      case Funct.MULT:
        cpu.lo = Math.imul(rs, rt) >>> 0;
        cpu.hi = mulHiS(rs, rt);
        break;
      case Funct.MULTU:
        cpu.lo = Math.imul(rs, rt) >>> 0;
        cpu.hi = mulHiU(rs, rt);
        break;
      case Funct.DIV:
        if ((rt | 0) === 0) throw new VmStepError("DivisionByZero", [], "div by zero");
        // Truncating division; 0x80000000 / -1 wraps to 0x80000000 with remainder 0 (§4.4).
        cpu.lo = ((rs | 0) / (rt | 0)) >>> 0;
        cpu.hi = ((rs | 0) % (rt | 0)) >>> 0;
        break;
      case Funct.DIVU:
        if ((rt >>> 0) === 0) throw new VmStepError("DivisionByZero", [], "divu by zero");
        cpu.lo = ((rs >>> 0) / (rt >>> 0)) >>> 0;
        cpu.hi = ((rs >>> 0) % (rt >>> 0)) >>> 0;
        break;
      default:
        throw new VmStepError("InvalidInstruction", [], `not a HI/LO function ${fun}`);
    }
  }
  handleRd(cpu, rd, val, writeRd);
}

/** Count leading zeros of a u32 (32 for 0). */
function clz32(x: number): number {
  return Math.clz32(x);
}

/** The word a store of `rt` makes of the memory word `mem` (§4.4); `addr` selects the bytes. */
function storeWord(opcode: number, addr: number, mem: number, rt: number): number {
  const a = addr & 3;
  switch (opcode) {
    case Op.SB: {
      const shift = 24 - 8 * a;
      return ((mem & ~(0xff << shift)) | ((rt & 0xff) << shift)) >>> 0;
    }
    case Op.SH: {
      const shift = 16 - 8 * a;
      return ((mem & ~(0xffff << shift)) | ((rt & 0xffff) << shift)) >>> 0;
    }
    case Op.SWL:
      return ((mem & ~(0xffffffff >>> (8 * a))) | (rt >>> (8 * a))) >>> 0;
    case Op.SWR: {
      const shift = 24 - 8 * a;
      return ((mem & ~(0xffffffff << shift)) | (rt << shift)) >>> 0;
    }
    default: // SW, SC
      return rt >>> 0;
  }
}

/** The value a load puts in rt, from the memory word `mem` and the old rt (lwl/lwr merge). */
function loadValue(opcode: number, addr: number, mem: number, rt: number): number {
  const a = addr & 3;
  switch (opcode) {
    case Op.LB:
      return signExtend(mem >>> (24 - 8 * a), 8);
    case Op.LBU:
      return (mem >>> (24 - 8 * a)) & 0xff;
    case Op.LH:
      return signExtend(mem >>> (16 - 8 * a), 16);
    case Op.LHU:
      return (mem >>> (16 - 8 * a)) & 0xffff;
    case Op.LWL:
      return ((mem << (8 * a)) | (rt & ((1 << (8 * a)) - 1))) >>> 0;
    case Op.LWR: {
      const shift = 24 - 8 * a;
      return ((mem >>> shift) | (rt & ~(0xffffffff >>> shift))) >>> 0;
    }
    default: // LW, LL
      return mem >>> 0;
  }
}

function checkAligned(opcode: number, addr: number): void {
  const need =
    opcode === Op.LW || opcode === Op.SW || opcode === Op.LL || opcode === Op.SC
      ? 3
      : opcode === Op.LH || opcode === Op.LHU || opcode === Op.SH
        ? 1
        : 0;
  if ((addr & need) !== 0) throw new VmStepError("UnalignedAccess", [addr >>> 0], "unaligned memory access");
}

/** Executes one non-syscall instruction (§4.4). Memory accesses go through `mem`. */
export function executeMipsInstruction(cpu: CpuState, insn: number, mem: DataMemory): void {
  insn >>>= 0;
  const opcode = insn >>> 26;
  const rsReg = (insn >>> 21) & 0x1f;
  const rtReg = (insn >>> 16) & 0x1f;
  const rdReg = (insn >>> 11) & 0x1f;
  const sa = (insn >>> 6) & 0x1f;
  const fun = insn & 0x3f;
  const r = cpu.registers;
  const rs = r[rsReg]! >>> 0;
  const rt = r[rtReg]! >>> 0;
  const imm = insn & 0xffff;
  const simm = signExtend(imm, 16);

  switch (opcode) {
    case Op.J:
    case Op.JAL:
      return handleJump(cpu, opcode === Op.JAL ? 31 : 0, ((cpu.pc + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2));
    case Op.REGIMM:
    case Op.BEQ:
    case Op.BNE:
    case Op.BLEZ:
    case Op.BGTZ:
      return handleBranch(cpu, opcode, insn, rtReg, rs);
    case Op.SPECIAL:
      switch (fun) {
        case Funct.SLL:
          return handleRd(cpu, rdReg, rt << sa, true);
        case Funct.SRL:
          if (rsReg !== 0) return fail("InvalidInstruction", insn, "srl with rs != 0 (MIPS32r2 rotr is not supported)");
          return handleRd(cpu, rdReg, rt >>> sa, true);
        case Funct.SRA:
          return handleRd(cpu, rdReg, (rt | 0) >> sa, true);
        case Funct.SLLV:
          return handleRd(cpu, rdReg, rt << (rs & 31), true);
        case Funct.SRLV:
          if (sa !== 0) return fail("InvalidInstruction", insn, "srlv with sa != 0 (MIPS32r2 rotrv is not supported)");
          return handleRd(cpu, rdReg, rt >>> (rs & 31), true);
        case Funct.SRAV:
          return handleRd(cpu, rdReg, (rt | 0) >> (rs & 31), true);
        case Funct.JR:
          return handleJump(cpu, 0, rs);
        case Funct.JALR:
          return handleJump(cpu, rdReg, rs);
        case Funct.MOVZ:
          return handleRd(cpu, rdReg, rs, rt === 0);
        case Funct.MOVN:
          return handleRd(cpu, rdReg, rs, rt !== 0);
        case Funct.SYNC:
          return handleRd(cpu, 0, 0, false);
        case Funct.MFHI:
        case Funct.MTHI:
        case Funct.MFLO:
        case Funct.MTLO:
        case Funct.MULT:
        case Funct.MULTU:
        case Funct.DIV:
        case Funct.DIVU:
          return handleHiLo(cpu, opcode, fun, rs, rt, rdReg);
        case Funct.ADD:
        case Funct.ADDU:
          return handleRd(cpu, rdReg, rs + rt, true);
        case Funct.SUB:
        case Funct.SUBU:
          return handleRd(cpu, rdReg, rs - rt, true);
        case Funct.AND:
          return handleRd(cpu, rdReg, rs & rt, true);
        case Funct.OR:
          return handleRd(cpu, rdReg, rs | rt, true);
        case Funct.XOR:
          return handleRd(cpu, rdReg, rs ^ rt, true);
        case Funct.NOR:
          return handleRd(cpu, rdReg, ~(rs | rt), true);
        case Funct.SLT:
          return handleRd(cpu, rdReg, (rs | 0) < (rt | 0) ? 1 : 0, true);
        case Funct.SLTU:
          return handleRd(cpu, rdReg, rs < rt ? 1 : 0, true);
        case Funct.TEQ:
          if (rs === rt) throw new VmStepError("Trap", [insn], "teq condition holds");
          return handleRd(cpu, 0, 0, false);
        case Funct.TNE:
          if (rs !== rt) throw new VmStepError("Trap", [insn], "tne condition holds");
          return handleRd(cpu, 0, 0, false);
        default:
          return fail("InvalidInstruction", insn, `SPECIAL funct 0x${fun.toString(16)}`);
      }
    case Op.SPECIAL2:
      switch (fun) {
        case Funct2.MADD:
        case Funct2.MADDU:
        case Funct2.MSUB:
        case Funct2.MSUBU:
          return handleHiLo(cpu, opcode, fun, rs, rt, 0);
        case Funct2.MUL:
          return handleRd(cpu, rdReg, Math.imul(rs, rt), true);
        case Funct2.CLZ:
          return handleRd(cpu, rdReg, clz32(rs), true);
        case Funct2.CLO:
          return handleRd(cpu, rdReg, clz32(~rs), true);
        default:
          return fail("InvalidInstruction", insn, `SPECIAL2 funct 0x${fun.toString(16)}`);
      }
    case Op.SPECIAL3:
      switch (fun) {
        case Funct3.EXT: {
          const size = rdReg + 1; // rd holds msbd = size - 1; sa holds pos
          if (sa + size > 32) return fail("InvalidInstruction", insn, `ext with pos ${sa} + size ${size} > 32`);
          const mask = size === 32 ? 0xffffffff : (1 << size) - 1;
          return handleRd(cpu, rtReg, (rs >>> sa) & mask, true);
        }
        case Funct3.INS: {
          if (rdReg < sa) return fail("InvalidInstruction", insn, `ins with msb ${rdReg} < lsb ${sa}`);
          const size = rdReg - sa + 1;
          const mask = (size === 32 ? 0xffffffff : (1 << size) - 1) << sa;
          return handleRd(cpu, rtReg, (rt & ~mask) | ((rs << sa) & mask), true);
        }
        case Funct3.BSHFL:
          switch (sa) {
            case Bshfl.WSBH:
              return handleRd(cpu, rdReg, ((rt & 0x00ff00ff) << 8) | ((rt >>> 8) & 0x00ff00ff), true);
            case Bshfl.SEB:
              return handleRd(cpu, rdReg, signExtend(rt, 8), true);
            case Bshfl.SEH:
              return handleRd(cpu, rdReg, signExtend(rt, 16), true);
            default:
              return fail("InvalidInstruction", insn, `BSHFL sa 0x${sa.toString(16)}`);
          }
        default:
          return fail("InvalidInstruction", insn, `SPECIAL3 funct 0x${fun.toString(16)}`);
      }
    case Op.ADDI:
    case Op.ADDIU:
      return handleRd(cpu, rtReg, rs + simm, true);
    case Op.SLTI:
      return handleRd(cpu, rtReg, (rs | 0) < (simm | 0) ? 1 : 0, true);
    case Op.SLTIU:
      return handleRd(cpu, rtReg, rs < simm ? 1 : 0, true);
    case Op.ANDI:
      return handleRd(cpu, rtReg, rs & imm, true);
    case Op.ORI:
      return handleRd(cpu, rtReg, rs | imm, true);
    case Op.XORI:
      return handleRd(cpu, rtReg, rs ^ imm, true);
    case Op.LUI:
      return handleRd(cpu, rtReg, imm << 16, true);
    case Op.PREF:
      return handleRd(cpu, 0, 0, false);
    case Op.LB:
    case Op.LH:
    case Op.LWL:
    case Op.LW:
    case Op.LBU:
    case Op.LHU:
    case Op.LWR:
    case Op.LL: {
      const addr = (rs + simm) >>> 0;
      checkAligned(opcode, addr);
      const word = mem.readMem(addr & ~3);
      return handleRd(cpu, rtReg, loadValue(opcode, addr, word, rt), true);
    }
    case Op.SB:
    case Op.SH:
    case Op.SWL:
    case Op.SW:
    case Op.SWR:
    case Op.SC: {
      const addr = (rs + simm) >>> 0;
      checkAligned(opcode, addr);
      const wordAddr = (addr & ~3) >>> 0;
      const word = mem.readMem(wordAddr);
      mem.writeMem(wordAddr, storeWord(opcode, addr, word, rt));
      // sc always succeeds (single-threaded) and writes 1 to rt.
      return handleRd(cpu, rtReg, 1, opcode === Op.SC);
    }
    default:
      return fail("InvalidInstruction", insn, `opcode 0x${opcode.toString(16)}`);
  }
}

/**
 * One step (docs/protocol.md §4.3) in three forms:
 * - `executeStep`: the reference semantics over any state and memory (used by the two below);
 * - `runFast`: fast mode, no proofs: translated basic blocks (jit.ts) over `runInterpreter`, or
 *   the interpreter alone (`OAO_VM=interp`). `runInterpreter` is the interpreter loop: common
 *   instructions are inlined with literal opcodes (a `switch` over literals compiles to a jump table; the names are in comments and in
 *   instructions.ts's table); anything else, and every failing case, falls back to `executeStep`
 *   so errors and rare instructions have exactly one implementation. Tests run both on every step
 *   of every test program and on random states;
 * - `stepWithWitness`: one step of a Machine that also returns the witness `MIPS.step` needs, and
 *   `verifyStep`, which recomputes the post-state hash from a witness alone, as the chain does.
 */
import { VmStepError } from "./errors.ts";
import { type Hex, bytesEqual, concatBytes, toHex } from "./hex.ts";
import { type CpuState, type DataMemory, Funct, Op, executeMipsInstruction, mulHiS, mulHiU } from "./instructions.ts";
import type { Machine } from "./machine.ts";
import {
  MEMORY_PROOF_SIZE,
  PAGE_READY,
  checkProof,
  proofWithWord,
  rootFromProof,
  wordFromProof,
} from "./memory.ts";
import { type LocalContext, type PreimagePart, localizeKey } from "./preimage.ts";
import { runJit } from "./jit.ts";
import { STATE_SIZE, decodeState, encodeState, stateHash } from "./state.ts";
import { type SyscallIO, type SyscallState, handleSyscall } from "./syscalls.ts";

/** Memory and oracle access of one step. */
export interface StepIO extends SyscallIO {
  /** The instruction word at a word-aligned pc (first memory proof). */
  readInstruction(pc: number): number;
}

/**
 * Executes the instruction at pc (§4.3 steps 2-3); does not touch the step counter. An exited
 * state must not be passed here.
 */
export function executeStep(s: SyscallState, io: StepIO): void {
  if ((s.pc & 3) !== 0) throw new VmStepError("UnalignedAccess", [s.pc >>> 0], "pc is not word-aligned");
  const insn = io.readInstruction(s.pc >>> 0) >>> 0;
  if (insn >>> 26 === Op.SPECIAL && (insn & 0x3f) === Funct.SYSCALL) handleSyscall(s, io);
  else executeMipsInstruction(s, insn, io.mem);
}

/** One reference step of a machine (no-op once exited). */
export function stepMachine(m: Machine): void {
  if (m.exited) return;
  executeStep(m, machineIO(m));
  m.step++;
}

function machineIO(m: Machine): StepIO {
  return {
    mem: m.memory,
    readInstruction: (pc) => m.memory.readMem(pc),
    readPreimage: (key, offset) => m.readPreimage(key, offset),
    output: (fd, addr, count) => m.output(fd, addr, count),
  };
}

/** How fast mode runs: the interpreter alone, or translated blocks with the interpreter behind (jit.ts). */
export type VmMode = "interp" | "jit";

let processMode: VmMode | undefined;

function parseVmMode(value: string | undefined, source: string): VmMode | undefined {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "") return undefined;
  if (v === "interp" || v === "jit") return v;
  throw new Error(`${source}=${value}: expected interp or jit`);
}

/** The process's fast mode: set by `setVmMode`, else OAO_VM (interp | jit), else jit. */
export function vmMode(): VmMode {
  if (processMode === undefined) {
    const env = typeof process === "undefined" ? undefined : process.env.OAO_VM;
    processMode = parseVmMode(env, "OAO_VM") ?? "jit";
  }
  return processMode;
}

/** Forces the process's fast mode (undefined: back to OAO_VM / the default). */
export function setVmMode(mode: VmMode | undefined): void {
  processMode = mode === undefined ? undefined : parseVmMode(mode, "setVmMode");
}

export interface FastOptions {
  /** Default: `vmMode()`. */
  mode?: VmMode;
  /** jit: entries of a block start before it is translated (default DEFAULT_JIT_THRESHOLD; 0: at once). */
  jitThreshold?: number;
  /** jit: the longest block translated, 1..MAX_BLOCK (default MAX_BLOCK; tests use 1 for single instructions). */
  jitMaxBlock?: number;
}

/**
 * Runs up to `maxSteps` steps (fewer if the program exits). Returns the number executed. A failing
 * step throws with the machine left at the state before it. Both modes give the same states, step
 * counts, output and failures (jit.ts; tested on every program against the reference step).
 */
export function runFast(m: Machine, maxSteps: number, options: FastOptions = {}): number {
  if (m.exited || maxSteps <= 0) return 0;
  // r0 is 0 in every state the guest can reach; a crafted state with r0 != 0 keeps it forever
  // (nothing writes r0), which only the reference step models.
  if (m.registers[0] !== 0) return runReference(m, maxSteps);
  if ((options.mode ?? vmMode()) === "jit") {
    // In chunks that keep the translator's step counts small integers (V8 deoptimizes it when they outgrow them).
    let done = 0;
    while (done < maxSteps && !m.exited) {
      const k = runJit(m, Math.min(maxSteps - done, JIT_CHUNK), jitInterpret, jitSyscall, options.jitThreshold, options.jitMaxBlock);
      if (k === 0) break;
      done += k;
    }
    return done;
  }
  return runInterpreter(m, maxSteps);
}

/** Steps per call of the translator. */
const JIT_CHUNK = 1 << 30;
/** The translator's interpreter and syscall: module-level, so that V8 sees one call target across runs. */
const jitInterpret = (m: Machine, n: number): number => runInterpreter(m, n);
const jitSyscall = (m: Machine): void => handleSyscall(m, m.syscallIO);

function runReference(m: Machine, maxSteps: number): number {
  const start = m.step;
  while (!m.exited && m.step - start < maxSteps) stepMachine(m);
  return m.step - start;
}

/**
 * The interpreter: runs up to `maxSteps` steps (fewer if the program exits). Returns the number
 * executed. A failing step throws with the machine left at the state before it. `io`: the
 * machine's (callers that call often pass one made once).
 */
export function runInterpreter(m: Machine, maxSteps: number, io: StepIO = machineIO(m)): number {
  if (m.exited || maxSteps <= 0) return 0;
  const r = m.registers;
  const mem = m.memory;
  const slots = mem.slots;
  const store = mem.store;
  const flags = mem.flags;
  const start = m.step;
  let pc = m.pc | 0;
  let nextPC = m.nextPC | 0;
  let lo = m.lo | 0;
  let hi = m.hi | 0;
  let done = 0;
  try {
    while (done < maxSteps) {
      slow: {
        if ((pc & 3) !== 0) break slow;
        const insn = store[slots[pc >>> 12]!]![(pc >>> 2) & 1023]!;
        const rs = (insn >>> 21) & 31;
        const rt = (insn >>> 16) & 31;
        switch (insn >>> 26) {
          case 0x00: {
            // SPECIAL
            const rd = (insn >>> 11) & 31;
            switch (insn & 63) {
              case 0x00: // sll
                r[rd] = r[rt]! << ((insn >>> 6) & 31);
                break;
              case 0x02: // srl (rs != 0: rotr, invalid)
                if (rs !== 0) break slow;
                r[rd] = r[rt]! >>> ((insn >>> 6) & 31);
                break;
              case 0x03: // sra
                r[rd] = r[rt]! >> ((insn >>> 6) & 31);
                break;
              case 0x04: // sllv
                r[rd] = r[rt]! << (r[rs]! & 31);
                break;
              case 0x06: // srlv (sa != 0: rotrv, invalid)
                if ((insn & 0x7c0) !== 0) break slow;
                r[rd] = r[rt]! >>> (r[rs]! & 31);
                break;
              case 0x07: // srav
                r[rd] = r[rt]! >> (r[rs]! & 31);
                break;
              case 0x08: // jr
              case 0x09: {
                // jalr
                if (nextPC !== ((pc + 4) | 0)) break slow;
                const dest = r[rs]!;
                if ((insn & 63) === 0x09) r[rd] = (pc + 8) | 0;
                r[0] = 0;
                pc = nextPC;
                nextPC = dest;
                done++;
                continue;
              }
              case 0x0a: // movz
                if (r[rt] === 0) r[rd] = r[rs]!;
                break;
              case 0x0b: // movn
                if (r[rt] !== 0) r[rd] = r[rs]!;
                break;
              case 0x10: // mfhi
                r[rd] = hi;
                break;
              case 0x11: // mthi
                hi = r[rs]!;
                break;
              case 0x12: // mflo
                r[rd] = lo;
                break;
              case 0x13: // mtlo
                lo = r[rs]!;
                break;
              case 0x18: {
                // mult
                const a = r[rs]!;
                const b = r[rt]!;
                lo = Math.imul(a, b);
                hi = mulHiS(a, b) | 0;
                break;
              }
              case 0x19: {
                // multu
                const a = r[rs]!;
                const b = r[rt]!;
                lo = Math.imul(a, b);
                hi = mulHiU(a, b) | 0;
                break;
              }
              case 0x1a: {
                // div
                const b = r[rt]!;
                if (b === 0) break slow;
                const a = r[rs]!;
                lo = (a / b) | 0;
                hi = (a % b) | 0;
                break;
              }
              case 0x1b: {
                // divu
                const b = r[rt]! >>> 0;
                if (b === 0) break slow;
                const a = r[rs]! >>> 0;
                lo = (a / b) | 0;
                hi = (a % b) | 0;
                break;
              }
              case 0x20: // add
              case 0x21: // addu
                r[rd] = (r[rs]! + r[rt]!) | 0;
                break;
              case 0x22: // sub
              case 0x23: // subu
                r[rd] = (r[rs]! - r[rt]!) | 0;
                break;
              case 0x24: // and
                r[rd] = r[rs]! & r[rt]!;
                break;
              case 0x25: // or
                r[rd] = r[rs]! | r[rt]!;
                break;
              case 0x26: // xor
                r[rd] = r[rs]! ^ r[rt]!;
                break;
              case 0x27: // nor
                r[rd] = ~(r[rs]! | r[rt]!);
                break;
              case 0x2a: // slt
                r[rd] = r[rs]! < r[rt]! ? 1 : 0;
                break;
              case 0x2b: // sltu
                r[rd] = r[rs]! >>> 0 < r[rt]! >>> 0 ? 1 : 0;
                break;
              default: // syscall, sync, teq, tne, invalid
                break slow;
            }
            break;
          }
          case 0x01: {
            // REGIMM: bltz, bgez (the linking forms go the slow way)
            if (nextPC !== ((pc + 4) | 0) || (rt !== 0x00 && rt !== 0x01)) break slow;
            const v = r[rs]!;
            const taken = rt === 0x00 ? v < 0 : v >= 0;
            const target = taken ? (pc + 4 + (((insn << 16) >> 16) << 2)) | 0 : (nextPC + 4) | 0;
            pc = nextPC;
            nextPC = target;
            done++;
            continue;
          }
          case 0x02: // j
          case 0x03: {
            // jal
            if (nextPC !== ((pc + 4) | 0)) break slow;
            const dest = ((pc + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
            if (insn >>> 26 === 0x03) r[31] = (pc + 8) | 0;
            pc = nextPC;
            nextPC = dest;
            done++;
            continue;
          }
          case 0x04: // beq
          case 0x05: // bne
          case 0x06: // blez
          case 0x07: {
            // bgtz
            if (nextPC !== ((pc + 4) | 0)) break slow;
            const op = insn >>> 26;
            const v = r[rs]!;
            const taken =
              op === 0x04 ? v === r[rt] : op === 0x05 ? v !== r[rt] : op === 0x06 ? v <= 0 : v > 0;
            const target = taken ? (pc + 4 + (((insn << 16) >> 16) << 2)) | 0 : (nextPC + 4) | 0;
            pc = nextPC;
            nextPC = target;
            done++;
            continue;
          }
          case 0x08: // addi
          case 0x09: // addiu
            r[rt] = (r[rs]! + ((insn << 16) >> 16)) | 0;
            break;
          case 0x0a: // slti
            r[rt] = r[rs]! < (insn << 16) >> 16 ? 1 : 0;
            break;
          case 0x0b: // sltiu
            r[rt] = r[rs]! >>> 0 < ((insn << 16) >> 16) >>> 0 ? 1 : 0;
            break;
          case 0x0c: // andi
            r[rt] = r[rs]! & (insn & 0xffff);
            break;
          case 0x0d: // ori
            r[rt] = r[rs]! | (insn & 0xffff);
            break;
          case 0x0e: // xori
            r[rt] = r[rs]! ^ (insn & 0xffff);
            break;
          case 0x0f: // lui
            r[rt] = insn << 16;
            break;
          case 0x1c: // SPECIAL2: only mul here
            if ((insn & 63) !== 0x02) break slow;
            r[(insn >>> 11) & 31] = Math.imul(r[rs]!, r[rt]!);
            break;
          case 0x20: {
            // lb
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            const w = store[slots[addr >>> 12]!]![(addr >>> 2) & 1023]!;
            r[rt] = (w << ((addr & 3) << 3)) >> 24;
            break;
          }
          case 0x21: {
            // lh
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            if ((addr & 1) !== 0) break slow;
            const w = store[slots[addr >>> 12]!]![(addr >>> 2) & 1023]!;
            r[rt] = (w << ((addr & 2) << 3)) >> 16;
            break;
          }
          case 0x23: {
            // lw
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            if ((addr & 3) !== 0) break slow;
            r[rt] = store[slots[addr >>> 12]!]![(addr >>> 2) & 1023]!;
            break;
          }
          case 0x24: {
            // lbu
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            const w = store[slots[addr >>> 12]!]![(addr >>> 2) & 1023]!;
            r[rt] = (w >>> (24 - ((addr & 3) << 3))) & 0xff;
            break;
          }
          case 0x25: {
            // lhu
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            if ((addr & 1) !== 0) break slow;
            const w = store[slots[addr >>> 12]!]![(addr >>> 2) & 1023]!;
            r[rt] = (w >>> (16 - ((addr & 2) << 3))) & 0xffff;
            break;
          }
          case 0x28: {
            // sb
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            const pi = addr >>> 12;
            if (flags[pi] !== PAGE_READY) mem.prepareWrite(pi);
            const page = store[slots[pi]!]!;
            const i = (addr >>> 2) & 1023;
            const shift = 24 - ((addr & 3) << 3);
            page[i] = (page[i]! & ~(0xff << shift)) | ((r[rt]! & 0xff) << shift);
            break;
          }
          case 0x29: {
            // sh
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            if ((addr & 1) !== 0) break slow;
            const pi = addr >>> 12;
            if (flags[pi] !== PAGE_READY) mem.prepareWrite(pi);
            const page = store[slots[pi]!]!;
            const i = (addr >>> 2) & 1023;
            const shift = 16 - ((addr & 2) << 3);
            page[i] = (page[i]! & ~(0xffff << shift)) | ((r[rt]! & 0xffff) << shift);
            break;
          }
          case 0x2b: {
            // sw
            const addr = (r[rs]! + ((insn << 16) >> 16)) | 0;
            if ((addr & 3) !== 0) break slow;
            const pi = addr >>> 12;
            if (flags[pi] !== PAGE_READY) mem.prepareWrite(pi);
            store[slots[pi]!]![(addr >>> 2) & 1023] = r[rt]!;
            break;
          }
          default: // lwl/lwr/swl/swr, ll/sc, pref, SPECIAL3, invalid
            break slow;
        }
        r[0] = 0;
        pc = nextPC;
        nextPC = (nextPC + 4) | 0;
        done++;
        continue;
      }
      // Slow path: the reference step, on the machine's own state.
      m.pc = pc >>> 0;
      m.nextPC = nextPC >>> 0;
      m.lo = lo >>> 0;
      m.hi = hi >>> 0;
      m.step = start + done;
      executeStep(m, io);
      done++;
      pc = m.pc | 0;
      nextPC = m.nextPC | 0;
      lo = m.lo | 0;
      hi = m.hi | 0;
      if (m.exited) break;
    }
  } finally {
    m.pc = pc >>> 0;
    m.nextPC = nextPC >>> 0;
    m.lo = lo >>> 0;
    m.hi = hi >>> 0;
    m.step = start + done;
  }
  return done;
}

/** The preimage part a step read (§4.5), with what the on-chain oracle needs to serve it. */
export interface PreimageWitness {
  /** The key as the guest wrote it (state's preimageKey). */
  key: Uint8Array;
  /** The key the on-chain oracle holds the part under: localized for local keys (§4.5). */
  oracleKey: Uint8Array;
  offset: number;
  part: Uint8Array;
  partLen: number;
  /** The whole (unframed) datum, to load into the oracle. */
  data: Uint8Array;
}

/** Everything `MIPS.step` needs to execute step `step` (pre-state step counter == step). */
export interface StepWitness {
  step: number;
  preState: Uint8Array;
  preStateHash: Hex;
  /** Instruction proof ‖ data proof (when the step touches a data word); empty once exited. */
  proof: Uint8Array;
  preimage?: PreimageWitness;
  postState: Uint8Array;
  postStateHash: Hex;
}

/** The post-state of each machine's last witnessed step and its hash (the next pre-state's). */
const lastPostState = new WeakMap<Machine, { state: Uint8Array; hash: Hex }>();

/**
 * Executes one step of `m` and returns its witness (§4.3). `ctx` localizes local preimage keys
 * for the on-chain oracle; without it `oracleKey` is the guest's key.
 */
export function stepWithWitness(m: Machine, ctx?: LocalContext): StepWitness {
  const step = m.step;
  const preState = m.encodeState();
  // Stepping on from the last witness's post-state (as traceWitnesses does): its hash is known.
  const last = lastPostState.get(m);
  const preStateHash = last !== undefined && bytesEqual(last.state, preState) ? last.hash : stateHash(preState);
  if (m.exited) {
    return { step, preState, preStateHash, proof: new Uint8Array(0), postState: preState, postStateHash: preStateHash };
  }
  const memory = m.memory;
  const insnProof = (m.pc & 3) === 0 ? memory.merkleProof(m.pc) : new Uint8Array(0);
  let dataAddr: number | undefined;
  let dataProof: Uint8Array | undefined;
  let preimage: PreimageWitness | undefined;
  const touch = (addr: number): void => {
    if (dataAddr === undefined) {
      dataAddr = addr >>> 0;
      dataProof = memory.merkleProof(dataAddr);
    } else if (dataAddr >>> 5 !== addr >>> 5) {
      throw new Error(`step ${step} touches two leaves (0x${dataAddr.toString(16)}, 0x${addr.toString(16)})`);
    }
  };
  const recording: DataMemory = {
    readMem(addr) {
      touch(addr);
      return memory.readMem(addr);
    },
    writeMem(addr, value) {
      touch(addr);
      // The proof of this leaf was just taken, so its page is clean: update its hashes in place.
      memory.writeMemHashed(addr, value);
    },
  };
  const io: StepIO = {
    mem: recording,
    readInstruction: (pc) => memory.readMem(pc),
    readPreimage(key, offset) {
      const got = m.readPreimage(key, offset);
      preimage = {
        key: key.slice(),
        oracleKey: ctx === undefined ? key.slice() : localizeKey(key, ctx),
        offset,
        part: got.part,
        partLen: got.partLen,
        data: m.preimageData(key).slice(),
      };
      return got;
    },
    output: (fd, addr, count) => m.output(fd, addr, count),
  };
  executeStep(m, io);
  m.step++;
  const postState = m.encodeState();
  const postStateHash = stateHash(postState);
  lastPostState.set(m, { state: postState, hash: postStateHash });
  const proof = dataProof === undefined ? insnProof : concatBytes(insnProof, dataProof);
  const witness: StepWitness = { step, preState, preStateHash, proof, postState, postStateHash };
  if (preimage !== undefined) witness.preimage = preimage;
  return witness;
}

/** Memory of a step rebuilt from proofs alone, as `MIPS.step` sees it. */
class ProofMemory implements DataMemory {
  memRoot: Uint8Array;
  private dataAddr: number | undefined;
  private dataProof: Uint8Array | undefined;

  constructor(
    private readonly preRoot: Uint8Array,
    private readonly proof: Uint8Array,
  ) {
    this.memRoot = preRoot;
  }

  readInstruction(pc: number): number {
    requireProofLength(this.proof, MEMORY_PROOF_SIZE);
    checkProof(this.preRoot, this.proof, pc, 0);
    return wordFromProof(this.proof, pc, 0);
  }

  private open(addr: number): Uint8Array {
    if (this.dataProof === undefined) {
      requireProofLength(this.proof, 2 * MEMORY_PROOF_SIZE);
      checkProof(this.preRoot, this.proof, addr, MEMORY_PROOF_SIZE);
      this.dataAddr = addr;
      this.dataProof = this.proof.slice(MEMORY_PROOF_SIZE, 2 * MEMORY_PROOF_SIZE);
    } else if (this.dataAddr! >>> 5 !== addr >>> 5) {
      throw new VmStepError("InvalidMemoryProof", [addr >>> 0], "a step touched a second leaf");
    }
    return this.dataProof;
  }

  readMem(addr: number): number {
    return wordFromProof(this.open(addr), addr);
  }

  writeMem(addr: number, value: number): void {
    const updated = proofWithWord(this.open(addr), addr, value);
    this.dataProof = updated;
    this.memRoot = rootFromProof(updated, addr);
  }
}

function requireProofLength(proof: Uint8Array, needed: number): void {
  if (proof.length < needed) {
    throw new VmStepError("InvalidProofLength", [needed, proof.length], `proof has ${proof.length} bytes, the step needs ${needed}`);
  }
}

/**
 * The post-state hash `MIPS.step(state, proof, localContext)` returns, computed from the witness
 * bytes alone. `readPreimage` answers the oracle read (e.g. from a witness's `preimage`).
 */
export function verifyStep(
  preState: Uint8Array,
  proof: Uint8Array,
  readPreimage: (key: Uint8Array, offset: number) => PreimagePart = () => {
    throw new VmStepError("PreimageNotFound", [], "no preimage part was supplied");
  },
): Hex {
  if (preState.length !== STATE_SIZE) throw new VmStepError("InvalidState", [], `state must be ${STATE_SIZE} bytes`);
  const s = decodeState(preState);
  if (s.exited) return stateHash(preState);
  const mem = new ProofMemory(s.memRoot, proof);
  const cpu: SyscallState & CpuState = {
    pc: s.pc,
    nextPC: s.nextPC,
    lo: s.lo,
    hi: s.hi,
    heap: s.heap,
    exited: s.exited,
    exitCode: s.exitCode,
    registers: Int32Array.from(s.registers, (x) => x | 0),
    preimageKey: s.preimageKey.slice(),
    preimageOffset: s.preimageOffset,
  };
  const io: StepIO = {
    mem,
    readInstruction: (pc) => mem.readInstruction(pc),
    readPreimage,
    output: () => {},
  };
  executeStep(cpu, io);
  const post = encodeState({
    ...cpu,
    registers: Uint32Array.from(cpu.registers, (x) => x >>> 0),
    memRoot: mem.memRoot,
    step: s.step + 1n,
  });
  return stateHash(post);
}

/** A `readPreimage` for `verifyStep` that serves exactly the part in a witness. */
export function witnessPreimageReader(w: StepWitness): (key: Uint8Array, offset: number) => PreimagePart {
  return (key, offset) => {
    const p = w.preimage;
    if (p === undefined || toHex(p.key) !== toHex(key) || p.offset !== offset) {
      throw new VmStepError("PreimageNotFound", [toHex(key), offset], "the witness carries no such part");
    }
    return { part: p.part, partLen: p.partLen };
  };
}

/**
 * Fast mode's block translator: straight-line MIPS code (a basic block: up to and including a
 * branch or jump and its delay slot, at most MAX_BLOCK instructions, never across a page) becomes
 * one JavaScript function, generated from the instruction words with `new Function`, that runs the
 * whole block on the machine's registers (held in locals), hi/lo, memory pages and page table.
 *
 * Exactness: a block runs only when the whole block fits in the remaining step budget and pc is
 * not in a delay slot; a block holds only instructions whose semantics are inlined here
 * (everything else ends the block before it: invalid encodings, `srl`/`srlv` rotations,
 * `ext`/`ins` out of range, a branch or syscall in a delay slot); a preimage read that needs neither the source nor a new page object runs
 * inside the block (`preimageRead`: the guest reads its weights 4 bytes per syscall); any other syscall is a call out: the block writes its
 * registers back, the machine runs the interpreter's own `handleSyscall`, and the block reloads its registers and
 * forgets its page caches (leaving if pc did not move on, as after an exit, or if its own page was replaced); an
 * instruction that may fail (an unaligned
 * lw/lh/sw/sh/ll/sc, div by zero, a trap that holds) is guarded: when the guard holds, the block
 * stores the state before that instruction and returns, and the interpreter executes it (and
 * throws, as the reference does). A store that needs a new page beyond the memory's cap (`Memory.maxPages`) exits
 * the same way, so `VmMemoryLimitError` is thrown by the interpreter at the same step in both modes. Everything
 * else goes to the interpreter (`interpret`), so every failure has exactly one implementation.
 *
 * Invalidation: translated code is keyed by page object, and the translator freezes the page it
 * reads code from (Memory.freezePage: copy on write, as a snapshot). A frozen page object is never
 * written again, so a block is valid exactly while its page object is the page table's: any store
 * to a code page, by the guest, a syscall or the host, makes a new page object, and the next entry
 * finds no block for it. A block's own store into its page (self-modifying code) leaves the block
 * right after that store. Machines restored from snapshots share page objects, and so their blocks.
 *
 * Speed: a block is translated once its start has been entered `threshold` times (cold code stays
 * interpreted: `new Function` costs more than running it a few times); each block links to the two
 * successors it last went to (checked by page object, no lookup); a block whose branch targets its
 * own start loops inside its function while another round fits in the budget; each base register
 * keeps the page its loads (and its stores) last touched.
 */
import { mulHiS, mulHiU } from "./instructions.ts";
import type { Machine } from "./machine.ts";
import { type Memory, PAGE_READY } from "./memory.ts";
import { Fd, Sys, mergeBytes } from "./syscalls.ts";

/** Longest block translated (instructions). */
export const MAX_BLOCK = 128;
/** Entries of a block start interpreted before the block is translated (default). */
export const DEFAULT_JIT_THRESHOLD = 8;

/**
 * A translated block: writes pc, nextPC (and lo, hi) into `c` and returns the steps it executed,
 * or `~steps` after a side exit (the next step is the interpreter's). A block whose branch can go
 * back to its start loops in itself while another round fits in `budget` steps.
 */
export type BlockFn = (
  r: Int32Array,
  c: Int32Array,
  store: Int32Array[],
  slots: Int32Array,
  flags: Uint8Array,
  mem: Memory,
  pg: Int32Array,
  budget: number,
  sys: SyscallCall,
  m: Machine,
) => number;

/**
 * A block's call out for the syscall at its instruction `k` (0-based, rounds of a loop counted): the block has
 * written its registers back and put pc, nextPC (lo, hi) in `c`; the call runs the syscall on the machine (the
 * interpreter's implementation) and puts the new pc and nextPC in `c`.
 */
export type SyscallCall = (k: number) => void;

/** A block start: its length (0: the first instruction is not translated), code once hot. */
interface Block {
  readonly len: number;
  fn: BlockFn | null;
  count: number;
  /** The (frozen) page object it was read from: valid while the page table holds it. */
  readonly page: Int32Array;
  /** Two successors seen (pc 1: none): the next block without a lookup, once its page is checked. */
  pc0: number;
  next0: Block | null;
  pc1: number;
  next1: Block | null;
}

/** A block's count when its code failed to compile: it never reaches the threshold (a small integer, so V8 keeps the field one). */
const NEVER = -(2 ** 30);

function newBlock(len: number, fn: BlockFn | null, page: Int32Array): Block {
  return { len, fn, count: 0, page, pc0: 1, next0: null, pc1: 1, next1: null };
}

/** Blocks by page object, then by word index in the page; one table per block length limit. */
type PageBlocks = WeakMap<Int32Array, (Block | undefined)[]>;
const pageBlocksByLimit = new Map<number, PageBlocks>();

function pageBlocksFor(maxBlock: number): PageBlocks {
  let t = pageBlocksByLimit.get(maxBlock);
  if (t === undefined) {
    t = new WeakMap();
    pageBlocksByLimit.set(maxBlock, t);
  }
  return t;
}
/** Compiled functions by (pc, words): a page copied without change to its code reuses them. */
const fnCache = new Map<string, BlockFn>();
const FN_CACHE_LIMIT = 1 << 16;

/**
 * How a word is translated: not at all, as a plain instruction, as a jump (ends the block), as a conditional branch
 * (the block may go on along its not-taken path), or as a syscall (a call out).
 */
const NONE = 0;
const PLAIN = 1;
const BRANCH = 2;
const SYSCALL = 3;
const COND = 4;

/** The class of an instruction word (decides block boundaries; mirrors `emit`). */
function classify(insn: number): number {
  const op = insn >>> 26;
  const rs = (insn >>> 21) & 31;
  const rt = (insn >>> 16) & 31;
  const rd = (insn >>> 11) & 31;
  const sa = (insn >>> 6) & 31;
  const fn = insn & 63;
  switch (op) {
    case 0x00:
      switch (fn) {
        case 0x02:
          return rs === 0 ? PLAIN : NONE;
        case 0x06:
          return sa === 0 ? PLAIN : NONE;
        case 0x08:
        case 0x09:
          return BRANCH;
        case 0x0c:
          return SYSCALL;
        case 0x00: case 0x03: case 0x04: case 0x07: case 0x0a: case 0x0b: case 0x0f:
        case 0x10: case 0x11: case 0x12: case 0x13: case 0x18: case 0x19: case 0x1a: case 0x1b:
        case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0x27:
        case 0x2a: case 0x2b: case 0x34: case 0x36:
          return PLAIN;
        default: // invalid
          return NONE;
      }
    case 0x01:
      return rt === 0x00 || rt === 0x01 || rt === 0x10 || rt === 0x11 ? COND : NONE;
    case 0x02: case 0x03:
      return BRANCH;
    case 0x04: case 0x05: case 0x06: case 0x07:
      return COND;
    case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x0e: case 0x0f:
      return PLAIN;
    case 0x1c:
      return fn === 0x00 || fn === 0x01 || fn === 0x02 || fn === 0x04 || fn === 0x05 || fn === 0x20 || fn === 0x21 ? PLAIN : NONE;
    case 0x1f:
      if (fn === 0x00) return sa + rd + 1 <= 32 ? PLAIN : NONE; // ext
      if (fn === 0x04) return rd >= sa ? PLAIN : NONE; // ins
      if (fn === 0x20) return sa === 0x02 || sa === 0x10 || sa === 0x18 ? PLAIN : NONE; // wsbh, seb, seh
      return NONE;
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
    case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2e: case 0x30: case 0x33: case 0x38:
      return PLAIN;
    default:
      return NONE;
  }
}

/**
 * The length of the block starting at word `wi` of `page` (0 if its first word is not translated). A block goes on
 * past a conditional branch and its delay slot along the not-taken path (a taken branch leaves it), except past a
 * branch back to the block's start: that is a loop's back edge, and the block loops in itself.
 */
function scanBlock(page: Int32Array, wi: number, maxBlock: number): number {
  let n = 0;
  while (n < maxBlock && wi + n < 1024) {
    const insn = page[wi + n]! >>> 0;
    const k = classify(insn);
    if (k === NONE) return n;
    if (k === BRANCH || k === COND) {
      // The branch and its delay slot, if the slot is in this page and a plain instruction (not a syscall).
      if (!(wi + n + 1 < 1024 && n + 2 <= maxBlock && classify(page[wi + n + 1]! >>> 0) === PLAIN)) return n;
      if (k === BRANCH || wi + n + 1 + ((insn << 16) >> 16) === wi) return n + 2;
      n += 2;
      continue;
    }
    n++;
  }
  return n;
}

const i32 = (x: number): string => String(x | 0);

/** Byte loads read a page through an Int8Array view where the host is little-endian (x64, arm64); a big-endian host (s390x) shifts the word. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** A byte cache's value before its first page (keeps the local one type). */
const PG8 = new Int8Array(4096);
const byteViews = new WeakMap<Int32Array, Int8Array>();

/**
 * Makes page `p` writable in place for a store (Memory.prepareWrite), or returns false if that needs a new page
 * beyond the memory's cap (the block leaves, and the interpreter fails the step).
 */
function writablePage(mem: Memory, p: number): boolean {
  if (mem.slots[p] === 0 && mem.pageCount >= mem.maxPages) return false;
  mem.prepareWrite(p);
  return true;
}

/**
 * A preimage read (read on fd 5, §4.6) done inside a block when it needs no call out: the current key's framed
 * preimage is the one the machine already fetched, the offset leaves at least one byte to read, and the destination
 * word's page is writable in place (no page object changes, so the block's page caches stay valid). Reads what
 * handleSysRead would (min(count, 4 - addr % 4, bytes left) bytes into the word at addr) and advances the offset;
 * returns the bytes read, or 0 when the block must call out instead (handleSysRead then reads, fetches, or fails).
 */
function preimageRead(m: Machine, addr: number, count: number): number {
  const frame = m.currentFrame();
  if (frame === undefined) return 0;
  const off = m.preimageOffset;
  const a = addr & 3;
  const n = Math.min(count >>> 0, 4 - a, frame.length - off);
  if (n <= 0) return 0;
  const mem = m.memory;
  const pi = addr >>> 12;
  if (mem.flags[pi] !== PAGE_READY) return 0;
  const page = mem.store[mem.slots[pi]!]!;
  const wi = (addr >>> 2) & 1023;
  page[wi] = mergeBytes(page[wi]!, a, frame, off, n);
  m.preimageOffset = (off + n) >>> 0;
  return n;
}

/** The Int8Array view of a page object (made once per page object). */
function byteView(page: Int32Array): Int8Array {
  let v = byteViews.get(page);
  if (v === undefined) {
    v = new Int8Array(page.buffer, page.byteOffset, 4096);
    byteViews.set(page, v);
  }
  return v;
}

/** Generates the source of the block of `words` at `pc` (pc, pc + 4, ...). */
export function blockSource(pc: number, words: ArrayLike<number>): string {
  const len = words.length;
  const pageIndex = pc >>> 12;
  const used = new Set<number>();
  const written = new Set<number>();
  let hiLo = false;
  let hiLoWritten = false;
  const R = (n: number): string => {
    if (n === 0) return "0";
    used.add(n);
    return `r${n}`;
  };
  const W = (n: number, expr: string): string => {
    if (n === 0) return "";
    used.add(n);
    written.add(n);
    return `r${n} = ${expr};`;
  };
  const HL = (write: boolean): void => {
    hiLo = true;
    if (write) hiLoWritten = true;
  };
  const body: string[] = [];
  /** The exit that leaves the state before instruction i (the interpreter runs it next). */
  let inSlot = false;
  /** The instruction being emitted follows a branch (it is that branch's delay slot). */
  let slotNext = false;
  /** A conditional branch's not-taken pc, for the exit after its delay slot when it is taken. */
  let branchFall = 0;
  const bail = (i: number): string => {
    const a = (pc + 4 * i) | 0;
    const next = inSlot ? "np" : i32(a + 4);
    return `{ xa = ${a}; xn = ${next}; xs = ~(s + ${i}); break out; }`;
  };
  /**
   * After a store that took the slow path (z = 1: prepareWrite may have replaced a page object),
   * the exit that leaves the state after instruction i if it replaced this block's own page
   * (self-modifying code). After the last instruction the block ends anyway (a loop's back edge
   * checks z: it does not go round again).
   */
  const exitAfter = (i: number): string => {
    if (i === len - 1) return "";
    const a = (pc + 4 * (i + 1)) | 0;
    // In a delay slot the next pc is the branch's (np).
    const next = inSlot ? "xa = np; xn = (np + 4) | 0;" : `xa = ${a}; xn = ${i32(a + 4)};`;
    return `if (z !== 0) { z = 0; if (store[slots[${pageIndex}]] !== pg) { ${next} xs = ~(s + ${i + 1}); break out; } }`;
  };
  /** Page caches, one per base register (not per site: fewer live variables, and sites off one base share a page). */
  const loadCaches = new Map<number, number>();
  const storeCaches = new Map<number, number>();
  const byteCaches = new Map<number, number>();
  const cacheOf = (caches: Map<number, number>, base: number): number => {
    let k = caches.get(base);
    if (k === undefined) {
      k = caches.size;
      caches.set(base, k);
    }
    return k;
  };
  /** The last branch can go back to the block's start (a static target equal to pc). */
  let loops = false;
  /** The block ends with a branch and its delay slot (it leaves to np), not by falling off its end. */
  const endsInBranch = len >= 2 && (classify(words[len - 2]! >>> 0) === BRANCH || classify(words[len - 2]! >>> 0) === COND);
  // The instruction being emitted (fields and addresses), read by the emitters below (defined once, not per instruction).
  let i = 0, insn = 0, addr = 0, op = 0, rs = 0, rt = 0, rd = 0, sa = 0, fn = 0, imm = 0, simm = 0;
  let link = "", target = "", fall = "";
  const ea = (): string => `a = (${R(rs)} + ${simm}) | 0;`;
  const branch = (): void => {
    slotNext = true;
    branchFall = (addr + 8) | 0;
  };
  const load = (align: number, value: (w: string) => string): string => {
    const guard = align !== 0 ? `if ((a & ${align}) !== 0) ${bail(i)}` : "";
    if (rt === 0) return guard === "" ? "" : `${ea()} ${guard}`;
    // lpN/lqN: the page the loads off base register rs last read (index, object), until a store's slow path
    // or a syscall.
    const k = cacheOf(loadCaches, rs);
    return `${ea()} ${guard} if (a >>> 12 !== lp${k}) { lp${k} = a >>> 12; lq${k} = store[slots[lp${k}]]; } w = lq${k}[(a >>> 2) & 1023]; ${W(rt, value("w"))}`;
  };
  /**
   * lb/lbu through a byte view of the page (a little-endian host holds the big-endian word's byte k at k ^ 3):
   * bpN/bqN, the page the byte loads off rs last read (index, Int8Array view), forgotten like lpN/lqN.
   */
  const loadByte = (unsigned: boolean): string => {
    if (rt === 0) return "";
    const k = cacheOf(byteCaches, rs);
    const b = `bq${k}[(a & 4095) ^ 3]`;
    return `${ea()} if (a >>> 12 !== bp${k}) { bp${k} = a >>> 12; w = slots[bp${k}]; bq${k} = byteView(store[w]); } ${W(rt, unsigned ? `${b} & 0xff` : b)}`;
  };
  const storeOp = (align: number, value: (old: string) => string, after = ""): string => {
    const guard = align !== 0 ? `if ((a & ${align}) !== 0) ${bail(i)}` : "";
    // spN/sqN: a page the stores off rs know writable in place (index, object). The slow path
    // (prepareWrite) may replace that page's object: the load sites forget their pages.
    const k = cacheOf(storeCaches, rs);
    return (
      `${ea()} ${guard} p = a >>> 12; ` +
      `if (p !== sp${k}) { if (flags[p] !== 3) { if (!wp(mem, p)) ${bail(i)} @INV z = 1; } sp${k} = p; sq${k} = store[slots[p]]; } ` +
      `q = (a >>> 2) & 1023; sq${k}[q] = ${value(`sq${k}[q]`)}; ${after} ${exitAfter(i)}`
    );
  };
  for (i = 0; i < len; i++) {
    insn = words[i]! >>> 0;
    addr = (pc + 4 * i) | 0;
    op = insn >>> 26;
    rs = (insn >>> 21) & 31;
    rt = (insn >>> 16) & 31;
    rd = (insn >>> 11) & 31;
    sa = (insn >>> 6) & 31;
    fn = insn & 63;
    imm = insn & 0xffff;
    simm = (insn << 16) >> 16;
    link = i32(addr + 8);
    target = i32(addr + 4 + (simm << 2));
    fall = i32(addr + 8);
    let s: string;
    inSlot = slotNext;
    slotNext = false;
    switch (op) {
      case 0x00:
        switch (fn) {
          case 0x00: s = W(rd, `${R(rt)} << ${sa}`); break;
          case 0x02: s = W(rd, `(${R(rt)} >>> ${sa}) | 0`); break;
          case 0x03: s = W(rd, `${R(rt)} >> ${sa}`); break;
          case 0x04: s = W(rd, `${R(rt)} << (${R(rs)} & 31)`); break;
          case 0x06: s = W(rd, `(${R(rt)} >>> (${R(rs)} & 31)) | 0`); break;
          case 0x07: s = W(rd, `${R(rt)} >> (${R(rs)} & 31)`); break;
          case 0x08: s = `np = ${R(rs)};`; branch(); break;
          case 0x09: s = `np = ${R(rs)}; ${W(rd, link)}`; branch(); break;
          case 0x0a: s = rd === 0 ? "" : `if (${R(rt)} === 0) ${W(rd, R(rs))}`; break;
          case 0x0b: s = rd === 0 ? "" : `if (${R(rt)} !== 0) ${W(rd, R(rs))}`; break;
          case 0x0f: s = ""; break; // sync
          case 0x0c: {
            // syscall: a preimage read that needs no call out runs here (preimageRead: v0 the bytes read, errno 0).
            // Anything else: registers back, the machine runs it, registers and page caches reloaded (it may write
            // r2/r7 and memory, and replace page objects). Leave after it if pc is not the next instruction (an
            // exit leaves pc on the syscall) or it replaced this block's page.
            const a = (pc + 4 * (i + 1)) | 0;
            s =
              `if (${R(2)} === ${Sys.READ} && ${R(4)} === ${Fd.PREIMAGE_READ} && (t0 = prd(m, ${R(5)}, ${R(6)})) !== 0) { ${W(2, "t0")} ${W(7, "0")} } else { ` +
              `@WB c[0] = ${addr}; c[1] = ${a}; sys(s + ${i}); @RELOAD @INV @SINV ` +
              `if (c[0] !== ${a} || store[slots[${pageIndex}]] !== pg) { xa = c[0]; xn = c[1]; xs = ~(s + ${i + 1}); break out; } }`;
            break;
          }
          case 0x10: HL(false); s = W(rd, "hi"); break;
          case 0x11: HL(true); s = `hi = ${R(rs)};`; break;
          case 0x12: HL(false); s = W(rd, "lo"); break;
          case 0x13: HL(true); s = `lo = ${R(rs)};`; break;
          case 0x18: HL(true); s = `t0 = ${R(rs)}; t1 = ${R(rt)}; lo = Math.imul(t0, t1); hi = mulHiS(t0, t1) | 0;`; break;
          case 0x19: HL(true); s = `t0 = ${R(rs)}; t1 = ${R(rt)}; lo = Math.imul(t0, t1); hi = mulHiU(t0, t1) | 0;`; break;
          case 0x1a:
            HL(true);
            s = `t1 = ${R(rt)}; if (t1 === 0) ${bail(i)} t0 = ${R(rs)}; lo = (t0 / t1) | 0; hi = (t0 % t1) | 0;`;
            break;
          case 0x1b:
            HL(true);
            s = `t1 = ${R(rt)} >>> 0; if (t1 === 0) ${bail(i)} t0 = ${R(rs)} >>> 0; lo = (t0 / t1) | 0; hi = (t0 % t1) | 0;`;
            break;
          case 0x20: case 0x21: s = W(rd, `(${R(rs)} + ${R(rt)}) | 0`); break;
          case 0x22: case 0x23: s = W(rd, `(${R(rs)} - ${R(rt)}) | 0`); break;
          case 0x24: s = W(rd, `${R(rs)} & ${R(rt)}`); break;
          case 0x25: s = W(rd, `${R(rs)} | ${R(rt)}`); break;
          case 0x26: s = W(rd, `${R(rs)} ^ ${R(rt)}`); break;
          case 0x27: s = W(rd, `~(${R(rs)} | ${R(rt)})`); break;
          case 0x2a: s = W(rd, `${R(rs)} < ${R(rt)} ? 1 : 0`); break;
          case 0x2b: s = W(rd, `${R(rs)} >>> 0 < ${R(rt)} >>> 0 ? 1 : 0`); break;
          case 0x34: s = `if (${R(rs)} === ${R(rt)}) ${bail(i)}`; break; // teq
          case 0x36: s = `if (${R(rs)} !== ${R(rt)}) ${bail(i)}`; break; // tne
          default: throw new Error(`unreachable: SPECIAL 0x${fn.toString(16)}`);
        }
        break;
      case 0x01: {
        // bltz, bgez, bltzal, bgezal: the condition on rs before the link (rs may be r31)
        const cond = rt === 0x00 || rt === 0x10 ? `${R(rs)} < 0` : `${R(rs)} >= 0`;
        s = `np = ${cond} ? ${target} : ${fall};` + (rt >= 0x10 ? W(31, link) : "");
        branch();
        loops = i === len - 2 && Number(target) === (pc | 0);
        break;
      }
      case 0x02:
      case 0x03: {
        const dest = ((addr + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
        s = `np = ${i32(dest)};` + (op === 0x03 ? W(31, link) : "");
        branch();
        loops = i === len - 2 && (dest | 0) === (pc | 0);
        break;
      }
      case 0x04: s = `np = ${R(rs)} === ${R(rt)} ? ${target} : ${fall};`; branch(); loops = i === len - 2 && Number(target) === (pc | 0); break;
      case 0x05: s = `np = ${R(rs)} !== ${R(rt)} ? ${target} : ${fall};`; branch(); loops = i === len - 2 && Number(target) === (pc | 0); break;
      case 0x06: s = `np = ${R(rs)} <= 0 ? ${target} : ${fall};`; branch(); loops = i === len - 2 && Number(target) === (pc | 0); break;
      case 0x07: s = `np = ${R(rs)} > 0 ? ${target} : ${fall};`; branch(); loops = i === len - 2 && Number(target) === (pc | 0); break;
      case 0x08: case 0x09: s = W(rt, `(${R(rs)} + ${simm}) | 0`); break;
      case 0x0a: s = W(rt, `${R(rs)} < ${simm} ? 1 : 0`); break;
      case 0x0b: s = W(rt, `${R(rs)} >>> 0 < ${simm >>> 0} ? 1 : 0`); break;
      case 0x0c: s = W(rt, `${R(rs)} & ${imm}`); break;
      case 0x0d: s = W(rt, `${R(rs)} | ${imm}`); break;
      case 0x0e: s = W(rt, `${R(rs)} ^ ${imm}`); break;
      case 0x0f: s = W(rt, i32(imm << 16)); break;
      case 0x1c:
        switch (fn) {
          case 0x02: s = W(rd, `Math.imul(${R(rs)}, ${R(rt)})`); break;
          case 0x20: s = W(rd, `Math.clz32(${R(rs)})`); break;
          case 0x21: s = W(rd, `Math.clz32(~${R(rs)})`); break;
          case 0x00:
          case 0x01:
          case 0x04:
          case 0x05: {
            // madd, maddu, msub, msubu: (hi:lo) +/- rs * rt, 64-bit
            HL(true);
            const mulHi = fn === 0x00 || fn === 0x04 ? "mulHiS" : "mulHiU";
            const prod = `t0 = ${R(rs)}; t1 = ${R(rt)}; t2 = Math.imul(t0, t1) >>> 0; t3 = ${mulHi}(t0, t1); t4 = lo >>> 0;`;
            s =
              fn <= 0x01
                ? `${prod} t5 = (t4 + t2) >>> 0; hi = ((hi >>> 0) + t3 + (t5 < t4 ? 1 : 0)) | 0; lo = t5 | 0;`
                : `${prod} t5 = (t4 - t2) >>> 0; hi = ((hi >>> 0) - t3 - (t4 < t2 ? 1 : 0)) | 0; lo = t5 | 0;`;
            break;
          }
          default: throw new Error(`unreachable: SPECIAL2 0x${fn.toString(16)}`);
        }
        break;
      case 0x1f:
        if (fn === 0x00) {
          const size = rd + 1;
          const mask = size === 32 ? -1 : (1 << size) - 1;
          s = W(rt, `(${R(rs)} >>> ${sa}) & ${mask}`);
        } else if (fn === 0x04) {
          const size = rd - sa + 1;
          const mask = ((size === 32 ? -1 : (1 << size) - 1) << sa) | 0;
          s = W(rt, `(${R(rt)} & ${~mask}) | ((${R(rs)} << ${sa}) & ${mask})`);
        } else if (sa === 0x02) {
          s = W(rd, `((${R(rt)} & 0x00ff00ff) << 8) | ((${R(rt)} >>> 8) & 0x00ff00ff)`);
        } else if (sa === 0x10) {
          s = W(rd, `(${R(rt)} << 24) >> 24`);
        } else {
          s = W(rd, `(${R(rt)} << 16) >> 16`);
        }
        break;
      case 0x20: s = LITTLE_ENDIAN ? loadByte(false) : load(0, (w) => `(${w} << ((a & 3) << 3)) >> 24`); break; // lb
      case 0x21: s = load(1, (w) => `(${w} << ((a & 2) << 3)) >> 16`); break; // lh
      case 0x22: // lwl
        s = load(0, (w) => `(${w} << ((a & 3) << 3)) | (${R(rt)} & ((1 << ((a & 3) << 3)) - 1))`);
        break;
      case 0x23: case 0x30: s = load(3, (w) => w); break; // lw, ll
      case 0x24: s = LITTLE_ENDIAN ? loadByte(true) : load(0, (w) => `(${w} >>> (24 - ((a & 3) << 3))) & 0xff`); break; // lbu
      case 0x25: s = load(1, (w) => `(${w} >>> (16 - ((a & 2) << 3))) & 0xffff`); break; // lhu
      case 0x26: // lwr
        s = load(0, (w) => `(${w} >>> (24 - ((a & 3) << 3))) | (${R(rt)} & ~(-1 >>> (24 - ((a & 3) << 3))))`);
        break;
      case 0x28: // sb
        s = storeOp(0, (o) => `(${o} & ~(0xff << (24 - ((a & 3) << 3)))) | ((${R(rt)} & 0xff) << (24 - ((a & 3) << 3)))`);
        break;
      case 0x29: // sh
        s = storeOp(1, (o) => `(${o} & ~(0xffff << (16 - ((a & 2) << 3)))) | ((${R(rt)} & 0xffff) << (16 - ((a & 2) << 3)))`);
        break;
      case 0x2a: // swl
        s = storeOp(0, (o) => `(${o} & ~(-1 >>> ((a & 3) << 3))) | (${R(rt)} >>> ((a & 3) << 3))`);
        break;
      case 0x2b: s = storeOp(3, () => R(rt)); break; // sw
      case 0x2e: // swr
        s = storeOp(0, (o) => `(${o} & ~(-1 << (24 - ((a & 3) << 3)))) | (${R(rt)} << (24 - ((a & 3) << 3)))`);
        break;
      case 0x38: s = storeOp(3, () => R(rt), W(rt, "1")); break; // sc: always succeeds
      case 0x33: s = ""; break; // pref
      default: throw new Error(`unreachable: opcode 0x${op.toString(16)}`);
    }
    // After a delay slot inside the block: leave to np unless the branch fell through.
    if (inSlot && i < len - 1) s += ` if (np !== ${branchFall}) { xa = np; xn = (np + 4) | 0; xs = s + ${i + 1}; break out; }`;
    body.push(`/* ${(addr >>> 0).toString(16)} */ ${s}`);
  }
  const regs = [...used].sort((a, b) => a - b);
  const wb =
    [...written].sort((a, b) => a - b).map((n) => `r[${n}] = r${n};`).join(" ") + (hiLoWritten ? " c[2] = lo; c[3] = hi;" : "");
  const end = (pc + 4 * len) | 0;
  const exit = endsInBranch ? `${wb} c[0] = np; c[1] = (np + 4) | 0; return s;` : `${wb} c[0] = ${end}; c[1] = ${i32(end + 4)}; return s;`;
  const decl = [
    ...regs.map((n) => `r${n} = r[${n}]`),
    ...(hiLo ? ["lo = c[2]", "hi = c[3]"] : []),
    "a = 0, p = 0, q = 0, w = 0, np = 0, s = 0, z = 0",
    // every exit but the end's: pc, nextPC, and the return value (steps, or ~steps for a side exit)
    "xa = 0, xn = 0, xs = 0",
    ...Array.from({ length: loadCaches.size }, (_, k) => `lp${k} = -1, lq${k} = pg`),
    ...Array.from({ length: storeCaches.size }, (_, k) => `sp${k} = -1, sq${k} = pg`),
    ...Array.from({ length: byteCaches.size }, (_, k) => `bp${k} = -1, bq${k} = PG8`),
    "t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0",
  ];
  const inv = [...Array.from({ length: loadCaches.size }, (_, k) => `lp${k} = -1;`), ...Array.from({ length: byteCaches.size }, (_, k) => `bp${k} = -1;`)].join(" ");
  const sinv = Array.from({ length: storeCaches.size }, (_, k) => `sp${k} = -1;`).join(" ");
  const reload = regs.map((n) => `r${n} = r[${n}];`).join(" ");
  const code = body.join("\n").replaceAll("@WB", wb).replaceAll("@INV", inv).replaceAll("@SINV", sinv).replaceAll("@RELOAD", reload);
  const main = loops
    ? `for (;;) {\n${code}\ns += ${len};\nif (np !== ${pc | 0} || s > budget - ${len} || z !== 0) break;\n}`
    : `${code}\ns = ${len};`;
  return (
    `"use strict";\nreturn function block_${(pc >>> 0).toString(16)}(r, c, store, slots, flags, mem, pg, budget, sys, m) {\n` +
    `let ${decl.join(", ")};\nout: {\n${main}\n${exit}\n}\n${wb} c[0] = xa; c[1] = xn; return xs;\n};`
  );
}

/**
 * The compiled function of the block of `len` words at `pc` in `page`, or null if it cannot be
 * compiled (a translator bug: counted in `jitStats().failed`; the block stays interpreted, so the
 * run stays exact).
 */
function compileBlock(page: Int32Array, pc: number, len: number): BlockFn | null {
  try {
    return compile(page, pc, len);
  } catch {
    counters[FAILED] = counters[FAILED]! + 1;
    return null;
  }
}

function compile(page: Int32Array, pc: number, len: number): BlockFn {
  const wi = (pc >>> 2) & 1023;
  const words = page.subarray(wi, wi + len);
  const key = `${pc >>> 0}:${Array.from(words).join(",")}`;
  let fn = fnCache.get(key);
  if (fn === undefined) {
    const factory = new Function("mulHiS", "mulHiU", "byteView", "PG8", "wp", "prd", blockSource(pc, words)) as (
      s: typeof mulHiS,
      u: typeof mulHiU,
      v: typeof byteView,
      z: Int8Array,
      w: typeof writablePage,
      p: typeof preimageRead,
    ) => BlockFn;
    fn = factory(mulHiS, mulHiU, byteView, PG8, writablePage, preimageRead);
    if (fnCache.size >= FN_CACHE_LIMIT) fnCache.clear();
    fnCache.set(key, fn);
    counters[COMPILED] = counters[COMPILED]! + 1;
  } else {
    counters[REUSED] = counters[REUSED]! + 1;
  }
  return fn;
}

/** The block table of page object `page` (at page index `pi` of `mem`), freezing the page. */
function blocksOf(mem: Memory, pi: number, page: Int32Array, table: PageBlocks): (Block | undefined)[] {
  mem.freezePage(pi);
  let blocks = table.get(page);
  if (blocks === undefined) {
    blocks = new Array<Block | undefined>(1024);
    table.set(page, blocks);
  }
  return blocks;
}

/** Runs `n` steps with the interpreter (it syncs and reads the machine). */
export type Interpreter = (m: Machine, n: number) => number;
/** Executes the syscall at the machine's pc (the interpreter's own: `handleSyscall`); does not touch the step counter. */
export type SyscallStep = (m: Machine) => void;

/** Counters since the process started (or the last reset): what ran translated, what interpreted. */
export interface JitStats {
  /** Blocks compiled (new Function) and blocks found compiled for an equal (pc, words). */
  compiled: number;
  reused: number;
  /** Block function calls and the steps they executed. */
  blockRuns: number;
  blockSteps: number;
  /** Steps the dispatcher handed to the interpreter. */
  interpretedSteps: number;
  /** Blocks whose generated code failed to compile (a bug; they run interpreted). */
  failed: number;
}

/** The counters of JitStats, in a Float64Array (object fields that outgrow small integers make V8 deoptimize the dispatcher). */
const counters = new Float64Array(6);
const COMPILED = 0;
const REUSED = 1;
const BLOCK_RUNS = 2;
const BLOCK_STEPS = 3;
const INTERPRETED = 4;
const FAILED = 5;

export function jitStats(reset = false): JitStats {
  const c = counters;
  const out: JitStats = { compiled: c[COMPILED]!, reused: c[REUSED]!, blockRuns: c[BLOCK_RUNS]!, blockSteps: c[BLOCK_STEPS]!, interpretedSteps: c[INTERPRETED]!, failed: c[FAILED]! };
  if (reset) c.fill(0);
  return out;
}

/** pc, nextPC, lo, hi shared with the block functions. */
const ctx = new Int32Array(4);

/**
 * Fast mode with the block translator: runs up to `maxSteps` steps (fewer if the program exits) and
 * returns the number executed, exactly as `interpret` would. A failing step throws with the machine
 * at the state before it. `threshold`: entries of a block before it is translated (0: at once);
 * `maxBlock`: the longest block (tests use 1 to run single instructions translated).
 */
export function runJit(
  m: Machine,
  maxSteps: number,
  interpret: Interpreter,
  syscall: SyscallStep,
  threshold = DEFAULT_JIT_THRESHOLD,
  maxBlock = MAX_BLOCK,
): number {
  if (m.exited || maxSteps <= 0) return 0;
  if (!Number.isInteger(maxBlock) || maxBlock < 1 || maxBlock > MAX_BLOCK) throw new RangeError(`jitMaxBlock must be 1..${MAX_BLOCK}, got ${maxBlock}`);
  const table = pageBlocksFor(maxBlock);
  const r = m.registers;
  const mem = m.memory;
  const store = mem.store;
  const slots = mem.slots;
  const flags = mem.flags;
  const c = ctx;
  const start = m.step;
  let done = 0;
  let pc = m.pc | 0;
  let nextPC = m.nextPC | 0;
  let lastPage: Int32Array | undefined;
  let blocks: (Block | undefined)[] = [];
  /** The block that last ran whole: pc is one of its exits, and nextPC is pc + 4. */
  let prev: Block | null = null;
  /** Counted here and added to the counters once per call. */
  let blockRuns = 0;
  let interpreted = 0;
  /** The machine's step count when the running block started. */
  let blockStart = start;
  const sys: SyscallCall = (k) => {
    m.pc = c[0]! >>> 0;
    m.nextPC = c[1]! >>> 0;
    m.lo = c[2]! >>> 0;
    m.hi = c[3]! >>> 0;
    m.step = blockStart + k;
    syscall(m);
    c[0] = m.pc | 0;
    c[1] = m.nextPC | 0;
  };
  c[2] = m.lo | 0;
  c[3] = m.hi | 0;
  try {
  while (done < maxSteps) {
    let run = 1;
    let b: Block | null | undefined = null;
    if (prev !== null) {
      b = pc === prev.pc0 ? prev.next0 : pc === prev.pc1 ? prev.next1 : null;
      if (b !== null && store[slots[pc >>> 12]!] !== b.page) b = null;
    }
    if (b === null && nextPC === ((pc + 4) | 0) && (pc & 3) === 0) {
      const pi = pc >>> 12;
      const slot = slots[pi]!;
      if (slot !== 0) {
        const page = store[slot]!;
        if (page !== lastPage) {
          blocks = blocksOf(mem, pi, page, table);
          lastPage = page;
        }
        const wi = (pc >>> 2) & 1023;
        b = blocks[wi];
        if (b === undefined) {
          const len = scanBlock(page, wi, maxBlock);
          b = newBlock(len, len > 0 && threshold <= 0 ? compileBlock(page, pc, len) : null, page);
          if (len > 0 && threshold <= 0 && b.fn === null) b.count = NEVER;
          blocks[wi] = b;
        }
        if (prev !== null) {
          if (prev.next0 === null) {
            prev.pc0 = pc;
            prev.next0 = b;
          } else {
            prev.pc1 = pc;
            prev.next1 = b;
          }
        }
      }
    }
    prev = null;
    if (b !== null && b !== undefined) {
      const fn = b.fn;
      if (fn !== null) {
        if (b.len <= maxSteps - done) {
          c[0] = pc;
          c[1] = nextPC;
          blockStart = start + done;
          const n = fn(r, c, store, slots, flags, mem, b.page, maxSteps - done, sys, m);
          blockRuns++;
          pc = c[0]!;
          nextPC = c[1]!;
          if (n >= 0) {
            done += n;
            prev = b;
            continue;
          }
          // A side exit: the instruction there fails, or a store replaced this page.
          done += ~n;
        } else {
          run = maxSteps - done;
        }
      } else if (b.len > 0) {
        run = b.len;
        if (++b.count >= threshold) {
          b.fn = compileBlock(b.page, pc, b.len);
          if (b.fn === null) b.count = NEVER;
        }
      }
    }
    m.pc = pc >>> 0;
    m.nextPC = nextPC >>> 0;
    m.lo = c[2]! >>> 0;
    m.hi = c[3]! >>> 0;
    m.step = start + done;
    const k = interpret(m, Math.min(run, maxSteps - done));
    interpreted += k;
    done += k;
    pc = m.pc | 0;
    nextPC = m.nextPC | 0;
    c[2] = m.lo | 0;
    c[3] = m.hi | 0;
    if (m.exited) break;
  }
  } finally {
    counters[BLOCK_RUNS] = counters[BLOCK_RUNS]! + blockRuns;
    counters[INTERPRETED] = counters[INTERPRETED]! + interpreted;
    counters[BLOCK_STEPS] = counters[BLOCK_STEPS]! + done - interpreted;
  }
  m.pc = pc >>> 0;
  m.nextPC = nextPC >>> 0;
  m.lo = c[2]! >>> 0;
  m.hi = c[3]! >>> 0;
  m.step = start + done;
  return done;
}

/**
 * Memory as a Merkle tree (docs/protocol.md §4.2): a 32-bit byte-addressed space, a binary tree of
 * depth 27 over 2^27 leaves of 32 bytes, inner nodes keccak256(left ‖ right), zero subtrees
 * `zero[h]`. Proofs are 28 × 32 bytes: the leaf, then its 27 siblings from the bottom.
 *
 * Representation, built for a fast interpreter and cheap roots after millions of steps:
 * - a flat page table: `slots[page]` (2^20 pages of 4 KiB) indexes `store`, the page objects
 *   (Int32Arrays of 1024 big-endian words); slot 0 is a shared all-zero page, so a load needs no
 *   check. (A typed-array table is allocated lazily by the OS: a Memory costs nothing to create.)
 * - `flags[page]`: WRITABLE (this Memory owns the page object and may write it in place) and
 *   TRACKED (the page is already in the dirty list since the last root). A store whose page has
 *   both flags writes directly; otherwise `prepareWrite` allocates, copies on write (snapshots
 *   share page objects) or records the page as dirty;
 * - a page's subtree root (height 7) is cached per page object, and the 20 levels above the pages
 *   are kept as sparse maps, so `root()` rehashes only the pages written since the previous root
 *   and their paths.
 */
import { VmMemoryLimitError, VmStepError } from "./errors.ts";
import { bytesToWords, hashPair, wordsToBytes } from "./keccak.ts";

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_WORDS = PAGE_SIZE >>> 2;
export const PAGE_COUNT = 1 << (32 - PAGE_SHIFT);
/** Depth of the memory tree: 2^27 leaves of 32 bytes cover 2^32 bytes. */
export const MEMORY_DEPTH = 27;
/** Height of a page's subtree (128 leaves). */
const PAGE_HEIGHT = 7;
/** Levels above the pages: level 0 holds page roots, level 20 the root. */
const UPPER_LEVELS = MEMORY_DEPTH - PAGE_HEIGHT;
/** A memory proof: leaf + 27 siblings. */
export const MEMORY_PROOF_SIZE = 32 * (MEMORY_DEPTH + 1);

export const PAGE_WRITABLE = 1;
export const PAGE_TRACKED = 2;
export const PAGE_READY = PAGE_WRITABLE | PAGE_TRACKED;

/** The page every unwritten page points to. Never written: `prepareWrite` replaces it first. */
const ZERO_PAGE = new Int32Array(PAGE_WORDS);

/** zero[h] for h = 0..27, 8 words each. */
const ZERO_HASHES = new Int32Array(8 * (MEMORY_DEPTH + 1));
for (let h = 0; h < MEMORY_DEPTH; h++) hashPair(ZERO_HASHES, 8 * (h + 1), ZERO_HASHES, 8 * h, ZERO_HASHES, 8 * h);

export function zeroHash(height: number): Uint8Array {
  return wordsToBytes(ZERO_HASHES, 8 * height, 8);
}

/** Word offsets of each height (1..7) in a page subtree: 64+32+…+1 = 127 nodes of 8 words. */
const PAGE_LEVEL_OFFSET = [0, 0, 64, 96, 112, 120, 124, 126].map((n) => 8 * n);
const PAGE_ROOT_OFFSET = PAGE_LEVEL_OFFSET[PAGE_HEIGHT]!;

/** The subtree of one page above its leaves (heights 1..7; the root at PAGE_ROOT_OFFSET). */
function hashPage(page: Int32Array): Int32Array {
  const tree = new Int32Array(8 * 127);
  // height 1 from the leaves (each leaf is 8 words of the page)
  for (let i = 0; i < 64; i++) hashPair(tree, 8 * i, page, 16 * i, page, 16 * i + 8);
  for (let h = 2; h <= PAGE_HEIGHT; h++) {
    const src = PAGE_LEVEL_OFFSET[h - 1]!;
    const dst = PAGE_LEVEL_OFFSET[h]!;
    const n = 128 >>> h;
    for (let i = 0; i < n; i++) hashPair(tree, dst + 8 * i, tree, src + 16 * i, tree, src + 16 * i + 8);
  }
  return tree;
}

/**
 * Page subtrees by page object, shared by a Memory and its snapshots. An entry stays valid while
 * its page object is unchanged: frozen (snapshot) pages never change, and a live page's entry is
 * dropped on its first write after hashing.
 */
export type PageRootCache = WeakMap<Int32Array, Int32Array>;

/** Pages of a memory frozen at a point: page index -> page object (never written again). */
export interface MemorySnapshot {
  readonly indices: Int32Array;
  readonly pages: readonly Int32Array[];
  readonly rootCache: PageRootCache;
}

export class Memory {
  /** Page table: page index -> slot in `store` (0: the zero page). */
  readonly slots: Int32Array;
  /** slot -> page (1024 big-endian words); store[0] is the zero page. */
  readonly store: Int32Array[] = [ZERO_PAGE];
  /** PAGE_WRITABLE | PAGE_TRACKED per page. */
  readonly flags: Uint8Array;
  /** slot -> page index (slot 0 unused): the pages that are not the zero page. */
  private readonly mapped: number[] = [-1];
  /** Pages written since the last root. */
  private dirty: number[] = [];
  /** levels[k]: node index -> 8 words, for k = 0 (page roots) .. 20 (root); absent = zero. */
  private readonly levels: Map<number, Int32Array>[] = [];
  private readonly rootCache: PageRootCache;

  /**
   * Most pages this memory may hold (pages written at least once; the zero page not counted). A write that needs
   * one more throws `VmMemoryLimitError` before changing anything. Default: no cap (the whole 4 GiB space).
   */
  maxPages = Number.POSITIVE_INFINITY;

  constructor(rootCache: PageRootCache = new WeakMap()) {
    this.slots = new Int32Array(PAGE_COUNT);
    this.flags = new Uint8Array(PAGE_COUNT);
    for (let k = 0; k <= UPPER_LEVELS; k++) this.levels.push(new Map());
    this.rootCache = rootCache;
  }

  /** Number of pages that hold data (not the shared zero page). */
  get pageCount(): number {
    return this.mapped.length - 1;
  }

  /** The page object holding page index `pi` (the zero page if never written). */
  page(pi: number): Int32Array {
    return this.store[this.slots[pi]!]!;
  }

  /** The word at a word-aligned address, unsigned. */
  readMem(addr: number): number {
    return this.store[this.slots[addr >>> PAGE_SHIFT]!]![(addr >>> 2) & (PAGE_WORDS - 1)]! >>> 0;
  }

  /** Stores a word at a word-aligned address. */
  writeMem(addr: number, value: number): void {
    const pi = addr >>> PAGE_SHIFT;
    if (this.flags[pi] !== PAGE_READY) this.prepareWrite(pi);
    this.store[this.slots[pi]!]![(addr >>> 2) & (PAGE_WORDS - 1)] = value | 0;
  }

  /**
   * Stores a word like `writeMem` and, when its page is clean (hashed since its last write), keeps
   * the hashes current along the leaf's path: 7 nodes in the page's cached subtree and the 20 above,
   * instead of leaving the next root to rehash the whole page (127 + 20). For proof mode, which
   * wants the root after every step; the page stays clean, so a later plain `writeMem` still goes
   * through `prepareWrite` and drops the subtree.
   */
  writeMemHashed(addr: number, value: number): void {
    const pi = addr >>> PAGE_SHIFT;
    const f = this.flags[pi]!;
    const old = this.page(pi);
    const cached = (f & PAGE_TRACKED) === 0 && old !== ZERO_PAGE ? this.rootCache.get(old) : undefined;
    if (cached === undefined) {
      this.writeMem(addr, value);
      return;
    }
    let page = old;
    let tree = cached;
    if ((f & PAGE_WRITABLE) === 0) {
      // Copy on write: the snapshot keeps `old` and its subtree.
      page = old.slice();
      tree = cached.slice();
      this.store[this.slots[pi]!] = page;
      this.flags[pi] = f | PAGE_WRITABLE;
      this.rootCache.set(page, tree);
    }
    page[(addr >>> 2) & (PAGE_WORDS - 1)] = value | 0;
    const leaf = (addr >>> 5) & 127;
    hashPair(tree, 8 * (leaf >>> 1), page, 16 * (leaf >>> 1), page, 16 * (leaf >>> 1) + 8);
    for (let h = 2; h <= PAGE_HEIGHT; h++) {
      const i = leaf >>> h;
      const below = PAGE_LEVEL_OFFSET[h - 1]! + 16 * i;
      hashPair(tree, PAGE_LEVEL_OFFSET[h]! + 8 * i, tree, below, tree, below + 8);
    }
    this.levels[0]!.set(pi, tree.subarray(PAGE_ROOT_OFFSET, PAGE_ROOT_OFFSET + 8));
    // Ancestors shared with pages still dirty are recomputed again by the next root, from these.
    for (let k = 1; k <= UPPER_LEVELS; k++) this.hashUpper(k, pi >>> k);
  }

  /** Recomputes node `p` of upper level `k` (1..20) from its two children at level k - 1 (absent = zero). */
  private hashUpper(k: number, p: number): void {
    const below = this.levels[k - 1]!;
    const l = below.get(2 * p);
    const r = below.get(2 * p + 1);
    const zeroBelow = 8 * (PAGE_HEIGHT + k - 1);
    const node = new Int32Array(8);
    hashPair(node, 0, l ?? ZERO_HASHES, l ? 0 : zeroBelow, r ?? ZERO_HASHES, r ? 0 : zeroBelow);
    this.levels[k]!.set(p, node);
  }

  /** Makes page `pi` writable in place and records it as dirty. The interpreter's slow path. */
  prepareWrite(pi: number): void {
    let f = this.flags[pi]!;
    if ((f & PAGE_WRITABLE) === 0) {
      const slot = this.slots[pi]!;
      if (slot === 0) {
        if (this.mapped.length - 1 >= this.maxPages) throw new VmMemoryLimitError(pi, this.maxPages);
        this.slots[pi] = this.store.length;
        this.store.push(new Int32Array(PAGE_WORDS));
        this.mapped.push(pi);
      } else {
        this.store[slot] = this.store[slot]!.slice();
      }
      f |= PAGE_WRITABLE;
    } else {
      // Written in place: a cached root of this object is about to go stale.
      this.rootCache.delete(this.page(pi));
    }
    if ((f & PAGE_TRACKED) === 0) {
      this.dirty.push(pi);
      f |= PAGE_TRACKED;
    }
    this.flags[pi] = f;
  }

  /**
   * Makes page `pi` copy-on-write, as a snapshot does: its current page object is never written
   * again (the next store to the page copies it into a new object). The block translator (jit.ts)
   * freezes every page it translates code from, so a translated block is valid exactly while its
   * page object is the one in the page table.
   */
  freezePage(pi: number): void {
    this.flags[pi] = this.flags[pi]! & ~PAGE_WRITABLE;
  }

  /** Copies bytes into memory (the loader). */
  setBytes(addr: number, bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      const a = (addr + i) >>> 0;
      const word = a & ~3;
      const shift = 24 - 8 * (a & 3);
      const old = this.readMem(word);
      this.writeMem(word, (old & ~(0xff << shift)) | (bytes[i]! << shift));
      i++;
    }
  }

  /** Reads bytes (wrapping around the address space). */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = (addr + i) >>> 0;
      out[i] = (this.readMem(a & ~3) >>> (24 - 8 * (a & 3))) & 0xff;
    }
    return out;
  }

  private pageTree(page: Int32Array): Int32Array {
    let tree = this.rootCache.get(page);
    if (tree === undefined) {
      tree = hashPage(page);
      this.rootCache.set(page, tree);
    }
    return tree;
  }

  private pageRoot(page: Int32Array): Int32Array {
    if (page === ZERO_PAGE) return ZERO_HASHES.subarray(8 * PAGE_HEIGHT, 8 * PAGE_HEIGHT + 8);
    return this.pageTree(page).subarray(PAGE_ROOT_OFFSET, PAGE_ROOT_OFFSET + 8);
  }

  /** The memory root as 8 words. Rehashes only what changed since the previous call. */
  rootWords(): Int32Array {
    if (this.dirty.length > 0) {
      let indices = this.dirty;
      this.dirty = [];
      for (const pi of indices) {
        this.flags[pi] = this.flags[pi]! & ~PAGE_TRACKED;
        this.levels[0]!.set(pi, this.pageRoot(this.page(pi)));
      }
      for (let k = 1; k <= UPPER_LEVELS; k++) {
        const parents: number[] = [];
        for (const i of indices) {
          const p = i >>> 1;
          if (parents.length > 0 && parents[parents.length - 1] === p) continue;
          parents.push(p);
        }
        const unique = k === 1 ? uniqueSorted(parents) : parents;
        for (const p of unique) this.hashUpper(k, p);
        indices = unique;
      }
    }
    return this.levels[UPPER_LEVELS]!.get(0) ?? ZERO_HASHES.subarray(8 * MEMORY_DEPTH);
  }

  /** The memory root (§4.2). */
  root(): Uint8Array {
    return wordsToBytes(this.rootWords(), 0, 8);
  }

  /** The 896-byte proof of the leaf holding `addr`, against `root()`. */
  merkleProof(addr: number): Uint8Array {
    this.rootWords();
    const out = new Int32Array(8 * (MEMORY_DEPTH + 1));
    const pi = addr >>> PAGE_SHIFT;
    const page = this.page(pi);
    const leaf = (addr >>> 5) & 127;
    out.set(page.subarray(8 * leaf, 8 * leaf + 8), 0);
    // siblings inside the page: height 0 is the sibling leaf, then the page subtree
    out.set(page.subarray(8 * (leaf ^ 1), 8 * (leaf ^ 1) + 8), 8);
    const tree = page === ZERO_PAGE ? undefined : this.pageTree(page);
    for (let h = 1; h < PAGE_HEIGHT; h++) {
      const sib = (leaf >>> h) ^ 1;
      const off = PAGE_LEVEL_OFFSET[h]! + 8 * sib;
      out.set(tree === undefined ? ZERO_HASHES.subarray(8 * h, 8 * h + 8) : tree.subarray(off, off + 8), 8 * (h + 1));
    }
    for (let k = 0; k < UPPER_LEVELS; k++) {
      const sib = (pi >>> k) ^ 1;
      const node = this.levels[k]!.get(sib);
      const h = PAGE_HEIGHT + k;
      out.set(node ?? ZERO_HASHES.subarray(8 * h, 8 * h + 8), 8 * (h + 1));
    }
    return wordsToBytes(out);
  }

  /**
   * Freezes the current pages: from now on this Memory copies a page before writing it, so the
   * snapshot's page objects never change. O(mapped pages).
   */
  snapshot(): MemorySnapshot {
    const indices = Int32Array.from(this.mapped.slice(1));
    const pages = this.store.slice(1);
    for (const pi of indices) this.flags[pi] = this.flags[pi]! & ~PAGE_WRITABLE;
    return { indices, pages, rootCache: this.rootCache };
  }

  /** A new Memory holding a snapshot's pages (copy on write; page roots shared via the cache). */
  static fromSnapshot(snap: MemorySnapshot): Memory {
    const m = new Memory(snap.rootCache);
    for (let i = 0; i < snap.indices.length; i++) {
      const pi = snap.indices[i]!;
      m.slots[pi] = m.store.length;
      m.store.push(snap.pages[i]!);
      m.mapped.push(pi);
      m.flags[pi] = PAGE_TRACKED;
      m.dirty.push(pi);
    }
    m.dirty.sort((a, b) => a - b);
    return m;
  }
}

function uniqueSorted(xs: number[]): number[] {
  xs.sort((a, b) => a - b);
  const out: number[] = [];
  for (const x of xs) if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  return out;
}

/** The root a proof opens to for the leaf holding `addr` (§4.2). `proof` holds 896 bytes at `offset`. */
export function rootFromProof(proof: Uint8Array, addr: number, offset = 0): Uint8Array {
  const words = bytesToWords(proof, offset, 8 * (MEMORY_DEPTH + 1));
  const node = words.slice(0, 8);
  const leafIndex = addr >>> 5;
  for (let h = 0; h < MEMORY_DEPTH; h++) {
    if (((leafIndex >>> h) & 1) === 0) hashPair(node, 0, node, 0, words, 8 * (h + 1));
    else hashPair(node, 0, words, 8 * (h + 1), node, 0);
  }
  return wordsToBytes(node);
}

/** The word at `addr` (word-aligned) inside a proof's leaf. */
export function wordFromProof(proof: Uint8Array, addr: number, offset = 0): number {
  const p = offset + (addr & 28);
  return ((proof[p]! << 24) | (proof[p + 1]! << 16) | (proof[p + 2]! << 8) | proof[p + 3]!) >>> 0;
}

/** A copy of the proof with the word at `addr` replaced (its siblings stay valid). */
export function proofWithWord(proof: Uint8Array, addr: number, value: number, offset = 0): Uint8Array {
  const out = proof.slice(offset, offset + MEMORY_PROOF_SIZE);
  const p = addr & 28;
  out[p] = value >>> 24;
  out[p + 1] = (value >>> 16) & 0xff;
  out[p + 2] = (value >>> 8) & 0xff;
  out[p + 3] = value & 0xff;
  return out;
}

/** Checks that a proof opens to `memRoot`; fails like `MIPS.step` otherwise. */
export function checkProof(memRoot: Uint8Array, proof: Uint8Array, addr: number, offset = 0): void {
  const root = rootFromProof(proof, addr, offset);
  for (let i = 0; i < 32; i++) {
    if (root[i] !== memRoot[i]) {
      throw new VmStepError("InvalidMemoryProof", [addr], `proof for 0x${(addr >>> 0).toString(16)} does not open to memRoot`);
    }
  }
}

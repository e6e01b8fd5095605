import { describe, expect, it } from "vitest";
import { toHex } from "./hex.ts";
import { keccak256 } from "./keccak.ts";
import { MEMORY_PROOF_SIZE, Memory, rootFromProof, wordFromProof, zeroHash } from "./memory.ts";
import { Rng } from "./test-helpers.ts";
import { VmMemoryLimitError } from "./errors.ts";

/** The root of a memory recomputed naively from its words (independent of the caches). */
function naiveRoot(words: Map<number, number>): string {
  // leaves: 32-byte chunks that contain a nonzero word
  let level = new Map<number, Uint8Array>();
  for (const [addr, v] of words) {
    const leaf = addr >>> 5;
    const bytes = level.get(leaf) ?? new Uint8Array(32);
    new DataView(bytes.buffer).setUint32(addr & 28, v);
    level.set(leaf, bytes);
  }
  for (let h = 0; h < 27; h++) {
    const next = new Map<number, Uint8Array>();
    for (const i of level.keys()) {
      const p = i >>> 1;
      if (next.has(p)) continue;
      const l = level.get(2 * p) ?? zeroHash(h);
      const r = level.get(2 * p + 1) ?? zeroHash(h);
      const both = new Uint8Array(64);
      both.set(l, 0);
      both.set(r, 32);
      next.set(p, keccak256(both));
    }
    level = next;
  }
  return toHex(level.get(0) ?? zeroHash(27));
}

describe("memory (§4.2)", () => {
  it("starts at zero[27] and zero hashes chain", () => {
    const m = new Memory();
    expect(toHex(m.root())).toBe(toHex(zeroHash(27)));
    const two = new Uint8Array(64);
    two.set(zeroHash(5), 0);
    two.set(zeroHash(5), 32);
    expect(toHex(keccak256(two))).toBe(toHex(zeroHash(6)));
  });

  it("matches a naive tree through writes, roots, snapshots and restores; proofs open to the root", () => {
    const rng = new Rng(1234);
    const m = new Memory();
    const words = new Map<number, number>();
    const snapshots: { snap: ReturnType<Memory["snapshot"]>; root: string; words: Map<number, number> }[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 40; i++) {
        // a few hot pages plus scattered addresses, including the very top and bottom
        const addr = (rng.pick([0x00400000, 0x7fffe000, 0xfffff000, 0, 0x20000000]) + (rng.below(2048) << 2) + (rng.below(3) === 0 ? rng.next() & ~3 : 0)) >>> 0;
        const v = rng.below(4) === 0 ? 0 : rng.next();
        m.writeMem(addr, v);
        if (v === 0) words.delete(addr);
        else words.set(addr, v);
      }
      const root = toHex(m.root());
      expect(root).toBe(naiveRoot(words));
      for (const addr of [...words.keys()].slice(0, 10)) {
        const proof = m.merkleProof(addr);
        expect(proof.length).toBe(MEMORY_PROOF_SIZE);
        expect(toHex(rootFromProof(proof, addr))).toBe(root);
        expect(wordFromProof(proof, addr)).toBe(words.get(addr));
      }
      const unmapped = 0x55555550;
      expect(toHex(rootFromProof(m.merkleProof(unmapped), unmapped))).toBe(root);
      snapshots.push({ snap: m.snapshot(), root, words: new Map(words) });
    }
    // Snapshots are frozen: restoring each gives its root, and writing to a restored copy
    // changes neither the snapshot nor the live memory.
    const liveRoot = toHex(m.root());
    for (const s of snapshots) {
      const restored = Memory.fromSnapshot(s.snap);
      expect(toHex(restored.root())).toBe(s.root);
      restored.writeMem(0x00400000, 0xdead);
      expect(toHex(restored.root())).not.toBe(s.root);
      expect(toHex(Memory.fromSnapshot(s.snap).root())).toBe(s.root);
    }
    expect(toHex(m.root())).toBe(liveRoot);
  });

  it("writeMemHashed keeps the same roots as writeMem, mixed with plain writes, proofs and snapshots", () => {
    const rng = new Rng(99);
    const m = new Memory();
    const plain = new Memory();
    const words = new Map<number, number>();
    const snapshots: { snap: ReturnType<Memory["snapshot"]>; root: string }[] = [];
    for (let round = 0; round < 300; round++) {
      const addr = (rng.pick([0x00400000, 0x7fffe000, 0x20000000, 0]) + (rng.below(3000) << 2)) >>> 0;
      const v = rng.below(5) === 0 ? 0 : rng.next();
      // As in proof mode: a proof of the leaf (which hashes its page), then the store. Sometimes a
      // plain write first, so that the page is dirty and writeMemHashed must fall back.
      if (rng.below(4) === 0) {
        const other = (addr ^ 0x40) >>> 0;
        m.writeMem(other, round);
        plain.writeMem(other, round);
        words.set(other, round);
      }
      if (rng.below(3) !== 0) m.merkleProof(addr);
      m.writeMemHashed(addr, v);
      plain.writeMem(addr, v);
      if (v === 0) words.delete(addr);
      else words.set(addr, v);
      if (round % 7 === 0) {
        const root = toHex(m.root());
        expect(root).toBe(toHex(plain.root()));
        const proof = m.merkleProof(addr);
        expect(toHex(rootFromProof(proof, addr))).toBe(root);
        expect(wordFromProof(proof, addr)).toBe(v >>> 0);
      }
      if (round % 50 === 0) snapshots.push({ snap: m.snapshot(), root: toHex(m.root()) });
    }
    expect(toHex(m.root())).toBe(naiveRoot(words));
    for (const s of snapshots) expect(toHex(Memory.fromSnapshot(s.snap).root())).toBe(s.root);
  });

  it("maxPages: a write that needs one page more throws VmMemoryLimitError and changes nothing; written pages stay writable", () => {
    const m = new Memory();
    m.maxPages = 2;
    m.writeMem(0x1000, 1);
    m.writeMem(0x2000, 2);
    const root = toHex(m.root());
    expect(() => m.writeMem(0x3004, 3)).toThrow(VmMemoryLimitError);
    expect(() => m.writeMem(0x3004, 3)).toThrow("memory cap reached: writing page 0x00003 (address 0x00003000) needs a page beyond the cap of 2 pages of 4 KiB (8 KiB)");
    expect(m.pageCount).toBe(2);
    expect(m.readMem(0x3004)).toBe(0);
    expect(toHex(m.root())).toBe(root);
    m.writeMem(0x1ffc, 9); // pages it holds: no new page
    m.snapshot();
    m.writeMem(0x2004, 8); // copy on write of a snapshot's page: no new page either
    expect(m.readMem(0x2004)).toBe(8);
    expect(m.pageCount).toBe(2);
  });

  it("reads and writes bytes across words and pages", () => {
    const m = new Memory();
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    m.setBytes(0x00400ffd, bytes);
    expect(m.readBytes(0x00400ffd, 5000)).toEqual(bytes);
    expect(m.readMem(0x00400ffc) >>> 24).toBe(0);
  });
});

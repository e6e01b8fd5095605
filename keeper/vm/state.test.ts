import { describe, expect, it } from "vitest";
import { VmStepError } from "./errors.ts";
import { keccak256 } from "./keccak.ts";
import { STATE_SIZE, type VmState, VmStatus, decodeState, encodeState, stateHash, statusOfHash, vmStatus } from "./state.ts";
import { toHex } from "./hex.ts";
import { verifyStep } from "./step.ts";
import { craftMachine } from "./test-helpers.ts";

function sample(): VmState {
  return {
    memRoot: new Uint8Array(32).fill(0xaa),
    preimageKey: new Uint8Array(32).fill(0xbb),
    preimageOffset: 0x01020304,
    pc: 0x00400000,
    nextPC: 0x00400004,
    lo: 0xffffffff,
    hi: 0x80000000,
    heap: 0x20000000,
    exitCode: 7,
    exited: true,
    step: 0x0102030405060708n,
    registers: Uint32Array.from({ length: 32 }, (_, i) => (i === 0 ? 0 : 0x11111111 * (i % 15))),
  };
}

describe("packed state (§4.1)", () => {
  it("has the documented layout", () => {
    const packed = encodeState(sample());
    expect(packed.length).toBe(STATE_SIZE);
    expect(packed[0]).toBe(0xaa);
    expect(packed[32]).toBe(0xbb);
    expect(Array.from(packed.subarray(64, 68))).toEqual([1, 2, 3, 4]);
    expect(Array.from(packed.subarray(68, 72))).toEqual([0, 0x40, 0, 0]);
    expect(Array.from(packed.subarray(84, 88))).toEqual([0x20, 0, 0, 0]);
    expect(packed[88]).toBe(7);
    expect(packed[89]).toBe(1);
    expect(Array.from(packed.subarray(90, 98))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(packed.subarray(102, 106))).toEqual([0x11, 0x11, 0x11, 0x11]);
  });

  it("round-trips", () => {
    const s = sample();
    expect(decodeState(encodeState(s))).toEqual(s);
  });

  it("refuses malformed states like MIPS.step", () => {
    expect(() => decodeState(new Uint8Array(225))).toThrow(VmStepError);
    const packed = encodeState(sample());
    packed[89] = 2;
    expect(() => decodeState(packed)).toThrow(/InvalidState/);
  });

  it("refuses registers[0] != 0 like MIPS.step, exited or not (regression: it was accepted)", () => {
    for (const exited of [false, true]) {
      const packed = encodeState({ ...sample(), exited });
      packed[101] = 1; // the low byte of registers[0]
      expect(() => decodeState(packed)).toThrow(/InvalidState/);
      // verifyStep decodes first: the chain's InvalidState, before any proof is looked at.
      expect(() => verifyStep(packed, new Uint8Array(0))).toThrow(/InvalidState/);
    }
  });

  it("wraps the step counter modulo 2^64 in verifyStep, as MIPS.step does", () => {
    const m = craftMachine({ code: [0] }); // nop
    const packed = m.encodeState();
    new DataView(packed.buffer).setBigUint64(90, 0xffffffffffffffffn);
    const proof = m.memory.merkleProof(m.pc);
    const post = decodeState(encodeState({ ...decodeState(packed), pc: m.nextPC, nextPC: m.nextPC + 4, step: 0n }));
    expect(verifyStep(packed, proof)).toBe(stateHash(encodeState(post)));
  });

  it("puts the status in the top byte of the hash", () => {
    const s = sample();
    const cases: [boolean, number, VmStatus][] = [
      [true, 0, VmStatus.VALID],
      [true, 1, VmStatus.INVALID],
      [true, 2, VmStatus.PANIC],
      [true, 255, VmStatus.PANIC],
      [false, 0, VmStatus.UNFINISHED],
      [false, 1, VmStatus.UNFINISHED],
    ];
    for (const [exited, exitCode, status] of cases) {
      expect(vmStatus(exited, exitCode)).toBe(status);
      const packed = encodeState({ ...s, exited, exitCode });
      const h = stateHash(packed);
      expect(statusOfHash(h)).toBe(status);
      expect(h.slice(4)).toBe(toHex(keccak256(packed)).slice(4));
    }
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { type Hex, concat, hexToBytes, slice, toFunctionSelector, toHex } from "viem";
import { verifyStep } from "../../keeper/vm/index.ts";
import { type VmChain, deployVm } from "./harness.ts";
import { CONTEXT, buildCase, exitedCase, handCases } from "./cases.ts";
import { SparseMemory, baseState, enc, packState } from "./witness.ts";

/**
 * MIPS.step against hand-made witnesses encoded in TypeScript from the spec: checks the packed state,
 * its status hash, memory proofs and preimage loading as the keeper will produce them.
 */
describe("MIPS.step on hand-made witnesses", () => {
  let vm: VmChain;
  beforeAll(async () => {
    vm = await deployVm();
  });

  it("returns the expected post-state hash for every instruction class", async () => {
    const cases = [...Object.values(handCases).map(buildCase), exitedCase()];
    expect(await vm.checkCases(cases)).toEqual([]);
  });

  it("tags the hash with the status byte", async () => {
    const post = await vm.callStep(buildCase(handCases.exit!));
    expect(post.slice(0, 4)).toBe("0x01"); // exited with code 1: INVALID
    expect((await vm.callStep(buildCase(handCases.alu!))).slice(0, 4)).toBe("0x03");
  });

  it("reads local data only for the game that loaded it", async () => {
    const c = buildCase(handCases.localRead!);
    await vm.loadPreimage(c);
    expect(await vm.callStep(c)).toBe(c.postStateHash);
    // The oracle's PreimageNotLoaded bubbles up through MIPS (whose ABI does not declare it).
    const notLoaded = new RegExp(toFunctionSelector("PreimageNotLoaded(bytes32,uint256)"));
    await expect(vm.callStep(c, vm.other.account.address)).rejects.toThrow(notLoaded);
    await expect(vm.callStep({ ...c, localContext: `0x${"01".repeat(32)}` })).rejects.toThrow(notLoaded);
  });

  it("regressions of the random differential test, on both sides", async () => {
    // A lone swr into the second word of a leaf: word 0 must stay as it was (MIPS.step or-ed
    // (rt << 8) >> 32 into it). keeper/vm was right; both must give the hand-stated post-state.
    const swr = buildCase({
      label: "swr into word 1 of a leaf",
      insn: enc.i(0x2e, 8, 9, 6),
      dataAddr: 0x2006,
      setup: (st, mem) => {
        st.registers[8] = 0x2000;
        st.registers[9] = 0xaabbccdd;
        mem.writeWord(0x2000, 0x01020304).writeWord(0x2004, 0x11223344).writeWord(0x2008, 0x55667788);
      },
      expect: (_e, mem) => {
        mem.writeWord(0x2004, 0xbbccdd44);
      },
    });
    expect(await vm.callStep(swr)).toBe(swr.postStateHash);
    expect(verifyStep(hexToBytes(swr.preState), hexToBytes(swr.proof))).toBe(swr.postStateHash);

    // Encodings both sides must refuse with InvalidInstruction: ext past bit 31 (keeper/vm read
    // zeros), REGIMM rt 2 in a delay slot (keeper/vm said JumpInDelaySlot), rotr and rotrv (both
    // ran them as srl/srlv).
    const invalid: [string, number, number?][] = [
      ["ext pos 28 size 8", enc.r(8, 9, 7, 28, 0) | (0x1f << 26)],
      ["REGIMM rt 2 in a delay slot", enc.i(0x01, 8, 2, 4), 0x4000],
      ["rotr", enc.r(1, 9, 10, 4, 0x02)],
      ["rotrv", enc.r(8, 9, 10, 1, 0x06)],
    ];
    for (const [label, insn, nextPC] of invalid) {
      const c = buildCase({ label, insn: insn >>> 0, setup: (st) => void (nextPC !== undefined && (st.nextPC = nextPC)), expect: () => {} });
      await expect(vm.callStep(c), label).rejects.toThrow(/InvalidInstruction/);
      expect(() => verifyStep(hexToBytes(c.preState), hexToBytes(c.proof)), label).toThrow(/InvalidInstruction/);
    }

    // registers[0] != 0: InvalidState on both sides (verifyStep accepted it).
    const alu = buildCase(handCases.alu!);
    const r0 = hexToBytes(alu.preState);
    r0[101] = 1;
    await expect(vm.callStep({ ...alu, preState: toHex(r0) })).rejects.toThrow(/InvalidState/);
    expect(() => verifyStep(r0, hexToBytes(alu.proof))).toThrow(/InvalidState/);
  });

  it("reverts with the spec's custom errors", async () => {
    const alu = buildCase(handCases.alu!);
    const tampered = concat([slice(alu.proof, 0, 100), "0xff", slice(alu.proof, 101)]);
    await expect(vm.callStep({ ...alu, proof: tampered })).rejects.toThrow(/InvalidMemoryProof/);
    await expect(vm.callStep({ ...alu, proof: slice(alu.proof, 0, 895) })).rejects.toThrow(/InvalidProofLength/);
    const load = buildCase(handCases.load!);
    await expect(vm.callStep({ ...load, proof: slice(load.proof, 0, 896) })).rejects.toThrow(/InvalidProofLength/);
    await expect(vm.callStep({ ...alu, preState: slice(alu.preState, 0, 225) })).rejects.toThrow(/InvalidState/);

    const mem = new SparseMemory();
    const s = baseState();
    mem.writeWord(s.pc, 0x0000000d); // break
    s.memRoot = mem.root();
    const bad = { label: "break", preState: packState(s), proof: mem.proof(s.pc), localContext: CONTEXT, postStateHash: "0x" as Hex };
    await expect(vm.callStep(bad)).rejects.toThrow(/InvalidInstruction/);

    mem.writeWord(s.pc, enc.syscall);
    s.registers[2] = 4020;
    s.memRoot = mem.root();
    await expect(vm.callStep({ ...bad, preState: packState(s), proof: mem.proof(s.pc) })).rejects.toThrow(/InvalidSyscall/);

    mem.writeWord(s.pc, enc.i(0x23, 8, 9, 2)); // lw at an unaligned address
    s.registers[8] = 0x2000;
    s.memRoot = mem.root();
    const proof = concat([mem.proof(s.pc), mem.proof(0x2000)]);
    await expect(vm.callStep({ ...bad, preState: packState(s), proof })).rejects.toThrow(/UnalignedAccess/);
  });
});

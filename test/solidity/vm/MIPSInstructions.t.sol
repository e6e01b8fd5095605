// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MIPSTestBase } from "./MIPSTestBase.sol";
import { MIPSState } from "../../../contracts/vm/lib/MIPSState.sol";
import {
    DivisionByZero,
    InvalidInstruction,
    InvalidMemoryProof,
    InvalidProofLength,
    JumpInDelaySlot,
    Trap,
    UnalignedAccess
} from "../../../contracts/vm/lib/MIPSErrors.sol";

/// @notice Per-instruction tests of MIPS.step from hand-made states and proofs (docs/protocol.md §4.4),
///         fuzzed against references computed here.
contract MIPSInstructionsTest is MIPSTestBase {
    uint32 internal constant RS = 8;
    uint32 internal constant RT = 9;
    uint32 internal constant RD = 10;
    uint32 internal constant DATA = 0x00002000;

    // ------------------------------------------------------------ helpers

    /// @notice Runs `insn` with rs = r8, rt = r9 preset, expects `dest` = `expected` and nothing else.
    function checkAlu(uint32 insn, uint32 rsVal, uint32 rtVal, uint32 dest, uint32 expected) internal {
        MIPSState.State memory s = newState();
        s.registers[RS] = rsVal;
        s.registers[RT] = rtVal;
        bytes memory proof = prepare(s, insn, false, 0);
        MIPSState.State memory e = advanced(s);
        if (dest != 0) e.registers[dest] = expected;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function r(uint32 fun) internal pure returns (uint32) {
        return rType(RS, RT, RD, 0, fun);
    }

    function shiftImm(uint32 sa, uint32 fun) internal pure returns (uint32) {
        return rType(0, RT, RD, sa, fun);
    }

    function imm(uint32 opcode, uint16 value) internal pure returns (uint32) {
        return iType(opcode, RS, RT, value);
    }

    function sext16(uint16 v) internal pure returns (uint32) {
        return uint32(uint256(int256(int16(v))));
    }

    // ------------------------------------------------------------ ALU table

    function test_step_rTypeAlu() public {
        checkAlu(r(0x21), 7, 5, RD, 12); // addu
        checkAlu(r(0x20), 0x7fffffff, 1, RD, 0x80000000); // add: no overflow trap
        checkAlu(r(0x23), 5, 7, RD, 0xfffffffe); // subu
        checkAlu(r(0x22), 0x80000000, 1, RD, 0x7fffffff); // sub: no overflow trap
        checkAlu(r(0x24), 0xff00ff00, 0x0ff00ff0, RD, 0x0f000f00); // and
        checkAlu(r(0x25), 0xff00ff00, 0x0ff00ff0, RD, 0xfff0fff0); // or
        checkAlu(r(0x26), 0xff00ff00, 0x0ff00ff0, RD, 0xf0f0f0f0); // xor
        checkAlu(r(0x27), 0xff00ff00, 0x0ff00ff0, RD, 0x000f000f); // nor
        checkAlu(r(0x2a), 0xffffffff, 1, RD, 1); // slt: -1 < 1
        checkAlu(r(0x2b), 0xffffffff, 1, RD, 0); // sltu
        checkAlu(shiftImm(4, 0x00), 0, 0x80000001, RD, 0x00000010); // sll
        checkAlu(shiftImm(4, 0x02), 0, 0x80000001, RD, 0x08000000); // srl
        checkAlu(shiftImm(4, 0x03), 0, 0x80000001, RD, 0xf8000000); // sra
        checkAlu(r(0x04), 36, 0x80000001, RD, 0x00000010); // sllv uses rs & 31
        checkAlu(r(0x06), 36, 0x80000001, RD, 0x08000000); // srlv
        checkAlu(r(0x07), 36, 0x80000001, RD, 0xf8000000); // srav
        checkAlu(0, 0, 0, 0, 0); // nop (sll r0, r0, 0)
        checkAlu(rType(RS, RT, 0, 0, 0x21), 1, 2, 0, 0); // write to r0 discarded
    }

    function test_step_iTypeAlu() public {
        checkAlu(imm(0x09, 0xffff), 5, 0, RT, 4); // addiu -1
        checkAlu(imm(0x08, 0x0001), 0x7fffffff, 0, RT, 0x80000000); // addi: no trap
        checkAlu(imm(0x0a, 0xffff), 0xfffffffe, 0, RT, 1); // slti: -2 < -1
        checkAlu(imm(0x0b, 0xffff), 5, 0, RT, 1); // sltiu: 5 < 0xffffffff
        checkAlu(imm(0x0c, 0xffff), 0x12345678, 0, RT, 0x5678); // andi zero-extends
        checkAlu(imm(0x0d, 0x8000), 0x12340000, 0, RT, 0x12348000); // ori zero-extends
        checkAlu(imm(0x0e, 0xffff), 0x1234ffff, 0, RT, 0x12340000); // xori
        checkAlu(imm(0x0f, 0xbeef), 0, 0, RT, 0xbeef0000); // lui
    }

    function test_step_special2And3() public {
        checkAlu(special2(RS, RT, RD, 0x02), 0xfffffffd, 7, RD, 0xffffffeb); // mul -3 * 7
        checkAlu(special2(RS, RT, RD, 0x20), 0x00010000, 0, RD, 15); // clz
        checkAlu(special2(RS, RT, RD, 0x20), 0, 0, RD, 32); // clz 0
        checkAlu(special2(RS, RT, RD, 0x21), 0xfff00000, 0, RD, 12); // clo
        checkAlu(special2(RS, RT, RD, 0x21), 0xffffffff, 0, RD, 32); // clo all ones
        checkAlu(special3(0, RT, RD, 0x10, 0x20), 0, 0x12345680, RD, 0xffffff80); // seb
        checkAlu(special3(0, RT, RD, 0x18, 0x20), 0, 0x12348000, RD, 0xffff8000); // seh
        checkAlu(special3(0, RT, RD, 0x02, 0x20), 0, 0x11223344, RD, 0x22114433); // wsbh
        checkAlu(special3(RS, RT, 7, 4, 0x00), 0xdeadbeef, 0, RT, 0xee); // ext pos 4 size 8
        checkAlu(special3(RS, RT, 31, 0, 0x00), 0xdeadbeef, 0, RT, 0xdeadbeef); // ext whole word
        checkAlu(special3(RS, RT, 15, 8, 0x04), 0x000000ab, 0x11223344, RT, 0x1122ab44); // ins lsb 8 msb 15
        checkAlu(special3(RS, RT, 31, 0, 0x04), 0xcafebabe, 0x11223344, RT, 0xcafebabe); // ins whole word
    }

    function test_step_movzMovn() public {
        checkAlu(r(0x0a), 42, 0, RD, 42); // movz taken
        checkAlu(r(0x0b), 42, 1, RD, 42); // movn taken
        // Not taken: rd keeps its value (0 here), pc still advances.
        checkAlu(r(0x0a), 42, 1, 0, 0);
        checkAlu(r(0x0b), 42, 0, 0, 0);
    }

    function test_step_syncPrefTeqTneNoTrap() public {
        checkAlu(0x0000000f, 0, 0, 0, 0); // sync
        checkAlu(iType(0x33, RS, 0, 0x10), 0, 0, 0, 0); // pref: no data access, no proof
        checkAlu(r(0x34), 1, 2, 0, 0); // teq, not equal
        checkAlu(r(0x36), 3, 3, 0, 0); // tne, equal
    }

    function test_step_revertsOnTrap() public {
        MIPSState.State memory s = newState();
        s.registers[RS] = 4;
        s.registers[RT] = 4;
        bytes memory proof = prepare(s, r(0x34), false, 0);
        vm.expectRevert(Trap.selector);
        runStep(s, proof);
        s.registers[RT] = 5;
        proof = prepare(s, r(0x36), false, 0);
        vm.expectRevert(Trap.selector);
        runStep(s, proof);
    }

    function test_step_revertsOnInvalidExtIns() public {
        uint32 badExt = special3(RS, RT, 7, 28, 0x00); // pos 28 + size 8 > 32
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, badExt, false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, badExt));
        runStep(s, proof);
        uint32 badIns = special3(RS, RT, 3, 4, 0x04); // msb 3 < lsb 4
        proof = prepare(s, badIns, false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, badIns));
        runStep(s, proof);
    }

    function test_step_revertsOnRotations() public {
        // MIPS32r2 rotr (srl with the R bit, rs = 1) and rotrv (srlv with sa = 1) are not implemented;
        // neither is srl with any other rs != 0 nor srlv with sa != 0 (§4.4).
        uint32[4] memory bad = [rType(1, RT, RD, 8, 0x02), rType(RS, RT, RD, 1, 0x06), rType(0x10, RT, RD, 0, 0x02), rType(RS, RT, RD, 0x11, 0x06)];
        for (uint256 i = 0; i < bad.length; i++) {
            MIPSState.State memory s = newState();
            bytes memory proof = prepare(s, bad[i], false, 0);
            vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, bad[i]));
            runStep(s, proof);
        }
        checkAlu(rType(0, RT, RD, 8, 0x02), 0, 0x80000000, RD, 0x00800000); // srl itself
        checkAlu(rType(RS, RT, RD, 0, 0x06), 8, 0x80000000, RD, 0x00800000); // srlv itself
    }

    function test_step_extAtTheTopBitIsValidOnePastIsNot() public {
        checkAlu(special3(RS, RT, 3, 28, 0x00), 0xf0000000, 0, RT, 0xf); // pos 28 + size 4 = 32
        uint32 bad = special3(RS, RT, 4, 28, 0x00); // pos 28 + size 5 = 33
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, bad, false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, bad));
        runStep(s, proof);
    }

    function test_step_invalidRegimmInADelaySlotIsInvalidInstruction() public {
        // Decoding comes before the delay-slot check (§4.4).
        uint32 bad = iType(0x01, RS, 0x02, 0x10); // REGIMM rt 2 (bltzl): no such branch here
        MIPSState.State memory s = newState();
        s.nextPC = 0x00400000;
        bytes memory proof = prepare(s, bad, false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, bad));
        runStep(s, proof);
    }

    function test_step_stepCounterWraps() public {
        MIPSState.State memory s = newState();
        s.step = type(uint64).max;
        bytes memory proof = prepare(s, 0, false, 0); // nop
        MIPSState.State memory e = advanced(s);
        assertEq(e.step, 0);
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_revertsOnInvalidInstruction() public {
        uint32[12] memory bad = [
            uint32(0x0000000d), // break
            0x00000001, // SPECIAL funct 1 (movci)
            0x00000014, // dsllv (MIPS64)
            rType(RS, RT, RD, 0, 0x30), // tge
            iType(0x01, RS, 0x08, 0), // tgei (REGIMM)
            iType(0x01, RS, 0x02, 0), // bltzl
            0x44000000, // COP1
            0x40000000, // COP0
            special2(RS, RT, RD, 0x03),
            special3(RS, RT, RD, 0x05, 0x20), // BSHFL with unknown sa
            0xdc000000, // opcode 0x37 (ld)
            0xbc000000 // opcode 0x2f (cache)
        ];
        for (uint256 i = 0; i < bad.length; i++) {
            MIPSState.State memory s = newState();
            bytes memory proof = prepare(s, bad[i], true, DATA);
            vm.expectRevert(abi.encodeWithSelector(InvalidInstruction.selector, bad[i]));
            runStep(s, proof);
        }
    }

    // ------------------------------------------------------------ hi/lo

    function checkHiLo(uint32 insn, uint32 rsVal, uint32 rtVal, uint32 hi0, uint32 lo0, uint32 hi1, uint32 lo1) internal {
        MIPSState.State memory s = newState();
        s.registers[RS] = rsVal;
        s.registers[RT] = rtVal;
        s.hi = hi0;
        s.lo = lo0;
        bytes memory proof = prepare(s, insn, false, 0);
        MIPSState.State memory e = advanced(s);
        e.hi = hi1;
        e.lo = lo1;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_hiLo() public {
        checkHiLo(r(0x18), 0xffffffff, 2, 0, 0, 0xffffffff, 0xfffffffe); // mult -1 * 2
        checkHiLo(r(0x19), 0xffffffff, 2, 0, 0, 1, 0xfffffffe); // multu
        checkHiLo(r(0x1a), 0xfffffff9, 2, 0, 0, 0xffffffff, 0xfffffffd); // div -7 / 2 = -3 rem -1
        checkHiLo(r(0x1a), 0x80000000, 0xffffffff, 0, 0, 0, 0x80000000); // div INT_MIN / -1
        checkHiLo(r(0x1b), 0xfffffff9, 2, 0, 0, 1, 0x7ffffffc); // divu
        checkHiLo(r(0x11), 0xabcd, 0, 1, 2, 0xabcd, 2); // mthi
        checkHiLo(r(0x13), 0xabcd, 0, 1, 2, 1, 0xabcd); // mtlo
        checkHiLo(special2(RS, RT, 0, 0x00), 0xffffffff, 3, 0, 1, 0xffffffff, 0xfffffffe); // madd 1 + -3
        checkHiLo(special2(RS, RT, 0, 0x01), 0xffffffff, 2, 0, 1, 1, 0xffffffff); // maddu
        checkHiLo(special2(RS, RT, 0, 0x04), 2, 3, 0, 1, 0xffffffff, 0xfffffffb); // msub 1 - 6
        checkHiLo(special2(RS, RT, 0, 0x05), 1, 1, 0, 0, 0xffffffff, 0xffffffff); // msubu 0 - 1 wraps
        checkHiLo(special2(RS, RT, 0, 0x02), 2, 3, 7, 8, 7, 8); // mul leaves hi/lo
    }

    function test_step_mfhiMflo() public {
        MIPSState.State memory s = newState();
        s.hi = 0x1111;
        s.lo = 0x2222;
        bytes memory proof = prepare(s, r(0x10), false, 0);
        MIPSState.State memory e = advanced(s);
        e.registers[RD] = 0x1111;
        assertEq(runStep(s, proof), hashOf(e));
        proof = prepare(s, r(0x12), false, 0);
        e = advanced(s);
        e.registers[RD] = 0x2222;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_revertsOnDivisionByZero() public {
        MIPSState.State memory s = newState();
        s.registers[RS] = 1;
        bytes memory proof = prepare(s, r(0x1a), false, 0);
        vm.expectRevert(DivisionByZero.selector);
        runStep(s, proof);
        proof = prepare(s, r(0x1b), false, 0);
        vm.expectRevert(DivisionByZero.selector);
        runStep(s, proof);
    }

    // ------------------------------------------------------------ branches and jumps

    function checkControl(
        uint32 insn,
        uint32 rsVal,
        uint32 rtVal,
        uint32 expectedNextPC,
        uint32 linkReg
    )
        internal
    {
        MIPSState.State memory s = newState();
        s.registers[RS] = rsVal;
        s.registers[RT] = rtVal;
        bytes memory proof = prepare(s, insn, false, 0);
        MIPSState.State memory e = copyState(s);
        e.pc = s.nextPC;
        e.nextPC = expectedNextPC;
        e.step = 1;
        if (linkReg != 0) e.registers[linkReg] = s.pc + 8;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_branches() public {
        uint32 fwd = START_PC + 4 + 0x40; // offset 0x10 words
        uint32 back = START_PC + 4 - 8; // offset -2 words
        uint32 fall = START_PC + 8;
        checkControl(iType(0x04, RS, RT, 0x10), 3, 3, fwd, 0); // beq taken
        checkControl(iType(0x04, RS, RT, 0x10), 3, 4, fall, 0); // beq not taken
        checkControl(iType(0x05, RS, RT, 0xfffe), 3, 4, back, 0); // bne taken, backwards
        checkControl(iType(0x05, RS, RT, 0xfffe), 3, 3, fall, 0);
        checkControl(iType(0x06, RS, 0, 0x10), 0, 0, fwd, 0); // blez 0
        checkControl(iType(0x06, RS, 0, 0x10), 1, 0, fall, 0);
        checkControl(iType(0x06, RS, 5, 0x10), 0x80000000, 0, fwd, 0); // blez ignores the rt field
        checkControl(iType(0x07, RS, 0, 0x10), 1, 0, fwd, 0); // bgtz
        checkControl(iType(0x07, RS, 0, 0x10), 0xffffffff, 0, fall, 0);
        checkControl(iType(0x01, RS, 0x00, 0x10), 0xffffffff, 0, fwd, 0); // bltz
        checkControl(iType(0x01, RS, 0x00, 0x10), 0, 0, fall, 0);
        checkControl(iType(0x01, RS, 0x01, 0x10), 0, 0, fwd, 0); // bgez
        checkControl(iType(0x01, RS, 0x01, 0x10), 0xffffffff, 0, fall, 0);
        checkControl(iType(0x01, RS, 0x10, 0x10), 0xffffffff, 0, fwd, 31); // bltzal taken
        checkControl(iType(0x01, RS, 0x10, 0x10), 1, 0, fall, 31); // bltzal links when not taken
        checkControl(iType(0x01, RS, 0x11, 0x10), 1, 0, fwd, 31); // bgezal
        checkControl(iType(0x01, RS, 0x11, 0x10), 0xffffffff, 0, fall, 31);
    }

    function test_step_jumps() public {
        uint32 target = 0x00400000;
        checkControl(jType(0x02, target >> 2), 0, 0, target, 0); // j
        checkControl(jType(0x03, target >> 2), 0, 0, target, 31); // jal
        checkControl(rType(RS, 0, 0, 0, 0x08), 0x12345678, 0, 0x12345678, 0); // jr (target unchecked)
        checkControl(rType(RS, 0, RD, 0, 0x09), 0x00500000, 0, 0x00500000, RD); // jalr rd
        checkControl(rType(RS, 0, 0, 0, 0x09), 0x00500000, 0, 0x00500000, 0); // jalr r0: no link
    }

    function test_step_jalrSameRegisterReadsBeforeLink() public {
        checkControl(rType(RS, 0, RS, 0, 0x09), 0x00600000, 0, 0x00600000, RS);
    }

    function test_step_jKeepsTopBitsOfDelaySlotAddress() public {
        MIPSState.State memory s = newState();
        s.pc = 0xfffffffc; // pc + 4 wraps to 0: region bits come from 0
        s.nextPC = 0;
        bytes memory proof = prepare(s, jType(0x02, 0x100), false, 0);
        MIPSState.State memory e = copyState(s);
        e.pc = 0;
        e.nextPC = 0x400;
        e.step = 1;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_revertsOnJumpInDelaySlot() public {
        uint32[4] memory insns = [
            jType(0x02, 0x100),
            rType(RS, 0, 0, 0, 0x08),
            iType(0x04, RS, RT, 0x10), // beq, taken or not
            iType(0x01, RS, 0x11, 0x10)
        ];
        for (uint256 i = 0; i < insns.length; i++) {
            MIPSState.State memory s = newState();
            s.nextPC = 0x00400000; // in a delay slot
            bytes memory proof = prepare(s, insns[i], false, 0);
            vm.expectRevert(JumpInDelaySlot.selector);
            runStep(s, proof);
        }
    }

    function test_step_delaySlotInstructionRunsThenTarget() public {
        MIPSState.State memory s = newState();
        s.nextPC = 0x00400000; // the previous step was a taken branch
        bytes memory proof = prepare(s, imm(0x09, 1), false, 0); // addiu in the delay slot
        MIPSState.State memory e = copyState(s);
        e.pc = 0x00400000;
        e.nextPC = 0x00400004;
        e.registers[RT] = 1;
        e.step = 1;
        assertEq(runStep(s, proof), hashOf(e));
    }

    // ------------------------------------------------------------ loads and stores

    function checkLoad(uint32 opcode, uint32 addr, uint32 word, uint32 rtOld, uint32 expected) internal {
        MIPSState.State memory s = newState();
        s.registers[RS] = addr - 4; // offset +4 exercises the immediate
        s.registers[RT] = rtOld;
        writeWord(addr & ~uint32(3), word);
        bytes memory proof = prepare(s, iType(opcode, RS, RT, 4), true, addr);
        MIPSState.State memory e = advanced(s);
        e.registers[RT] = expected;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_loads() public {
        uint32 w = 0x8182f3f4;
        checkLoad(0x20, DATA + 0, w, 0, 0xffffff81); // lb
        checkLoad(0x20, DATA + 3, w, 0, 0xfffffff4);
        checkLoad(0x24, DATA + 1, w, 0, 0x82); // lbu
        checkLoad(0x21, DATA + 2, w, 0, 0xfffff3f4); // lh
        checkLoad(0x25, DATA + 0, w, 0, 0x8182); // lhu
        checkLoad(0x23, DATA + 8, w, 0, w); // lw
        checkLoad(0x30, DATA + 28, w, 0, w); // ll (last word of the leaf)
        checkLoad(0x22, DATA + 1, w, 0xaabbccdd, 0x82f3f4dd); // lwl
        checkLoad(0x22, DATA + 0, w, 0xaabbccdd, w);
        checkLoad(0x26, DATA + 2, w, 0xaabbccdd, 0xaa8182f3); // lwr
        checkLoad(0x26, DATA + 3, w, 0xaabbccdd, w);
    }

    function checkStore(uint32 opcode, uint32 addr, uint32 word, uint32 rtVal, uint32 expectedWord) internal {
        MIPSState.State memory s = newState();
        s.registers[RS] = addr + 4; // offset -4
        s.registers[RT] = rtVal;
        writeWord(addr & ~uint32(3), word);
        writeWord(DATA + 0x400, 0x5a5a5a5a); // another leaf, so the tree is not trivial
        bytes memory proof = prepare(s, iType(opcode, RS, RT, 0xfffc), true, addr);
        writeWord(addr & ~uint32(3), expectedWord);
        MIPSState.State memory e = advanced(s);
        e.memRoot = memRoot();
        if (opcode == 0x38) e.registers[RT] = 1; // sc
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_stores() public {
        uint32 w = 0x11223344;
        uint32 v = 0xaabbccdd;
        checkStore(0x28, DATA + 1, w, v, 0x11dd3344); // sb
        checkStore(0x29, DATA + 2, w, v, 0x1122ccdd); // sh
        checkStore(0x2b, DATA + 4, w, v, v); // sw
        checkStore(0x38, DATA + 12, w, v, v); // sc writes 1 to rt
        checkStore(0x2a, DATA + 1, w, v, 0x11aabbcc); // swl
        checkStore(0x2a, DATA + 3, w, v, 0x112233aa);
        checkStore(0x2e, DATA + 1, w, v, 0xccdd3344); // swr
        checkStore(0x2e, DATA + 3, w, v, v);
    }

    /// @notice Every store at every alignment into a word whose leaf neighbours are all set: only the
    ///         stored bytes change (regression: a lone `swr` or-ed `rt << 8(3 - a)` >> 32 into the
    ///         preceding word of the leaf, so MIPS.step rejected the true post-state).
    function test_step_storesLeaveTheRestOfTheLeafAlone() public {
        uint32 w = 0x11223344;
        uint32 v = 0xaabbccdd;
        uint32[6] memory ops = [uint32(0x28), 0x29, 0x2a, 0x2b, 0x2e, 0x38];
        for (uint256 k = 0; k < ops.length; k++) {
            for (uint32 a = 0; a < 4; a++) {
                uint32 op = ops[k];
                if ((op == 0x2b || op == 0x38) && a != 0) continue;
                if (op == 0x29 && a % 2 != 0) continue;
                for (uint32 word = 1; word < 8; word += 3) {
                    uint32 addr = DATA + 0x40 + 4 * word + a;
                    // The other seven words of the leaf hold 0x5a5a5a5a: ones and zeros, so bits or-ed
                    // into them or cleared from them show.
                    for (uint32 i = 0; i < 8; i++) {
                        writeWord(DATA + 0x40 + 4 * i, 0x5a5a5a5a);
                    }
                    checkStore(op, addr, w, v, storedWord(op, a, w, v));
                }
            }
        }
    }

    /// @notice The word a store makes (§4.4), byte by byte.
    function storedWord(uint32 op, uint32 a, uint32 mem, uint32 rt) internal pure returns (uint32 out) {
        bytes4 m = bytes4(mem);
        bytes4 v = bytes4(rt);
        bytes memory b = abi.encodePacked(m);
        if (op == 0x28) b[a] = v[3];
        if (op == 0x29) (b[a], b[a + 1]) = (v[2], v[3]);
        if (op == 0x2a) for (uint32 i = a; i < 4; i++) b[i] = v[i - a];
        if (op == 0x2e) for (uint32 i = 0; i <= a; i++) b[i] = v[3 - a + i];
        if (op == 0x2b || op == 0x38) return rt;
        out = uint32(bytes4(b));
    }

    function test_step_swrIntoTheSecondWordOfALeaf() public {
        // The case the random differential test found: word 0 of the leaf must stay 0x01020304.
        writeWord(DATA, 0x01020304);
        checkStore(0x2e, DATA + 4, 0x11223344, 0xaabbccdd, 0xdd223344);
        writeWord(DATA, 0x01020304);
        checkStore(0x2e, DATA + 6, 0x11223344, 0xaabbccdd, 0xbbccdd44);
    }

    function test_step_loadIntoR0StillNeedsDataProof() public {
        MIPSState.State memory s = newState();
        s.registers[RS] = DATA;
        bytes memory proof = prepare(s, iType(0x23, RS, 0, 0), false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 1792, 896));
        runStep(s, proof);
        proof = prepare(s, iType(0x23, RS, 0, 0), true, DATA);
        assertEq(runStep(s, proof), hashOf(advanced(s)));
    }

    function test_step_revertsOnUnalignedAccess() public {
        uint32[5] memory ops = [uint32(0x23), 0x2b, 0x21, 0x25, 0x29]; // lw sw lh lhu sh
        uint32[5] memory addrs = [uint32(DATA + 2), DATA + 1, DATA + 1, DATA + 3, DATA + 1];
        for (uint256 i = 0; i < ops.length; i++) {
            MIPSState.State memory s = newState();
            s.registers[RS] = addrs[i];
            bytes memory proof = prepare(s, iType(ops[i], RS, RT, 0), true, addrs[i]);
            vm.expectRevert(abi.encodeWithSelector(UnalignedAccess.selector, addrs[i]));
            runStep(s, proof);
        }
    }

    function test_step_revertsOnUnalignedPc() public {
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, 0, false, 0);
        s.pc = START_PC + 2;
        s.nextPC = START_PC + 6;
        vm.expectRevert(abi.encodeWithSelector(UnalignedAccess.selector, START_PC + 2));
        runStep(s, proof);
    }

    // ------------------------------------------------------------ proofs

    function test_step_revertsOnShortInstructionProof() public {
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, 0, false, 0);
        bytes memory short = new bytes(895);
        for (uint256 i = 0; i < 895; i++) short[i] = proof[i];
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 896, 895));
        runStep(s, short);
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 896, 0));
        runStep(s, "");
    }

    function test_step_revertsOnMissingDataProof() public {
        MIPSState.State memory s = newState();
        s.registers[RS] = DATA;
        bytes memory proof = prepare(s, iType(0x2b, RS, RT, 0), false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 1792, 896));
        runStep(s, proof);
    }

    function test_step_extraProofBytesAreIgnored() public {
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, imm(0x09, 1), false, 0);
        MIPSState.State memory e = advanced(s);
        e.registers[RT] = 1;
        assertEq(runStep(s, bytes.concat(proof, new bytes(1000))), hashOf(e));
    }

    function test_step_revertsOnBadInstructionProof() public {
        writeWord(DATA, 7); // a second leaf so siblings are not all zero hashes
        MIPSState.State memory s = newState();
        bytes memory proof = prepare(s, imm(0x09, 1), false, 0);
        // Tamper with the leaf (a different instruction), then with a sibling.
        proof[3] = 0x02;
        vm.expectRevert(InvalidMemoryProof.selector);
        runStep(s, proof);
        proof[3] = 0x01;
        proof[32 * 9 + 5] ^= 0x01;
        vm.expectRevert(InvalidMemoryProof.selector);
        runStep(s, proof);
    }

    function test_step_revertsOnProofOfAnotherLeaf() public {
        writeWord(DATA, 0xdeadbeef);
        MIPSState.State memory s = newState();
        s.registers[RS] = DATA + 64; // the proof below is for DATA's leaf, not DATA + 64's
        bytes memory proof = prepare(s, iType(0x23, RS, RT, 0), true, DATA);
        vm.expectRevert(InvalidMemoryProof.selector);
        runStep(s, proof);
    }

    function test_step_revertsOnBadStoreProof() public {
        writeWord(DATA, 0xdeadbeef);
        MIPSState.State memory s = newState();
        s.registers[RS] = DATA;
        bytes memory proof = prepare(s, iType(0x2b, RS, RT, 0), true, DATA);
        proof[896 + 31] ^= 0x01; // data leaf
        vm.expectRevert(InvalidMemoryProof.selector);
        runStep(s, proof);
    }

    // ------------------------------------------------------------ fuzz

    function refRType(uint32 fun, uint32 a, uint32 b) internal pure returns (uint32) {
        unchecked {
            if (fun == 0x21) return uint32((uint256(a) + b) % 2 ** 32);
            if (fun == 0x23) return uint32((uint256(a) + 2 ** 32 - b) % 2 ** 32);
            if (fun == 0x24) return a & b;
            if (fun == 0x25) return a | b;
            if (fun == 0x26) return a ^ b;
            if (fun == 0x27) return ~(a | b);
            if (fun == 0x2a) return int256(int32(a)) < int256(int32(b)) ? 1 : 0;
            if (fun == 0x2b) return uint256(a) < uint256(b) ? 1 : 0;
            if (fun == 0x04) return uint32((uint256(b) * (2 ** (a % 32))) % 2 ** 32);
            if (fun == 0x06) return uint32(uint256(b) / (2 ** (a % 32)));
            // srav: floor division by 2^s of the signed value
            int256 sb = int256(int32(b));
            int256 d = int256(2 ** (a % 32));
            int256 q = sb / d;
            if (sb < 0 && q * d != sb) q -= 1;
            return uint32(uint256(q));
        }
    }

    function testFuzz_step_rTypeAluMatchesReference(uint8 which, uint32 a, uint32 b) public {
        uint32[11] memory funs = [uint32(0x21), 0x23, 0x24, 0x25, 0x26, 0x27, 0x2a, 0x2b, 0x04, 0x06, 0x07];
        uint32 fun = funs[which % funs.length];
        checkAlu(r(fun), a, b, RD, refRType(fun, a, b));
    }

    function testFuzz_step_iTypeAluMatchesReference(uint8 which, uint32 a, uint16 k) public {
        uint32[7] memory ops = [uint32(0x09), 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
        uint32 op = ops[which % ops.length];
        uint32 expected;
        if (op == 0x09) expected = uint32((uint256(a) + sext16(k)) % 2 ** 32);
        if (op == 0x0a) expected = int256(int32(a)) < int256(int16(k)) ? 1 : 0;
        if (op == 0x0b) expected = a < sext16(k) ? 1 : 0;
        if (op == 0x0c) expected = a & k;
        if (op == 0x0d) expected = a | k;
        if (op == 0x0e) expected = a ^ k;
        if (op == 0x0f) expected = uint32(k) * 65536;
        checkAlu(imm(op, k), a, 0, RT, expected);
    }

    function testFuzz_step_multDivMatchReference(uint32 a, uint32 b) public {
        vm.assume(b != 0);
        uint256 pu = uint256(a) * b;
        checkHiLo(r(0x19), a, b, 0, 0, uint32(pu >> 32), uint32(pu));
        uint256 ps = uint256(int256(int32(a)) * int256(int32(b)));
        checkHiLo(r(0x18), a, b, 0, 0, uint32(ps >> 32), uint32(ps));
        checkHiLo(r(0x1b), a, b, 0, 0, a % b, a / b);
        int256 sa = int256(int32(a));
        int256 sb = int256(int32(b));
        int256 q = sa / sb; // truncates toward zero
        int256 rem = sa - q * sb;
        checkHiLo(r(0x1a), a, b, 0, 0, uint32(uint256(rem)), uint32(uint256(q)));
    }

    function testFuzz_step_shiftImmMatchesReference(uint32 b, uint8 sa) public {
        uint32 s = sa % 32;
        checkAlu(shiftImm(s, 0x00), 0, b, RD, refRType(0x04, s, b));
        checkAlu(shiftImm(s, 0x02), 0, b, RD, refRType(0x06, s, b));
        checkAlu(shiftImm(s, 0x03), 0, b, RD, refRType(0x07, s, b));
    }

    /// @notice Random delay-slot states: a non-branch goes to nextPC, a branch there reverts.
    function testFuzz_step_delaySlotStates(uint32 pc, uint32 nextPC, uint32 rsVal) public {
        pc = pc & ~uint32(3);
        vm.assume(pc >> 5 != DATA >> 5);
        MIPSState.State memory s = newState();
        s.pc = pc;
        s.nextPC = nextPC;
        s.registers[RS] = rsVal;
        bytes memory proof = prepare(s, imm(0x0d, 0x00ff), false, 0); // ori
        MIPSState.State memory e = copyState(s);
        e.pc = nextPC;
        unchecked {
            e.nextPC = nextPC + 4;
        }
        e.registers[RT] = rsVal | 0xff;
        e.step = 1;
        assertEq(runStep(s, proof), hashOf(e));

        proof = prepare(s, iType(0x04, RS, RS, 0x10), false, 0); // beq always taken
        unchecked {
            if (nextPC != pc + 4) {
                vm.expectRevert(JumpInDelaySlot.selector);
                runStep(s, proof);
            } else {
                e = copyState(s);
                e.pc = nextPC;
                e.nextPC = pc + 4 + 0x40;
                e.step = 1;
                assertEq(runStep(s, proof), hashOf(e));
            }
        }
    }

    function testFuzz_step_storeThenLoadRoundTrips(uint32 addr, uint32 value, uint32 other) public {
        addr = (addr & ~uint32(3)) | 0x00100000; // away from the code
        addr &= 0x7ffffffc;
        writeWord(addr ^ 0x20, other); // neighbouring leaf
        MIPSState.State memory s = newState();
        s.registers[RS] = addr;
        s.registers[RT] = value;
        bytes memory proof = prepare(s, iType(0x2b, RS, RT, 0), true, addr);
        writeWord(addr, value);
        MIPSState.State memory e = advanced(s);
        e.memRoot = memRoot();
        assertEq(runStep(s, proof), hashOf(e));
        assertEq(readWord(addr), value);
    }
}

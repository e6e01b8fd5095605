// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MIPSState } from "./MIPSState.sol";
import { DivisionByZero, InvalidInstruction, JumpInDelaySlot } from "./MIPSErrors.sol";

/// @title MIPSInstructions
/// @notice Decoding and execution of one MIPS32 instruction (docs/protocol.md §4.4). The function names
///         match keeper/vm/instructions.ts one for one.
///
///         Instruction fields: opcode [31:26], rs [25:21], rt [20:16], rd [15:11], sa [10:6],
///         funct [5:0], imm16 [15:0], index26 [25:0]. All 32-bit arithmetic wraps modulo 2^32.
library MIPSInstructions {
    /// @notice Primary opcodes.
    uint32 internal constant OP_SPECIAL = 0x00;
    uint32 internal constant OP_REGIMM = 0x01;
    uint32 internal constant OP_J = 0x02;
    uint32 internal constant OP_JAL = 0x03;
    uint32 internal constant OP_BEQ = 0x04;
    uint32 internal constant OP_BNE = 0x05;
    uint32 internal constant OP_BLEZ = 0x06;
    uint32 internal constant OP_BGTZ = 0x07;
    uint32 internal constant OP_ADDI = 0x08;
    uint32 internal constant OP_ADDIU = 0x09;
    uint32 internal constant OP_SLTI = 0x0a;
    uint32 internal constant OP_SLTIU = 0x0b;
    uint32 internal constant OP_ANDI = 0x0c;
    uint32 internal constant OP_ORI = 0x0d;
    uint32 internal constant OP_XORI = 0x0e;
    uint32 internal constant OP_LUI = 0x0f;
    uint32 internal constant OP_SPECIAL2 = 0x1c;
    uint32 internal constant OP_SPECIAL3 = 0x1f;
    uint32 internal constant OP_LB = 0x20;
    uint32 internal constant OP_LH = 0x21;
    uint32 internal constant OP_LWL = 0x22;
    uint32 internal constant OP_LW = 0x23;
    uint32 internal constant OP_LBU = 0x24;
    uint32 internal constant OP_LHU = 0x25;
    uint32 internal constant OP_LWR = 0x26;
    uint32 internal constant OP_SB = 0x28;
    uint32 internal constant OP_SH = 0x29;
    uint32 internal constant OP_SWL = 0x2a;
    uint32 internal constant OP_SW = 0x2b;
    uint32 internal constant OP_SWR = 0x2e;
    uint32 internal constant OP_LL = 0x30;
    uint32 internal constant OP_PREF = 0x33;
    uint32 internal constant OP_SC = 0x38;

    /// @notice SPECIAL functs.
    uint32 internal constant FN_SLL = 0x00;
    uint32 internal constant FN_SRL = 0x02;
    uint32 internal constant FN_SRA = 0x03;
    uint32 internal constant FN_SLLV = 0x04;
    uint32 internal constant FN_SRLV = 0x06;
    uint32 internal constant FN_SRAV = 0x07;
    uint32 internal constant FN_JR = 0x08;
    uint32 internal constant FN_JALR = 0x09;
    uint32 internal constant FN_MOVZ = 0x0a;
    uint32 internal constant FN_MOVN = 0x0b;
    uint32 internal constant FN_SYSCALL = 0x0c;
    uint32 internal constant FN_SYNC = 0x0f;
    uint32 internal constant FN_MFHI = 0x10;
    uint32 internal constant FN_MTHI = 0x11;
    uint32 internal constant FN_MFLO = 0x12;
    uint32 internal constant FN_MTLO = 0x13;
    uint32 internal constant FN_MULT = 0x18;
    uint32 internal constant FN_MULTU = 0x19;
    uint32 internal constant FN_DIV = 0x1a;
    uint32 internal constant FN_DIVU = 0x1b;
    uint32 internal constant FN_ADD = 0x20;
    uint32 internal constant FN_ADDU = 0x21;
    uint32 internal constant FN_SUB = 0x22;
    uint32 internal constant FN_SUBU = 0x23;
    uint32 internal constant FN_AND = 0x24;
    uint32 internal constant FN_OR = 0x25;
    uint32 internal constant FN_XOR = 0x26;
    uint32 internal constant FN_NOR = 0x27;
    uint32 internal constant FN_SLT = 0x2a;
    uint32 internal constant FN_SLTU = 0x2b;
    uint32 internal constant FN_TEQ = 0x34;
    uint32 internal constant FN_TNE = 0x36;

    /// @notice REGIMM rt values.
    uint32 internal constant RT_BLTZ = 0x00;
    uint32 internal constant RT_BGEZ = 0x01;
    uint32 internal constant RT_BLTZAL = 0x10;
    uint32 internal constant RT_BGEZAL = 0x11;

    /// @notice SPECIAL2 functs.
    uint32 internal constant FN2_MADD = 0x00;
    uint32 internal constant FN2_MADDU = 0x01;
    uint32 internal constant FN2_MUL = 0x02;
    uint32 internal constant FN2_MSUB = 0x04;
    uint32 internal constant FN2_MSUBU = 0x05;
    uint32 internal constant FN2_CLZ = 0x20;
    uint32 internal constant FN2_CLO = 0x21;

    /// @notice SPECIAL3 functs and BSHFL sa values.
    uint32 internal constant FN3_EXT = 0x00;
    uint32 internal constant FN3_INS = 0x04;
    uint32 internal constant FN3_BSHFL = 0x20;
    uint32 internal constant SA_WSBH = 0x02;
    uint32 internal constant SA_SEB = 0x10;
    uint32 internal constant SA_SEH = 0x18;

    /// @notice The link register of `jal`, `bltzal`, `bgezal`.
    uint32 internal constant REG_RA = 31;

    /// @notice Computes the value an ALU, load or store instruction produces, without touching the state.
    /// @param insn The instruction word.
    /// @param rs The value of register rs; for loads and stores the effective address instead.
    /// @param rt The value of register rt (for stores the value stored; for `lwl/lwr/ins` the old value).
    /// @param mem For loads and stores, the memory word at `rs & ~3`; otherwise ignored.
    /// @return out The destination register's new value (ALU, loads) or the new memory word (stores).
    function executeMipsInstruction(uint32 insn, uint32 rs, uint32 rt, uint32 mem) internal pure returns (uint32 out) {
        // unchecked: every result is 32-bit arithmetic that wraps modulo 2^32 by specification (§4.1),
        // done in uint256 and truncated by the uint32 conversions; shifts are bounded by the 5-bit fields.
        unchecked {
            uint32 opcode = insn >> 26;
            uint32 fun = insn & 0x3f;
            if (opcode == OP_SPECIAL) {
                uint32 sa = (insn >> 6) & 0x1f;
                if (fun == FN_SLL) return rt << sa;
                if (fun == FN_SRL) {
                    // rs != 0 encodes MIPS32r2 `rotr` (not supported, §4.4).
                    if ((insn >> 21) & 0x1f != 0) revert InvalidInstruction(insn);
                    return rt >> sa;
                }
                if (fun == FN_SRA) return uint32(int32(rt) >> sa);
                if (fun == FN_SLLV) return rt << (rs & 0x1f);
                if (fun == FN_SRLV) {
                    // sa != 0 encodes MIPS32r2 `rotrv` (not supported, §4.4).
                    if (sa != 0) revert InvalidInstruction(insn);
                    return rt >> (rs & 0x1f);
                }
                if (fun == FN_SRAV) return uint32(int32(rt) >> (rs & 0x1f));
                if (fun == FN_ADD || fun == FN_ADDU) return rs + rt;
                if (fun == FN_SUB || fun == FN_SUBU) return rs - rt;
                if (fun == FN_AND) return rs & rt;
                if (fun == FN_OR) return rs | rt;
                if (fun == FN_XOR) return rs ^ rt;
                if (fun == FN_NOR) return ~(rs | rt);
                if (fun == FN_SLT) return int32(rs) < int32(rt) ? 1 : 0;
                if (fun == FN_SLTU) return rs < rt ? 1 : 0;
            } else if (opcode >= OP_ADDI && opcode <= OP_LUI) {
                uint32 imm = insn & 0xffff;
                uint32 simm = signExtend(imm, 16);
                if (opcode == OP_ADDI || opcode == OP_ADDIU) return rs + simm;
                if (opcode == OP_SLTI) return int32(rs) < int32(simm) ? 1 : 0;
                if (opcode == OP_SLTIU) return rs < simm ? 1 : 0;
                if (opcode == OP_ANDI) return rs & imm;
                if (opcode == OP_ORI) return rs | imm;
                if (opcode == OP_XORI) return rs ^ imm;
                return imm << 16; // OP_LUI
            } else if (opcode == OP_SPECIAL2) {
                if (fun == FN2_MUL) return uint32(uint64(rs) * uint64(rt));
                if (fun == FN2_CLZ) return _countLeadingZeros(rs);
                if (fun == FN2_CLO) return _countLeadingZeros(~rs);
            } else if (opcode == OP_SPECIAL3) {
                uint32 sa = (insn >> 6) & 0x1f;
                uint32 rd = (insn >> 11) & 0x1f;
                if (fun == FN3_EXT) {
                    // pos = sa, size = msbd + 1; pos + size > 32 is invalid (§4.4).
                    uint256 size = uint256(rd) + 1;
                    if (sa + size > 32) revert InvalidInstruction(insn);
                    return uint32((uint256(rs) >> sa) & ((uint256(1) << size) - 1));
                }
                if (fun == FN3_INS) {
                    // lsb = sa, msb = rd; msb < lsb is invalid (§4.4).
                    if (rd < sa) revert InvalidInstruction(insn);
                    uint256 mask = ((uint256(1) << (rd - sa + 1)) - 1) << sa;
                    return uint32((uint256(rt) & ~mask) | ((uint256(rs) << sa) & mask));
                }
                if (fun == FN3_BSHFL) {
                    if (sa == SA_WSBH) return ((rt & 0x00ff00ff) << 8) | ((rt >> 8) & 0x00ff00ff);
                    if (sa == SA_SEB) return signExtend(rt & 0xff, 8);
                    if (sa == SA_SEH) return signExtend(rt & 0xffff, 16);
                }
            } else if (opcode >= OP_LB && opcode <= OP_SC) {
                // Loads and stores: rs is the effective address, mem the aligned word containing it.
                uint32 byteInWord = rs & 3;
                if (opcode == OP_LB) return signExtend((mem >> (24 - 8 * byteInWord)) & 0xff, 8);
                if (opcode == OP_LH) return signExtend((mem >> (16 - 8 * (rs & 2))) & 0xffff, 16);
                if (opcode == OP_LWL) {
                    uint32 s = 8 * byteInWord;
                    uint32 mask = uint32(0xffffffff) << s;
                    return (rt & ~mask) | (mem << s);
                }
                if (opcode == OP_LW || opcode == OP_LL) return mem;
                if (opcode == OP_LBU) return (mem >> (24 - 8 * byteInWord)) & 0xff;
                if (opcode == OP_LHU) return (mem >> (16 - 8 * (rs & 2))) & 0xffff;
                if (opcode == OP_LWR) {
                    uint32 s = 8 * (3 - byteInWord);
                    uint32 mask = uint32(0xffffffff) >> s;
                    return (rt & ~mask) | (mem >> s);
                }
                if (opcode == OP_SB) {
                    uint32 s = 24 - 8 * byteInWord;
                    return (mem & ~(uint32(0xff) << s)) | ((rt & 0xff) << s);
                }
                if (opcode == OP_SH) {
                    uint32 s = 16 - 8 * (rs & 2);
                    return (mem & ~(uint32(0xffff) << s)) | ((rt & 0xffff) << s);
                }
                if (opcode == OP_SWL) {
                    uint32 s = 8 * byteInWord;
                    uint32 mask = uint32(0xffffffff) >> s;
                    return (mem & ~mask) | (rt >> s);
                }
                if (opcode == OP_SW || opcode == OP_SC) return rt;
                if (opcode == OP_SWR) {
                    // In uint256 and masked to the word: `rt << s` on uint32 operands leaves the bits
                    // shifted past bit 31 set on the stack (Solidity cleans small types lazily), and
                    // the returned word goes into writeMem's assembly, where they would reach the
                    // preceding word of the leaf.
                    uint256 s = 8 * (3 - uint256(byteInWord));
                    uint256 mask = (uint256(0xffffffff) << s) & 0xffffffff;
                    return uint32((uint256(mem) & ~mask) | ((uint256(rt) << s) & mask));
                }
            }
            revert InvalidInstruction(insn);
        }
    }

    /// @notice Executes a branch (`beq bne blez bgtz` and REGIMM `bltz bgez bltzal bgezal`).
    /// @param opcode The primary opcode.
    /// @param insn The instruction word.
    /// @param rtReg The rt field (REGIMM: selects the branch; `beq/bne`: the register compared).
    /// @param rs The value of register rs.
    function handleBranch(MIPSState.State memory state, uint32 opcode, uint32 insn, uint32 rtReg, uint32 rs) internal pure {
        bool shouldBranch;
        bool link;
        if (opcode == OP_BEQ) {
            shouldBranch = rs == state.registers[rtReg];
        } else if (opcode == OP_BNE) {
            shouldBranch = rs != state.registers[rtReg];
        } else if (opcode == OP_BLEZ) {
            shouldBranch = int32(rs) <= 0;
        } else if (opcode == OP_BGTZ) {
            shouldBranch = int32(rs) > 0;
        } else if (opcode == OP_REGIMM && (rtReg == RT_BLTZ || rtReg == RT_BLTZAL)) {
            shouldBranch = int32(rs) < 0;
            link = rtReg == RT_BLTZAL;
        } else if (opcode == OP_REGIMM && (rtReg == RT_BGEZ || rtReg == RT_BGEZAL)) {
            shouldBranch = int32(rs) >= 0;
            link = rtReg == RT_BGEZAL;
        } else {
            revert InvalidInstruction(insn);
        }
        // unchecked: pc arithmetic wraps modulo 2^32 (§4.1); the operands are uint32.
        unchecked {
            uint32 pc = state.pc;
            if (state.nextPC != pc + 4) revert JumpInDelaySlot();
            // bltzal/bgezal link whether or not the branch is taken (§4.4).
            if (link) state.registers[REG_RA] = pc + 8;
            state.pc = state.nextPC;
            state.nextPC = shouldBranch ? pc + 4 + (signExtend(insn & 0xffff, 16) << 2) : state.nextPC + 4;
        }
    }

    /// @notice Executes a jump (`j jal jr jalr`): the delay slot runs next, then `dest`.
    /// @param linkReg The register receiving `pc + 8`, or 0 for none.
    /// @param dest The jump target.
    function handleJump(MIPSState.State memory state, uint32 linkReg, uint32 dest) internal pure {
        // unchecked: pc arithmetic wraps modulo 2^32 (§4.1); the operands are uint32.
        unchecked {
            uint32 pc = state.pc;
            if (state.nextPC != pc + 4) revert JumpInDelaySlot();
            state.pc = state.nextPC;
            state.nextPC = dest;
            if (linkReg != 0) state.registers[linkReg] = pc + 8;
        }
    }

    /// @notice Executes the instructions that read or write `hi/lo`: SPECIAL `mfhi mthi mflo mtlo mult
    ///         multu div divu` and SPECIAL2 `madd maddu msub msubu`.
    /// @param insn The instruction word (opcode OP_SPECIAL or OP_SPECIAL2).
    /// @param rs The value of register rs.
    /// @param rt The value of register rt.
    /// @param storeReg The rd field (written by `mfhi/mflo`).
    function handleHiLo(
        MIPSState.State memory state,
        uint32 insn,
        uint32 rs,
        uint32 rt,
        uint32 storeReg
    )
        internal
        pure
    {
        uint32 opcode = insn >> 26;
        uint32 fun = insn & 0x3f;
        uint32 val;
        bool writeRd;
        // unchecked: 64-bit products of 32-bit operands fit in 64 bits; hi:lo accumulation wraps modulo
        // 2^64 by specification (§4.4) and is truncated by the uint64 conversions; the int256 division
        // below cannot overflow (|dividend| <= 2^31) and its divisor was checked to be non-zero.
        unchecked {
            if (opcode == OP_SPECIAL2) {
                uint64 acc = (uint64(state.hi) << 32) | uint64(state.lo);
                uint64 product;
                if (fun == FN2_MADD || fun == FN2_MSUB) {
                    product = uint64(int64(int32(rs)) * int64(int32(rt)));
                } else if (fun == FN2_MADDU || fun == FN2_MSUBU) {
                    product = uint64(rs) * uint64(rt);
                } else {
                    revert InvalidInstruction(insn);
                }
                acc = (fun == FN2_MADD || fun == FN2_MADDU) ? acc + product : acc - product;
                state.hi = uint32(acc >> 32);
                state.lo = uint32(acc);
            } else if (fun == FN_MFHI) {
                val = state.hi;
                writeRd = true;
            } else if (fun == FN_MTHI) {
                state.hi = rs;
            } else if (fun == FN_MFLO) {
                val = state.lo;
                writeRd = true;
            } else if (fun == FN_MTLO) {
                state.lo = rs;
            } else if (fun == FN_MULT) {
                uint64 product = uint64(int64(int32(rs)) * int64(int32(rt)));
                state.hi = uint32(product >> 32);
                state.lo = uint32(product);
            } else if (fun == FN_MULTU) {
                uint64 product = uint64(rs) * uint64(rt);
                state.hi = uint32(product >> 32);
                state.lo = uint32(product);
            } else if (fun == FN_DIV) {
                if (rt == 0) revert DivisionByZero();
                int256 a = int256(int32(rs));
                int256 b = int256(int32(rt));
                // Solidity's signed / truncates toward zero and % takes the dividend's sign, as MIPS;
                // 0x80000000 / -1 = 2^31 truncates to lo = 0x80000000 (§4.4).
                state.lo = uint32(uint256(a / b));
                state.hi = uint32(uint256(a % b));
            } else if (fun == FN_DIVU) {
                if (rt == 0) revert DivisionByZero();
                state.lo = rs / rt;
                state.hi = rs % rt;
            } else {
                revert InvalidInstruction(insn);
            }
        }
        handleRd(state, storeReg, val, writeRd);
    }

    /// @notice Writes `val` to `storeReg` if `conditional` (never to r0), then advances pc past a
    ///         non-branch instruction.
    function handleRd(MIPSState.State memory state, uint32 storeReg, uint32 val, bool conditional) internal pure {
        if (conditional && storeReg != 0) state.registers[storeReg] = val;
        // unchecked: pc arithmetic wraps modulo 2^32 (§4.1).
        unchecked {
            state.pc = state.nextPC;
            state.nextPC = state.nextPC + 4;
        }
    }

    /// @notice Sign-extends the low `idx` bits of `dat` to 32 bits (`idx` in 1..32).
    function signExtend(uint32 dat, uint32 idx) internal pure returns (uint32) {
        // unchecked: idx is 1..32, so the shifts are in range; the result is truncated to 32 bits.
        unchecked {
            bool isSigned = (dat >> (idx - 1)) & 1 != 0;
            uint256 signed = ((uint256(1) << (32 - idx)) - 1) << idx;
            uint256 mask = (uint256(1) << idx) - 1;
            return uint32(isSigned ? (uint256(dat) & mask) | signed : uint256(dat) & mask);
        }
    }

    /// @notice Number of leading zero bits of `x` (32 for 0).
    function _countLeadingZeros(uint32 x) private pure returns (uint32 n) {
        // unchecked: n counts at most 32 and the shifts are by at most 31.
        unchecked {
            if (x == 0) return 32;
            if (x >> 16 == 0) {
                n += 16;
                x <<= 16;
            }
            if (x >> 24 == 0) {
                n += 8;
                x <<= 8;
            }
            if (x >> 28 == 0) {
                n += 4;
                x <<= 4;
            }
            if (x >> 30 == 0) {
                n += 2;
                x <<= 2;
            }
            if (x >> 31 == 0) n += 1;
        }
    }
}

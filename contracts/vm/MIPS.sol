// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IBigStepper } from "./interfaces/IBigStepper.sol";
import { IPreimageOracle } from "./interfaces/IPreimageOracle.sol";
import { MIPSState } from "./lib/MIPSState.sol";
import { MIPSMemory } from "./lib/MIPSMemory.sol";
import { MIPSInstructions as Ins } from "./lib/MIPSInstructions.sol";
import { MIPSSyscalls } from "./lib/MIPSSyscalls.sol";
import { InvalidInstruction, UnalignedAccess, Trap } from "./lib/MIPSErrors.sol";

/// @title MIPS
/// @notice One-step verifier of the big-endian MIPS32 VM (docs/protocol.md §4): from a packed pre-state
///         and the memory proofs it touches, the status-tagged hash of the post-state. Stateless apart
///         from the immutable oracle address, so any contract may call it; local preimage keys are
///         localized to the caller, so a game only reads its own local data.
///
///         Delay slots are isolated steps: `nextPC` carries where the VM goes after `pc`.
contract MIPS is IBigStepper {
    /// @notice Proof index of the instruction word.
    uint256 internal constant INSN_PROOF = 0;
    /// @notice Proof index of the data word of a load or store.
    uint256 internal constant DATA_PROOF = 1;

    IPreimageOracle private immutable ORACLE;

    /// @param oracle_ The preimage oracle read by the preimage syscalls.
    constructor(IPreimageOracle oracle_) {
        ORACLE = oracle_;
    }

    /// @inheritdoc IBigStepper
    function oracle() external view returns (IPreimageOracle) {
        return ORACLE;
    }

    /// @inheritdoc IBigStepper
    /// @dev `view`: the verifier keeps no state (the oracle is only read), so a caller may also use it
    ///      through `eth_call` or a static call.
    function step(
        bytes calldata stateData,
        bytes calldata proof,
        bytes32 localContext
    )
        external
        view
        returns (bytes32 postStateHash)
    {
        MIPSState.State memory state = MIPSState.decodeState(stateData);
        // An exited state steps to itself: traces are padded with it (§4.3).
        if (state.exited) return MIPSState.stateHash(state);

        uint32 insn = MIPSMemory.readMem(state.memRoot, state.pc, proof, INSN_PROOF);
        _execute(state, insn, proof, localContext);
        // unchecked: the step counter wraps modulo 2^64 (§4.1), as keeper/vm's encoding does.
        unchecked {
            state.step += 1;
        }
        return MIPSState.stateHash(state);
    }

    /// @notice Decodes `insn` and dispatches it to the library that executes its class.
    function _execute(MIPSState.State memory state, uint32 insn, bytes calldata proof, bytes32 localContext) private view {
        uint32 opcode = insn >> 26;

        // unchecked: j/jal target arithmetic wraps modulo 2^32 (§4.1) on uint32 operands.
        if (opcode == Ins.OP_J || opcode == Ins.OP_JAL) {
            unchecked {
                uint32 target = ((state.pc + 4) & 0xf0000000) | ((insn & 0x03ffffff) << 2);
                Ins.handleJump(state, opcode == Ins.OP_JAL ? Ins.REG_RA : 0, target);
            }
            return;
        }

        uint32 fun = insn & 0x3f;
        uint32 rtReg = (insn >> 16) & 0x1f;
        uint32 rs = state.registers[(insn >> 21) & 0x1f];
        uint32 rt = state.registers[rtReg];
        uint32 rdReg = (insn >> 11) & 0x1f;

        if (opcode == Ins.OP_REGIMM || (opcode >= Ins.OP_BEQ && opcode <= Ins.OP_BGTZ)) {
            Ins.handleBranch(state, opcode, insn, rtReg, rs);
        } else if (opcode == Ins.OP_SPECIAL) {
            if (fun == Ins.FN_JR) {
                Ins.handleJump(state, 0, rs);
            } else if (fun == Ins.FN_JALR) {
                Ins.handleJump(state, rdReg, rs);
            } else if (fun == Ins.FN_SYSCALL) {
                MIPSSyscalls.handleSyscall(
                    state, proof, MIPSSyscalls.PreimageContext(ORACLE, msg.sender, localContext)
                );
            } else if (fun == Ins.FN_SYNC) {
                Ins.handleRd(state, 0, 0, false);
            } else if (fun >= Ins.FN_MFHI && fun <= Ins.FN_DIVU) {
                Ins.handleHiLo(state, insn, rs, rt, rdReg);
            } else if (fun == Ins.FN_MOVZ) {
                Ins.handleRd(state, rdReg, rs, rt == 0);
            } else if (fun == Ins.FN_MOVN) {
                Ins.handleRd(state, rdReg, rs, rt != 0);
            } else if (fun == Ins.FN_TEQ || fun == Ins.FN_TNE) {
                if ((rs == rt) == (fun == Ins.FN_TEQ)) revert Trap();
                Ins.handleRd(state, 0, 0, false);
            } else {
                Ins.handleRd(state, rdReg, Ins.executeMipsInstruction(insn, rs, rt, 0), true);
            }
        } else if (opcode == Ins.OP_SPECIAL2) {
            if (fun == Ins.FN2_MUL || fun == Ins.FN2_CLZ || fun == Ins.FN2_CLO) {
                Ins.handleRd(state, rdReg, Ins.executeMipsInstruction(insn, rs, rt, 0), true);
            } else {
                Ins.handleHiLo(state, insn, rs, rt, 0);
            }
        } else if (opcode == Ins.OP_SPECIAL3) {
            // ext/ins write rt; the BSHFL group (seb/seh/wsbh) writes rd.
            uint32 storeReg = fun == Ins.FN3_BSHFL ? rdReg : rtReg;
            Ins.handleRd(state, storeReg, Ins.executeMipsInstruction(insn, rs, rt, 0), true);
        } else if (opcode >= Ins.OP_ADDI && opcode <= Ins.OP_LUI) {
            Ins.handleRd(state, rtReg, Ins.executeMipsInstruction(insn, rs, rt, 0), true);
        } else if (opcode == Ins.OP_PREF) {
            Ins.handleRd(state, 0, 0, false);
        } else {
            _loadStore(state, insn, proof);
        }
    }

    /// @notice Executes a load or store through the data proof; reverts on any other opcode.
    function _loadStore(MIPSState.State memory state, uint32 insn, bytes calldata proof) private pure {
        uint32 opcode = insn >> 26;
        bool isStore = opcode == Ins.OP_SB || opcode == Ins.OP_SH || opcode == Ins.OP_SWL || opcode == Ins.OP_SW
            || opcode == Ins.OP_SWR || opcode == Ins.OP_SC;
        if (!isStore && !(opcode >= Ins.OP_LB && opcode <= Ins.OP_LWR && opcode != 0x27) && opcode != Ins.OP_LL) {
            revert InvalidInstruction(insn);
        }

        uint32 addr;
        // unchecked: the effective address wraps modulo 2^32 (§4.1).
        unchecked {
            addr = state.registers[(insn >> 21) & 0x1f] + Ins.signExtend(insn & 0xffff, 16);
        }
        if (opcode == Ins.OP_LW || opcode == Ins.OP_SW || opcode == Ins.OP_LL || opcode == Ins.OP_SC) {
            if (addr & 3 != 0) revert UnalignedAccess(addr);
        } else if (opcode == Ins.OP_LH || opcode == Ins.OP_LHU || opcode == Ins.OP_SH) {
            if (addr & 1 != 0) revert UnalignedAccess(addr);
        }

        uint32 rtReg = (insn >> 16) & 0x1f;
        uint32 alignedAddr = addr & ~uint32(3);
        if (isStore) {
            // Read-modify-write: writeMem checks the proof wordFromProof read the old word from.
            uint32 mem = MIPSMemory.wordFromProof(alignedAddr, proof, DATA_PROOF);
            uint32 val = Ins.executeMipsInstruction(insn, addr, state.registers[rtReg], mem);
            state.memRoot = MIPSMemory.writeMem(state.memRoot, alignedAddr, proof, DATA_PROOF, val);
            // sc always succeeds (single-threaded): rt <- 1.
            Ins.handleRd(state, rtReg, 1, opcode == Ins.OP_SC);
        } else {
            uint32 mem = MIPSMemory.readMem(state.memRoot, alignedAddr, proof, DATA_PROOF);
            Ins.handleRd(state, rtReg, Ins.executeMipsInstruction(insn, addr, state.registers[rtReg], mem), true);
        }
    }
}

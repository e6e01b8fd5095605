// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Test } from "forge-std/Test.sol";
import { MIPS } from "../../../contracts/vm/MIPS.sol";
import { PreimageOracle } from "../../../contracts/vm/PreimageOracle.sol";
import { MIPSState } from "../../../contracts/vm/lib/MIPSState.sol";

/// @notice Test support for the VM: a sparse memory of a few leaves with its Merkle root and proofs
///         (docs/protocol.md §4.2), instruction encoders, and a deployed MIPS + PreimageOracle.
abstract contract MIPSTestBase is Test {
    MIPS internal mips;
    PreimageOracle internal oracle;

    uint32 internal constant START_PC = 0x00001000;
    uint32 internal constant HEAP_START = 0x20000000;
    uint32 internal constant STACK_TOP = 0x7ffff000;
    bytes32 internal constant CONTEXT = keccak256("test context");

    // Sparse memory: leaf index -> leaf bytes, and the list of leaves ever written.
    mapping(uint256 leafIndex => bytes32 leaf) internal leaves;
    uint256[] internal leafIndices;
    mapping(uint256 leafIndex => bool) internal leafKnown;
    bytes32[28] internal zeroHashes;

    function setUp() public virtual {
        oracle = new PreimageOracle();
        mips = new MIPS(oracle);
        for (uint256 h = 1; h < 28; h++) {
            zeroHashes[h] = keccak256(abi.encodePacked(zeroHashes[h - 1], zeroHashes[h - 1]));
        }
    }

    // ---------------------------------------------------------------- memory

    function writeWord(uint32 addr, uint32 word) internal {
        require(addr & 3 == 0, "writeWord: unaligned");
        uint256 index = addr >> 5;
        if (!leafKnown[index]) {
            leafKnown[index] = true;
            leafIndices.push(index);
        }
        uint256 shift = 224 - 8 * uint256(addr & 0x1c);
        uint256 leaf = uint256(leaves[index]);
        leaf = (leaf & ~(uint256(0xffffffff) << shift)) | (uint256(word) << shift);
        leaves[index] = bytes32(leaf);
    }

    function readWord(uint32 addr) internal view returns (uint32) {
        uint256 shift = 224 - 8 * uint256(addr & 0x1c);
        return uint32(uint256(leaves[addr >> 5]) >> shift);
    }

    /// @notice Root of the subtree of height `h` at position `i` (leaf level h = 0).
    function nodeAt(uint256 h, uint256 i) internal view returns (bytes32) {
        uint256 lo = i << h;
        uint256 hi = (i + 1) << h;
        bool any;
        for (uint256 k = 0; k < leafIndices.length; k++) {
            if (leafIndices[k] >= lo && leafIndices[k] < hi) {
                any = true;
                break;
            }
        }
        if (!any) return zeroHashes[h];
        if (h == 0) return leaves[i];
        return keccak256(abi.encodePacked(nodeAt(h - 1, 2 * i), nodeAt(h - 1, 2 * i + 1)));
    }

    function memRoot() internal view returns (bytes32) {
        return nodeAt(27, 0);
    }

    /// @notice The 896-byte proof of the leaf containing `addr`.
    function memProof(uint32 addr) internal view returns (bytes memory proof) {
        uint256 index = addr >> 5;
        proof = abi.encodePacked(leaves[index]);
        for (uint256 h = 0; h < 27; h++) {
            proof = bytes.concat(proof, nodeAt(h, (index >> h) ^ 1));
        }
    }

    // ---------------------------------------------------------------- state

    function newState() internal pure returns (MIPSState.State memory s) {
        s.pc = START_PC;
        s.nextPC = START_PC + 4;
        s.heap = HEAP_START;
        s.registers[29] = STACK_TOP;
    }

    /// @notice A deep copy (struct assignment would share the registers array).
    function copyState(MIPSState.State memory s) internal pure returns (MIPSState.State memory c) {
        c.memRoot = s.memRoot;
        c.preimageKey = s.preimageKey;
        c.preimageOffset = s.preimageOffset;
        c.pc = s.pc;
        c.nextPC = s.nextPC;
        c.lo = s.lo;
        c.hi = s.hi;
        c.heap = s.heap;
        c.exitCode = s.exitCode;
        c.exited = s.exited;
        c.step = s.step;
        for (uint256 i = 0; i < 32; i++) {
            c.registers[i] = s.registers[i];
        }
    }

    function encode(MIPSState.State memory s) internal pure returns (bytes memory) {
        return MIPSState.encodeState(s);
    }

    function hashOf(MIPSState.State memory s) internal pure returns (bytes32) {
        return MIPSState.stateHash(s);
    }

    /// @notice Puts `insn` at `s.pc`, fixes `s.memRoot` to the sparse memory, and returns the proof
    ///         bytes: the instruction proof, then the data proof of `dataAddr` if `withData`.
    function prepare(
        MIPSState.State memory s,
        uint32 insn,
        bool withData,
        uint32 dataAddr
    )
        internal
        returns (bytes memory proof)
    {
        writeWord(s.pc, insn);
        s.memRoot = memRoot();
        proof = memProof(s.pc);
        if (withData) proof = bytes.concat(proof, memProof(dataAddr & ~uint32(3)));
    }

    /// @notice Runs one step of `s` (already prepared) and returns the post-state hash.
    function runStep(MIPSState.State memory s, bytes memory proof) internal view returns (bytes32) {
        return mips.step(encode(s), proof, CONTEXT);
    }

    /// @notice The state after a non-branch step: pc advanced, step + 1.
    function advanced(MIPSState.State memory s) internal pure returns (MIPSState.State memory e) {
        e = copyState(s);
        unchecked {
            e.pc = s.nextPC;
            e.nextPC = s.nextPC + 4;
            e.step = s.step + 1; // wraps modulo 2^64 (§4.1)
        }
    }

    // ---------------------------------------------------------------- encoders

    function rType(uint32 rs, uint32 rt, uint32 rd, uint32 sa, uint32 fun) internal pure returns (uint32) {
        return (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | fun;
    }

    function special2(uint32 rs, uint32 rt, uint32 rd, uint32 fun) internal pure returns (uint32) {
        return (0x1c << 26) | rType(rs, rt, rd, 0, fun);
    }

    function special3(uint32 rs, uint32 rt, uint32 rd, uint32 sa, uint32 fun) internal pure returns (uint32) {
        return (0x1f << 26) | rType(rs, rt, rd, sa, fun);
    }

    function iType(uint32 opcode, uint32 rs, uint32 rt, uint16 imm) internal pure returns (uint32) {
        return (opcode << 26) | (rs << 21) | (rt << 16) | uint32(imm);
    }

    function jType(uint32 opcode, uint32 index) internal pure returns (uint32) {
        return (opcode << 26) | (index & 0x03ffffff);
    }

    function syscallInsn() internal pure returns (uint32) {
        return 0x0000000c;
    }
}

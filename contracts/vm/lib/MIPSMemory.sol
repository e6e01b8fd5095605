// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { InvalidMemoryProof, InvalidProofLength, UnalignedAccess } from "./MIPSErrors.sol";

/// @title MIPSMemory
/// @notice Reads and writes 32-bit words of the VM memory against its Merkle root (docs/protocol.md §4.2).
///
///         Memory is a binary Merkle tree of depth 27 over 2^27 leaves of 32 bytes; a leaf is its bytes
///         unhashed, an inner node `keccak256(left ‖ right)`. A memory proof is 896 bytes: the leaf, then
///         its 27 siblings from the bottom up. `proof` (the step's witness) holds proof 0 (instruction)
///         at bytes [0, 896) and proof 1 (data) at [896, 1792).
///
///         A read checks the proof against the root. A read-modify-write (stores, preimage reads) takes
///         the old word with `wordFromProof` and hands the new one to `writeMem`, which checks the same
///         proof against the old root while computing the new one: one walk instead of two.
library MIPSMemory {
    /// @notice Depth of the memory tree (32-bit addresses, 32-byte leaves).
    uint256 internal constant MEM_PROOF_DEPTH = 27;
    /// @notice Bytes in one memory proof: the leaf and 27 siblings.
    uint256 internal constant MEM_PROOF_SIZE = 896;

    /// @notice Reads the word at the word-aligned `addr`, proven by proof `proofIndex` against `memRoot`.
    /// @dev Reverts `UnalignedAccess(addr)` if `addr % 4 != 0`, `InvalidProofLength` if `proof` is too
    ///      short, `InvalidMemoryProof` if the proof does not open to `memRoot`.
    function readMem(
        bytes32 memRoot,
        uint32 addr,
        bytes calldata proof,
        uint256 proofIndex
    )
        internal
        pure
        returns (uint32 word)
    {
        uint256 offset = _proofOffset(addr, proof, proofIndex);
        bytes32 leaf;
        bytes32 root;
        // Assembly: walks the 27 levels, unrolled, with the scratch space (0x00-0x3f) as the keccak
        // input and no branches: the node goes to 0x00 when it is a left child (index bit 0) and to
        // 0x20 when it is a right child, the sibling to the other half. Safe: `_proofOffset` checked
        // that the 896 bytes at `offset` lie inside `proof`, so every calldataload (offset + 0 ..
        // offset + 864) reads proof bytes; only scratch space is written.
        assembly ("memory-safe") {
            leaf := calldataload(offset)
            let index := shr(5, and(addr, 0xffffffff))
            let node := leaf
            let slot
            slot := shl(5, and(index, 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x20)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(1, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x40)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(2, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x60)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(3, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x80)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(4, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xa0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(5, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xc0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(6, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xe0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(7, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x100)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(8, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x120)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(9, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x140)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(10, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x160)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(11, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x180)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(12, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1a0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(13, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1c0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(14, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1e0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(15, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x200)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(16, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x220)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(17, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x240)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(18, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x260)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(19, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x280)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(20, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2a0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(21, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2c0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(22, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2e0)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(23, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x300)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(24, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x320)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(25, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x340)))
            node := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(26, index), 1))
            mstore(slot, node)
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x360)))
            node := keccak256(0x00, 0x40)
            root := node
        }
        if (root != memRoot) revert InvalidMemoryProof();
        word = uint32(uint256(leaf) >> _wordShift(addr));
    }

    /// @notice The word at the word-aligned `addr` as proof `proofIndex` states it, NOT checked against
    ///         any root. Only for read-modify-write: the caller must pass the same proof to `writeMem`,
    ///         which checks it, so the step reverts unless the word was genuine.
    /// @dev Reverts `UnalignedAccess(addr)` or `InvalidProofLength` as `readMem`.
    function wordFromProof(uint32 addr, bytes calldata proof, uint256 proofIndex) internal pure returns (uint32 word) {
        uint256 offset = _proofOffset(addr, proof, proofIndex);
        bytes32 leaf;
        // Assembly: one calldataload inside the proof (bounds checked by `_proofOffset`).
        assembly {
            leaf := calldataload(offset)
        }
        word = uint32(uint256(leaf) >> _wordShift(addr));
    }

    /// @notice Writes `value` to the word-aligned `addr` and returns the new memory root. Checks proof
    ///         `proofIndex` against `memRoot` in the same walk, so it is safe on its own.
    /// @dev Same reverts as `readMem`.
    function writeMem(
        bytes32 memRoot,
        uint32 addr,
        bytes calldata proof,
        uint256 proofIndex,
        uint32 value
    )
        internal
        pure
        returns (bytes32 newMemRoot)
    {
        uint256 offset = _proofOffset(addr, proof, proofIndex);
        uint256 shift = _wordShift(addr);
        bytes32 oldRoot;
        // Assembly: computes the old root (to check the proof) and the new root (with `value` in the
        // leaf) from the same siblings in one unrolled, branchless walk, as in `readMem`: the sibling
        // stays in its half of the scratch space while the old and then the new node are written to
        // the other. Safe for the same reasons as `readMem`; the new leaf clears exactly the 4 bytes of
        // the word (`shift` <= 224) before or-ing in `value`, masked to 32 bits here: Solidity does not
        // clean a uint32 argument for assembly, and bits above 31 would land in the preceding word.
        assembly ("memory-safe") {
            let leaf := calldataload(offset)
            let index := shr(5, and(addr, 0xffffffff))
            let node := leaf
            let newNode := or(and(leaf, not(shl(shift, 0xffffffff))), shl(shift, and(value, 0xffffffff)))
            let slot
            slot := shl(5, and(index, 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x20)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(1, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x40)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(2, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x60)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(3, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x80)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(4, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xa0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(5, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xc0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(6, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0xe0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(7, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x100)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(8, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x120)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(9, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x140)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(10, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x160)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(11, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x180)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(12, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1a0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(13, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1c0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(14, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x1e0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(15, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x200)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(16, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x220)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(17, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x240)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(18, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x260)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(19, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x280)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(20, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2a0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(21, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2c0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(22, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x2e0)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(23, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x300)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(24, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x320)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(25, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x340)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            slot := shl(5, and(shr(26, index), 1))
            mstore(xor(slot, 0x20), calldataload(add(offset, 0x360)))
            mstore(slot, node)
            node := keccak256(0x00, 0x40)
            mstore(slot, newNode)
            newNode := keccak256(0x00, 0x40)
            oldRoot := node
            newMemRoot := newNode
        }
        if (oldRoot != memRoot) revert InvalidMemoryProof();
    }

    /// @notice Calldata offset of proof `proofIndex`, after the alignment and length checks.
    function _proofOffset(
        uint32 addr,
        bytes calldata proof,
        uint256 proofIndex
    )
        private
        pure
        returns (uint256 offset)
    {
        if (addr & 3 != 0) revert UnalignedAccess(addr);
        uint256 needed = (proofIndex + 1) * MEM_PROOF_SIZE;
        if (proof.length < needed) revert InvalidProofLength(needed, proof.length);
        // Assembly: reads `proof.offset`; no memory or calldata access.
        assembly {
            offset := add(proof.offset, mul(proofIndex, 896))
        }
    }

    /// @notice Right shift that brings the word at `addr` (big-endian, inside its leaf) to the bottom.
    function _wordShift(uint32 addr) private pure returns (uint256) {
        return 224 - 8 * uint256(addr & 0x1c);
    }
}

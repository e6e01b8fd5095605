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
        // Assembly: walks the 27 levels with the scratch space (0x00-0x3f) as the keccak input; ~2x
        // cheaper than abi.encodePacked per level. Safe: `_proofOffset` checked that the 896 bytes at
        // `offset` lie inside `proof`, so every calldataload reads proof bytes; only scratch space is written.
        assembly ("memory-safe") {
            leaf := calldataload(offset)
            let node := leaf
            let index := shr(5, addr)
            let siblings := add(offset, 32)
            for { let h := 0 } lt(h, 27) { h := add(h, 1) } {
                let sibling := calldataload(add(siblings, shl(5, h)))
                switch and(shr(h, index), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
            root := node
        }
        if (root != memRoot) revert InvalidMemoryProof();
        word = uint32(uint256(leaf) >> _wordShift(addr));
    }

    /// @notice Writes `value` to the word-aligned `addr` and returns the new memory root. Checks proof
    ///         `proofIndex` against `memRoot` in the same pass, so it is safe on its own.
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
        // leaf) from the same siblings in one walk. Safe for the same reasons as in `readMem`; the new
        // leaf clears exactly the 4 bytes of the word (`shift` <= 224) before or-ing in the clean uint32.
        assembly ("memory-safe") {
            let leaf := calldataload(offset)
            let node := leaf
            let newNode := or(and(leaf, not(shl(shift, 0xffffffff))), shl(shift, value))
            let index := shr(5, addr)
            let siblings := add(offset, 32)
            for { let h := 0 } lt(h, 27) { h := add(h, 1) } {
                let sibling := calldataload(add(siblings, shl(5, h)))
                switch and(shr(h, index), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                    node := keccak256(0x00, 0x40)
                    mstore(0x00, newNode)
                    newNode := keccak256(0x00, 0x40)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                    node := keccak256(0x00, 0x40)
                    mstore(0x20, newNode)
                    newNode := keccak256(0x00, 0x40)
                }
            }
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
        // Assembly: reads `proof.offset`; safe, no memory or calldata access.
        assembly {
            offset := add(proof.offset, mul(proofIndex, 896))
        }
    }

    /// @notice Right shift that brings the word at `addr` (big-endian, inside its leaf) to the bottom.
    function _wordShift(uint32 addr) private pure returns (uint256) {
        return 224 - 8 * uint256(addr & 0x1c);
    }
}

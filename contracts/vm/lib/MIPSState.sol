// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { InvalidState } from "./MIPSErrors.sol";

/// @title MIPSState
/// @notice The VM state, its packed 226-byte encoding and its status-tagged hash (docs/protocol.md §4.1).
///
///         Packed layout (big-endian):
///         ┌────────┬──────┬────────────────┐
///         │ offset │ size │ field          │
///         ├────────┼──────┼────────────────┤
///         │      0 │   32 │ memRoot        │
///         │     32 │   32 │ preimageKey    │
///         │     64 │    4 │ preimageOffset │
///         │     68 │    4 │ pc             │
///         │     72 │    4 │ nextPC         │
///         │     76 │    4 │ lo             │
///         │     80 │    4 │ hi             │
///         │     84 │    4 │ heap           │
///         │     88 │    1 │ exitCode       │
///         │     89 │    1 │ exited         │
///         │     90 │    8 │ step           │
///         │     98 │  128 │ registers[32]  │
///         └────────┴──────┴────────────────┘
library MIPSState {
    /// @notice Size of the packed state in bytes.
    uint256 internal constant STATE_SIZE = 226;

    /// @notice Status byte: exited with code 0.
    uint8 internal constant VM_STATUS_VALID = 0;
    /// @notice Status byte: exited with code 1.
    uint8 internal constant VM_STATUS_INVALID = 1;
    /// @notice Status byte: exited with any other code.
    uint8 internal constant VM_STATUS_PANIC = 2;
    /// @notice Status byte: not exited.
    uint8 internal constant VM_STATUS_UNFINISHED = 3;

    /// @notice The decoded state. Every field is a clean value of its type.
    struct State {
        bytes32 memRoot;
        bytes32 preimageKey;
        uint32 preimageOffset;
        uint32 pc;
        uint32 nextPC;
        uint32 lo;
        uint32 hi;
        uint32 heap;
        uint8 exitCode;
        bool exited;
        uint64 step;
        uint32[32] registers;
    }

    /// @notice Decodes a packed state, reverting with `InvalidState` if it is malformed.
    function decodeState(bytes calldata stateData) internal pure returns (State memory state) {
        if (stateData.length != STATE_SIZE) revert InvalidState();
        uint256 exitedByte;
        // Assembly: field reads straight from calldata are several thousand gas cheaper than slicing.
        // Safe because the length was checked to be 226, so every calldataload below starts inside
        // `stateData` (the last register word, at offset 194, ends exactly at 226). Every value is
        // shifted and masked so only its own bytes remain: each stored field is clean. Writes go only
        // to `state` (a struct Solidity allocated) and its 32-word registers array.
        assembly ("memory-safe") {
            let p := stateData.offset
            mstore(state, calldataload(p)) // memRoot
            mstore(add(state, 0x20), calldataload(add(p, 32))) // preimageKey
            mstore(add(state, 0x40), shr(224, calldataload(add(p, 64)))) // preimageOffset
            mstore(add(state, 0x60), shr(224, calldataload(add(p, 68)))) // pc
            mstore(add(state, 0x80), shr(224, calldataload(add(p, 72)))) // nextPC
            mstore(add(state, 0xa0), shr(224, calldataload(add(p, 76)))) // lo
            mstore(add(state, 0xc0), shr(224, calldataload(add(p, 80)))) // hi
            mstore(add(state, 0xe0), shr(224, calldataload(add(p, 84)))) // heap
            mstore(add(state, 0x100), shr(248, calldataload(add(p, 88)))) // exitCode
            exitedByte := shr(248, calldataload(add(p, 89)))
            mstore(add(state, 0x140), shr(192, calldataload(add(p, 90)))) // step
            // Registers: 4 calldata words of 8 registers each, split with shifts (unrolled by 8).
            let dst := mload(add(state, 0x160))
            let src := add(p, 98)
            for { let w := 0 } lt(w, 4) { w := add(w, 1) } {
                let v := calldataload(add(src, shl(5, w)))
                let d := add(dst, shl(8, w))
                mstore(d, shr(224, v))
                mstore(add(d, 0x20), and(shr(192, v), 0xffffffff))
                mstore(add(d, 0x40), and(shr(160, v), 0xffffffff))
                mstore(add(d, 0x60), and(shr(128, v), 0xffffffff))
                mstore(add(d, 0x80), and(shr(96, v), 0xffffffff))
                mstore(add(d, 0xa0), and(shr(64, v), 0xffffffff))
                mstore(add(d, 0xc0), and(shr(32, v), 0xffffffff))
                mstore(add(d, 0xe0), and(v, 0xffffffff))
            }
        }
        if (exitedByte > 1 || state.registers[0] != 0) revert InvalidState();
        state.exited = exitedByte == 1;
    }

    /// @notice The packed 226-byte encoding of `state` (the inverse of `decodeState`).
    function encodeState(State memory state) internal pure returns (bytes memory packed) {
        packed = abi.encodePacked(
            state.memRoot,
            state.preimageKey,
            state.preimageOffset,
            state.pc,
            state.nextPC,
            state.lo,
            state.hi,
            state.heap,
            state.exitCode,
            state.exited,
            state.step
        );
        // abi.encodePacked would pad array elements to 32 bytes: pack the registers to 4 bytes each.
        for (uint256 i = 0; i < 32; i++) {
            packed = bytes.concat(packed, bytes4(state.registers[i]));
        }
    }

    /// @notice The status byte of a state (§4.1).
    function vmStatus(bool exited, uint8 exitCode) internal pure returns (uint8 status) {
        if (!exited) return VM_STATUS_UNFINISHED;
        if (exitCode == 0) return VM_STATUS_VALID;
        if (exitCode == 1) return VM_STATUS_INVALID;
        return VM_STATUS_PANIC;
    }

    /// @notice `keccak256(packed state)` with its most significant byte replaced by the status.
    function stateHash(State memory state) internal pure returns (bytes32 hash) {
        // Assembly: packs the state into scratch memory past the free memory pointer and hashes it,
        // without allocating (saves thousands of gas over abi.encodePacked). Safe because every field
        // of a `State memory` is clean for its type (uint32 registers cannot overlap when or-ed at
        // 32-bit shifts), each mstore puts its field(s) at the top of a word and fields are written in
        // increasing offset order, so the zero tail of one write is overwritten by the next. Only
        // memory at or past the free memory pointer is written (memory-safe scratch use; the pointer
        // is not advanced, nothing is kept there).
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, mload(state)) // memRoot
            mstore(add(buf, 32), mload(add(state, 0x20))) // preimageKey
            mstore(add(buf, 64), shl(224, mload(add(state, 0x40)))) // preimageOffset
            mstore(add(buf, 68), shl(224, mload(add(state, 0x60)))) // pc
            mstore(add(buf, 72), shl(224, mload(add(state, 0x80)))) // nextPC
            mstore(add(buf, 76), shl(224, mload(add(state, 0xa0)))) // lo
            mstore(add(buf, 80), shl(224, mload(add(state, 0xc0)))) // hi
            mstore(add(buf, 84), shl(224, mload(add(state, 0xe0)))) // heap
            mstore(add(buf, 88), shl(248, mload(add(state, 0x100)))) // exitCode
            mstore(add(buf, 89), shl(248, mload(add(state, 0x120)))) // exited
            mstore(add(buf, 90), shl(192, mload(add(state, 0x140)))) // step
            // Registers: 8 clean uint32s or-ed into each of 4 words (unrolled by 8).
            let src := mload(add(state, 0x160))
            let dst := add(buf, 98)
            for { let w := 0 } lt(w, 4) { w := add(w, 1) } {
                let r := add(src, shl(8, w))
                mstore(
                    add(dst, shl(5, w)),
                    or(
                        or(
                            or(shl(224, mload(r)), shl(192, mload(add(r, 0x20)))),
                            or(shl(160, mload(add(r, 0x40))), shl(128, mload(add(r, 0x60))))
                        ),
                        or(
                            or(shl(96, mload(add(r, 0x80))), shl(64, mload(add(r, 0xa0)))),
                            or(shl(32, mload(add(r, 0xc0))), mload(add(r, 0xe0)))
                        )
                    )
                )
            }
            hash := keccak256(buf, 226)
        }
        uint8 status = vmStatus(state.exited, state.exitCode);
        hash = (hash & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(status) << 248);
    }
}

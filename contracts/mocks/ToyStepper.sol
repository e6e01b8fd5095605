// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBigStepper} from "../vm/interfaces/IBigStepper.sol";
import {IPreimageOracle} from "../vm/interfaces/IPreimageOracle.sol";
import {PreimageKeyLib} from "../vm/lib/PreimageKeyLib.sol";

/// @title ToyStepper
/// @notice Test-only one-step "VM" over the real 226-byte state layout (docs/protocol.md §4.1), to test the dispute
/// game's logic without MIPS witnesses (like Optimism's alphabet VM). A step increments `step`; the state's
/// `preimageKey` (a local key) is read at `preimageOffset` on every step — through the oracle, localized to the
/// calling game — and when `step` reaches `lo` the program exits with code 0 if the part read equals `memRoot`,
/// else 1. So the outcome depends on the local datum the game bound. Never part of a deployment.
contract ToyStepper is IBigStepper {
    IPreimageOracle private immutable ORACLE;

    constructor(IPreimageOracle oracle_) {
        ORACLE = oracle_;
    }

    function oracle() external view returns (IPreimageOracle) {
        return ORACLE;
    }

    function step(bytes calldata stateData, bytes calldata, bytes32 localContext) external view returns (bytes32) {
        bytes memory s = stateData;
        require(s.length == 226, "ToyStepper: state size");
        if (uint8(s[89]) == 1) return stateHash(s);
        bytes32 key = bytes32(stateData[32:64]);
        uint256 offset = uint32(bytes4(stateData[64:68]));
        (bytes32 part,) = ORACLE.readPreimage(PreimageKeyLib.localize(key, msg.sender, localContext), offset);
        return stateHash(next(s, part));
    }

    /// @notice The state after one step that read `part`.
    function next(bytes memory s, bytes32 part) public pure returns (bytes memory out) {
        out = bytes.concat(s);
        uint64 stepCount = uint64(bytes8(_slice(out, 90, 8))) + 1;
        for (uint256 i; i < 8; ++i) out[90 + i] = bytes1(uint8(stepCount >> (8 * (7 - i))));
        uint32 exitAt = uint32(bytes4(_slice(out, 76, 4)));
        if (stepCount >= exitAt) {
            out[89] = bytes1(uint8(1));
            out[88] = bytes1(part == bytes32(_slice(out, 0, 32)) ? uint8(0) : uint8(1));
        }
    }

    /// @notice The status-tagged state hash (§4.1).
    function stateHash(bytes memory s) public pure returns (bytes32) {
        uint256 status = uint8(s[89]) == 0 ? 3 : (uint8(s[88]) == 0 ? 0 : (uint8(s[88]) == 1 ? 1 : 2));
        return bytes32((uint256(keccak256(s)) & ((uint256(1) << 248) - 1)) | (status << 248));
    }

    /// @notice The initial toy state: exits after `exitAt` steps, valid iff the local datum `ident` read at
    /// `offset` equals `expected`.
    function initialState(bytes32 expected, uint256 ident, uint32 offset, uint32 exitAt) external pure returns (bytes memory s) {
        s = new bytes(226);
        for (uint256 i; i < 32; ++i) s[i] = expected[i];
        bytes32 key = PreimageKeyLib.localKey(ident);
        for (uint256 i; i < 32; ++i) s[32 + i] = key[i];
        for (uint256 i; i < 4; ++i) s[64 + i] = bytes1(uint8(offset >> (8 * (3 - i))));
        for (uint256 i; i < 4; ++i) s[76 + i] = bytes1(uint8(exitAt >> (8 * (3 - i))));
    }

    function _slice(bytes memory b, uint256 start, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[start + i];
    }
}

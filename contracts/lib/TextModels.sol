// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EmptyInput, InputTooLong} from "./Errors.sol";

/// @title TextModels
/// @notice The request and delivery rules of text models (docs/protocol.md §1.4, §1.7, §3.3), shared by the oracle
/// and the mock oracle: a prompt is 1..C bytes; a delivery passes the output up to its first 0x00.
library TextModels {
    /// @notice Reverts unless `length` is a text model's prompt length: 1..`maxBytes` (the model's context C).
    function checkPromptLength(uint256 modelId, uint256 length, uint256 maxBytes) internal pure {
        if (length == 0) revert EmptyInput(modelId);
        if (length > maxBytes) revert InputTooLong(modelId, maxBytes, length);
    }

    /// @notice The bytes of `output` before its first 0x00 (all of it if there is none).
    function trimmed(bytes calldata output) internal pure returns (bytes calldata) {
        uint256 end;
        assembly ("memory-safe") {
            let p := output.offset
            let n := output.length
            for {} lt(end, n) { end := add(end, 1) } {
                if iszero(byte(0, calldataload(add(p, end)))) { break }
            }
        }
        return output[:end];
    }
}

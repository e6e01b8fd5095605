// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InsufficientGasForCallback} from "./Errors.sol";

/// @title ExactGasCall
/// @notice Calls an untrusted contract with exactly `gasLimit` gas and a bounded copy of what it returns.
/// @dev Chainlink-style: EIP-150 forwards at most 63/64 of the remaining gas, so a caller that controls the
/// transaction's gas could otherwise starve the callee and still have the call "happen". We revert unless the
/// callee can get its full `gasLimit`. The callee's return data is never copied whole (a callee returning
/// megabytes would make the caller pay for the memory): at most `maxCopy` bytes are copied.
library ExactGasCall {
    /// @dev Gas spent between the check and the CALL opcode, plus the CALL's own base cost; over-estimated.
    uint256 internal constant GAS_FOR_CALL_EXACT_CHECK = 5_000;

    /// @notice Call `target` with `data`, exactly `gasLimit` gas and no value.
    /// @return success Whether the call returned without reverting (false also when `target` has no code).
    /// @return returnData At most the first `maxCopy` bytes returned or reverted with.
    function callWithExactGas(address target, uint256 gasLimit, bytes memory data, uint256 maxCopy)
        internal
        returns (bool success, bytes memory returnData)
    {
        // A callback to an address without code would "succeed" doing nothing; record it as a failure instead.
        if (target.code.length == 0) return (false, returnData);
        bytes4 insufficientGas = InsufficientGasForCallback.selector;
        assembly ("memory-safe") {
            let g := gas()
            // The 63/64 rule: after subtracting the check's own cost, the callee gets at most g - g/64.
            let usable := 0
            if gt(g, GAS_FOR_CALL_EXACT_CHECK) { usable := sub(g, GAS_FOR_CALL_EXACT_CHECK) }
            if iszero(gt(sub(usable, div(usable, 64)), gasLimit)) {
                mstore(0x00, insufficientGas)
                mstore(0x04, g)
                mstore(0x24, gasLimit)
                revert(0x00, 0x44)
            }
            // Out size 0: the callee's return data stays in the return buffer, uncopied.
            success := call(gasLimit, target, 0, add(data, 0x20), mload(data), 0, 0)
            let size := returndatasize()
            if gt(size, maxCopy) { size := maxCopy }
            returnData := mload(0x40)
            mstore(returnData, size)
            returndatacopy(add(returnData, 0x20), 0, size)
            mstore(0x40, add(add(returnData, 0x20), and(add(size, 31), not(31))))
        }
    }

    /// @notice Send `amount` wei to `to` with at most `gasLimit` gas, copying no return data.
    /// @return success Whether the transfer went through.
    function sendValue(address to, uint256 amount, uint256 gasLimit) internal returns (bool success) {
        assembly ("memory-safe") {
            success := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }
}

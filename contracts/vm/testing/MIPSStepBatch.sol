// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IBigStepper } from "../interfaces/IBigStepper.sol";

/// @title MIPSStepBatch
/// @notice TEST ONLY (never deployed by ignition/): runs many witnesses through `IBigStepper.step` in one
///         call, so the differential tests can replay whole traces through one `eth_call` per batch.
///         It is the `msg.sender` of every step, so local data the witnesses read must be loaded through
///         `loadLocalData` here (the oracle localizes it to this contract).
contract MIPSStepBatch {
    /// @notice A witness of the batch reverted instead of returning a hash.
    error StepReverted(uint256 index, bytes reason);

    IBigStepper public immutable VM;

    constructor(IBigStepper vm) {
        VM = vm;
    }

    /// @notice Loads local data for this contract (the caller of every step).
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    )
        external
        returns (bytes32)
    {
        return VM.oracle().loadLocalData(ident, localContext, word, size, partOffset);
    }

    /// @notice Steps every `(states[i], proofs[i])` and compares with `expected[i]`.
    /// @return firstMismatch The index of the first witness whose post-state hash differs, or
    ///         `states.length` if all agree.
    /// @return got What `step` returned for that witness.
    /// @dev Reverts with `StepReverted(i, reason)` if a step reverts.
    function check(
        bytes[] calldata states,
        bytes[] calldata proofs,
        bytes32[] calldata expected,
        bytes32 localContext
    )
        external
        returns (uint256 firstMismatch, bytes32 got)
    {
        uint256 n = states.length;
        for (uint256 i = 0; i < n; i++) {
            try VM.step(states[i], proofs[i], localContext) returns (bytes32 post) {
                if (post != expected[i]) return (i, post);
            } catch (bytes memory reason) {
                revert StepReverted(i, reason);
            }
        }
        return (n, bytes32(0));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IPreimageOracle } from "./IPreimageOracle.sol";

/// @title IBigStepper
/// @notice A one-step verifier of a VM: from a packed pre-state and its witness, the hash of the
///         post-state. The dispute game only knows this interface (it never imports the VM).
///
///         The returned hash carries the VM status in its most significant byte
///         (0 valid, 1 invalid, 2 panic, 3 unfinished; docs/protocol.md §4.1).
interface IBigStepper {
    /// @notice Executes one instruction.
    /// @param stateData The packed 226-byte pre-state.
    /// @param proof The memory proofs: 896 bytes for the instruction, then 896 bytes for the data
    ///        word when the instruction touches memory.
    /// @param localContext The context under which local preimage keys are localized, together with
    ///        `msg.sender` (the calling game).
    /// @return postStateHash The status-tagged hash of the post-state.
    function step(
        bytes calldata stateData,
        bytes calldata proof,
        bytes32 localContext
    )
        external
        returns (bytes32 postStateHash);

    /// @notice The preimage oracle the VM reads from.
    function oracle() external view returns (IPreimageOracle);
}

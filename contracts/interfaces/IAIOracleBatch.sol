// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAIOracleBatch
/// @notice ORA's batch entry points, signature for signature: `requestBatchInference` 0x409694fa,
/// `estimateFeeBatch` 0x5170b6af (as in ORA's published IAIOracle; the DA enums are uint8 in the ABI).
/// @dev A batch here is `batchSize` ordinary requests made in one call (docs/protocol.md §1.9): the input is the
/// items' model inputs back to back, each item gets its own request id (consecutive, the first returned), its own
/// claim, dispute, callback (with `gasLimit` gas and `callbackData`), settlement or refund.
interface IAIOracleBatch {
    /// @notice ORA's data-availability choice for inputs and outputs. Only `Calldata` is supported here.
    enum DA {
        Calldata,
        Blob,
        IPFS
    }

    /// @notice Make `batchSize` requests of `modelId` at once; `input` is their inputs back to back (each exactly the
    /// model's input length). Pay at least {estimateFeeBatch}; excess is refunded.
    /// @return firstRequestId The first item's request id; item `i` (from 0) is `firstRequestId + i`.
    function requestBatchInference(
        uint256 batchSize,
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData,
        DA inputDA,
        DA outputDA
    ) external payable returns (uint256 firstRequestId);

    /// @notice The fee of {requestBatchInference}: `batchSize` times {IAIOracle-estimateFee}(modelId, gasLimit).
    function estimateFeeBatch(uint256 modelId, uint256 gasLimit, uint256 batchSize) external view returns (uint256);
}

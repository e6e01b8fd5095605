// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAIOracle
/// @notice The ORA OAO surface, signature for signature: contracts written for ORA's OAO compile and run
/// against it unchanged. Selectors: requestCallback 0x5b953806, estimateFee 0x00e1d8d0, isFinalized 0x33727c4d.
interface IAIOracle {
    /// @notice A request was made. `account` is the requester (msg.sender of the request).
    event AICallbackRequest(
        address indexed account,
        uint256 indexed requestId,
        uint256 modelId,
        bytes input,
        address callbackContract,
        uint64 gasLimit,
        bytes callbackData
    );

    /// @notice A result was delivered to the requester (emitted at every delivery, also without a callback).
    /// `account` is the requester, `invoker` the account whose transaction executed the delivery.
    event AICallbackResult(address indexed account, uint256 indexed requestId, address invoker, bytes output);

    /// @notice Ask for an inference of `modelId` on `input`; the result is passed to
    /// `callbackContract.aiOracleCallback(requestId, output, callbackData)` with exactly `gasLimit` gas.
    /// Delivery is OAO-style: at commit, and again if the committed result is overturned.
    /// @dev Must be paid at least {estimateFee}(modelId, gasLimit); any excess is refunded.
    /// @return requestId The new request's id (ids start at 1).
    function requestCallback(
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData
    ) external payable returns (uint256 requestId);

    /// @notice The fee in wei a request to `modelId` with callback gas `gasLimit` costs now (for a token-priced model,
    /// the wei part only: its model fee is pulled in the token, docs/protocol.md §1.5).
    function estimateFee(uint256 modelId, uint256 gasLimit) external view returns (uint256);

    /// @notice Whether the request's result can no longer change.
    function isFinalized(uint256 requestId) external view returns (bool);
}

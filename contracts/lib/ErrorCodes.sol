// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ErrorCodes
/// @notice The `errorCode` values of {IAIOracleCallbackReceiver-aiOracleCallbackError} (docs/protocol.md §1.8).
/// Codes 0 and 1 are ORA's (`IAIOracle.AIOracleError`) with ORA's meanings; ours follow ORA's last code, so a consumer
/// written for ORA never mistakes one of ours for one of its own.
library ErrorCodes {
    /// @notice ORA's `InvalidInput`: the input cannot be parsed. This oracle checks inputs when the request is made
    /// (`InputLengthMismatch` reverts the request), so it never sends this code; it is reserved with ORA's meaning.
    uint8 internal constant INVALID_INPUT = 0;
    /// @notice ORA's `InvalidBatchSize`: `batchSize` does not cover the batch's inputs. Checked when the batch is made
    /// (`BatchInputLengthMismatch` reverts it), so never sent; reserved with ORA's meaning.
    uint8 internal constant INVALID_BATCH_SIZE = 1;
    /// @notice No claim was committed by the request's deadline; the fees were refunded.
    /// `errorData` = abi.encode(uint256 refundedWei).
    uint8 internal constant EXPIRED = 2;
    /// @notice A dispute game found the request undecidable (docs/protocol.md §5.4): no result can be verified, the
    /// fees were refunded. `errorData` = abi.encode(uint256 refundedWei).
    uint8 internal constant UNDECIDABLE = 3;
}

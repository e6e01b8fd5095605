// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAIOracleCallbackReceiver
/// @notice What the oracle calls on a requester's callback contract.
interface IAIOracleCallbackReceiver {
    /// @notice The result of `requestId` (selector 0xb0347814, as ORA's OAO). Called only by the oracle, with
    /// exactly the gas the request asked for.
    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData) external;

    /// @notice The request failed (selector 0x8e6fd006, as ORA's OAO). Called only by the oracle.
    /// @param errorCode Why ({ErrorCodes}, docs/protocol.md §1.8): 0 and 1 are ORA's (`InvalidInput`,
    /// `InvalidBatchSize`; never sent here: checked at request time), 2 = expired (no claim by the deadline),
    /// 3 = undecidable (a game could not decide the request). Fees are refunded for 2 and 3.
    /// @param errorData Details for the code; for 2 and 3: abi.encode(uint256 refundedAmount).
    function aiOracleCallbackError(
        uint256 requestId,
        uint8 errorCode,
        bytes calldata errorData,
        bytes calldata callbackData
    ) external;
}

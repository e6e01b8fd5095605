// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {UnauthorizedCallbackSender, ZeroAddress} from "../lib/Errors.sol";

/// @title AIOracleCallbackReceiver
/// @notice Base for dapps that receive oracle results. The caller check is built in: only the oracle given at
/// construction can reach {_onAIOracleResult} and {_onAIOracleError}, so a dapp cannot forget it. (ORA's base
/// leaves the check to the dapp and lets anyone call its error callback.)
/// @dev The oracle calls back with exactly the request's gas limit; a reverting hook is recorded by the oracle
/// and does not block the request, but the dapp then misses that result: keep hooks cheap and total.
abstract contract AIOracleCallbackReceiver is IAIOracleCallbackReceiver {
    /// @notice The oracle this contract accepts callbacks from.
    IAIOracle public immutable aiOracle;

    constructor(IAIOracle aiOracle_) {
        if (address(aiOracle_) == address(0)) revert ZeroAddress();
        aiOracle = aiOracle_;
    }

    modifier onlyAIOracle() {
        if (msg.sender != address(aiOracle)) revert UnauthorizedCallbackSender(msg.sender, address(aiOracle));
        _;
    }

    /// @inheritdoc IAIOracleCallbackReceiver
    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        external
        onlyAIOracle
    {
        _onAIOracleResult(requestId, output, callbackData);
    }

    /// @inheritdoc IAIOracleCallbackReceiver
    function aiOracleCallbackError(
        uint256 requestId,
        uint8 errorCode,
        bytes calldata errorData,
        bytes calldata callbackData
    ) external onlyAIOracle {
        _onAIOracleError(requestId, errorCode, errorData, callbackData);
    }

    /// @dev A result for `requestId`. With OAO-style delivery this runs at commit and again if the result is
    /// overturned; `aiOracle.isFinalized(requestId)` says whether it can still change.
    function _onAIOracleResult(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        internal
        virtual;

    /// @dev The request failed (errorCode 2: expired, 3: undecidable; both refunded; see {ErrorCodes}). Does nothing
    /// unless overridden.
    function _onAIOracleError(
        uint256 requestId,
        uint8 errorCode,
        bytes calldata errorData,
        bytes calldata callbackData
    ) internal virtual {}
}

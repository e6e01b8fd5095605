// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {AIOracleCallbackReceiver} from "../oracle/AIOracleCallbackReceiver.sol";

/// @title RecordingReceiver
/// @notice Test-only well-behaved consumer: records every result and error it receives, the gas it was given,
/// and whether the oracle said the result was final at that moment.
contract RecordingReceiver is AIOracleCallbackReceiver {
    struct Delivery {
        uint256 requestId;
        bytes output;
        bytes callbackData;
        bool finalizedAtCall;
        uint256 gasAtEntry;
    }

    struct ErrorReport {
        uint256 requestId;
        uint8 errorCode;
        bytes errorData;
        bytes callbackData;
    }

    Delivery[] private _deliveries;
    ErrorReport[] private _errors;

    constructor(IAIOracle aiOracle_) AIOracleCallbackReceiver(aiOracle_) {}

    function deliveryCount() external view returns (uint256) {
        return _deliveries.length;
    }

    function deliveryAt(uint256 i) external view returns (Delivery memory) {
        return _deliveries[i];
    }

    function errorCount() external view returns (uint256) {
        return _errors.length;
    }

    function errorAt(uint256 i) external view returns (ErrorReport memory) {
        return _errors[i];
    }

    function _onAIOracleResult(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        internal
        override
    {
        uint256 gasAtEntry = gasleft();
        _deliveries.push(Delivery(requestId, output, callbackData, aiOracle.isFinalized(requestId), gasAtEntry));
    }

    function _onAIOracleError(uint256 requestId, uint8 errorCode, bytes calldata errorData, bytes calldata callbackData)
        internal
        override
    {
        _errors.push(ErrorReport(requestId, errorCode, errorData, callbackData));
    }

    receive() external payable {}
}

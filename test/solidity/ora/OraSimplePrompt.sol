// SPDX-License-Identifier: MIT
pragma solidity ^0.8.9;

import {OraIAIOracle, OraCallbackReceiver} from "./OraInterfaces.sol";

/// @dev An event-only prompt consumer in the pattern of ORA's `SimplePrompt`: it stores nothing; the callback only
/// emits the output. No `receive()`, no withdraw.
contract OraSimplePrompt is OraCallbackReceiver {
    event promptsUpdated(uint256 requestId, string output, bytes callbackData);
    event promptRequest(uint256 requestId, address sender, uint256 modelId, string prompt);

    address public immutable owner;
    mapping(uint256 modelId => uint64) public callbackGasLimit;

    constructor(OraIAIOracle _aiOracle) OraCallbackReceiver(_aiOracle) {
        owner = msg.sender;
    }

    function setCallbackGasLimit(uint256 modelId, uint64 gasLimit) external {
        require(msg.sender == owner, "Only owner");
        callbackGasLimit[modelId] = gasLimit;
    }

    function estimateFee(uint256 modelId) public view returns (uint256) {
        return aiOracle.estimateFee(modelId, callbackGasLimit[modelId]);
    }

    function calculateAIResult(uint256 modelId, string calldata prompt) external payable returns (uint256 requestId) {
        requestId = aiOracle.requestCallback{value: msg.value}(modelId, bytes(prompt), address(this), callbackGasLimit[modelId], "");
        emit promptRequest(requestId, msg.sender, modelId, prompt);
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        external
        override
        onlyAIOracleCallback
    {
        emit promptsUpdated(requestId, string(output), callbackData);
    }
}

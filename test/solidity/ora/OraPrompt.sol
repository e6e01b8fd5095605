// SPDX-License-Identifier: MIT
pragma solidity ^0.8.9;

import {OraIAIOracle, OraCallbackReceiver} from "./OraInterfaces.sol";

/// @dev A storing prompt consumer in the pattern of ORA's `Prompt`: the user pays through `calculateAIResult`
/// (its whole msg.value is forwarded), the request is kept under its id, and the callback stores
/// `prompts[modelId][prompt] = string(output)`. Like ORA's examples it has no `receive()` and no way to withdraw.
contract OraPrompt is OraCallbackReceiver {
    event promptsUpdated(uint256 requestId, uint256 modelId, string input, string output, bytes callbackData);
    event promptRequest(uint256 requestId, address sender, uint256 modelId, string prompt);

    struct AIOracleRequest {
        address sender;
        uint256 modelId;
        bytes input;
        bytes output;
    }

    address public immutable owner;
    mapping(uint256 requestId => AIOracleRequest) public requests;
    mapping(uint256 modelId => uint64) public callbackGasLimit;
    mapping(uint256 modelId => mapping(string prompt => string output)) public prompts;

    constructor(OraIAIOracle _aiOracle) OraCallbackReceiver(_aiOracle) {
        owner = msg.sender;
    }

    function setCallbackGasLimit(uint256 modelId, uint64 gasLimit) external {
        require(msg.sender == owner, "Only owner");
        callbackGasLimit[modelId] = gasLimit;
    }

    function getAIResult(uint256 modelId, string calldata prompt) external view returns (string memory) {
        return prompts[modelId][prompt];
    }

    function estimateFee(uint256 modelId) public view returns (uint256) {
        return aiOracle.estimateFee(modelId, callbackGasLimit[modelId]);
    }

    function calculateAIResult(uint256 modelId, string calldata prompt) external payable returns (uint256 requestId) {
        bytes memory input = bytes(prompt);
        requestId = aiOracle.requestCallback{value: msg.value}(modelId, input, address(this), callbackGasLimit[modelId], "");
        AIOracleRequest storage request = requests[requestId];
        request.sender = msg.sender;
        request.modelId = modelId;
        request.input = input;
        emit promptRequest(requestId, msg.sender, modelId, prompt);
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        external
        override
        onlyAIOracleCallback
    {
        AIOracleRequest storage request = requests[requestId];
        require(request.sender != address(0), "request does not exist");
        request.output = output;
        prompts[request.modelId][string(request.input)] = string(output);
        emit promptsUpdated(requestId, request.modelId, string(request.input), string(output), callbackData);
    }
}

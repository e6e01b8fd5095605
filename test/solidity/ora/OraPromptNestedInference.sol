// SPDX-License-Identifier: MIT
pragma solidity ^0.8.9;

import {OraIAIOracle, OraCallbackReceiverPayable} from "./OraInterfaces.sol";

/// @dev A nested-inference consumer in the pattern of ORA's `PromptNestedInference` (ORA's interaction template):
/// the first request carries `abi.encode(model2Id)` as its callbackData, and its callback stores the output and
/// makes the second request — `model2Id` on the same prompt, with empty callbackData — from inside the callback.
/// ORA's template pays the second request with the callback's msg.value; neither ORA's oracle nor this one sends
/// value with a callback, so here the user prepays both stages in `calculateAIResult` and the callback forwards the
/// second stage's prepayment (the oracle refunds any excess of it, §1.5). No `receive()`, no withdraw.
contract OraPromptNestedInference is OraCallbackReceiverPayable {
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
    /// @dev First request id => wei the user prepaid for the second stage (0 once it is requested).
    mapping(uint256 requestId => uint256) public prepaid;
    /// @dev First request id => the second request's id (0 until the first callback made it).
    mapping(uint256 requestId => uint256) public nestedRequestOf;

    constructor(OraIAIOracle _aiOracle) OraCallbackReceiverPayable(_aiOracle) {
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

    /// @notice Pay at least estimateFee(model1Id) + estimateFee(model2Id): the first is sent with the first request,
    /// the rest is forwarded with the second.
    function calculateAIResult(uint256 model1Id, uint256 model2Id, string calldata prompt) external payable returns (uint256 requestId) {
        bytes memory input = bytes(prompt);
        uint256 fee1 = estimateFee(model1Id);
        require(msg.value >= fee1 + estimateFee(model2Id), "insufficient fee for both stages");
        requestId = aiOracle.requestCallback{value: fee1}(
            model1Id, input, address(this), callbackGasLimit[model1Id], abi.encode(model2Id)
        );
        AIOracleRequest storage request = requests[requestId];
        request.sender = msg.sender;
        request.modelId = model1Id;
        request.input = input;
        prepaid[requestId] = msg.value - fee1;
        emit promptRequest(requestId, msg.sender, model1Id, prompt);
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        external
        payable
        override
        onlyAIOracleCallback
    {
        AIOracleRequest storage request = requests[requestId];
        require(request.sender != address(0), "request does not exist");
        request.output = output;
        prompts[request.modelId][string(request.input)] = string(output);

        // A first-stage callback (callbackData = the second model) makes the second request, once: a redelivery
        // after an overturn finds the prepayment spent.
        uint256 value = prepaid[requestId];
        if (callbackData.length != 0 && value != 0) {
            prepaid[requestId] = 0;
            uint256 model2Id = abi.decode(callbackData, (uint256));
            uint256 secondId = aiOracle.requestCallback{value: value}(
                model2Id, request.input, address(this), callbackGasLimit[model2Id], ""
            );
            nestedRequestOf[requestId] = secondId;
            AIOracleRequest storage second = requests[secondId];
            second.sender = request.sender;
            second.modelId = model2Id;
            second.input = request.input;
        }
        emit promptsUpdated(requestId, request.modelId, string(request.input), string(output), callbackData);
    }
}

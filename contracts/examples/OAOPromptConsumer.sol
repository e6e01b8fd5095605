// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @dev The interface ORA's users write against: the three OAO functions, verbatim. Nothing from this project is
/// imported, to prove that a contract written for ORA's OAO works against our oracle unchanged.
interface IOraAIOracle {
    function requestCallback(
        uint256 modelId,
        bytes memory input,
        address callbackContract,
        uint64 gasLimit,
        bytes memory callbackData
    ) external payable returns (uint256);

    function estimateFee(uint256 modelId, uint256 gasLimit) external view returns (uint256);

    function isFinalized(uint256 requestId) external view returns (bool);
}

/// @title OAOPromptConsumer
/// @notice Example consumer in the style of ORA's Prompt example, written only against the four OAO functions
/// (the three above and the `aiOracleCallback` it implements). It does its own caller check, as ORA users do.
contract OAOPromptConsumer {
    error UnauthorizedCallbackSource(address sender);

    event PromptRequest(uint256 requestId, address sender, uint256 modelId, string prompt);
    event PromptsUpdated(uint256 requestId, uint256 modelId, string input, string output, bytes callbackData);

    struct AIOracleRequest {
        address sender;
        uint256 modelId;
        bytes input;
        bytes output;
    }

    uint64 public constant CALLBACK_GAS_LIMIT = 500_000;

    IOraAIOracle public immutable aiOracle;
    mapping(uint256 requestId => AIOracleRequest) public requests;
    mapping(uint256 modelId => mapping(string prompt => string)) public prompts;

    constructor(IOraAIOracle aiOracle_) {
        aiOracle = aiOracle_;
    }

    function estimateFee(uint256 modelId) public view returns (uint256) {
        return aiOracle.estimateFee(modelId, CALLBACK_GAS_LIMIT);
    }

    function calculateAIResult(uint256 modelId, string calldata prompt) external payable returns (uint256 requestId) {
        bytes memory input = bytes(prompt);
        requestId = aiOracle.requestCallback{value: msg.value}(
            modelId, input, address(this), CALLBACK_GAS_LIMIT, abi.encode(modelId)
        );
        requests[requestId] = AIOracleRequest({sender: msg.sender, modelId: modelId, input: input, output: ""});
        emit PromptRequest(requestId, msg.sender, modelId, prompt);
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData) external {
        if (msg.sender != address(aiOracle)) revert UnauthorizedCallbackSource(msg.sender);
        AIOracleRequest storage request = requests[requestId];
        request.output = output;
        prompts[request.modelId][string(request.input)] = string(output);
        emit PromptsUpdated(requestId, request.modelId, string(request.input), string(output), callbackData);
    }

    function isFinalized(uint256 requestId) external view returns (bool) {
        return aiOracle.isFinalized(requestId);
    }

    function getAIResult(uint256 modelId, string calldata prompt) external view returns (string memory) {
        return prompts[modelId][prompt];
    }

    receive() external payable {}
}

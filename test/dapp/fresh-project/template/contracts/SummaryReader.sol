// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracle} from "@oao/contracts/src/interfaces/IAIOracle.sol";
import {AIOracleCallbackReceiver} from "@oao/contracts/src/oracle/AIOracleCallbackReceiver.sol";

/// A dapp's consumer: asks the oracle for an inference and stores what the callback brings.
contract SummaryReader is AIOracleCallbackReceiver {
    uint64 public constant CALLBACK_GAS = 200_000;
    uint256 public immutable modelId;
    mapping(uint256 requestId => bytes output) public outputs;
    mapping(uint256 requestId => uint8 code) public errors;

    constructor(IAIOracle oracle, uint256 modelId_) AIOracleCallbackReceiver(oracle) {
        modelId = modelId_;
    }

    function ask(bytes calldata input) external payable returns (uint256 requestId) {
        requestId = aiOracle.requestCallback{value: msg.value}(modelId, input, address(this), CALLBACK_GAS, "");
    }

    function _onAIOracleResult(uint256 requestId, bytes calldata output, bytes calldata) internal override {
        outputs[requestId] = output;
    }

    function _onAIOracleError(uint256 requestId, uint8 code, bytes calldata, bytes calldata) internal override {
        errors[requestId] = code;
    }
}

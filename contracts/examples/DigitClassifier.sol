// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {AIOracleCallbackReceiver} from "../oracle/AIOracleCallbackReceiver.sol";

/// @title DigitClassifier
/// @notice Example dapp: asks the oracle to classify a 28x28 grayscale digit (784 bytes, one byte per pixel,
/// row by row) with an MNIST model, and stores the digit. Inherits the receiver base, so only the oracle can
/// deliver results.
/// @dev Image format: the model's input tensor, int8[1,784], i.e. each pixel quantized with the model's input
/// scale and zero point (`oao model info --model mnist`). Output formats: ten int8 scores (the shipped MNIST
/// model's quantized softmax, int8[1,10]), ten big-endian int32 logits, or one byte (the class index); the
/// argmax of the scores is the digit. The result may be overturned in a dispute; `isFinal` tells when it can't.
contract DigitClassifier is AIOracleCallbackReceiver {
    uint256 public constant IMAGE_BYTES = 784;
    uint64 public constant CALLBACK_GAS_LIMIT = 200_000;
    uint8 public constant NO_DIGIT = type(uint8).max;

    error InvalidImageLength(uint256 length, uint256 expected);
    error FeeTooLow(uint256 paid, uint256 fee);
    error RefundFailed(address to, uint256 amount);

    event ClassificationRequested(uint256 indexed requestId, address indexed user);
    event DigitClassified(uint256 indexed requestId, uint8 digit);
    event ClassificationFailed(uint256 indexed requestId, uint8 errorCode);

    uint256 public immutable modelId;
    /// @notice The digit of each request, NO_DIGIT until a valid result arrives.
    mapping(uint256 requestId => uint8) public digitOf;
    mapping(uint256 requestId => address) public userOf;

    constructor(IAIOracle aiOracle_, uint256 modelId_) AIOracleCallbackReceiver(aiOracle_) {
        modelId = modelId_;
    }

    /// @notice The fee {classify} needs now.
    function fee() public view returns (uint256) {
        return aiOracle.estimateFee(modelId, CALLBACK_GAS_LIMIT);
    }

    /// @notice Request classification of `image`. Pay at least {fee}; the excess is returned.
    function classify(bytes calldata image) external payable returns (uint256 requestId) {
        if (image.length != IMAGE_BYTES) revert InvalidImageLength(image.length, IMAGE_BYTES);
        uint256 required = fee();
        if (msg.value < required) revert FeeTooLow(msg.value, required);
        requestId = aiOracle.requestCallback{value: required}(modelId, image, address(this), CALLBACK_GAS_LIMIT, "");
        digitOf[requestId] = NO_DIGIT;
        userOf[requestId] = msg.sender;
        emit ClassificationRequested(requestId, msg.sender);
        uint256 excess = msg.value - required;
        if (excess != 0) {
            (bool ok,) = payable(msg.sender).call{value: excess}("");
            if (!ok) revert RefundFailed(msg.sender, excess);
        }
    }

    /// @notice Whether the stored digit of `requestId` can no longer change.
    function isFinal(uint256 requestId) external view returns (bool) {
        return aiOracle.isFinalized(requestId);
    }

    function _onAIOracleResult(uint256 requestId, bytes calldata output, bytes calldata) internal override {
        uint8 digit = _digit(output);
        digitOf[requestId] = digit;
        emit DigitClassified(requestId, digit);
    }

    function _onAIOracleError(uint256 requestId, uint8 errorCode, bytes calldata, bytes calldata)
        internal
        override
    {
        emit ClassificationFailed(requestId, errorCode);
    }

    /// @dev One byte: the class. Ten bytes: argmax of ten int8 scores. Forty bytes: argmax of ten int32 logits.
    /// The first maximum wins. Anything else: NO_DIGIT.
    function _digit(bytes calldata output) private pure returns (uint8) {
        if (output.length == 1) return uint8(output[0]) < 10 ? uint8(output[0]) : NO_DIGIT;
        if (output.length == 10) {
            uint8 top;
            for (uint8 i = 1; i < 10; ++i) {
                if (int8(uint8(output[i])) > int8(uint8(output[top]))) top = i;
            }
            return top;
        }
        if (output.length != 40) return NO_DIGIT;
        uint8 best;
        int32 bestScore = type(int32).min;
        for (uint8 i = 0; i < 10; ++i) {
            int32 score = int32(uint32(bytes4(output[i * 4:i * 4 + 4])));
            if (i == 0 || score > bestScore) {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    /// @dev Receives refunds the oracle pushes back (e.g. an expired request).
    receive() external payable {}
}

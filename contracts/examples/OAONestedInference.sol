// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IOraAIOracle} from "./OAOPromptConsumer.sol";

/// @title OAONestedInference
/// @notice Example consumer of ORA's "nested inference" pattern, written only against ORA's OAO interface: one call
/// pays for two inferences; the first request's callback feeds its output as the input of a second request, made
/// from inside that callback (docs/protocol.md §1.7 allows requests, and only requests, from a callback). The
/// second model id travels in the first request's `callbackData`; the second request has empty `callbackData`,
/// which is how the callback tells the two stages apart.
/// @dev Differences from ORA's template, all for robustness: the user's prepayment for the second stage is held
/// here and whatever is not spent (a cheaper quote at callback time, a failed or expired stage) is withdrawable by
/// the user; a failing second request does not revert the callback (the first output is stored either way); and a
/// redelivery of the first stage after an overturn updates the stored first output without starting a second
/// chain (the second request was already paid for and made).
contract OAONestedInference {
    error UnauthorizedCallbackSource(address sender);
    error InsufficientPrepayment(uint256 paid, uint256 required);
    error NoBalance(address account);
    error TransferFailed(address to, uint256 amount);

    event ChainRequested(
        uint256 indexed firstRequestId, address indexed sender, uint256 firstModelId, uint256 secondModelId, bytes input
    );
    event FirstStageDone(uint256 indexed firstRequestId, uint256 indexed secondRequestId, bytes output);
    event SecondStageNotRequested(uint256 indexed firstRequestId, bytes reason);
    event SecondStageDone(uint256 indexed firstRequestId, uint256 indexed secondRequestId, bytes output);
    event StageFailed(uint256 indexed requestId, uint8 errorCode);

    struct Pipeline {
        address sender;
        uint256 firstModelId;
        uint256 secondModelId;
        uint256 secondRequestId;
        /// @dev Wei held for the second stage until it is requested (then 0).
        uint256 prepaid;
        bytes input;
        bytes firstOutput;
        bytes secondOutput;
    }

    /// @notice Gas of the first callback: storing the first output and making the second request (its storage, its
    /// events with the input) takes ~200k; the rest is margin.
    uint64 public constant FIRST_GAS_LIMIT = 800_000;
    /// @notice Gas of the second callback: storing the second output.
    uint64 public constant SECOND_GAS_LIMIT = 300_000;

    IOraAIOracle public immutable aiOracle;
    mapping(uint256 firstRequestId => Pipeline) private _pipelines;
    /// @notice The first request of the pipeline a second request belongs to.
    mapping(uint256 secondRequestId => uint256) public firstRequestOf;
    /// @notice Unspent prepayments and refunds, withdrawable by their owner.
    mapping(address account => uint256) public balanceOf;

    constructor(IOraAIOracle aiOracle_) {
        aiOracle = aiOracle_;
    }

    /// @notice What {requestChained} needs now: both stages' fees.
    function estimateFee(uint256 firstModelId, uint256 secondModelId) public view returns (uint256) {
        return aiOracle.estimateFee(firstModelId, FIRST_GAS_LIMIT) + aiOracle.estimateFee(secondModelId, SECOND_GAS_LIMIT);
    }

    /// @notice Runs `firstModelId` on `input`, then `secondModelId` on its output. Pay at least {estimateFee}; what the
    /// second stage does not spend is credited to the caller ({withdraw}).
    function requestChained(uint256 firstModelId, uint256 secondModelId, bytes calldata input)
        external
        payable
        returns (uint256 firstRequestId)
    {
        uint256 firstFee = aiOracle.estimateFee(firstModelId, FIRST_GAS_LIMIT);
        uint256 required = firstFee + aiOracle.estimateFee(secondModelId, SECOND_GAS_LIMIT);
        if (msg.value < required) revert InsufficientPrepayment(msg.value, required);
        firstRequestId = aiOracle.requestCallback{value: firstFee}(
            firstModelId, input, address(this), FIRST_GAS_LIMIT, abi.encode(secondModelId)
        );
        Pipeline storage p = _pipelines[firstRequestId];
        p.sender = msg.sender;
        p.firstModelId = firstModelId;
        p.secondModelId = secondModelId;
        p.prepaid = msg.value - firstFee;
        p.input = input;
        emit ChainRequested(firstRequestId, msg.sender, firstModelId, secondModelId, input);
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData) external {
        if (msg.sender != address(aiOracle)) revert UnauthorizedCallbackSource(msg.sender);
        if (callbackData.length == 0) {
            uint256 firstId = firstRequestOf[requestId];
            _pipelines[firstId].secondOutput = output;
            emit SecondStageDone(firstId, requestId, output);
            return;
        }
        Pipeline storage p = _pipelines[requestId];
        p.firstOutput = output;
        if (p.secondRequestId != 0 || p.prepaid == 0) {
            // A redelivery (the first output was overturned) or a pipeline whose second stage already failed.
            emit FirstStageDone(requestId, p.secondRequestId, output);
            return;
        }
        uint256 secondModelId = abi.decode(callbackData, (uint256));
        uint256 prepaid = p.prepaid;
        p.prepaid = 0;
        uint256 fee;
        try aiOracle.estimateFee(secondModelId, SECOND_GAS_LIMIT) returns (uint256 quote) {
            fee = quote;
        } catch (bytes memory reason) {
            // E.g. the second model was deprecated meanwhile: keep the first output, give the prepayment back.
            balanceOf[p.sender] += prepaid;
            emit SecondStageNotRequested(requestId, reason);
            return;
        }
        if (fee > prepaid) {
            balanceOf[p.sender] += prepaid;
            emit SecondStageNotRequested(requestId, abi.encodeWithSelector(InsufficientPrepayment.selector, prepaid, fee));
            return;
        }
        // The nested request (ORA's pattern): the first output is the second input, paid from the prepayment.
        try aiOracle.requestCallback{value: fee}(secondModelId, output, address(this), SECOND_GAS_LIMIT, "") returns (
            uint256 secondId
        ) {
            p.secondRequestId = secondId;
            firstRequestOf[secondId] = requestId;
            balanceOf[p.sender] += prepaid - fee;
            emit FirstStageDone(requestId, secondId, output);
        } catch (bytes memory reason) {
            balanceOf[p.sender] += prepaid;
            emit SecondStageNotRequested(requestId, reason);
        }
    }

    /// @notice A stage expired unanswered or was cancelled (errorCode 2 or 3, `errorData` = abi.encode(refunded wei),
    /// pushed to this contract): the refund and any unspent prepayment go to the pipeline's sender.
    function aiOracleCallbackError(uint256 requestId, uint8 errorCode, bytes calldata errorData, bytes calldata callbackData)
        external
    {
        if (msg.sender != address(aiOracle)) revert UnauthorizedCallbackSource(msg.sender);
        Pipeline storage p = _pipelines[callbackData.length == 0 ? firstRequestOf[requestId] : requestId];
        uint256 refunded = errorData.length == 32 ? abi.decode(errorData, (uint256)) : 0;
        balanceOf[p.sender] += refunded + p.prepaid;
        p.prepaid = 0;
        emit StageFailed(requestId, errorCode);
    }

    /// @notice Sends the caller its unspent prepayments and refunds.
    function withdraw() external returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        if (amount == 0) revert NoBalance(msg.sender);
        balanceOf[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    function getPipeline(uint256 firstRequestId) external view returns (Pipeline memory) {
        return _pipelines[firstRequestId];
    }

    function isFinalized(uint256 requestId) external view returns (bool) {
        return aiOracle.isFinalized(requestId);
    }

    /// @notice Receives the oracle's refunds of expired stages (credited in {aiOracleCallbackError}).
    receive() external payable {}
}

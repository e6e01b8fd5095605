// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {ExactGasCall} from "../lib/ExactGasCall.sol";
import {
    CallbackWithoutGas,
    EmptyInput,
    InputLengthMismatch,
    InsufficientFee,
    UnknownRequest,
    ZeroCallbackWithGas
} from "../lib/Errors.sol";

/// @title MockAIOracle
/// @notice A test kit for dapp developers: the OAO surface plus helpers that play the oracle's part. Callbacks
/// are made the way the real {AIOracle} makes them: from this contract, with exactly the request's gas limit,
/// bounded return data, and a failing callback recorded instead of reverting the helper.
/// Any model id is accepted, with inputs of any length unless {setModelInputBytes} says otherwise; fees are per
/// model (default 0) plus `gasLimit * callbackGasPrice`.
/// @dev Test-only. The helpers are callable by anyone.
contract MockAIOracle is IAIOracle {
    using ExactGasCall for address;

    uint8 public constant ERROR_EXPIRED = 1;

    struct MockRequest {
        address requester;
        address callbackContract;
        uint64 gasLimit;
        bool finalized;
        bool closed; // expired or failed: no more results
        uint256 modelId;
        uint256 paid;
        bytes input;
        bytes callbackData;
        bytes output;
    }

    event CallbackExecuted(uint256 indexed requestId, bool isError, bool success, bytes returnData);

    uint256 public callbackGasPrice;
    uint256 public requestCount;
    mapping(uint256 modelId => uint256) public modelFee;
    /// @notice The input length a model takes, checked as the real oracle checks it; 0 (default): any length.
    mapping(uint256 modelId => uint256) public modelInputBytes;
    mapping(uint256 requestId => MockRequest) private _requests;

    // ------------------------------------------------------------------ OAO surface

    /// @inheritdoc IAIOracle
    function requestCallback(
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData
    ) external payable returns (uint256 requestId) {
        if (input.length == 0) revert EmptyInput();
        uint256 inputBytes = modelInputBytes[modelId];
        if (inputBytes != 0 && input.length != inputBytes) revert InputLengthMismatch(modelId, inputBytes, input.length);
        if (callbackContract == address(0) && gasLimit != 0) revert ZeroCallbackWithGas(gasLimit);
        if (callbackContract != address(0) && gasLimit == 0) revert CallbackWithoutGas(callbackContract);
        uint256 fee = estimateFee(modelId, gasLimit);
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);
        requestId = ++requestCount;
        MockRequest storage r = _requests[requestId];
        r.requester = msg.sender;
        r.callbackContract = callbackContract;
        r.gasLimit = gasLimit;
        r.modelId = modelId;
        r.paid = msg.value;
        r.input = input;
        r.callbackData = callbackData;
        emit AICallbackRequest(msg.sender, requestId, modelId, input, callbackContract, gasLimit, callbackData);
    }

    /// @inheritdoc IAIOracle
    function estimateFee(uint256 modelId, uint256 gasLimit) public view returns (uint256) {
        return modelFee[modelId] + gasLimit * callbackGasPrice;
    }

    /// @inheritdoc IAIOracle
    function isFinalized(uint256 requestId) external view returns (bool) {
        return _requests[requestId].finalized;
    }

    // ------------------------------------------------------------------ configuration

    function setModelFee(uint256 modelId, uint256 fee) external {
        modelFee[modelId] = fee;
    }

    /// @notice Makes requests for `modelId` take exactly `inputBytes` bytes of input, as the real registry does (0: any).
    function setModelInputBytes(uint256 modelId, uint256 inputBytes) external {
        modelInputBytes[modelId] = inputBytes;
    }

    function setCallbackGasPrice(uint256 price) external {
        callbackGasPrice = price;
    }

    // ------------------------------------------------------------------ helpers playing the oracle

    /// @notice Deliver a final result (as the real oracle does at finality). Returns whether the callback succeeded.
    function fulfill(uint256 requestId, bytes calldata output) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        r.finalized = true;
        return _deliver(requestId, r, output);
    }

    /// @notice Deliver a result that is not final yet (OAO-style delivery at commit).
    function commitResult(uint256 requestId, bytes calldata output) external returns (bool success) {
        return _deliver(requestId, _open(requestId), output);
    }

    /// @notice Replace a delivered result with a new one (the committed result lost a dispute).
    function overturn(uint256 requestId, bytes calldata output) external returns (bool success) {
        return _deliver(requestId, _open(requestId), output);
    }

    /// @notice Mark the last delivered result final without calling back (OAO-style finality).
    function finalize(uint256 requestId) external {
        _open(requestId).finalized = true;
    }

    /// @notice Call the dapp's error callback with any code.
    function fail(uint256 requestId, uint8 errorCode, bytes calldata errorData) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        r.closed = true;
        return _error(requestId, r, errorCode, errorData);
    }

    /// @notice Expire the request like the real oracle: refund what was paid to the requester, then call the error
    /// callback with code 1 and abi.encode(refunded).
    function expire(uint256 requestId) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        r.closed = true;
        uint256 refunded = r.paid;
        r.paid = 0;
        // Bounded push; a requester that cannot receive just keeps nothing in this mock.
        r.requester.sendValue(refunded, 50_000);
        return _error(requestId, r, ERROR_EXPIRED, abi.encode(refunded));
    }

    function getRequest(uint256 requestId) external view returns (MockRequest memory) {
        return _requests[requestId];
    }

    // ------------------------------------------------------------------ internals

    function _open(uint256 requestId) private view returns (MockRequest storage r) {
        r = _requests[requestId];
        if (r.requester == address(0) || r.closed || r.finalized) revert UnknownRequest(requestId);
    }

    function _deliver(uint256 requestId, MockRequest storage r, bytes calldata output) private returns (bool success) {
        r.output = output;
        emit AICallbackResult(r.requester, requestId, msg.sender, output);
        if (r.callbackContract == address(0)) return true;
        bytes memory returnData;
        (success, returnData) = r.callbackContract.callWithExactGas(
            r.gasLimit,
            abi.encodeCall(IAIOracleCallbackReceiver.aiOracleCallback, (requestId, output, r.callbackData)),
            256
        );
        emit CallbackExecuted(requestId, false, success, returnData);
    }

    function _error(uint256 requestId, MockRequest storage r, uint8 errorCode, bytes memory errorData)
        private
        returns (bool success)
    {
        if (r.callbackContract == address(0)) return true;
        bytes memory returnData;
        (success, returnData) = r.callbackContract.callWithExactGas(
            r.gasLimit,
            abi.encodeCall(
                IAIOracleCallbackReceiver.aiOracleCallbackError, (requestId, errorCode, errorData, r.callbackData)
            ),
            256
        );
        emit CallbackExecuted(requestId, true, success, returnData);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {IAIOracleBatch} from "../interfaces/IAIOracleBatch.sol";
import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {ExactGasCall} from "../lib/ExactGasCall.sol";
import {ErrorCodes} from "../lib/ErrorCodes.sol";
import {TextModels} from "../lib/TextModels.sol";
import {
    BatchInputLengthMismatch,
    BatchSizeOutOfRange,
    CallbackWithoutGas,
    EmptyInput,
    FeeTokenShortfall,
    GasLimitTooHigh,
    InputLengthMismatch,
    InsufficientFee,
    NothingToWithdraw,
    UnknownRequest,
    UnsupportedDataAvailability,
    WithdrawalFailed,
    ZeroAddress,
    ZeroCallbackWithGas
} from "../lib/Errors.sol";

/// @title MockAIOracle
/// @notice A test kit for dapp developers: the OAO surface (and ORA's batch entry points) plus helpers that play the
/// oracle's part. Money moves as in the real {AIOracle} (docs/protocol.md §1.5): the same quote (model fee +
/// (gasLimit + 50,000) × max(callbackGasPrice, basefee) when there is a callback + protocol fee), excess payment
/// returned at once, the callback fee credited to whoever executes the first delivery or the error callback, an
/// expired request refunded its model and protocol fee (and its callback fee when it has no callback), refunds
/// pushed to the requester or else to the fallback account (tx.origin, or the parent request's inside a callback),
/// credits withdrawable with {withdraw}. At finality the model and protocol fees are credited to {feeCollector}.
/// Callbacks are made as the real oracle makes them: with exactly the request's gas limit, bounded return data, and
/// a failing callback recorded instead of reverting the helper. Error callbacks use the real codes ({ErrorCodes}).
/// Any model id is accepted, with inputs of any length unless {setModelInputBytes} says otherwise. A model can be a
/// text model ({setTextModel}): prompts of 1..C bytes, results delivered up to their first 0x00. A model can be
/// token-priced ({setModelFeeToken}): its fee is pulled with transferFrom, credited in the token at finality and
/// refunded in the token to the requester, as the real oracle does.
/// @dev Test-only. The helpers and setters are callable by anyone. No deadlines: {expire} works at any time.
contract MockAIOracle is IAIOracle, IAIOracleBatch {
    using ExactGasCall for address;
    using SafeERC20 for IERC20;

    uint256 public constant CALLBACK_OVERHEAD_GAS = 50_000;
    uint256 public constant REFUND_PUSH_GAS = 50_000;
    uint256 public constant MAX_BATCH_SIZE = 32;
    uint8 public constant ERROR_EXPIRED = ErrorCodes.EXPIRED;
    uint8 public constant ERROR_UNDECIDABLE = ErrorCodes.UNDECIDABLE;

    struct MockRequest {
        address requester;
        address callbackContract;
        uint64 gasLimit;
        bool finalized;
        bool closed; // expired or failed: no more results
        bool callbackFeePaid;
        bool refundRecipientSet;
        /// @dev A text model's request (at request time): deliveries pass the output up to its first 0x00.
        bool textModel;
        address refundRecipient;
        /// @dev The model's fee token at request time (address(0): priced in wei).
        address feeToken;
        uint256 modelId;
        uint256 modelFee;
        uint256 callbackFee;
        uint256 protocolFee;
        bytes input;
        bytes callbackData;
        bytes output;
    }

    event CallbackExecuted(uint256 indexed requestId, bool isError, bool success, bytes returnData);
    event RequestRefunded(uint256 indexed requestId, address indexed requester, uint256 amount);
    event PaymentCredited(address indexed account, uint256 amount);
    event PaymentSent(address indexed account, uint256 amount);
    /// @notice As the real oracle's (IAIOracleExtended): a credit was withdrawn (the SDK's `withdrawCredit` reads it).
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    event TokenWithdrawn(address indexed token, address indexed account, address indexed to, uint256 amount);

    uint256 public callbackGasPrice;
    uint256 public protocolFee;
    uint64 public maxCallbackGasLimit = 5_000_000;
    /// @notice Credited the model and protocol fees of finalized requests (the real oracle splits them between the
    /// operator, the model's fee receiver and the treasury).
    address public feeCollector;
    uint256 public requestCount;
    mapping(uint256 modelId => uint256) public modelFee;
    /// @notice The input length a model takes, checked as the real oracle checks it; 0 (default): any length.
    mapping(uint256 modelId => uint256) public modelInputBytes;
    /// @notice A text model's context C (its longest prompt, in bytes); 0 (default): not a text model.
    mapping(uint256 modelId => uint256) public textModelContext;
    /// @notice The ERC20 a model's fee is paid in (address(0): wei), as the real registry's `modelFeeToken`.
    mapping(uint256 modelId => address) public modelFeeToken;
    mapping(address token => mapping(address account => uint256)) private _tokenCredits;
    mapping(uint256 requestId => MockRequest) private _requests;
    mapping(address account => uint256) private _credits;
    uint256 private transient _inCallbackOf;

    constructor() {
        feeCollector = msg.sender;
    }

    // ------------------------------------------------------------------ OAO surface

    /// @inheritdoc IAIOracle
    function requestCallback(
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData
    ) external payable returns (uint256 requestId) {
        _checkInputLength(modelId, input.length);
        uint256 fee = _check(modelId, callbackContract, gasLimit);
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);
        requestId = _store(modelId, input, callbackContract, gasLimit, callbackData);
        _pullFeeToken(modelId, 1);
        _returnExcess(requestId, msg.value - fee);
    }

    /// @inheritdoc IAIOracleBatch
    function requestBatchInference(
        uint256 batchSize,
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData,
        DA inputDA,
        DA outputDA
    ) external payable returns (uint256 firstRequestId) {
        if (inputDA != DA.Calldata || outputDA != DA.Calldata) {
            revert UnsupportedDataAvailability(uint8(inputDA), uint8(outputDA));
        }
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(batchSize, MAX_BATCH_SIZE);
        uint256 itemBytes = _batchItemBytes(modelId, batchSize, input.length);
        uint256 total = _check(modelId, callbackContract, gasLimit) * batchSize;
        if (msg.value < total) revert InsufficientFee(msg.value, total);
        firstRequestId = requestCount + 1;
        for (uint256 i; i < batchSize; ++i) {
            _store(modelId, input[i * itemBytes:(i + 1) * itemBytes], callbackContract, gasLimit, callbackData);
        }
        _pullFeeToken(modelId, batchSize);
        _returnExcess(firstRequestId, msg.value - total);
    }

    /// @inheritdoc IAIOracle
    function estimateFee(uint256 modelId, uint256 gasLimit) public view returns (uint256) {
        if (gasLimit > maxCallbackGasLimit) revert GasLimitTooHigh(gasLimit, maxCallbackGasLimit);
        uint256 weiModelFee = modelFeeToken[modelId] == address(0) ? modelFee[modelId] : 0;
        return weiModelFee + _callbackFee(gasLimit) + protocolFee;
    }

    /// @notice The three parts of {estimateFee}, as the real oracle's `estimateFeeParts` (the SDK's `estimateFee`
    /// reads it): model fee (in wei, or in the model's fee token), callback gas and protocol fee.
    function estimateFeeParts(uint256 modelId, uint64 gasLimit)
        external
        view
        returns (uint256 modelFeePart, uint256 callbackFee, uint256 protocolFeePart)
    {
        if (gasLimit > maxCallbackGasLimit) revert GasLimitTooHigh(gasLimit, maxCallbackGasLimit);
        return (modelFee[modelId], _callbackFee(gasLimit), protocolFee);
    }

    /// @inheritdoc IAIOracleBatch
    function estimateFeeBatch(uint256 modelId, uint256 gasLimit, uint256 batchSize) external view returns (uint256) {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(batchSize, MAX_BATCH_SIZE);
        return estimateFee(modelId, gasLimit) * batchSize;
    }

    /// @inheritdoc IAIOracle
    function isFinalized(uint256 requestId) external view returns (bool) {
        return _requests[requestId].finalized;
    }

    // ------------------------------------------------------------------ payments (as the real oracle)

    /// @notice Wei credited to `account`, withdrawable with {withdraw}.
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice Send the caller's whole credited balance to `to`.
    function withdraw(address payable to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        if (!address(to).sendValue(amount, gasleft())) revert WithdrawalFailed(to, amount);
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice Fee tokens credited to `account` (finalized token-priced requests, as the real oracle).
    function pendingTokenWithdrawal(address token, address account) external view returns (uint256) {
        return _tokenCredits[token][account];
    }

    /// @notice Send the caller's whole credited balance of `token` to `to`.
    function withdrawToken(address token, address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _tokenCredits[token][msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _tokenCredits[token][msg.sender] = 0;
        IERC20(token).safeTransfer(to, amount);
        emit TokenWithdrawn(token, msg.sender, to, amount);
    }

    /// @notice Where money owed to the requester goes when it is not pushed to it (as the real oracle's).
    function refundAccount(uint256 requestId) external view returns (address) {
        MockRequest storage r = _existing(requestId);
        if (r.refundRecipientSet || r.requester.code.length != 0) return r.refundRecipient;
        return r.requester;
    }

    // ------------------------------------------------------------------ configuration

    function setModelFee(uint256 modelId, uint256 fee) external {
        modelFee[modelId] = fee;
    }

    /// @notice Makes requests for `modelId` take exactly `inputBytes` bytes of input, as the real registry does (0: any).
    function setModelInputBytes(uint256 modelId, uint256 inputBytes) external {
        modelInputBytes[modelId] = inputBytes;
    }

    /// @notice Makes `modelId` a text model of context `context` as the real registry's inputMode 1 does: prompts of
    /// 1..context bytes (EmptyInput, InputTooLong), each delivery trimmed at the output's first 0x00. 0: not a text
    /// model (requests already made keep the rule they were made under).
    function setTextModel(uint256 modelId, uint256 context) external {
        textModelContext[modelId] = context;
    }

    /// @notice Makes `modelId` token-priced (its `modelFee` in units of `token`); address(0): priced in wei again.
    function setModelFeeToken(uint256 modelId, address token) external {
        modelFeeToken[modelId] = token;
    }

    function setCallbackGasPrice(uint256 price) external {
        callbackGasPrice = price;
    }

    function setProtocolFee(uint256 fee) external {
        protocolFee = fee;
    }

    function setMaxCallbackGasLimit(uint64 gasLimit) external {
        maxCallbackGasLimit = gasLimit;
    }

    function setFeeCollector(address collector) external {
        if (collector == address(0)) revert ZeroAddress();
        feeCollector = collector;
    }

    // ------------------------------------------------------------------ helpers playing the oracle

    /// @notice Deliver a final result (as the real oracle does at finality). Returns whether the callback succeeded.
    function fulfill(uint256 requestId, bytes calldata output) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        success = _deliver(requestId, r, output);
        _settle(r);
    }

    /// @notice Deliver a result that is not final yet (OAO-style delivery at commit).
    function commitResult(uint256 requestId, bytes calldata output) external returns (bool success) {
        return _deliver(requestId, _open(requestId), output);
    }

    /// @notice Replace a delivered result with a new one (the committed result lost a dispute).
    function overturn(uint256 requestId, bytes calldata output) external returns (bool success) {
        return _deliver(requestId, _open(requestId), output);
    }

    /// @notice Mark the last delivered result final without calling back (OAO-style finality); settles the fees.
    function finalize(uint256 requestId) external {
        _settle(_open(requestId));
    }

    /// @notice Expire the request like the real oracle: refund its model and protocol fee (and the callback fee if it
    /// has no callback) as §1.5 says, credit the callback fee to the caller, then call the error callback with
    /// {ErrorCodes-EXPIRED} and abi.encode(refunded).
    function expire(uint256 requestId) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        _inCallbackOf = requestId; // as the real oracle: the refund push and the error callback run marked
        uint256 refunded = _refund(requestId, r);
        success = _error(requestId, r, ERROR_EXPIRED, abi.encode(refunded));
        _inCallbackOf = 0;
    }

    /// @notice Close the request with any error code and data (e.g. {ErrorCodes-UNDECIDABLE}); refunded as {expire}.
    function fail(uint256 requestId, uint8 errorCode, bytes calldata errorData) external returns (bool success) {
        MockRequest storage r = _open(requestId);
        _inCallbackOf = requestId;
        _refund(requestId, r);
        success = _error(requestId, r, errorCode, errorData);
        _inCallbackOf = 0;
    }

    function getRequest(uint256 requestId) external view returns (MockRequest memory) {
        return _requests[requestId];
    }

    // ------------------------------------------------------------------ internals

    function _checkInputLength(uint256 modelId, uint256 length) private view {
        uint256 context = textModelContext[modelId];
        if (context != 0) return TextModels.checkPromptLength(modelId, length, context);
        if (length == 0) revert EmptyInput(modelId);
        uint256 inputBytes = modelInputBytes[modelId];
        if (inputBytes != 0 && length != inputBytes) revert InputLengthMismatch(modelId, inputBytes, length);
    }

    /// @dev The length of each item of a batch input of `length` bytes, checked as the real oracle checks it.
    function _batchItemBytes(uint256 modelId, uint256 batchSize, uint256 length) private view returns (uint256) {
        if (length == 0) revert EmptyInput(modelId);
        uint256 context = textModelContext[modelId];
        uint256 itemBytes = context == 0 ? modelInputBytes[modelId] : 0;
        // Unconfigured and text models: the input splits into batchSize equal items.
        if (itemBytes == 0) itemBytes = length / batchSize;
        if (length != batchSize * itemBytes) {
            revert BatchInputLengthMismatch(modelId, batchSize, itemBytes, batchSize * itemBytes, length);
        }
        if (context != 0) TextModels.checkPromptLength(modelId, itemBytes, context);
        return itemBytes;
    }

    function _check(uint256 modelId, address callbackContract, uint64 gasLimit) private view returns (uint256) {
        if (callbackContract == address(0) && gasLimit != 0) revert ZeroCallbackWithGas(gasLimit);
        if (callbackContract != address(0) && gasLimit == 0) revert CallbackWithoutGas(callbackContract);
        return estimateFee(modelId, gasLimit);
    }

    function _callbackFee(uint256 gasLimit) private view returns (uint256) {
        uint256 price = callbackGasPrice > block.basefee ? callbackGasPrice : block.basefee;
        return gasLimit == 0 ? 0 : (gasLimit + CALLBACK_OVERHEAD_GAS) * price;
    }

    function _store(
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData
    ) private returns (uint256 requestId) {
        requestId = ++requestCount;
        MockRequest storage r = _requests[requestId];
        r.requester = msg.sender;
        r.callbackContract = callbackContract;
        r.gasLimit = gasLimit;
        r.modelId = modelId;
        r.textModel = textModelContext[modelId] != 0;
        r.modelFee = modelFee[modelId];
        r.feeToken = modelFeeToken[modelId];
        r.callbackFee = _callbackFee(gasLimit);
        r.protocolFee = protocolFee;
        uint256 parent = _inCallbackOf;
        // solhint-disable-next-line avoid-tx-origin
        r.refundRecipient = parent == 0 ? tx.origin : _requests[parent].refundRecipient;
        r.input = input;
        r.callbackData = callbackData;
        emit AICallbackRequest(msg.sender, requestId, modelId, input, callbackContract, gasLimit, callbackData);
    }

    function _pullFeeToken(uint256 modelId, uint256 items) private {
        address token = modelFeeToken[modelId];
        uint256 amount = modelFee[modelId] * items;
        if (token == address(0) || amount == 0) return;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert FeeTokenShortfall(token, amount, received);
    }

    function _returnExcess(uint256 requestId, uint256 excess) private {
        if (excess != 0) _payRefund(_requests[requestId], excess);
    }

    function _payRefund(MockRequest storage r, uint256 amount) private {
        address recipient = r.refundRecipient;
        if (!r.refundRecipientSet && r.requester.sendValue(amount, REFUND_PUSH_GAS)) {
            emit PaymentSent(r.requester, amount);
            return;
        }
        if (recipient.sendValue(amount, REFUND_PUSH_GAS)) emit PaymentSent(recipient, amount);
        else _credit(recipient, amount);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _credits[account] += amount;
        emit PaymentCredited(account, amount);
    }

    function _payCallbackFee(MockRequest storage r) private {
        if (r.callbackFeePaid) return;
        r.callbackFeePaid = true;
        _credit(msg.sender, r.callbackFee);
    }

    function _settle(MockRequest storage r) private {
        r.finalized = true;
        _payCallbackFee(r);
        if (r.feeToken != address(0)) {
            _tokenCredits[r.feeToken][feeCollector] += r.modelFee;
            _credit(feeCollector, r.protocolFee);
        } else {
            _credit(feeCollector, r.modelFee + r.protocolFee);
        }
    }

    function _refund(uint256 requestId, MockRequest storage r) private returns (uint256 refunded) {
        r.closed = true;
        refunded = r.protocolFee;
        if (r.feeToken == address(0)) refunded += r.modelFee;
        if (r.callbackContract == address(0)) refunded += r.callbackFee;
        else _payCallbackFee(r);
        emit RequestRefunded(requestId, r.requester, refunded);
        _payRefund(r, refunded);
        if (r.feeToken != address(0) && r.modelFee != 0) {
            if (!IERC20(r.feeToken).trySafeTransfer(r.requester, r.modelFee)) {
                _tokenCredits[r.feeToken][r.requester] += r.modelFee;
            }
        }
    }

    function _existing(uint256 requestId) private view returns (MockRequest storage r) {
        r = _requests[requestId];
        if (r.requester == address(0)) revert UnknownRequest(requestId);
    }

    function _open(uint256 requestId) private view returns (MockRequest storage r) {
        r = _existing(requestId);
        if (r.closed || r.finalized) revert UnknownRequest(requestId);
    }

    function _deliver(uint256 requestId, MockRequest storage r, bytes calldata result) private returns (bool success) {
        bytes calldata output = r.textModel ? TextModels.trimmed(result) : result;
        r.output = output;
        emit AICallbackResult(r.requester, requestId, msg.sender, output);
        _payCallbackFee(r);
        if (r.callbackContract == address(0)) return true;
        bytes memory returnData;
        _inCallbackOf = requestId;
        (success, returnData) = r.callbackContract.callWithExactGas(
            r.gasLimit,
            abi.encodeCall(IAIOracleCallbackReceiver.aiOracleCallback, (requestId, output, r.callbackData)),
            256
        );
        _inCallbackOf = 0;
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

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {IAIOracleBatch} from "../interfaces/IAIOracleBatch.sol";
import {IAIOracleExtended} from "../interfaces/IAIOracleExtended.sol";
import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {ITaskManager} from "../interfaces/ITaskManager.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {ExactGasCall} from "../lib/ExactGasCall.sol";
import {ErrorCodes} from "../lib/ErrorCodes.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";
import {TextModels} from "../lib/TextModels.sol";
import {
    DeliveryMode,
    FeeState,
    Model,
    OracleConfig,
    Request,
    RequestHeader,
    RequestParams,
    RequestStatus,
    Task
} from "../lib/Types.sol";
import {
    BatchInputLengthMismatch,
    BatchSizeOutOfRange,
    CallbackGasPriceOutOfBounds,
    CallbackWithoutGas,
    DeadlineInPast,
    EmptyInput,
    FeeAboveMax,
    FeeNotEscrowed,
    FeeTokenShortfall,
    GasLimitTooHigh,
    InputLengthMismatch,
    InsufficientFee,
    InvalidOracleConfig,
    InvalidRefundCode,
    NothingToWithdraw,
    NotTaskManager,
    ProtocolFeeTooHigh,
    TaskManagerAlreadySet,
    UnknownRequest,
    UnsupportedDataAvailability,
    WithdrawalFailed,
    ZeroAddress,
    ZeroCallbackWithGas
} from "../lib/Errors.sol";

/// @title AIOracle
/// @notice The entry point dapps call: ORA OAO-compatible requests, the model registry, fee escrow and
/// settlement, and result delivery with Chainlink-grade callback safety. The result lifecycle (claims,
/// challenge windows, games) lives in the {ITaskManager}, which calls {deliver}, {settle} and {refund}.
/// See docs/protocol.md §1.
contract AIOracle is IAIOracleExtended, ModelRegistry, Ownable2Step, ReentrancyGuardTransient {
    using ExactGasCall for address;
    using SafeERC20 for IERC20;

    /// @notice Gas charged on top of a callback's gas limit for the delivery around it (event, bookkeeping).
    uint256 public constant CALLBACK_OVERHEAD_GAS = 50_000;
    /// @notice At most this many bytes of a callback's return or revert data are copied and logged.
    uint256 public constant MAX_RETURN_DATA_COPY = 256;
    /// @notice Gas given to a push refund (excess payment, expiry refund); if it fails the amount is credited.
    uint256 public constant REFUND_PUSH_GAS = 50_000;
    /// @notice `errorCode` of {IAIOracleCallbackReceiver-aiOracleCallbackError} for an expired request ({ErrorCodes}).
    uint8 public constant ERROR_EXPIRED = ErrorCodes.EXPIRED;
    /// @notice `errorCode` for a request a dispute game found undecidable (cancelled, refunded).
    uint8 public constant ERROR_UNDECIDABLE = ErrorCodes.UNDECIDABLE;
    /// @notice Most items one {requestBatchInference} may make (each is a full request, ~190k gas: 32 items ≈ 6.1M).
    uint256 public constant MAX_BATCH_SIZE = 32;

    uint256 public immutable minCallbackGasPrice;
    uint256 public immutable maxCallbackGasPrice;
    uint256 public immutable maxProtocolFee;
    uint64 public immutable maxCallbackGasLimit;
    uint64 public immutable requestTimeout;

    address private _taskManager;
    address private _treasury;
    uint256 private _callbackGasPrice;
    uint256 private _protocolFee;
    uint256 private _requestCount;
    mapping(uint256 requestId => Request) private _requests;
    mapping(address account => uint256) private _credits;
    mapping(address token => mapping(address account => uint256)) private _tokenCredits;
    /// @dev The request whose callback (or error callback) is running, 0 outside one: a request made from inside a
    /// callback takes that request's fallback refund account instead of tx.origin (docs/protocol.md §1.5).
    uint256 private transient _inCallbackOf;

    modifier onlyTaskManager() {
        if (msg.sender != _taskManager) revert NotTaskManager(msg.sender);
        _;
    }

    constructor(OracleConfig memory config) Ownable(config.owner) {
        if (config.treasury == address(0)) revert ZeroAddress();
        if (config.minCallbackGasPrice > config.maxCallbackGasPrice) revert InvalidOracleConfig();
        if (config.maxCallbackGasLimit == 0 || config.requestTimeout == 0) revert InvalidOracleConfig();
        minCallbackGasPrice = config.minCallbackGasPrice;
        maxCallbackGasPrice = config.maxCallbackGasPrice;
        maxProtocolFee = config.maxProtocolFee;
        maxCallbackGasLimit = config.maxCallbackGasLimit;
        requestTimeout = config.requestTimeout;
        _setTreasury(config.treasury);
        _setCallbackGasPrice(config.callbackGasPrice);
        _setProtocolFee(config.protocolFee);
    }

    // ================================================================== requests

    // Re-entrancy (docs/protocol.md §1.7): the request entry points are deliberately NOT `nonReentrant`, so a
    // consumer's callback can make a new request (ORA's nested inference: the first output becomes the second
    // request's input). They are checks-effects-interactions safe: they only validate, append a new request and
    // then push back excess payment, so nothing re-entered from that push (or from the callback around them) sees
    // a half-written request or can touch an existing one. Every lifecycle entry point that changes an existing
    // request or moves money (this contract's deliver/settle/refund/withdraw, and all of TaskManager's) stays
    // guarded, and those guards are held for the whole of every callback.

    /// @inheritdoc IAIOracle
    function requestCallback(
        uint256 modelId,
        bytes calldata input,
        address callbackContract,
        uint64 gasLimit,
        bytes calldata callbackData
    ) external payable returns (uint256) {
        return _request(
            RequestParams({
                modelId: modelId,
                input: input,
                callbackContract: callbackContract,
                gasLimit: gasLimit,
                callbackData: callbackData,
                deliveryMode: DeliveryMode.AtCommit,
                deadline: 0,
                maxFee: type(uint256).max,
                refundRecipient: address(0)
            })
        );
    }

    /// @inheritdoc IAIOracleExtended
    function requestWithOptions(RequestParams calldata params) external payable returns (uint256) {
        return _request(params);
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
        return _requestBatch(
            batchSize,
            input,
            RequestParams({
                modelId: modelId,
                input: "",
                callbackContract: callbackContract,
                gasLimit: gasLimit,
                callbackData: callbackData,
                deliveryMode: DeliveryMode.AtCommit,
                deadline: 0,
                maxFee: type(uint256).max,
                refundRecipient: address(0)
            })
        );
    }

    /// @inheritdoc IAIOracle
    function estimateFee(uint256 modelId, uint256 gasLimit) public view returns (uint256) {
        if (gasLimit > maxCallbackGasLimit) revert GasLimitTooHigh(gasLimit, maxCallbackGasLimit);
        Model storage model = _activeModel(modelId);
        (uint256 modelFee, uint256 callbackFee, uint256 protocolFeePart) = _feeParts(model, uint64(gasLimit));
        // The wei to send: a token-priced model's fee is pulled in its token instead (§1.5).
        return (model.feeInToken ? 0 : modelFee) + callbackFee + protocolFeePart;
    }

    /// @inheritdoc IAIOracleBatch
    function estimateFeeBatch(uint256 modelId, uint256 gasLimit, uint256 batchSize) external view returns (uint256) {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(batchSize, MAX_BATCH_SIZE);
        return estimateFee(modelId, gasLimit) * batchSize;
    }

    /// @inheritdoc IAIOracleExtended
    function estimateFeeParts(uint256 modelId, uint64 gasLimit)
        external
        view
        returns (uint256 modelFee, uint256 callbackFee, uint256 protocolFeePart)
    {
        if (gasLimit > maxCallbackGasLimit) revert GasLimitTooHigh(gasLimit, maxCallbackGasLimit);
        return _feeParts(_activeModel(modelId), gasLimit);
    }

    /// @inheritdoc IAIOracleExtended
    function callbackGasPrice() public view returns (uint256) {
        return _callbackGasPrice > block.basefee ? _callbackGasPrice : block.basefee;
    }

    // ================================================================== views

    /// @inheritdoc IAIOracle
    function isFinalized(uint256 requestId) external view returns (bool) {
        if (_taskManager == address(0)) return false;
        return ITaskManager(_taskManager).isFinalized(requestId);
    }

    /// @inheritdoc IAIOracleExtended
    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _existingRequest(requestId);
    }

    /// @inheritdoc IAIOracleExtended
    function getRequestHeader(uint256 requestId) external view returns (RequestHeader memory) {
        Request storage r = _existingRequest(requestId);
        return RequestHeader({
            requester: r.requester,
            deadline: r.deadline,
            deliveryMode: r.deliveryMode,
            feeState: r.feeState,
            callbackContract: r.callbackContract,
            gasLimit: r.gasLimit,
            modelId: r.modelId,
            inputHash: r.inputHash,
            inputLength: r.inputLength
        });
    }

    /// @inheritdoc IAIOracleExtended
    function getStatus(uint256 requestId) external view returns (RequestStatus) {
        if (requestId == 0 || requestId > _requestCount) return RequestStatus.None;
        if (_taskManager == address(0)) {
            return block.timestamp > _requests[requestId].deadline ? RequestStatus.Expired : RequestStatus.Requested;
        }
        return ITaskManager(_taskManager).getStatus(requestId);
    }

    /// @inheritdoc IAIOracleExtended
    function getOutputHash(uint256 requestId) external view returns (bytes32) {
        uint256 claimId = _standingClaimId(requestId);
        return claimId == 0 ? bytes32(0) : ITaskManager(_taskManager).getClaim(claimId).outputHash;
    }

    /// @inheritdoc IAIOracleExtended
    function getResult(uint256 requestId) external view returns (bytes memory output, bool finalized) {
        uint256 claimId = _standingClaimId(requestId);
        if (claimId == 0) return (output, false);
        ITaskManager tm = ITaskManager(_taskManager);
        return (tm.getClaimOutput(claimId), tm.isFinalized(requestId));
    }

    /// @inheritdoc IAIOracleExtended
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IAIOracleExtended
    function refundAccount(uint256 requestId) external view returns (address) {
        Request storage r = _existingRequest(requestId);
        if (r.refundRecipientSet || r.requester.code.length != 0) return r.refundRecipient;
        return r.requester;
    }

    /// @inheritdoc IAIOracleExtended
    function pendingWithdrawal(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IAIOracleExtended
    function taskManager() external view returns (address) {
        return _taskManager;
    }

    /// @inheritdoc IAIOracleExtended
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice The governance callback gas price (quotes use max(this, block.basefee)).
    function baseCallbackGasPrice() external view returns (uint256) {
        return _callbackGasPrice;
    }

    /// @notice The flat protocol fee per request.
    function protocolFee() external view returns (uint256) {
        return _protocolFee;
    }

    // ================================================================== payments

    /// @inheritdoc IAIOracleExtended
    function pendingTokenWithdrawal(address token, address account) external view returns (uint256) {
        return _tokenCredits[token][account];
    }

    /// @inheritdoc IAIOracleExtended
    function withdrawToken(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _tokenCredits[token][msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _tokenCredits[token][msg.sender] = 0;
        emit TokenWithdrawn(token, msg.sender, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc IAIOracleExtended
    function withdraw(address payable to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        // The recipient is the caller's choice; its return data is not copied.
        if (!address(to).sendValue(amount, gasleft())) revert WithdrawalFailed(to, amount);
    }

    // ================================================================== task manager hooks

    /// @inheritdoc IAIOracleExtended
    function deliver(uint256 requestId, bytes calldata output, address executor)
        external
        onlyTaskManager
        nonReentrant
    {
        Request storage r = _existingRequest(requestId);
        if (r.feeState != FeeState.Escrowed) revert FeeNotEscrowed(requestId, r.feeState);
        // Effects first: the callback cannot observe or change anything half-done.
        unchecked {
            // A request is delivered at most once per claim, and claims are bounded by bonds: no overflow.
            r.deliveries += 1;
        }
        // A text model's result is the text before the first 0x00 (§1.7); the claim keeps the whole int8 [T] tensor.
        bytes calldata delivered = r.textModel ? TextModels.trimmed(output) : output;
        emit AICallbackResult(r.requester, requestId, executor, delivered);
        _payCallbackFee(r, requestId, executor);
        address target = r.callbackContract;
        if (target == address(0)) return;
        _inCallbackOf = requestId;
        (bool success, bytes memory returnData) = target.callWithExactGas(
            r.gasLimit,
            abi.encodeCall(IAIOracleCallbackReceiver.aiOracleCallback, (requestId, delivered, r.callbackData)),
            MAX_RETURN_DATA_COPY
        );
        _inCallbackOf = 0;
        r.lastCallbackSucceeded = success;
        emit CallbackExecuted(requestId, target, false, success, returnData);
    }

    /// @inheritdoc IAIOracleExtended
    function settle(uint256 requestId, address operator, address executor) external onlyTaskManager nonReentrant {
        Request storage r = _existingRequest(requestId);
        if (r.feeState != FeeState.Escrowed) revert FeeNotEscrowed(requestId, r.feeState);
        r.feeState = FeeState.Settled;
        Model storage model = _existingModel(r.modelId);
        uint256 modelShare = uint256(r.modelFee) * model.feeShareBps / BPS;
        // modelShare <= modelFee because feeShareBps <= BPS.
        uint256 operatorPay = r.modelFee - modelShare;
        _payCallbackFee(r, requestId, executor);
        if (r.feeInToken) {
            address token = _feeTokenOf(r.modelId);
            _creditToken(token, operator, operatorPay);
            _creditToken(token, model.feeReceiver, modelShare);
        } else {
            _credit(operator, operatorPay);
            _credit(model.feeReceiver, modelShare);
        }
        _credit(_treasury, r.protocolFee);
        emit FeeSettled(requestId, operator, operatorPay, model.feeReceiver, modelShare, _treasury, r.protocolFee);
    }

    /// @inheritdoc IAIOracleExtended
    function refund(uint256 requestId, address executor, uint8 errorCode)
        external
        onlyTaskManager
        nonReentrant
        returns (uint256 refunded)
    {
        if (errorCode != ErrorCodes.EXPIRED && errorCode != ErrorCodes.UNDECIDABLE) revert InvalidRefundCode(errorCode);
        Request storage r = _existingRequest(requestId);
        if (r.feeState != FeeState.Escrowed) revert FeeNotEscrowed(requestId, r.feeState);
        r.feeState = FeeState.Refunded;
        refunded = r.protocolFee;
        if (!r.feeInToken) refunded += r.modelFee;
        address target = r.callbackContract;
        // With a callback, the executor runs the error callback and is paid its gas; otherwise all goes back.
        if (target == address(0)) refunded += r.callbackFee;
        else _payCallbackFee(r, requestId, executor);
        emit RequestRefunded(requestId, r.requester, refunded);
        // Everything from here runs code of others (the refund push, the fee token, the error callback): a request
        // made from any of them is paid for by this request's payer, whoever sent the transaction (§1.5).
        _inCallbackOf = requestId;
        _payRefund(r, refunded);
        if (r.feeInToken) _refundToken(r, _feeTokenOf(r.modelId), r.modelFee);
        if (target == address(0)) {
            _inCallbackOf = 0;
            return refunded;
        }
        (bool success, bytes memory returnData) = target.callWithExactGas(
            r.gasLimit,
            abi.encodeCall(
                IAIOracleCallbackReceiver.aiOracleCallbackError, (requestId, errorCode, abi.encode(refunded), r.callbackData)
            ),
            MAX_RETURN_DATA_COPY
        );
        _inCallbackOf = 0;
        r.lastCallbackSucceeded = success;
        emit CallbackExecuted(requestId, target, true, success, returnData);
    }

    // ================================================================== governance

    /// @inheritdoc IAIOracleExtended
    function setTaskManager(address taskManager_) external onlyOwner {
        if (taskManager_ == address(0)) revert ZeroAddress();
        if (_taskManager != address(0)) revert TaskManagerAlreadySet(_taskManager);
        _taskManager = taskManager_;
        emit TaskManagerSet(taskManager_);
    }

    /// @inheritdoc IAIOracleExtended
    function setCallbackGasPrice(uint256 price) external onlyOwner {
        _setCallbackGasPrice(price);
    }

    /// @inheritdoc IAIOracleExtended
    function setProtocolFee(uint256 fee) external onlyOwner {
        _setProtocolFee(fee);
    }

    /// @inheritdoc IAIOracleExtended
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        _setTreasury(treasury_);
    }

    // ================================================================== internals

    function _request(RequestParams memory p) private returns (uint256 requestId) {
        Model storage model = _activeModel(p.modelId);
        _checkInputLength(p.modelId, model, p.input.length);
        (uint256 fee, uint256 tokenFee) = _checkAndQuote(p, model);
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);
        requestId = _store(p);
        if (tokenFee != 0) _pullFeeToken(p.modelId, tokenFee);
        // msg.value >= fee was checked above.
        _returnExcess(requestId, msg.value - fee);
    }

    /// @dev Guard (docs/protocol.md §3.4): an input that is not the model's input tensor makes every claim unprovable —
    /// no honest keeper can compute one to challenge with, so any output would finalize. Refused here: a fixed model
    /// takes exactly `inputBytes` bytes, a text model a prompt of 1..`inputBytes` (§1.4).
    function _checkInputLength(uint256 modelId, Model storage model, uint256 length) private view {
        if (model.inputMode == GraphCommitments.INPUT_MODE_TEXT) {
            TextModels.checkPromptLength(modelId, length, model.inputBytes);
            return;
        }
        if (length == 0) revert EmptyInput(modelId);
        if (length != model.inputBytes) revert InputLengthMismatch(modelId, model.inputBytes, length);
    }

    /// @dev The checks every request passes (but the input length, checked per entry point) and its fee: `fee` in
    /// wei (what msg.value must cover and `maxFee` bounds), `tokenFee` in the model's fee token (0 if priced in wei).
    function _checkAndQuote(RequestParams memory p, Model storage model)
        private
        view
        returns (uint256 fee, uint256 tokenFee)
    {
        if (p.gasLimit > maxCallbackGasLimit) revert GasLimitTooHigh(p.gasLimit, maxCallbackGasLimit);
        if (p.callbackContract == address(0) && p.gasLimit != 0) revert ZeroCallbackWithGas(p.gasLimit);
        if (p.callbackContract != address(0) && p.gasLimit == 0) revert CallbackWithoutGas(p.callbackContract);
        if (p.deadline != 0 && p.deadline <= block.timestamp) revert DeadlineInPast(p.deadline, block.timestamp);
        (uint256 modelFee, uint256 callbackFee, uint256 protocolFee_) = _feeParts(model, p.gasLimit);
        fee = callbackFee + protocolFee_;
        if (model.feeInToken) tokenFee = modelFee;
        else fee += modelFee;
        if (fee > p.maxFee) revert FeeAboveMax(fee, p.maxFee);
    }

    /// @dev Stores and announces one request of `p` (checked by {_checkAndQuote}); fees as quoted now.
    function _store(RequestParams memory p) private returns (uint256 requestId) {
        Model storage model = _existingModel(p.modelId);
        uint64 deadline = p.deadline == 0 ? SafeCast.toUint64(block.timestamp + requestTimeout) : p.deadline;
        (uint256 modelFee, uint256 callbackFee, uint256 protocolFee_) = _feeParts(model, p.gasLimit);

        requestId = ++_requestCount;
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        r.deadline = deadline;
        r.deliveryMode = p.deliveryMode;
        r.feeState = FeeState.Escrowed;
        // Checked against the model's inputBytes (<= MAX_INPUT_BYTES = 32768) by every entry point: fits.
        r.inputLength = uint16(p.input.length);
        if (model.inputMode == GraphCommitments.INPUT_MODE_TEXT) r.textModel = true;
        r.callbackContract = p.callbackContract;
        r.gasLimit = p.gasLimit;
        r.createdAt = uint64(block.timestamp);
        if (model.feeInToken) r.feeInToken = true;
        if (p.refundRecipient != address(0)) {
            r.refundRecipient = p.refundRecipient;
            r.refundRecipientSet = true;
        } else {
            // The fallback account (§1.5): who gets what a push to the requester cannot deliver. Inside a callback the
            // transaction's sender is whoever executes the delivery (an operator), not the payer: the parent's instead.
            uint256 parent = _inCallbackOf;
            // tx.origin is used only as a payee, never for authorization.
            // solhint-disable-next-line avoid-tx-origin
            r.refundRecipient = parent == 0 ? tx.origin : _requests[parent].refundRecipient;
        }
        r.modelId = SafeCast.toUint64(p.modelId);
        // The input tensor's chunk root (docs/protocol.md §3.2, §3.4): keccak256(input) for one chunk.
        r.inputHash = GraphCommitments.chunkRoot(p.input);
        r.modelFee = SafeCast.toUint128(modelFee);
        r.callbackFee = SafeCast.toUint128(callbackFee);
        r.protocolFee = SafeCast.toUint128(protocolFee_);
        r.callbackData = p.callbackData;

        emit AICallbackRequest(msg.sender, requestId, p.modelId, p.input, p.callbackContract, p.gasLimit, p.callbackData);
        emit RequestCreated(
            requestId, msg.sender, p.modelId, r.inputHash, p.deliveryMode, deadline, modelFee, callbackFee, protocolFee_
        );
    }

    /// @dev `batchSize` requests of `p`, item i's input being bytes [i * itemBytes, (i + 1) * itemBytes) of `input`:
    /// itemBytes is the model's inputBytes, or for a text model `input.length / batchSize` (its prompts share one
    /// length, 1..C).
    function _requestBatch(uint256 batchSize, bytes calldata input, RequestParams memory p)
        private
        returns (uint256 firstRequestId)
    {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(batchSize, MAX_BATCH_SIZE);
        Model storage model = _activeModel(p.modelId);
        if (input.length == 0) revert EmptyInput(p.modelId);
        bool text = model.inputMode == GraphCommitments.INPUT_MODE_TEXT;
        uint256 itemBytes = text ? input.length / batchSize : model.inputBytes;
        // batchSize <= MAX_BATCH_SIZE and itemBytes <= MAX_INPUT_BYTES (or the input's length): no overflow.
        uint256 expected = batchSize * itemBytes;
        if (input.length != expected) {
            revert BatchInputLengthMismatch(p.modelId, batchSize, itemBytes, expected, input.length);
        }
        if (text) TextModels.checkPromptLength(p.modelId, itemBytes, model.inputBytes);
        (uint256 fee, uint256 tokenFee) = _checkAndQuote(p, model);
        uint256 total = fee * batchSize;
        if (msg.value < total) revert InsufficientFee(msg.value, total);
        firstRequestId = _requestCount + 1;
        for (uint256 i; i < batchSize; ++i) {
            p.input = input[i * itemBytes:(i + 1) * itemBytes];
            _store(p);
        }
        if (tokenFee != 0) _pullFeeToken(p.modelId, tokenFee * batchSize);
        // msg.value >= total was checked above.
        _returnExcess(firstRequestId, msg.value - total);
    }

    /// @dev Pulls a token-priced request's model fee from the requester (who approved the oracle), checking that
    /// the whole amount arrived (a fee-on-transfer token would leave the escrow short).
    function _pullFeeToken(uint256 modelId, uint256 amount) private {
        IERC20 token = IERC20(_feeTokenOf(modelId));
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FeeTokenShortfall(address(token), amount, received);
    }

    /// @dev Refunds fee tokens: to the explicit refund recipient if one was given, else to the requester, which paid
    /// them (a contract that pays in a token handles it); credited if the transfer fails (e.g. a blocklist).
    function _refundToken(Request storage r, address token, uint256 amount) private {
        if (amount == 0) return;
        address to = r.refundRecipientSet ? r.refundRecipient : r.requester;
        if (IERC20(token).trySafeTransfer(to, amount)) emit TokenPaymentSent(token, to, amount);
        else _creditToken(token, to, amount);
    }

    function _creditToken(address token, address account, uint256 amount) private {
        if (amount == 0) return;
        _tokenCredits[token][account] += amount;
        emit TokenPaymentCredited(token, account, amount);
    }

    function _returnExcess(uint256 requestId, uint256 excess) private {
        if (excess != 0) _payRefund(_requests[requestId], excess);
    }

    function _feeParts(Model storage model, uint64 gasLimit)
        private
        view
        returns (uint256 modelFee, uint256 callbackFee, uint256 protocolFee_)
    {
        modelFee = model.fee;
        callbackFee = gasLimit == 0 ? 0 : (uint256(gasLimit) + CALLBACK_OVERHEAD_GAS) * callbackGasPrice();
        protocolFee_ = _protocolFee;
    }

    /// @dev Pays the callback fee to `executor` the first time; later calls pay nothing.
    function _payCallbackFee(Request storage r, uint256 requestId, address executor) private {
        if (r.callbackFeePaid) return;
        r.callbackFeePaid = true;
        uint256 amount = r.callbackFee;
        if (amount == 0) return;
        _credit(executor, amount);
        emit CallbackFeePaid(requestId, executor, amount);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _credits[account] += amount;
        emit PaymentCredited(account, amount);
    }

    /// @dev Pays a refund of `r` (docs/protocol.md §1.5): with an explicit recipient, pushed to it (credited to it if
    /// the push fails); else pushed to the requester, and if that fails (a consumer contract without `receive`),
    /// credited to the fallback account, which can withdraw it. Pushes have bounded gas.
    function _payRefund(Request storage r, uint256 amount) private {
        address recipient = r.refundRecipient;
        if (!r.refundRecipientSet) {
            address requester = r.requester;
            if (requester.sendValue(amount, REFUND_PUSH_GAS)) {
                emit PaymentSent(requester, amount);
                return;
            }
        }
        if (recipient.sendValue(amount, REFUND_PUSH_GAS)) emit PaymentSent(recipient, amount);
        else _credit(recipient, amount);
    }

    function _standingClaimId(uint256 requestId) private view returns (uint256) {
        if (_taskManager == address(0) || requestId == 0 || requestId > _requestCount) return 0;
        Task memory task = ITaskManager(_taskManager).getTask(requestId);
        return task.standingClaimId;
    }

    function _existingRequest(uint256 requestId) private view returns (Request storage r) {
        if (requestId == 0 || requestId > _requestCount) revert UnknownRequest(requestId);
        r = _requests[requestId];
    }

    function _setCallbackGasPrice(uint256 price) private {
        if (price < minCallbackGasPrice || price > maxCallbackGasPrice) {
            revert CallbackGasPriceOutOfBounds(price, minCallbackGasPrice, maxCallbackGasPrice);
        }
        _callbackGasPrice = price;
        emit CallbackGasPriceSet(price);
    }

    function _setProtocolFee(uint256 fee) private {
        if (fee > maxProtocolFee) revert ProtocolFeeTooHigh(fee, maxProtocolFee);
        _protocolFee = fee;
        emit ProtocolFeeSet(fee);
    }

    function _setTreasury(address treasury_) private {
        _treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}

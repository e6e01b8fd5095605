// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IAIOracle} from "./IAIOracle.sol";
import {IAIOracleBatch} from "./IAIOracleBatch.sol";
import {IModelRegistry} from "./IModelRegistry.sol";
import {DeliveryMode, FeeState, Request, RequestHeader, RequestParams, RequestStatus} from "../lib/Types.sol";

/// @title IAIOracleExtended
/// @notice The full oracle: the OAO surface, the model registry, a request entry point with options, views,
/// fee settlement and result delivery. Requests, fees and callbacks live here; claims, challenge windows and
/// games live in the task manager, which drives {deliver}, {settle} and {refund}. See docs/protocol.md §1.
interface IAIOracleExtended is IAIOracle, IAIOracleBatch, IModelRegistry {
    /// @notice Emitted with {IAIOracle-AICallbackRequest} for every request: the options and the fee parts.
    /// `inputHash` is the input's chunk root (docs/protocol.md §3.2): keccak256(input) for an input of one chunk.
    event RequestCreated(
        uint256 indexed requestId,
        address indexed requester,
        uint256 indexed modelId,
        bytes32 inputHash,
        DeliveryMode deliveryMode,
        uint64 deadline,
        uint256 modelFee,
        uint256 callbackFee,
        uint256 protocolFee
    );
    /// @notice A callback ran. `isError` for {IAIOracleCallbackReceiver-aiOracleCallbackError}.
    /// `returnData` is at most the first 256 bytes the callback returned or reverted with.
    event CallbackExecuted(
        uint256 indexed requestId, address indexed callbackContract, bool isError, bool success, bytes returnData
    );
    /// @notice The callback-gas part of the fee was paid to the account that executed the first delivery.
    event CallbackFeePaid(uint256 indexed requestId, address indexed executor, uint256 amount);
    /// @notice The request's fee was paid out at finalization.
    event FeeSettled(
        uint256 indexed requestId,
        address indexed operator,
        uint256 operatorPay,
        address modelFeeReceiver,
        uint256 modelShare,
        address treasury,
        uint256 protocolFee
    );
    /// @notice The request expired unanswered (or was cancelled) and its fee was refunded (§1.5 says to whom).
    event RequestRefunded(uint256 indexed requestId, address indexed requester, uint256 amount);
    /// @notice A payment could not be pushed (or is pull-only) and was credited; withdraw it with {withdraw}.
    event PaymentCredited(address indexed account, uint256 amount);
    /// @notice A payment was pushed to `account` directly (refunds to requesters).
    event PaymentSent(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice Fee tokens of a token-priced model (§1.5) credited to `account`; withdraw with {withdrawToken}.
    event TokenPaymentCredited(address indexed token, address indexed account, uint256 amount);
    /// @notice Fee tokens transferred to `account` directly (a token refund).
    event TokenPaymentSent(address indexed token, address indexed account, uint256 amount);
    event TokenWithdrawn(address indexed token, address indexed account, address indexed to, uint256 amount);
    event TaskManagerSet(address indexed taskManager);
    event CallbackGasPriceSet(uint256 callbackGasPrice);
    event ProtocolFeeSet(uint256 protocolFee);
    event TreasurySet(address indexed treasury);

    // ------------------------------------------------------------------ requests
    /// @notice Request with options: delivery mode, deadline, maximum fee. Same events as {requestCallback}.
    function requestWithOptions(RequestParams calldata params) external payable returns (uint256 requestId);

    /// @notice The three parts of a request's fee: model fee (in wei, or in the model's fee token for a token-priced
    /// model, {IModelRegistry-modelFeeToken}), callback gas and protocol fee (wei). {estimateFee} is the wei to send.
    function estimateFeeParts(uint256 modelId, uint64 gasLimit)
        external
        view
        returns (uint256 modelFee, uint256 callbackFee, uint256 protocolFeePart);

    /// @notice Price per callback gas unit used in quotes now: max(governance price, block.basefee).
    function callbackGasPrice() external view returns (uint256);

    // ------------------------------------------------------------------ views
    /// @notice A request with its stored fields. Reverts UnknownRequest.
    function getRequest(uint256 requestId) external view returns (Request memory);

    /// @notice The fixed-size fields of a request. Reverts UnknownRequest.
    function getRequestHeader(uint256 requestId) external view returns (RequestHeader memory);

    /// @notice Where the request is in its lifecycle (None for unknown ids).
    function getStatus(uint256 requestId) external view returns (RequestStatus);

    /// @notice keccak256 of the standing claim's output, or 0 when none is committed.
    function getOutputHash(uint256 requestId) external view returns (bytes32);

    /// @notice The standing claim's output (empty when none) and whether it is final.
    function getResult(uint256 requestId) external view returns (bytes memory output, bool finalized);

    /// @notice Number of requests made (the highest id).
    function requestCount() external view returns (uint256);

    /// @notice The account that gets money owed to the requester of `requestId` that is not pushed to the requester
    /// (docs/protocol.md §1.5): the explicit refund recipient if one was given, else the requester if it has no code,
    /// else the request's fallback account. The task manager pays the requester's share of a slash here.
    function refundAccount(uint256 requestId) external view returns (address);

    /// @notice Wei credited to `account`, withdrawable with {withdraw}.
    function pendingWithdrawal(address account) external view returns (uint256);

    /// @notice Send the caller's whole credited balance to `to`.
    function withdraw(address payable to) external returns (uint256 amount);

    /// @notice Fee tokens `token` credited to `account` (operator pay and model shares of token-priced models).
    function pendingTokenWithdrawal(address token, address account) external view returns (uint256);

    /// @notice Send the caller's whole credited balance of `token` to `to`.
    function withdrawToken(address token, address to) external returns (uint256 amount);

    function taskManager() external view returns (address);
    function treasury() external view returns (address);

    // ------------------------------------------------------------------ task manager only
    /// @notice Deliver `output` to the requester: emit AICallbackResult and, when there is a callback contract,
    /// call it with exactly its gas limit. The first delivery pays the callback fee to `executor`.
    /// A failing callback is recorded, never reverts the delivery. Only the task manager.
    function deliver(uint256 requestId, bytes calldata output, address executor) external;

    /// @notice Pay out the escrowed fee of a finalized request: operator, model fee receiver, treasury
    /// (and the callback fee to `executor` if no delivery has paid it yet). Only the task manager.
    function settle(uint256 requestId, address operator, address executor) external;

    /// @notice Refund a request that cannot be answered (expired, or cancelled by an undecided game) as §1.5 says;
    /// with a callback contract, call its error callback with `errorCode` ({ErrorCodes-EXPIRED} or
    /// {ErrorCodes-UNDECIDABLE}) and pay the callback fee to `executor`. Only the task manager.
    function refund(uint256 requestId, address executor, uint8 errorCode) external returns (uint256 refunded);

    // ------------------------------------------------------------------ governance (owner)
    /// @notice Wire the task manager. Only the owner, only once.
    function setTaskManager(address taskManager) external;
    function setCallbackGasPrice(uint256 price) external;
    function setProtocolFee(uint256 fee) external;
    function setTreasury(address treasury) external;
}

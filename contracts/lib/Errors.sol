// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {RequestStatus, FeeState, GameStatus, ClaimStatus} from "./Types.sol";

// All custom errors of the core contracts, in one place. Each carries the values a caller needs to see
// what to fix. Grouped by the contract that raises them.

// ---------------------------------------------------------------- shared
/// @notice A required address parameter was address(0).
error ZeroAddress();
/// @notice A required amount was zero.
error ZeroAmount();

// ---------------------------------------------------------------- model registry (AIOracle)
error ZeroAbsolutePrestate();
/// @notice The model's input tensor is larger than the registry admits, `maxBytes`: MAX_INPUT_BYTES (32768, 8
/// chunks of calldata hashed on chain by every request) for a fixed model, one 4096-byte chunk for a text model's
/// context (docs/protocol.md §1.3, §3.4).
error ModelInputTooLarge(uint256 inputBytes, uint256 maxBytes);
/// @notice A text model (descriptor inputMode 1) whose input header is not int8 of rank 1 (`int8 [C]`, C its context).
error InvalidTextInputHeader(bytes inputHeader);
/// @notice `feeShareBps` above 10_000.
error FeeShareTooHigh(uint16 feeShareBps);
/// @notice A fee share was set without a receiver for it.
error ZeroFeeReceiver(uint16 feeShareBps);
error UnknownModel(uint256 modelId);
error ModelIsDeprecated(uint256 modelId);
error NotModelOwner(uint256 modelId, address caller, address owner);
/// @notice A model's fee token must be a contract (an ERC20).
error FeeTokenNotContract(address token);
/// @notice A token-priced request received fewer fee tokens than its model fee (a fee-on-transfer token).
error FeeTokenShortfall(address token, uint256 expected, uint256 received);

// ---------------------------------------------------------------- requests and fees (AIOracle)
/// @notice A request (or batch) with no input bytes for model `modelId`.
error EmptyInput(uint256 modelId);
/// @notice A text model's prompt is longer than its context: `maxBytes` is the model's `inputBytes` (C).
error InputTooLong(uint256 modelId, uint256 maxBytes, uint256 given);
/// @notice A request input is not the model's input tensor: `expected` is its byte length (from the model's input
/// header, docs/protocol.md §3.2), `given` the input's. No claim could be checked against such an input.
error InputLengthMismatch(uint256 modelId, uint256 expected, uint256 given);
error GasLimitTooHigh(uint256 gasLimit, uint256 maxGasLimit);
/// @notice Callback gas was asked for, but there is no callback contract to spend it.
error ZeroCallbackWithGas(uint64 gasLimit);
/// @notice A callback contract was given with a gas limit of 0 (the callback could never run).
error CallbackWithoutGas(address callbackContract);
error DeadlineInPast(uint64 deadline, uint256 timestamp);
error InsufficientFee(uint256 paid, uint256 required);
error FeeAboveMax(uint256 fee, uint256 maxFee);
error UnknownRequest(uint256 requestId);
/// @notice A batch must have between 1 and `maxBatchSize` items.
error BatchSizeOutOfRange(uint256 batchSize, uint256 maxBatchSize);
/// @notice A batch input is `batchSize` model inputs back to back: `expected = batchSize * itemBytes` bytes.
error BatchInputLengthMismatch(uint256 modelId, uint256 batchSize, uint256 itemBytes, uint256 expected, uint256 given);
/// @notice Only calldata inputs and outputs are supported (ORA's `DA.Calldata` = 0); `inputDA`/`outputDA` as given.
error UnsupportedDataAvailability(uint8 inputDA, uint8 outputDA);
/// @notice The task manager refunded with an error code that is not one of the oracle's refund reasons.
error InvalidRefundCode(uint8 errorCode);
error FeeNotEscrowed(uint256 requestId, FeeState feeState);
error NotTaskManager(address caller);
error TaskManagerAlreadySet(address taskManager);
error CallbackGasPriceOutOfBounds(uint256 price, uint256 minPrice, uint256 maxPrice);
error ProtocolFeeTooHigh(uint256 fee, uint256 maxFee);
/// @notice The transaction does not carry enough gas to give the callback exactly its gas limit (EIP-150).
error InsufficientGasForCallback(uint256 gasAvailable, uint256 gasLimit);
error NothingToWithdraw(address account);
error WithdrawalFailed(address to, uint256 amount);
error InvalidOracleConfig();

// ---------------------------------------------------------------- staking
error InsufficientFreeStake(address operator, uint256 free, uint256 needed);
error NothingUnbonding(address staker);
error UnbondingNotEnded(address staker, uint64 unbondingEnd, uint256 timestamp);
error NotSlasher(address caller);
error OperatorJailed(address operator, uint64 jailedUntil);
error StakeBelowMinimum(address operator, uint256 active, uint256 minimum);
error LockUnderflow(address operator, uint256 locked, uint256 amount);
/// @notice A slash asked for more than the calling slasher has locked on the operator (docs/protocol.md §2.3).
error SlashExceedsLock(address slasher, address operator, uint256 locked, uint256 amount);
error InvalidSlashShares(uint16 winnerShareBps, uint16 requesterShareBps);
error NothingToClaim(address account);

// ---------------------------------------------------------------- task manager
error RequestNotOpen(uint256 requestId, RequestStatus status);
error DeadlinePassed(uint256 requestId, uint64 deadline, uint256 timestamp);
error DeadlineNotPassed(uint256 requestId, uint64 deadline, uint256 timestamp);
error EmptyOutput();
error OutputTooLarge(uint256 length, uint256 maxLength);
error ZeroTraceRoot();
error NotCommitted(uint256 requestId, RequestStatus status);
error ChallengeWindowClosed(uint256 requestId, uint64 windowEnd, uint256 timestamp);
error ChallengeWindowOpen(uint256 requestId, uint64 windowEnd, uint256 timestamp);
/// @notice A competing claim must have a different output than the standing claim.
error SameOutput(uint256 requestId, bytes32 outputHash);
error CannotChallengeOwnClaim(uint256 claimId, address operator);
/// @notice The standing claim's opening passed to `challenge` is not the one it was committed with (its
/// `ClaimCommitted`, `ClaimChallenged` or `ChallengeQueued` event has the right `traceRoot` and `finalState`).
error WrongClaimOpening(uint256 claimId, bytes32 traceRoot, bytes32 finalState);
error GamesOpen(uint256 requestId, uint32 openGames);
error NoDeliveryPending(uint256 requestId);
/// @notice A {finalizeMany} call got more ids than `max` (`TaskManager.MAX_FINALIZE_BATCH`); split it.
error FinalizeBatchTooLarge(uint256 count, uint256 max);
error UnknownGame(address caller);
error GameAlreadyResolved(address game, GameStatus status);
/// @notice The game factory returned address(0) or a game already in use.
error InvalidGame(address game);
error UnknownClaim(uint256 claimId);
/// @notice Only a queued challenge whose target claim no longer stands can be released (`targetStatus` is the
/// target's status; `status` the queued claim's).
error ChallengeNotReleasable(uint256 claimId, ClaimStatus status, uint256 targetClaimId, ClaimStatus targetStatus);
error InvalidTaskManagerConfig();

// ---------------------------------------------------------------- callback receiver (dapps)
/// @notice A callback entry point was called by someone other than the oracle.
error UnauthorizedCallbackSender(address sender, address oracle);

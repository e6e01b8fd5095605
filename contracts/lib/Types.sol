// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice Where a request is in its life (docs/protocol.md §1.4).
/// @dev `Requested`, `Challenged`, `Expired` and `Finalized` are derived or transient: the task manager stores
/// `None`, `Committed`, `Delivered` and `Refunded`, and {ITaskManager-getStatus} derives the others
/// (`Challenged` = committed with an open or queued game against the standing claim; `Expired` = requested,
/// deadline passed, not yet refunded; `Finalized` = only inside the finalizing transaction, before delivery).
/// `Cancelled` is stored when a game found the disputed node undecidable (docs/protocol.md §5.4): no result can be
/// verified, and {ITaskManager-expire} refunds the request at once.
enum RequestStatus {
    None,
    Requested,
    Committed,
    Challenged,
    Finalized,
    Delivered,
    Expired,
    Refunded,
    Cancelled
}

/// @notice When the requester's callback runs.
/// @dev `AtCommit` is the OAO behaviour: call back when a claim is committed, and once more with the new
/// output if that claim is overturned. `AtFinality`: call back once, when the result can no longer change.
enum DeliveryMode {
    AtCommit,
    AtFinality
}

/// @notice What happened to a request's escrowed fee.
enum FeeState {
    None,
    Escrowed,
    Settled,
    Refunded
}

/// @notice The state of one claim (an operator's answer to a request).
enum ClaimStatus {
    None,
    /// @dev The request's current answer. Its bond stays locked until finalization or defeat.
    Standing,
    /// @dev A challenger's competing claim in its (open) game against the standing claim.
    Challenging,
    /// @dev Lost a game; its bond was slashed. A claim is defeated at most once.
    Defeated,
    /// @dev Its bond was unlocked without a slash: a queued challenge whose target stopped standing, or either claim
    /// of an undecided game.
    Released,
    /// @dev The standing claim at finalization; its bond was unlocked and it was paid.
    Accepted,
    /// @dev A challenger's competing claim waiting in the standing claim's queue for its game (one game at a time
    /// per standing claim, docs/protocol.md §1.6).
    Queued
}

/// @notice The outcome a dispute game reports.
/// `Undecided`: the guest could not decide the disputed node (it had not exited at the game's last VM step, or it
/// panicked), so neither claim can be verified (docs/protocol.md §5.4).
enum GameWinner {
    Defender,
    Challenger,
    Undecided
}

/// @notice The state of one dispute game, as recorded by the task manager.
enum GameStatus {
    None,
    Open,
    DefenderWon,
    ChallengerWon,
    Undecided
}

/// @notice A registered model. Immutable once registered, except that its owner may deprecate it.
struct Model {
    /// @dev Account that registered the model; the only one that may deprecate it.
    address owner;
    /// @dev Number of nodes in the model's computation graph (the phase-2 trace has nodeCount + 1 states).
    uint32 nodeCount;
    /// @dev Share of the model fee paid to `feeReceiver`, in basis points; the rest pays the operator.
    uint16 feeShareBps;
    /// @dev Deprecated models take no new requests; requests already made complete normally.
    bool deprecated;
    /// @dev Byte length of the model's input tensor (its canonical encoding, from the descriptor's input header,
    /// at most MAX_INPUT_BYTES = 32768, 4096 for a text model): every request input must be exactly this long
    /// (docs/protocol.md §1.4, §3.4); for a text model the most it may be (a prompt of 1..inputBytes bytes).
    uint16 inputBytes;
    /// @dev The descriptor's inputMode (docs/protocol.md §3.3): 0 fixed, 1 text (int8 [L] prompts, trimmed output).
    uint8 inputMode;
    /// @dev The model fee is paid in an ERC20 token ({IModelRegistry-modelFeeToken}), not in wei (§1.5).
    bool feeInToken;
    /// @dev Receives `feeShareBps` of the model fee of every settled request.
    address feeReceiver;
    /// @dev Model fee charged per request: in wei, or in units of the fee token when `feeInToken`.
    uint96 fee;
    /// @dev Commitment to the graph and weights (docs/protocol.md §3).
    bytes32 modelRoot;
    /// @dev Initial VM state hash of the guest program that recomputes a node (the "absolute prestate").
    bytes32 absolutePrestate;
    /// @dev Where the model's files and description live (e.g. ipfs://...).
    string metadataURI;
}

/// @notice What a model owner supplies to register a model.
struct ModelParams {
    /// @dev The model descriptor (docs/protocol.md §3.3); `modelRoot = keccak256(descriptor)`, and the node count,
    /// weights root and tensor headers the chain needs are decoded from it.
    bytes descriptor;
    bytes32 absolutePrestate;
    uint96 fee;
    address feeReceiver;
    uint16 feeShareBps;
    string metadataURI;
}

/// @notice The options of the richer request entry point {IAIOracleExtended-requestWithOptions}.
struct RequestParams {
    uint256 modelId;
    bytes input;
    /// @dev Contract called with the result; address(0) for none (then `gasLimit` must be 0).
    address callbackContract;
    /// @dev Exact gas given to the callback.
    uint64 gasLimit;
    /// @dev Passed back to the callback unchanged.
    bytes callbackData;
    DeliveryMode deliveryMode;
    /// @dev A claim must be committed by this timestamp, else the request is refundable. 0: the default timeout.
    uint64 deadline;
    /// @dev The request reverts if the fee would exceed this (slippage guard against fee changes).
    uint256 maxFee;
    /// @dev Who gets the request's refunds (excess payment, expiry refund, the requester's share of a slash): pushed to
    /// it, credited to it if the push fails. address(0): the default rule (docs/protocol.md §1.5): pushed to the
    /// requester, and if that fails credited to the fallback account (the transaction's sender, or for a request made
    /// inside a callback, the fallback account of the request being delivered).
    address refundRecipient;
}

/// @notice A request as stored by the oracle.
struct Request {
    address requester;
    uint64 deadline;
    DeliveryMode deliveryMode;
    FeeState feeState;
    /// @dev Byte length of the request's input (at most 32768): the model's `inputBytes` for a fixed model, the
    /// prompt's length L (1..C) for a text model, whose input tensor is int8 [L] (docs/protocol.md §3.4).
    uint16 inputLength;
    address callbackContract;
    uint64 gasLimit;
    /// @dev Number of result deliveries so far (AICallbackResult events).
    uint32 deliveries;
    /// @dev Whether the last callback returned without reverting (false before the first).
    bool lastCallbackSucceeded;
    /// @dev Whether `callbackFee` has been paid out (to the executor of the first delivery or error callback).
    bool callbackFeePaid;
    uint64 createdAt;
    /// @dev Where refunds go (docs/protocol.md §1.5): the explicit recipient if `refundRecipientSet`, else the fallback
    /// account credited when a push to the requester fails.
    address refundRecipient;
    /// @dev Whether `refundRecipient` was given at request time (then refunds skip the requester).
    bool refundRecipientSet;
    /// @dev The model is a text model (copied at request time): every delivery passes the output bytes up to, not
    /// including, the first 0x00 (docs/protocol.md §1.7).
    bool textModel;
    /// @dev The input's chunk root (docs/protocol.md §3.2): keccak256(input) for an input of one chunk (4096 bytes).
    bytes32 inputHash;
    /// @dev The fee parts, fixed at request time; they sum to what was escrowed.
    uint128 modelFee;
    uint128 callbackFee;
    uint128 protocolFee;
    /// @dev `modelFee` is in the model's fee token, not wei (copied from the model at request time).
    bool feeInToken;
    /// @dev Packed beside protocolFee and feeInToken (model ids are the registry's counter and fit 64 bits).
    uint64 modelId;
    bytes callbackData;
}

/// @notice The fixed-size part of a request (what the task manager and dispute games read).
struct RequestHeader {
    address requester;
    uint64 deadline;
    DeliveryMode deliveryMode;
    FeeState feeState;
    address callbackContract;
    uint64 gasLimit;
    uint256 modelId;
    /// @dev {Request-inputHash}: the input's chunk root.
    bytes32 inputHash;
    /// @dev {Request-inputLength}: with the model's commitment it gives the input tensor's header (§3.4).
    uint16 inputLength;
}

/// @notice One claim: an operator's output for a request and its commitment to the whole computation, as the task
/// manager's `getClaim` view returns it (stored packed in 1 slot, `TaskManager.ClaimState`, beside its output and its
/// {ClaimOpening} or that opening's hash; `outputHash` is
/// keccak256 of the stored output; when it was committed is in its `ClaimCommitted` or `ClaimChallenged` event).
struct Claim {
    uint256 requestId;
    address operator;
    /// @dev End of this claim's challenge window (only meaningful while it is standing).
    uint64 windowEnd;
    ClaimStatus status;
    /// @dev Games against this claim still to be decided: the open one (at most one at a time) plus the queued ones.
    uint32 openGames;
    /// @dev The bond its operator locked (the task manager's `claimBond`).
    uint128 bond;
    bytes32 outputHash;
    /// @dev Merkle root over the graph states [State_0 .. State_n] (docs/protocol.md §3); 0 for a committed claim
    /// not yet challenged (only its hash with State_n is stored: {ClaimOpening}; the claim's event has it).
    bytes32 traceRoot;
}

/// @notice What a game needs of a claim (docs/protocol.md §1.8): its trace root and its State_n (leaf n, checked when
/// the claim was posted). A commit stores only their hash; the first challenge against the claim passes them
/// (from the claim's event) and the task manager keeps them from then on. A challenger's claim is opened at once.
struct ClaimOpening {
    bytes32 traceRoot;
    bytes32 finalState;
}

/// @notice One dispute game between a defender (standing) claim and a challenger claim.
struct Game {
    uint256 requestId;
    uint256 defenderClaimId;
    uint256 challengerClaimId;
    GameStatus status;
}

/// @notice Per-request lifecycle state held by the task manager, as its `getTask` view returns it (stored packed in one
/// slot, `TaskManager.TaskState`).
struct Task {
    RequestStatus status;
    /// @dev A redelivery is due (AtCommit mode, the standing claim changed after a delivery).
    bool deliveryPending;
    uint256 standingClaimId;
    /// @dev keccak256 of the output last delivered to the requester (0 if none).
    bytes32 deliveredOutputHash;
}

/// @notice One staker's balances in the staking contract.
struct StakeAccount {
    /// @dev Bonded stake, including the locked part. Only `active - locked` can be unstaked or locked again.
    uint128 active;
    /// @dev Part of `active` locked as bonds of open claims.
    uint128 locked;
    /// @dev Stake on its way out; withdrawable at `unbondingEnd`; never locked, so never slashed.
    uint128 unbonding;
    uint64 unbondingEnd;
    /// @dev The staker may not lock new bonds (commit or challenge) before this time.
    uint64 jailedUntil;
}

/// @notice Deployment parameters of the oracle. Prices in wei, durations in seconds.
struct OracleConfig {
    address owner;
    /// @dev Receives protocol fees.
    address treasury;
    /// @dev Governance price per callback gas unit; quotes use max(this, block.basefee).
    uint256 callbackGasPrice;
    /// @dev Immutable bounds on the governance price.
    uint256 minCallbackGasPrice;
    uint256 maxCallbackGasPrice;
    /// @dev Flat protocol fee per request, at most `maxProtocolFee` (immutable).
    uint256 protocolFee;
    uint256 maxProtocolFee;
    /// @dev Largest callback gas limit a request may ask for.
    uint64 maxCallbackGasLimit;
    /// @dev Deadline of OAO requests (and of option requests with deadline 0): now + requestTimeout.
    uint64 requestTimeout;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Claim, ClaimOpening, Game, GameWinner, RequestStatus, Task} from "../lib/Types.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";

/// @title ITaskManager
/// @notice The result lifecycle of a request: commit, challenge (through dispute games), overturn, finalize,
/// deliver, expire. See docs/protocol.md §1.4.
interface ITaskManager {
    /// @notice An operator answered a request; the claim is standing until `windowEnd` at least. `traceRoot` and
    /// `finalState` (its State_n, checked) are the claim's {ClaimOpening}: a challenge against it passes them.
    event ClaimCommitted(
        uint256 indexed requestId,
        uint256 indexed claimId,
        address indexed operator,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes32 finalState,
        uint64 windowEnd,
        bytes output
    );
    /// @notice A game opened between the standing claim and a competing claim: at once when the competing claim was
    /// posted with no game open against the standing claim, else when it reached the head of the queue.
    event ClaimChallenged(
        uint256 indexed requestId,
        uint256 indexed defenderClaimId,
        uint256 indexed challengerClaimId,
        address challenger,
        address game,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes32 finalState,
        bytes output
    );
    /// @notice A competing claim was posted while a game was open against the standing claim: it waits, at
    /// `position` (0 = next), for its own game (docs/protocol.md §1.6: one game at a time per standing claim).
    event ChallengeQueued(
        uint256 indexed requestId,
        uint256 indexed defenderClaimId,
        uint256 indexed challengerClaimId,
        address challenger,
        uint256 position,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes32 finalState
    );
    /// @notice A queued challenge was dropped unslashed because its target stopped standing; its bond is free.
    event ChallengeReleased(uint256 indexed requestId, uint256 indexed claimId, uint256 indexed targetClaimId);
    /// @notice A game found the disputed node undecidable: no claim can be verified; the request is cancelled and
    /// {expire} refunds it.
    event RequestCancelled(uint256 indexed requestId, address indexed game, uint256 defenderClaimId, uint256 challengerClaimId);
    /// @notice A game reported its winner. `loserSlashed` is what the loser's stake lost (0 if its bond was
    /// already slashed in an earlier game).
    event GameResolved(
        address indexed game,
        uint256 indexed requestId,
        GameWinner winner,
        uint256 winnerClaimId,
        uint256 loserClaimId,
        uint256 loserSlashed
    );
    /// @notice The standing claim lost; the challenger's claim is standing now with a fresh window.
    event ClaimOverturned(
        uint256 indexed requestId, uint256 indexed oldClaimId, uint256 indexed newClaimId, uint64 windowEnd
    );
    /// @notice The request's result is final.
    event RequestFinalized(uint256 indexed requestId, uint256 indexed claimId, address operator, bytes32 outputHash);
    /// @notice No claim was committed by the deadline; the request was refunded.
    event RequestExpired(uint256 indexed requestId);
    event DisputeGameFactorySet(address indexed factory);

    /// @notice Answer `requestId` with `output` (the canonical bytes of the model's output tensor) and the root of
    /// its graph-state trace, `proof.traceRoot`, with the docs/protocol.md §3.5 proofs: leaf 0 is the request's
    /// State_0, leaf n is the State_n whose output slot holds `output`. Locks a bond from the caller's free stake.
    /// With DeliveryMode.AtCommit the result is delivered in the same transaction, so the transaction must carry
    /// the callback's gas.
    /// @dev Reverts (besides the lifecycle errors) with TensorLengthMismatch, InvalidProofLength,
    /// InitialStateMismatch, OutputNotInFinalState or FinalStateMismatch (GraphCommitments).
    function commit(uint256 requestId, bytes calldata output, GraphCommitments.ClaimProof calldata proof)
        external
        returns (uint256 claimId);

    /// @notice Post a competing claim (different output, same §3.5 proofs as {commit}) against the standing claim
    /// during its window. Locks a bond and opens a game between the two, or, when a game is already open against
    /// the standing claim, queues the claim for the next game (`game` is then address(0); {ClaimChallenged} names
    /// the game when it opens). `standing` is the standing claim's opening, from the event that posted it
    /// ({ClaimCommitted}, {ClaimChallenged} or {ChallengeQueued}); reverts WrongClaimOpening if it is not that one.
    function challenge(
        uint256 requestId,
        bytes calldata output,
        GraphCommitments.ClaimProof calldata proof,
        ClaimOpening calldata standing
    ) external returns (uint256 claimId, address game);

    /// @notice Unlock the bond of a queued challenge whose target claim no longer stands (it was defeated, or the
    /// request was cancelled). Anyone; the bond returns to the challenger's free stake.
    function releaseChallenge(uint256 claimId) external;

    /// @notice Report the outcome of the calling game. Only a game this contract created, once.
    function resolveGame(GameWinner winner) external;

    /// @notice Finalize the standing claim after its window with no open game against it: release its bond,
    /// pay the fees, and deliver if a delivery is due. Anyone.
    function finalize(uint256 requestId) external;

    /// @notice {finalize} every id of `requestIds` that can be finalized now, skipping the others without reverting
    /// (not committed, window open, games open, already finalized, a duplicate, or not enough gas left for the
    /// id's reserve, {finalizeGasReserve}). Each finalized id emits exactly what {finalize} emits. At most
    /// `MAX_FINALIZE_BATCH` ids (else `FinalizeBatchTooLarge`). Anyone.
    /// @return finalized How many ids were finalized.
    function finalizeMany(uint256[] calldata requestIds) external returns (uint256 finalized);

    /// @notice The gas {finalizeMany} requires left before it finalizes `requestId`: a fixed reserve, plus, when a
    /// delivery is due, the callback's gas limit * (64/63)^2 and a per-output-word cost (docs/protocol.md §1.7).
    function finalizeGasReserve(uint256 requestId) external view returns (uint256);

    /// @notice Deliver the standing claim's output after an overturn (AtCommit mode). Anyone.
    function deliver(uint256 requestId) external;

    /// @notice Refund a request that got no claim by its deadline, or that a game cancelled (undecidable node).
    /// Anyone; the refund goes where docs/protocol.md §1.5 says (the refund recipient, else the requester, else its
    /// fallback account), and a callback contract gets `aiOracleCallbackError` with code 2 (expired) or 3
    /// (undecidable), run and paid for by the caller.
    function expire(uint256 requestId) external;

    /// @notice Switch the game factory for requests made from now on (ids > the oracle's `requestCount()`);
    /// earlier requests keep theirs. Only the owner.
    function setDisputeGameFactory(address factory) external;

    function getStatus(uint256 requestId) external view returns (RequestStatus);
    function isFinalized(uint256 requestId) external view returns (bool);
    function getTask(uint256 requestId) external view returns (Task memory);
    /// @notice A claim; reverts UnknownClaim. Its `traceRoot` is 0 until the claim is opened (a committed claim at its
    /// first challenge; a challenger's at once).
    function getClaim(uint256 claimId) external view returns (Claim memory);
    /// @notice A claim's output bytes; reverts UnknownClaim.
    function getClaimOutput(uint256 claimId) external view returns (bytes memory);
    /// @notice A claim's State_n (docs/protocol.md §3.5), checked when it was posted; 0 until the claim is opened (as
    /// `getClaim`'s `traceRoot`). Reverts UnknownClaim.
    function getClaimFinalState(uint256 claimId) external view returns (bytes32);

    /// @notice keccak256(abi.encode(traceRoot, finalState)) of a claim's opening: what a commit stores, and what
    /// `challenge`'s `standing` must hash to. Reverts UnknownClaim.
    function getClaimCommitment(uint256 claimId) external view returns (bytes32);
    function getGame(address game) external view returns (Game memory);
    /// @notice The game open against `claimId` (address(0) if none).
    function activeGame(uint256 claimId) external view returns (address);
    /// @notice The challenges queued against `claimId`, next first (released ones are skipped when dequeued).
    function queuedChallenges(uint256 claimId) external view returns (uint256[] memory);
    /// @notice The claim a queued challenge waits to play (0 for a claim that was never queued: a game's pair is in
    /// {getGame}).
    function challengeTarget(uint256 claimId) external view returns (uint256);
    function claimCount() external view returns (uint256);

    function oracle() external view returns (address);
    function staking() external view returns (address);
    /// @notice The game factory of requests made from now on (see {gameFactoryFor}).
    function disputeGameFactory() external view returns (address);
    /// @notice The game factory that opens games on `requestId`: the one in force when it was made.
    function gameFactoryFor(uint256 requestId) external view returns (address);
    function challengeWindow() external view returns (uint64);
    function claimBond() external view returns (uint128);
    function maxOutputBytes() external view returns (uint32);
}

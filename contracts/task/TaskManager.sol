// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {ITaskManager} from "../interfaces/ITaskManager.sol";
import {IAIOracleExtended} from "../interfaces/IAIOracleExtended.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {IDisputeGameFactory} from "../interfaces/IDisputeGame.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";
import {ErrorCodes} from "../lib/ErrorCodes.sol";
import {
    Claim,
    ClaimOpening,
    ClaimStatus,
    DeliveryMode,
    Game,
    GameStatus,
    GameWinner,
    RequestHeader,
    RequestStatus,
    Task
} from "../lib/Types.sol";
import {
    CannotChallengeOwnClaim,
    ChallengeNotReleasable,
    ChallengeWindowClosed,
    ChallengeWindowOpen,
    DeadlineNotPassed,
    DeadlinePassed,
    EmptyOutput,
    FinalizeBatchTooLarge,
    GameAlreadyResolved,
    GamesOpen,
    InvalidGame,
    InvalidTaskManagerConfig,
    NoDeliveryPending,
    NotCommitted,
    OutputTooLarge,
    RequestNotOpen,
    SameOutput,
    UnknownClaim,
    UnknownGame,
    WrongClaimOpening,
    ZeroAddress,
    ZeroTraceRoot
} from "../lib/Errors.sol";

/// @title TaskManager
/// @notice The result lifecycle of oracle requests (docs/protocol.md §1.4):
/// `Requested -> Committed -> (Challenged -> Committed)* -> Finalized -> Delivered`, or
/// `Requested -> Expired -> Refunded`. Operators commit claims (output + trace root) with a bond; any staked
/// party may post a competing claim during the standing claim's window, which opens a dispute game; a game's
/// loser is slashed and the winner's claim becomes or stays standing. Money and callbacks are the oracle's.
contract TaskManager is ITaskManager, Ownable2Step, ReentrancyGuardTransient {
    using SafeCast for uint256;
    using Checkpoints for Checkpoints.Trace160;

    /// @notice Most ids one {finalizeMany} call takes.
    uint256 public constant MAX_FINALIZE_BATCH = 256;
    /// @notice Gas {finalizeMany} keeps for one id's finalization without a delivery (measured ~150k; over-estimated).
    uint256 public constant FINALIZE_GAS_RESERVE = 200_000;
    /// @notice Extra gas kept for a delivery besides the callback's own limit (the oracle's bookkeeping, the event,
    /// the call), and per 32-byte word of output (storage read, log data, calldata copy).
    uint256 public constant DELIVERY_GAS_RESERVE = 100_000;
    uint256 public constant DELIVERY_GAS_PER_OUTPUT_WORD = 3_000;

    IAIOracleExtended private immutable _oracle;
    IStaking private immutable _staking;
    uint64 private immutable _challengeWindow;
    uint128 private immutable _claimBond;
    uint32 private immutable _maxOutputBytes;

    /// @dev The game factory of each request: key = the first request id a factory serves, value = its address.
    /// A switch applies only to requests made after it (docs/protocol.md §1.10).
    Checkpoints.Trace160 private _gameFactories;
    uint256 private _claimCount;
    /// @dev A request's lifecycle in one slot; the delivered output is the claim `deliveredClaimId`'s (0: none yet).
    /// `deliveryMode` and `gasLimit` are the request's, copied at the first commit so that finalizing reads no header.
    struct TaskState {
        RequestStatus status;
        bool deliveryPending;
        uint64 standingClaimId;
        uint64 deliveredClaimId;
        DeliveryMode deliveryMode;
        uint64 gasLimit;
    }

    mapping(uint256 requestId => TaskState) private _tasks;
    /// @dev A claim in 1 slot: (operator, windowEnd, status, requestId). Its output is in `_outputs` and its
    /// outputHash is keccak256 of it (`_outputHashOf`); its bond is `_claimBond` (immutable); its trace root and
    /// State_n are in `_openings` once opened, else their hash in `_commitments`; the games against it are in
    /// `_defenses`; `getClaim` returns the whole {Claim}. Request ids are the oracle's counter: 48 bits hold them; a
    /// window end is a timestamp plus a window of at most 2^32 s: 40 bits hold it.
    struct ClaimState {
        address operator;
        uint40 windowEnd;
        ClaimStatus status;
        uint48 requestId;
    }

    /// @dev The games against a standing claim in one slot, written only once it is challenged: the open game (at most
    /// one at a time, docs/protocol.md §1.6), the index of the next queued challenge in `_queue`, and how many games
    /// are still to be decided (the open one plus the queued ones; each backed by a bond, so 2^32 is out of reach).
    struct Defense {
        address activeGame;
        uint64 queueHead;
        uint32 openGames;
    }

    mapping(uint256 claimId => ClaimState) private _claims;
    mapping(uint256 claimId => bytes) private _outputs;
    mapping(address game => Game) private _games;
    /// @dev A committed claim's keccak256(abi.encode(traceRoot, State_n)), State_n checked at posting (docs/protocol.md
    /// §3.5): a game needs both, but only once the claim is challenged, so a commit stores one slot, not two.
    mapping(uint256 claimId => bytes32) private _commitments;
    /// @dev The trace root and State_n of each claim a game may play: a challenger's from its posting, a committed
    /// claim's from its first challenge (checked against `_commitments`). A game's phase 2 starts from State_n.
    mapping(uint256 claimId => ClaimOpening) private _openings;
    /// @dev The claim each queued challenge waits to play (set only for queued claims: a game records its own pair).
    mapping(uint256 challengerId => uint256 defenderId) private _challengeTarget;
    mapping(uint256 defenderId => Defense) private _defenses;
    /// @dev Challenges waiting for a game against a standing claim, in order; `Defense.queueHead` is the next one.
    mapping(uint256 defenderId => uint256[]) private _queue;

    /// @param challengeWindow_ Seconds a standing claim can be challenged.
    /// @param claimBond_ Stake locked by every claim, slashed if it loses a game.
    /// @param maxOutputBytes_ Largest output a claim may carry.
    constructor(
        IAIOracleExtended oracle_,
        IStaking staking_,
        IDisputeGameFactory gameFactory_,
        address owner_,
        uint64 challengeWindow_,
        uint128 claimBond_,
        uint32 maxOutputBytes_
    ) Ownable(owner_) {
        if (address(oracle_) == address(0) || address(staking_) == address(0)) revert ZeroAddress();
        if (address(gameFactory_) == address(0)) revert ZeroAddress();
        if (challengeWindow_ == 0 || challengeWindow_ > type(uint32).max || claimBond_ == 0 || maxOutputBytes_ == 0) {
            revert InvalidTaskManagerConfig();
        }
        _oracle = oracle_;
        _staking = staking_;
        _challengeWindow = challengeWindow_;
        _claimBond = claimBond_;
        _maxOutputBytes = maxOutputBytes_;
        // Key 0: the first factory serves every request up to the first switch.
        _gameFactories.push(0, uint160(address(gameFactory_)));
        emit DisputeGameFactorySet(address(gameFactory_));
    }

    // ================================================================== operators

    /// @inheritdoc ITaskManager
    function commit(uint256 requestId, bytes calldata output, GraphCommitments.ClaimProof calldata proof)
        external
        nonReentrant
        returns (uint256 claimId)
    {
        RequestHeader memory request = _oracle.getRequestHeader(requestId);
        TaskState storage task = _tasks[requestId];
        if (task.status != RequestStatus.None) revert RequestNotOpen(requestId, _status(requestId, task));
        if (block.timestamp > request.deadline) revert DeadlinePassed(requestId, request.deadline, block.timestamp);

        bytes32 finalState;
        (claimId, finalState) = _newClaim(requestId, request, output, proof, ClaimStatus.Standing);
        uint64 windowEnd = _claims[claimId].windowEnd;
        task.status = RequestStatus.Committed;
        task.standingClaimId = claimId.toUint64();
        task.deliveryMode = request.deliveryMode;
        task.gasLimit = request.gasLimit;
        emit ClaimCommitted(requestId, claimId, msg.sender, keccak256(output), proof.traceRoot, finalState, windowEnd, output);

        _staking.lock(msg.sender, _claimBond);
        if (request.deliveryMode == DeliveryMode.AtCommit) _deliver(requestId, task, output, claimId);
    }

    /// @inheritdoc ITaskManager
    function challenge(
        uint256 requestId,
        bytes calldata output,
        GraphCommitments.ClaimProof calldata proof,
        ClaimOpening calldata standing
    ) external nonReentrant returns (uint256 claimId, address game) {
        uint256 defenderId = _challengeable(requestId, output);
        _open(defenderId, standing);

        // Guard (docs/protocol.md §1.6, DESIGN invariant 7): one game at a time per standing claim. A second
        // challenger waits in a queue instead of playing alongside, so no game against a claim can be decided while
        // another one against it is being played: an attacker cannot defeat its own claim through a second address
        // while an honest game on it is open, and take the winner share or leave that game moot.
        Defense storage defense = _defenses[defenderId];
        bool queued = defense.activeGame != address(0);
        (claimId,) =
            _newClaim(requestId, _oracle.getRequestHeader(requestId), output, proof, queued ? ClaimStatus.Queued : ClaimStatus.Challenging);
        unchecked {
            // One open or queued game per challenger claim, each backed by a bond: cannot reach 2^32.
            defense.openGames += 1;
        }
        _staking.lock(msg.sender, _claimBond);

        if (queued) _enqueue(requestId, defenderId, claimId, defense.queueHead, keccak256(output));
        else game = _openGame(requestId, defenderId, claimId);
    }

    /// @inheritdoc ITaskManager
    function releaseChallenge(uint256 claimId) external nonReentrant {
        ClaimState storage claim = _existingClaim(claimId);
        uint256 targetId = _challengeTarget[claimId];
        ClaimState storage target = _claims[targetId];
        // Guard: a queued challenge keeps its bond locked for as long as its game may still be played, i.e. while
        // its target stands; once the target is defeated or released its game can no longer change the request.
        if (claim.status != ClaimStatus.Queued || target.status == ClaimStatus.Standing) {
            revert ChallengeNotReleasable(claimId, claim.status, targetId, target.status);
        }
        claim.status = ClaimStatus.Released;
        _defenses[targetId].openGames -= 1;
        emit ChallengeReleased(claim.requestId, claimId, targetId);
        _staking.unlock(claim.operator, _claimBond);
    }

    /// @inheritdoc ITaskManager
    function resolveGame(GameWinner winner) external nonReentrant {
        Game storage game = _games[msg.sender];
        if (game.status == GameStatus.None) revert UnknownGame(msg.sender);
        if (game.status != GameStatus.Open) revert GameAlreadyResolved(msg.sender, game.status);
        uint256 requestId = game.requestId;
        uint256 defenderId = game.defenderClaimId;
        uint256 challengerId = game.challengerClaimId;
        ClaimState storage defender = _claims[defenderId];
        ClaimState storage challenger = _claims[challengerId];
        // Only the standing claim has an open game, and it stands until that game (its only one) is decided.
        Defense storage defense = _defenses[defenderId];
        defense.openGames -= 1;
        defense.activeGame = address(0);
        // The requester's share of a slash goes where its refunds go (docs/protocol.md §1.5): a consumer contract
        // could not claim it from the staking contract.
        address requester = _oracle.refundAccount(requestId);

        if (winner == GameWinner.Defender) {
            game.status = GameStatus.DefenderWon;
            challenger.status = ClaimStatus.Defeated;
            uint256 slashed = _staking.slash(challenger.operator, _claimBond, defender.operator, requester);
            emit GameResolved(msg.sender, requestId, winner, defenderId, challengerId, slashed);
            // The standing claim stays; the next queued challenger (if any) gets its game now.
            uint256 head = defense.queueHead;
            uint256[] storage queue = _queue[defenderId];
            if (head < queue.length) {
                // Fewer entries than bonds ever locked: 64 bits hold the index.
                defense.queueHead = uint64(head + 1);
                uint256 nextId = queue[head];
                _claims[nextId].status = ClaimStatus.Challenging;
                _openGame(requestId, defenderId, nextId);
            }
            return;
        }

        TaskState storage task = _tasks[requestId];
        if (winner == GameWinner.Undecided) {
            // §5.4: the guest could not decide the disputed node (unfinished at the game's last VM step, or
            // panicked): neither claim is verifiable, so neither loses and no output of this request can finalize.
            game.status = GameStatus.Undecided;
            defender.status = ClaimStatus.Released;
            challenger.status = ClaimStatus.Released;
            task.status = RequestStatus.Cancelled;
            // No claim stands: the oracle's getResult/getOutputHash show no output for the request.
            task.standingClaimId = 0;
            emit GameResolved(msg.sender, requestId, winner, defenderId, challengerId, 0);
            emit RequestCancelled(requestId, msg.sender, defenderId, challengerId);
            _staking.unlock(defender.operator, _claimBond);
            _staking.unlock(challenger.operator, _claimBond);
            return;
        }

        game.status = GameStatus.ChallengerWon;
        defender.status = ClaimStatus.Defeated;
        uint40 windowEnd = (block.timestamp + _challengeWindow).toUint40();
        challenger.status = ClaimStatus.Standing;
        challenger.windowEnd = windowEnd;
        task.standingClaimId = challengerId.toUint64();
        // AtCommit requests were called back with an older output; {deliver} gives them the new one (and nothing is
        // due if the new standing output is the one they already have).
        if (task.deliveryMode == DeliveryMode.AtCommit) {
            task.deliveryPending = _outputHashOf(task.deliveredClaimId) != _outputHashOf(challengerId);
        }
        // With one game at a time, this challenger is the only one that played the defeated claim: the whole winner
        // share is its. Challenges still queued against the defeated claim can be released ({releaseChallenge}).
        uint256 defenderSlashed = _staking.slash(defender.operator, _claimBond, challenger.operator, requester);
        emit GameResolved(msg.sender, requestId, winner, challengerId, defenderId, defenderSlashed);
        emit ClaimOverturned(requestId, defenderId, challengerId, windowEnd);
    }

    /// @inheritdoc ITaskManager
    function finalize(uint256 requestId) external nonReentrant {
        TaskState storage task = _tasks[requestId];
        if (task.status != RequestStatus.Committed) revert NotCommitted(requestId, _status(requestId, task));
        ClaimState storage claim = _claims[task.standingClaimId];
        if (block.timestamp <= claim.windowEnd) {
            revert ChallengeWindowOpen(requestId, claim.windowEnd, block.timestamp);
        }
        uint32 openGames = _defenses[task.standingClaimId].openGames;
        if (openGames != 0) revert GamesOpen(requestId, openGames);
        _finalize(requestId, task);
    }

    /// @inheritdoc ITaskManager
    function finalizeMany(uint256[] calldata requestIds) external nonReentrant returns (uint256 finalized) {
        uint256 count = requestIds.length;
        if (count > MAX_FINALIZE_BATCH) revert FinalizeBatchTooLarge(count, MAX_FINALIZE_BATCH);
        for (uint256 j; j < count; ++j) {
            uint256 requestId = requestIds[j];
            TaskState storage task = _tasks[requestId];
            if (!_finalizable(task)) continue;
            // Guard (docs/protocol.md §1.7): an id runs only with its whole reserve left, so neither a callback (held
            // to its gas limit by the oracle) nor the finalization itself can run the batch out of gas; an id that
            // does not fit is skipped (it stays finalizable) and cheaper ids after it still run.
            if (gasleft() < _finalizeReserve(task, task.deliveryMode, task.gasLimit)) continue;
            _finalize(requestId, task);
            unchecked {
                ++finalized;
            }
        }
    }

    /// @inheritdoc ITaskManager
    function finalizeGasReserve(uint256 requestId) external view returns (uint256) {
        RequestHeader memory request = _oracle.getRequestHeader(requestId);
        return _finalizeReserve(_tasks[requestId], request.deliveryMode, request.gasLimit);
    }

    /// @inheritdoc ITaskManager
    function deliver(uint256 requestId) external nonReentrant {
        TaskState storage task = _tasks[requestId];
        if (task.status != RequestStatus.Committed || !task.deliveryPending) revert NoDeliveryPending(requestId);
        uint256 claimId = task.standingClaimId;
        _deliver(requestId, task, _outputs[claimId], claimId);
    }

    /// @inheritdoc ITaskManager
    function expire(uint256 requestId) external nonReentrant {
        RequestHeader memory request = _oracle.getRequestHeader(requestId);
        TaskState storage task = _tasks[requestId];
        uint8 errorCode = ErrorCodes.EXPIRED;
        if (task.status == RequestStatus.Cancelled) {
            // A game found the request undecidable (§5.4): refundable at once.
            errorCode = ErrorCodes.UNDECIDABLE;
        } else if (task.status != RequestStatus.None) {
            revert RequestNotOpen(requestId, _status(requestId, task));
        } else if (block.timestamp <= request.deadline) {
            revert DeadlineNotPassed(requestId, request.deadline, block.timestamp);
        }
        task.status = RequestStatus.Refunded;
        emit RequestExpired(requestId);
        _oracle.refund(requestId, msg.sender, errorCode);
    }

    // ================================================================== governance

    /// @inheritdoc ITaskManager
    function setDisputeGameFactory(address factory) external onlyOwner {
        if (factory == address(0)) revert ZeroAddress();
        // Requests already made keep the factory they were made under; ids only grow, so keys stay ordered.
        _gameFactories.push((_oracle.requestCount() + 1).toUint96(), uint160(factory));
        emit DisputeGameFactorySet(factory);
    }

    // ================================================================== views

    /// @inheritdoc ITaskManager
    function getStatus(uint256 requestId) external view returns (RequestStatus) {
        return _status(requestId, _tasks[requestId]);
    }

    /// @inheritdoc ITaskManager
    function isFinalized(uint256 requestId) external view returns (bool) {
        RequestStatus status = _tasks[requestId].status;
        return status == RequestStatus.Finalized || status == RequestStatus.Delivered;
    }

    /// @inheritdoc ITaskManager
    function getTask(uint256 requestId) external view returns (Task memory) {
        TaskState storage t = _tasks[requestId];
        return Task({
            status: t.status,
            deliveryPending: t.deliveryPending,
            standingClaimId: t.standingClaimId,
            deliveredOutputHash: _outputHashOf(t.deliveredClaimId)
        });
    }

    /// @inheritdoc ITaskManager
    function getClaim(uint256 claimId) external view returns (Claim memory) {
        ClaimState storage c = _existingClaim(claimId);
        return Claim({
            requestId: c.requestId,
            operator: c.operator,
            windowEnd: c.windowEnd,
            status: c.status,
            openGames: _defenses[claimId].openGames,
            bond: _claimBond,
            outputHash: _outputHashOf(claimId),
            traceRoot: _openings[claimId].traceRoot
        });
    }

    /// @inheritdoc ITaskManager
    function getClaimOutput(uint256 claimId) external view returns (bytes memory) {
        _existingClaim(claimId);
        return _outputs[claimId];
    }

    /// @inheritdoc ITaskManager
    function getClaimFinalState(uint256 claimId) external view returns (bytes32) {
        _existingClaim(claimId);
        return _openings[claimId].finalState;
    }

    /// @inheritdoc ITaskManager
    function getClaimCommitment(uint256 claimId) external view returns (bytes32) {
        _existingClaim(claimId);
        ClaimOpening storage opened = _openings[claimId];
        return opened.traceRoot != bytes32(0) ? _commitmentOf(opened.traceRoot, opened.finalState) : _commitments[claimId];
    }

    /// @inheritdoc ITaskManager
    function getGame(address game) external view returns (Game memory) {
        return _games[game];
    }

    /// @inheritdoc ITaskManager
    function activeGame(uint256 claimId) external view returns (address) {
        return _defenses[claimId].activeGame;
    }

    /// @inheritdoc ITaskManager
    function queuedChallenges(uint256 claimId) external view returns (uint256[] memory ids) {
        uint256[] storage queue = _queue[claimId];
        uint256 head = _defenses[claimId].queueHead;
        ids = new uint256[](queue.length - head);
        for (uint256 j; j < ids.length; ++j) ids[j] = queue[head + j];
    }

    /// @inheritdoc ITaskManager
    function challengeTarget(uint256 claimId) external view returns (uint256) {
        return _challengeTarget[claimId];
    }

    /// @inheritdoc ITaskManager
    function claimCount() external view returns (uint256) {
        return _claimCount;
    }

    function oracle() external view returns (address) {
        return address(_oracle);
    }

    function staking() external view returns (address) {
        return address(_staking);
    }

    function disputeGameFactory() external view returns (address) {
        return address(_gameFactories.latest());
    }

    /// @inheritdoc ITaskManager
    function gameFactoryFor(uint256 requestId) external view returns (address) {
        return address(_gameFactoryFor(requestId));
    }

    function challengeWindow() external view returns (uint64) {
        return _challengeWindow;
    }

    function claimBond() external view returns (uint128) {
        return _claimBond;
    }

    function maxOutputBytes() external view returns (uint32) {
        return _maxOutputBytes;
    }

    // ================================================================== internals

    function _newClaim(
        uint256 requestId,
        RequestHeader memory request,
        bytes calldata output,
        GraphCommitments.ClaimProof calldata proof,
        ClaimStatus status
    ) private returns (uint256 claimId, bytes32 finalState) {
        if (output.length == 0) revert EmptyOutput();
        if (output.length > _maxOutputBytes) revert OutputTooLarge(output.length, _maxOutputBytes);
        bytes32 traceRoot = proof.traceRoot;
        if (traceRoot == bytes32(0)) revert ZeroTraceRoot();
        claimId = ++_claimCount;
        // Guard (docs/protocol.md §3.5): the trace starts at this request's State_0 and ends at a State_n whose
        // output slot is `output`, so any two claims agree at leaf 0 and differ at leaf n, where a game starts.
        finalState = _verifiedFinalState(request, output, proof);
        // A standing claim is played only if challenged: its hash now, its opening then. A challenger plays at once
        // (or when dequeued, from a game's resolution, where no caller passes anything).
        if (status == ClaimStatus.Standing) _commitments[claimId] = _commitmentOf(traceRoot, finalState);
        else _openings[claimId] = ClaimOpening({traceRoot: traceRoot, finalState: finalState});
        _claims[claimId] = ClaimState({
            operator: msg.sender,
            windowEnd: status == ClaimStatus.Standing ? (block.timestamp + _challengeWindow).toUint40() : 0,
            status: status,
            requestId: requestId.toUint48()
        });
        _outputs[claimId] = output;
    }

    /// @dev Checks `opening` against claim `claimId` (its stored opening, or the hash its commit stored) and keeps it.
    function _open(uint256 claimId, ClaimOpening calldata opening) private {
        ClaimOpening storage opened = _openings[claimId];
        bytes32 traceRoot = opened.traceRoot;
        if (traceRoot != bytes32(0)) {
            if (traceRoot != opening.traceRoot || opened.finalState != opening.finalState) {
                revert WrongClaimOpening(claimId, opening.traceRoot, opening.finalState);
            }
            return;
        }
        // Guard: the only opening that hashes to the commitment is the one the commit checked (keccak256 is
        // collision resistant; a zero trace root never passed the commit's checks).
        if (opening.traceRoot == bytes32(0) || _commitmentOf(opening.traceRoot, opening.finalState) != _commitments[claimId]) {
            revert WrongClaimOpening(claimId, opening.traceRoot, opening.finalState);
        }
        opened.traceRoot = opening.traceRoot;
        opened.finalState = opening.finalState;
    }

    function _commitmentOf(bytes32 traceRoot, bytes32 finalState) private pure returns (bytes32) {
        return keccak256(abi.encode(traceRoot, finalState));
    }

    /// @dev The §3.5 checks of a claim against the request's input and the registered model; returns its State_n.
    function _verifiedFinalState(
        RequestHeader memory request,
        bytes calldata output,
        GraphCommitments.ClaimProof calldata proof
    ) private view returns (bytes32) {
        GraphCommitments.ClaimModel memory m = IModelRegistry(address(_oracle)).getClaimModel(request.modelId);
        bytes32 inputHash = GraphCommitments.requestInputHash(m.inputMode, m.inputHeader, request.inputHash, request.inputLength);
        bytes32 outputHash = GraphCommitments.tensorHash(m.outputHeader, output);
        GraphCommitments.verifyClaim(inputHash, m.weightsRoot, m.nodeCount, outputHash, proof);
        return GraphCommitments.stateHash(inputHash, m.weightsRoot, proof.finalNodesRoot);
    }

    /// @dev Queues `claimId` behind the game open against `defenderId` (whose next queued entry is at `head`).
    function _enqueue(uint256 requestId, uint256 defenderId, uint256 claimId, uint256 head, bytes32 outputHash) private {
        _challengeTarget[claimId] = defenderId;
        uint256[] storage queue = _queue[defenderId];
        queue.push(claimId);
        ClaimOpening storage opened = _openings[claimId];
        emit ChallengeQueued(
            requestId, defenderId, claimId, msg.sender, queue.length - 1 - head, outputHash, opened.traceRoot, opened.finalState
        );
    }

    /// @dev The standing claim of `requestId` if the caller may challenge it with `output` now.
    function _challengeable(uint256 requestId, bytes calldata output) private view returns (uint256 defenderId) {
        TaskState storage task = _tasks[requestId];
        if (task.status != RequestStatus.Committed) revert NotCommitted(requestId, _status(requestId, task));
        defenderId = task.standingClaimId;
        ClaimState storage defender = _claims[defenderId];
        if (block.timestamp > defender.windowEnd) {
            revert ChallengeWindowClosed(requestId, defender.windowEnd, block.timestamp);
        }
        if (keccak256(output) == _outputHashOf(defenderId)) revert SameOutput(requestId, keccak256(output));
        if (msg.sender == defender.operator) revert CannotChallengeOwnClaim(defenderId, msg.sender);
    }

    /// @dev Opens the game between the standing claim `defenderId` and `challengerId` (status Challenging).
    function _openGame(uint256 requestId, uint256 defenderId, uint256 challengerId) private returns (address game) {
        game = address(_gameFactoryFor(requestId).createGame(requestId, defenderId, challengerId));
        if (game == address(0) || _games[game].status != GameStatus.None) revert InvalidGame(game);
        _defenses[defenderId].activeGame = game;
        _games[game] = Game({
            requestId: requestId,
            defenderClaimId: defenderId,
            challengerClaimId: challengerId,
            status: GameStatus.Open
        });
        ClaimState storage c = _claims[challengerId];
        ClaimOpening storage opened = _openings[challengerId];
        emit ClaimChallenged(
            requestId,
            defenderId,
            challengerId,
            c.operator,
            game,
            _outputHashOf(challengerId),
            opened.traceRoot,
            opened.finalState,
            _outputs[challengerId]
        );
    }

    /// @dev Whether {finalize} of this task would succeed: a standing claim past its window with no game to decide.
    function _finalizable(TaskState storage task) private view returns (bool) {
        if (task.status != RequestStatus.Committed) return false;
        uint256 claimId = task.standingClaimId;
        return block.timestamp > _claims[claimId].windowEnd && _defenses[claimId].openGames == 0;
    }

    /// @dev Gas {finalizeMany} keeps in hand before finalizing `requestId`: a fixed reserve for the bookkeeping and
    /// payments, plus, when a delivery is due, the callback's gas limit grossed up by 64/63 twice (EIP-150 at the
    /// oracle call and at the callback call, as {ExactGasCall} requires) and the cost of reading, logging and passing
    /// on the output.
    function _finalizeReserve(TaskState storage task, DeliveryMode deliveryMode, uint256 gasLimit)
        private
        view
        returns (uint256 reserve)
    {
        reserve = FINALIZE_GAS_RESERVE;
        if (deliveryMode != DeliveryMode.AtFinality && !task.deliveryPending) return reserve;
        uint256 outputWords = (_outputs[task.standingClaimId].length + 31) / 32;
        reserve += DELIVERY_GAS_RESERVE + outputWords * DELIVERY_GAS_PER_OUTPUT_WORD
            + gasLimit * 64 * 64 / (63 * 63);
    }

    /// @dev {finalize} after its checks: accept the standing claim, unlock its bond, deliver if due, settle the fees.
    function _finalize(uint256 requestId, TaskState storage task) private {
        uint256 claimId = task.standingClaimId;
        ClaimState storage claim = _claims[claimId];
        claim.status = ClaimStatus.Accepted;
        task.status = RequestStatus.Finalized;
        emit RequestFinalized(requestId, claimId, claim.operator, _outputHashOf(claimId));
        _staking.unlock(claim.operator, _claimBond);

        if (task.deliveryMode == DeliveryMode.AtFinality || task.deliveryPending) {
            _deliver(requestId, task, _outputs[claimId], claimId);
        }
        task.status = RequestStatus.Delivered;
        _oracle.settle(requestId, claim.operator, msg.sender);
    }

    /// @dev Record the delivery, then let the oracle run the callback (state is final before the call).
    function _deliver(uint256 requestId, TaskState storage task, bytes memory output, uint256 claimId) private {
        task.deliveryPending = false;
        task.deliveredClaimId = claimId.toUint64();
        _oracle.deliver(requestId, output, msg.sender);
    }

    function _status(uint256 requestId, TaskState storage task) private view returns (RequestStatus) {
        RequestStatus stored = task.status;
        if (stored == RequestStatus.None) {
            if (requestId == 0 || requestId > _oracle.requestCount()) return RequestStatus.None;
            RequestHeader memory request = _oracle.getRequestHeader(requestId);
            return block.timestamp > request.deadline ? RequestStatus.Expired : RequestStatus.Requested;
        }
        if (stored == RequestStatus.Committed && _defenses[task.standingClaimId].openGames != 0) {
            return RequestStatus.Challenged;
        }
        return stored;
    }

    /// @dev The factory in force when `requestId` was made: the last switch whose first request id is <= it.
    function _gameFactoryFor(uint256 requestId) private view returns (IDisputeGameFactory) {
        return IDisputeGameFactory(address(_gameFactories.upperLookupRecent(requestId.toUint96())));
    }

    /// @dev keccak256 of a claim's output (0 for claim id 0, "no claim").
    function _outputHashOf(uint256 claimId) private view returns (bytes32) {
        return claimId == 0 ? bytes32(0) : keccak256(_outputs[claimId]);
    }

    function _existingClaim(uint256 claimId) private view returns (ClaimState storage claim) {
        claim = _claims[claimId];
        if (claim.status == ClaimStatus.None) revert UnknownClaim(claimId);
    }
}

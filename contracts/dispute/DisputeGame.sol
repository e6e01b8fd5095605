// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFaultDisputeGame} from "./interfaces/IFaultDisputeGame.sol";
import {GamePhase, Side, Clock, ClockLib} from "./lib/DisputeTypes.sol";
import {
    AlreadyInitialized,
    AlreadyPosted,
    ClaimsNotInGame,
    ClockExpired,
    GameNotInProgress,
    InvalidGameConfig,
    InvalidTraceProof,
    InvalidVmState,
    NoTimeout,
    NotFactory,
    NotPlayer,
    PreStateMismatch,
    WrongFinalStatus,
    WrongPhase,
    WrongValueCount
} from "./lib/DisputeErrors.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";
import {ITaskManager} from "../interfaces/ITaskManager.sol";
import {IAIOracleExtended} from "../interfaces/IAIOracleExtended.sol";
import {IBigStepper} from "../vm/interfaces/IBigStepper.sol";
import {IPreimageOracle} from "../vm/interfaces/IPreimageOracle.sol";
import {Claim, ClaimStatus, GameWinner, Model, RequestHeader} from "../lib/Types.sol";

/// @title DisputeGame
/// @notice One game of docs/protocol.md §5. Deployed once as an implementation carrying the configuration in
/// immutables; {DisputeGameFactory} clones it per (defender, challenger) pair and initializes the clone.
/// The game holds no money: bonds are the claims' stake locks, which the task manager settles on resolution.
contract DisputeGame is IFaultDisputeGame {
    /// @notice Local preimage identifiers of the guest's inputs (§4.5, §5.3).
    uint256 internal constant LOCAL_MODEL_ROOT = 1;
    uint256 internal constant LOCAL_NODE_INDEX = 2;
    uint256 internal constant LOCAL_PRE_STATE = 3;
    uint256 internal constant LOCAL_POST_STATE = 4;
    /// @notice A local datum is one 32-byte word: framed, `8 + 32` bytes.
    uint256 internal constant LOCAL_FRAMED_LENGTH = 40;
    /// @notice Size of a packed VM state (§4.1) and the offsets of the fields the game reads.
    uint256 internal constant VM_STATE_SIZE = 226;
    uint256 internal constant VM_PREIMAGE_KEY = 32;
    uint256 internal constant VM_PREIMAGE_OFFSET = 64;
    uint256 internal constant VM_EXIT_CODE = 88;
    uint256 internal constant VM_EXITED = 89;
    /// @notice VM statuses (§4.1): the most significant byte of a VM state hash.
    uint8 internal constant STATUS_VALID = 0;
    uint8 internal constant STATUS_INVALID = 1;
    uint8 internal constant STATUS_PANIC = 2;
    uint8 internal constant STATUS_UNFINISHED = 3;
    /// @notice The deepest VM trace a game may have. A node the guest cannot finish within T ends its game undecided
    /// (§5.4), which needs the honest side to know the state at T by running T steps: 2^40 (~1.1·10^12 steps, hours
    /// of keeper/vm on one core) is still runnable within a game's clock; 2^64 would not be.
    uint8 internal constant MAX_VM_TRACE_DEPTH = 40;

    // ================================================================== configuration (implementation immutables)

    IBigStepper private immutable VM;
    IPreimageOracle private immutable ORACLE;
    address private immutable FACTORY;
    uint64 private immutable CLOCK_DURATION;
    uint8 private immutable GRAPH_WIDTH_BITS;
    uint8 private immutable VM_WIDTH_BITS;
    uint8 private immutable VM_TRACE_DEPTH;

    // ================================================================== per game (set by `initialize`)

    address private _taskManager;
    uint256 private _requestId;
    uint256 private _defenderClaimId;
    uint256 private _challengerClaimId;
    address[2] private _players;
    bytes32[2] private _traceRoots;
    bytes32 private _modelRoot;
    bytes32 private _absolutePrestate;
    uint32 private _nodeCount;

    GamePhase private _phase;
    GameWinner private _winner;
    /// @dev The current phase's range; `_agreed` is both sides' value at `_lo`, `_disputed[side]` its value at `_hi`.
    uint256 private _lo;
    uint256 private _hi;
    bytes32 private _agreed;
    bytes32[2] private _disputed;
    /// @dev Who posted in the current round (or in VmStart) and what.
    bool[2] private _posted;
    bytes32[][2] private _values;
    Clock[2] private _clocks;
    /// @dev When the step phase began (0 before).
    uint64 private _stepSince;
    /// @dev The bound phase-1 inputs (§5.3): node index, State_{i-1} agreed, the defender's State_i.
    uint256 private _nodeIndex;
    bytes32 private _vmPreState;
    bytes32 private _vmPostState;
    /// @dev Each side's VM state hash at T (posted in VmStart): its status is what the side says the guest decides.
    bytes32[2] private _finalVm;

    /// @param vm_ The one-step verifier (MIPS); the preimage oracle is the one it reads.
    /// @param clockDuration_ Seconds each side has for all its moves in a game.
    /// @param graphWidthBits_ Phase-2 rounds split the range at up to `2^bits - 1` points (1..8).
    /// @param vmWidthBits_ Phase-1 rounds split the range at up to `2^bits - 1` points (1..8).
    /// @param vmTraceDepth_ Phase 1 runs over VM steps `0..2^depth` (1..MAX_VM_TRACE_DEPTH).
    /// @param factory_ The only account that may initialize clones of this implementation.
    constructor(
        IBigStepper vm_,
        uint64 clockDuration_,
        uint8 graphWidthBits_,
        uint8 vmWidthBits_,
        uint8 vmTraceDepth_,
        address factory_
    ) {
        if (
            clockDuration_ == 0 || graphWidthBits_ == 0 || graphWidthBits_ > 8 || vmWidthBits_ == 0
                || vmWidthBits_ > 8 || vmTraceDepth_ == 0 || vmTraceDepth_ > MAX_VM_TRACE_DEPTH
        ) revert InvalidGameConfig(clockDuration_, graphWidthBits_, vmWidthBits_, vmTraceDepth_);
        VM = vm_;
        ORACLE = vm_.oracle();
        FACTORY = factory_;
        CLOCK_DURATION = clockDuration_;
        GRAPH_WIDTH_BITS = graphWidthBits_;
        VM_WIDTH_BITS = vmWidthBits_;
        VM_TRACE_DEPTH = vmTraceDepth_;
        // The implementation itself is never a game.
        _taskManager = address(this);
        _phase = GamePhase.Resolved;
    }

    /// @notice Sets up a clone for the pair `(defenderClaimId, challengerClaimId)` of `requestId`, reporting to
    /// `taskManager_`. Reads both claims, the request and the model from the task manager and its oracle, and
    /// starts phase 2 (or phase 1 directly for a one-node model). Only the factory, once.
    function initialize(address taskManager_, uint256 requestId_, uint256 defenderClaimId_, uint256 challengerClaimId_)
        external
    {
        if (msg.sender != FACTORY) revert NotFactory(msg.sender, FACTORY);
        // Guard: a game is bound to one pair of claims for its whole life.
        if (_taskManager != address(0)) revert AlreadyInitialized();
        _taskManager = taskManager_;
        _requestId = requestId_;
        _defenderClaimId = defenderClaimId_;
        _challengerClaimId = challengerClaimId_;

        ITaskManager tm = ITaskManager(taskManager_);
        Claim memory d = tm.getClaim(defenderClaimId_);
        Claim memory c = tm.getClaim(challengerClaimId_);
        bytes32 dFinal = tm.getClaimFinalState(defenderClaimId_);
        bytes32 cFinal = tm.getClaimFinalState(challengerClaimId_);
        // Guard: both claims answer this request and passed the §3.5 checks (their final states are known and
        // differ), so leaf 0 is agreed and leaf n disputed — the invariant a bisection starts from.
        if (
            d.requestId != requestId_ || c.requestId != requestId_ || c.status != ClaimStatus.Challenging
                || dFinal == bytes32(0) || cFinal == bytes32(0) || dFinal == cFinal
        ) revert ClaimsNotInGame(requestId_, defenderClaimId_, challengerClaimId_);
        _players = [d.operator, c.operator];
        _traceRoots = [d.traceRoot, c.traceRoot];

        IAIOracleExtended oracle = IAIOracleExtended(tm.oracle());
        RequestHeader memory request = oracle.getRequestHeader(requestId_);
        Model memory model = oracle.getModel(request.modelId);
        GraphCommitments.ModelCommitment memory mc = oracle.getModelCommitment(request.modelId);
        _modelRoot = model.modelRoot;
        _absolutePrestate = model.absolutePrestate;
        _nodeCount = model.nodeCount;

        // The input tensor's hash (docs/protocol.md §3.4): for a text model, of int8 [the request's input length].
        bytes32 inputHash = GraphCommitments.requestInputHash(mc.inputMode, mc.inputHeader, request.inputHash, request.inputLength);
        _lo = 0;
        _hi = model.nodeCount;
        _agreed = GraphCommitments.initialState(inputHash, mc.weightsRoot, model.nodeCount);
        _disputed = [dFinal, cFinal];
        _phase = GamePhase.Graph;
        emit PhaseStarted(GamePhase.Graph, 0, model.nodeCount);
        if (model.nodeCount == 1) _endGraphPhase();
        else _startRound();
    }

    // ================================================================== moves

    /// @inheritdoc IFaultDisputeGame
    function moveGraph(bytes32[] calldata states, bytes32[][] calldata proofs) external {
        Side side = _beginMove(GamePhase.Graph);
        uint256[] memory points = _roundPoints(_lo, _hi, GRAPH_WIDTH_BITS);
        if (states.length != points.length) revert WrongValueCount(states.length, points.length);
        if (proofs.length != points.length) revert WrongValueCount(proofs.length, points.length);
        bytes32 root = _traceRoots[uint8(side)];
        uint256 n = _nodeCount;
        for (uint256 j; j < points.length; ++j) {
            // Guard: every revealed state is the poster's committed leaf: nobody changes their story mid-game.
            if (!GraphCommitments.verifyTraceLeaf(root, n, points[j], states[j], proofs[j])) {
                revert InvalidTraceProof(side, points[j], states[j]);
            }
        }
        _recordRound(side, states);
    }

    /// @inheritdoc IFaultDisputeGame
    function postFinalVmState(bytes32 vmStateHash) external {
        Side side = _beginMove(GamePhase.VmStart);
        uint8 status = uint8(uint256(vmStateHash) >> 248);
        // Guard (§5.4): the defender's run accepts its State_i (VALID) and the challenger's rejects it (INVALID), or
        // the side says the guest cannot decide the node (UNFINISHED at T, or PANIC). Neither may claim the other
        // side's verdict, so two posted hashes are equal only if both say "undecidable".
        uint8 verdict = side == Side.Defender ? STATUS_VALID : STATUS_INVALID;
        if (status != verdict && status != STATUS_UNFINISHED && status != STATUS_PANIC) {
            revert WrongFinalStatus(side, status, verdict);
        }
        _disputed[uint8(side)] = vmStateHash;
        _finalVm[uint8(side)] = vmStateHash;
        _posted[uint8(side)] = true;
        _clocks[uint8(side)] = _clocks[uint8(side)].stop(uint64(block.timestamp));
        bytes32[] memory values = new bytes32[](1);
        values[0] = vmStateHash;
        emit GameMoved(side, GamePhase.VmStart, _lo, _hi, values);
        if (!_posted[uint8(_other(side))]) return;

        // Both sides agree on the state at T: nothing to bisect, and by the guard above it is undecidable.
        if (_finalVm[0] == _finalVm[1]) {
            _resolve(GameWinner.Undecided);
            return;
        }
        _phase = GamePhase.Vm;
        emit PhaseStarted(GamePhase.Vm, _lo, _hi);
        if (_hi == _lo + 1) _startStep();
        else _startRound();
    }

    /// @inheritdoc IFaultDisputeGame
    function moveVm(bytes32[] calldata vmStateHashes) external {
        Side side = _beginMove(GamePhase.Vm);
        uint256 count = _roundPoints(_lo, _hi, VM_WIDTH_BITS).length;
        if (vmStateHashes.length != count) revert WrongValueCount(vmStateHashes.length, count);
        _recordRound(side, vmStateHashes);
    }

    /// @inheritdoc IFaultDisputeGame
    function step(bytes calldata preState, bytes calldata proof) external {
        if (_phase != GamePhase.Step) revert WrongPhase(_phase, GamePhase.Step);
        bytes32 preHash = _vmStateHash(preState);
        // Guard: the executed step starts from the state both sides agreed on, so its result is the true
        // state at `hi`.
        if (preHash != _agreed) revert PreStateMismatch(preHash, _agreed);
        _loadLocalPart(preState);

        bytes32 post = VM.step(preState, proof, localContext());
        emit GameStepped(post);
        // The side whose value at `hi` is the true one is right about the trace (an honest side's always is; if
        // neither is, the defender is not honest and is taken as wrong); its state at T says what the guest decides.
        _resolveByTrace(post == _disputed[uint8(Side.Defender)] ? Side.Defender : Side.Challenger);
    }

    /// @inheritdoc IFaultDisputeGame
    function claimTimeout() external {
        GamePhase phase_ = _phase;
        if (phase_ == GamePhase.Resolved) revert GameNotInProgress();
        uint64 now_ = uint64(block.timestamp);
        if (phase_ == GamePhase.Step) {
            if (now_ <= _stepSince + CLOCK_DURATION) revert NoTimeout(0, 0, CLOCK_DURATION);
            // Nobody proved the defender's value at `hi` wrong in time: its trace is taken as the true one.
            _resolveByTrace(Side.Defender);
            return;
        }
        uint64 dUsed = _clocks[uint8(Side.Defender)].usedAt(now_);
        uint64 cUsed = _clocks[uint8(Side.Challenger)].usedAt(now_);
        // Both out of time: neither played honestly; the claim that was attacked stands.
        if (cUsed > CLOCK_DURATION) _resolve(GameWinner.Defender);
        else if (dUsed > CLOCK_DURATION) _resolve(GameWinner.Challenger);
        else revert NoTimeout(dUsed, cUsed, CLOCK_DURATION);
    }

    // ================================================================== views

    /// @inheritdoc IFaultDisputeGame
    function phase() external view returns (GamePhase) {
        return _phase;
    }

    /// @inheritdoc IFaultDisputeGame
    function range() external view returns (uint256 lo, uint256 hi) {
        return (_lo, _hi);
    }

    /// @inheritdoc IFaultDisputeGame
    function roundPoints() external view returns (uint256[] memory) {
        if (_phase == GamePhase.Graph) return _roundPoints(_lo, _hi, GRAPH_WIDTH_BITS);
        if (_phase == GamePhase.Vm) return _roundPoints(_lo, _hi, VM_WIDTH_BITS);
        return new uint256[](0);
    }

    /// @inheritdoc IFaultDisputeGame
    function hasPosted(Side side) external view returns (bool) {
        return _posted[uint8(side)];
    }

    /// @inheritdoc IFaultDisputeGame
    function roundValues(Side side) external view returns (bytes32[] memory values) {
        if (!_posted[uint8(side)]) return values;
        if (_phase == GamePhase.VmStart) {
            values = new bytes32[](1);
            values[0] = _disputed[uint8(side)];
            return values;
        }
        return _values[uint8(side)];
    }

    /// @inheritdoc IFaultDisputeGame
    function agreedValue() external view returns (bytes32) {
        return _agreed;
    }

    /// @inheritdoc IFaultDisputeGame
    function disputedValues() external view returns (bytes32 defender, bytes32 challenger) {
        return (_disputed[0], _disputed[1]);
    }

    /// @inheritdoc IFaultDisputeGame
    function nodeIndex() external view returns (uint256) {
        return _nodeIndex;
    }

    /// @inheritdoc IFaultDisputeGame
    function vmInputs() external view returns (bytes32, uint256, bytes32, bytes32) {
        if (_nodeIndex == 0) return (bytes32(0), 0, bytes32(0), bytes32(0));
        return (_modelRoot, _nodeIndex, _vmPreState, _vmPostState);
    }

    /// @inheritdoc IFaultDisputeGame
    function localContext() public view returns (bytes32) {
        return bytes32(_challengerClaimId);
    }

    /// @inheritdoc IFaultDisputeGame
    function clock(Side side) external view returns (uint64 usedSeconds, uint64 runningSince) {
        Clock c = _clocks[uint8(side)];
        return (c.usedSeconds(), c.runningSince());
    }

    /// @inheritdoc IFaultDisputeGame
    function timeUsed(Side side) external view returns (uint64) {
        return _clocks[uint8(side)].usedAt(uint64(block.timestamp));
    }

    /// @inheritdoc IFaultDisputeGame
    function stepDeadline() external view returns (uint64) {
        return _phase == GamePhase.Step ? _stepSince + CLOCK_DURATION : 0;
    }

    /// @inheritdoc IFaultDisputeGame
    function winner() external view returns (GameWinner) {
        return _winner;
    }

    /// @inheritdoc IFaultDisputeGame
    function player(Side side) external view returns (address) {
        return _players[uint8(side)];
    }

    /// @inheritdoc IFaultDisputeGame
    function traceRoot(Side side) external view returns (bytes32) {
        return _traceRoots[uint8(side)];
    }

    /// @inheritdoc IFaultDisputeGame
    function absolutePrestate() external view returns (bytes32) {
        return _absolutePrestate;
    }

    /// @inheritdoc IFaultDisputeGame
    function nodeCount() external view returns (uint256) {
        return _nodeCount;
    }

    function taskManager() external view returns (address) {
        return _taskManager;
    }

    function requestId() external view returns (uint256) {
        return _requestId;
    }

    function defenderClaimId() external view returns (uint256) {
        return _defenderClaimId;
    }

    function challengerClaimId() external view returns (uint256) {
        return _challengerClaimId;
    }

    /// @inheritdoc IFaultDisputeGame
    function vm() external view returns (address) {
        return address(VM);
    }

    /// @inheritdoc IFaultDisputeGame
    function preimageOracle() external view returns (address) {
        return address(ORACLE);
    }

    /// @inheritdoc IFaultDisputeGame
    function clockDuration() external view returns (uint64) {
        return CLOCK_DURATION;
    }

    /// @inheritdoc IFaultDisputeGame
    function graphWidthBits() external view returns (uint8) {
        return GRAPH_WIDTH_BITS;
    }

    /// @inheritdoc IFaultDisputeGame
    function vmWidthBits() external view returns (uint8) {
        return VM_WIDTH_BITS;
    }

    /// @inheritdoc IFaultDisputeGame
    function vmTraceDepth() external view returns (uint8) {
        return VM_TRACE_DEPTH;
    }

    // ================================================================== internals

    /// @dev The checks every move shares; returns the caller's side.
    function _beginMove(GamePhase expected) private view returns (Side side) {
        if (_phase != expected) revert WrongPhase(_phase, expected);
        // Guard: only a claim's own operator speaks for it (the two operators differ: the task manager refuses
        // a challenge of one's own claim).
        if (msg.sender == _players[0]) side = Side.Defender;
        else if (msg.sender == _players[1]) side = Side.Challenger;
        else revert NotPlayer(msg.sender, _players[0], _players[1]);
        if (_posted[uint8(side)]) revert AlreadyPosted(side);
        uint64 used = _clocks[uint8(side)].usedAt(uint64(block.timestamp));
        // Guard: a side out of time has lost; it cannot move in before someone claims the timeout.
        if (used > CLOCK_DURATION) revert ClockExpired(side, used, CLOCK_DURATION);
    }

    /// @dev Stores `side`'s round values, stops its clock, and narrows the range once both posted.
    function _recordRound(Side side, bytes32[] calldata values) private {
        uint8 s = uint8(side);
        _values[s] = values;
        _posted[s] = true;
        _clocks[s] = _clocks[s].stop(uint64(block.timestamp));
        emit GameMoved(side, _phase, _lo, _hi, values);
        if (_posted[1 - s]) _narrow();
    }

    /// @dev §5.1: the first round point where the sides differ closes the range; if they agree everywhere, the
    /// range is `[last point, hi]`. Then the next round, or the end of the phase.
    function _narrow() private {
        GamePhase phase_ = _phase;
        uint256[] memory points = _roundPoints(_lo, _hi, phase_ == GamePhase.Graph ? GRAPH_WIDTH_BITS : VM_WIDTH_BITS);
        bytes32[] storage d = _values[0];
        bytes32[] storage c = _values[1];
        uint256 lo = _lo;
        bytes32 agreed = _agreed;
        uint256 j;
        for (; j < points.length; ++j) {
            bytes32 dv = d[j];
            bytes32 cv = c[j];
            if (dv != cv) {
                _hi = points[j];
                _disputed = [dv, cv];
                break;
            }
            lo = points[j];
            agreed = dv;
        }
        _lo = lo;
        _agreed = agreed;
        emit RangeNarrowed(phase_, lo, _hi);
        if (_hi > lo + 1) {
            _startRound();
        } else if (phase_ == GamePhase.Graph) {
            _endGraphPhase();
        } else {
            _startStep();
        }
    }

    /// @dev Opens a round: nobody has posted, both owe a move, both clocks run.
    function _startRound() private {
        _posted = [false, false];
        uint64 now_ = uint64(block.timestamp);
        _clocks[0] = _clocks[0].start(now_);
        _clocks[1] = _clocks[1].start(now_);
    }

    /// @dev §5.3: phase 2 ended at `i = hi`; the contract binds the guest's inputs from what was proven (the
    /// agreed State_{i-1} and the defender's State_i, both opened against committed trace roots) and starts
    /// phase 1 over VM steps `[0, T]` from the registered absolute prestate.
    function _endGraphPhase() private {
        uint256 i = _hi;
        _nodeIndex = i;
        _vmPreState = _agreed;
        _vmPostState = _disputed[uint8(Side.Defender)];
        emit VmInputsBound(i, _agreed, _vmPostState, localContext());

        uint256 t = uint256(1) << VM_TRACE_DEPTH;
        _phase = GamePhase.VmStart;
        _lo = 0;
        _hi = t;
        _agreed = _absolutePrestate;
        _disputed = [bytes32(0), bytes32(0)];
        delete _values[0];
        delete _values[1];
        emit PhaseStarted(GamePhase.VmStart, 0, t);
        _startRound();
    }

    function _startStep() private {
        _phase = GamePhase.Step;
        _stepSince = uint64(block.timestamp);
        _posted = [false, false];
        uint64 now_ = uint64(block.timestamp);
        _clocks[0] = _clocks[0].stop(now_);
        _clocks[1] = _clocks[1].stop(now_);
        emit PhaseStarted(GamePhase.Step, _lo, _hi);
    }

    /// @dev §5.4: the bisection showed `side`'s VM trace right; the status of its state at T decides the game:
    /// VALID (the defender's State_i is right) for the defender, INVALID for the challenger, UNFINISHED (the guest
    /// had not exited at T) or PANIC (it could not check the node) undecided.
    function _resolveByTrace(Side side) private {
        uint8 status = uint8(uint256(_finalVm[uint8(side)]) >> 248);
        if (status == STATUS_VALID) _resolve(GameWinner.Defender);
        else if (status == STATUS_INVALID) _resolve(GameWinner.Challenger);
        else _resolve(GameWinner.Undecided);
    }

    function _resolve(GameWinner winner_) private {
        // Guard (with every entry point's phase check): a game is decided once.
        _phase = GamePhase.Resolved;
        _winner = winner_;
        uint64 now_ = uint64(block.timestamp);
        _clocks[0] = _clocks[0].stop(now_);
        _clocks[1] = _clocks[1].stop(now_);
        emit GameResolved(winner_);
        ITaskManager(_taskManager).resolveGame(winner_);
    }

    /// @dev If the pre-state's preimage cursor is on one of the guest's local inputs, stores that part in the
    /// oracle under this game's localized key, from the bound values (never from the caller).
    function _loadLocalPart(bytes calldata preState) private {
        bytes32 key = bytes32(preState[VM_PREIMAGE_KEY:VM_PREIMAGE_KEY + 32]);
        if (uint8(key[0]) != 1) return;
        uint256 ident = uint256(key) & ((uint256(1) << 248) - 1);
        uint256 offset = uint32(bytes4(preState[VM_PREIMAGE_OFFSET:VM_PREIMAGE_OFFSET + 4]));
        if (offset > LOCAL_FRAMED_LENGTH) return;
        bytes32 word;
        if (ident == LOCAL_MODEL_ROOT) word = _modelRoot;
        else if (ident == LOCAL_NODE_INDEX) word = bytes32(_nodeIndex);
        else if (ident == LOCAL_PRE_STATE) word = _vmPreState;
        else if (ident == LOCAL_POST_STATE) word = _vmPostState;
        else return;
        ORACLE.loadLocalData(ident, localContext(), word, 32, offset);
    }

    /// @dev The status-tagged hash of a packed VM state (§4.1).
    function _vmStateHash(bytes calldata state) private pure returns (bytes32) {
        if (state.length != VM_STATE_SIZE) revert InvalidVmState(state.length);
        uint8 exited = uint8(state[VM_EXITED]);
        if (exited > 1) revert InvalidVmState(state.length);
        uint8 exitCode = uint8(state[VM_EXIT_CODE]);
        uint256 status = exited == 0
            ? STATUS_UNFINISHED
            : (exitCode == 0 ? STATUS_VALID : (exitCode == 1 ? STATUS_INVALID : STATUS_PANIC));
        return bytes32((uint256(keccak256(state)) & ((uint256(1) << 248) - 1)) | (status << 248));
    }

    /// @dev §5.1: `p_j = lo + floor(j·(hi − lo)/w)` for `j = 1..w−1`, without duplicates or points at lo/hi.
    function _roundPoints(uint256 lo, uint256 hi, uint8 widthBits) private pure returns (uint256[] memory points) {
        uint256 w = uint256(1) << widthBits;
        uint256 span = hi - lo;
        points = new uint256[](w - 1);
        uint256 count;
        for (uint256 j = 1; j < w; ++j) {
            uint256 p = lo + (j * span) / w;
            if (p > lo && p < hi && (count == 0 || p != points[count - 1])) points[count++] = p;
        }
        assembly ("memory-safe") {
            mstore(points, count)
        }
    }

    function _other(Side side) private pure returns (Side) {
        return side == Side.Defender ? Side.Challenger : Side.Defender;
    }
}

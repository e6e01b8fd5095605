// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeGame} from "../../interfaces/IDisputeGame.sol";
import {GamePhase, Side} from "../lib/DisputeTypes.sol";
import {GameWinner} from "../../lib/Types.sol";

/// @title IFaultDisputeGame
/// @notice The multi-phase dispute game of docs/protocol.md §5 between a request's standing claim (the defender)
/// and one competing claim (the challenger): phase 2 bisects over graph states (each revealed state proven
/// against the revealer's own `traceRoot`), the contract binds the phase-1 inputs itself, phase 1 bisects over VM
/// steps of the guest program, and one `MIPS.step` on chain decides. Chess clocks per side; the loser is
/// reported to the task manager, which slashes it.
///
/// A side moves through its claim's operator only: the caller's address selects the side.
interface IFaultDisputeGame is IDisputeGame {
    /// @notice `side` posted `values` for the round over `[lo, hi]` (or its final VM hash, in `VmStart`).
    event GameMoved(Side side, GamePhase phase, uint256 lo, uint256 hi, bytes32[] values);
    /// @notice Both sides posted; the range is now `[lo, hi]`.
    event RangeNarrowed(GamePhase phase, uint256 lo, uint256 hi);
    /// @notice A phase started over `[lo, hi]`.
    event PhaseStarted(GamePhase phase, uint256 lo, uint256 hi);
    /// @notice Phase 2 ended at node `nodeIndex`: the contract bound the guest's local inputs (§5.3).
    event VmInputsBound(uint256 nodeIndex, bytes32 preState, bytes32 postState, bytes32 localContext);
    /// @notice The one step was executed on chain and gave `postState`.
    event GameStepped(bytes32 postState);
    /// @notice The game is decided.
    event GameResolved(GameWinner winner);

    // ------------------------------------------------------------------ moves

    /// @notice §5.2: the caller's graph states at every point of the current round, each with its proof (siblings
    /// bottom-up, `depthFor(n + 1)` of them) against the caller's own claim's `traceRoot`.
    function moveGraph(bytes32[] calldata states, bytes32[][] calldata proofs) external;

    /// @notice §5.4: the caller's VM state hash at step `T`; the defender's must have status VALID (0), the
    /// challenger's INVALID (1).
    function postFinalVmState(bytes32 vmStateHash) external;

    /// @notice §5.4: the caller's VM state hashes at every point of the current round.
    function moveVm(bytes32[] calldata vmStateHashes) external;

    /// @notice Executes the disputed VM step on chain and decides the game. Anyone, in phase `Step`. `preState`
    /// is the packed state at `lo` (its hash must be the agreed value); `proof` its memory proofs. Any keccak
    /// preimage part the step reads must be loaded into the preimage oracle first; a local part is loaded by
    /// the game itself from the inputs it bound.
    function step(bytes calldata preState, bytes calldata proof) external;

    /// @notice Decides the game for the side whose opponent ran out of time, or for the defender once the step
    /// window passed. Anyone.
    function claimTimeout() external;

    // ------------------------------------------------------------------ views

    function phase() external view returns (GamePhase);
    /// @notice The current phase's range (positions: trace leaves in `Graph`, VM steps afterwards).
    function range() external view returns (uint256 lo, uint256 hi);
    /// @notice The points of the current round (§5.1); empty outside `Graph` and `Vm`.
    function roundPoints() external view returns (uint256[] memory);
    /// @notice Whether `side` posted in the current round (or its final VM hash, in `VmStart`).
    function hasPosted(Side side) external view returns (bool);
    /// @notice What `side` posted in the current round (empty before it posts).
    function roundValues(Side side) external view returns (bytes32[] memory);
    /// @notice The value both sides agree on at `lo`.
    function agreedValue() external view returns (bytes32);
    /// @notice The two sides' values at `hi` (zero until known).
    function disputedValues() external view returns (bytes32 defender, bytes32 challenger);
    /// @notice The node `i` phase 2 ended at (0 before).
    function nodeIndex() external view returns (uint256);
    /// @notice The bound phase-1 inputs (§5.3; zero before phase 2 ended).
    function vmInputs()
        external
        view
        returns (bytes32 modelRoot, uint256 nodeIndex_, bytes32 preState, bytes32 postState);
    /// @notice The context local preimage keys are localized under (with this game's address): the challenger
    /// claim's id.
    function localContext() external view returns (bytes32);
    /// @notice `side`'s chess clock: seconds used while stopped, and since when it runs (0: stopped).
    function clock(Side side) external view returns (uint64 usedSeconds, uint64 runningSince);
    /// @notice Seconds `side` has used by now (stopped time plus the running stretch).
    function timeUsed(Side side) external view returns (uint64);
    /// @notice When the step phase's window ends (0 outside `Step`).
    function stepDeadline() external view returns (uint64);
    /// @notice The outcome (meaningful once `Resolved`): Defender, Challenger, or Undecided (§5.4).
    function winner() external view returns (GameWinner);
    /// @notice The operator that moves for `side`.
    function player(Side side) external view returns (address);
    /// @notice `side`'s claim's `traceRoot`.
    function traceRoot(Side side) external view returns (bytes32);
    /// @notice The guest program's initial VM state hash (the agreed value at VM step 0).
    function absolutePrestate() external view returns (bytes32);
    function nodeCount() external view returns (uint256);

    // ------------------------------------------------------------------ configuration (same for every game)

    function vm() external view returns (address);
    function preimageOracle() external view returns (address);
    function clockDuration() external view returns (uint64);
    function graphWidthBits() external view returns (uint8);
    function vmWidthBits() external view returns (uint8);
    function vmTraceDepth() external view returns (uint8);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GamePhase, Side} from "./DisputeTypes.sol";

// Errors of the dispute game and its factory (docs/protocol.md §5). Each carries the values a caller needs to
// see what to fix.

/// @notice A game parameter is out of range (width bits outside 1..8, VM trace depth outside 1..40, zero clock).
error InvalidGameConfig(uint64 clockDuration, uint8 graphWidthBits, uint8 vmWidthBits, uint8 vmTraceDepth);
/// @notice A game (or the implementation) was already initialized.
error AlreadyInitialized();
/// @notice Only the factory initializes a game.
error NotFactory(address caller, address factory);
/// @notice Only the task manager bound to the factory creates games.
error NotTaskManager(address caller, address taskManager);
/// @notice Only the factory's deployer binds its task manager, once.
error NotDeployer(address caller, address deployer);
error TaskManagerAlreadyBound(address taskManager);
/// @notice The two claims do not form a game: not of `requestId`, or without a verified final state.
error ClaimsNotInGame(uint256 requestId, uint256 defenderClaimId, uint256 challengerClaimId);
/// @notice The action needs another phase.
error WrongPhase(GamePhase phase, GamePhase expected);
/// @notice The caller is neither party's operator.
error NotPlayer(address caller, address defender, address challenger);
/// @notice `side` already posted in this round (or its final VM hash).
error AlreadyPosted(Side side);
/// @notice `side`'s clock ran out: it can no longer move, and anyone may {claimTimeout}.
error ClockExpired(Side side, uint64 usedSeconds, uint64 clockDuration);
/// @notice A round needs one value per round point.
error WrongValueCount(uint256 count, uint256 expected);
/// @notice A phase-2 value's proof does not open the poster's `traceRoot` at `position`.
error InvalidTraceProof(Side side, uint256 position, bytes32 state);
/// @notice The final VM hash of `side` must carry status `expected` (0 VALID for the defender, 1 INVALID for the
/// challenger), or 3 UNFINISHED or 2 PANIC (the guest cannot decide the node).
error WrongFinalStatus(Side side, uint8 status, uint8 expected);
/// @notice The packed VM pre-state is malformed (not 226 bytes, or `exited` neither 0 nor 1).
error InvalidVmState(uint256 length);
/// @notice The pre-state of `step` is not the agreed state at `lo`.
error PreStateMismatch(bytes32 given, bytes32 agreed);
/// @notice Nobody's clock ran out yet (and in the step phase, the step window is still open).
error NoTimeout(uint64 defenderUsed, uint64 challengerUsed, uint64 clockDuration);
/// @notice The game is decided.
error GameNotInProgress();

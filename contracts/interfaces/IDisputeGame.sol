// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IDisputeGame
/// @notice One game between a request's standing claim (the defender) and a competing claim (the challenger).
/// The game reads both claims and the request from the task manager ({ITaskManager-getClaim},
/// {IAIOracleExtended-getRequestHeader}) and, when decided, reports the winner exactly once through
/// {ITaskManager-resolveGame}, which only a game the task manager created may call.
interface IDisputeGame {
    function taskManager() external view returns (address);
    function requestId() external view returns (uint256);
    function defenderClaimId() external view returns (uint256);
    function challengerClaimId() external view returns (uint256);
}

/// @title IDisputeGameFactory
/// @notice Creates games for the task manager.
interface IDisputeGameFactory {
    /// @notice Create a game between two claims of `requestId`. Called by the task manager when a competing
    /// claim is posted; the returned address is the only one allowed to resolve that pair.
    function createGame(uint256 requestId, uint256 defenderClaimId, uint256 challengerClaimId)
        external
        returns (IDisputeGame game);

    /// @notice Depth of the VM trace the factory's games bisect: a node's guest run must exit within
    /// `2^vmTraceDepth` steps to be decided (docs/protocol.md §5.4). Keepers refuse to serve models
    /// with a node that does not fit.
    function vmTraceDepth() external view returns (uint8);
}

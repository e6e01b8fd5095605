// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeGame, IDisputeGameFactory} from "../interfaces/IDisputeGame.sol";
import {ITaskManager} from "../interfaces/ITaskManager.sol";
import {GameWinner} from "../lib/Types.sol";

/// @title ToyDisputeGame
/// @notice Test-only game whose outcome the factory's referee (a test) sets, so the task manager's game logic
/// can be tested before the real game exists. Never wired into a production deployment.
contract ToyDisputeGame is IDisputeGame {
    error NotReferee(address caller, address referee);
    error AlreadyResolved();

    address public immutable taskManager;
    address public immutable referee;
    uint256 public immutable requestId;
    uint256 public immutable defenderClaimId;
    uint256 public immutable challengerClaimId;
    bool public resolved;

    constructor(address taskManager_, address referee_, uint256 requestId_, uint256 defender_, uint256 challenger_) {
        taskManager = taskManager_;
        referee = referee_;
        requestId = requestId_;
        defenderClaimId = defender_;
        challengerClaimId = challenger_;
    }

    /// @notice Decide the game and report it to the task manager. Only the referee, once.
    function resolve(GameWinner winner) external {
        if (msg.sender != referee) revert NotReferee(msg.sender, referee);
        if (resolved) revert AlreadyResolved();
        resolved = true;
        ITaskManager(taskManager).resolveGame(winner);
    }
}

/// @title ToyDisputeGameFactory
/// @notice Creates {ToyDisputeGame}s for whichever task manager calls it. Test-only.
contract ToyDisputeGameFactory is IDisputeGameFactory {
    address public immutable referee;
    address[] private _games;

    /// @notice Toy games have no VM phase; keepers still check their models against a trace depth, the
    /// production default (ignition/modules/OracleCore.ts GAME_DEFAULTS.vmTraceDepth).
    uint8 public constant vmTraceDepth = 32;

    constructor(address referee_) {
        referee = referee_;
    }

    /// @inheritdoc IDisputeGameFactory
    function createGame(uint256 requestId, uint256 defenderClaimId, uint256 challengerClaimId)
        external
        returns (IDisputeGame game)
    {
        game = new ToyDisputeGame(msg.sender, referee, requestId, defenderClaimId, challengerClaimId);
        _games.push(address(game));
    }

    function gameCount() external view returns (uint256) {
        return _games.length;
    }

    function gameAt(uint256 index) external view returns (address) {
        return _games[index];
    }

    function lastGame() external view returns (address) {
        return _games[_games.length - 1];
    }
}

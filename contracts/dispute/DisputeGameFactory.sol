// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {IDisputeGame, IDisputeGameFactory} from "../interfaces/IDisputeGame.sol";
import {IBigStepper} from "../vm/interfaces/IBigStepper.sol";
import {DisputeGame} from "./DisputeGame.sol";
import {NotDeployer, NotTaskManager, TaskManagerAlreadyBound} from "./lib/DisputeErrors.sol";

/// @title DisputeGameFactory
/// @notice Creates one {DisputeGame} per (defender, challenger) pair for the task manager it is bound to: a
/// minimal clone (EIP-1167) of one implementation, which carries the game configuration (VM, clock duration,
/// widths, VM trace depth) in its immutables. Deploy order: factory (it deploys the implementation), task
/// manager (given the factory), then {bindTaskManager} by the deployer.
contract DisputeGameFactory is IDisputeGameFactory {
    event TaskManagerBound(address indexed taskManager);
    event GameCreated(
        address indexed game, uint256 indexed requestId, uint256 defenderClaimId, uint256 challengerClaimId
    );

    DisputeGame private immutable IMPLEMENTATION;
    address private immutable DEPLOYER;
    address private _taskManager;
    address[] private _games;

    /// @param vm_ The one-step verifier (MIPS) whose preimage oracle the games load local data into.
    /// @param clockDuration_ Seconds each side has for all its moves in a game.
    /// @param graphWidthBits_ Phase-2 round width: `2^bits - 1` points per round (1..8).
    /// @param vmWidthBits_ Phase-1 round width (1..8).
    /// @param vmTraceDepth_ Phase 1 covers VM steps `0..2^depth` (the guest must exit within it).
    constructor(
        IBigStepper vm_,
        uint64 clockDuration_,
        uint8 graphWidthBits_,
        uint8 vmWidthBits_,
        uint8 vmTraceDepth_
    ) {
        IMPLEMENTATION = new DisputeGame(
            vm_,
            clockDuration_,
            graphWidthBits_,
            vmWidthBits_,
            vmTraceDepth_,
            address(this)
        );
        DEPLOYER = msg.sender;
    }

    /// @notice Binds the task manager allowed to create games. Only the deployer, once.
    function bindTaskManager(address taskManager_) external {
        if (msg.sender != DEPLOYER) revert NotDeployer(msg.sender, DEPLOYER);
        // Guard: games report to the task manager that created them; a factory serves exactly one.
        if (_taskManager != address(0)) revert TaskManagerAlreadyBound(_taskManager);
        _taskManager = taskManager_;
        emit TaskManagerBound(taskManager_);
    }

    /// @inheritdoc IDisputeGameFactory
    function createGame(uint256 requestId, uint256 defenderClaimId, uint256 challengerClaimId)
        external
        returns (IDisputeGame game)
    {
        // Guard: only the bound task manager creates games, so every game reports to it.
        if (msg.sender != _taskManager || msg.sender == address(0)) revert NotTaskManager(msg.sender, _taskManager);
        DisputeGame g = DisputeGame(Clones.clone(address(IMPLEMENTATION)));
        _games.push(address(g));
        emit GameCreated(address(g), requestId, defenderClaimId, challengerClaimId);
        g.initialize(msg.sender, requestId, defenderClaimId, challengerClaimId);
        return g;
    }

    /// @inheritdoc IDisputeGameFactory
    function vmTraceDepth() external view returns (uint8) {
        return IMPLEMENTATION.vmTraceDepth();
    }

    function implementation() external view returns (address) {
        return address(IMPLEMENTATION);
    }

    function taskManager() external view returns (address) {
        return _taskManager;
    }

    function deployer() external view returns (address) {
        return DEPLOYER;
    }

    function gameCount() external view returns (uint256) {
        return _games.length;
    }

    function gameAt(uint256 index) external view returns (address) {
        return _games[index];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoreFixture} from "./utils/CoreFixture.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {DeliveryMode, GameWinner, RequestStatus} from "../../contracts/lib/Types.sol";

contract LifecycleTest is CoreFixture {
    function test_commit_finalize_noCallback() public {
        uint256 id = _requestNoCallback();
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Requested));
        _commit(alice, id, OUTPUT_A, TRACE_A);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Committed));
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Delivered));
        assertTrue(oracle.isFinalized(id));
        (bytes memory output, bool finalized) = oracle.getResult(id);
        assertEq(output, OUTPUT_A);
        assertTrue(finalized);
    }

    function test_challenge_overturn() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Challenged));
        _resolve(game, GameWinner.Challenger);
        assertEq(oracle.getOutputHash(id), keccak256(OUTPUT_B));
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertTrue(oracle.isFinalized(id));
    }
}

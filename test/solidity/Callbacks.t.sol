// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {IAIOracleExtended} from "../../contracts/interfaces/IAIOracleExtended.sol";
import {ITaskManager} from "../../contracts/interfaces/ITaskManager.sol";
import {
    RevertingReceiver,
    GasBurningReceiver,
    ReturnBombReceiver,
    ReenteringReceiver,
    GasGriefingReceiver
} from "../../contracts/mocks/HostileReceivers.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {DeliveryMode, GameWinner, RequestStatus} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev Every hostile callback is harmless: the commit (or finalize, deliver, expire) goes through, the failure is
/// recorded, nothing is replayed, and nobody can re-enter.
contract CallbacksTest is CoreFixture {
    uint64 internal constant BIG_GAS = 1_500_000;

    /// @dev Commit for a request whose callback is `target`, and return the gas the commit used.
    function _commitMeasured(uint256 id) internal returns (uint256 used) {
        GraphCommitments.ClaimProof memory proof = _proof(OUTPUT_A, TRACE_A);
        vm.prank(alice);
        uint256 g = gasleft();
        tm.commit{gas: 4_000_000}(id, OUTPUT_A, proof);
        used = g - gasleft();
    }

    function _assertFailedAndUnblocked(uint256 id) internal {
        assertFalse(oracle.getRequest(id).lastCallbackSucceeded);
        assertEq(oracle.getRequest(id).deliveries, 1);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Committed));
        // The result stays readable and nothing can replay the delivery.
        (bytes memory out,) = oracle.getResult(id);
        assertEq(out, OUTPUT_A);
        vm.expectRevert(abi.encodeWithSelector(NoDeliveryPending.selector, id));
        tm.deliver(id);
        // The request still finalizes and pays out.
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertTrue(oracle.isFinalized(id));
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Delivered));
    }

    function test_callback_reverting_isRecorded() public {
        address target = address(new RevertingReceiver());
        uint256 id = _requestFrom(user, target, CB_GAS, DeliveryMode.AtCommit);
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.CallbackExecuted(
            id, target, false, false, abi.encodeWithSignature("Error(string)", "RevertingReceiver: no")
        );
        _commitMeasured(id);
        _assertFailedAndUnblocked(id);
    }

    function test_callback_outOfGas_isBoundedByGasLimit() public {
        address target = address(new GasBurningReceiver());
        uint256 id = _requestFrom(user, target, CB_GAS, DeliveryMode.AtCommit);
        uint256 used = _commitMeasured(id);
        // The callback burned its whole limit and no more; the rest of the commit is ordinary work.
        assertLt(used, uint256(CB_GAS) + 400_000);
        _assertFailedAndUnblocked(id);
    }

    function test_callback_returnBomb_notCopied() public {
        // 1 MB of return data: the callee cannot even afford the memory within its limit.
        address big = address(new ReturnBombReceiver(1_000_000, false));
        uint256 id = _requestFrom(user, big, BIG_GAS, DeliveryMode.AtCommit);
        uint256 used = _commitMeasured(id);
        assertLt(used, uint256(BIG_GAS) + 400_000);
        _assertFailedAndUnblocked(id);
    }

    function test_callback_revertBomb_copiesAtMost256Bytes() public {
        // 100 KB of revert data the callee can afford: the oracle copies and logs only the first 256 bytes.
        address bomb = address(new ReturnBombReceiver(100_000, true));
        uint256 id = _requestFrom(user, bomb, BIG_GAS, DeliveryMode.AtCommit);
        vm.recordLogs();
        uint256 used = _commitMeasured(id);
        assertLt(used, 600_000);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool seen;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(oracle) || logs[i].topics[0] != IAIOracleExtended.CallbackExecuted.selector) {
                continue;
            }
            (bool isError, bool success, bytes memory returnData) = abi.decode(logs[i].data, (bool, bool, bytes));
            assertFalse(isError);
            assertFalse(success);
            assertEq(returnData.length, oracle.MAX_RETURN_DATA_COPY());
            seen = true;
        }
        assertTrue(seen);
        _assertFailedAndUnblocked(id);
    }

    function test_callback_returnBombSucceeding_isHarmless() public {
        // A callee that succeeds returning 100 KB: success is recorded, its data is not copied whole.
        address bomb = address(new ReturnBombReceiver(100_000, false));
        uint256 id = _requestFrom(user, bomb, BIG_GAS, DeliveryMode.AtCommit);
        uint256 used = _commitMeasured(id);
        assertLt(used, 600_000);
        assertTrue(oracle.getRequest(id).lastCallbackSucceeded);
    }

    function test_callback_reentering_isBlocked() public {
        ReenteringReceiver target = new ReenteringReceiver(oracle, tm);
        vm.deal(address(target), 1 ether);
        uint256 id = _requestFrom(user, address(target), BIG_GAS, DeliveryMode.AtCommit);
        _commitMeasured(id);
        assertEq(target.calls(), 1);
        // Every lifecycle entry point failed (NestedRequests.t.sol checks each one's revert); new requests from a
        // callback are allowed (ORA's nested inference) and tested there too.
        assertEq(target.reentered(), 0);
        assertTrue(oracle.getRequest(id).lastCallbackSucceeded); // it swallowed its own failures
        assertEq(oracle.getRequest(id).deliveries, 1);
        assertEq(oracle.requestCount(), 1);

        // Also at finality and through the error callback at expiry.
        uint256 id2 = _requestFrom(user, address(target), BIG_GAS, DeliveryMode.AtFinality);
        _commit(bob, id2, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id2);
        assertEq(target.calls(), 2);
        assertEq(target.reentered(), 0);
        assertEq(uint8(oracle.getStatus(id2)), uint8(RequestStatus.Delivered));

        uint256 id3 = _requestFrom(user, address(target), BIG_GAS, DeliveryMode.AtCommit);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper);
        tm.expire{gas: 3_000_000}(id3);
        assertEq(target.calls(), 3);
        assertEq(target.reentered(), 0);
        assertEq(uint8(oracle.getStatus(id3)), uint8(RequestStatus.Refunded));
        assertEq(oracle.requestCount(), 3);
    }

    function test_callback_getsExactlyItsGas() public {
        GasGriefingReceiver target = new GasGriefingReceiver();
        uint256 id = _requestFrom(user, address(target), CB_GAS, DeliveryMode.AtCommit);
        _commitMeasured(id);
        uint256 got = target.gasAtEntry();
        assertLe(got, CB_GAS);
        assertGt(got, CB_GAS - 1_000); // only the callee's own dispatch precedes the measurement
    }

    function test_callback_griefingInvalidOpcode_isBounded() public {
        GasGriefingReceiver target = new GasGriefingReceiver();
        target.setBurn(true);
        uint256 id = _requestFrom(user, address(target), BIG_GAS, DeliveryMode.AtCommit);
        uint256 used = _commitMeasured(id);
        assertLt(used, uint256(BIG_GAS) + 400_000);
        _assertFailedAndUnblocked(id);
    }

    function test_callback_starvedByKeeper_reverts() public {
        RecordingReceiver target = new RecordingReceiver(oracle);
        uint256 id = _requestFrom(user, address(target), MAX_GAS, DeliveryMode.AtCommit);
        // Enough gas for the commit itself but not for the callback's full 5M: the whole commit reverts.
        vm.prank(alice);
        vm.expectPartialRevert(InsufficientGasForCallback.selector);
        tm.commit{gas: 4_900_000}(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Requested));
        assertEq(target.deliveryCount(), 0);
        // With enough gas it goes through and the callback gets its full limit.
        vm.prank(alice);
        // (The keeper's commit gas bound when estimation fails: 700k + 16 per calldata byte + gasLimit * 66 / 63 + 20k.)
        tm.commit{gas: 700_000 + uint256(MAX_GAS) * 66 / 63 + 20_000}(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
        assertEq(target.deliveryCount(), 1);
        assertGt(target.deliveryAt(0).gasAtEntry, MAX_GAS - 2_000);
    }

    function test_callback_toAddressWithoutCode_isRecordedFailure() public {
        address eoa = makeAddr("eoaCallback");
        uint256 id = _requestFrom(user, eoa, CB_GAS, DeliveryMode.AtCommit);
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.CallbackExecuted(id, eoa, false, false, "");
        _commitMeasured(id);
        _assertFailedAndUnblocked(id);
    }

    function test_oaoEvent_resultEmittedPerDelivery() public {
        RecordingReceiver target = new RecordingReceiver(oracle);
        uint256 id = _requestFrom(user, address(target), CB_GAS, DeliveryMode.AtCommit);
        vm.expectEmit(address(oracle));
        emit IAIOracle.AICallbackResult(user, id, alice, OUTPUT_A);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        vm.expectEmit(address(oracle));
        emit IAIOracle.AICallbackResult(user, id, keeper, OUTPUT_B);
        vm.prank(keeper);
        tm.deliver{gas: 1_000_000}(id);
    }

    // ------------------------------------------------------------------ the receiver base's caller check

    function test_receiverBase_rejectsOtherCallers() public {
        RecordingReceiver target = new RecordingReceiver(oracle);
        address[3] memory callers = [user, address(tm), owner];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.startPrank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(UnauthorizedCallbackSender.selector, callers[i], address(oracle)));
            target.aiOracleCallback(1, OUTPUT_A, "");
            vm.expectRevert(abi.encodeWithSelector(UnauthorizedCallbackSender.selector, callers[i], address(oracle)));
            target.aiOracleCallbackError(1, 1, "", "");
            vm.stopPrank();
        }
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new RecordingReceiver(IAIOracle(address(0)));
    }
}

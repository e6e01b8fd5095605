// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {GraphTrace} from "./utils/GraphTrace.sol";
import {OAONestedInference} from "../../contracts/examples/OAONestedInference.sol";
import {IOraAIOracle} from "../../contracts/examples/OAOPromptConsumer.sol";
import {ReenteringReceiver} from "../../contracts/mocks/HostileReceivers.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {DeliveryMode, FeeState, GameWinner, ModelParams, Request, RequestStatus} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev Issue 12 item 4 (docs/protocol.md §1.7): a callback may make new requests (ORA's nested inference) and
/// quote fees, and nothing else: every lifecycle re-entry from inside a callback fails, also after a nested request.
contract NestedRequestsTest is CoreFixture {
    /// @dev A model that takes the fixture model's output (int8 [1]) as its input.
    uint256 internal second;
    OAONestedInference internal nested;

    function setUp() public override {
        super.setUp();
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(3, keccak256("second"), GraphTrace.int8Header(1), GraphTrace.int8Header(1));
        vm.prank(modelOwner);
        second = oracle.registerModel(p);
        nested = new OAONestedInference(IOraAIOracle(address(oracle)));
    }

    function _chain(uint256 extra) internal returns (uint256 id) {
        uint256 fee = nested.estimateFee(modelId, second);
        vm.prank(user);
        id = nested.requestChained{value: fee + extra}(modelId, second, INPUT);
    }

    // ------------------------------------------------------------------ ORA's nested inference

    function test_nested_oraPipeline_bothStagesAnsweredAndStored() public {
        uint256 balanceBefore = address(oracle).balance;
        uint256 id1 = _chain(0.1 ether);
        assertEq(nested.getPipeline(id1).prepaid, nested.estimateFee(modelId, second) - oracle.estimateFee(modelId, nested.FIRST_GAS_LIMIT()) + 0.1 ether);

        // The first commit runs the first callback, which makes the second request with the first output.
        _commit(alice, id1, OUTPUT_A, TRACE_A);
        assertTrue(oracle.getRequest(id1).lastCallbackSucceeded);
        assertEq(oracle.requestCount(), 2);
        OAONestedInference.Pipeline memory p = nested.getPipeline(id1);
        assertEq(p.firstOutput, OUTPUT_A);
        assertEq(p.secondRequestId, 2);
        assertEq(p.prepaid, 0);
        assertEq(nested.firstRequestOf(2), id1);
        assertEq(oracle.getRequestHeader(2).requester, address(nested));
        assertEq(oracle.getRequestHeader(2).modelId, second);
        assertEq(oracle.getRequestHeader(2).inputHash, keccak256(OUTPUT_A));
        assertEq(uint8(oracle.getStatus(2)), uint8(RequestStatus.Requested));
        // The prepayment paid exactly the second quote; the margin is the user's.
        assertEq(nested.balanceOf(user), 0.1 ether);

        // The second commit runs the second callback.
        _commit(bob, 2, OUTPUT_C, TRACE_B);
        assertTrue(oracle.getRequest(2).lastCallbackSucceeded);
        assertEq(nested.getPipeline(id1).secondOutput, OUTPUT_C);
        assertEq(oracle.requestCount(), 2); // the second stage does not chain further

        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id1);
        _finalize(2);
        assertTrue(oracle.isFinalized(id1) && oracle.isFinalized(2));
        // Both fees were escrowed and settled; the margin left with the user.
        uint256 before = user.balance;
        vm.prank(user);
        nested.withdraw();
        assertEq(user.balance - before, 0.1 ether);
        assertEq(address(nested).balance, 0);
        assertGt(address(oracle).balance, balanceBefore);
    }

    function test_nested_overturnedFirstStage_updatesOutputWithoutSecondChain() public {
        uint256 id1 = _chain(0);
        _commit(alice, id1, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id1, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        vm.prank(keeper);
        tm.deliver{gas: 2_000_000}(id1);
        assertEq(nested.getPipeline(id1).firstOutput, OUTPUT_B);
        assertEq(nested.getPipeline(id1).secondRequestId, 2);
        assertEq(oracle.requestCount(), 2);
    }

    function test_nested_failingSecondRequest_keepsFirstOutputAndRefundsPrepayment() public {
        uint256 id1 = _chain(0);
        uint256 prepaid = nested.getPipeline(id1).prepaid;
        vm.prank(modelOwner);
        oracle.deprecateModel(second);
        vm.expectEmit(address(nested));
        emit OAONestedInference.SecondStageNotRequested(id1, abi.encodeWithSelector(ModelIsDeprecated.selector, second));
        _commit(alice, id1, OUTPUT_A, TRACE_A);
        assertTrue(oracle.getRequest(id1).lastCallbackSucceeded);
        assertEq(nested.getPipeline(id1).firstOutput, OUTPUT_A);
        assertEq(oracle.requestCount(), 1);
        assertEq(nested.balanceOf(user), prepaid);
    }

    function test_nested_expiredFirstStage_refundsEverything() public {
        uint256 paid = nested.estimateFee(modelId, second);
        uint256 id1 = _chain(0);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper);
        tm.expire{gas: 3_000_000}(id1);
        // All but the error callback's gas (paid to the executor that ran it) is the user's again.
        uint256 callbackFee = oracle.getRequest(id1).callbackFee;
        assertEq(nested.balanceOf(user), paid - callbackFee);
        assertEq(address(nested).balance, paid - callbackFee);
    }

    function test_nested_requestFromFinalityCallback_thenSettles() public {
        ReenteringReceiver target = new ReenteringReceiver(oracle, tm);
        vm.deal(address(target), 1 ether);
        target.setNestedRequest(modelId, INPUT);
        uint256 id = _requestFrom(user, address(target), 1_500_000, DeliveryMode.AtFinality);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + WINDOW + 1);
        vm.recordLogs();
        _finalize(id);
        _assertEveryReentryFailed(target);
        // The nested request was made inside finalize, between the delivery and the settlement.
        assertEq(target.nestedRequestCount(), 1);
        uint256 nestedId = target.nestedRequests(0);
        assertEq(uint8(oracle.getStatus(nestedId)), uint8(RequestStatus.Requested));
        assertEq(uint8(oracle.getRequest(nestedId).feeState), uint8(FeeState.Escrowed));
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Delivered));
        assertEq(uint8(oracle.getRequest(id).feeState), uint8(FeeState.Settled));
        // The nested request is an ordinary request: answered and finalized later from outside.
        _commit(bob, nestedId, OUTPUT_C, TRACE_C);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(nestedId);
        assertEq(target.calls(), 2);
        assertEq(target.nestedRequestCount(), 2); // its own callback chained once more (the receiver always does)
    }

    function test_estimateFee_fromCallback() public {
        // A view: no guard, so a callback can quote the nested request it then pays for (the pipeline above relies
        // on it); outside any call it is the same quote.
        uint256 id1 = _chain(0);
        uint256 quote = oracle.estimateFee(second, nested.SECOND_GAS_LIMIT());
        _commit(alice, id1, OUTPUT_A, TRACE_A);
        Request memory r = oracle.getRequest(2);
        assertEq(uint256(r.modelFee) + r.callbackFee + r.protocolFee, quote);
    }

    // ------------------------------------------------------------------ forbidden re-entries

    function _guardError() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
    }

    /// @dev Checks the `ReentryAttempt` logs of the last callback round of `target` (recorded with vm.recordLogs).
    function _assertEveryReentryFailed(ReenteringReceiver target) internal {
        assertEq(target.reentered(), 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        string[12] memory names = target.attempted();
        uint256 seen;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(target) || logs[i].topics[0] != ReenteringReceiver.ReentryAttempt.selector) {
                continue;
            }
            (string memory name, bool succeeded, bytes memory ret) = abi.decode(logs[i].data, (string, bool, bytes));
            assertEq(name, names[seen % 12]);
            assertFalse(succeeded, name);
            // The task manager's entry points and withdraw are stopped by the guards held for the whole callback;
            // the oracle's hooks take calls from the task manager only.
            bytes memory expected = seen % 12 < 9
                ? _guardError()
                : abi.encodeWithSelector(NotTaskManager.selector, address(target));
            assertEq(ret, expected, name);
            ++seen;
        }
        assertEq(seen, 12);
    }

    function test_reentry_fromResultCallback_afterNestedRequest_allFail() public {
        ReenteringReceiver target = new ReenteringReceiver(oracle, tm);
        vm.deal(address(target), 1 ether);
        target.setNestedRequest(modelId, INPUT);
        uint256 id = _requestFrom(user, address(target), 1_500_000, DeliveryMode.AtCommit);
        vm.recordLogs();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        assertEq(target.calls(), 1);
        assertEq(target.nestedRequestCount(), 1);
        assertEq(target.nestedRequests(0), 2);
        _assertEveryReentryFailed(target);
        // Nothing was changed by the attempts: one delivery, the claim stands, the nested request is open.
        assertEq(oracle.getRequest(id).deliveries, 1);
        assertTrue(oracle.getRequest(id).lastCallbackSucceeded);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Committed));
        assertEq(uint8(oracle.getRequest(id).feeState), uint8(FeeState.Escrowed));
        assertEq(uint8(oracle.getStatus(2)), uint8(RequestStatus.Requested));
        assertEq(tm.claimCount(), 1);
        // No second delivery of the same request afterwards either.
        vm.expectRevert(abi.encodeWithSelector(NoDeliveryPending.selector, id));
        tm.deliver(id);
    }

    function test_reentry_fromRedeliveryCallback_allFail() public {
        ReenteringReceiver target = new ReenteringReceiver(oracle, tm);
        vm.deal(address(target), 1 ether);
        uint256 id = _requestFrom(user, address(target), 1_500_000, DeliveryMode.AtCommit);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        target.setNestedRequest(modelId, INPUT);
        vm.recordLogs();
        vm.prank(keeper);
        tm.deliver{gas: 3_000_000}(id);
        assertEq(target.calls(), 2);
        _assertEveryReentryFailed(target);
        assertEq(oracle.getRequest(id).deliveries, 2);
        assertEq(target.nestedRequestCount(), 1);
        vm.expectRevert(abi.encodeWithSelector(NoDeliveryPending.selector, id));
        tm.deliver(id);
    }

    function test_reentry_fromErrorCallback_allFail() public {
        ReenteringReceiver target = new ReenteringReceiver(oracle, tm);
        vm.deal(address(target), 1 ether);
        target.setNestedRequest(modelId, INPUT);
        uint256 id = _requestFrom(user, address(target), 1_500_000, DeliveryMode.AtCommit);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.recordLogs();
        vm.prank(keeper);
        tm.expire{gas: 3_000_000}(id);
        assertEq(target.calls(), 1);
        assertEq(target.nestedRequestCount(), 1);
        _assertEveryReentryFailed(target);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Refunded));
        assertEq(uint8(oracle.getRequest(id).feeState), uint8(FeeState.Refunded));
        // Refunded once: a second expiry is refused.
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Refunded));
        tm.expire(id);
    }
}

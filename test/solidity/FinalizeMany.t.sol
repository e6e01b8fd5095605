// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoreFixture} from "./utils/CoreFixture.sol";
import {ITaskManager} from "../../contracts/interfaces/ITaskManager.sol";
import {IAIOracleExtended} from "../../contracts/interfaces/IAIOracleExtended.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {
    RevertingReceiver,
    GasBurningReceiver,
    ReturnBombReceiver,
    GasGriefingReceiver,
    BatchReenteringReceiver
} from "../../contracts/mocks/HostileReceivers.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {ClaimStatus, DeliveryMode, FeeState, RequestStatus} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev `finalizeMany` (docs/protocol.md §1.6): finalizes what can be finalized, skips the rest without reverting,
/// and no callback, however hostile, can make the batch revert or keep later ids from finalizing.
contract FinalizeManyTest is CoreFixture {
    function _ids1(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    /// @dev A committed request past its window, delivering at finality to `callback` (none: address(0)).
    function _ready(address callback, uint64 gasLimit) internal returns (uint256 id) {
        id = callback == address(0) ? _requestNoCallback() : _requestFrom(user, callback, gasLimit, DeliveryMode.AtFinality);
        _commit(alice, id, OUTPUT_A, TRACE_A);
    }

    function _afterWindow() internal {
        vm.warp(block.timestamp + WINDOW + 1);
    }

    function _finalizeMany(uint256[] memory ids, uint256 gas) internal returns (uint256 n) {
        vm.prank(keeper);
        n = tm.finalizeMany{gas: gas}(ids);
    }

    function _delivered(uint256 id) internal view returns (bool) {
        return tm.getStatus(id) == RequestStatus.Delivered;
    }

    function test_finalizeMany_finalizesTheFinalizableAndSkipsTheRest() public {
        RecordingReceiver receiver = new RecordingReceiver(oracle);
        uint256 plain = _ready(address(0), 0);
        uint256 atFinality = _ready(address(receiver), CB_GAS);
        uint256 gamed = _ready(address(0), 0);
        _challenge(bob, gamed, OUTPUT_B, TRACE_B);
        uint256 already = _ready(address(0), 0);
        _afterWindow();
        _finalize(already);
        uint256 uncommitted = _requestNoCallback();
        uint256 fresh = _ready(address(0), 0); // its window is open

        uint256[] memory ids = new uint256[](9);
        (ids[0], ids[1], ids[2], ids[3]) = (plain, gamed, uncommitted, atFinality);
        // Already delivered, a duplicate, an unknown id, id 0, an open window.
        (ids[4], ids[5], ids[6], ids[7], ids[8]) = (already, plain, 999, 0, fresh);

        uint256 share = uint256(MODEL_FEE) * MODEL_SHARE_BPS / 10_000;
        vm.expectEmit(address(tm));
        emit ITaskManager.RequestFinalized(plain, tm.getTask(plain).standingClaimId, alice, keccak256(OUTPUT_A));
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.FeeSettled(plain, alice, MODEL_FEE - share, address(0xFEE), share, treasury, PROTOCOL_FEE);
        vm.expectEmit(address(tm));
        emit ITaskManager.RequestFinalized(atFinality, tm.getTask(atFinality).standingClaimId, alice, keccak256(OUTPUT_A));
        vm.expectEmit(address(oracle));
        emit IAIOracle.AICallbackResult(user, atFinality, keeper, OUTPUT_A);
        uint256 n = _finalizeMany(ids, 10_000_000);

        assertEq(n, 2);
        assertTrue(_delivered(plain));
        assertTrue(_delivered(atFinality));
        assertEq(receiver.deliveryCount(), 1);
        assertTrue(receiver.deliveryAt(0).finalizedAtCall);
        assertEq(uint8(tm.getStatus(gamed)), uint8(RequestStatus.Challenged));
        assertEq(uint8(tm.getStatus(uncommitted)), uint8(RequestStatus.Requested));
        assertEq(uint8(tm.getStatus(fresh)), uint8(RequestStatus.Committed));
        assertTrue(_delivered(already));
        assertEq(uint8(oracle.getRequest(plain).feeState), uint8(FeeState.Settled));
        assertEq(uint8(tm.getClaim(tm.getTask(plain).standingClaimId).status), uint8(ClaimStatus.Accepted));
        // The finalized bonds are unlocked; `gamed` and `fresh` still hold theirs.
        assertEq(staking.getAccount(alice).locked, 2 * uint256(BOND));
    }

    function test_finalizeMany_emptyAndNothingFinalizable() public {
        assertEq(_finalizeMany(new uint256[](0), 1_000_000), 0);
        uint256 id = _requestNoCallback();
        assertEq(_finalizeMany(_ids1(id), 1_000_000), 0);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        assertEq(_finalizeMany(_ids1(id), 1_000_000), 0);
        assertEq(uint8(tm.getStatus(id)), uint8(RequestStatus.Committed));
    }

    function test_finalizeMany_rejectsTooLargeABatch() public {
        uint256 max = tm.MAX_FINALIZE_BATCH();
        vm.expectRevert(abi.encodeWithSelector(FinalizeBatchTooLarge.selector, max + 1, max));
        tm.finalizeMany(new uint256[](max + 1));
        // Exactly the maximum is fine (all ids unknown: nothing to do).
        assertEq(tm.finalizeMany{gas: 20_000_000}(new uint256[](max)), 0);
    }

    function test_finalizeMany_hostileCallbacksNeverBlockTheBatch() public {
        uint64 big = 1_500_000;
        address[5] memory hostile = [
            address(new RevertingReceiver()),
            address(new GasBurningReceiver()),
            address(new ReturnBombReceiver(1_000_000, false)),
            address(new ReturnBombReceiver(1_000_000, true)),
            address(0)
        ];
        GasGriefingReceiver griefer = new GasGriefingReceiver();
        griefer.setBurn(true);
        hostile[4] = address(griefer);
        RecordingReceiver honest = new RecordingReceiver(oracle);
        uint256[] memory ids = new uint256[](6);
        for (uint256 j; j < 5; ++j) ids[j] = _ready(hostile[j], big);
        ids[5] = _ready(address(honest), CB_GAS);
        _afterWindow();

        uint256 n = _finalizeMany(ids, 15_000_000);
        assertEq(n, 6);
        for (uint256 j; j < 5; ++j) {
            assertTrue(_delivered(ids[j]));
            assertFalse(oracle.getRequest(ids[j]).lastCallbackSucceeded);
        }
        assertTrue(_delivered(ids[5]));
        assertTrue(oracle.getRequest(ids[5]).lastCallbackSucceeded);
        assertEq(honest.deliveryCount(), 1);
    }

    function test_finalizeMany_callbackCannotReenter() public {
        BatchReenteringReceiver reentering = new BatchReenteringReceiver(tm);
        uint256 first = _ready(address(reentering), CB_GAS);
        uint256 second = _ready(address(0), 0);
        reentering.setTarget(second);
        _afterWindow();
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (first, second);
        assertEq(_finalizeMany(ids, 5_000_000), 2);
        assertEq(reentering.calls(), 1);
        assertEq(reentering.reentered(), 0);
        assertTrue(oracle.getRequest(first).lastCallbackSucceeded);
        assertTrue(_delivered(second));
        // finalizeMany is nonReentrant itself: from a callback of a single finalize it fails the same way.
        BatchReenteringReceiver again = new BatchReenteringReceiver(tm);
        uint256 third = _ready(address(again), CB_GAS);
        uint256 fourth = _ready(address(0), 0);
        again.setTarget(fourth);
        _afterWindow();
        _finalize(third);
        assertEq(again.reentered(), 0);
        assertEq(uint8(tm.getStatus(fourth)), uint8(RequestStatus.Committed));
    }

    function test_finalizeMany_skipsWhatDoesNotFitAndFinalizesLaterIds() public {
        GasBurningReceiver burner = new GasBurningReceiver();
        uint256 huge = _ready(address(burner), MAX_GAS);
        uint256 small1 = _ready(address(0), 0);
        uint256 small2 = _ready(address(0), 0);
        _afterWindow();
        uint256 reserve = tm.finalizeGasReserve(huge);
        assertGt(reserve, uint256(MAX_GAS) * 64 * 64 / (63 * 63));
        assertEq(tm.finalizeGasReserve(small1), tm.FINALIZE_GAS_RESERVE());
        uint256[] memory ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (huge, small1, small2);
        // Not enough for the 5M callback, plenty for the two others: the big one is skipped, not the batch.
        assertEq(_finalizeMany(ids, 2_000_000), 2);
        assertEq(uint8(tm.getStatus(huge)), uint8(RequestStatus.Committed));
        assertTrue(_delivered(small1));
        assertTrue(_delivered(small2));
        // It stays finalizable: with its reserve, it goes through and its callback got its whole limit.
        assertEq(_finalizeMany(_ids1(huge), reserve + 100_000), 1);
        assertTrue(_delivered(huge));
        assertEq(oracle.getRequest(huge).deliveries, 1);
        assertFalse(oracle.getRequest(huge).lastCallbackSucceeded);
    }

    function test_finalizeGasReserve_coversTheOutput() public {
        RecordingReceiver receiver = new RecordingReceiver(oracle);
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtFinality);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        uint256 expected = tm.FINALIZE_GAS_RESERVE() + tm.DELIVERY_GAS_RESERVE() + tm.DELIVERY_GAS_PER_OUTPUT_WORD()
            + uint256(CB_GAS) * 64 * 64 / (63 * 63);
        assertEq(tm.finalizeGasReserve(id), expected);
        // An AtCommit request already delivered needs no delivery at finality.
        uint256 atCommit = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, atCommit, OUTPUT_A, TRACE_A);
        assertEq(tm.finalizeGasReserve(atCommit), tm.FINALIZE_GAS_RESERVE());
    }

    /// @dev Whatever gas the batch gets and whatever its callbacks do, it never reverts; every id is either
    /// finalized (and counted) or left exactly as it was, still finalizable on its own.
    function testFuzz_finalizeMany_neverRevertsAndSkipsCleanly(uint256 gas, uint8 kinds, uint64 gasLimit) public {
        gas = bound(gas, 150_000, 12_000_000);
        gasLimit = uint64(bound(gasLimit, 10_000, 2_000_000));
        address[4] memory callbacks = [
            address(0),
            address(new RevertingReceiver()),
            address(new GasBurningReceiver()),
            address(new RecordingReceiver(oracle))
        ];
        uint256[] memory ids = new uint256[](4);
        for (uint256 j; j < 4; ++j) {
            address cb = callbacks[(uint256(kinds) >> (2 * j)) & 3];
            ids[j] = _ready(cb, cb == address(0) ? 0 : gasLimit);
        }
        _afterWindow();
        uint32[4] memory deliveriesBefore;
        for (uint256 j; j < 4; ++j) deliveriesBefore[j] = oracle.getRequest(ids[j]).deliveries;
        vm.prank(keeper);
        (bool ok, bytes memory ret) = address(tm).call{gas: gas}(abi.encodeCall(ITaskManager.finalizeMany, (ids)));
        assertTrue(ok, "finalizeMany reverted");
        uint256 n = abi.decode(ret, (uint256));
        uint256 delivered;
        for (uint256 j; j < 4; ++j) {
            if (_delivered(ids[j])) {
                delivered++;
            } else {
                assertEq(uint8(tm.getStatus(ids[j])), uint8(RequestStatus.Committed));
                assertEq(uint8(oracle.getRequest(ids[j]).feeState), uint8(FeeState.Escrowed));
                assertEq(oracle.getRequest(ids[j]).deliveries, deliveriesBefore[j]);
            }
        }
        assertEq(n, delivered);
        // What was skipped finalizes in a second batch with enough gas.
        assertEq(_finalizeMany(ids, 15_000_000), 4 - delivered);
        for (uint256 j; j < 4; ++j) assertTrue(_delivered(ids[j]));
    }
}

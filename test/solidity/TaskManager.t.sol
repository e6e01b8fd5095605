// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {TaskManager} from "../../contracts/task/TaskManager.sol";
import {ITaskManager} from "../../contracts/interfaces/ITaskManager.sol";
import {IAIOracleExtended} from "../../contracts/interfaces/IAIOracleExtended.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {IDisputeGameFactory} from "../../contracts/interfaces/IDisputeGame.sol";
import {ToyDisputeGame, ToyDisputeGameFactory} from "../../contracts/mocks/ToyDisputeGame.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {
    Claim, ClaimOpening, ClaimStatus, DeliveryMode, Game, GameStatus, GameWinner, RequestStatus, Task, FeeState
} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

contract TaskManagerTest is CoreFixture {
    RecordingReceiver internal receiver;

    function setUp() public override {
        super.setUp();
        receiver = new RecordingReceiver(oracle);
    }

    function _status(uint256 id) internal view returns (RequestStatus) {
        return tm.getStatus(id);
    }

    // ------------------------------------------------------------------ commit

    function test_commit_recordsClaimAndLocksBond() public {
        uint256 id = _requestNoCallback();
        vm.expectEmit(address(tm));
        emit ITaskManager.ClaimCommitted(
            id,
            1,
            alice,
            keccak256(OUTPUT_A),
            _proof(OUTPUT_A, TRACE_A).traceRoot,
            _opening(OUTPUT_A, TRACE_A).finalState,
            uint64(block.timestamp + WINDOW),
            OUTPUT_A
        );
        uint256 claimId = _commit(alice, id, OUTPUT_A, TRACE_A);
        Claim memory c = tm.getClaim(claimId);
        assertEq(c.requestId, id);
        assertEq(c.operator, alice);
        assertEq(c.outputHash, keccak256(OUTPUT_A));
        // Only the opening's hash is stored until a challenge opens the claim.
        assertEq(c.traceRoot, bytes32(0));
        assertEq(tm.getClaimFinalState(claimId), bytes32(0));
        ClaimOpening memory o = _opening(OUTPUT_A, TRACE_A);
        assertEq(tm.getClaimCommitment(claimId), keccak256(abi.encode(o.traceRoot, o.finalState)));
        assertEq(c.bond, BOND);
        assertEq(c.windowEnd, block.timestamp + WINDOW);
        assertEq(uint8(c.status), uint8(ClaimStatus.Standing));
        assertEq(tm.getClaimOutput(claimId), OUTPUT_A);
        assertEq(staking.getAccount(alice).locked, BOND);
        assertEq(tm.getTask(id).standingClaimId, claimId);
        assertEq(oracle.getOutputHash(id), keccak256(OUTPUT_A));
        assertEq(uint8(_status(id)), uint8(RequestStatus.Committed));
        assertFalse(oracle.isFinalized(id));
    }

    function test_commit_rejectsBadInput() public {
        uint256 id = _requestNoCallback();
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(UnknownRequest.selector, uint256(99)));
        tm.commit(99, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
        vm.expectRevert(abi.encodeWithSelector(EmptyOutput.selector));
        tm.commit(id, "", _proof(OUTPUT_A, TRACE_A));
        vm.expectRevert(abi.encodeWithSelector(OutputTooLarge.selector, uint256(MAX_OUTPUT) + 1, uint256(MAX_OUTPUT)));
        tm.commit(id, new bytes(MAX_OUTPUT + 1), _proof(OUTPUT_A, TRACE_A));
        vm.expectRevert(abi.encodeWithSelector(ZeroTraceRoot.selector));
        tm.commit(id, OUTPUT_A, _zeroRootProof());
        vm.stopPrank();

        address stranger = makeAddr("stranger");
        vm.expectRevert(abi.encodeWithSelector(StakeBelowMinimum.selector, stranger, 0, MIN_STAKE));
        vm.prank(stranger);
        tm.commit(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));

        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Committed));
        vm.prank(bob);
        tm.commit(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
    }

    function test_commit_afterDeadline() public {
        uint256 id = _requestNoCallback();
        uint64 deadline = oracle.getRequest(id).deadline;
        vm.warp(deadline);
        uint256 id2 = _requestNoCallback(); // a fresh request, to show the boundary is inclusive
        _commit(alice, id, OUTPUT_A, TRACE_A); // at the deadline: still allowed
        vm.warp(uint256(oracle.getRequest(id2).deadline) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                DeadlinePassed.selector, id2, oracle.getRequest(id2).deadline, block.timestamp
            )
        );
        vm.prank(bob);
        tm.commit(id2, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
    }

    function test_commit_needsFreeStake() public {
        vm.prank(alice);
        staking.requestUnstake(MIN_STAKE + 50 ether - MIN_STAKE); // active = MIN_STAKE
        // Lock all but less than a bond.
        for (uint256 i = 0; i < MIN_STAKE / BOND; ++i) {
            _commit(alice, _requestNoCallback(), OUTPUT_A, TRACE_A);
        }
        uint256 id = _requestNoCallback();
        vm.expectRevert(abi.encodeWithSelector(InsufficientFreeStake.selector, alice, 0, uint256(BOND)));
        vm.prank(alice);
        tm.commit(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
    }

    function test_commit_atCommitDeliversInSameTx() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        uint256 callbackFee = oracle.getRequest(id).callbackFee;
        _commit(alice, id, OUTPUT_A, TRACE_A);
        assertEq(receiver.deliveryCount(), 1);
        RecordingReceiver.Delivery memory d = receiver.deliveryAt(0);
        assertEq(d.requestId, id);
        assertEq(d.output, OUTPUT_A);
        assertEq(d.callbackData, hex"c0ffee");
        assertFalse(d.finalizedAtCall);
        assertEq(oracle.pendingWithdrawal(alice), callbackFee);
        assertEq(tm.getTask(id).deliveredOutputHash, keccak256(OUTPUT_A));
        assertTrue(oracle.getRequest(id).lastCallbackSucceeded);
        // Finality does not call back again with the same output.
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(receiver.deliveryCount(), 1);
        assertEq(oracle.getRequest(id).deliveries, 1);
    }

    function test_commit_atFinalityDeliversOnlyAtFinalize() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtFinality);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        assertEq(receiver.deliveryCount(), 0);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(receiver.deliveryCount(), 1);
        assertTrue(receiver.deliveryAt(0).finalizedAtCall);
        assertEq(receiver.deliveryAt(0).output, OUTPUT_A);
        // The finalizer ran the callback and was paid for its gas.
        assertEq(oracle.pendingWithdrawal(keeper), oracle.getRequest(id).callbackFee);
    }

    // ------------------------------------------------------------------ finalize and fees

    function test_finalize_paysEveryoneAndUnlocks() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        uint256 callbackFee = oracle.getRequest(id).callbackFee;
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + WINDOW + 1);
        uint256 share = uint256(MODEL_FEE) * MODEL_SHARE_BPS / 10_000;
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.FeeSettled(id, alice, MODEL_FEE - share, address(0xFEE), share, treasury, PROTOCOL_FEE);
        _finalize(id);
        assertEq(oracle.pendingWithdrawal(alice), callbackFee + MODEL_FEE - share);
        assertEq(oracle.pendingWithdrawal(address(0xFEE)), share);
        assertEq(oracle.pendingWithdrawal(treasury), PROTOCOL_FEE);
        assertEq(address(oracle).balance, callbackFee + MODEL_FEE + PROTOCOL_FEE);
        assertEq(staking.getAccount(alice).locked, 0);
        assertEq(uint8(oracle.getRequest(id).feeState), uint8(FeeState.Settled));
        assertEq(uint8(tm.getClaim(1).status), uint8(ClaimStatus.Accepted));
        // Withdrawals empty the oracle exactly.
        vm.prank(alice);
        oracle.withdraw(payable(alice));
        vm.prank(address(0xFEE));
        oracle.withdraw(payable(address(0xFEE)));
        vm.prank(treasury);
        oracle.withdraw(payable(treasury));
        assertEq(address(oracle).balance, 0);
    }

    function test_finalize_rejectsEarlyOrOpen() public {
        uint256 id = _requestNoCallback();
        vm.expectRevert(abi.encodeWithSelector(NotCommitted.selector, id, RequestStatus.Requested));
        tm.finalize(id);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        uint64 windowEnd = uint64(block.timestamp + WINDOW);
        vm.warp(windowEnd);
        vm.expectRevert(abi.encodeWithSelector(ChallengeWindowOpen.selector, id, windowEnd, uint256(windowEnd)));
        tm.finalize(id);
        vm.warp(windowEnd + 1);
        _finalize(id);
        vm.expectRevert(abi.encodeWithSelector(NotCommitted.selector, id, RequestStatus.Delivered));
        tm.finalize(id);
    }

    // ------------------------------------------------------------------ challenges and games

    function test_challenge_rejectsBadInput() public {
        uint256 id = _requestNoCallback();
        vm.expectRevert(abi.encodeWithSelector(NotCommitted.selector, id, RequestStatus.Requested));
        ClaimOpening memory standing = _opening(OUTPUT_A, TRACE_A);
        vm.prank(bob);
        tm.challenge(id, OUTPUT_B, _proof(OUTPUT_B, TRACE_B), standing);

        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.expectRevert(abi.encodeWithSelector(SameOutput.selector, id, keccak256(OUTPUT_A)));
        vm.prank(bob);
        tm.challenge(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_B), standing);
        vm.expectRevert(abi.encodeWithSelector(CannotChallengeOwnClaim.selector, uint256(1), alice));
        vm.prank(alice);
        tm.challenge(id, OUTPUT_B, _proof(OUTPUT_B, TRACE_B), standing);
        address stranger = makeAddr("stranger");
        vm.expectRevert(abi.encodeWithSelector(StakeBelowMinimum.selector, stranger, 0, MIN_STAKE));
        vm.prank(stranger);
        tm.challenge(id, OUTPUT_B, _proof(OUTPUT_B, TRACE_B), standing);
        vm.expectRevert(abi.encodeWithSelector(ZeroTraceRoot.selector));
        vm.prank(bob);
        tm.challenge(id, OUTPUT_B, _zeroRootProof(), standing);

        uint64 windowEnd = uint64(block.timestamp + WINDOW);
        vm.warp(windowEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ChallengeWindowClosed.selector, id, windowEnd, uint256(windowEnd) + 1)
        );
        vm.prank(bob);
        tm.challenge(id, OUTPUT_B, _proof(OUTPUT_B, TRACE_B), standing);
    }

    /// The attack: a challenger opening the standing claim with a trace root or State_n of its choosing, so that the
    /// game would be played against a trace the defender never committed to.
    function test_challenge_rejectsAWrongOpeningOfTheStandingClaim() public {
        uint256 id = _requestNoCallback();
        uint256 standingId = _commit(alice, id, OUTPUT_A, TRACE_A);
        ClaimOpening memory right = _opening(OUTPUT_A, TRACE_A);
        GraphCommitments.ClaimProof memory proof = _proof(OUTPUT_B, TRACE_B);
        ClaimOpening[4] memory wrong = [
            ClaimOpening({traceRoot: right.traceRoot, finalState: keccak256("another State_n")}),
            ClaimOpening({traceRoot: keccak256("another trace"), finalState: right.finalState}),
            ClaimOpening({traceRoot: bytes32(0), finalState: bytes32(0)}),
            _opening(OUTPUT_B, TRACE_B) // the challenger's own
        ];
        for (uint256 k; k < wrong.length; ++k) {
            vm.expectRevert(
                abi.encodeWithSelector(WrongClaimOpening.selector, standingId, wrong[k].traceRoot, wrong[k].finalState)
            );
            vm.prank(bob);
            tm.challenge(id, OUTPUT_B, proof, wrong[k]);
        }
        assertEq(tm.getClaim(standingId).traceRoot, bytes32(0));
        assertEq(staking.getAccount(bob).locked, 0);

        // The right one opens it: the game reads both claims' trace roots and final states.
        (uint256 cId,) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        assertEq(tm.getClaim(standingId).traceRoot, right.traceRoot);
        assertEq(tm.getClaimFinalState(standingId), right.finalState);
        assertEq(tm.getClaimCommitment(standingId), keccak256(abi.encode(right.traceRoot, right.finalState)));
        ClaimOpening memory challenger = _opening(OUTPUT_B, TRACE_B);
        assertEq(tm.getClaim(cId).traceRoot, challenger.traceRoot);
        assertEq(tm.getClaimFinalState(cId), challenger.finalState);
        assertEq(tm.getClaimCommitment(cId), keccak256(abi.encode(challenger.traceRoot, challenger.finalState)));

        // Once opened, a later challenge (queued) must pass the same opening.
        vm.expectRevert(abi.encodeWithSelector(WrongClaimOpening.selector, standingId, right.traceRoot, wrong[0].finalState));
        vm.prank(carol);
        tm.challenge(id, OUTPUT_C, _proof(OUTPUT_C, TRACE_C), wrong[0]);
        vm.prank(carol);
        tm.challenge(id, OUTPUT_C, _proof(OUTPUT_C, TRACE_C), right);
        assertEq(tm.queuedChallenges(standingId).length, 1);
    }

    function test_challenge_opensGame() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 cId, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        Game memory g = tm.getGame(address(game));
        assertEq(g.requestId, id);
        assertEq(g.defenderClaimId, 1);
        assertEq(g.challengerClaimId, cId);
        assertEq(uint8(g.status), uint8(GameStatus.Open));
        assertEq(game.taskManager(), address(tm));
        assertEq(game.requestId(), id);
        assertEq(game.defenderClaimId(), 1);
        assertEq(game.challengerClaimId(), cId);
        assertEq(uint8(tm.getClaim(cId).status), uint8(ClaimStatus.Challenging));
        assertEq(tm.getClaim(1).openGames, 1);
        assertEq(staking.getAccount(bob).locked, BOND);
        assertEq(uint8(_status(id)), uint8(RequestStatus.Challenged));
        // Finalization waits for the game even after the window.
        vm.warp(block.timestamp + WINDOW + 1);
        vm.expectRevert(abi.encodeWithSelector(GamesOpen.selector, id, uint32(1)));
        tm.finalize(id);
    }

    function test_resolveGame_defenderWins_slashesChallenger() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 cId, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        uint256 aliceTokens = token.balanceOf(alice);
        vm.expectEmit(address(tm));
        emit ITaskManager.GameResolved(address(game), id, GameWinner.Defender, 1, cId, BOND);
        _resolve(game, GameWinner.Defender);
        assertEq(uint8(tm.getClaim(cId).status), uint8(ClaimStatus.Defeated));
        assertEq(staking.getAccount(bob).active, MIN_STAKE + 50 ether - BOND);
        assertEq(staking.getAccount(bob).locked, 0);
        assertEq(token.balanceOf(alice) - aliceTokens, uint256(BOND) * WINNER_BPS / 10_000);
        assertEq(token.balanceOf(user), uint256(BOND) * REQUESTER_BPS / 10_000);
        assertFalse(staking.isEligible(bob)); // jailed
        assertEq(uint8(_status(id)), uint8(RequestStatus.Committed));
        assertEq(oracle.getOutputHash(id), keccak256(OUTPUT_A));
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(staking.getAccount(alice).locked, 0);
    }

    function test_resolveGame_challengerWins_overturnsAndRedelivers() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + 10 minutes);
        (uint256 cId, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        vm.warp(block.timestamp + 2 hours); // the game outlasts the original window
        vm.expectEmit(address(tm));
        emit ITaskManager.ClaimOverturned(id, 1, cId, uint64(block.timestamp + WINDOW));
        _resolve(game, GameWinner.Challenger);
        assertEq(uint8(tm.getClaim(1).status), uint8(ClaimStatus.Defeated));
        assertEq(uint8(tm.getClaim(cId).status), uint8(ClaimStatus.Standing));
        assertEq(tm.getClaim(cId).windowEnd, block.timestamp + WINDOW);
        assertEq(tm.getTask(id).standingClaimId, cId);
        assertTrue(tm.getTask(id).deliveryPending);
        assertEq(oracle.getOutputHash(id), keccak256(OUTPUT_B));
        assertEq(staking.getAccount(alice).locked, 0);
        assertEq(staking.getAccount(alice).active, MIN_STAKE + 50 ether - BOND);
        assertFalse(staking.isEligible(alice));

        // Anyone delivers the new output once; the callback fee was already paid at commit.
        uint256 keeperCredit = oracle.pendingWithdrawal(keeper);
        vm.prank(keeper);
        tm.deliver{gas: 2_000_000}(id);
        assertEq(oracle.pendingWithdrawal(keeper), keeperCredit);
        assertEq(receiver.deliveryCount(), 2);
        assertEq(receiver.deliveryAt(1).output, OUTPUT_B);
        vm.expectRevert(abi.encodeWithSelector(NoDeliveryPending.selector, id));
        tm.deliver(id);

        // The new standing claim has its own window.
        vm.expectRevert(
            abi.encodeWithSelector(ChallengeWindowOpen.selector, id, uint64(block.timestamp + WINDOW), block.timestamp)
        );
        tm.finalize(id);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(receiver.deliveryCount(), 2);
        // Bob, the final operator, is paid the operator share.
        uint256 share = uint256(MODEL_FEE) * MODEL_SHARE_BPS / 10_000;
        assertEq(oracle.pendingWithdrawal(bob), MODEL_FEE - share);
    }

    function test_finalize_deliversPendingRedelivery() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id); // nobody called deliver: finalize does it
        assertEq(receiver.deliveryCount(), 2);
        assertEq(receiver.deliveryAt(1).output, OUTPUT_B);
        assertTrue(receiver.deliveryAt(1).finalizedAtCall);
        assertFalse(tm.getTask(id).deliveryPending);
    }

    function test_overturnBackToDeliveredOutput_noRedelivery() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 c1, ToyDisputeGame g1) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        _resolve(g1, GameWinner.Challenger); // B stands, A was delivered: pending
        assertTrue(tm.getTask(id).deliveryPending);
        (, ToyDisputeGame g2) = _challenge(carol, id, OUTPUT_A, TRACE_C);
        assertEq(ToyDisputeGame(g2).defenderClaimId(), c1);
        _resolve(g2, GameWinner.Challenger); // A stands again: the consumer already has A
        assertFalse(tm.getTask(id).deliveryPending);
        vm.expectRevert(abi.encodeWithSelector(NoDeliveryPending.selector, id));
        tm.deliver(id);
        assertEq(receiver.deliveryCount(), 1);
    }

    function test_challenge_queuesWhileAGameIsOpen() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 c1, ToyDisputeGame g1) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        bytes32 traceC = _proofFor(id, OUTPUT_C, TRACE_C).traceRoot;
        vm.expectEmit(address(tm));
        emit ITaskManager.ChallengeQueued(id, 1, c1 + 1, carol, 0, keccak256(OUTPUT_C), traceC, _openingFor(id, OUTPUT_C, TRACE_C).finalState);
        (uint256 c2, ToyDisputeGame g2) = _challenge(carol, id, OUTPUT_C, TRACE_C);
        assertEq(address(g2), address(0));
        assertEq(factory.gameCount(), 1);
        assertEq(uint8(tm.getClaim(c2).status), uint8(ClaimStatus.Queued));
        assertEq(tm.challengeTarget(c2), 1);
        assertEq(tm.activeGame(1), address(g1));
        assertEq(tm.queuedChallenges(1).length, 1);
        assertEq(tm.queuedChallenges(1)[0], c2);
        assertEq(tm.getClaim(1).openGames, 2);
        assertEq(staking.getAccount(carol).locked, BOND);
        assertEq(uint8(_status(id)), uint8(RequestStatus.Challenged));
        // A queued challenge cannot be released while its target stands; nothing finalizes while it waits.
        vm.expectRevert(
            abi.encodeWithSelector(ChallengeNotReleasable.selector, c2, ClaimStatus.Queued, 1, ClaimStatus.Standing)
        );
        tm.releaseChallenge(c2);
        vm.warp(block.timestamp + WINDOW + 1);
        vm.expectRevert(abi.encodeWithSelector(GamesOpen.selector, id, uint32(2)));
        tm.finalize(id);
    }

    function test_queue_defenderWinOpensTheNextGame() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 c1, ToyDisputeGame g1) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        (uint256 c2,) = _challenge(carol, id, OUTPUT_C, TRACE_C);
        vm.warp(block.timestamp + WINDOW + 1); // queued games are played after the window too
        _resolve(g1, GameWinner.Defender);
        assertEq(uint8(tm.getClaim(c1).status), uint8(ClaimStatus.Defeated));
        ToyDisputeGame g2 = ToyDisputeGame(factory.lastGame());
        assertEq(factory.gameCount(), 2);
        assertEq(g2.challengerClaimId(), c2);
        assertEq(tm.activeGame(1), address(g2));
        assertEq(tm.queuedChallenges(1).length, 0);
        assertEq(uint8(tm.getClaim(c2).status), uint8(ClaimStatus.Challenging));
        assertEq(uint8(tm.getGame(address(g2)).status), uint8(GameStatus.Open));
        vm.expectRevert(abi.encodeWithSelector(GamesOpen.selector, id, uint32(1)));
        tm.finalize(id);
        _resolve(g2, GameWinner.Defender);
        assertEq(staking.getAccount(carol).active, MIN_STAKE + 50 ether - BOND);
        _finalize(id);
        assertEq(oracle.getOutputHash(id), keccak256(OUTPUT_A));
        assertEq(staking.getAccount(alice).locked, 0);
    }

    function test_queue_overturnLeavesQueuedChallengesReleasable() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 c1, ToyDisputeGame g1) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        (uint256 c2,) = _challenge(carol, id, OUTPUT_C, TRACE_C);
        uint256 bobTokens = token.balanceOf(bob);
        _resolve(g1, GameWinner.Challenger);
        // The one challenger that played the defeated claim gets the whole winner share.
        assertEq(token.balanceOf(bob) - bobTokens, uint256(BOND) * WINNER_BPS / 10_000);
        assertEq(tm.getTask(id).standingClaimId, c1);
        assertEq(factory.gameCount(), 1); // no game against the defeated claim is opened
        // Anyone releases carol's queued claim: its game could no longer change the request.
        vm.expectEmit(address(tm));
        emit ITaskManager.ChallengeReleased(id, c2, 1);
        vm.prank(keeper);
        tm.releaseChallenge(c2);
        assertEq(uint8(tm.getClaim(c2).status), uint8(ClaimStatus.Released));
        assertEq(staking.getAccount(carol).locked, 0);
        assertEq(staking.getAccount(carol).active, MIN_STAKE + 50 ether);
        assertEq(tm.getClaim(1).openGames, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ChallengeNotReleasable.selector, c2, ClaimStatus.Released, 1, ClaimStatus.Defeated)
        );
        tm.releaseChallenge(c2);
        // Not a queued claim at all (it never waited: no target recorded).
        vm.expectRevert(
            abi.encodeWithSelector(ChallengeNotReleasable.selector, c1, ClaimStatus.Standing, 0, ClaimStatus.None)
        );
        tm.releaseChallenge(c1);
        // Carol challenges the new standing claim instead.
        (, ToyDisputeGame g3) = _challenge(carol, id, OUTPUT_C, TRACE_C);
        assertEq(g3.defenderClaimId(), c1);
    }

    function test_undecidedGame_cancelsAndRefunds() public {
        uint256 id = _requestFrom(user, address(receiver), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (uint256 c1, ToyDisputeGame g1) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        (uint256 c2,) = _challenge(carol, id, OUTPUT_C, TRACE_C);
        uint256 userBefore = user.balance;
        vm.expectEmit(address(tm));
        emit ITaskManager.RequestCancelled(id, address(g1), 1, c1);
        _resolve(g1, GameWinner.Undecided);
        assertEq(uint8(tm.getGame(address(g1)).status), uint8(GameStatus.Undecided));
        assertEq(uint8(tm.getClaim(1).status), uint8(ClaimStatus.Released));
        assertEq(uint8(tm.getClaim(c1).status), uint8(ClaimStatus.Released));
        assertEq(staking.getAccount(alice).locked, 0);
        assertEq(staking.getAccount(bob).locked, 0);
        assertEq(staking.getAccount(alice).active, MIN_STAKE + 50 ether); // nobody slashed
        assertEq(uint8(_status(id)), uint8(RequestStatus.Cancelled));
        assertFalse(tm.isFinalized(id));
        assertEq(tm.getTask(id).standingClaimId, 0);
        assertEq(oracle.getOutputHash(id), bytes32(0));
        (bytes memory shown, bool finalized) = oracle.getResult(id);
        assertEq(shown.length, 0);
        assertFalse(finalized);
        vm.expectRevert(abi.encodeWithSelector(NotCommitted.selector, id, RequestStatus.Cancelled));
        tm.finalize(id);
        GraphCommitments.ClaimProof memory proof = _proofFor(id, OUTPUT_A, TRACE_A);
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Cancelled));
        tm.commit(id, OUTPUT_A, proof);
        // The queued claim is releasable; the request is refundable at once, before its deadline.
        tm.releaseChallenge(c2);
        assertEq(staking.getAccount(carol).locked, 0);
        vm.prank(keeper);
        tm.expire{gas: 5_000_000}(id);
        assertEq(uint8(_status(id)), uint8(RequestStatus.Refunded));
        assertEq(user.balance - userBefore, uint256(MODEL_FEE) + oracle.getRequest(id).protocolFee);
        assertEq(receiver.errorCount(), 1);
    }

    function test_resolveGame_onlyItsGameOnce() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        address[4] memory callers = [alice, bob, owner, referee];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(UnknownGame.selector, callers[i]));
            vm.prank(callers[i]);
            tm.resolveGame(GameWinner.Challenger);
        }
        vm.prank(address(game));
        tm.resolveGame(GameWinner.Defender);
        vm.expectRevert(abi.encodeWithSelector(GameAlreadyResolved.selector, address(game), GameStatus.DefenderWon));
        vm.prank(address(game));
        tm.resolveGame(GameWinner.Challenger);
        // The toy game's own referee check.
        vm.expectRevert(abi.encodeWithSelector(ToyDisputeGame.NotReferee.selector, alice, referee));
        vm.prank(alice);
        game.resolve(GameWinner.Challenger);
    }

    function test_setDisputeGameFactory_onlyOwner() public {
        ToyDisputeGameFactory f2 = new ToyDisputeGameFactory(referee);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        tm.setDisputeGameFactory(address(f2));
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        vm.prank(owner);
        tm.setDisputeGameFactory(address(0));
        vm.prank(owner);
        tm.setDisputeGameFactory(address(f2));
        assertEq(tm.disputeGameFactory(), address(f2));
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        _challenge(bob, id, OUTPUT_B, TRACE_B);
        assertEq(f2.gameCount(), 1);
        assertEq(factory.gameCount(), 0);
    }

    /// @dev A switch applies only to requests made after it: a live claim keeps the game rules it was made
    /// under, and its games (of the old factory) keep resolving.
    function test_setDisputeGameFactory_appliesOnlyToLaterRequests() public {
        uint256 before = _requestNoCallback();
        _commit(alice, before, OUTPUT_A, TRACE_A);
        ToyDisputeGameFactory next = new ToyDisputeGameFactory(makeAddr("nextReferee"));
        vm.expectEmit(address(tm));
        emit ITaskManager.DisputeGameFactorySet(address(next));
        vm.prank(owner);
        tm.setDisputeGameFactory(address(next));
        assertEq(tm.disputeGameFactory(), address(next));
        assertEq(tm.gameFactoryFor(before), address(factory));
        assertEq(tm.gameFactoryFor(before + 1), address(next));

        (uint256 challengerId, ToyDisputeGame oldGame) = _challenge(bob, before, OUTPUT_B, TRACE_B);
        assertEq(factory.gameCount(), 1);
        assertEq(next.gameCount(), 0);
        assertEq(factory.lastGame(), address(oldGame));

        uint256 later = _requestNoCallback();
        _commit(alice, later, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame newGame) = _challenge(carol, later, OUTPUT_B, TRACE_C);
        assertEq(next.gameCount(), 1);
        assertEq(next.lastGame(), address(newGame));
        assertEq(factory.gameCount(), 1);

        // The old factory's game still decides the old request.
        _resolve(oldGame, GameWinner.Challenger);
        assertEq(tm.getTask(before).standingClaimId, challengerId);
        assertEq(uint8(tm.getGame(address(oldGame)).status), uint8(GameStatus.ChallengerWon));
    }

    /// @dev Switches with no request in between: the last one serves the next request; earlier requests keep the
    /// factory of their time, however many switches follow.
    function test_setDisputeGameFactory_lastSwitchBeforeARequestWins() public {
        uint256 first = _requestNoCallback();
        address[3] memory next;
        for (uint256 i = 0; i < next.length; ++i) {
            next[i] = address(new ToyDisputeGameFactory(referee));
        }
        vm.startPrank(owner);
        tm.setDisputeGameFactory(next[0]);
        tm.setDisputeGameFactory(next[1]);
        vm.stopPrank();
        uint256 second = _requestNoCallback();
        vm.prank(owner);
        tm.setDisputeGameFactory(next[2]);
        assertEq(tm.gameFactoryFor(first), address(factory));
        assertEq(tm.gameFactoryFor(second), next[1]);
        assertEq(tm.gameFactoryFor(second + 1), next[2]);
        assertEq(tm.gameFactoryFor(type(uint96).max), next[2]);
        assertEq(tm.disputeGameFactory(), next[2]);
    }

    function test_constructor_rejectsBadConfig() public {
        IAIOracleExtended o = IAIOracleExtended(address(oracle));
        IStaking s = IStaking(address(staking));
        IDisputeGameFactory f = IDisputeGameFactory(address(factory));
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new TaskManager(IAIOracleExtended(address(0)), s, f, owner, WINDOW, BOND, MAX_OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new TaskManager(o, s, IDisputeGameFactory(address(0)), owner, WINDOW, BOND, MAX_OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(InvalidTaskManagerConfig.selector));
        new TaskManager(o, s, f, owner, 0, BOND, MAX_OUTPUT);
        // A window end is stored in 40 bits: the window is at most 2^32 - 1 s (136 years).
        vm.expectRevert(abi.encodeWithSelector(InvalidTaskManagerConfig.selector));
        new TaskManager(o, s, f, owner, uint64(type(uint32).max) + 1, BOND, MAX_OUTPUT);
        assertEq(new TaskManager(o, s, f, owner, type(uint32).max, BOND, MAX_OUTPUT).challengeWindow(), type(uint32).max);
        vm.expectRevert(abi.encodeWithSelector(InvalidTaskManagerConfig.selector));
        new TaskManager(o, s, f, owner, WINDOW, 0, MAX_OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(InvalidTaskManagerConfig.selector));
        new TaskManager(o, s, f, owner, WINDOW, BOND, 0);
        TaskManager t = new TaskManager(o, s, f, owner, WINDOW, BOND, MAX_OUTPUT);
        assertEq(t.oracle(), address(oracle));
        assertEq(t.staking(), address(staking));
        assertEq(t.challengeWindow(), WINDOW);
        assertEq(t.claimBond(), BOND);
        assertEq(t.maxOutputBytes(), MAX_OUTPUT);
    }

    function test_getClaim_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownClaim.selector, uint256(3)));
        tm.getClaim(3);
        vm.expectRevert(abi.encodeWithSelector(UnknownClaim.selector, uint256(3)));
        tm.getClaimOutput(3);
    }

    // ------------------------------------------------------------------ expiry

    function test_expire_refundsRequester() public {
        uint256 id = _requestNoCallback();
        uint256 fee = oracle.estimateFee(modelId, 0);
        uint64 deadline = oracle.getRequest(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(DeadlineNotPassed.selector, id, deadline, block.timestamp));
        tm.expire(id);
        vm.warp(deadline + 1);
        assertEq(uint8(_status(id)), uint8(RequestStatus.Expired));
        uint256 before = user.balance;
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.RequestRefunded(id, user, fee);
        vm.prank(keeper);
        tm.expire(id);
        assertEq(user.balance - before, fee);
        assertEq(address(oracle).balance, 0);
        assertEq(uint8(_status(id)), uint8(RequestStatus.Refunded));
        assertEq(uint8(oracle.getRequest(id).feeState), uint8(FeeState.Refunded));
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Refunded));
        tm.expire(id);
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Refunded));
        vm.prank(alice);
        tm.commit(id, OUTPUT_A, _proof(OUTPUT_A, TRACE_A));
        assertFalse(oracle.isFinalized(id));
    }

    function test_expire_committedRequestCannotExpire() public {
        uint256 id = _requestNoCallback();
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.expectRevert(abi.encodeWithSelector(RequestNotOpen.selector, id, RequestStatus.Committed));
        tm.expire(id);
    }

    function test_expire_callsErrorCallbackAndPaysExecutor() public {
        uint256 id = _requestFrom(address(receiver), address(receiver), CB_GAS, DeliveryMode.AtCommit);
        Request_ memory r = _req(id);
        vm.warp(r.deadline + 1);
        uint256 before = address(receiver).balance;
        vm.prank(keeper);
        tm.expire{gas: 1_000_000}(id);
        uint256 refunded = r.modelFee + r.protocolFee;
        assertEq(address(receiver).balance - before, refunded);
        assertEq(oracle.pendingWithdrawal(keeper), r.callbackFee);
        assertEq(receiver.errorCount(), 1);
        assertEq(receiver.errorAt(0).errorCode, 2); // ErrorCodes.EXPIRED (ORA's 1 is InvalidBatchSize)
        assertEq(receiver.errorAt(0).errorData, abi.encode(refunded));
        assertEq(receiver.errorAt(0).callbackData, hex"c0ffee");
        assertEq(receiver.deliveryCount(), 0);
    }

    struct Request_ {
        uint64 deadline;
        uint256 modelFee;
        uint256 callbackFee;
        uint256 protocolFee;
    }

    function _req(uint256 id) internal view returns (Request_ memory) {
        return Request_(
            oracle.getRequest(id).deadline,
            oracle.getRequest(id).modelFee,
            oracle.getRequest(id).callbackFee,
            oracle.getRequest(id).protocolFee
        );
    }
}

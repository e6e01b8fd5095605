// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {CoreFixture} from "../utils/CoreFixture.sol";
import {GraphTrace} from "../utils/GraphTrace.sol";
import {GraphCommitments} from "../../../contracts/lib/GraphCommitments.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {DisputeGameFactory} from "../../../contracts/dispute/DisputeGameFactory.sol";
import {IFaultDisputeGame} from "../../../contracts/dispute/interfaces/IFaultDisputeGame.sol";
import {GamePhase, Side} from "../../../contracts/dispute/lib/DisputeTypes.sol";
import "../../../contracts/dispute/lib/DisputeErrors.sol";
import {PreimageOracle} from "../../../contracts/vm/PreimageOracle.sol";
import {IBigStepper} from "../../../contracts/vm/interfaces/IBigStepper.sol";
import {ToyStepper} from "../../../contracts/mocks/ToyStepper.sol";
import {ClaimOpening, ClaimStatus, GameStatus, GameWinner, ModelParams, RequestStatus} from "../../../contracts/lib/Types.sol";
import {NotCommitted, UnknownGame} from "../../../contracts/lib/Errors.sol";

/// @dev The real game and factory with the real task manager, staking and preimage oracle; the VM is the toy
/// stepper (the real MIPS path is played end to end in test/dispute/game.e2e.test.ts).
contract DisputeGameTest is CoreFixture {
    uint64 internal constant CLOCK = 1 hours;
    uint8 internal constant GRAPH_BITS = 1;
    uint8 internal constant VM_BITS = 2;
    uint8 internal constant VM_DEPTH = 4; // T = 16
    uint32 internal constant EXIT_AT = 10;
    uint32 internal constant LOCAL_POST_STATE = 4;
    bytes internal constant OUT_H = hex"07";
    bytes internal constant OUT_C = hex"03";

    PreimageOracle internal preimages;
    ToyStepper internal stepper;
    DisputeGameFactory internal games;
    address internal dave = makeAddr("dave");
    address internal erin = makeAddr("erin");

    struct Party {
        address op;
        bytes output;
        GraphTrace.Trace trace;
        bool honest;
    }

    function _deployGameFactory() internal override returns (address) {
        preimages = new PreimageOracle();
        stepper = new ToyStepper(preimages);
        games = new DisputeGameFactory(IBigStepper(address(stepper)), CLOCK, GRAPH_BITS, VM_BITS, VM_DEPTH);
        return address(games);
    }

    function _afterTaskManagerDeployed() internal override {
        games.bindTaskManager(address(tm));
        _fundAndStake(dave, MIN_STAKE + 50 ether);
        _fundAndStake(erin, MIN_STAKE + 50 ether);
    }

    // ================================================================== helpers

    function _inputHash() internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(GraphTrace.int8Header(5), keccak256(INPUT)));
    }

    /// @dev A trace whose node outputs are `tag`'s from node `from` on (the honest ones before).
    function _trace(bytes memory output, uint256 from, bytes32 tag) internal pure returns (GraphTrace.Trace memory) {
        bytes32[] memory outs = new bytes32[](NODES);
        for (uint256 k = 1; k < NODES; ++k) outs[k - 1] = keccak256(abi.encode(k < from ? bytes32("honest") : tag, k));
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(1), output);
        return GraphTrace.build(_inputHash(), WEIGHTS_ROOT, outs);
    }

    function _honest(address op) internal pure returns (Party memory) {
        return Party(op, OUT_H, _trace(OUT_H, NODES + 1, "honest"), true);
    }

    function _cheat(address op, uint256 fromNode, bytes32 tag) internal pure returns (Party memory) {
        return Party(op, OUT_C, _trace(OUT_C, fromNode, tag), false);
    }

    /// @dev Registers a model whose guest (the toy) accepts exactly `correctPost` as State_i, and uses it.
    function _useToyModel(bytes32 correctPost) internal {
        ModelParams memory p = _modelParams();
        p.absolutePrestate = stepper.stateHash(_toyState0(correctPost));
        vm.prank(modelOwner);
        modelId = oracle.registerModel(p);
    }

    function _toyState0(bytes32 correctPost) internal view returns (bytes memory) {
        return stepper.initialState(correctPost, LOCAL_POST_STATE, 8, EXIT_AT);
    }

    /// @dev Request, commit `d`, challenge with `c`; returns the game.
    function _open(Party memory d, Party memory c) internal returns (uint256 id, DisputeGame game) {
        id = _requestNoCallback();
        _post(d, id, true);
        game = DisputeGame(_post(c, id, false));
    }

    function _post(Party memory x, uint256 id, bool isCommit) internal returns (address g) {
        GraphCommitments.ClaimProof memory proof = GraphTrace.claimProof(x.trace);
        uint256 claimId;
        if (isCommit) {
            vm.prank(x.op);
            claimId = tm.commit(id, x.output, proof);
        } else {
            ClaimOpening memory standing = _standingOpening(id);
            vm.prank(x.op);
            (claimId, g) = tm.challenge(id, x.output, proof, standing);
        }
        _openings[claimId] = GraphTrace.opening(x.trace);
    }

    function _moveGraph(DisputeGame game, Party memory x) internal {
        uint256[] memory points = game.roundPoints();
        bytes32[] memory states = new bytes32[](points.length);
        bytes32[][] memory proofs = new bytes32[][](points.length);
        for (uint256 j; j < points.length; ++j) {
            states[j] = x.trace.states[points[j]];
            proofs[j] = GraphTrace.traceProof(x.trace, points[j]);
        }
        vm.prank(x.op);
        game.moveGraph(states, proofs);
    }

    function _playGraph(DisputeGame game, Party memory d, Party memory c) internal {
        while (game.phase() == GamePhase.Graph) {
            _moveGraph(game, d);
            _moveGraph(game, c);
        }
    }

    /// @dev The toy VM's true states at every step 0..T, for the post-state the game bound.
    function _toyTrace(bytes32 correctPost, bytes32 boundPost) internal view returns (bytes[] memory states) {
        uint256 t = uint256(1) << VM_DEPTH;
        states = new bytes[](t + 1);
        states[0] = _toyState0(correctPost);
        for (uint256 j = 1; j <= t; ++j) {
            states[j] = uint8(states[j - 1][89]) == 1 ? states[j - 1] : stepper.next(states[j - 1], boundPost);
        }
    }

    function _vmValue(bytes[] memory truth, bool honest, uint256 lieFrom, uint256 pos, Side side)
        internal
        view
        returns (bytes32)
    {
        if (honest || pos < lieFrom) return stepper.stateHash(truth[pos]);
        bytes32 lie = keccak256(abi.encode("lie", pos));
        uint256 status = pos == uint256(1) << VM_DEPTH ? uint8(side) : 3;
        return bytes32((uint256(lie) & ((uint256(1) << 248) - 1)) | (status << 248));
    }

    function _playVm(DisputeGame game, Party memory d, Party memory c, bytes[] memory truth, uint256 lieFrom) internal {
        uint256 t = uint256(1) << VM_DEPTH;
        bytes32 dFinal = _vmValue(truth, d.honest, lieFrom, t, Side.Defender);
        bytes32 cFinal = _vmValue(truth, c.honest, lieFrom, t, Side.Challenger);
        vm.prank(d.op);
        game.postFinalVmState(dFinal);
        vm.prank(c.op);
        game.postFinalVmState(cFinal);
        while (game.phase() == GamePhase.Vm) {
            uint256[] memory points = game.roundPoints();
            for (uint256 s; s < 2; ++s) {
                Party memory x = s == 0 ? d : c;
                bytes32[] memory values = new bytes32[](points.length);
                for (uint256 j; j < points.length; ++j) values[j] = _vmValue(truth, x.honest, lieFrom, points[j], Side(s));
                vm.prank(x.op);
                game.moveVm(values);
            }
        }
    }

    function _assertBoundEvent(bytes memory expected) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool bound;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].topics[0] != IFaultDisputeGame.VmInputsBound.selector) continue;
            assertEq(logs[k].data, expected);
            bound = true;
        }
        assertTrue(bound);
    }

    function _tokenTotal() internal view returns (uint256 total) {
        address[9] memory holders = [address(staking), alice, bob, carol, dave, erin, user, stakingTreasury, treasury];
        for (uint256 i; i < holders.length; ++i) total += token.balanceOf(holders[i]);
    }

    // ================================================================== whole games

    function test_game_cheatingDefenderLosesToHonestChallenger() public {
        Party memory d = _cheat(alice, 3, "cheat");
        Party memory c = _honest(bob);
        _useToyModel(c.trace.states[3]);
        uint256 total = _tokenTotal();
        (uint256 id, DisputeGame game) = _open(d, c);
        assertEq(uint8(game.phase()), uint8(GamePhase.Graph));
        (uint256 lo, uint256 hi) = game.range();
        assertEq(lo, 0);
        assertEq(hi, NODES);
        assertEq(game.agreedValue(), c.trace.states[0]);
        (bytes32 dv, bytes32 cv) = game.disputedValues();
        assertEq(dv, d.trace.states[NODES]);
        assertEq(cv, c.trace.states[NODES]);

        vm.recordLogs();
        _playGraph(game, d, c);
        _assertBoundEvent(abi.encode(3, c.trace.states[2], d.trace.states[3], game.localContext()));
        assertEq(uint8(game.phase()), uint8(GamePhase.VmStart));
        assertEq(game.nodeIndex(), 3);
        (bytes32 modelRoot, uint256 i, bytes32 pre, bytes32 post) = game.vmInputs();
        assertEq(modelRoot, oracle.getModel(modelId).modelRoot);
        assertEq(i, 3);
        assertEq(pre, c.trace.states[2]);
        assertEq(post, d.trace.states[3]);

        bytes[] memory truth = _toyTrace(c.trace.states[3], d.trace.states[3]);
        assertEq(uint8(truth[EXIT_AT][88]), 1); // the guest rejects the defender's State_i
        _playVm(game, d, c, truth, 6);
        assertEq(uint8(game.phase()), uint8(GamePhase.Step));
        (lo, hi) = game.range();
        assertEq(lo, 5);
        assertEq(hi, 6);

        vm.prank(carol); // anyone steps
        game.step(truth[5], "");
        assertEq(uint8(game.phase()), uint8(GamePhase.Resolved));
        assertEq(uint8(game.winner()), uint8(GameWinner.Challenger));
        assertEq(uint8(tm.getGame(address(game)).status), uint8(GameStatus.ChallengerWon));
        assertEq(tm.getTask(id).standingClaimId, 2);
        assertEq(staking.getAccount(alice).active, MIN_STAKE + 50 ether - BOND);
        assertGt(staking.getAccount(alice).jailedUntil, block.timestamp);
        assertEq(_tokenTotal(), total);

        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, GamePhase.Resolved, GamePhase.Step));
        game.step(truth[5], "");
        vm.expectRevert(GameNotInProgress.selector);
        game.claimTimeout();
    }

    function test_game_textRequest_startsFromTheStateOfTheInt8LPrompt() public {
        // a text model (descriptor version 2, inputMode 1) of context 8: the request's input tensor is int8 [3]
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptorV2(NODES, WEIGHTS_ROOT, GraphTrace.int8Header(8), GraphTrace.int8Header(1), 1);
        vm.prank(modelOwner);
        uint256 textId = oracle.registerModel(p);
        bytes memory prompt = hex"616263";
        uint256 fee = oracle.estimateFee(textId, 0);
        vm.prank(user);
        uint256 id = oracle.requestCallback{value: fee}(textId, prompt, address(0), 0, "");
        bytes32 inputHash = keccak256(abi.encodePacked(GraphTrace.int8Header(3), keccak256(prompt)));
        bytes32[] memory outs = new bytes32[](NODES);
        for (uint256 k = 1; k < NODES; ++k) outs[k - 1] = keccak256(abi.encode("honest", k));
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(1), OUT_H);
        GraphTrace.Trace memory honest = GraphTrace.build(inputHash, WEIGHTS_ROOT, outs);
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(1), OUT_C);
        GraphTrace.Trace memory cheat = GraphTrace.build(inputHash, WEIGHTS_ROOT, outs);
        vm.prank(alice);
        tm.commit(id, OUT_C, GraphTrace.claimProof(cheat));
        vm.prank(bob);
        (, address g) = tm.challenge(id, OUT_H, GraphTrace.claimProof(honest), GraphTrace.opening(cheat));
        DisputeGame game = DisputeGame(g);
        assertEq(game.agreedValue(), honest.states[0]);
        assertEq(game.agreedValue(), GraphCommitments.initialState(inputHash, WEIGHTS_ROOT, NODES));
    }

    function test_game_honestDefenderBeatsCheatingChallenger() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 1, "cheat");
        _useToyModel(d.trace.states[1]);
        (, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        assertEq(game.nodeIndex(), 1);
        bytes[] memory truth = _toyTrace(d.trace.states[1], d.trace.states[1]);
        assertEq(uint8(truth[EXIT_AT][88]), 0);
        _playVm(game, d, c, truth, 16); // the cheater lies only about the final state
        (uint256 lo, uint256 hi) = game.range();
        assertEq(lo, 15);
        assertEq(hi, 16);
        game.step(truth[15], "");
        assertEq(uint8(game.winner()), uint8(Side.Defender));
        assertEq(staking.getAccount(bob).active, MIN_STAKE + 50 ether - BOND);
        assertEq(uint8(tm.getClaim(2).status), uint8(ClaimStatus.Defeated));
    }

    function testFuzz_graphPhase_endsAtFirstWrongNode(uint256 from, bool cheaterDefends) public {
        from = bound(from, 1, NODES);
        Party memory h = _honest(alice);
        Party memory x = _cheat(bob, from, "cheat");
        _useToyModel(h.trace.states[from]);
        (Party memory d, Party memory c) = cheaterDefends ? (x, h) : (h, x);
        (, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        assertEq(game.nodeIndex(), from);
        (,, bytes32 pre, bytes32 post) = game.vmInputs();
        assertEq(pre, h.trace.states[from - 1]);
        assertEq(post, d.trace.states[from]);
        assertEq(game.agreedValue(), oracle.getModel(modelId).absolutePrestate);
        (uint256 lo, uint256 hi) = game.range();
        assertEq(lo, 0);
        assertEq(hi, uint256(1) << VM_DEPTH);
    }

    // ================================================================== adversarial moves

    function test_moveGraph_rejectsBadMoves() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 2, "cheat");
        _useToyModel(d.trace.states[2]);
        (, DisputeGame game) = _open(d, c);
        uint256[] memory points = game.roundPoints();
        assertEq(points.length, 1);
        assertEq(points[0], 3);
        bytes32[] memory states = new bytes32[](1);
        bytes32[][] memory proofs = new bytes32[][](1);

        // Not a party.
        states[0] = d.trace.states[3];
        proofs[0] = GraphTrace.traceProof(d.trace, 3);
        vm.expectRevert(abi.encodeWithSelector(NotPlayer.selector, carol, alice, bob));
        vm.prank(carol);
        game.moveGraph(states, proofs);

        // The challenger reveals the defender's state with the defender's proof: not its own traceRoot.
        vm.expectRevert(abi.encodeWithSelector(InvalidTraceProof.selector, Side.Challenger, 3, d.trace.states[3]));
        vm.prank(bob);
        game.moveGraph(states, proofs);

        // Its own proof with a changed state.
        states[0] = keccak256("changed story");
        proofs[0] = GraphTrace.traceProof(c.trace, 3);
        vm.expectRevert(abi.encodeWithSelector(InvalidTraceProof.selector, Side.Challenger, 3, states[0]));
        vm.prank(bob);
        game.moveGraph(states, proofs);

        // A proof of the wrong depth, and the wrong number of values.
        states[0] = c.trace.states[3];
        proofs[0] = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidProofLength.selector, 3, 2));
        vm.prank(bob);
        game.moveGraph(states, proofs);
        vm.expectRevert(abi.encodeWithSelector(WrongValueCount.selector, 0, 1));
        vm.prank(bob);
        game.moveGraph(new bytes32[](0), new bytes32[][](0));

        // Moves of the other phases are refused in phase 2.
        vm.startPrank(bob);
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, GamePhase.Graph, GamePhase.Vm));
        game.moveVm(new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, GamePhase.Graph, GamePhase.VmStart));
        game.postFinalVmState(bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(WrongPhase.selector, GamePhase.Graph, GamePhase.Step));
        game.step(new bytes(226), "");
        vm.stopPrank();

        // A side posts once per round.
        _moveGraph(game, c);
        assertTrue(game.hasPosted(Side.Challenger));
        assertEq(game.roundValues(Side.Challenger)[0], c.trace.states[3]);
        assertEq(game.roundValues(Side.Defender).length, 0);
        vm.expectRevert(abi.encodeWithSelector(AlreadyPosted.selector, Side.Challenger));
        vm.prank(bob);
        game.moveGraph(states, proofs);
    }

    function test_postFinalVmState_requiresStatus() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 1, "cheat");
        _useToyModel(d.trace.states[1]);
        (, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        bytes32 invalid = bytes32(uint256(1) << 248 | 5);
        bytes32 valid = bytes32(uint256(5));
        vm.expectRevert(abi.encodeWithSelector(WrongFinalStatus.selector, Side.Defender, 1, 0));
        vm.prank(alice);
        game.postFinalVmState(invalid);
        vm.expectRevert(abi.encodeWithSelector(WrongFinalStatus.selector, Side.Challenger, 0, 1));
        vm.prank(bob);
        game.postFinalVmState(valid);
        vm.expectRevert(abi.encodeWithSelector(NotPlayer.selector, carol, alice, bob));
        vm.prank(carol);
        game.postFinalVmState(valid);
        vm.prank(alice);
        game.postFinalVmState(valid);
        assertEq(game.roundValues(Side.Defender)[0], valid);
        vm.expectRevert(abi.encodeWithSelector(AlreadyPosted.selector, Side.Defender));
        vm.prank(alice);
        game.postFinalVmState(valid);
    }

    function test_step_rejectsAnyPreStateButTheAgreedOne() public {
        Party memory d = _cheat(alice, 3, "cheat");
        Party memory c = _honest(bob);
        _useToyModel(c.trace.states[3]);
        (, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        bytes[] memory truth = _toyTrace(c.trace.states[3], d.trace.states[3]);
        _playVm(game, d, c, truth, 6);
        bytes32 agreed = game.agreedValue();
        vm.expectRevert(abi.encodeWithSelector(PreStateMismatch.selector, stepper.stateHash(truth[6]), agreed));
        game.step(truth[6], "");
        vm.expectRevert(abi.encodeWithSelector(InvalidVmState.selector, 225));
        game.step(new bytes(225), "");
        game.step(truth[5], "");
        assertEq(uint8(game.winner()), uint8(Side.Challenger));
    }

    // ================================================================== clocks

    function test_claimTimeout_silentChallengerLoses() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 2, "cheat");
        _useToyModel(d.trace.states[2]);
        (, DisputeGame game) = _open(d, c);
        _moveGraph(game, d);
        vm.warp(block.timestamp + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NoTimeout.selector, 0, CLOCK, CLOCK));
        game.claimTimeout();
        vm.warp(block.timestamp + 1);
        // Out of time: the challenger can no longer move.
        bytes32[] memory states = new bytes32[](1);
        bytes32[][] memory proofs = new bytes32[][](1);
        states[0] = c.trace.states[3];
        proofs[0] = GraphTrace.traceProof(c.trace, 3);
        vm.expectRevert(abi.encodeWithSelector(ClockExpired.selector, Side.Challenger, CLOCK + 1, CLOCK));
        vm.prank(bob);
        game.moveGraph(states, proofs);
        vm.prank(carol);
        game.claimTimeout();
        assertEq(uint8(game.winner()), uint8(Side.Defender));
        assertEq(staking.getAccount(bob).active, MIN_STAKE + 50 ether - BOND);
    }

    function test_claimTimeout_silentDefenderIsOverturned() public {
        Party memory d = _cheat(alice, 2, "cheat");
        Party memory c = _honest(bob);
        _useToyModel(c.trace.states[2]);
        (uint256 id, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        vm.prank(bob);
        game.postFinalVmState(bytes32(uint256(1) << 248));
        (uint64 used, uint64 since) = game.clock(Side.Defender);
        assertEq(used, 0);
        assertEq(since, block.timestamp);
        vm.warp(block.timestamp + CLOCK + 1);
        assertEq(game.timeUsed(Side.Defender), CLOCK + 1);
        game.claimTimeout();
        assertEq(uint8(game.winner()), uint8(Side.Challenger));
        assertEq(tm.getTask(id).standingClaimId, 2);
    }

    function test_claimTimeout_bothSilentChallengerLoses() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 2, "cheat");
        _useToyModel(d.trace.states[2]);
        (, DisputeGame game) = _open(d, c);
        vm.warp(block.timestamp + CLOCK + 1);
        game.claimTimeout();
        assertEq(uint8(game.winner()), uint8(Side.Defender));
    }

    function test_claimTimeout_unsteppedGameResolvesForDefender() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 1, "cheat");
        _useToyModel(d.trace.states[1]);
        (, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        bytes[] memory truth = _toyTrace(d.trace.states[1], d.trace.states[1]);
        _playVm(game, d, c, truth, 16);
        assertEq(game.stepDeadline(), block.timestamp + CLOCK);
        vm.warp(block.timestamp + CLOCK);
        vm.expectRevert(abi.encodeWithSelector(NoTimeout.selector, 0, 0, CLOCK));
        game.claimTimeout();
        vm.warp(block.timestamp + 1);
        game.claimTimeout();
        assertEq(uint8(game.winner()), uint8(Side.Defender));
    }

    // ================================================================== griefing and access control

    function test_manyChallengers_queueAndHonestDefenderWinsEveryGame() public {
        Party memory d = _honest(alice);
        _useToyModel(d.trace.states[1]);
        uint256 total = _tokenTotal();
        uint256 id = _requestNoCallback();
        _post(d, id, true);
        address[4] memory challengers = [bob, carol, dave, erin];
        Party[4] memory cs;
        for (uint256 k; k < 4; ++k) {
            cs[k] = _cheat(challengers[k], 1, bytes32(k));
            cs[k].output = abi.encodePacked(uint8(20 + k));
            cs[k].trace = _trace(cs[k].output, 1, bytes32(k));
            address g = _post(cs[k], id, false);
            // One game at a time: the first opens, the others wait in line.
            if (k == 0) assertTrue(g != address(0));
            else assertEq(g, address(0));
        }
        // The defender's bond is locked once, whatever the number of challengers.
        assertEq(staking.getAccount(alice).locked, BOND);
        assertEq(tm.getClaim(1).openGames, 4);
        bytes[] memory truth = _toyTrace(d.trace.states[1], d.trace.states[1]);
        for (uint256 k; k < 4; ++k) {
            DisputeGame game = DisputeGame(tm.activeGame(1));
            assertEq(game.challengerClaimId(), 2 + k);
            if (k % 2 == 0) {
                // Played to the step.
                _playGraph(game, d, cs[k]);
                _playVm(game, d, cs[k], truth, 16);
                (uint256 lo,) = game.range();
                game.step(truth[lo], "");
            } else {
                // The challenger goes silent.
                _moveGraph(game, d);
                vm.warp(block.timestamp + CLOCK + 1);
                game.claimTimeout();
            }
            assertEq(uint8(game.winner()), uint8(GameWinner.Defender));
            assertEq(staking.getAccount(challengers[k]).active, MIN_STAKE + 50 ether - BOND);
        }
        assertEq(tm.activeGame(1), address(0));
        assertEq(tm.getClaim(1).openGames, 0);
        // The defender earned a winner's share from each; its stake is intact and it finalizes.
        assertEq(token.balanceOf(alice), 4 * (uint256(BOND) * WINNER_BPS / 10_000));
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(staking.getAccount(alice).locked, 0);
        assertEq(_tokenTotal(), total);
    }

    // ================================================================== a node the guest does not finish within T

    uint32 internal constant LONG_EXIT_AT = 40; // > T = 16: the true state at T is UNFINISHED

    function _useLongToyModel(bytes32 correctPost) internal {
        ModelParams memory p = _modelParams();
        p.absolutePrestate = stepper.stateHash(stepper.initialState(correctPost, LOCAL_POST_STATE, 8, LONG_EXIT_AT));
        vm.prank(modelOwner);
        modelId = oracle.registerModel(p);
    }

    function _longTruth(bytes32 correctPost, bytes32 boundPost) internal view returns (bytes[] memory states) {
        uint256 t = uint256(1) << VM_DEPTH;
        states = new bytes[](t + 1);
        states[0] = stepper.initialState(correctPost, LOCAL_POST_STATE, 8, LONG_EXIT_AT);
        for (uint256 j = 1; j <= t; ++j) states[j] = stepper.next(states[j - 1], boundPost);
        assertEq(uint8(states[t][89]), 0); // not exited at T
    }

    /// @dev Phase 1 of a game at the long node, the cheater lying from VM step `lieFrom` (T + 1: it tells the truth),
    /// or going silent at VmStart; then the step if the game got there.
    function _playLongNode(DisputeGame game, Party memory d, Party memory c, bytes[] memory truth, uint256 lieFrom, bool silent)
        internal
    {
        uint256 t = uint256(1) << VM_DEPTH;
        Party memory honest = d.honest ? d : c;
        Party memory cheater = d.honest ? c : d;
        Side cheaterSide = d.honest ? Side.Challenger : Side.Defender;
        bytes32 trueFinal = stepper.stateHash(truth[t]);
        vm.prank(honest.op);
        game.postFinalVmState(trueFinal);
        if (silent) {
            vm.warp(block.timestamp + CLOCK + 1);
            game.claimTimeout();
            return;
        }
        bytes32 cheaterFinal = _vmValue(truth, false, lieFrom, t, cheaterSide);
        vm.prank(cheater.op);
        game.postFinalVmState(cheaterFinal);
        while (game.phase() == GamePhase.Vm) {
            uint256[] memory points = game.roundPoints();
            for (uint256 s; s < 2; ++s) {
                Party memory x = s == 0 ? d : c;
                bytes32[] memory values = new bytes32[](points.length);
                for (uint256 j; j < points.length; ++j) values[j] = _vmValue(truth, x.honest, lieFrom, points[j], Side(s));
                vm.prank(x.op);
                game.moveVm(values);
            }
        }
        if (game.phase() == GamePhase.Step) {
            (uint256 lo,) = game.range();
            game.step(truth[lo], "");
        }
    }

    /// @dev Issue 12 item 1, first direction: a correct claim attacked by a claim wrong from a node whose check runs
    /// past T. Whatever the attacker does in phase 1, the correct claim is never defeated nor slashed.
    function testFuzz_longNode_correctClaimAttackedNeverLoses(uint256 lieFrom, bool silent) public {
        lieFrom = bound(lieFrom, 1, (uint256(1) << VM_DEPTH) + 1);
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 3, "cheat");
        _useLongToyModel(d.trace.states[3]);
        uint256 total = _tokenTotal();
        (uint256 id, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        assertEq(game.nodeIndex(), 3);
        _playLongNode(game, d, c, _longTruth(d.trace.states[3], d.trace.states[3]), lieFrom, silent);

        assertEq(uint8(game.phase()), uint8(GamePhase.Resolved));
        assertTrue(game.winner() != GameWinner.Challenger);
        assertTrue(tm.getClaim(1).status != ClaimStatus.Defeated);
        assertEq(staking.getAccount(alice).active, MIN_STAKE + 50 ether); // never slashed
        if (game.winner() == GameWinner.Undecided) {
            // No output of the request can be verified: cancelled, both bonds free, refundable at once.
            assertEq(uint8(tm.getStatus(id)), uint8(RequestStatus.Cancelled));
            assertEq(staking.getAccount(alice).locked, 0);
            assertEq(staking.getAccount(bob).locked, 0);
            tm.expire(id);
            assertEq(uint8(tm.getStatus(id)), uint8(RequestStatus.Refunded));
        } else {
            vm.warp(block.timestamp + WINDOW + 1);
            _finalize(id);
            assertEq(oracle.getOutputHash(id), keccak256(OUT_H));
        }
        assertEq(_tokenTotal(), total);
    }

    /// @dev Issue 12 item 1, second direction: a wrong standing claim, wrong from a node whose check runs past T,
    /// challenged by an honest party. Whatever the cheater does, its output never finalizes.
    function testFuzz_longNode_wrongClaimChallengedNeverFinalizes(uint256 lieFrom, bool silent) public {
        lieFrom = bound(lieFrom, 1, (uint256(1) << VM_DEPTH) + 1);
        Party memory d = _cheat(alice, 3, "cheat");
        Party memory c = _honest(bob);
        _useLongToyModel(c.trace.states[3]);
        uint256 total = _tokenTotal();
        (uint256 id, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        _playLongNode(game, d, c, _longTruth(c.trace.states[3], d.trace.states[3]), lieFrom, silent);

        assertTrue(game.winner() != GameWinner.Defender);
        assertEq(staking.getAccount(bob).active, MIN_STAKE + 50 ether); // the honest challenger is never slashed
        if (game.winner() == GameWinner.Undecided) {
            assertEq(uint8(tm.getStatus(id)), uint8(RequestStatus.Cancelled));
            vm.warp(block.timestamp + WINDOW + 1);
            vm.expectRevert(abi.encodeWithSelector(NotCommitted.selector, id, RequestStatus.Cancelled));
            tm.finalize(id);
            tm.expire(id);
            assertFalse(tm.isFinalized(id));
        } else {
            assertEq(tm.getTask(id).standingClaimId, 2);
        }
        assertEq(_tokenTotal(), total);
    }

    function test_postFinalVmState_undecidableStatuses() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 3, "cheat");
        _useLongToyModel(d.trace.states[3]);
        (uint256 id, DisputeGame game) = _open(d, c);
        _playGraph(game, d, c);
        bytes32 panic = bytes32((uint256(keccak256("p")) >> 8) | (uint256(2) << 248));
        // The defender may not claim INVALID, the challenger not VALID; PANIC and UNFINISHED are open to both.
        bytes32 invalid = bytes32((uint256(keccak256("i")) >> 8) | (uint256(1) << 248));
        vm.expectRevert(abi.encodeWithSelector(WrongFinalStatus.selector, Side.Defender, 1, 0));
        vm.prank(alice);
        game.postFinalVmState(invalid);
        vm.prank(alice);
        game.postFinalVmState(panic);
        vm.prank(bob);
        game.postFinalVmState(panic);
        // Both say the same undecidable state: nothing to bisect.
        assertEq(uint8(game.winner()), uint8(GameWinner.Undecided));
        assertEq(uint8(tm.getStatus(id)), uint8(RequestStatus.Cancelled));
    }

    // ================================================================== an attacker on both sides (issue 12 item 2)

    /// @dev A fresh staked attacker address per round (a slashed one is jailed).
    function _attacker(uint256 k) internal returns (address a) {
        a = makeAddr(string(abi.encodePacked("attacker", vm.toString(k))));
        _fundAndStake(a, MIN_STAKE + BOND);
    }

    function _wrong(address op, uint256 k) internal pure returns (Party memory x) {
        x = _cheat(op, 1, bytes32(k));
        x.output = abi.encodePacked(uint8(30 + k));
        x.trace = _trace(x.output, 1, bytes32(k));
    }

    /// @dev Plays a whole game between a cheating defender and the honest challenger `h` (or the reverse) to the
    /// step; the cheater lies about every VM state after the first.
    function _playToTheEnd(DisputeGame game, Party memory d, Party memory c) internal {
        _playGraph(game, d, c);
        Party memory h = d.honest ? d : c;
        bytes[] memory truth = _toyTrace(h.trace.states[1], d.trace.states[1]);
        _playVm(game, d, c, truth, 1);
        (uint256 lo,) = game.range();
        game.step(truth[lo], "");
    }

    /// @dev The attack of issue 12 item 2, for 10 rounds: the attacker commits a wrong output, and each round a new
    /// address of its challenges its own standing claim with another wrong output and loses that game on purpose
    /// (its defender goes silent), to take the winner share of its own slash, make the honest game moot and lock
    /// honest stake round after round. `preempt`: the attacker's challenge comes before the honest one each round
    /// (else after it, the issue's order). Checked every round: the honest keeper never has more than one bond
    /// locked, no game against a claim is decided while another is played on it, and at the end the wrong outputs
    /// never finalized and the honest keeper got at least the winner share of one slash.
    function _selfChallengeAttack(bool preempt) internal {
        Party memory h = _honest(dave);
        _useToyModel(h.trace.states[1]);
        uint256 id = _requestNoCallback();
        address[] memory attackers = new address[](11);
        attackers[0] = _attacker(0);
        Party memory standing = _wrong(attackers[0], 0);
        _post(standing, id, true);
        uint256 standingId = 1;
        for (uint256 k = 1; k < 11; ++k) attackers[k] = _attacker(k);
        address late = _attacker(99);
        // Every token any party of this test holds, in the staking contract included: slashes only move them.
        address[] memory everyone = new address[](15);
        for (uint256 k; k < 11; ++k) everyone[k] = attackers[k];
        (everyone[11], everyone[12], everyone[13], everyone[14]) = (dave, stakingTreasury, user, address(staking));
        uint256 held = _tokensOf(everyone) + token.balanceOf(late);
        uint256 daveBefore = token.balanceOf(dave);
        uint256 share = uint256(BOND) * WINNER_BPS / 10_000;

        for (uint256 k = 1; k <= 10; ++k) {
            Party memory next = _wrong(attackers[k], k);
            if (preempt) {
                standingId = _preemptRound(id, h, next, share);
                standing = next;
            } else {
                _honestFirstRound(id, h, standing, next, standingId, k == 1 ? daveBefore : type(uint256).max, share);
                standingId = tm.getTask(id).standingClaimId;
            }
            assertFalse(tm.isFinalized(id));
        }

        if (preempt) {
            // The attacker stops; the honest keeper's game against the last wrong claim is played. A self-challenge
            // added now only queues: it cannot be decided while the honest game is open.
            DisputeGame hg = DisputeGame(_post(h, id, false));
            Party memory lateClaim = _wrong(late, 99);
            assertEq(_post(lateClaim, id, false), address(0));
            assertEq(tm.activeGame(standingId), address(hg));
            uint256 before = token.balanceOf(dave);
            _playToTheEnd(hg, standing, h);
            assertEq(uint8(hg.winner()), uint8(GameWinner.Challenger));
            assertEq(token.balanceOf(dave) - before, share);
            tm.releaseChallenge(tm.claimCount());
        }
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertEq(oracle.getOutputHash(id), keccak256(OUT_H));
        assertEq(staking.getAccount(dave).locked, 0);
        assertEq(staking.getAccount(dave).active, MIN_STAKE + 50 ether); // never slashed
        assertGe(token.balanceOf(dave) - daveBefore, share);
        assertEq(_tokensOf(everyone) + token.balanceOf(late), held);
    }

    /// @dev The attacker's challenge opens its own game first, the honest keeper queues, the attacker forfeits.
    function _preemptRound(uint256 id, Party memory h, Party memory next, uint256 share) internal returns (uint256) {
        address own = _post(next, id, false);
        assertEq(_post(h, id, false), address(0));
        uint256 hId = tm.claimCount();
        // The honest keeper waits in line behind the attacker's own game.
        assertEq(uint8(tm.getClaim(hId).status), uint8(ClaimStatus.Queued));
        assertEq(staking.getAccount(dave).locked, BOND);
        // The attacker's standing address forfeits: silent, its clock runs out.
        _moveGraph(DisputeGame(own), next);
        vm.warp(block.timestamp + CLOCK + 1);
        uint256 before = token.balanceOf(next.op);
        DisputeGame(own).claimTimeout();
        // It recovered the winner share of its own slash, but no honest game was open on that claim.
        assertEq(token.balanceOf(next.op) - before, share);
        assertEq(tm.getTask(id).standingClaimId, tm.getGame(own).challengerClaimId);
        // The honest bond is not left in a game that can no longer change the request.
        tm.releaseChallenge(hId);
        assertEq(staking.getAccount(dave).locked, 0);
        return tm.getTask(id).standingClaimId;
    }

    /// @dev Round 1: the honest challenge opens the game and the attacker's self-challenge queues behind it; later
    /// rounds: the attacker challenges the honest standing claim and loses. `daveBefore` is set in round 1 only.
    function _honestFirstRound(
        uint256 id,
        Party memory h,
        Party memory standing,
        Party memory next,
        uint256 standingId,
        uint256 daveBefore,
        uint256 share
    ) internal {
        if (daveBefore != type(uint256).max) {
            DisputeGame hg = DisputeGame(_post(h, id, false));
            assertEq(_post(next, id, false), address(0));
            assertEq(tm.activeGame(standingId), address(hg));
            _playToTheEnd(hg, standing, h);
            assertEq(uint8(hg.winner()), uint8(GameWinner.Challenger));
            // The whole winner share is the honest keeper's; the attacker's queued claim is released.
            assertEq(token.balanceOf(dave) - daveBefore, share);
            tm.releaseChallenge(tm.claimCount());
        } else {
            DisputeGame g = DisputeGame(_post(next, id, false));
            _playToTheEnd(g, h, next);
            assertEq(uint8(g.winner()), uint8(GameWinner.Defender));
        }
        assertEq(staking.getAccount(dave).locked, BOND);
    }

    function _tokensOf(address[] memory xs) internal view returns (uint256 total) {
        for (uint256 i; i < xs.length; ++i) total += token.balanceOf(xs[i]);
    }

    function test_selfChallengeAttack_attackerFirst_10rounds() public {
        _selfChallengeAttack(true);
    }

    function test_selfChallengeAttack_honestFirst_10rounds() public {
        _selfChallengeAttack(false);
    }

    function test_factory_accessControl() public {
        vm.expectRevert(abi.encodeWithSelector(NotTaskManager.selector, carol, address(tm)));
        vm.prank(carol);
        games.createGame(1, 1, 2);
        vm.expectRevert(abi.encodeWithSelector(NotDeployer.selector, carol, address(this)));
        vm.prank(carol);
        games.bindTaskManager(carol);
        vm.expectRevert(abi.encodeWithSelector(TaskManagerAlreadyBound.selector, address(tm)));
        games.bindTaskManager(carol);

        DisputeGame impl = DisputeGame(games.implementation());
        // the factory states its games' VM trace depth (keepers check their models against it)
        assertEq(games.vmTraceDepth(), VM_DEPTH);
        assertEq(games.vmTraceDepth(), impl.vmTraceDepth());
        vm.expectRevert(abi.encodeWithSelector(NotFactory.selector, carol, address(games)));
        vm.prank(carol);
        impl.initialize(carol, 1, 1, 2);
        vm.expectRevert(AlreadyInitialized.selector);
        vm.prank(address(games));
        impl.initialize(carol, 1, 1, 2);
    }

    function test_game_cannotBeReinitializedOrResolvedByOthers() public {
        Party memory d = _honest(alice);
        Party memory c = _cheat(bob, 2, "cheat");
        _useToyModel(d.trace.states[2]);
        (, DisputeGame game) = _open(d, c);
        vm.expectRevert(AlreadyInitialized.selector);
        vm.prank(address(games));
        game.initialize(address(tm), 1, 1, 2);
        // Only games the task manager created report outcomes.
        vm.expectRevert(abi.encodeWithSelector(UnknownGame.selector, carol));
        vm.prank(carol);
        tm.resolveGame(GameWinner.Defender);
        assertEq(games.gameCount(), 1);
        assertEq(games.gameAt(0), address(game));
        assertEq(game.taskManager(), address(tm));
        assertEq(game.challengerClaimId(), 2);
        assertEq(game.localContext(), bytes32(uint256(2)));
    }

    function test_constructor_rejectsBadConfig() public {
        vm.expectRevert(abi.encodeWithSelector(InvalidGameConfig.selector, 0, 1, 1, 4));
        new DisputeGameFactory(IBigStepper(address(stepper)), 0, 1, 1, 4);
        vm.expectRevert(abi.encodeWithSelector(InvalidGameConfig.selector, 1, 9, 1, 4));
        new DisputeGameFactory(IBigStepper(address(stepper)), 1, 9, 1, 4);
        vm.expectRevert(abi.encodeWithSelector(InvalidGameConfig.selector, 1, 1, 0, 4));
        new DisputeGameFactory(IBigStepper(address(stepper)), 1, 1, 0, 4);
        vm.expectRevert(abi.encodeWithSelector(InvalidGameConfig.selector, 1, 1, 1, 41));
        new DisputeGameFactory(IBigStepper(address(stepper)), 1, 1, 1, 41);
        new DisputeGameFactory(IBigStepper(address(stepper)), 1, 1, 1, 40);
        // Depth 0 would make T = 1: no room for a guest to run.
        vm.expectRevert(abi.encodeWithSelector(InvalidGameConfig.selector, 1, 1, 1, 0));
        new DisputeGameFactory(IBigStepper(address(stepper)), 1, 1, 1, 0);
    }
}

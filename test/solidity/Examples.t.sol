// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoreFixture} from "./utils/CoreFixture.sol";
import {DigitClassifier} from "../../contracts/examples/DigitClassifier.sol";
import {OAOPromptConsumer, IOraAIOracle} from "../../contracts/examples/OAOPromptConsumer.sol";
import {MockAIOracle} from "../../contracts/mocks/MockAIOracle.sol";
import {RevertingReceiver} from "../../contracts/mocks/HostileReceivers.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {GameWinner, ModelParams} from "../../contracts/lib/Types.sol";
import {GraphTrace} from "./utils/GraphTrace.sol";
import "../../contracts/lib/Errors.sol";

contract ExamplesTest is CoreFixture {
    function _logits(uint8 best) internal pure returns (bytes memory out) {
        for (uint8 i = 0; i < 10; ++i) {
            int32 score = i == best ? int32(500) : -int32(uint32(i)) * 7;
            out = abi.encodePacked(out, score);
        }
    }

    function test_digitClassifier_endToEndWithOverturn() public {
        // A model whose output is the classifier's 10 int32 logits (docs/protocol.md §3.5: a claim's output must be
        // the model's output tensor).
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(
            3, WEIGHTS_ROOT, abi.encodePacked(uint8(1), uint8(2), uint32(1), uint32(784)),
            abi.encodePacked(uint8(2), uint8(2), uint32(1), uint32(10))
        );
        vm.prank(modelOwner);
        uint256 logitsModel = oracle.registerModel(p);
        DigitClassifier dapp = new DigitClassifier(oracle, logitsModel);
        uint256 fee = dapp.fee();
        vm.expectRevert(abi.encodeWithSelector(DigitClassifier.InvalidImageLength.selector, uint256(5), uint256(784)));
        vm.prank(user);
        dapp.classify{value: fee}(INPUT);
        vm.expectRevert(abi.encodeWithSelector(DigitClassifier.FeeTooLow.selector, fee - 1, fee));
        vm.prank(user);
        dapp.classify{value: fee - 1}(new bytes(784));

        uint256 before = user.balance;
        vm.prank(user);
        uint256 id = dapp.classify{value: fee + 1 ether}(new bytes(784));
        assertEq(before - user.balance, fee); // excess returned
        assertEq(dapp.digitOf(id), dapp.NO_DIGIT());

        _commit(alice, id, _logits(3), TRACE_A); // wrong answer delivered at commit
        assertEq(dapp.digitOf(id), 3);
        assertFalse(dapp.isFinal(id));
        (, ToyDisputeGame game) = _challenge(bob, id, _logits(7), TRACE_B);
        _resolve(game, GameWinner.Challenger);
        vm.prank(keeper);
        tm.deliver{gas: 1_000_000}(id);
        assertEq(dapp.digitOf(id), 7);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertTrue(dapp.isFinal(id));
        assertEq(dapp.digitOf(id), 7);
    }

    function test_digitClassifier_rejectsStrangers() public {
        DigitClassifier dapp = new DigitClassifier(oracle, modelId);
        vm.expectRevert(abi.encodeWithSelector(UnauthorizedCallbackSender.selector, user, address(oracle)));
        vm.prank(user);
        dapp.aiOracleCallback(1, hex"01", "");
    }

    function test_oaoConsumer_worksAgainstOurOracle() public {
        OAOPromptConsumer dapp = new OAOPromptConsumer(IOraAIOracle(address(oracle)));
        uint256 fee = dapp.estimateFee(modelId);
        // The fixture model takes exactly 5 input bytes: a longer prompt is refused with both lengths (§3.4; a text
        // model here has a fixed-size input, e.g. a prompt padded to its context window).
        vm.prank(user);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, modelId, uint256(5), uint256(11)));
        dapp.calculateAIResult{value: fee}(modelId, "what is 2+2");
        vm.prank(user);
        uint256 id = dapp.calculateAIResult{value: fee}(modelId, "2+2=?");
        _commit(alice, id, bytes("4"), TRACE_A);
        assertEq(dapp.getAIResult(modelId, "2+2=?"), "4");
        assertFalse(dapp.isFinalized(id));
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertTrue(dapp.isFinalized(id));
        vm.expectRevert(abi.encodeWithSelector(OAOPromptConsumer.UnauthorizedCallbackSource.selector, user));
        vm.prank(user);
        dapp.aiOracleCallback(id, bytes("5"), "");
    }

    // ------------------------------------------------------------------ MockAIOracle, the dapp test kit

    function test_mockOracle_fulfilCommitOverturnFinalize() public {
        MockAIOracle mock = new MockAIOracle();
        mock.setModelFee(1, 0.01 ether);
        mock.setCallbackGasPrice(1 gwei);
        // As the real oracle: the callback gas is charged with the 50k delivery overhead.
        assertEq(mock.estimateFee(1, 100_000), 0.01 ether + (100_000 + 50_000) * 1 gwei);
        assertEq(mock.estimateFee(1, 0), 0.01 ether);
        DigitClassifier dapp = new DigitClassifier(IAIOracle(address(mock)), 1);
        vm.prank(user);
        uint256 id = dapp.classify{value: dapp.fee()}(new bytes(784));
        assertTrue(mock.commitResult(id, hex"02"));
        assertEq(dapp.digitOf(id), 2);
        assertFalse(dapp.isFinal(id));
        assertTrue(mock.overturn(id, hex"05"));
        assertEq(dapp.digitOf(id), 5);
        mock.finalize(id);
        assertTrue(dapp.isFinal(id));
        vm.expectRevert(abi.encodeWithSelector(UnknownRequest.selector, id));
        mock.fulfill(id, hex"01");

        vm.prank(user);
        uint256 id2 = dapp.classify{value: dapp.fee()}(new bytes(784));
        assertTrue(mock.fulfill(id2, _logits(9)));
        assertEq(dapp.digitOf(id2), 9);
        assertTrue(dapp.isFinal(id2));

        // The shipped MNIST model's output: ten int8 scores (quantized softmax); negative scores compare signed.
        vm.prank(user);
        uint256 id3 = dapp.classify{value: dapp.fee()}(new bytes(784));
        assertTrue(mock.fulfill(id3, hex"80808080808080f0a080"));
        assertEq(dapp.digitOf(id3), 7);
        vm.prank(user);
        uint256 id4 = dapp.classify{value: dapp.fee()}(new bytes(784));
        assertTrue(mock.fulfill(id4, hex"0102030405"));
        assertEq(dapp.digitOf(id4), dapp.NO_DIGIT());
    }

    function test_mockOracle_checksInputLengthWhenTold() public {
        MockAIOracle mock = new MockAIOracle();
        mock.requestCallback(1, hex"0102", address(0), 0, ""); // unchecked by default
        mock.setModelInputBytes(1, 784);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, uint256(1), uint256(784), uint256(2)));
        mock.requestCallback(1, hex"0102", address(0), 0, "");
        mock.requestCallback(1, new bytes(784), address(0), 0, "");
        assertEq(mock.requestCount(), 2);
    }

    function test_mockOracle_expireAndFail() public {
        MockAIOracle mock = new MockAIOracle();
        mock.setModelFee(1, 0.01 ether);
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(mock)));
        vm.deal(address(this), 1 ether);
        uint256 id = mock.requestCallback{value: 0.01 ether}(1, INPUT, address(rec), 300_000, hex"aa");
        assertEq(mock.getRequest(id).requester, address(this));
        // The requester (this test contract) has no receive: as the real oracle, the mock pushes the refund to the
        // transaction's sender instead (docs/protocol.md §1.5), and keeps nothing.
        uint256 originBefore = tx.origin.balance;
        assertTrue(mock.expire(id));
        assertEq(tx.origin.balance - originBefore, 0.01 ether);
        assertEq(rec.errorCount(), 1);
        assertEq(rec.errorAt(0).errorCode, 2); // ErrorCodes.EXPIRED
        assertEq(rec.errorAt(0).errorData, abi.encode(0.01 ether));
        assertEq(rec.errorAt(0).callbackData, hex"aa");

        uint256 id2 = mock.requestCallback{value: 0.01 ether}(1, INPUT, address(rec), 300_000, "");
        assertTrue(mock.fail(id2, 7, "why"));
        assertEq(rec.errorAt(1).errorCode, 7);
        assertEq(rec.errorAt(1).errorData, "why");

        vm.expectRevert(abi.encodeWithSelector(InsufficientFee.selector, 0, 0.01 ether));
        mock.requestCallback(1, INPUT, address(rec), 100_000, "");
    }

    function test_mockOracle_hostileCallbackRecordedNotReverted() public {
        MockAIOracle mock = new MockAIOracle();
        address bad = address(new RevertingReceiver());
        uint256 id = mock.requestCallback(1, INPUT, bad, 100_000, "");
        assertFalse(mock.fulfill(id, hex"01"));
        assertTrue(mock.isFinalized(id));
        assertEq(mock.getRequest(id).output, hex"01");
    }

    function test_mockOracle_checksGasLikeTheRealOracle() public {
        MockAIOracle mock = new MockAIOracle();
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(mock)));
        uint256 id = mock.requestCallback(1, INPUT, address(rec), 1_000_000, "");
        vm.expectPartialRevert(InsufficientGasForCallback.selector);
        mock.fulfill{gas: 500_000}(id, hex"01");
        assertTrue(mock.fulfill{gas: 1_500_000}(id, hex"01"));
        assertGt(rec.deliveryAt(0).gasAtEntry, 1_000_000 - 2_000);
    }
}

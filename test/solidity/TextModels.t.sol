// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphTrace} from "./utils/GraphTrace.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {IAIOracleBatch} from "../../contracts/interfaces/IAIOracleBatch.sol";
import {
    DeliveryMode, GameWinner, Model, ModelParams, Request, RequestHeader, RequestParams
} from "../../contracts/lib/Types.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {MockAIOracle} from "../../contracts/mocks/MockAIOracle.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {OAOPromptConsumer, IOraAIOracle} from "../../contracts/examples/OAOPromptConsumer.sol";
import "../../contracts/lib/Errors.sol";

/// @dev Text models (docs/protocol.md §3.3 descriptor version 2, §1.4 prompts of 1..C bytes, §1.7 trimmed delivery).
contract TextModelsTest is CoreFixture {
    uint32 internal constant CONTEXT = 8;
    uint32 internal constant T = 4;

    function _textParams(bytes memory inputHeader, uint8 inputMode) internal pure returns (ModelParams memory p) {
        p = _modelParams();
        p.descriptor = GraphTrace.descriptorV2(NODES, WEIGHTS_ROOT, inputHeader, GraphTrace.int8Header(T), inputMode);
    }

    // ------------------------------------------------------------------ registry (§3.3)

    function test_register_textModel_recordsInputMode() public {
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 1);
        vm.prank(bob);
        uint256 id = oracle.registerModel(p);
        Model memory m = oracle.getModel(id);
        assertEq(m.inputMode, 1);
        assertEq(m.inputBytes, CONTEXT);
        assertEq(m.modelRoot, keccak256(p.descriptor));
        GraphCommitments.ModelCommitment memory c = oracle.getModelCommitment(id);
        assertEq(c.inputMode, 1);
        assertEq(c.modelRoot, keccak256(p.descriptor));
        assertEq(c.inputHeader, GraphTrace.int8Header(CONTEXT));
        assertEq(c.outputHeader, GraphTrace.int8Header(T));
        // the fixture's version-1 model is fixed
        assertEq(oracle.getModel(modelId).inputMode, 0);
        assertEq(oracle.getModelCommitment(modelId).inputMode, 0);
    }

    function test_getClaimModel_isTheClaimCheckPartOfTheCommitment() public {
        uint256 id = oracle.registerModel(_textParams(GraphTrace.int8Header(CONTEXT), 1));
        for (uint256 k; k < 2; ++k) {
            uint256 mid = k == 0 ? id : modelId;
            GraphCommitments.ModelCommitment memory c = oracle.getModelCommitment(mid);
            GraphCommitments.ClaimModel memory m = oracle.getClaimModel(mid);
            assertEq(m.nodeCount, c.nodeCount);
            assertEq(m.inputMode, c.inputMode);
            assertEq(m.weightsRoot, c.weightsRoot);
            assertEq(m.outputHeader, c.outputHeader);
            // A text model's input header comes from the request (§3.4): the claim check does not read the stored one.
            assertEq(m.inputHeader, k == 0 ? bytes("") : c.inputHeader);
        }
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(99)));
        oracle.getClaimModel(99);
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(0)));
        oracle.getClaimModel(0);
    }

    function test_register_version2Fixed_isFixed() public {
        uint256 id = oracle.registerModel(_textParams(GraphTrace.int8Header(5), 0));
        assertEq(oracle.getModel(id).inputMode, 0);
        assertEq(oracle.getModel(id).inputBytes, 5);
    }

    function test_register_rejectsBadInputMode() public {
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 2);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidInputMode.selector, uint256(2)));
        oracle.registerModel(p);
        p = _textParams(GraphTrace.int8Header(CONTEXT), 0xff);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidInputMode.selector, uint256(0xff)));
        oracle.registerModel(p);
    }

    function test_register_rejectsVersion2WithoutTrailer() public {
        // a version-2 descriptor must carry the inputMode byte: one byte short is malformed
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 1);
        bytes memory d = p.descriptor;
        assembly ("memory-safe") {
            mstore(d, sub(mload(d), 1))
        }
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidModelDescriptor.selector, d.length));
        oracle.registerModel(p);
        // and a version-1 descriptor with a trailing byte is malformed too
        p = _modelParams();
        p.descriptor = bytes.concat(p.descriptor, hex"01");
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidModelDescriptor.selector, p.descriptor.length));
        oracle.registerModel(p);
    }

    function test_register_rejectsTextModelWhoseInputIsNotInt8Vector() public {
        // int32 [8]
        bytes memory int32Header = abi.encodePacked(uint8(2), uint8(1), uint32(CONTEXT));
        ModelParams memory p = _textParams(int32Header, 1);
        vm.expectRevert(abi.encodeWithSelector(InvalidTextInputHeader.selector, int32Header));
        oracle.registerModel(p);
        // int8 [1, 8]
        bytes memory rank2 = abi.encodePacked(uint8(1), uint8(2), uint32(1), uint32(CONTEXT));
        p = _textParams(rank2, 1);
        vm.expectRevert(abi.encodeWithSelector(InvalidTextInputHeader.selector, rank2));
        oracle.registerModel(p);
        // the same headers are fine for a fixed model
        oracle.registerModel(_textParams(rank2, 0));
        // and a text context above one chunk is refused (a fixed model's input may take 8 chunks)
        p = _textParams(GraphTrace.int8Header(4097), 1);
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(4097), uint256(4096)));
        oracle.registerModel(p);
    }

    // ------------------------------------------------------------------ requests (§1.4)

    function _registerText() internal returns (uint256 id) {
        vm.prank(modelOwner);
        id = oracle.registerModel(_textParams(GraphTrace.int8Header(CONTEXT), 1));
    }

    function _prompt(uint256 len) internal pure returns (bytes memory b) {
        b = new bytes(len);
        for (uint256 i; i < len; ++i) b[i] = bytes1(uint8(0x61 + i % 26));
    }

    function _options(uint256 id, bytes memory input, address callback, uint64 gasLimit)
        internal
        pure
        returns (RequestParams memory)
    {
        return RequestParams({
            modelId: id,
            input: input,
            callbackContract: callback,
            gasLimit: gasLimit,
            callbackData: hex"c0ffee",
            deliveryMode: DeliveryMode.AtCommit,
            deadline: 0,
            maxFee: type(uint256).max,
            refundRecipient: address(0)
        });
    }

    function test_request_textModel_takesPromptsOf1ToC() public {
        uint256 id = _registerText();
        uint256 fee = oracle.estimateFee(id, 0);
        vm.startPrank(user);
        for (uint256 len = 1; len <= CONTEXT; ++len) {
            bytes memory prompt = _prompt(len);
            uint256 a = oracle.requestCallback{value: fee}(id, prompt, address(0), 0, "");
            uint256 b = oracle.requestWithOptions{value: fee}(_options(id, prompt, address(0), 0));
            for (uint256 r = a; r <= b; ++r) {
                Request memory q = oracle.getRequest(r);
                assertEq(q.inputLength, len);
                assertTrue(q.textModel);
                assertEq(q.inputHash, keccak256(prompt));
                RequestHeader memory h = oracle.getRequestHeader(r);
                assertEq(h.inputLength, len);
            }
        }
        vm.stopPrank();
        // a fixed model's request records its (exact) length and is not text
        uint256 f = _requestNoCallback();
        assertEq(oracle.getRequest(f).inputLength, INPUT.length);
        assertFalse(oracle.getRequest(f).textModel);
    }

    function test_request_textModel_rejectsEmptyAndTooLong() public {
        uint256 id = _registerText();
        uint256 fee = oracle.estimateFee(id, 0);
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, id));
        oracle.requestCallback{value: fee}(id, "", address(0), 0, "");
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, id, uint256(CONTEXT), uint256(CONTEXT + 1)));
        oracle.requestCallback{value: fee}(id, _prompt(CONTEXT + 1), address(0), 0, "");
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, id));
        oracle.requestWithOptions{value: fee}(_options(id, "", address(0), 0));
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, id, uint256(CONTEXT), uint256(4096)));
        oracle.requestWithOptions{value: fee}(_options(id, _prompt(4096), address(0), 0));
        // fixed models keep the exact-length rule
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, modelId));
        oracle.requestCallback{value: fee}(modelId, "", address(0), 0, "");
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, modelId, uint256(5), uint256(4)));
        oracle.requestCallback{value: fee}(modelId, hex"01020304", address(0), 0, "");
        vm.stopPrank();
    }

    function test_batch_textModel_equalPrompts() public {
        uint256 id = _registerText();
        uint256 fee = oracle.estimateFeeBatch(id, 0, 3);
        bytes memory input = _prompt(9); // three prompts of 3 bytes
        vm.prank(user);
        uint256 first = oracle.requestBatchInference{value: fee}(
            3, id, input, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        for (uint256 i; i < 3; ++i) {
            Request memory q = oracle.getRequest(first + i);
            assertEq(q.inputLength, 3);
            assertEq(q.inputHash, keccak256(_slice(input, 3 * i, 3)));
        }
        vm.startPrank(user);
        // prompts must share one length
        vm.expectRevert(abi.encodeWithSelector(BatchInputLengthMismatch.selector, id, uint256(2), uint256(3), uint256(6), uint256(7)));
        oracle.requestBatchInference{value: fee}(
            2, id, _prompt(7), address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, id));
        oracle.requestBatchInference{value: fee}(
            2, id, "", address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, id, uint256(CONTEXT), uint256(CONTEXT + 1)));
        oracle.requestBatchInference{value: fee}(
            2, id, _prompt(2 * CONTEXT + 2), address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        vm.stopPrank();
    }

    function _slice(bytes memory b, uint256 start, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[start + i];
    }

    // ------------------------------------------------------------------ claims (§3.4) and delivery (§1.7)

    /// @dev A claim's trace on a text request, built from the tensor int8 [L] (not the model's int8 [C] header).
    function _textTrace(bytes memory prompt, bytes memory output, bytes32 salt, uint256 headerLen)
        internal
        pure
        returns (GraphTrace.Trace memory)
    {
        bytes32[] memory outs = new bytes32[](NODES);
        for (uint256 k = 1; k < NODES; ++k) outs[k - 1] = keccak256(abi.encode(salt, k));
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(T), output);
        bytes32 inputHash = keccak256(abi.encodePacked(GraphTrace.int8Header(uint32(headerLen)), keccak256(prompt)));
        return GraphTrace.build(inputHash, WEIGHTS_ROOT, outs);
    }

    function _textProof(bytes memory prompt, bytes memory output, bytes32 salt, uint256 headerLen)
        internal
        pure
        returns (GraphCommitments.ClaimProof memory)
    {
        return GraphTrace.claimProof(_textTrace(prompt, output, salt, headerLen));
    }

    function _requestText(uint256 id, bytes memory prompt, address callback) internal returns (uint256 r) {
        uint64 gasLimit = callback == address(0) ? 0 : CB_GAS;
        uint256 fee = oracle.estimateFee(id, gasLimit);
        vm.prank(user);
        r = oracle.requestCallback{value: fee}(id, prompt, callback, gasLimit, hex"c0ffee");
    }

    function test_commit_textRequest_inputHashIsOfInt8L() public {
        uint256 id = _registerText();
        bytes memory prompt = _prompt(3);
        uint256 r = _requestText(id, prompt, address(0));
        bytes memory output = hex"41420000";
        // the padded window's header (int8 [C]) is not the request's input tensor
        GraphCommitments.ClaimProof memory wrong = _textProof(prompt, output, TRACE_A, CONTEXT);
        vm.prank(alice);
        vm.expectPartialRevert(GraphCommitments.InitialStateMismatch.selector);
        tm.commit(r, output, wrong);
        vm.prank(alice);
        tm.commit(r, output, _textProof(prompt, output, TRACE_A, 3));
        (bytes memory stored,) = oracle.getResult(r);
        assertEq(stored, output); // the claim keeps the whole int8 [T] tensor
        assertEq(oracle.getOutputHash(r), keccak256(output));
    }

    /// @dev Commits `output` on a text request with a callback; checks the callback and AICallbackResult got `text`.
    function _checkDelivered(bytes memory output, bytes memory text) internal {
        uint256 id = _registerText();
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(oracle)));
        bytes memory prompt = _prompt(5);
        uint256 r = _requestText(id, prompt, address(rec));
        GraphCommitments.ClaimProof memory proof = _textProof(prompt, output, TRACE_A, 5);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IAIOracle.AICallbackResult(user, r, alice, text);
        vm.prank(alice);
        tm.commit(r, output, proof);
        assertEq(rec.deliveryCount(), 1);
        assertEq(rec.deliveryAt(0).output, text);
        (bytes memory stored,) = oracle.getResult(r);
        assertEq(stored, output);
    }

    function test_delivery_textModel_trimsAtFirstZero() public {
        _checkDelivered(hex"68690000", hex"6869");
        _checkDelivered(hex"68006900", hex"68");
        // no 0x00: all T bytes
        _checkDelivered(hex"61626364", hex"61626364");
        // 0x00 first: the empty text
        _checkDelivered(hex"00616263", hex"");
        _checkDelivered(hex"00000000", hex"");
    }

    function test_redelivery_textModel_trimsTheNewOutput() public {
        uint256 id = _registerText();
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(oracle)));
        bytes memory prompt = _prompt(2);
        uint256 r = _requestText(id, prompt, address(rec));
        vm.prank(alice);
        tm.commit(r, hex"61000000", _textProof(prompt, hex"61000000", TRACE_A, 2));
        vm.prank(bob);
        (, address g) = tm.challenge(
            r, hex"62630062", _textProof(prompt, hex"62630062", TRACE_B, 2), GraphTrace.opening(_textTrace(prompt, hex"61000000", TRACE_A, 2))
        );
        _resolve(ToyDisputeGame(g), GameWinner.Challenger);
        tm.deliver(r);
        assertEq(rec.deliveryCount(), 2);
        assertEq(rec.deliveryAt(0).output, hex"61");
        assertEq(rec.deliveryAt(1).output, hex"6263");
    }

    function test_delivery_fixedModel_isNotTrimmed() public {
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(oracle)));
        uint256 r = _requestFrom(user, address(rec), CB_GAS, DeliveryMode.AtCommit);
        _commit(alice, r, hex"00", TRACE_A);
        assertEq(rec.deliveryAt(0).output, hex"00");
    }

    function test_promptConsumer_storesTheTrimmedText() public {
        uint256 id = _registerText();
        OAOPromptConsumer consumer = new OAOPromptConsumer(IOraAIOracle(address(oracle)));
        uint256 fee = consumer.estimateFee(id);
        vm.prank(user);
        uint256 r = consumer.calculateAIResult{value: fee}(id, "hello");
        assertEq(oracle.getRequest(r).inputLength, 5);
        bytes memory output = hex"6f6b0000"; // "ok"
        vm.prank(alice);
        tm.commit(r, output, _textProof(bytes("hello"), output, TRACE_A, 5));
        assertEq(consumer.getAIResult(id, "hello"), "ok");
        // a prompt the model cannot take never becomes a request
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, id, uint256(CONTEXT), uint256(9)));
        vm.prank(user);
        consumer.calculateAIResult{value: fee}(id, "123456789");
    }

    // ------------------------------------------------------------------ MockAIOracle

    function test_mock_textModel() public {
        MockAIOracle mock = new MockAIOracle();
        mock.setTextModel(7, CONTEXT);
        RecordingReceiver rec = new RecordingReceiver(IAIOracle(address(mock)));
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, uint256(7)));
        mock.requestCallback(7, "", address(rec), CB_GAS, "");
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, uint256(7), uint256(CONTEXT), uint256(CONTEXT + 1)));
        mock.requestCallback(7, _prompt(CONTEXT + 1), address(rec), CB_GAS, "");
        uint256 r = mock.requestCallback(7, _prompt(CONTEXT), address(rec), CB_GAS, "");
        mock.fulfill(r, hex"6869006a");
        assertEq(rec.deliveryAt(0).output, hex"6869");
        uint256 r1 = mock.requestCallback(7, _prompt(1), address(rec), CB_GAS, "");
        mock.commitResult(r1, hex"00");
        assertEq(rec.deliveryAt(1).output, hex"");
        // batches of equal prompts
        vm.expectRevert(abi.encodeWithSelector(InputTooLong.selector, uint256(7), uint256(CONTEXT), uint256(CONTEXT + 1)));
        mock.requestBatchInference(
            2, 7, _prompt(2 * CONTEXT + 2), address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        // not a text model: delivered as is
        uint256 r2 = mock.requestCallback(8, hex"01", address(rec), CB_GAS, "");
        mock.fulfill(r2, hex"6900");
        assertEq(rec.deliveryAt(2).output, hex"6900");
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, uint256(8)));
        mock.requestCallback(8, "", address(rec), CB_GAS, "");
    }
}

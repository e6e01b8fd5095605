// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {GraphTrace} from "./utils/GraphTrace.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {AIOracle} from "../../contracts/oracle/AIOracle.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {IAIOracleExtended} from "../../contracts/interfaces/IAIOracleExtended.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {
    DeliveryMode, FeeState, Model, ModelParams, OracleConfig, Request, RequestParams, RequestStatus
} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev A requester that cannot receive ETH (no receive/fallback): refunds to it must be credited.
contract NoReceiveRequester {
    function request(IAIOracle oracle, uint256 modelId, bytes calldata input) external payable returns (uint256) {
        return oracle.requestCallback{value: msg.value}(modelId, input, address(0), 0, "");
    }

    function withdrawTo(IAIOracleExtended oracle, address payable to) external returns (uint256) {
        return oracle.withdraw(to);
    }
}

contract AIOracleTest is CoreFixture {
    // ------------------------------------------------------------------ model registry

    function test_registerModel_storesAndEmits() public {
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(7, keccak256("v2"), GraphTrace.int8Header(5), GraphTrace.int8Header(2));
        vm.expectEmit(address(oracle));
        emit IModelRegistry.ModelRegistered(
            2, bob, keccak256(p.descriptor), p.absolutePrestate, 7, p.fee, p.feeReceiver, p.feeShareBps, p.metadataURI
        );
        vm.prank(bob);
        uint256 id = oracle.registerModel(p);
        assertEq(id, 2);
        assertEq(oracle.modelCount(), 2);
        Model memory m = oracle.getModel(id);
        assertEq(m.owner, bob);
        assertEq(m.modelRoot, keccak256(p.descriptor));
        assertEq(m.absolutePrestate, p.absolutePrestate);
        assertEq(m.nodeCount, 7);
        GraphCommitments.ModelCommitment memory c = oracle.getModelCommitment(id);
        assertEq(c.modelRoot, keccak256(p.descriptor));
        assertEq(c.nodeCount, 7);
        assertEq(c.weightsRoot, keccak256("v2"));
        assertEq(c.inputHeader, GraphTrace.int8Header(5));
        assertEq(c.outputHeader, GraphTrace.int8Header(2));
        assertEq(m.fee, MODEL_FEE);
        assertEq(m.feeReceiver, address(0xFEE));
        assertEq(m.feeShareBps, MODEL_SHARE_BPS);
        assertEq(m.metadataURI, "ipfs://mnist");
        assertFalse(m.deprecated);
    }

    function test_registerModel_rejectsBadParams() public {
        ModelParams memory p = _modelParams();
        p.descriptor = bytes.concat(p.descriptor, hex"00");
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidModelDescriptor.selector, p.descriptor.length));
        oracle.registerModel(p);

        // The request input must fit MAX_INPUT_BYTES = 8 chunks (test/solidity/MultiChunkInputs.t.sol has the rest).
        p = _modelParams();
        p.descriptor = GraphTrace.descriptor(6, keccak256("w"), GraphTrace.int8Header(32769), GraphTrace.int8Header(1));
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(32769), uint256(32768)));
        oracle.registerModel(p);

        p = _modelParams();
        p.absolutePrestate = 0;
        vm.expectRevert(abi.encodeWithSelector(ZeroAbsolutePrestate.selector));
        oracle.registerModel(p);

        p = _modelParams();
        p.descriptor = GraphTrace.descriptor(0, keccak256("w"), GraphTrace.int8Header(5), GraphTrace.int8Header(1));
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidNodeCount.selector, uint256(0)));
        oracle.registerModel(p);

        p = _modelParams();
        p.feeShareBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(FeeShareTooHigh.selector, uint16(10_001)));
        oracle.registerModel(p);

        p = _modelParams();
        p.feeReceiver = address(0);
        vm.expectRevert(abi.encodeWithSelector(ZeroFeeReceiver.selector, MODEL_SHARE_BPS));
        oracle.registerModel(p);
    }

    function test_getModel_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(99)));
        oracle.getModel(99);
    }

    function test_deprecateModel_onlyOwner() public {
        vm.expectRevert(abi.encodeWithSelector(NotModelOwner.selector, modelId, alice, modelOwner));
        vm.prank(alice);
        oracle.deprecateModel(modelId);

        vm.expectEmit(address(oracle));
        emit IModelRegistry.ModelDeprecated(modelId);
        vm.prank(modelOwner);
        oracle.deprecateModel(modelId);
        assertTrue(oracle.getModel(modelId).deprecated);

        vm.expectRevert(abi.encodeWithSelector(ModelIsDeprecated.selector, modelId));
        vm.prank(modelOwner);
        oracle.deprecateModel(modelId);
    }

    function test_deprecateModel_rejectsNewRequestsKeepsOld() public {
        uint256 id = _requestNoCallback();
        vm.prank(modelOwner);
        oracle.deprecateModel(modelId);
        vm.expectRevert(abi.encodeWithSelector(ModelIsDeprecated.selector, modelId));
        vm.prank(user);
        oracle.requestCallback{value: 1 ether}(modelId, INPUT, address(0), 0, "");
        vm.expectRevert(abi.encodeWithSelector(ModelIsDeprecated.selector, modelId));
        oracle.estimateFee(modelId, 0);
        // The request made before deprecation completes normally.
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        assertTrue(oracle.isFinalized(id));
    }

    // ------------------------------------------------------------------ fees

    function test_estimateFee_isModelFeePlusGasPlusProtocol() public view {
        uint256 expected = MODEL_FEE + (uint256(CB_GAS) + oracle.CALLBACK_OVERHEAD_GAS()) * GAS_PRICE + PROTOCOL_FEE;
        assertEq(oracle.estimateFee(modelId, CB_GAS), expected);
        assertEq(oracle.estimateFee(modelId, 0), MODEL_FEE + PROTOCOL_FEE);
        (uint256 m, uint256 c, uint256 p) = oracle.estimateFeeParts(modelId, CB_GAS);
        assertEq(m + c + p, expected);
        assertEq(m, MODEL_FEE);
        assertEq(p, PROTOCOL_FEE);
    }

    function test_estimateFee_basefeeFloor() public {
        vm.fee(50 gwei);
        assertEq(oracle.callbackGasPrice(), 50 gwei);
        uint256 expected = MODEL_FEE + (uint256(CB_GAS) + oracle.CALLBACK_OVERHEAD_GAS()) * 50 gwei + PROTOCOL_FEE;
        assertEq(oracle.estimateFee(modelId, CB_GAS), expected);
        vm.fee(0);
        assertEq(oracle.callbackGasPrice(), GAS_PRICE);
    }

    function test_estimateFee_unknownModelAndGasCap() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(42)));
        oracle.estimateFee(42, 0);
        vm.expectRevert(abi.encodeWithSelector(GasLimitTooHigh.selector, uint256(MAX_GAS) + 1, uint256(MAX_GAS)));
        oracle.estimateFee(modelId, uint256(MAX_GAS) + 1);
    }

    // ------------------------------------------------------------------ requests

    function test_requestCallback_storesAndEmitsOAOEvent() public {
        address cb = address(new NoReceiveRequester());
        uint256 fee = oracle.estimateFee(modelId, CB_GAS);
        vm.expectEmit(address(oracle));
        emit IAIOracle.AICallbackRequest(user, 1, modelId, INPUT, cb, CB_GAS, hex"beef");
        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.RequestCreated(
            1,
            user,
            modelId,
            keccak256(INPUT),
            DeliveryMode.AtCommit,
            uint64(block.timestamp + TIMEOUT),
            MODEL_FEE,
            fee - MODEL_FEE - PROTOCOL_FEE,
            PROTOCOL_FEE
        );
        vm.prank(user);
        uint256 id = oracle.requestCallback{value: fee}(modelId, INPUT, cb, CB_GAS, hex"beef");
        assertEq(id, 1);
        Request memory r = oracle.getRequest(id);
        assertEq(r.requester, user);
        assertEq(r.callbackContract, cb);
        assertEq(r.gasLimit, CB_GAS);
        assertEq(r.modelId, modelId);
        assertEq(r.inputHash, keccak256(INPUT));
        assertEq(r.callbackData, hex"beef");
        assertEq(r.deadline, block.timestamp + TIMEOUT);
        assertEq(uint8(r.feeState), uint8(FeeState.Escrowed));
        assertEq(uint256(r.modelFee) + r.callbackFee + r.protocolFee, fee);
        assertEq(address(oracle).balance, fee);
        assertEq(oracle.requestCount(), 1);
        assertEq(uint8(oracle.getStatus(id)), uint8(RequestStatus.Requested));
        assertFalse(oracle.isFinalized(id));
    }

    function test_requestCallback_refundsExcessByPush() public {
        uint256 fee = oracle.estimateFee(modelId, 0);
        uint256 before = user.balance;
        vm.prank(user);
        oracle.requestCallback{value: fee + 1 ether}(modelId, INPUT, address(0), 0, "");
        assertEq(user.balance, before - fee);
        assertEq(address(oracle).balance, fee);
    }

    /// @dev docs/protocol.md §1.5: excess a consumer contract cannot take goes to the transaction's sender.
    function test_requestCallback_excessToFallbackWhenRequesterCannotReceive() public {
        NoReceiveRequester requester = new NoReceiveRequester();
        uint256 fee = oracle.estimateFee(modelId, 0);
        uint256 before = user.balance;
        vm.prank(user, user);
        requester.request{value: fee + 1 ether}(oracle, modelId, INPUT);
        assertEq(user.balance, before - fee);
        assertEq(oracle.pendingWithdrawal(address(requester)), 0);
        assertEq(oracle.refundAccount(1), user);
    }

    /// @dev When the fallback account cannot take a push either (an account with code that rejects ETH, e.g. an
    /// EIP-7702 delegation), it is credited, and it can withdraw.
    function test_requestCallback_creditsFallbackWhenNoPushWorks() public {
        NoReceiveRequester requester = new NoReceiveRequester();
        NoReceiveRequester origin = new NoReceiveRequester();
        uint256 fee = oracle.estimateFee(modelId, 0);
        vm.deal(address(this), 10 ether);
        vm.prank(address(this), address(origin));
        requester.request{value: fee + 1 ether}(oracle, modelId, INPUT);
        assertEq(oracle.pendingWithdrawal(address(requester)), 0);
        assertEq(oracle.pendingWithdrawal(address(origin)), 1 ether);
        address payable to = payable(makeAddr("to"));
        assertEq(origin.withdrawTo(oracle, to), 1 ether);
        assertEq(to.balance, 1 ether);
        assertEq(oracle.pendingWithdrawal(address(origin)), 0);
        vm.expectRevert(abi.encodeWithSelector(NothingToWithdraw.selector, address(origin)));
        origin.withdrawTo(oracle, to);
    }

    function test_requestCallback_rejectsBadInput() public {
        uint256 fee = oracle.estimateFee(modelId, CB_GAS);
        address cb = address(0xCB);
        vm.startPrank(user);

        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(77)));
        oracle.requestCallback{value: fee}(77, INPUT, cb, CB_GAS, "");

        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, modelId));
        oracle.requestCallback{value: fee}(modelId, "", cb, CB_GAS, "");

        vm.expectRevert(abi.encodeWithSelector(GasLimitTooHigh.selector, uint256(MAX_GAS) + 1, uint256(MAX_GAS)));
        oracle.requestCallback{value: 10 ether}(modelId, INPUT, cb, MAX_GAS + 1, "");

        vm.expectRevert(abi.encodeWithSelector(ZeroCallbackWithGas.selector, CB_GAS));
        oracle.requestCallback{value: fee}(modelId, INPUT, address(0), CB_GAS, "");

        vm.expectRevert(abi.encodeWithSelector(CallbackWithoutGas.selector, cb));
        oracle.requestCallback{value: fee}(modelId, INPUT, cb, 0, "");

        vm.expectRevert(abi.encodeWithSelector(InsufficientFee.selector, fee - 1, fee));
        oracle.requestCallback{value: fee - 1}(modelId, INPUT, cb, CB_GAS, "");
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ input length (issue 12 item 5, §3.4)

    function test_registerModel_recordsInputBytes() public {
        assertEq(oracle.getModel(modelId).inputBytes, 5);
        // int32 [2,3]: 24 bytes.
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(
            4, keccak256("w"), abi.encodePacked(uint8(2), uint8(2), uint32(2), uint32(3)), GraphTrace.int8Header(1)
        );
        uint256 id = oracle.registerModel(p);
        assertEq(oracle.getModel(id).inputBytes, 24);
        uint256 fee = oracle.estimateFee(id, 0);
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, id, uint256(24), uint256(6)));
        oracle.requestCallback{value: fee}(id, new bytes(6), address(0), 0, ""); // six int8 values are not six int32s
        oracle.requestCallback{value: fee}(id, new bytes(24), address(0), 0, "");
        vm.stopPrank();
    }

    function test_request_wrongInputLength_rejectedOnEveryPath() public {
        uint256 fee = oracle.estimateFee(modelId, CB_GAS);
        address cb = address(0xCB);
        bytes[3] memory bad = [bytes(hex"01"), bytes(hex"01020304"), bytes(hex"010203040506")];
        vm.startPrank(user);
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, modelId, uint256(5), bad[i].length));
            oracle.requestCallback{value: fee}(modelId, bad[i], cb, CB_GAS, "");
            vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, modelId, uint256(5), bad[i].length));
            oracle.requestWithOptions{value: fee}(
                RequestParams({
                    modelId: modelId,
                    input: bad[i],
                    callbackContract: cb,
                    gasLimit: CB_GAS,
                    callbackData: "",
                    deliveryMode: DeliveryMode.AtFinality,
                    deadline: 0,
                    maxFee: fee,
                    refundRecipient: address(0)
                })
            );
        }
        vm.stopPrank();
        assertEq(oracle.requestCount(), 0);
    }

    /// @dev The attack the check closes: a request whose input is not the model's input tensor could never be
    /// challenged (no honest keeper can compute a claim on it), so any operator could commit any output and collect
    /// the fee after the window. Such a request can no longer exist; the same request with the right length can be
    /// answered and challenged as usual.
    function test_request_wrongInputLength_cannotBeMadeSoNoUnchallengeableClaim() public {
        uint256 fee = oracle.estimateFee(modelId, 0);
        vm.prank(user);
        vm.expectRevert(abi.encodeWithSelector(InputLengthMismatch.selector, modelId, uint256(5), uint256(2)));
        oracle.requestCallback{value: fee}(modelId, hex"0102", address(0), 0, "");
        // Nothing to commit to: the operator's arbitrary claim has no request.
        GraphCommitments.ClaimProof memory proof = _proof(OUTPUT_A, TRACE_A);
        vm.expectRevert(abi.encodeWithSelector(UnknownRequest.selector, uint256(1)));
        vm.prank(alice);
        tm.commit(1, OUTPUT_A, proof);
        assertEq(oracle.pendingWithdrawal(alice), 0);
    }

    function test_requestWithOptions_rejectsPastDeadlineAndHighFee() public {
        uint256 fee = oracle.estimateFee(modelId, 0);
        RequestParams memory p = RequestParams({
            modelId: modelId,
            input: INPUT,
            callbackContract: address(0),
            gasLimit: 0,
            callbackData: "",
            deliveryMode: DeliveryMode.AtFinality,
            deadline: uint64(block.timestamp),
            maxFee: fee,
            refundRecipient: address(0)
        });
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(DeadlineInPast.selector, uint64(block.timestamp), block.timestamp));
        oracle.requestWithOptions{value: fee}(p);

        p.deadline = uint64(block.timestamp + 10);
        p.maxFee = fee - 1;
        vm.expectRevert(abi.encodeWithSelector(FeeAboveMax.selector, fee, fee - 1));
        oracle.requestWithOptions{value: fee}(p);

        p.maxFee = fee;
        uint256 id = oracle.requestWithOptions{value: fee}(p);
        vm.stopPrank();
        Request memory r = oracle.getRequest(id);
        assertEq(r.deadline, block.timestamp + 10);
        assertEq(uint8(r.deliveryMode), uint8(DeliveryMode.AtFinality));
    }

    function test_views_unknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(UnknownRequest.selector, uint256(5)));
        oracle.getRequest(5);
        vm.expectRevert(abi.encodeWithSelector(UnknownRequest.selector, uint256(0)));
        oracle.getRequestHeader(0);
        assertEq(uint8(oracle.getStatus(5)), uint8(RequestStatus.None));
        assertEq(oracle.getOutputHash(5), bytes32(0));
        (bytes memory out, bool fin) = oracle.getResult(5);
        assertEq(out.length, 0);
        assertFalse(fin);
        assertFalse(oracle.isFinalized(5));
    }

    // ------------------------------------------------------------------ access control

    function test_taskManagerHooks_onlyTaskManager() public {
        uint256 id = _requestNoCallback();
        address[3] memory callers = [user, owner, alice];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.startPrank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(NotTaskManager.selector, callers[i]));
            oracle.deliver(id, OUTPUT_A, callers[i]);
            vm.expectRevert(abi.encodeWithSelector(NotTaskManager.selector, callers[i]));
            oracle.settle(id, callers[i], callers[i]);
            vm.expectRevert(abi.encodeWithSelector(NotTaskManager.selector, callers[i]));
            oracle.refund(id, callers[i], 2);
            vm.stopPrank();
        }
    }

    function test_governance_onlyOwner() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        oracle.setCallbackGasPrice(2 gwei);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        oracle.setProtocolFee(0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        oracle.setTreasury(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        oracle.setTaskManager(alice);
        vm.stopPrank();
    }

    function test_governance_boundsAndOnce() public {
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(CallbackGasPriceOutOfBounds.selector, 1001 gwei, 0.01 gwei, 1000 gwei)
        );
        oracle.setCallbackGasPrice(1001 gwei);
        vm.expectRevert(abi.encodeWithSelector(CallbackGasPriceOutOfBounds.selector, 0, 0.01 gwei, 1000 gwei));
        oracle.setCallbackGasPrice(0);
        vm.expectRevert(abi.encodeWithSelector(ProtocolFeeTooHigh.selector, 2 ether, 1 ether));
        oracle.setProtocolFee(2 ether);
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        oracle.setTreasury(address(0));
        vm.expectRevert(abi.encodeWithSelector(TaskManagerAlreadySet.selector, address(tm)));
        oracle.setTaskManager(alice);

        vm.expectEmit(address(oracle));
        emit IAIOracleExtended.CallbackGasPriceSet(2 gwei);
        oracle.setCallbackGasPrice(2 gwei);
        oracle.setProtocolFee(0);
        oracle.setTreasury(alice);
        vm.stopPrank();
        assertEq(oracle.baseCallbackGasPrice(), 2 gwei);
        assertEq(oracle.protocolFee(), 0);
        assertEq(oracle.treasury(), alice);
    }

    function test_constructor_rejectsBadConfig() public {
        OracleConfig memory c = OracleConfig({
            owner: owner,
            treasury: treasury,
            callbackGasPrice: 1 gwei,
            minCallbackGasPrice: 2 gwei,
            maxCallbackGasPrice: 1 gwei,
            protocolFee: 0,
            maxProtocolFee: 0,
            maxCallbackGasLimit: 1,
            requestTimeout: 1
        });
        vm.expectRevert(abi.encodeWithSelector(InvalidOracleConfig.selector));
        new AIOracle(c);
        c.minCallbackGasPrice = 0;
        c.treasury = address(0);
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new AIOracle(c);
        c.treasury = treasury;
        c.protocolFee = 1;
        vm.expectRevert(abi.encodeWithSelector(ProtocolFeeTooHigh.selector, 1, 0));
        new AIOracle(c);
        c.protocolFee = 0;
        c.owner = address(0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AIOracle(c);
    }

    function test_isFinalized_withoutTaskManager() public {
        OracleConfig memory c = OracleConfig({
            owner: owner,
            treasury: treasury,
            callbackGasPrice: 1 gwei,
            minCallbackGasPrice: 0,
            maxCallbackGasPrice: 1 gwei,
            protocolFee: 0,
            maxProtocolFee: 0,
            maxCallbackGasLimit: 1,
            requestTimeout: 1
        });
        AIOracle lone = new AIOracle(c);
        vm.prank(modelOwner);
        uint256 m = lone.registerModel(_modelParams());
        vm.prank(user);
        uint256 id = lone.requestCallback{value: MODEL_FEE}(m, INPUT, address(0), 0, "");
        assertFalse(lone.isFinalized(id));
        assertEq(uint8(lone.getStatus(id)), uint8(RequestStatus.Requested));
        vm.warp(block.timestamp + 2);
        assertEq(uint8(lone.getStatus(id)), uint8(RequestStatus.Expired));
    }
}

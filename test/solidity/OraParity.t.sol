// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoreFixture} from "./utils/CoreFixture.sol";
import {GraphTrace} from "./utils/GraphTrace.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {AIOracle} from "../../contracts/oracle/AIOracle.sol";
import {MockAIOracle} from "../../contracts/mocks/MockAIOracle.sol";
import {IAIOracleBatch} from "../../contracts/interfaces/IAIOracleBatch.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {DeliveryMode, GameWinner, ModelParams, Request, RequestParams, RequestStatus} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev ORA's published interface, as an ORA consumer declares it (the four functions and the batch pair; DA as in
/// ORA's IAIOracle). Nothing below imports this project's interfaces.
interface IOraOracle {
    enum DA {
        Calldata,
        Blob,
        IPFS
    }

    function requestCallback(uint256, bytes memory, address, uint64, bytes memory) external payable returns (uint256);
    function estimateFee(uint256 modelId, uint256 gasLimit) external view returns (uint256);
    function isFinalized(uint256 requestId) external view returns (bool);
    function requestBatchInference(uint256, uint256, bytes memory, address, uint64, bytes memory, DA, DA)
        external
        payable
        returns (uint256);
    function estimateFeeBatch(uint256 modelId, uint256 gasLimit, uint256 batchSize) external view returns (uint256);
}

/// @dev An ORA-style prompt consumer: forwards the user's msg.value, asks for ORA's 5,000,000 callback gas, and has
/// no receive() and no way to withdraw ETH (as ORA's examples). Its callback burns `burn` gas to show the callback
/// really gets its full limit.
contract OraStyleConsumer {
    IOraOracle public immutable oracle;
    uint64 public gasLimit;
    uint256 public burn;
    mapping(uint256 => bytes) public outputOf;
    uint256 public callbacks;
    uint256 public lastErrorRequest;
    uint8 public lastErrorCode;
    bytes public lastErrorData;

    constructor(IOraOracle oracle_, uint64 gasLimit_) {
        oracle = oracle_;
        gasLimit = gasLimit_;
    }

    function setBurn(uint256 burn_) external {
        burn = burn_;
    }

    function ask(uint256 modelId, bytes calldata input) external payable returns (uint256) {
        return oracle.requestCallback{value: msg.value}(modelId, input, address(this), gasLimit, "");
    }

    function askBatch(uint256 size, uint256 modelId, bytes calldata input) external payable returns (uint256) {
        return oracle.requestBatchInference{value: msg.value}(
            size, modelId, input, address(this), gasLimit, "", IOraOracle.DA.Calldata, IOraOracle.DA.Calldata
        );
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata) external {
        require(msg.sender == address(oracle), "not oracle");
        outputOf[requestId] = output;
        ++callbacks;
        uint256 stop = gasleft() > burn ? gasleft() - burn : 0;
        while (gasleft() > stop) {}
    }

    function aiOracleCallbackError(uint256 requestId, uint8 errorCode, bytes calldata errorData, bytes calldata)
        external
    {
        require(msg.sender == address(oracle), "not oracle");
        lastErrorRequest = requestId;
        lastErrorCode = errorCode;
        lastErrorData = errorData;
    }
}

/// @dev ORA's nested-inference pattern without receive(): the user prepays both stages, the first callback makes the
/// second request from this contract's balance.
contract OraStyleNested {
    IOraOracle public immutable oracle;
    uint256 public secondModel;
    uint256 public secondRequest;

    constructor(IOraOracle oracle_, uint256 secondModel_) {
        oracle = oracle_;
        secondModel = secondModel_;
    }

    function ask(uint256 modelId, bytes calldata input) external payable returns (uint256) {
        uint256 fee = oracle.estimateFee(modelId, 500_000);
        return oracle.requestCallback{value: fee}(modelId, input, address(this), 500_000, "");
    }

    function aiOracleCallback(uint256, bytes calldata output, bytes calldata) external {
        require(msg.sender == address(oracle), "not oracle");
        if (secondRequest != 0) return;
        uint256 fee = oracle.estimateFee(secondModel, 100_000);
        secondRequest = oracle.requestCallback{value: fee}(secondModel, output, address(this), 100_000, "");
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external {}
}

/// @dev Issue 17, ORA parity: callback gas, error codes, refunds that reach someone who can use them, batches, and the
/// mock against the real oracle (docs/protocol.md §1.5, §1.8, §1.9).
contract OraParityTest is CoreFixture {
    IOraOracle internal ora;

    function setUp() public override {
        super.setUp();
        ora = IOraOracle(address(oracle));
    }

    /// @dev Every wei the oracle holds is escrowed for an open request or credited to someone.
    function _assertBalanceAccounted(uint256 escrowed, address[] memory credited) internal view {
        uint256 sum = escrowed;
        for (uint256 i; i < credited.length; ++i) sum += oracle.pendingWithdrawal(credited[i]);
        assertEq(address(oracle).balance, sum, "oracle balance = escrow + credits");
    }

    function _escrow(uint256 id) internal view returns (uint256) {
        Request memory r = oracle.getRequest(id);
        return uint256(r.modelFee) + r.callbackFee + r.protocolFee;
    }

    // ------------------------------------------------------------------ selectors

    function test_batchSelectors_matchORA() public pure {
        assertEq(IAIOracleBatch.requestBatchInference.selector, bytes4(0x409694fa));
        assertEq(IAIOracleBatch.estimateFeeBatch.selector, bytes4(0x5170b6af));
        assertEq(IOraOracle.requestBatchInference.selector, bytes4(0x409694fa));
        assertEq(AIOracle.requestBatchInference.selector, bytes4(0x409694fa));
        assertEq(MockAIOracle.estimateFeeBatch.selector, bytes4(0x5170b6af));
    }

    // ------------------------------------------------------------------ 1. ORA's callback gas

    /// @dev ORA's examples ask for 5,000,000 (Prompt) and 2,500,000 callback gas: both are accepted, quoted with the
    /// 50k overhead, and delivered with the full limit inside the keeper's commit gas bound.
    function test_oraCallbackGas_5Mand2_5M_acceptedAndDeliveredWithinKeeperBound() public {
        assertEq(oracle.maxCallbackGasLimit(), 5_000_000);
        uint64[2] memory limits = [uint64(5_000_000), uint64(2_500_000)];
        for (uint256 i; i < limits.length; ++i) {
            OraStyleConsumer c = new OraStyleConsumer(ora, limits[i]);
            c.setBurn(limits[i] - 100_000); // the callback uses nearly all its gas (storage writes take the rest)
            uint256 fee = ora.estimateFee(modelId, limits[i]);
            assertEq(fee, MODEL_FEE + (uint256(limits[i]) + 50_000) * GAS_PRICE + PROTOCOL_FEE);
            vm.prank(user, user);
            uint256 id = c.ask{value: fee}(modelId, INPUT);
            // The keeper's bound when gas estimation fails: 700k + 16 per calldata byte + gasLimit * 66 / 63 + 20k.
            GraphCommitments.ClaimProof memory proof = _proofFor(id, OUTPUT_A, TRACE_A);
            bytes memory data = abi.encodeCall(tm.commit, (id, OUTPUT_A, proof));
            uint256 bound = 700_000 + 16 * data.length + uint256(limits[i]) * 66 / 63 + 20_000;
            uint256 before = gasleft();
            vm.prank(alice, alice);
            tm.commit{gas: bound}(id, OUTPUT_A, proof);
            uint256 used = before - gasleft();
            assertLt(used, bound, "commit fits the keeper's bound");
            assertLt(bound, 30_000_000, "and a block");
            assertEq(c.callbacks(), 1);
            assertTrue(oracle.getRequest(id).lastCallbackSucceeded);
        }
        vm.expectRevert(abi.encodeWithSelector(GasLimitTooHigh.selector, uint256(5_000_001), uint256(5_000_000)));
        ora.estimateFee(modelId, 5_000_001);
    }

    // ------------------------------------------------------------------ 2. error codes

    function test_errorCodes_expiredIs2_undecidableIs3() public {
        OraStyleConsumer c = new OraStyleConsumer(ora, 200_000);
        uint256 fee = ora.estimateFee(modelId, 200_000);
        vm.prank(user, user);
        uint256 id = c.ask{value: fee}(modelId, INPUT);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper, keeper);
        tm.expire(id);
        assertEq(c.lastErrorRequest(), id);
        assertEq(c.lastErrorCode(), 2, "EXPIRED; ORA's 1 means InvalidBatchSize");
        assertEq(c.lastErrorData(), abi.encode(MODEL_FEE + PROTOCOL_FEE));

        vm.prank(user, user);
        uint256 id2 = c.ask{value: fee}(modelId, INPUT);
        _commit(alice, id2, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id2, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Undecided);
        tm.expire(id2);
        assertEq(c.lastErrorRequest(), id2);
        assertEq(c.lastErrorCode(), 3, "UNDECIDABLE");
        assertEq(oracle.ERROR_EXPIRED(), 2);
        assertEq(oracle.ERROR_UNDECIDABLE(), 3);
    }

    function test_refund_onlyTaskManager_andOnlyRefundCodes() public {
        uint256 id = _requestNoCallback();
        address[3] memory callers = [user, owner, modelOwner];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(NotTaskManager.selector, callers[i]));
            oracle.refund(id, callers[i], 2);
        }
        for (uint8 code; code < 2; ++code) {
            vm.prank(address(tm));
            vm.expectRevert(abi.encodeWithSelector(InvalidRefundCode.selector, code));
            oracle.refund(id, keeper, code);
        }
        vm.prank(address(tm));
        vm.expectRevert(abi.encodeWithSelector(InvalidRefundCode.selector, uint8(4)));
        oracle.refund(id, keeper, 4);
    }

    // ------------------------------------------------------------------ 3. refunds reach someone who can use them

    /// @dev A consumer without receive(): the user's overpayment and the expiry refund go to the user (the
    /// transaction's sender), the callback fee to the executor of the error callback; nothing is stuck.
    function test_refunds_consumerWithoutReceive_everyWeiAccounted() public {
        OraStyleConsumer c = new OraStyleConsumer(ora, 5_000_000);
        uint256 fee = ora.estimateFee(modelId, 5_000_000);
        uint256 userBefore = user.balance;
        vm.prank(user, user);
        uint256 id = c.ask{value: fee + 0.5 ether}(modelId, INPUT);
        assertEq(user.balance, userBefore - fee, "excess pushed back to the user");
        assertEq(oracle.refundAccount(id), user);
        address[] memory who = new address[](3);
        (who[0], who[1], who[2]) = (address(c), user, keeper);
        _assertBalanceAccounted(fee, who);

        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper, keeper);
        tm.expire{gas: 6_000_000}(id);
        Request memory r = oracle.getRequest(id);
        assertEq(user.balance, userBefore - r.callbackFee, "the user paid only the error callback's gas");
        assertEq(oracle.pendingWithdrawal(keeper), r.callbackFee, "the executor ran the error callback");
        assertEq(oracle.pendingWithdrawal(address(c)), 0);
        assertEq(address(c).balance, 0);
        _assertBalanceAccounted(0, who);
        vm.prank(keeper);
        oracle.withdraw(payable(keeper));
        assertEq(address(oracle).balance, 0, "nothing left behind");
    }

    /// @dev A refund recipient given at request time gets every refund, and the requester's share of a slash.
    function test_refunds_explicitRecipient_getsExcessExpiryAndSlashShare() public {
        address payable beneficiary = payable(makeAddr("beneficiary"));
        OraStyleConsumer c = new OraStyleConsumer(ora, 100_000); // any contract: here one without receive()
        uint256 fee = oracle.estimateFee(modelId, 0);
        RequestParams memory p = RequestParams({
            modelId: modelId,
            input: INPUT,
            callbackContract: address(0),
            gasLimit: 0,
            callbackData: "",
            deliveryMode: DeliveryMode.AtCommit,
            deadline: 0,
            maxFee: fee,
            refundRecipient: beneficiary
        });
        vm.deal(address(c), 10 ether);
        vm.prank(address(c), user);
        uint256 id = oracle.requestWithOptions{value: fee + 1 ether}(p);
        assertEq(beneficiary.balance, 1 ether, "excess to the explicit recipient, not the requester or tx.origin");
        assertEq(oracle.refundAccount(id), beneficiary);
        vm.warp(block.timestamp + TIMEOUT + 1);
        tm.expire(id);
        assertEq(beneficiary.balance, 1 ether + fee);

        // A slash: the requester's share goes to the refund account too.
        vm.prank(address(c), user);
        uint256 id2 = oracle.requestWithOptions{value: fee}(p);
        _commit(alice, id2, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id2, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        assertEq(token.balanceOf(beneficiary), uint256(BOND) * REQUESTER_BPS / 10_000);
        assertEq(token.balanceOf(address(c)), 0);
    }

    /// @dev Without an explicit recipient, a consumer contract's slash share goes to its fallback account (it could
    /// not claim it from the staking contract); an EOA requester keeps its own.
    function test_slashShare_consumerContract_goesToFallback() public {
        OraStyleConsumer c = new OraStyleConsumer(ora, 100_000);
        uint256 fee = ora.estimateFee(modelId, 100_000);
        vm.prank(user, user);
        uint256 id = c.ask{value: fee}(modelId, INPUT);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        (, ToyDisputeGame game) = _challenge(bob, id, OUTPUT_B, TRACE_B);
        _resolve(game, GameWinner.Challenger);
        assertEq(token.balanceOf(user), uint256(BOND) * REQUESTER_BPS / 10_000);
        assertEq(token.balanceOf(address(c)), 0, "a consumer could not move stake tokens it was paid");

        uint256 id2 = _requestNoCallback(); // from the EOA `user`
        assertEq(oracle.refundAccount(id2), user);
    }

    /// @dev A request made inside a callback: the transaction's sender is the operator committing, not the payer, so
    /// the nested request's fallback account is its parent's (the user), never the operator.
    function test_refunds_nestedRequest_fallbackIsParentsNotTheOperator() public {
        ModelParams memory mp = _modelParams();
        mp.descriptor = GraphTrace.descriptor(3, keccak256("second"), GraphTrace.int8Header(1), GraphTrace.int8Header(1));
        vm.prank(modelOwner);
        uint256 second = oracle.registerModel(mp);
        OraStyleNested n = new OraStyleNested(ora, second);
        uint256 total = ora.estimateFee(modelId, 500_000) + ora.estimateFee(second, 100_000);
        vm.prank(user, user);
        uint256 id1 = n.ask{value: total}(modelId, INPUT);
        GraphCommitments.ClaimProof memory proof = _proofFor(id1, OUTPUT_A, TRACE_A);
        vm.prank(alice, alice); // tx.origin = the operator
        tm.commit{gas: 5_000_000}(id1, OUTPUT_A, proof);
        uint256 id2 = n.secondRequest();
        assertEq(id2, 2);
        assertEq(oracle.getRequest(id2).refundRecipient, user);
        assertEq(oracle.refundAccount(id2), user);

        uint256 userBefore = user.balance;
        uint256 aliceCredit = oracle.pendingWithdrawal(alice);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(alice, alice);
        tm.expire(id2);
        Request memory r2 = oracle.getRequest(id2);
        assertEq(user.balance - userBefore, uint256(r2.modelFee) + r2.protocolFee, "refund reached the user");
        assertEq(oracle.pendingWithdrawal(alice) - aliceCredit, r2.callbackFee, "the operator got only the callback fee");
    }

    // ------------------------------------------------------------------ 4. batches

    function test_batch_makesPerItemRequests_eachAnsweredAndCalledBack() public {
        OraStyleConsumer c = new OraStyleConsumer(ora, 200_000);
        uint256 each = ora.estimateFee(modelId, 200_000);
        assertEq(ora.estimateFeeBatch(modelId, 200_000, 3), 3 * each);
        bytes memory input = bytes.concat(INPUT, hex"0a0b0c0d0e", hex"1112131415");
        uint256 userBefore = user.balance;
        vm.prank(user, user);
        uint256 first = c.askBatch{value: 3 * each + 1 ether}(3, modelId, input);
        assertEq(first, 1);
        assertEq(oracle.requestCount(), 3);
        assertEq(user.balance, userBefore - 3 * each, "one excess refund for the batch");
        for (uint256 i; i < 3; ++i) {
            Request memory r = oracle.getRequest(first + i);
            assertEq(r.requester, address(c));
            assertEq(r.gasLimit, 200_000);
            assertEq(uint8(r.deliveryMode), uint8(DeliveryMode.AtCommit));
            assertEq(r.inputHash, keccak256(_slice(input, i * 5, 5)));
            assertEq(_escrow(first + i), each);
        }
        // Each item is answered, called back and finalized on its own.
        _commit(alice, first, OUTPUT_A, TRACE_A);
        _commit(bob, first + 1, OUTPUT_B, TRACE_A);
        assertEq(c.callbacks(), 2);
        assertEq(c.outputOf(first + 1), OUTPUT_B);
        vm.warp(block.timestamp + TIMEOUT + 1);
        tm.expire(first + 2);
        assertEq(c.lastErrorRequest(), first + 2);
        assertEq(uint8(oracle.getStatus(first + 2)), uint8(RequestStatus.Refunded));
    }

    function test_batch_rejectsBadSizeInputAndDA() public {
        uint256 each = oracle.estimateFee(modelId, 0);
        bytes memory two = bytes.concat(INPUT, INPUT);
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(BatchSizeOutOfRange.selector, uint256(0), uint256(32)));
        oracle.requestBatchInference{value: each}(0, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata);
        vm.expectRevert(abi.encodeWithSelector(BatchSizeOutOfRange.selector, uint256(33), uint256(32)));
        oracle.requestBatchInference{value: each}(33, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata);
        vm.expectRevert(abi.encodeWithSelector(BatchSizeOutOfRange.selector, uint256(33), uint256(32)));
        oracle.estimateFeeBatch(modelId, 0, 33);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInputLengthMismatch.selector, modelId, uint256(3), uint256(5), uint256(15), uint256(10))
        );
        oracle.requestBatchInference{value: 3 * each}(3, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata);
        vm.expectRevert(abi.encodeWithSelector(UnsupportedDataAvailability.selector, uint8(1), uint8(0)));
        oracle.requestBatchInference{value: 2 * each}(2, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Blob, IAIOracleBatch.DA.Calldata);
        vm.expectRevert(abi.encodeWithSelector(UnsupportedDataAvailability.selector, uint8(0), uint8(2)));
        oracle.requestBatchInference{value: 2 * each}(2, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.IPFS);
        vm.expectRevert(abi.encodeWithSelector(InsufficientFee.selector, 2 * each - 1, 2 * each));
        oracle.requestBatchInference{value: 2 * each - 1}(2, modelId, two, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata);
        vm.expectRevert(abi.encodeWithSelector(EmptyInput.selector, modelId));
        oracle.requestBatchInference{value: 2 * each}(2, modelId, "", address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata);
        vm.stopPrank();
        assertEq(oracle.requestCount(), 0);
    }

    // ------------------------------------------------------------------ 5. the mock against the real oracle

    /// @dev Same inputs to both: identical quotes, excess handling, expiry refunds, executor credits and payouts.
    function _mockLikeReal() internal returns (MockAIOracle mock) {
        mock = new MockAIOracle();
        mock.setModelFee(modelId, MODEL_FEE);
        mock.setCallbackGasPrice(GAS_PRICE);
        mock.setProtocolFee(PROTOCOL_FEE);
        mock.setModelInputBytes(modelId, INPUT.length);
    }

    function test_mock_matchesRealOracle_quotes() public {
        IOraOracle m = IOraOracle(address(_mockLikeReal()));
        uint256[5] memory limits = [uint256(0), 100_000, 200_000, 2_500_000, 5_000_000];
        for (uint256 i; i < limits.length; ++i) {
            assertEq(m.estimateFee(modelId, limits[i]), ora.estimateFee(modelId, limits[i]), "quote");
            assertEq(m.estimateFeeBatch(modelId, limits[i], 4), ora.estimateFeeBatch(modelId, limits[i], 4), "batch quote");
        }
        vm.fee(3 gwei); // basefee above the governance price: both quote with the basefee
        assertEq(m.estimateFee(modelId, 200_000), ora.estimateFee(modelId, 200_000));
        vm.fee(0);
        vm.expectRevert(abi.encodeWithSelector(GasLimitTooHigh.selector, uint256(5_000_001), uint256(5_000_000)));
        m.estimateFee(modelId, 5_000_001);
    }

    /// The SDK's estimateFee reads estimateFeeParts; the mock answers it as the real oracle does.
    function test_mock_matchesRealOracle_feeParts() public {
        MockAIOracle mock = _mockLikeReal();
        uint64[3] memory limits = [uint64(0), 200_000, 5_000_000];
        for (uint256 i; i < limits.length; ++i) {
            (uint256 a, uint256 b, uint256 c) = mock.estimateFeeParts(modelId, limits[i]);
            (uint256 x, uint256 y, uint256 z) = oracle.estimateFeeParts(modelId, limits[i]);
            assertEq(a, x, "model fee");
            assertEq(b, y, "callback fee");
            assertEq(c, z, "protocol fee");
            assertEq(a + b + c, mock.estimateFee(modelId, limits[i]), "parts add up to the quote");
        }
        vm.expectRevert(abi.encodeWithSelector(GasLimitTooHigh.selector, uint256(5_000_001), uint256(5_000_000)));
        mock.estimateFeeParts(modelId, 5_000_001);
    }

    function test_mock_matchesRealOracle_excessAndExpiry() public {
        MockAIOracle mock = _mockLikeReal();
        IOraOracle m = IOraOracle(address(mock));
        // The same consumer shape (no receive) on each, the same payments, then expiry.
        OraStyleConsumer onReal = new OraStyleConsumer(ora, 200_000);
        OraStyleConsumer onMock = new OraStyleConsumer(m, 200_000);
        uint256 fee = ora.estimateFee(modelId, 200_000);
        uint256 u0 = user.balance;
        vm.prank(user, user);
        uint256 idReal = onReal.ask{value: fee + 0.3 ether}(modelId, INPUT);
        uint256 u1 = user.balance;
        vm.prank(user, user);
        uint256 idMock = onMock.ask{value: fee + 0.3 ether}(modelId, INPUT);
        uint256 u2 = user.balance;
        assertEq(u0 - u1, fee, "real kept the fee only");
        assertEq(u1 - u2, fee, "mock kept the fee only");
        assertEq(address(oracle).balance, fee);
        assertEq(address(mock).balance, fee);

        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper, keeper);
        tm.expire(idReal);
        uint256 u3 = user.balance;
        vm.prank(keeper, keeper);
        mock.expire(idMock);
        uint256 u4 = user.balance;
        assertEq(u3 - u2, u4 - u3, "same refund");
        assertEq(u3 - u2, MODEL_FEE + PROTOCOL_FEE, "callback fee not refunded when there is a callback");
        assertEq(mock.pendingWithdrawal(keeper), oracle.pendingWithdrawal(keeper), "same executor credit");
        assertEq(onMock.lastErrorCode(), onReal.lastErrorCode());
        assertEq(onMock.lastErrorData(), onReal.lastErrorData());
        assertEq(address(mock).balance, mock.pendingWithdrawal(keeper), "mock holds only the credit");

        // Without a callback, the whole fee comes back from both.
        vm.prank(user);
        uint256 r2 = oracle.requestCallback{value: MODEL_FEE + PROTOCOL_FEE}(modelId, INPUT, address(0), 0, "");
        vm.prank(user);
        uint256 m2 = mock.requestCallback{value: MODEL_FEE + PROTOCOL_FEE}(modelId, INPUT, address(0), 0, "");
        vm.warp(block.timestamp + TIMEOUT + 1);
        uint256 before = user.balance;
        tm.expire(r2);
        mock.expire(m2);
        assertEq(user.balance - before, 2 * (MODEL_FEE + PROTOCOL_FEE));
    }

    function test_mock_matchesRealOracle_deliveryAndFinality() public {
        MockAIOracle mock = _mockLikeReal();
        OraStyleConsumer onReal = new OraStyleConsumer(ora, 200_000);
        OraStyleConsumer onMock = new OraStyleConsumer(IOraOracle(address(mock)), 200_000);
        uint256 fee = ora.estimateFee(modelId, 200_000);
        // Finality: the callback fee credited to the executor of the delivery on both; the mock credits the rest to
        // its fee collector (the real oracle splits it between operator, model receiver and treasury).
        vm.prank(user, user);
        uint256 r3 = onReal.ask{value: fee}(modelId, INPUT);
        vm.prank(user, user);
        uint256 m3 = onMock.ask{value: fee}(modelId, INPUT);
        uint256 cbFee = oracle.getRequest(r3).callbackFee;
        assertEq(mock.getRequest(m3).callbackFee, cbFee);
        uint256 aliceBefore = oracle.pendingWithdrawal(alice);
        _commit(alice, r3, OUTPUT_A, TRACE_A);
        vm.prank(alice);
        mock.commitResult(m3, OUTPUT_A);
        assertEq(oracle.pendingWithdrawal(alice) - aliceBefore, cbFee);
        assertEq(mock.pendingWithdrawal(alice), cbFee);
        mock.finalize(m3);
        assertEq(mock.pendingWithdrawal(address(this)), MODEL_FEE + PROTOCOL_FEE);
    }

    function test_mock_batchAndRefundRulesLikeReal() public {
        MockAIOracle mock = new MockAIOracle();
        mock.setModelFee(modelId, MODEL_FEE);
        mock.setModelInputBytes(modelId, 5);
        OraStyleConsumer c = new OraStyleConsumer(IOraOracle(address(mock)), 100_000);
        bytes memory input = bytes.concat(INPUT, INPUT);
        uint256 userBefore = user.balance;
        vm.prank(user, user);
        uint256 first = c.askBatch{value: 2 * MODEL_FEE + 1 ether}(2, modelId, input);
        assertEq(first, 1);
        assertEq(mock.requestCount(), 2);
        assertEq(user.balance, userBefore - 2 * MODEL_FEE);
        assertEq(mock.refundAccount(1), user);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInputLengthMismatch.selector, modelId, uint256(3), uint256(5), uint256(15), uint256(10))
        );
        c.askBatch{value: 3 * MODEL_FEE}(3, modelId, input);
    }

    function _slice(bytes memory b, uint256 start, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[start + i];
    }
}

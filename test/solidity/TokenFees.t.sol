// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {MockStakeToken} from "../../contracts/mocks/MockStakeToken.sol";
import {MockAIOracle} from "../../contracts/mocks/MockAIOracle.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {IAIOracleBatch} from "../../contracts/interfaces/IAIOracleBatch.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {DeliveryMode, ModelParams, Request, RequestParams} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev Keeps 1% of every transfer: the oracle must notice the short escrow.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Taxed", "TAX") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 tax = value / 100;
            super._update(from, address(0xdead), tax);
            value -= tax;
        }
        super._update(from, to, value);
    }
}

/// @dev Calls `onTokens()` on a receiving contract after every transfer (like ERC-777 hooks), with all the gas left.
contract HookToken is ERC20 {
    constructor() ERC20("Hooked", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && to.code.length != 0) {
            try TokenHookRequester(payable(to)).onTokens() {} catch {} // contracts without the hook (the oracle)
        }
    }
}

/// @dev Pays a token-priced model; when its token refund arrives, spends ETH it holds on a new (wei) request.
contract TokenHookRequester {
    AIOracleLike public immutable oracle;
    uint256 public tokenModel;
    uint256 public weiModel;
    uint256 public made;

    constructor(AIOracleLike oracle_, uint256 tokenModel_, uint256 weiModel_, address token) {
        oracle = oracle_;
        tokenModel = tokenModel_;
        weiModel = weiModel_;
        ERC20(token).approve(address(oracle_), type(uint256).max);
    }

    function ask(bytes calldata input) external payable returns (uint256) {
        return oracle.requestCallback{value: oracle.estimateFee(tokenModel, 0)}(tokenModel, input, address(0), 0, "");
    }

    function onTokens() external {
        if (made != 0 || address(this).balance == 0) return;
        made = oracle.requestCallback{value: oracle.estimateFee(weiModel, 0)}(weiModel, hex"0102030405", address(0), 0, "");
    }

    receive() external payable {}
}

interface AIOracleLike {
    function requestCallback(uint256, bytes memory, address, uint64, bytes memory) external payable returns (uint256);
    function estimateFee(uint256, uint256) external view returns (uint256);
}

/// @dev ERC20-priced models (ORA's `ModelData.token`; docs/protocol.md §1.5): the model fee in the token, pulled with
/// transferFrom, paid out and refunded in the token; callback and protocol fees stay in wei.
contract TokenFeesTest is CoreFixture {
    uint256 internal constant TOKEN_FEE = 25e18;
    MockStakeToken internal feeToken;
    uint256 internal tokenModel;

    function setUp() public override {
        super.setUp();
        feeToken = new MockStakeToken();
        ModelParams memory p = _modelParams();
        p.fee = uint96(TOKEN_FEE);
        vm.prank(modelOwner);
        tokenModel = oracle.registerModelWithFeeToken(p, address(feeToken));
        feeToken.mint(user, 1_000e18);
        vm.prank(user);
        feeToken.approve(address(oracle), type(uint256).max);
    }

    function _tokenRequest(address callback, uint64 gasLimit, uint256 extraWei) internal returns (uint256 id) {
        uint256 fee = oracle.estimateFee(tokenModel, gasLimit);
        vm.prank(user, user);
        id = oracle.requestCallback{value: fee + extraWei}(tokenModel, INPUT, callback, gasLimit, "");
    }

    /// @dev Every fee token the oracle holds is escrowed for an open request or credited to someone.
    function _assertTokensAccounted(uint256 escrowed, address[] memory credited) internal view {
        uint256 sum = escrowed;
        for (uint256 i; i < credited.length; ++i) sum += oracle.pendingTokenWithdrawal(address(feeToken), credited[i]);
        assertEq(feeToken.balanceOf(address(oracle)), sum);
    }

    function test_register_tokenModel_recordsTokenAndRejectsNonContracts() public {
        assertEq(oracle.modelFeeToken(tokenModel), address(feeToken));
        assertTrue(oracle.getModel(tokenModel).feeInToken);
        assertEq(oracle.modelFeeToken(modelId), address(0));
        assertFalse(oracle.getModel(modelId).feeInToken);
        vm.expectRevert(abi.encodeWithSelector(UnknownModel.selector, uint256(99)));
        oracle.modelFeeToken(99);

        ModelParams memory p = _modelParams();
        vm.expectRevert(ZeroAddress.selector);
        oracle.registerModelWithFeeToken(p, address(0));
        vm.expectRevert(abi.encodeWithSelector(FeeTokenNotContract.selector, user));
        oracle.registerModelWithFeeToken(p, user);
        vm.expectEmit(address(oracle));
        emit IModelRegistry.ModelFeeToken(oracle.modelCount() + 1, address(feeToken));
        oracle.registerModelWithFeeToken(p, address(feeToken));
    }

    function test_quote_weiPartOnly_tokenPartInParts() public view {
        assertEq(oracle.estimateFee(tokenModel, 0), PROTOCOL_FEE);
        assertEq(oracle.estimateFee(tokenModel, CB_GAS), (CB_GAS + 50_000) * GAS_PRICE + PROTOCOL_FEE);
        (uint256 modelFee, uint256 callbackFee, uint256 protocolFee) = oracle.estimateFeeParts(tokenModel, CB_GAS);
        assertEq(modelFee, TOKEN_FEE);
        assertEq(callbackFee, (CB_GAS + 50_000) * GAS_PRICE);
        assertEq(protocolFee, PROTOCOL_FEE);
        assertEq(oracle.estimateFeeBatch(tokenModel, CB_GAS, 3), 3 * oracle.estimateFee(tokenModel, CB_GAS));
    }

    function test_request_pullsTokenFee_needsApproval_returnsExcessWei() public {
        uint256 tokensBefore = feeToken.balanceOf(user);
        uint256 weiBefore = user.balance;
        uint256 id = _tokenRequest(address(0), 0, 1 ether);
        assertEq(feeToken.balanceOf(user), tokensBefore - TOKEN_FEE);
        assertEq(feeToken.balanceOf(address(oracle)), TOKEN_FEE);
        assertEq(user.balance, weiBefore - PROTOCOL_FEE);
        Request memory r = oracle.getRequest(id);
        assertTrue(r.feeInToken);
        assertEq(r.modelFee, TOKEN_FEE);

        // Without an allowance the request reverts with the token's own error.
        address stranger = makeAddr("stranger");
        feeToken.mint(stranger, TOKEN_FEE);
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(oracle), 0, TOKEN_FEE)
        );
        oracle.requestCallback{value: PROTOCOL_FEE}(tokenModel, INPUT, address(0), 0, "");
    }

    function test_finalize_paysOperatorAndModelShareInToken_withdrawable() public {
        RecordingReceiver rec = new RecordingReceiver(oracle);
        uint256 id = _tokenRequest(address(rec), CB_GAS, 0);
        _commit(alice, id, OUTPUT_A, TRACE_A);
        vm.warp(block.timestamp + WINDOW + 1);
        _finalize(id);
        uint256 share = TOKEN_FEE * MODEL_SHARE_BPS / 10_000;
        assertEq(oracle.pendingTokenWithdrawal(address(feeToken), alice), TOKEN_FEE - share);
        assertEq(oracle.pendingTokenWithdrawal(address(feeToken), address(0xFEE)), share);
        // Wei parts: the callback fee to the committer that delivered, the protocol fee to the treasury.
        assertEq(oracle.pendingWithdrawal(alice), (CB_GAS + 50_000) * GAS_PRICE);
        assertEq(oracle.pendingWithdrawal(treasury), PROTOCOL_FEE);
        address[] memory who = new address[](2);
        (who[0], who[1]) = (alice, address(0xFEE));
        _assertTokensAccounted(0, who);

        vm.prank(alice);
        vm.expectRevert(ZeroAddress.selector);
        oracle.withdrawToken(address(feeToken), address(0));
        vm.prank(alice);
        assertEq(oracle.withdrawToken(address(feeToken), alice), TOKEN_FEE - share);
        assertEq(feeToken.balanceOf(alice), TOKEN_FEE - share);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(NothingToWithdraw.selector, alice));
        oracle.withdrawToken(address(feeToken), alice);
        vm.prank(address(0xFEE));
        oracle.withdrawToken(address(feeToken), address(0xFEE));
        assertEq(feeToken.balanceOf(address(oracle)), 0);
    }

    function test_expire_refundsTokenToRequester_weiAsUsual() public {
        RecordingReceiver rec = new RecordingReceiver(oracle);
        uint256 tokensBefore = feeToken.balanceOf(user);
        uint256 weiBefore = user.balance;
        uint256 id = _tokenRequest(address(rec), CB_GAS, 0);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper);
        tm.expire(id);
        assertEq(feeToken.balanceOf(user), tokensBefore, "the token fee came back");
        assertEq(user.balance, weiBefore - (CB_GAS + 50_000) * GAS_PRICE, "the protocol fee came back");
        assertEq(oracle.pendingWithdrawal(keeper), (CB_GAS + 50_000) * GAS_PRICE);
        assertEq(rec.errorAt(0).errorCode, 2);
        assertEq(rec.errorAt(0).errorData, abi.encode(PROTOCOL_FEE), "errorData: the wei refunded");
        assertEq(feeToken.balanceOf(address(oracle)), 0);
    }

    function test_expire_tokenRefundToExplicitRecipient() public {
        address beneficiary = makeAddr("beneficiary");
        vm.prank(user);
        oracle.requestWithOptions{value: PROTOCOL_FEE}(
            RequestParams({
                modelId: tokenModel,
                input: INPUT,
                callbackContract: address(0),
                gasLimit: 0,
                callbackData: "",
                deliveryMode: DeliveryMode.AtFinality,
                deadline: 0,
                maxFee: PROTOCOL_FEE,
                refundRecipient: beneficiary
            })
        );
        vm.warp(block.timestamp + TIMEOUT + 1);
        tm.expire(1);
        assertEq(feeToken.balanceOf(beneficiary), TOKEN_FEE);
        assertEq(beneficiary.balance, PROTOCOL_FEE);
    }

    function test_batch_pullsTokenFeePerItem() public {
        bytes memory input = bytes.concat(INPUT, INPUT, INPUT);
        uint256 tokensBefore = feeToken.balanceOf(user);
        vm.prank(user);
        uint256 first = oracle.requestBatchInference{value: 3 * PROTOCOL_FEE}(
            3, tokenModel, input, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        assertEq(feeToken.balanceOf(user), tokensBefore - 3 * TOKEN_FEE);
        vm.warp(block.timestamp + TIMEOUT + 1);
        for (uint256 i; i < 3; ++i) tm.expire(first + i);
        assertEq(feeToken.balanceOf(user), tokensBefore);
        assertEq(feeToken.balanceOf(address(oracle)), 0);
    }

    function test_request_feeOnTransferToken_rejected() public {
        FeeOnTransferToken taxed = new FeeOnTransferToken();
        ModelParams memory p = _modelParams();
        p.fee = uint96(TOKEN_FEE);
        uint256 taxedModel = oracle.registerModelWithFeeToken(p, address(taxed));
        taxed.mint(user, TOKEN_FEE);
        vm.startPrank(user);
        taxed.approve(address(oracle), TOKEN_FEE);
        vm.expectRevert(
            abi.encodeWithSelector(FeeTokenShortfall.selector, address(taxed), TOKEN_FEE, TOKEN_FEE - TOKEN_FEE / 100)
        );
        oracle.requestCallback{value: PROTOCOL_FEE}(taxedModel, INPUT, address(0), 0, "");
        vm.stopPrank();
    }

    /// @dev The mock prices, pulls, refunds and pays out a token-priced model as the real oracle does.
    function test_mock_tokenModel_matchesRealOracle() public {
        MockAIOracle mock = new MockAIOracle();
        mock.setModelFee(tokenModel, TOKEN_FEE);
        mock.setModelFeeToken(tokenModel, address(feeToken));
        mock.setCallbackGasPrice(GAS_PRICE);
        mock.setProtocolFee(PROTOCOL_FEE);
        assertEq(mock.estimateFee(tokenModel, CB_GAS), oracle.estimateFee(tokenModel, CB_GAS));
        assertEq(mock.estimateFee(tokenModel, 0), oracle.estimateFee(tokenModel, 0));
        vm.prank(user);
        feeToken.approve(address(mock), type(uint256).max);

        uint256 tokens0 = feeToken.balanceOf(user);
        uint256 fee = oracle.estimateFee(tokenModel, 0);
        vm.startPrank(user, user);
        uint256 idReal = oracle.requestCallback{value: fee + 1 ether}(tokenModel, INPUT, address(0), 0, "");
        uint256 idMock = mock.requestCallback{value: fee + 1 ether}(tokenModel, INPUT, address(0), 0, "");
        vm.stopPrank();
        assertEq(tokens0 - feeToken.balanceOf(user), 2 * TOKEN_FEE);
        assertEq(feeToken.balanceOf(address(oracle)), feeToken.balanceOf(address(mock)));
        assertEq(address(oracle).balance, address(mock).balance, "same wei kept");

        vm.warp(block.timestamp + TIMEOUT + 1);
        uint256 wei0 = user.balance;
        tm.expire(idReal);
        uint256 wei1 = user.balance;
        mock.expire(idMock);
        assertEq(user.balance - wei1, wei1 - wei0, "same wei refund");
        assertEq(feeToken.balanceOf(user), tokens0, "both token fees refunded");

        // Finality: the token fee becomes a token credit (the mock's fee collector; the real operator and model).
        vm.prank(user);
        uint256 id2 = mock.requestCallback{value: fee}(tokenModel, INPUT, address(0), 0, "");
        mock.fulfill(id2, OUTPUT_A);
        assertEq(mock.pendingTokenWithdrawal(address(feeToken), address(this)), TOKEN_FEE);
        assertEq(mock.withdrawToken(address(feeToken), address(this)), TOKEN_FEE);
        assertEq(feeToken.balanceOf(address(mock)), 0);
    }

    /// @dev A request made from inside a token refund (a hook token gives the recipient control with all the gas left)
    /// is paid for by the original payer: its fallback account is the parent's, not the account that called expire.
    function test_tokenRefundHook_requestTakesParentsFallback() public {
        HookToken hook = new HookToken();
        ModelParams memory p = _modelParams();
        p.fee = uint96(TOKEN_FEE);
        uint256 hookModel = oracle.registerModelWithFeeToken(p, address(hook));
        TokenHookRequester r = new TokenHookRequester(AIOracleLike(address(oracle)), hookModel, modelId, address(hook));
        hook.mint(address(r), TOKEN_FEE);
        vm.deal(address(r), 1 ether);
        vm.prank(user, user);
        uint256 id = r.ask(INPUT);
        assertEq(r.made(), 0);
        vm.warp(block.timestamp + TIMEOUT + 1);
        vm.prank(keeper, keeper);
        tm.expire(id);
        uint256 child = r.made();
        assertEq(child, id + 1, "the token refund's hook made a request");
        assertEq(oracle.getRequest(child).refundRecipient, user, "not the expire caller");
        assertEq(hook.balanceOf(address(r)), TOKEN_FEE, "the token fee came back");
    }
}

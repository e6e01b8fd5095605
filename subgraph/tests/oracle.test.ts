import { Bytes } from "@graphprotocol/graph-ts";
import { assert, beforeEach, clearStore, describe, test } from "matchstick-as/assembly/index";
import {
  AICallbackResult,
  CallbackExecuted,
  CallbackFeePaid,
  CallbackGasPriceSet,
  FeeSettled,
  ModelDeprecated,
  ModelFeeToken,
  OwnershipTransferStarted,
  OwnershipTransferred,
  PaymentCredited,
  PaymentSent,
  ProtocolFeeSet,
  RequestRefunded,
  TaskManagerSet,
  TokenPaymentCredited,
  TokenPaymentSent,
  TokenWithdrawn,
  TreasurySet,
  Withdrawn,
} from "../generated/AIOracle/AIOracle";
import {
  handleAICallbackResult,
  handleCallbackExecuted,
  handleCallbackFeePaid,
  handleCallbackGasPriceSet,
  handleFeeSettled,
  handleModelDeprecated,
  handleModelFeeToken,
  handleOwnershipTransferStarted,
  handleOwnershipTransferred,
  handlePaymentCredited,
  handlePaymentSent,
  handleProtocolFeeSet,
  handleRequestRefunded,
  handleTaskManagerSet,
  handleTokenPaymentCredited,
  handleTokenPaymentSent,
  handleTokenWithdrawn,
  handleTreasurySet,
  handleWithdrawn,
} from "../src/oracle";
import { Request } from "../generated/schema";
import { TX_FROM, addr, address, bytes32, dyn, flag, mockEvent, uint } from "./events";
import { CONSUMER, OPERATOR, OWNER, REQUESTER, makeRequest, registerModel } from "./fixtures";


function id(tx: i32, logIndex: i32): string {
  return bytes32(tx).concatI32(logIndex).toHexString();
}

describe("AIOracle", () => {
  beforeEach(() => {
    clearStore();
    registerModel(1, 1000, 100);
  });

  test("ModelRegistered creates the model and its event entity", () => {
    assert.fieldEquals("Model", "1", "owner", OWNER.toHexString());
    assert.fieldEquals("Model", "1", "modelRoot", bytes32(0xaa).toHexString());
    assert.fieldEquals("Model", "1", "nodeCount", "6");
    assert.fieldEquals("Model", "1", "feeShareBps", "2500");
    assert.fieldEquals("Model", "1", "deprecated", "false");
    assert.fieldEquals("Model", "1", "requestCount", "0");
    assert.fieldEquals("ModelRegistered", id(1, 0), "metadataURI", "ipfs://model");
  });

  test("ModelDeprecated marks the model", () => {
    handleModelDeprecated(changetype<ModelDeprecated>(mockEvent([uint(1)], 200, 2, 0)));
    assert.fieldEquals("Model", "1", "deprecated", "true");
    assert.entityCount("ModelDeprecated", 1);
  });

  test("a request's two events fill one Request", () => {
    makeRequest(7, 1, 1000, 3);
    assert.entityCount("Request", 1);
    assert.fieldEquals("Request", "7", "requester", REQUESTER.toHexString());
    assert.fieldEquals("Request", "7", "txFrom", TX_FROM.toHexString());
    assert.fieldEquals("Request", "7", "model", "1");
    assert.fieldEquals("Request", "7", "input", "0x0102");
    assert.fieldEquals("Request", "7", "callbackContract", CONSUMER.toHexString());
    assert.fieldEquals("Request", "7", "gasLimit", "200000");
    assert.fieldEquals("Request", "7", "callbackData", "0xcafe");
    assert.fieldEquals("Request", "7", "deliveryMode", "AtFinality");
    assert.fieldEquals("Request", "7", "deadline", "4600");
    assert.fieldEquals("Request", "7", "totalFee", "1230");
    assert.fieldEquals("Request", "7", "status", "Requested");
    assert.fieldEquals("Request", "7", "createdAt", "1000");
    assert.fieldEquals("Request", "7", "createdTx", bytes32(3).toHexString());
    assert.fieldEquals("Model", "1", "requestCount", "1");
    assert.fieldEquals("AICallbackRequest", id(3, 0), "requestId", "7");
    assert.fieldEquals("RequestCreated", id(3, 1), "deliveryMode", "1");
  });

  test("a request for an unindexed model fails the handler", () => {
    makeRequest(8, 99, 1000, 3);
  }, true);

  test("deliveries and callbacks are counted and linked", () => {
    makeRequest(7, 1, 1000, 3);
    handleAICallbackResult(changetype<AICallbackResult>(mockEvent([addr(REQUESTER), uint(7), addr(OPERATOR), dyn(Bytes.fromHexString("0x05"))], 1100, 4, 0)));
    handleCallbackExecuted(changetype<CallbackExecuted>(mockEvent([uint(7), addr(CONSUMER), flag(false), flag(false), dyn(Bytes.fromHexString("0xdead"))], 1100, 4, 1)));
    handleCallbackFeePaid(changetype<CallbackFeePaid>(mockEvent([uint(7), addr(OPERATOR), uint(200)], 1100, 4, 2)));
    assert.fieldEquals("Request", "7", "deliveries", "1");
    assert.fieldEquals("Request", "7", "callbackCount", "1");
    assert.fieldEquals("Request", "7", "lastCallbackSucceeded", "false");
    assert.fieldEquals("CallbackExecuted", id(4, 1), "request", "7");
    assert.fieldEquals("CallbackExecuted", id(4, 1), "returnData", "0xdead");
    assert.fieldEquals("CallbackFeePaid", id(4, 2), "amount", "200");
    let request = Request.load("7")!;
    assert.i32Equals(1, request.callbacks.load().length);
  });

  test("FeeSettled pays the operator and the model, marks the request delivered, records a fee point", () => {
    makeRequest(7, 1, 1000, 3);
    handleFeeSettled(changetype<FeeSettled>(mockEvent([uint(7), addr(OPERATOR), uint(900), addr(OWNER), uint(250), addr(address(0x7e)), uint(30)], 5000, 5, 0)));
    assert.fieldEquals("Request", "7", "status", "Delivered");
    assert.fieldEquals("Model", "1", "feesEarned", "250");
    assert.fieldEquals("Operator", OPERATOR.toHexString(), "feesEarned", "900");
    assert.entityCount("FeePoint", 1);
    assert.fieldEquals("FeePoint", "1", "modelId", "1");
    assert.fieldEquals("FeePoint", "1", "finalityLatency", "4000");
    assert.fieldEquals("FeeSettled", id(5, 0), "treasury", address(0x7e).toHexString());
  });

  test("ModelFeeToken marks a token-priced model; its operator pay stays out of the wei total", () => {
    assert.fieldEquals("Model", "1", "feeToken", "null");
    handleModelFeeToken(changetype<ModelFeeToken>(mockEvent([uint(1), addr(address(0x70))], 10, 4, 1)));
    assert.fieldEquals("Model", "1", "feeToken", address(0x70).toHexString());
    assert.fieldEquals("ModelFeeToken", id(4, 1), "token", address(0x70).toHexString());
    makeRequest(7, 1, 1000, 3);
    handleFeeSettled(changetype<FeeSettled>(mockEvent([uint(7), addr(OPERATOR), uint(900), addr(OWNER), uint(250), addr(address(0x7e)), uint(30)], 5000, 5, 0)));
    assert.fieldEquals("Model", "1", "feesEarned", "250"); // in the model's token
    assert.fieldEquals("Operator", OPERATOR.toHexString(), "feesEarned", "0"); // wei only
    assert.fieldEquals("FeeSettled", id(5, 0), "operatorPay", "900");
  });

  test("token payments and withdrawals are recorded", () => {
    handleTokenPaymentCredited(changetype<TokenPaymentCredited>(mockEvent([addr(address(0x70)), addr(OPERATOR), uint(5)], 10, 8, 0)));
    handleTokenPaymentSent(changetype<TokenPaymentSent>(mockEvent([addr(address(0x70)), addr(REQUESTER), uint(6)], 10, 8, 1)));
    handleTokenWithdrawn(changetype<TokenWithdrawn>(mockEvent([addr(address(0x70)), addr(OPERATOR), addr(OWNER), uint(5)], 10, 8, 2)));
    assert.fieldEquals("TokenPaymentCredited", id(8, 0), "account", OPERATOR.toHexString());
    assert.fieldEquals("TokenPaymentSent", id(8, 1), "amount", "6");
    assert.fieldEquals("TokenWithdrawn", id(8, 2), "to", OWNER.toHexString());
    assert.fieldEquals("TokenWithdrawn", id(8, 2), "token", address(0x70).toHexString());
  });

  test("RequestRefunded refunds the request", () => {
    makeRequest(7, 1, 1000, 3);
    handleRequestRefunded(changetype<RequestRefunded>(mockEvent([uint(7), addr(REQUESTER), uint(1230)], 9000, 6, 0)));
    assert.fieldEquals("Request", "7", "status", "Refunded");
    assert.fieldEquals("Request", "7", "refunded", "1230");
    assert.fieldEquals("RequestRefunded", id(6, 0), "amount", "1230");
  });

  test("payments and withdrawals are recorded", () => {
    handlePaymentCredited(changetype<PaymentCredited>(mockEvent([addr(REQUESTER), uint(5)], 10, 7, 0)));
    handlePaymentSent(changetype<PaymentSent>(mockEvent([addr(REQUESTER), uint(6)], 10, 7, 1)));
    handleWithdrawn(changetype<Withdrawn>(mockEvent([addr(REQUESTER), addr(OWNER), uint(5)], 10, 7, 2)));
    assert.fieldEquals("PaymentCredited", id(7, 0), "amount", "5");
    assert.fieldEquals("PaymentSent", id(7, 1), "amount", "6");
    assert.fieldEquals("OracleWithdrawn", id(7, 2), "to", OWNER.toHexString());
  });

  test("governance events are recorded as parameter and ownership changes", () => {
    handleTaskManagerSet(changetype<TaskManagerSet>(mockEvent([addr(address(0x7a))], 10, 8, 0)));
    handleCallbackGasPriceSet(changetype<CallbackGasPriceSet>(mockEvent([uint(7)], 10, 8, 1)));
    handleProtocolFeeSet(changetype<ProtocolFeeSet>(mockEvent([uint(30)], 10, 8, 2)));
    handleTreasurySet(changetype<TreasurySet>(mockEvent([addr(address(0x7e))], 10, 8, 3)));
    handleOwnershipTransferStarted(changetype<OwnershipTransferStarted>(mockEvent([addr(OWNER), addr(REQUESTER)], 10, 8, 4)));
    handleOwnershipTransferred(changetype<OwnershipTransferred>(mockEvent([addr(OWNER), addr(REQUESTER)], 10, 8, 5)));
    assert.fieldEquals("ParameterChange", id(8, 0), "account", address(0x7a).toHexString());
    assert.fieldEquals("ParameterChange", id(8, 1), "value", "7");
    assert.fieldEquals("ParameterChange", id(8, 2), "event", "ProtocolFeeSet");
    assert.fieldEquals("ParameterChange", id(8, 3), "event", "TreasurySet");
    assert.fieldEquals("OwnershipChange", id(8, 4), "completed", "false");
    assert.fieldEquals("OwnershipChange", id(8, 5), "completed", "true");
    assert.fieldEquals("OwnershipChange", id(8, 5), "contract", address(0xa1).toHexString());
  });
});

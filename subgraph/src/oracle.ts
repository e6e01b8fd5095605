// Handlers of the AIOracle data source (requests, fees, callbacks, and its model registry).
import {
  AICallbackRequest as AICallbackRequestEvent,
  AICallbackResult as AICallbackResultEvent,
  CallbackExecuted as CallbackExecutedEvent,
  CallbackFeePaid as CallbackFeePaidEvent,
  CallbackGasPriceSet,
  FeeSettled as FeeSettledEvent,
  ModelDeprecated as ModelDeprecatedEvent,
  ModelFeeToken as ModelFeeTokenEvent,
  ModelRegistered as ModelRegisteredEvent,
  OwnershipTransferStarted,
  OwnershipTransferred,
  PaymentCredited as PaymentCreditedEvent,
  PaymentSent as PaymentSentEvent,
  ProtocolFeeSet,
  RequestCreated as RequestCreatedEvent,
  RequestRefunded as RequestRefundedEvent,
  TaskManagerSet,
  TokenPaymentCredited as TokenPaymentCreditedEvent,
  TokenPaymentSent as TokenPaymentSentEvent,
  TokenWithdrawn as TokenWithdrawnEvent,
  TreasurySet,
  Withdrawn,
} from "../generated/AIOracle/AIOracle";
import {
  AICallbackRequest,
  AICallbackResult,
  CallbackExecuted,
  CallbackFeePaid,
  FeePoint,
  FeeSettled,
  Model,
  ModelDeprecated,
  ModelFeeToken,
  ModelRegistered,
  OracleWithdrawn,
  PaymentCredited,
  PaymentSent,
  RequestCreated,
  RequestRefunded,
  TokenPaymentCredited,
  TokenPaymentSent,
  TokenWithdrawn,
} from "../generated/schema";
import {
  ZERO,
  eventId,
  getOrCreateOperator,
  getOrCreateRequest,
  loadModel,
  loadRequest,
  recordOwnershipChange,
  recordParameterChange,
  stamp,
} from "./entities";

const DELIVERY_MODES = ["AtCommit", "AtFinality"];

export function handleModelRegistered(event: ModelRegisteredEvent): void {
  let p = event.params;
  let model = new Model(p.modelId.toString());
  model.modelId = p.modelId;
  model.owner = p.owner;
  model.modelRoot = p.modelRoot;
  model.absolutePrestate = p.absolutePrestate;
  model.nodeCount = p.nodeCount.toI32();
  model.fee = p.fee;
  model.feeReceiver = p.feeReceiver;
  model.feeShareBps = p.feeShareBps;
  model.metadataURI = p.metadataURI;
  model.deprecated = false;
  model.registeredAt = event.block.timestamp;
  model.registeredBlock = event.block.number;
  model.requestCount = 0;
  model.feesEarned = ZERO;
  model.save();

  let e = new ModelRegistered(eventId(event));
  e.modelId = p.modelId;
  e.owner = p.owner;
  e.modelRoot = p.modelRoot;
  e.absolutePrestate = p.absolutePrestate;
  e.nodeCount = p.nodeCount.toI32();
  e.fee = p.fee;
  e.feeReceiver = p.feeReceiver;
  e.feeShareBps = p.feeShareBps;
  e.metadataURI = p.metadataURI;
  stamp(e, event);
  e.save();
}

export function handleModelFeeToken(event: ModelFeeTokenEvent): void {
  let model = loadModel(event.params.modelId);
  model.feeToken = event.params.token;
  model.save();

  let e = new ModelFeeToken(eventId(event));
  e.modelId = event.params.modelId;
  e.token = event.params.token;
  stamp(e, event);
  e.save();
}

export function handleModelDeprecated(event: ModelDeprecatedEvent): void {
  let model = loadModel(event.params.modelId);
  model.deprecated = true;
  model.save();

  let e = new ModelDeprecated(eventId(event));
  e.modelId = event.params.modelId;
  stamp(e, event);
  e.save();
}

export function handleAICallbackRequest(event: AICallbackRequestEvent): void {
  let p = event.params;
  let request = getOrCreateRequest(p.requestId, p.modelId, event);
  request.requester = p.account;
  request.input = p.input;
  request.callbackContract = p.callbackContract;
  request.gasLimit = p.gasLimit;
  request.callbackData = p.callbackData;
  request.save();

  let e = new AICallbackRequest(eventId(event));
  e.account = p.account;
  e.requestId = p.requestId;
  e.modelId = p.modelId;
  e.input = p.input;
  e.callbackContract = p.callbackContract;
  e.gasLimit = p.gasLimit;
  e.callbackData = p.callbackData;
  stamp(e, event);
  e.save();
}

export function handleRequestCreated(event: RequestCreatedEvent): void {
  let p = event.params;
  let request = getOrCreateRequest(p.requestId, p.modelId, event);
  request.requester = p.requester;
  request.inputHash = p.inputHash;
  request.deliveryMode = DELIVERY_MODES[p.deliveryMode];
  request.deadline = p.deadline;
  request.modelFee = p.modelFee;
  request.callbackFee = p.callbackFee;
  request.protocolFee = p.protocolFee;
  request.totalFee = p.modelFee.plus(p.callbackFee).plus(p.protocolFee);
  request.save();

  let e = new RequestCreated(eventId(event));
  e.requestId = p.requestId;
  e.requester = p.requester;
  e.modelId = p.modelId;
  e.inputHash = p.inputHash;
  e.deliveryMode = p.deliveryMode;
  e.deadline = p.deadline;
  e.modelFee = p.modelFee;
  e.callbackFee = p.callbackFee;
  e.protocolFee = p.protocolFee;
  stamp(e, event);
  e.save();
}

export function handleAICallbackResult(event: AICallbackResultEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  request.deliveries = request.deliveries + 1;
  request.save();

  let e = new AICallbackResult(eventId(event));
  e.account = p.account;
  e.requestId = p.requestId;
  e.invoker = p.invoker;
  e.output = p.output;
  stamp(e, event);
  e.save();
}

export function handleCallbackExecuted(event: CallbackExecutedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  request.callbackCount = request.callbackCount + 1;
  request.lastCallbackSucceeded = p.success;
  request.save();

  let e = new CallbackExecuted(eventId(event));
  e.request = request.id;
  e.callbackContract = p.callbackContract;
  e.isError = p.isError;
  e.success = p.success;
  e.returnData = p.returnData;
  stamp(e, event);
  e.save();
}

export function handleCallbackFeePaid(event: CallbackFeePaidEvent): void {
  let e = new CallbackFeePaid(eventId(event));
  e.requestId = event.params.requestId;
  e.executor = event.params.executor;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleFeeSettled(event: FeeSettledEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  request.status = "Delivered";
  request.save();

  let model = Model.load(request.model)!;
  model.feesEarned = model.feesEarned.plus(p.modelShare);
  model.save();

  let operator = getOrCreateOperator(p.operator);
  // Operator.feesEarned is in wei: a token-priced model's pay is in its token (FeeSettled keeps it per request).
  if (model.feeToken === null) operator.feesEarned = operator.feesEarned.plus(p.operatorPay);
  operator.save();

  let point = new FeePoint(0); // graph-node assigns timeseries ids
  point.modelId = model.modelId;
  point.operatorPay = p.operatorPay;
  point.modelShare = p.modelShare;
  point.protocolFee = p.protocolFee;
  let finalizedAt = request.finalizedAt;
  point.finalityLatency = finalizedAt ? finalizedAt.minus(request.createdAt) : event.block.timestamp.minus(request.createdAt);
  point.save();

  let e = new FeeSettled(eventId(event));
  e.requestId = p.requestId;
  e.operator = p.operator;
  e.operatorPay = p.operatorPay;
  e.modelFeeReceiver = p.modelFeeReceiver;
  e.modelShare = p.modelShare;
  e.treasury = p.treasury;
  e.protocolFee = p.protocolFee;
  stamp(e, event);
  e.save();
}

export function handleRequestRefunded(event: RequestRefundedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  request.status = "Refunded";
  request.refunded = p.amount;
  request.save();

  let e = new RequestRefunded(eventId(event));
  e.requestId = p.requestId;
  e.requester = p.requester;
  e.amount = p.amount;
  stamp(e, event);
  e.save();
}

export function handlePaymentCredited(event: PaymentCreditedEvent): void {
  let e = new PaymentCredited(eventId(event));
  e.account = event.params.account;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handlePaymentSent(event: PaymentSentEvent): void {
  let e = new PaymentSent(eventId(event));
  e.account = event.params.account;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  let e = new OracleWithdrawn(eventId(event));
  e.account = event.params.account;
  e.to = event.params.to;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleTokenPaymentCredited(event: TokenPaymentCreditedEvent): void {
  let e = new TokenPaymentCredited(eventId(event));
  e.token = event.params.token;
  e.account = event.params.account;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleTokenPaymentSent(event: TokenPaymentSentEvent): void {
  let e = new TokenPaymentSent(eventId(event));
  e.token = event.params.token;
  e.account = event.params.account;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleTokenWithdrawn(event: TokenWithdrawnEvent): void {
  let e = new TokenWithdrawn(eventId(event));
  e.token = event.params.token;
  e.account = event.params.account;
  e.to = event.params.to;
  e.amount = event.params.amount;
  stamp(e, event);
  e.save();
}

export function handleTaskManagerSet(event: TaskManagerSet): void {
  recordParameterChange(event, "TaskManagerSet", event.params.taskManager, null, -1);
}

export function handleCallbackGasPriceSet(event: CallbackGasPriceSet): void {
  recordParameterChange(event, "CallbackGasPriceSet", null, event.params.callbackGasPrice, -1);
}

export function handleProtocolFeeSet(event: ProtocolFeeSet): void {
  recordParameterChange(event, "ProtocolFeeSet", null, event.params.protocolFee, -1);
}

export function handleTreasurySet(event: TreasurySet): void {
  recordParameterChange(event, "TreasurySet", event.params.treasury, null, -1);
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipChange(event, false, event.params.previousOwner, event.params.newOwner);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipChange(event, true, event.params.previousOwner, event.params.newOwner);
}

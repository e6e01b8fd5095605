// Get-or-create helpers and ids shared by the mappings (one place for each default).
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import { Claim, Model, Operator, OwnershipChange, ParameterChange, Request } from "../generated/schema";

export const ZERO = BigInt.zero();
export const ZERO_ADDRESS = Address.zero();

/** Event entity id: transaction hash ++ log index (unique per log, stable across re-indexing). */
export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

export function getOrCreateOperator(address: Bytes): Operator {
  let operator = Operator.load(address);
  if (operator == null) {
    operator = new Operator(address);
    operator.activeStake = ZERO;
    operator.lockedStake = ZERO;
    operator.unbondingStake = ZERO;
    operator.unbondingEnd = ZERO;
    operator.jailedUntil = ZERO;
    operator.totalStaked = ZERO;
    operator.totalWithdrawn = ZERO;
    operator.answered = 0;
    operator.challenges = 0;
    operator.accepted = 0;
    operator.disputesWon = 0;
    operator.disputesLost = 0;
    operator.disputesUndecided = 0;
    operator.slashCount = 0;
    operator.slashedTotal = ZERO;
    operator.feesEarned = ZERO;
    operator.rewardsCredited = ZERO;
    operator.rewardsClaimed = ZERO;
  }
  return operator;
}

/**
 * The model of `modelId`. Requests can only be made for registered models, so ModelRegistered was
 * indexed first; a missing model means the subgraph started after the registration (startBlock too
 * high), which is a deployment error worth failing on.
 */
export function loadModel(modelId: BigInt): Model {
  let model = Model.load(modelId.toString());
  if (model == null) {
    throw new Error("Model " + modelId.toString() + " is not indexed: is the AIOracle startBlock before its registration?");
  }
  return model;
}

/**
 * The request `requestId`. AICallbackRequest and RequestCreated are emitted together when a request
 * is made; whichever is handled first creates it, the other fills in its fields.
 */
export function getOrCreateRequest(requestId: BigInt, modelId: BigInt, event: ethereum.Event): Request {
  let request = Request.load(requestId.toString());
  if (request == null) {
    let model = loadModel(modelId);
    model.requestCount = model.requestCount + 1;
    model.save();
    request = new Request(requestId.toString());
    request.requestId = requestId;
    request.requester = ZERO_ADDRESS;
    request.model = model.id;
    request.input = Bytes.empty();
    request.inputHash = Bytes.empty();
    request.callbackContract = ZERO_ADDRESS;
    request.gasLimit = ZERO;
    request.callbackData = Bytes.empty();
    request.deliveryMode = "AtCommit";
    request.deadline = ZERO;
    request.modelFee = ZERO;
    request.callbackFee = ZERO;
    request.protocolFee = ZERO;
    request.totalFee = ZERO;
    request.status = "Requested";
    request.deliveries = 0;
    request.callbackCount = 0;
    request.disputeCount = 0;
    request.createdAt = event.block.timestamp;
    request.createdBlock = event.block.number;
    request.createdTx = event.transaction.hash;
    request.txFrom = event.transaction.from;
  }
  return request;
}

/** A request that must exist (every task-manager event follows the request's creation). */
export function loadRequest(requestId: BigInt): Request {
  let request = Request.load(requestId.toString());
  if (request == null) throw new Error("Request " + requestId.toString() + " is not indexed");
  return request;
}

export function loadClaim(claimId: BigInt): Claim {
  let claim = Claim.load(claimId.toString());
  if (claim == null) throw new Error("Claim " + claimId.toString() + " is not indexed");
  return claim;
}

/** Sets the block number, block timestamp and transaction hash every event entity carries. */
export function stamp<T>(entity: T, event: ethereum.Event): void {
  // Each event entity class generated from schema.graphql has these three fields; AssemblyScript
  // checks that for every T this is instantiated with.
  // @ts-ignore
  entity.blockNumber = event.block.number;
  // @ts-ignore
  entity.timestamp = event.block.timestamp;
  // @ts-ignore
  entity.transactionHash = event.transaction.hash;
}

/**
 * Records a governance parameter change. `authorised` is -1 when the event has no such
 * parameter, else 0 or 1.
 */
export function recordParameterChange(
  event: ethereum.Event,
  name: string,
  account: Address | null,
  value: BigInt | null,
  authorised: i32,
): void {
  let e = new ParameterChange(eventId(event));
  e.contract = event.address;
  e.event = name;
  if (account) e.account = account;
  if (value) e.value = value;
  if (authorised >= 0) e.authorised = authorised == 1;
  stamp(e, event);
  e.save();
}

export function recordOwnershipChange(
  event: ethereum.Event,
  completed: boolean,
  previousOwner: Address,
  newOwner: Address,
): void {
  let e = new OwnershipChange(eventId(event));
  e.contract = event.address;
  e.completed = completed;
  e.previousOwner = previousOwner;
  e.newOwner = newOwner;
  stamp(e, event);
  e.save();
}

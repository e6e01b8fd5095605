// Handlers of the TaskManager data source: claims, challenges, dispute outcomes, finality, expiry.
import { BigInt } from "@graphprotocol/graph-ts";
import {
  ClaimChallenged as ClaimChallengedEvent,
  ClaimCommitted as ClaimCommittedEvent,
  ClaimOverturned as ClaimOverturnedEvent,
  DisputeGameFactorySet,
  GameResolved as GameResolvedEvent,
  OwnershipTransferStarted,
  OwnershipTransferred,
  RequestExpired as RequestExpiredEvent,
  RequestFinalized as RequestFinalizedEvent,
} from "../generated/TaskManager/TaskManager";
import { DisputeGame } from "../generated/templates";
import {
  Claim,
  ClaimChallenged,
  ClaimCommitted,
  ClaimOverturned,
  Dispute,
  GameResolved,
  Request,
  RequestExpired,
  RequestFinalized,
  Slash,
} from "../generated/schema";
import {
  eventId,
  getOrCreateOperator,
  loadClaim,
  loadModel,
  loadRequest,
  recordOwnershipChange,
  recordParameterChange,
  stamp,
} from "./entities";

/** Committed, or Challenged while the standing claim has open games (as TaskManager.getStatus). */
function refreshOpenStatus(request: Request): void {
  if (request.status != "Committed" && request.status != "Challenged") return;
  let standing = loadClaim(BigInt.fromString(request.standingClaim!));
  request.status = standing.openGames > 0 ? "Challenged" : "Committed";
}

export function handleClaimCommitted(event: ClaimCommittedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);

  let claim = new Claim(p.claimId.toString());
  claim.claimId = p.claimId;
  claim.request = request.id;
  claim.operator = p.operator;
  claim.output = p.output;
  claim.outputHash = p.outputHash;
  claim.traceRoot = p.traceRoot;
  claim.status = "Standing";
  claim.windowEnd = p.windowEnd;
  claim.committedAt = event.block.timestamp;
  claim.transactionHash = event.transaction.hash;
  claim.openGames = 0;
  claim.save();

  request.status = "Committed";
  request.standingClaim = claim.id;
  request.output = p.output;
  request.outputHash = p.outputHash;
  request.firstCommittedAt = event.block.timestamp;
  request.commitLatency = event.block.timestamp.minus(request.createdAt);
  request.save();

  let operator = getOrCreateOperator(p.operator);
  operator.answered = operator.answered + 1;
  operator.save();

  let e = new ClaimCommitted(eventId(event));
  e.requestId = p.requestId;
  e.claimId = p.claimId;
  e.operator = p.operator;
  e.outputHash = p.outputHash;
  e.traceRoot = p.traceRoot;
  e.windowEnd = p.windowEnd;
  e.output = p.output;
  stamp(e, event);
  e.save();
}

export function handleClaimChallenged(event: ClaimChallengedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  let defender = loadClaim(p.defenderClaimId);
  defender.openGames = defender.openGames + 1;
  defender.save();

  let dispute = new Dispute(p.game);
  dispute.request = request.id;
  dispute.defenderClaim = defender.id;
  dispute.challengerClaim = p.challengerClaimId.toString();
  dispute.defender = defender.operator;
  dispute.challenger = p.challenger;
  dispute.createdAt = event.block.timestamp;
  // The game starts phase 2 over trace leaves [0, n] with both clocks running (its PhaseStarted, emitted
  // while the task manager created it, is handled right after this by the new data source).
  dispute.phase = "Graph";
  dispute.lo = BigInt.zero();
  dispute.hi = BigInt.fromI32(loadModel(BigInt.fromString(request.model)).nodeCount);
  dispute.rounds = 0;
  dispute.graphRounds = 0;
  dispute.vmRounds = 0;
  dispute.defenderPosted = false;
  dispute.challengerPosted = false;
  dispute.defenderClockUsed = BigInt.zero();
  dispute.defenderClockRunningSince = event.block.timestamp;
  dispute.challengerClockUsed = BigInt.zero();
  dispute.challengerClockRunningSince = event.block.timestamp;
  dispute.save();
  DisputeGame.create(p.game);

  let claim = new Claim(p.challengerClaimId.toString());
  claim.claimId = p.challengerClaimId;
  claim.request = request.id;
  claim.operator = p.challenger;
  claim.output = p.output;
  claim.outputHash = p.outputHash;
  claim.traceRoot = p.traceRoot;
  claim.status = "Challenging";
  claim.committedAt = event.block.timestamp;
  claim.transactionHash = event.transaction.hash;
  claim.openGames = 0;
  claim.dispute = dispute.id;
  claim.save();

  request.disputeCount = request.disputeCount + 1;
  refreshOpenStatus(request);
  request.save();

  let challenger = getOrCreateOperator(p.challenger);
  challenger.challenges = challenger.challenges + 1;
  challenger.save();

  let e = new ClaimChallenged(eventId(event));
  e.requestId = p.requestId;
  e.defenderClaimId = p.defenderClaimId;
  e.challengerClaimId = p.challengerClaimId;
  e.challenger = p.challenger;
  e.game = p.game;
  e.outputHash = p.outputHash;
  e.traceRoot = p.traceRoot;
  e.output = p.output;
  stamp(e, event);
  e.save();
}

/**
 * A game ended (TaskManager.resolveGame): the loser's claim is defeated and its operator slashed
 * (the Slashed event precedes this one in the same transaction). A winning challenger's claim is
 * released here and becomes the standing claim if ClaimOverturned follows.
 */
export function handleGameResolved(event: GameResolvedEvent): void {
  let p = event.params;
  let dispute = Dispute.load(p.game);
  if (dispute == null) throw new Error("GameResolved for unknown game " + p.game.toHexString());
  let defenderWon = p.winner == 0;
  let defender = Claim.load(dispute.defenderClaim)!;
  let challenger = Claim.load(dispute.challengerClaim)!;
  defender.openGames = defender.openGames - 1;
  if (defenderWon) {
    challenger.status = "Defeated";
  } else {
    defender.status = "Defeated";
    challenger.status = "Released";
  }
  defender.save();
  challenger.save();

  let winner = getOrCreateOperator(defenderWon ? defender.operator : challenger.operator);
  winner.disputesWon = winner.disputesWon + 1;
  winner.save();
  let loser = getOrCreateOperator(defenderWon ? challenger.operator : defender.operator);
  loser.disputesLost = loser.disputesLost + 1;
  loser.save();

  dispute.winner = defenderWon ? "Defender" : "Challenger";
  dispute.loserSlashed = p.loserSlashed;
  dispute.resolvedAt = event.block.timestamp;
  dispute.duration = event.block.timestamp.minus(dispute.createdAt);
  let lastSlash = loser.lastSlash;
  if (p.loserSlashed.gt(BigInt.zero()) && lastSlash) {
    let slash = Slash.load(lastSlash);
    if (slash != null && slash.transactionHash.equals(event.transaction.hash)) dispute.slash = slash.id;
  }
  dispute.save();

  let request = loadRequest(p.requestId);
  refreshOpenStatus(request);
  request.save();

  let e = new GameResolved(eventId(event));
  e.game = p.game;
  e.requestId = p.requestId;
  e.winner = p.winner;
  e.winnerClaimId = p.winnerClaimId;
  e.loserClaimId = p.loserClaimId;
  e.loserSlashed = p.loserSlashed;
  stamp(e, event);
  e.save();
}

export function handleClaimOverturned(event: ClaimOverturnedEvent): void {
  let p = event.params;
  let claim = loadClaim(p.newClaimId);
  claim.status = "Standing";
  claim.windowEnd = p.windowEnd;
  claim.save();

  let request = loadRequest(p.requestId);
  request.standingClaim = claim.id;
  request.output = claim.output;
  request.outputHash = claim.outputHash;
  refreshOpenStatus(request);
  request.save();

  let e = new ClaimOverturned(eventId(event));
  e.requestId = p.requestId;
  e.oldClaimId = p.oldClaimId;
  e.newClaimId = p.newClaimId;
  e.windowEnd = p.windowEnd;
  stamp(e, event);
  e.save();
}

export function handleRequestFinalized(event: RequestFinalizedEvent): void {
  let p = event.params;
  let claim = loadClaim(p.claimId);
  claim.status = "Accepted";
  claim.save();

  let request = loadRequest(p.requestId);
  request.status = "Finalized";
  request.finalizedAt = event.block.timestamp;
  request.finalityLatency = event.block.timestamp.minus(request.createdAt);
  request.save();

  let operator = getOrCreateOperator(p.operator);
  operator.accepted = operator.accepted + 1;
  operator.save();

  let e = new RequestFinalized(eventId(event));
  e.requestId = p.requestId;
  e.claimId = p.claimId;
  e.operator = p.operator;
  e.outputHash = p.outputHash;
  stamp(e, event);
  e.save();
}

export function handleRequestExpired(event: RequestExpiredEvent): void {
  let request = loadRequest(event.params.requestId);
  request.status = "Expired";
  request.expiredAt = event.block.timestamp;
  request.save();

  let e = new RequestExpired(eventId(event));
  e.requestId = event.params.requestId;
  stamp(e, event);
  e.save();
}

export function handleDisputeGameFactorySet(event: DisputeGameFactorySet): void {
  recordParameterChange(event, "DisputeGameFactorySet", event.params.factory, null, -1);
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipChange(event, false, event.params.previousOwner, event.params.newOwner);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipChange(event, true, event.params.previousOwner, event.params.newOwner);
}

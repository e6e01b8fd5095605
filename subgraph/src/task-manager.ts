// Handlers of the TaskManager data source: claims, challenges (queued or playing), dispute outcomes,
// cancellation, finality, expiry. One game at a time per standing claim (docs/protocol.md §1.6): a challenge
// posted while a game is open is queued (ChallengeQueued) and gets its game later (ClaimChallenged).
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import {
  ChallengeQueued as ChallengeQueuedEvent,
  ChallengeReleased as ChallengeReleasedEvent,
  ClaimChallenged as ClaimChallengedEvent,
  ClaimCommitted as ClaimCommittedEvent,
  ClaimOverturned as ClaimOverturnedEvent,
  DisputeGameFactorySet,
  GameResolved as GameResolvedEvent,
  OwnershipTransferStarted,
  OwnershipTransferred,
  RequestCancelled as RequestCancelledEvent,
  RequestExpired as RequestExpiredEvent,
  RequestFinalized as RequestFinalizedEvent,
} from "../generated/TaskManager/TaskManager";
import { DisputeGame } from "../generated/templates";
import {
  ChallengeQueued,
  ChallengeReleased,
  Claim,
  ClaimChallenged,
  ClaimCommitted,
  ClaimOverturned,
  Dispute,
  GameResolved,
  Request,
  RequestCancelled,
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

const OUTCOMES = ["Defender", "Challenger", "Undecided"];

/** Committed, or Challenged while the standing claim has an open game or queued challenges (as TaskManager.getStatus). */
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
  claim.finalState = p.finalState;
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
  e.finalState = p.finalState;
  e.windowEnd = p.windowEnd;
  e.output = p.output;
  stamp(e, event);
  e.save();
}

/**
 * A challenger's claim against `defender`, counted in the defender's openGames and the challenger's
 * challenges (once per claim: at ChallengeQueued, or at ClaimChallenged when the game opened at once).
 */
function newChallengerClaim(
  claimId: BigInt,
  request: Request,
  defender: Claim,
  challenger: Address,
  outputHash: Bytes,
  traceRoot: Bytes,
  finalState: Bytes,
  status: string,
  event: ethereum.Event,
): Claim {
  let claim = new Claim(claimId.toString());
  claim.claimId = claimId;
  claim.request = request.id;
  claim.operator = challenger;
  claim.outputHash = outputHash;
  claim.traceRoot = traceRoot;
  claim.finalState = finalState;
  claim.status = status;
  claim.committedAt = event.block.timestamp;
  claim.transactionHash = event.transaction.hash;
  claim.openGames = 0;
  claim.target = defender.id;

  defender.openGames = defender.openGames + 1;
  let operator = getOrCreateOperator(challenger);
  operator.challenges = operator.challenges + 1;
  operator.save();
  return claim;
}

/** A challenge posted while a game is open against the standing claim: it waits in the queue (status Queued). */
export function handleChallengeQueued(event: ChallengeQueuedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  let defender = loadClaim(p.defenderClaimId);
  let claim = newChallengerClaim(p.challengerClaimId, request, defender, p.challenger, p.outputHash, p.traceRoot, p.finalState, "Queued", event);
  claim.queuePosition = p.position;
  claim.save();
  defender.save();

  refreshOpenStatus(request);
  request.save();

  let e = new ChallengeQueued(eventId(event));
  e.requestId = p.requestId;
  e.defenderClaimId = p.defenderClaimId;
  e.challengerClaimId = p.challengerClaimId;
  e.challenger = p.challenger;
  e.position = p.position;
  e.outputHash = p.outputHash;
  e.traceRoot = p.traceRoot;
  e.finalState = p.finalState;
  stamp(e, event);
  e.save();
}

/**
 * A game opened against the standing claim: at the challenge (the claim is new), or when the previous game
 * ended with the defender winning and this queued claim was next (ChallengeQueued already made and counted it).
 */
export function handleClaimChallenged(event: ClaimChallengedEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  let defender = loadClaim(p.defenderClaimId);

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

  let claim = Claim.load(p.challengerClaimId.toString());
  if (claim == null) {
    claim = newChallengerClaim(p.challengerClaimId, request, defender, p.challenger, p.outputHash, p.traceRoot, p.finalState, "Challenging", event);
    defender.save();
  }
  claim.status = "Challenging";
  claim.output = p.output;
  claim.dispute = dispute.id;
  claim.save();

  request.disputeCount = request.disputeCount + 1;
  refreshOpenStatus(request);
  request.save();

  let e = new ClaimChallenged(eventId(event));
  e.requestId = p.requestId;
  e.defenderClaimId = p.defenderClaimId;
  e.challengerClaimId = p.challengerClaimId;
  e.challenger = p.challenger;
  e.game = p.game;
  e.outputHash = p.outputHash;
  e.traceRoot = p.traceRoot;
  e.finalState = p.finalState;
  e.output = p.output;
  stamp(e, event);
  e.save();
}

/** A queued challenge whose target no longer stands was released unslashed (TaskManager.releaseChallenge). */
export function handleChallengeReleased(event: ChallengeReleasedEvent): void {
  let p = event.params;
  let claim = loadClaim(p.claimId);
  claim.status = "Released";
  claim.save();
  let target = loadClaim(p.targetClaimId);
  target.openGames = target.openGames - 1;
  target.save();

  let request = loadRequest(p.requestId);
  refreshOpenStatus(request);
  request.save();

  let e = new ChallengeReleased(eventId(event));
  e.requestId = p.requestId;
  e.claimId = p.claimId;
  e.targetClaimId = p.targetClaimId;
  stamp(e, event);
  e.save();
}

/**
 * A game ended (TaskManager.resolveGame). Defender: the challenger's claim is defeated and its operator
 * slashed (the Slashed event precedes this one), and the next queued challenge's ClaimChallenged follows.
 * Challenger: the defender's claim is defeated and slashed, the challenger's stands (ClaimOverturned follows
 * with its window). Undecided: both claims are released unslashed and RequestCancelled follows.
 */
export function handleGameResolved(event: GameResolvedEvent): void {
  let p = event.params;
  let dispute = Dispute.load(p.game);
  if (dispute == null) throw new Error("GameResolved for unknown game " + p.game.toHexString());
  if (p.winner < 0 || p.winner >= OUTCOMES.length) throw new Error("unknown GameWinner " + p.winner.toString());
  let outcome = OUTCOMES[p.winner];
  let defender = Claim.load(dispute.defenderClaim)!;
  let challenger = Claim.load(dispute.challengerClaim)!;
  defender.openGames = defender.openGames - 1;
  if (outcome == "Defender") {
    challenger.status = "Defeated";
  } else if (outcome == "Challenger") {
    defender.status = "Defeated";
    challenger.status = "Standing";
  } else {
    defender.status = "Released";
    challenger.status = "Released";
  }
  defender.save();
  challenger.save();

  if (outcome == "Undecided") {
    let d = getOrCreateOperator(defender.operator);
    d.disputesUndecided = d.disputesUndecided + 1;
    d.save();
    let c = getOrCreateOperator(challenger.operator);
    c.disputesUndecided = c.disputesUndecided + 1;
    c.save();
  } else {
    let defenderWon = outcome == "Defender";
    let winner = getOrCreateOperator(defenderWon ? defender.operator : challenger.operator);
    winner.disputesWon = winner.disputesWon + 1;
    winner.save();
    let loser = getOrCreateOperator(defenderWon ? challenger.operator : defender.operator);
    loser.disputesLost = loser.disputesLost + 1;
    loser.save();
    let lastSlash = loser.lastSlash;
    if (p.loserSlashed.gt(BigInt.zero()) && lastSlash) {
      let slash = Slash.load(lastSlash);
      if (slash != null && slash.transactionHash.equals(event.transaction.hash)) dispute.slash = slash.id;
    }
  }

  dispute.winner = outcome;
  dispute.loserSlashed = p.loserSlashed;
  dispute.resolvedAt = event.block.timestamp;
  dispute.duration = event.block.timestamp.minus(dispute.createdAt);
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

/** An undecided game cancelled the request (after its GameResolved): no result; `expire` refunds it at once. */
export function handleRequestCancelled(event: RequestCancelledEvent): void {
  let p = event.params;
  let request = loadRequest(p.requestId);
  request.status = "Cancelled";
  request.cancelledAt = event.block.timestamp;
  request.cancelledBy = p.game;
  request.save();

  let e = new RequestCancelled(eventId(event));
  e.requestId = p.requestId;
  e.game = p.game;
  e.defenderClaimId = p.defenderClaimId;
  e.challengerClaimId = p.challengerClaimId;
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

/** `expire` refunded the request: unanswered by its deadline, or cancelled (then it stays Cancelled until RequestRefunded, in the same transaction). */
export function handleRequestExpired(event: RequestExpiredEvent): void {
  let request = loadRequest(event.params.requestId);
  if (request.status != "Cancelled") request.status = "Expired";
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

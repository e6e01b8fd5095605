import { Address, Bytes } from "@graphprotocol/graph-ts";
import { assert, beforeEach, clearStore, describe, test } from "matchstick-as/assembly/index";
import { RequestFinalized as RequestFinalizedEvent } from "../generated/TaskManager/TaskManager";
import {
  ChallengeQueued,
  ChallengeReleased,
  ClaimChallenged,
  ClaimCommitted,
  ClaimOverturned,
  DisputeGameFactorySet,
  GameResolved,
  OwnershipTransferStarted,
  OwnershipTransferred,
  RequestCancelled,
  RequestExpired,
} from "../generated/TaskManager/TaskManager";
import { Slashed } from "../generated/Staking/Staking";
import { RequestRefunded } from "../generated/AIOracle/AIOracle";
import {
  handleChallengeQueued,
  handleChallengeReleased,
  handleClaimChallenged,
  handleClaimCommitted,
  handleClaimOverturned,
  handleDisputeGameFactorySet,
  handleGameResolved,
  handleOwnershipTransferStarted,
  handleOwnershipTransferred,
  handleRequestCancelled,
  handleRequestExpired,
  handleRequestFinalized,
} from "../src/task-manager";
import { handleSlashed } from "../src/staking";
import { handleRequestRefunded } from "../src/oracle";
import { addr, address, bytes32, dyn, fixed, mockEvent, uint } from "./events";
import { makeRequest, registerModel } from "./fixtures";

const OP = address(0x22);
const CHALLENGER = address(0x33);
const CHALLENGER2 = address(0x44);
const GAME = address(0x6a);
const GAME2 = address(0x6b);

function id(tx: i32, logIndex: i32): string {
  return bytes32(tx).concatI32(logIndex).toHexString();
}

function commit(claimId: i32, output: string, timestamp: i64, tx: i32): void {
  handleClaimCommitted(
    changetype<ClaimCommitted>(
      mockEvent([uint(7), uint(claimId), addr(OP), fixed(bytes32(0x0a)), fixed(bytes32(0x0b)), fixed(bytes32(0x1b)), uint(timestamp + 600), dyn(Bytes.fromHexString(output))], timestamp, tx, 0),
    ),
  );
}

function challenge(claimId: i32, game: i32, timestamp: i64, tx: i32): void {
  openedGame(1, claimId, CHALLENGER, game, "0x09", timestamp, tx, 1);
}

/** ClaimChallenged: a game opened (at the challenge, or for the queue's head when the previous game ended). */
function openedGame(defenderClaim: i32, claimId: i32, challenger: Address, game: i32, output: string, timestamp: i64, tx: i32, logIndex: i32): void {
  handleClaimChallenged(
    changetype<ClaimChallenged>(
      mockEvent(
        [uint(7), uint(defenderClaim), uint(claimId), addr(challenger), addr(address(game)), fixed(bytes32(0x0c)), fixed(bytes32(0x0d)), fixed(bytes32(0x1d)), dyn(Bytes.fromHexString(output))],
        timestamp,
        tx,
        logIndex,
      ),
    ),
  );
}

/** ChallengeQueued: a challenge posted while a game is open against claim 1 (output hash 0x0e, trace root 0x0f). */
function queue(claimId: i32, challenger: Address, position: i32, timestamp: i64, tx: i32): void {
  handleChallengeQueued(
    changetype<ChallengeQueued>(
      mockEvent([uint(7), uint(1), uint(claimId), addr(challenger), uint(position), fixed(bytes32(0x0e)), fixed(bytes32(0x0f)), fixed(bytes32(0x1f))], timestamp, tx, 1),
    ),
  );
}

function resolve(game: i32, winner: i32, winnerClaim: i32, loserClaim: i32, slashed: i64, timestamp: i64, tx: i32): void {
  handleGameResolved(
    changetype<GameResolved>(mockEvent([addr(address(game)), uint(7), uint(winner), uint(winnerClaim), uint(loserClaim), uint(slashed)], timestamp, tx, 5)),
  );
}

describe("TaskManager", () => {
  beforeEach(() => {
    clearStore();
    registerModel(1, 1000, 100);
    makeRequest(7, 1, 1000, 3);
  });

  test("ClaimCommitted makes the standing claim and answers the request", () => {
    commit(1, "0x05", 1030, 10);
    assert.fieldEquals("Claim", "1", "status", "Standing");
    assert.fieldEquals("Claim", "1", "windowEnd", "1630");
    assert.fieldEquals("Claim", "1", "operator", OP.toHexString());
    assert.fieldEquals("Request", "7", "status", "Committed");
    assert.fieldEquals("Request", "7", "standingClaim", "1");
    assert.fieldEquals("Request", "7", "output", "0x05");
    assert.fieldEquals("Request", "7", "commitLatency", "30");
    assert.fieldEquals("Operator", OP.toHexString(), "answered", "1");
    assert.fieldEquals("ClaimCommitted", id(10, 0), "traceRoot", bytes32(0x0b).toHexString());
    assert.fieldEquals("ClaimCommitted", id(10, 0), "finalState", bytes32(0x1b).toHexString());
    assert.fieldEquals("Claim", "1", "traceRoot", bytes32(0x0b).toHexString());
    assert.fieldEquals("Claim", "1", "finalState", bytes32(0x1b).toHexString());
  });

  test("a challenge opens a dispute and marks the request challenged", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    assert.fieldEquals("Request", "7", "status", "Challenged");
    assert.fieldEquals("Request", "7", "disputeCount", "1");
    assert.fieldEquals("Claim", "1", "openGames", "1");
    assert.fieldEquals("Claim", "2", "status", "Challenging");
    assert.fieldEquals("Claim", "2", "dispute", GAME.toHexString());
    assert.fieldEquals("Claim", "2", "traceRoot", bytes32(0x0d).toHexString());
    assert.fieldEquals("Claim", "2", "finalState", bytes32(0x1d).toHexString());
    assert.fieldEquals("ClaimChallenged", id(11, 1), "finalState", bytes32(0x1d).toHexString());
    assert.fieldEquals("Dispute", GAME.toHexString(), "defender", OP.toHexString());
    assert.fieldEquals("Dispute", GAME.toHexString(), "challenger", CHALLENGER.toHexString());
    assert.fieldEquals("Dispute", GAME.toHexString(), "winner", "null");
    assert.fieldEquals("Dispute", GAME.toHexString(), "phase", "Graph");
    assert.fieldEquals("Dispute", GAME.toHexString(), "hi", "6");
    assert.dataSourceExists("DisputeGame", GAME.toHexString());
    assert.fieldEquals("Operator", CHALLENGER.toHexString(), "challenges", "1");
  });

  test("the defender wins: the challenger's claim is defeated and the dispute links the slash", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    // Staking.Slashed precedes GameResolved in the resolving transaction.
    handleSlashed(changetype<Slashed>(mockEvent([addr(CHALLENGER), uint(100), addr(OP), uint(50), addr(address(0x11)), uint(25), uint(25), uint(9000)], 1500, 12, 3)));
    resolve(0x6a, 0, 1, 2, 100, 1500, 12);
    assert.fieldEquals("Claim", "2", "status", "Defeated");
    assert.fieldEquals("Claim", "1", "status", "Standing");
    assert.fieldEquals("Claim", "1", "openGames", "0");
    assert.fieldEquals("Request", "7", "status", "Committed");
    assert.fieldEquals("Dispute", GAME.toHexString(), "winner", "Defender");
    assert.fieldEquals("Dispute", GAME.toHexString(), "duration", "400");
    assert.fieldEquals("Dispute", GAME.toHexString(), "slash", id(12, 3));
    assert.fieldEquals("Operator", OP.toHexString(), "disputesWon", "1");
    assert.fieldEquals("Operator", CHALLENGER.toHexString(), "disputesLost", "1");
  });

  test("the challenger wins: the claim is overturned and the request answers with the new output", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    resolve(0x6a, 1, 2, 1, 100, 1500, 12);
    handleClaimOverturned(changetype<ClaimOverturned>(mockEvent([uint(7), uint(1), uint(2), uint(2100)], 1500, 12, 6)));
    assert.fieldEquals("Claim", "1", "status", "Defeated");
    assert.fieldEquals("Claim", "2", "status", "Standing");
    assert.fieldEquals("Claim", "2", "windowEnd", "2100");
    assert.fieldEquals("Request", "7", "standingClaim", "2");
    assert.fieldEquals("Request", "7", "output", "0x09");
    assert.fieldEquals("Request", "7", "status", "Committed");
    assert.fieldEquals("Dispute", GAME.toHexString(), "winner", "Challenger");
    assert.fieldEquals("Operator", CHALLENGER.toHexString(), "disputesWon", "1");
    assert.fieldEquals("Operator", OP.toHexString(), "disputesLost", "1");
    assert.fieldEquals("ClaimOverturned", id(12, 6), "newClaimId", "2");
  });

  test("a challenge while a game is open is queued: a Queued claim counted in the defender's openGames", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    queue(3, CHALLENGER2, 0, 1110, 13);
    assert.fieldEquals("Claim", "3", "status", "Queued");
    assert.fieldEquals("Claim", "3", "target", "1");
    assert.fieldEquals("Claim", "3", "queuePosition", "0");
    assert.fieldEquals("Claim", "3", "outputHash", bytes32(0x0e).toHexString());
    assert.fieldEquals("Claim", "3", "output", "null");
    assert.fieldEquals("Claim", "3", "dispute", "null");
    assert.fieldEquals("Claim", "3", "committedAt", "1110");
    assert.fieldEquals("Claim", "2", "target", "1");
    assert.fieldEquals("Claim", "2", "queuePosition", "null");
    assert.fieldEquals("Claim", "1", "openGames", "2");
    assert.fieldEquals("Request", "7", "status", "Challenged");
    assert.fieldEquals("Request", "7", "disputeCount", "1");
    assert.fieldEquals("Operator", CHALLENGER2.toHexString(), "challenges", "1");
    assert.fieldEquals("ChallengeQueued", id(13, 1), "position", "0");
    assert.fieldEquals("ChallengeQueued", id(13, 1), "challenger", CHALLENGER2.toHexString());
    assert.fieldEquals("ChallengeQueued", id(13, 1), "traceRoot", bytes32(0x0f).toHexString());
    assert.fieldEquals("ChallengeQueued", id(13, 1), "finalState", bytes32(0x1f).toHexString());
    assert.fieldEquals("Claim", "3", "finalState", bytes32(0x1f).toHexString());
    assert.entityCount("Dispute", 1);
  });

  test("the defender wins and the next queued challenge gets its game, counted once", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    queue(3, CHALLENGER2, 0, 1110, 13);
    // resolveGame: GameResolved for the first game, then ClaimChallenged for the queue's head.
    resolve(0x6a, 0, 1, 2, 100, 1500, 12);
    openedGame(1, 3, CHALLENGER2, 0x6b, "0x0a", 1500, 12, 8);
    assert.fieldEquals("Claim", "2", "status", "Defeated");
    assert.fieldEquals("Claim", "3", "status", "Challenging");
    assert.fieldEquals("Claim", "3", "dispute", GAME2.toHexString());
    assert.fieldEquals("Claim", "3", "output", "0x0a");
    assert.fieldEquals("Claim", "3", "committedAt", "1110");
    assert.fieldEquals("Claim", "1", "openGames", "1");
    assert.fieldEquals("Request", "7", "status", "Challenged");
    assert.fieldEquals("Request", "7", "disputeCount", "2");
    assert.fieldEquals("Operator", CHALLENGER2.toHexString(), "challenges", "1");
    assert.fieldEquals("Dispute", GAME2.toHexString(), "createdAt", "1500");
    assert.fieldEquals("Dispute", GAME2.toHexString(), "challenger", CHALLENGER2.toHexString());
    assert.dataSourceExists("DisputeGame", GAME2.toHexString());

    resolve(0x6b, 0, 1, 3, 100, 1900, 14);
    assert.fieldEquals("Claim", "3", "status", "Defeated");
    assert.fieldEquals("Claim", "1", "openGames", "0");
    assert.fieldEquals("Request", "7", "status", "Committed");
  });

  test("the challenger wins: a challenge still queued against the defeated claim is released", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    queue(3, CHALLENGER2, 0, 1110, 13);
    resolve(0x6a, 1, 2, 1, 100, 1500, 12);
    handleClaimOverturned(changetype<ClaimOverturned>(mockEvent([uint(7), uint(1), uint(2), uint(2100)], 1500, 12, 6)));
    assert.fieldEquals("Claim", "1", "status", "Defeated");
    assert.fieldEquals("Claim", "1", "openGames", "1");
    assert.fieldEquals("Claim", "3", "status", "Queued");
    // The new standing claim has no game against it.
    assert.fieldEquals("Request", "7", "status", "Committed");

    handleChallengeReleased(changetype<ChallengeReleased>(mockEvent([uint(7), uint(3), uint(1)], 1600, 14, 0)));
    assert.fieldEquals("Claim", "3", "status", "Released");
    assert.fieldEquals("Claim", "1", "openGames", "0");
    assert.fieldEquals("Claim", "2", "status", "Standing");
    assert.fieldEquals("Request", "7", "status", "Committed");
    assert.fieldEquals("Request", "7", "disputeCount", "1");
    assert.fieldEquals("ChallengeReleased", id(14, 0), "claimId", "3");
    assert.fieldEquals("ChallengeReleased", id(14, 0), "targetClaimId", "1");
    assert.fieldEquals("Operator", CHALLENGER2.toHexString(), "disputesLost", "0");
  });

  test("an undecided game releases both claims and cancels the request; expire then refunds it", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    resolve(0x6a, 2, 1, 2, 0, 1500, 12);
    handleRequestCancelled(changetype<RequestCancelled>(mockEvent([uint(7), addr(GAME), uint(1), uint(2)], 1500, 12, 6)));
    assert.fieldEquals("Claim", "1", "status", "Released");
    assert.fieldEquals("Claim", "2", "status", "Released");
    assert.fieldEquals("Claim", "1", "openGames", "0");
    assert.fieldEquals("Dispute", GAME.toHexString(), "winner", "Undecided");
    assert.fieldEquals("Dispute", GAME.toHexString(), "loserSlashed", "0");
    assert.fieldEquals("Dispute", GAME.toHexString(), "slash", "null");
    assert.fieldEquals("Request", "7", "status", "Cancelled");
    assert.fieldEquals("Request", "7", "cancelledAt", "1500");
    assert.fieldEquals("Request", "7", "cancelledBy", GAME.toHexString());
    assert.fieldEquals("Operator", OP.toHexString(), "disputesUndecided", "1");
    assert.fieldEquals("Operator", CHALLENGER.toHexString(), "disputesUndecided", "1");
    assert.fieldEquals("Operator", OP.toHexString(), "disputesLost", "0");
    assert.fieldEquals("Operator", CHALLENGER.toHexString(), "disputesWon", "0");
    assert.fieldEquals("GameResolved", id(12, 5), "winner", "2");
    assert.fieldEquals("RequestCancelled", id(12, 6), "game", GAME.toHexString());
    assert.fieldEquals("RequestCancelled", id(12, 6), "challengerClaimId", "2");

    // expire: RequestExpired, then the oracle's RequestRefunded, in one transaction.
    handleRequestExpired(changetype<RequestExpired>(mockEvent([uint(7)], 1600, 13, 0)));
    assert.fieldEquals("Request", "7", "status", "Cancelled");
    assert.fieldEquals("Request", "7", "expiredAt", "1600");
    handleRequestRefunded(changetype<RequestRefunded>(mockEvent([uint(7), addr(address(0x11)), uint(1230)], 1600, 13, 1)));
    assert.fieldEquals("Request", "7", "status", "Refunded");
    assert.fieldEquals("Request", "7", "refunded", "1230");
  });

  test("an unknown game outcome fails the handler", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    resolve(0x6a, 3, 1, 2, 0, 1500, 12);
  }, true);

  test("RequestFinalized accepts the standing claim", () => {
    commit(1, "0x05", 1030, 10);
    handleRequestFinalized(changetype<RequestFinalizedEvent>(mockEvent([uint(7), uint(1), addr(OP), fixed(bytes32(0x0a))], 1700, 15, 0)));
    assert.fieldEquals("Claim", "1", "status", "Accepted");
    assert.fieldEquals("Request", "7", "status", "Finalized");
    assert.fieldEquals("Request", "7", "finalityLatency", "700");
    assert.fieldEquals("Operator", OP.toHexString(), "accepted", "1");
  });

  test("RequestExpired expires the request", () => {
    handleRequestExpired(changetype<RequestExpired>(mockEvent([uint(7)], 9000, 16, 0)));
    assert.fieldEquals("Request", "7", "status", "Expired");
    assert.fieldEquals("Request", "7", "expiredAt", "9000");
  });

  test("a claim for an unindexed request fails the handler", () => {
    handleClaimCommitted(
      changetype<ClaimCommitted>(mockEvent([uint(99), uint(1), addr(OP), fixed(bytes32(1)), fixed(bytes32(2)), uint(5), dyn(Bytes.fromHexString("0x01"))], 10, 17, 0)),
    );
  }, true);

  test("governance events are recorded", () => {
    handleDisputeGameFactorySet(changetype<DisputeGameFactorySet>(mockEvent([addr(address(0xfa))], 10, 18, 0)));
    handleOwnershipTransferStarted(changetype<OwnershipTransferStarted>(mockEvent([addr(OP), addr(CHALLENGER)], 10, 18, 1)));
    handleOwnershipTransferred(changetype<OwnershipTransferred>(mockEvent([addr(OP), addr(CHALLENGER)], 10, 18, 2)));
    assert.fieldEquals("ParameterChange", id(18, 0), "event", "DisputeGameFactorySet");
    assert.fieldEquals("OwnershipChange", id(18, 1), "completed", "false");
    assert.fieldEquals("OwnershipChange", id(18, 2), "completed", "true");
  });
});

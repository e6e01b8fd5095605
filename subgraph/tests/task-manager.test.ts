import { Bytes } from "@graphprotocol/graph-ts";
import { assert, beforeEach, clearStore, describe, test } from "matchstick-as/assembly/index";
import { RequestFinalized as RequestFinalizedEvent } from "../generated/TaskManager/TaskManager";
import {
  ClaimChallenged,
  ClaimCommitted,
  ClaimOverturned,
  DisputeGameFactorySet,
  GameResolved,
  OwnershipTransferStarted,
  OwnershipTransferred,
  RequestExpired,
} from "../generated/TaskManager/TaskManager";
import { Slashed } from "../generated/Staking/Staking";
import {
  handleClaimChallenged,
  handleClaimCommitted,
  handleClaimOverturned,
  handleDisputeGameFactorySet,
  handleGameResolved,
  handleOwnershipTransferStarted,
  handleOwnershipTransferred,
  handleRequestExpired,
  handleRequestFinalized,
} from "../src/task-manager";
import { handleSlashed } from "../src/staking";
import { addr, address, bytes32, dyn, fixed, mockEvent, uint } from "./events";
import { makeRequest, registerModel } from "./fixtures";

const OP = address(0x22);
const CHALLENGER = address(0x33);
const GAME = address(0x6a);

function id(tx: i32, logIndex: i32): string {
  return bytes32(tx).concatI32(logIndex).toHexString();
}

function commit(claimId: i32, output: string, timestamp: i64, tx: i32): void {
  handleClaimCommitted(
    changetype<ClaimCommitted>(
      mockEvent([uint(7), uint(claimId), addr(OP), fixed(bytes32(0x0a)), fixed(bytes32(0x0b)), uint(timestamp + 600), dyn(Bytes.fromHexString(output))], timestamp, tx, 0),
    ),
  );
}

function challenge(claimId: i32, game: i32, timestamp: i64, tx: i32): void {
  handleClaimChallenged(
    changetype<ClaimChallenged>(
      mockEvent([uint(7), uint(1), uint(claimId), addr(CHALLENGER), addr(address(game)), fixed(bytes32(0x0c)), fixed(bytes32(0x0d)), dyn(Bytes.fromHexString("0x09"))], timestamp, tx, 1),
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
  });

  test("a challenge opens a dispute and marks the request challenged", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    assert.fieldEquals("Request", "7", "status", "Challenged");
    assert.fieldEquals("Request", "7", "disputeCount", "1");
    assert.fieldEquals("Claim", "1", "openGames", "1");
    assert.fieldEquals("Claim", "2", "status", "Challenging");
    assert.fieldEquals("Claim", "2", "dispute", GAME.toHexString());
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

  test("a challenger winning against an already defeated claim is released", () => {
    commit(1, "0x05", 1030, 10);
    challenge(2, 0x6a, 1100, 11);
    challenge(3, 0x6b, 1110, 13);
    resolve(0x6a, 1, 2, 1, 100, 1500, 12);
    handleClaimOverturned(changetype<ClaimOverturned>(mockEvent([uint(7), uint(1), uint(2), uint(2100)], 1500, 12, 6)));
    resolve(0x6b, 1, 3, 1, 0, 1600, 14);
    assert.fieldEquals("Claim", "3", "status", "Released");
    assert.fieldEquals("Claim", "2", "status", "Standing");
    assert.fieldEquals("Request", "7", "standingClaim", "2");
    assert.fieldEquals("Request", "7", "disputeCount", "2");
  });

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

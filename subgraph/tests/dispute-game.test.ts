import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import { assert, beforeEach, clearStore, describe, test } from "matchstick-as/assembly/index";
import { ClaimChallenged, ClaimCommitted } from "../generated/TaskManager/TaskManager";
import {
  GameMoved,
  GameResolved,
  GameStepped,
  PhaseStarted,
  RangeNarrowed,
  VmInputsBound,
} from "../generated/templates/DisputeGame/DisputeGame";
import {
  handleGameMoved,
  handleGameResolved,
  handleGameStepped,
  handlePhaseStarted,
  handleRangeNarrowed,
  handleVmInputsBound,
} from "../src/dispute-game";
import { handleClaimChallenged, handleClaimCommitted } from "../src/task-manager";
import { addr, address, bytes32, dyn, fixed, mockEvent, uint } from "./events";
import { makeRequest, registerModel } from "./fixtures";

const OP = address(0x22);
const CHALLENGER = address(0x33);
const GAME = address(0x6a);
const G = GAME.toHexString();
const GRAPH: i32 = 0;
const VM_START: i32 = 1;
const VM: i32 = 2;
const STEP: i32 = 3;
const DEFENDER: i32 = 0;
const CHALLENGER_SIDE: i32 = 1;
const UNDECIDED: i32 = 2;
const T: i64 = 2097152; // 2^21 VM steps

function id(tx: i32, logIndex: i32): string {
  return bytes32(tx).concatI32(logIndex).toHexString();
}

/** An event of the game contract (the template's data source address). */
function gameEvent(params: ethereum.Value[], timestamp: i64, tx: i32, logIndex: i32): ethereum.Event {
  let event = mockEvent(params, timestamp, tx, logIndex);
  event.address = GAME;
  return event;
}

function u8(n: i32): ethereum.Value {
  return ethereum.Value.fromI32(n);
}

function words(values: i32[]): ethereum.Value {
  let out = new Array<Bytes>();
  for (let i = 0; i < values.length; i++) out.push(bytes32(values[i]));
  return ethereum.Value.fromFixedBytesArray(out);
}

function phaseStarted(phase: i32, lo: i64, hi: i64, timestamp: i64, tx: i32, logIndex: i32): void {
  handlePhaseStarted(changetype<PhaseStarted>(gameEvent([u8(phase), uint(lo), uint(hi)], timestamp, tx, logIndex)));
}

function moved(side: i32, phase: i32, lo: i64, hi: i64, values: i32[], timestamp: i64, tx: i32, logIndex: i32): void {
  handleGameMoved(changetype<GameMoved>(gameEvent([u8(side), u8(phase), uint(lo), uint(hi), words(values)], timestamp, tx, logIndex)));
}

/** A final VM state hash at T: its first byte is the guest's status (0 VALID, 1 INVALID, 2 PANIC, 3 UNFINISHED). */
function vmState(status: i32, tail: i32): Bytes {
  return Bytes.fromHexString("0x0" + status.toString() + tail.toString(16).padStart(62, "0"));
}

function postedFinal(side: i32, state: Bytes, timestamp: i64, tx: i32): void {
  let values = ethereum.Value.fromFixedBytesArray([state]);
  handleGameMoved(changetype<GameMoved>(gameEvent([u8(side), u8(VM_START), uint(0), uint(T), values], timestamp, tx, 0)));
}

/** Phase 2 narrowed to node 4 in one round each way, and VmStart opened at t = 1300. */
function toVmStart(): void {
  moved(CHALLENGER_SIDE, GRAPH, 0, 6, [0x31], 1150, 20, 0);
  moved(DEFENDER, GRAPH, 0, 6, [0x31], 1200, 21, 0);
  narrowed(GRAPH, 3, 6, 1200, 21, 1);
  moved(DEFENDER, GRAPH, 3, 6, [0x41], 1250, 22, 0);
  moved(CHALLENGER_SIDE, GRAPH, 3, 6, [0x42], 1300, 23, 0);
  narrowed(GRAPH, 3, 4, 1300, 23, 1);
  handleVmInputsBound(changetype<VmInputsBound>(gameEvent([uint(4), fixed(bytes32(0x33)), fixed(bytes32(0x41)), fixed(bytes32(2))], 1300, 23, 2)));
  phaseStarted(VM_START, 0, T, 1300, 23, 3);
}

function narrowed(phase: i32, lo: i64, hi: i64, timestamp: i64, tx: i32, logIndex: i32): void {
  handleRangeNarrowed(changetype<RangeNarrowed>(gameEvent([u8(phase), uint(lo), uint(hi)], timestamp, tx, logIndex)));
}

function resolved(winner: i32, timestamp: i64, tx: i32, logIndex: i32): void {
  handleGameResolved(changetype<GameResolved>(gameEvent([u8(winner)], timestamp, tx, logIndex)));
}

/** A six-node model's request, a standing claim and a challenge at t = 1100 that created the game. */
function openGame(): void {
  registerModel(1, 1000, 100);
  makeRequest(7, 1, 1000, 3);
  handleClaimCommitted(
    changetype<ClaimCommitted>(
      mockEvent([uint(7), uint(1), addr(OP), fixed(bytes32(0x0a)), fixed(bytes32(0x0b)), fixed(bytes32(0x1b)), uint(1630), dyn(Bytes.fromHexString("0x05"))], 1030, 10, 0),
    ),
  );
  handleClaimChallenged(
    changetype<ClaimChallenged>(
      mockEvent([uint(7), uint(1), uint(2), addr(CHALLENGER), addr(GAME), fixed(bytes32(0x0c)), fixed(bytes32(0x0d)), fixed(bytes32(0x1d)), dyn(Bytes.fromHexString("0x09"))], 1100, 11, 3),
    ),
  );
  // Emitted while the factory initialized the game (before ClaimChallenged), handled after it.
  phaseStarted(GRAPH, 0, 6, 1100, 11, 1);
}

describe("DisputeGame", () => {
  beforeEach(() => {
    clearStore();
    openGame();
  });

  test("the challenge creates the game's data source and a Dispute in phase 2 with both clocks running", () => {
    assert.dataSourceCount("DisputeGame", 1);
    assert.dataSourceExists("DisputeGame", G);
    assert.fieldEquals("Dispute", G, "phase", "Graph");
    assert.fieldEquals("Dispute", G, "lo", "0");
    assert.fieldEquals("Dispute", G, "hi", "6");
    assert.fieldEquals("Dispute", G, "rounds", "0");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "1100");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "1100");
    assert.fieldEquals("Dispute", G, "nodeIndex", "null");
    assert.fieldEquals("DisputePhaseStarted", id(11, 1), "dispute", G);
  });

  test("moves stop the mover's clock; a narrowed range opens the next round with both clocks running", () => {
    moved(CHALLENGER_SIDE, GRAPH, 0, 6, [0x31], 1150, 20, 0);
    assert.fieldEquals("Dispute", G, "challengerPosted", "true");
    assert.fieldEquals("Dispute", G, "challengerClockUsed", "50");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "null");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "1100");
    assert.fieldEquals("DisputeMove", id(20, 0), "side", "Challenger");
    assert.fieldEquals("DisputeMove", id(20, 0), "values", "[" + bytes32(0x31).toHexString() + "]");

    moved(DEFENDER, GRAPH, 0, 6, [0x32], 1200, 21, 0);
    narrowed(GRAPH, 3, 6, 1200, 21, 1);
    assert.fieldEquals("Dispute", G, "defenderClockUsed", "100");
    assert.fieldEquals("Dispute", G, "lo", "3");
    assert.fieldEquals("Dispute", G, "hi", "6");
    assert.fieldEquals("Dispute", G, "rounds", "1");
    assert.fieldEquals("Dispute", G, "graphRounds", "1");
    assert.fieldEquals("Dispute", G, "defenderPosted", "false");
    assert.fieldEquals("Dispute", G, "challengerPosted", "false");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "1200");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "1200");
    assert.fieldEquals("DisputeRangeNarrowed", id(21, 1), "lo", "3");
  });

  test("phase 2 ends at a node, phase 1 bisects VM steps, and a step on chain decides", () => {
    moved(CHALLENGER_SIDE, GRAPH, 0, 6, [0x31], 1150, 20, 0);
    moved(DEFENDER, GRAPH, 0, 6, [0x31], 1200, 21, 0);
    narrowed(GRAPH, 3, 6, 1200, 21, 1);
    moved(DEFENDER, GRAPH, 3, 6, [0x41], 1250, 22, 0);
    moved(CHALLENGER_SIDE, GRAPH, 3, 6, [0x42], 1300, 23, 0);
    // [3, 4]: one node wide, so phase 2 ends in the same transaction.
    narrowed(GRAPH, 3, 4, 1300, 23, 1);
    handleVmInputsBound(changetype<VmInputsBound>(gameEvent([uint(4), fixed(bytes32(0x33)), fixed(bytes32(0x41)), fixed(bytes32(2))], 1300, 23, 2)));
    phaseStarted(VM_START, 0, T, 1300, 23, 3);
    assert.fieldEquals("Dispute", G, "nodeIndex", "4");
    assert.fieldEquals("Dispute", G, "vmPreState", bytes32(0x33).toHexString());
    assert.fieldEquals("Dispute", G, "vmPostState", bytes32(0x41).toHexString());
    assert.fieldEquals("Dispute", G, "phase", "VmStart");
    assert.fieldEquals("Dispute", G, "hi", T.toString());
    assert.fieldEquals("Dispute", G, "graphRounds", "2");
    assert.fieldEquals("Dispute", G, "defenderClockUsed", "150");
    assert.fieldEquals("Dispute", G, "challengerClockUsed", "150");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "1300");
    assert.fieldEquals("DisputeVmInputsBound", id(23, 2), "localContext", bytes32(2).toHexString());

    moved(DEFENDER, VM_START, 0, T, [0x51], 1310, 24, 0);
    moved(CHALLENGER_SIDE, VM_START, 0, T, [0x52], 1320, 25, 0);
    phaseStarted(VM, 0, T, 1320, 25, 1);
    assert.fieldEquals("Dispute", G, "phase", "Vm");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "1320");
    moved(DEFENDER, VM, 0, T, [0x61], 1330, 26, 0);
    moved(CHALLENGER_SIDE, VM, 0, T, [0x62], 1340, 27, 0);
    narrowed(VM, 0, 1, 1340, 27, 1);
    phaseStarted(STEP, 0, 1, 1340, 27, 2);
    assert.fieldEquals("Dispute", G, "vmRounds", "1");
    assert.fieldEquals("Dispute", G, "rounds", "3");
    assert.fieldEquals("Dispute", G, "phase", "Step");
    assert.fieldEquals("Dispute", G, "stepStartedAt", "1340");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "null");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "null");
    assert.fieldEquals("Dispute", G, "defenderClockUsed", "170");
    assert.fieldEquals("Dispute", G, "challengerClockUsed", "190");

    handleGameStepped(changetype<GameStepped>(gameEvent([fixed(bytes32(0x61))], 1400, 28, 0)));
    resolved(DEFENDER, 1400, 28, 1);
    assert.fieldEquals("Dispute", G, "stepPostState", bytes32(0x61).toHexString());
    assert.fieldEquals("Dispute", G, "phase", "Resolved");
    assert.fieldEquals("Dispute", G, "winner", "Defender");
    assert.fieldEquals("Dispute", G, "decidedBy", "Step");
    assert.fieldEquals("DisputeGameStepped", id(28, 0), "postState", bytes32(0x61).toHexString());
    assert.fieldEquals("DisputeGameResolved", id(28, 1), "winner", "Defender");
  });

  test("a timeout decides the game and stops both clocks", () => {
    moved(CHALLENGER_SIDE, GRAPH, 0, 6, [0x31], 1150, 20, 0);
    resolved(CHALLENGER_SIDE, 3000, 21, 0);
    assert.fieldEquals("Dispute", G, "phase", "Resolved");
    assert.fieldEquals("Dispute", G, "winner", "Challenger");
    assert.fieldEquals("Dispute", G, "decidedBy", "Timeout");
    assert.fieldEquals("Dispute", G, "defenderClockUsed", "1900");
    assert.fieldEquals("Dispute", G, "challengerClockUsed", "50");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "null");
  });

  test("both sides posting the same undecidable final VM state end the game undecided, by agreement", () => {
    toVmStart();
    let unfinished = vmState(3, 0x51);
    postedFinal(DEFENDER, unfinished, 1310, 24);
    postedFinal(CHALLENGER_SIDE, unfinished, 1320, 25);
    assert.fieldEquals("Dispute", G, "defenderFinalVmState", unfinished.toHexString());
    assert.fieldEquals("Dispute", G, "challengerFinalVmState", unfinished.toHexString());
    // The game resolves in the challenger's VmStart transaction: no phase 1 bisection.
    resolved(UNDECIDED, 1320, 25, 1);
    assert.fieldEquals("Dispute", G, "phase", "Resolved");
    assert.fieldEquals("Dispute", G, "winner", "Undecided");
    assert.fieldEquals("Dispute", G, "decidedBy", "Agreement");
    assert.fieldEquals("Dispute", G, "vmRounds", "0");
    assert.fieldEquals("Dispute", G, "defenderClockRunningSince", "null");
    assert.fieldEquals("Dispute", G, "challengerClockRunningSince", "null");
    assert.fieldEquals("DisputeGameResolved", id(25, 1), "winner", "Undecided");
  });

  test("a step proving right the side whose guest had not finished ends the game undecided", () => {
    toVmStart();
    let valid = vmState(0, 0x51);
    let unfinished = vmState(3, 0x52);
    postedFinal(DEFENDER, valid, 1310, 24);
    postedFinal(CHALLENGER_SIDE, unfinished, 1320, 25);
    phaseStarted(VM, 0, T, 1320, 25, 1);
    moved(DEFENDER, VM, 0, T, [0x61], 1330, 26, 0);
    moved(CHALLENGER_SIDE, VM, 0, T, [0x62], 1340, 27, 0);
    narrowed(VM, 0, 1, 1340, 27, 1);
    phaseStarted(STEP, 0, 1, 1340, 27, 2);
    handleGameStepped(changetype<GameStepped>(gameEvent([fixed(bytes32(0x62))], 1400, 28, 0)));
    resolved(UNDECIDED, 1400, 28, 1);
    assert.fieldEquals("Dispute", G, "defenderFinalVmState", valid.toHexString());
    assert.fieldEquals("Dispute", G, "challengerFinalVmState", unfinished.toHexString());
    assert.fieldEquals("Dispute", G, "winner", "Undecided");
    assert.fieldEquals("Dispute", G, "decidedBy", "Step");
  });

  test("a timeout in VmStart decides for the side that posted", () => {
    toVmStart();
    postedFinal(DEFENDER, vmState(0, 0x51), 1310, 24);
    resolved(DEFENDER, 9000, 25, 0);
    assert.fieldEquals("Dispute", G, "winner", "Defender");
    assert.fieldEquals("Dispute", G, "decidedBy", "Timeout");
    assert.fieldEquals("Dispute", G, "challengerFinalVmState", "null");
  });

  test("an unknown game outcome fails the handler", () => {
    resolved(3, 3000, 21, 0);
  }, true);

  test("an event of a game the task manager never created fails the handler", () => {
    let event = gameEvent([u8(GRAPH), uint(0), uint(6)], 10, 30, 0);
    event.address = address(0x77);
    handlePhaseStarted(changetype<PhaseStarted>(event));
  }, true);
});

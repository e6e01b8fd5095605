// Handlers of the DisputeGame template (one data source per game, created from TaskManager's
// ClaimChallenged): the game's phase, range, rounds, chess clocks and the bound node (docs/protocol.md §5).
// The clocks follow the contract's rules from its events alone: a round (or VmStart) opening starts both
// clocks, a side's move stops its own, the step phase and the resolution stop both.
import { BigInt, Bytes } from "@graphprotocol/graph-ts";
import {
  GameMoved,
  GameResolved,
  GameStepped,
  PhaseStarted,
  RangeNarrowed,
  VmInputsBound,
} from "../generated/templates/DisputeGame/DisputeGame";
import {
  Dispute,
  DisputeGameResolved,
  DisputeGameStepped,
  DisputeMove,
  DisputePhaseStarted,
  DisputeRangeNarrowed,
  DisputeVmInputsBound,
} from "../generated/schema";
import { eventId, stamp } from "./entities";

const PHASES = ["Graph", "VmStart", "Vm", "Step", "Resolved"];
const SIDES = ["Defender", "Challenger"];
/** GameWinner: the game's outcome (docs/protocol.md §5.4). */
const OUTCOMES = ["Defender", "Challenger", "Undecided"];

function phaseName(phase: i32): string {
  if (phase < 0 || phase >= PHASES.length) throw new Error("unknown GamePhase " + phase.toString());
  return PHASES[phase];
}

function sideName(side: i32): string {
  if (side < 0 || side >= SIDES.length) throw new Error("unknown Side " + side.toString());
  return SIDES[side];
}

function outcomeName(winner: i32): string {
  if (winner < 0 || winner >= OUTCOMES.length) throw new Error("unknown GameWinner " + winner.toString());
  return OUTCOMES[winner];
}

/** The game's Dispute, made by TaskManager's ClaimChallenged handler (the only creator of this data source). */
function loadDispute(game: Bytes): Dispute {
  let dispute = Dispute.load(game);
  if (dispute == null) throw new Error("DisputeGame event for unknown game " + game.toHexString());
  return dispute;
}

/** ClockLib.start: a stopped clock starts now; a running one keeps its start. */
function startClocks(dispute: Dispute, now: BigInt): void {
  if (dispute.defenderClockRunningSince === null) dispute.defenderClockRunningSince = now;
  if (dispute.challengerClockRunningSince === null) dispute.challengerClockRunningSince = now;
}

/** ClockLib.stop for one side: add the running stretch to the used seconds. */
function stopClock(dispute: Dispute, side: i32, now: BigInt): void {
  if (side == 0) {
    let since = dispute.defenderClockRunningSince;
    if (since !== null) dispute.defenderClockUsed = dispute.defenderClockUsed.plus(now.minus(since));
    dispute.defenderClockRunningSince = null;
  } else {
    let since = dispute.challengerClockRunningSince;
    if (since !== null) dispute.challengerClockUsed = dispute.challengerClockUsed.plus(now.minus(since));
    dispute.challengerClockRunningSince = null;
  }
}

/** A round opens: nobody has posted, both owe a move, both clocks run. */
function startRound(dispute: Dispute, now: BigInt): void {
  dispute.defenderPosted = false;
  dispute.challengerPosted = false;
  startClocks(dispute, now);
}

export function handlePhaseStarted(event: PhaseStarted): void {
  let p = event.params;
  let dispute = loadDispute(event.address);
  let phase = phaseName(p.phase);
  let now = event.block.timestamp;
  dispute.phase = phase;
  dispute.lo = p.lo;
  dispute.hi = p.hi;
  if (phase == "Step") {
    // _startStep: stepping is not timed per side.
    dispute.defenderPosted = false;
    dispute.challengerPosted = false;
    stopClock(dispute, 0, now);
    stopClock(dispute, 1, now);
    dispute.stepStartedAt = now;
  } else {
    // Graph (a round, or the VmStart that follows at once for a one-node model), VmStart (both owe their
    // final hash), Vm (a round; a one-step range goes on to Step in the same transaction, stopping both
    // clocks at the same time, so starting them here adds nothing).
    startRound(dispute, now);
  }
  dispute.save();

  let e = new DisputePhaseStarted(eventId(event));
  e.dispute = dispute.id;
  e.phase = phase;
  e.lo = p.lo;
  e.hi = p.hi;
  stamp(e, event);
  e.save();
}

export function handleGameMoved(event: GameMoved): void {
  let p = event.params;
  let dispute = loadDispute(event.address);
  let side = i32(p.side);
  let phase = phaseName(p.phase);
  if (side == 0) dispute.defenderPosted = true;
  else dispute.challengerPosted = true;
  // VmStart: the one value is the side's VM state hash at T, whose status byte says what its guest decides.
  if (phase == "VmStart" && p.values.length == 1) {
    if (side == 0) dispute.defenderFinalVmState = p.values[0];
    else dispute.challengerFinalVmState = p.values[0];
  }
  stopClock(dispute, side, event.block.timestamp);
  dispute.save();

  let e = new DisputeMove(eventId(event));
  e.dispute = dispute.id;
  e.side = sideName(side);
  e.phase = phase;
  e.lo = p.lo;
  e.hi = p.hi;
  e.values = changetype<Bytes[]>(p.values);
  stamp(e, event);
  e.save();
}

export function handleRangeNarrowed(event: RangeNarrowed): void {
  let p = event.params;
  let dispute = loadDispute(event.address);
  let phase = phaseName(p.phase);
  dispute.lo = p.lo;
  dispute.hi = p.hi;
  dispute.rounds = dispute.rounds + 1;
  if (phase == "Graph") dispute.graphRounds = dispute.graphRounds + 1;
  else dispute.vmRounds = dispute.vmRounds + 1;
  // Still wider than one position: the next round opens at once. Otherwise the phase ends and
  // VmInputsBound / PhaseStarted follow in this transaction.
  if (p.hi.gt(p.lo.plus(BigInt.fromI32(1)))) startRound(dispute, event.block.timestamp);
  dispute.save();

  let e = new DisputeRangeNarrowed(eventId(event));
  e.dispute = dispute.id;
  e.phase = phase;
  e.lo = p.lo;
  e.hi = p.hi;
  stamp(e, event);
  e.save();
}

export function handleVmInputsBound(event: VmInputsBound): void {
  let p = event.params;
  let dispute = loadDispute(event.address);
  dispute.nodeIndex = p.nodeIndex;
  dispute.vmPreState = p.preState;
  dispute.vmPostState = p.postState;
  dispute.save();

  let e = new DisputeVmInputsBound(eventId(event));
  e.dispute = dispute.id;
  e.nodeIndex = p.nodeIndex;
  e.preState = p.preState;
  e.postState = p.postState;
  e.localContext = p.localContext;
  stamp(e, event);
  e.save();
}

export function handleGameStepped(event: GameStepped): void {
  let dispute = loadDispute(event.address);
  dispute.stepPostState = event.params.postState;
  dispute.save();

  let e = new DisputeGameStepped(eventId(event));
  e.dispute = dispute.id;
  e.postState = event.params.postState;
  stamp(e, event);
  e.save();
}

/**
 * The game decided (TaskManager.GameResolved, handled by task-manager.ts, follows in the same transaction
 * with the slash and the claims' fate). A step emits GameStepped first; an Undecided outcome still in
 * VmStart means both sides posted the same undecidable final VM state; anything else was a timeout.
 */
export function handleGameResolved(event: GameResolved): void {
  let dispute = loadDispute(event.address);
  let now = event.block.timestamp;
  let winner = outcomeName(i32(event.params.winner));
  let stepped = dispute.stepPostState !== null && dispute.phase == "Step";
  let agreed = winner == "Undecided" && dispute.phase == "VmStart";
  dispute.phase = "Resolved";
  dispute.winner = winner;
  dispute.decidedBy = stepped ? "Step" : agreed ? "Agreement" : "Timeout";
  stopClock(dispute, 0, now);
  stopClock(dispute, 1, now);
  dispute.save();

  let e = new DisputeGameResolved(eventId(event));
  e.dispute = dispute.id;
  e.winner = winner;
  stamp(e, event);
  e.save();
}

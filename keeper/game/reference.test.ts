import { describe, expect, it } from "vitest";
import { VmStatus } from "../vm/state.ts";
import { GameRevert, ReferenceGame } from "./reference.ts";
import { requiredFinalStatus, solve } from "./solver.ts";
import { toyAbsolutePrestate, toyStepVerifier, toyTraces, toyWorld } from "./toy.ts";
import { fakeStateHash } from "./lying.ts";
import type { DisputeTraces } from "./trace-provider.ts";
import { type Action, GamePhase, GameWinner, type Hex, Side } from "./types.ts";

const world = toyWorld(8, 12n);
const honest = toyTraces(world);
const liar = toyTraces(world, { graphLieFrom: 5, vmLieFrom: 4n, vmLieStatus: VmStatus.VALID, vmFinalPosition: 32n, salt: "ref" });
const CLOCK = 600n;

function game(): ReferenceGame {
  return new ReferenceGame({
    address: "0x000000000000000000000000000000000000beef",
    nodeCount: 8,
    state0: honest.graph.valueAt(0n),
    stateN: [liar.graph.valueAt(8n), honest.graph.valueAt(8n)],
    traceRoots: [liar.graph.traceRoot, honest.graph.traceRoot],
    modelRoot: `0x${"22".repeat(32)}`,
    absolutePrestate: toyAbsolutePrestate(world),
    graphWidthBits: 1,
    vmWidthBits: 1,
    vmTraceDepth: 5,
    clockDuration: CLOCK,
    startTime: 100n,
    localContext: `0x${"00".repeat(32)}`,
    verifier: toyStepVerifier(world),
  });
}

function reverts(fn: () => unknown, error: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GameRevert);
    expect((e as GameRevert).error).toBe(error);
    return;
  }
  throw new Error(`expected a ${error} revert`);
}

function act(g: ReferenceGame, side: Side, traces: DisputeTraces, now: bigint): Action[] {
  const actions = solve(g.view(now), side, traces);
  for (const a of actions) {
    if (a.kind === "moveGraph") g.moveGraph(side, a.states, a.proofs, now);
    else if (a.kind === "postFinalVmState") g.postFinalVmState(side, a.vmStateHash, now);
    else if (a.kind === "moveVm") g.moveVm(side, a.vmStateHashes, now);
    else if (a.kind === "step") g.step(a.preState, a.proof, now);
    else if (a.kind === "claimTimeout") g.claimTimeout(now);
  }
  return actions;
}

/** Plays both sides until the phase is `phase`. */
function playUntil(g: ReferenceGame, phase: GamePhase, now = 200n): void {
  while (g.view(now).phase !== phase) {
    act(g, Side.Defender, liar, now);
    act(g, Side.Challenger, honest, now);
  }
}

describe("reference game model: what it refuses", () => {
  it("a graph state with a proof against the other side's root, or a wrong value", () => {
    const g = game();
    const v = g.view(100n);
    const states = v.roundPoints.map((p) => honest.graph.valueAt(p));
    const proofs = v.roundPoints.map((p) => honest.graph.proofAt(p));
    reverts(() => g.moveGraph(Side.Defender, states, proofs, 110n), "InvalidTraceProof"); // honest proofs, liar's root
    const bad = [...states];
    bad[0] = `0x${"00".repeat(32)}`;
    reverts(() => g.moveGraph(Side.Challenger, bad, proofs, 110n), "InvalidTraceProof");
    reverts(() => g.moveGraph(Side.Challenger, states.slice(1), proofs.slice(1), 110n), "WrongValueCount");
    g.moveGraph(Side.Challenger, states, proofs, 110n);
    reverts(() => g.moveGraph(Side.Challenger, states, proofs, 120n), "AlreadyPosted");
  });

  it("moves out of phase, a post after the clock ran out, an early timeout claim", () => {
    const g = game();
    reverts(() => g.moveVm(Side.Defender, [], 110n), "WrongPhase");
    reverts(() => g.postFinalVmState(Side.Defender, `0x${"00".repeat(32)}`, 110n), "WrongPhase");
    reverts(() => g.step("0x", "0x", 110n), "WrongPhase");
    reverts(() => g.claimTimeout(100n + CLOCK), "NotTimedOut");
    const v = g.view(100n);
    reverts(
      () => g.moveGraph(Side.Challenger, v.roundPoints.map((p) => honest.graph.valueAt(p)), v.roundPoints.map((p) => honest.graph.proofAt(p)), 101n + CLOCK),
      "ClockExpired",
    );
    // Both ran out: the challenger loses.
    expect(g.claimTimeout(101n + CLOCK)).toBe(Side.Defender);
    reverts(() => g.claimTimeout(200n + CLOCK), "GameNotInProgress");
  });

  it("binds the phase-1 inputs itself and checks the final statuses", () => {
    const g = game();
    playUntil(g, GamePhase.VmStart);
    const inputs = g.boundInputs!;
    expect(inputs.nodeIndex).toBe(5n);
    expect(inputs.preState).toBe(honest.graph.valueAt(4n));
    expect(inputs.postState).toBe(liar.graph.valueAt(5n));
    const valid = fakeStateHash("x", 1n, VmStatus.VALID);
    const invalid = fakeStateHash("x", 1n, VmStatus.INVALID);
    reverts(() => g.postFinalVmState(Side.Defender, invalid, 300n), "WrongFinalStatus");
    reverts(() => g.postFinalVmState(Side.Challenger, valid, 300n), "WrongFinalStatus");
    reverts(() => g.postFinalVmState(Side.Challenger, fakeStateHash("x", 1n, VmStatus.VALID), 300n), "WrongFinalStatus");
    expect(requiredFinalStatus(Side.Defender)).toBe(VmStatus.VALID);
    // Either side may say the guest cannot decide (UNFINISHED at T, PANIC): equal hashes end the game undecided.
    const unfinished = fakeStateHash("x", 1n, VmStatus.UNFINISHED);
    g.postFinalVmState(Side.Challenger, unfinished, 300n);
    expect(g.resolved).toBeUndefined();
    g.postFinalVmState(Side.Defender, unfinished, 301n);
    expect(g.resolved).toBe(GameWinner.Undecided);
  });

  it("a step from a state that is not the agreed one, and any step or move once decided", () => {
    const g = game();
    playUntil(g, GamePhase.Step);
    const v = g.view(400n);
    const vm = honest.vm(v.vmInputs!, v.address);
    const wrong = vm.stepData(v.lo + 1n);
    reverts(() => g.step(wrong.preState, wrong.proof, 400n), "WrongPreState");
    const right = vm.stepData(v.lo);
    expect(g.step(right.preState, right.proof, 400n)).toBe(Side.Challenger);
    reverts(() => g.step(right.preState, right.proof, 410n), "GameNotInProgress");
    reverts(() => g.moveVm(Side.Defender, [], 410n), "GameNotInProgress");
  });

  it("two claims that agree cannot make a game", () => {
    expect(
      () =>
        new ReferenceGame({
          ...game().params,
          stateN: [honest.graph.valueAt(8n), honest.graph.valueAt(8n)] as [Hex, Hex],
        }),
    ).toThrow(GameRevert);
  });
});

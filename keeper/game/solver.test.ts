import { describe, expect, it } from "vitest";
import { seededRandom } from "../graph/fixtures.ts";
import { VmStatus } from "../vm/state.ts";
import { copycat, type Party, playOut, silentAfter, solverParty } from "./playout.ts";
import { ReferenceGame } from "./reference.ts";
import { requiredFinalStatus, solve, unfinishedReason, vmTraceDepthFor } from "./solver.ts";
import { toyAbsolutePrestate, toyStepVerifier, toyTraces, toyWorld, type ToyPartyOptions, type ToyWorld } from "./toy.ts";
import type { DisputeTraces, StepData, VmTraceProvider } from "./trace-provider.ts";
import { GameError, GamePhase, GameWinner, type GameView, type Hex, otherSide, Side, SIDE_NAMES } from "./types.ts";

const GAME = "0x00000000000000000000000000000000000a11ce" as Hex;
const CONTEXT = `0x${"00".repeat(31)}07` as Hex;
const CLOCK = 3_600n;

interface ToySetup {
  world: ToyWorld;
  graphWidthBits?: number;
  vmWidthBits?: number;
  vmTraceDepth?: number;
}

function toyGame(s: ToySetup, defender: DisputeTraces, challenger: DisputeTraces): ReferenceGame {
  const n = BigInt(s.world.nodeCount);
  return new ReferenceGame({
    address: GAME,
    nodeCount: s.world.nodeCount,
    state0: defender.graph.valueAt(0n),
    stateN: [defender.graph.valueAt(n), challenger.graph.valueAt(n)],
    traceRoots: [defender.graph.traceRoot, challenger.graph.traceRoot],
    modelRoot: `0x${"11".repeat(32)}`,
    absolutePrestate: toyAbsolutePrestate(s.world),
    graphWidthBits: s.graphWidthBits ?? 1,
    vmWidthBits: s.vmWidthBits ?? 2,
    vmTraceDepth: s.vmTraceDepth ?? 6,
    clockDuration: CLOCK,
    startTime: 1_000n,
    localContext: CONTEXT,
    verifier: toyStepVerifier(s.world),
  });
}

/** A liar on `side`: its graph claim is wrong from node `graphLieFrom`, its VM trace from `vmLieFrom`. */
function liar(s: ToySetup, side: Side, lie: Omit<ToyPartyOptions, "vmLieStatus" | "vmFinalPosition">): DisputeTraces {
  return toyTraces(s.world, { ...lie, vmLieStatus: requiredFinalStatus(side), vmFinalPosition: 1n << BigInt(s.vmTraceDepth ?? 6) });
}

/** Plays honest (solver over the truth) against a cheater party; returns the result. */
function play(s: ToySetup, honestSide: Side, cheater: (side: Side) => Party, cheaterTraces: DisputeTraces, firstMover?: (i: number) => Side) {
  const honestTraces = toyTraces(s.world);
  const cheaterSide = otherSide(honestSide);
  const game =
    honestSide === Side.Defender ? toyGame(s, honestTraces, cheaterTraces) : toyGame(s, cheaterTraces, honestTraces);
  const parties: [Party, Party] = [solverParty(honestSide, honestTraces, "honest"), cheater(cheaterSide)];
  const result = playOut(game, parties, { startTime: 1_000n, firstMover, tolerateReverts: [cheaterSide] });
  return { result, game };
}

describe("solver against toy cheaters (reference game model)", () => {
  const worlds: ToySetup[] = [
    { world: toyWorld(1, 1n) },
    { world: toyWorld(2, 5n), graphWidthBits: 2 },
    { world: toyWorld(7, 40n), vmWidthBits: 1 },
    { world: toyWorld(16, 64n), graphWidthBits: 3, vmWidthBits: 3 },
    { world: toyWorld(33, 63n), graphWidthBits: 2, vmWidthBits: 4 },
  ];

  it("an honest challenger beats a defender lying from any node N, with a VM lie from any step", () => {
    for (const s of worlds) {
      const n = s.world.nodeCount;
      const T = 1n << BigInt(s.vmTraceDepth ?? 6);
      for (let N = 1; N <= n; N++) {
        for (const M of [1n, s.world.exitStep, s.world.exitStep + 1n, T]) {
          if (M > T) continue;
          const cheaterTraces = liar(s, Side.Defender, { graphLieFrom: N, vmLieFrom: M });
          const { result, game } = play(s, Side.Challenger, (side) => solverParty(side, cheaterTraces, "liar"), cheaterTraces);
          expect(result.winner, `n=${n} N=${N} M=${M}`).toBe(Side.Challenger);
          expect(game.boundInputs!.nodeIndex).toBe(BigInt(N));
          expect(result.actions.some((a) => a.kind === "step" && a.side === Side.Challenger)).toBe(true);
        }
      }
    }
  });

  it("an honest defender beats a false challenge (challenger lying from any node, any VM step)", () => {
    for (const s of worlds) {
      const T = 1n << BigInt(s.vmTraceDepth ?? 6);
      for (let N = 1; N <= s.world.nodeCount; N += Math.max(1, Math.floor(s.world.nodeCount / 5))) {
        for (const M of [1n, s.world.exitStep, T]) {
          const cheaterTraces = liar(s, Side.Challenger, { graphLieFrom: N, vmLieFrom: M });
          const { result } = play(s, Side.Defender, (side) => solverParty(side, cheaterTraces, "liar"), cheaterTraces);
          expect(result.winner, `n=${s.world.nodeCount} N=${N} M=${M}`).toBe(Side.Defender);
        }
      }
    }
  });

  it("wins against lie-everywhere, agree-then-lie, copycat and silent cheaters, whoever moves first", () => {
    for (const s of worlds) {
      const n = s.world.nodeCount;
      const T = 1n << BigInt(s.vmTraceDepth ?? 6);
      for (const honestSide of [Side.Defender, Side.Challenger]) {
        const cheaterSide = otherSide(honestSide);
        const strategies: [string, DisputeTraces, (side: Side) => Party][] = [];
        const everywhere = liar(s, cheaterSide, { graphLieFrom: 1, vmLieFrom: 1n, salt: "everywhere" });
        strategies.push(["lie everywhere", everywhere, (side) => solverParty(side, everywhere)]);
        const late = liar(s, cheaterSide, { graphLieFrom: n, vmLieFrom: T, salt: "late" });
        strategies.push(["agree then lie", late, (side) => solverParty(side, late)]);
        const copy = liar(s, cheaterSide, { graphLieFrom: Math.ceil(n / 2), vmLieFrom: 1n, salt: "copy" });
        strategies.push(["copycat", copy, (side) => copycat(solverParty(side, copy))]);
        for (const posts of [0, 1, 3]) {
          const quiet = liar(s, cheaterSide, { graphLieFrom: 1, vmLieFrom: 1n, salt: "quiet" });
          strategies.push([`silent after ${posts}`, quiet, (side) => silentAfter(solverParty(side, quiet), posts)]);
        }
        for (const [name, traces, party] of strategies) {
          for (const first of [Side.Defender, Side.Challenger]) {
            const { result } = play(s, honestSide, party, traces, () => first);
            expect(result.winner, `${name}, honest ${SIDE_NAMES[honestSide]}, n=${n}, ${SIDE_NAMES[first]} first`).toBe(honestSide);
            // The honest side never had a transaction refused.
            expect(result.actions.filter((a) => a.side === honestSide && a.reverted)).toEqual([]);
          }
        }
      }
    }
  });

  it("randomized: many scenarios, the honest side always wins and never reverts", () => {
    const rand = seededRandom(42);
    const pick = (k: number) => Math.floor(rand() * k);
    for (let i = 0; i < 200; i++) {
      const vmTraceDepth = 1 + pick(8);
      const T = 1n << BigInt(vmTraceDepth);
      const s: ToySetup = {
        world: toyWorld(1 + pick(40), 1n + BigInt(pick(Number(T)))),
        graphWidthBits: 1 + pick(4),
        vmWidthBits: 1 + pick(4),
        vmTraceDepth,
      };
      const honestSide = pick(2) === 0 ? Side.Defender : Side.Challenger;
      const cheaterSide = otherSide(honestSide);
      const traces = liar(s, cheaterSide, { graphLieFrom: 1 + pick(s.world.nodeCount), vmLieFrom: 1n + BigInt(pick(Number(T))), salt: `r${i}` });
      const strategy = pick(4);
      const party = (side: Side): Party =>
        strategy === 0 ? solverParty(side, traces) : strategy === 1 ? copycat(solverParty(side, traces)) : silentAfter(solverParty(side, traces), pick(6));
      const { result } = play(s, honestSide, party, traces, () => (pick(2) === 0 ? Side.Defender : Side.Challenger));
      expect(result.winner, `scenario ${i}`).toBe(honestSide);
      expect(result.actions.filter((a) => a.side === honestSide && a.reverted)).toEqual([]);
    }
  });

  it("a cheater loses whichever side it plays, and rounds stay within the bisection bound", () => {
    const s: ToySetup = { world: toyWorld(100, 50n), graphWidthBits: 1, vmWidthBits: 1, vmTraceDepth: 7 };
    for (const honestSide of [Side.Defender, Side.Challenger]) {
      const traces = liar(s, otherSide(honestSide), { graphLieFrom: 37, vmLieFrom: 20n });
      const { result } = play(s, honestSide, (side) => solverParty(side, traces), traces);
      expect(result.winner).toBe(honestSide);
      expect(result.graphRounds).toBeLessThanOrEqual(7); // ceil(log2 100)
      expect(result.vmRounds).toBe(7);
    }
  });
});

describe("solver decisions", () => {
  const s: ToySetup = { world: toyWorld(4, 10n) };
  const honest = toyTraces(s.world);
  const cheat = liar(s, Side.Defender, { graphLieFrom: 2, vmLieFrom: 3n });

  it("posts round values with proofs in the graph phase, and nothing once posted", () => {
    const game = toyGame(s, cheat, honest);
    const action = solve(game.view(1_000n), Side.Challenger, honest)[0];
    if (action?.kind !== "moveGraph") throw new Error(`expected a graph move, got ${action?.kind}`);
    expect(action.states).toEqual(game.view(1_000n).roundPoints.map((p) => honest.graph.valueAt(p)));
    game.moveGraph(Side.Challenger, action.states, action.proofs, 1_010n);
    expect(solve(game.view(1_020n), Side.Challenger, honest)).toEqual([]);
  });

  it("claims a timeout once the opponent's clock ran out, not before", () => {
    const game = toyGame(s, cheat, honest);
    const move = solve(game.view(1_000n), Side.Challenger, honest)[0];
    if (move?.kind !== "moveGraph") throw new Error("expected a graph move");
    game.moveGraph(Side.Challenger, move.states, move.proofs, 1_000n);
    expect(solve(game.view(1_000n + CLOCK), Side.Challenger, honest)).toEqual([]);
    expect(solve(game.view(1_001n + CLOCK), Side.Challenger, honest)).toEqual([{ kind: "claimTimeout" }]);
    game.claimTimeout(1_001n + CLOCK);
    expect(game.resolved).toBe(Side.Challenger);
    expect(solve(game.view(1_002n + CLOCK), Side.Challenger, honest)).toEqual([]);
  });

  it("refuses to post a final VM state of the wrong status, with a message saying why", () => {
    // Our graph is honest but we defend a wrong State_i: our own run ends INVALID.
    const game = toyGame(s, cheat, honest);
    const parties: [Party, Party] = [solverParty(Side.Defender, cheat), solverParty(Side.Challenger, honest)];
    // Play the graph phase only.
    while (game.view(0n).phase === GamePhase.Graph) {
      for (const p of parties) {
        for (const a of p.decide(game.view(2_000n))) if (a.kind === "moveGraph") game.moveGraph(p.side, a.states, a.proofs, 2_000n);
      }
    }
    expect(() => solve(game.view(2_000n), Side.Defender, honest)).toThrow(/ends INVALID .* the defender must post a state with status VALID \(or UNFINISHED\/PANIC\): we are on the wrong side/);
  });

  it("posts the UNFINISHED state of a run that does not fit the game's trace: the game ends undecided, whoever lies", () => {
    // The toy program exits at step 100; the game's trace has 2^6 = 64 steps.
    const w: ToySetup = { world: toyWorld(4, 100n), vmTraceDepth: 6 };
    for (const honestSide of [Side.Defender, Side.Challenger]) {
      const cheaterSide = otherSide(honestSide);
      for (const vmLieFrom of [1n, 3n, 63n, 64n, undefined]) {
        // A wrong claim from node 2 (false challenge when the honest side defends), its VM trace a lie from
        // vmLieFrom (undefined: the true VM trace, so both post the same UNFINISHED state).
        const wrong = vmLieFrom === undefined ? toyTraces(w.world, { graphLieFrom: 2 }) : liar(w, cheaterSide, { graphLieFrom: 2, vmLieFrom });
        const { result } = play(w, honestSide, (side) => solverParty(side, wrong, "cheater"), wrong);
        // The honest side is never beaten, and the wrong claim never wins: nobody can verify this node.
        expect(result.winner, `honest ${SIDE_NAMES[honestSide]}, VM lie from ${vmLieFrom}`).toBe(GameWinner.Undecided);
      }
    }
    // The keeper's log says which depth the run needs.
    const truth = toyTraces(w.world);
    const inputs = { nodeIndex: 2n, preState: "0x" as Hex, postState: "0x" as Hex, localContext: CONTEXT };
    expect(unfinishedReason(truth.vm(inputs, GAME), 64n)).toMatch(
      /exits at step 100, beyond the game's vmTraceDepth 6 \(2\^6 = 64 steps\): the game needs a vmTraceDepth of at least 7/,
    );
    // A provider that cannot run on says only that the run does not fit.
    const opaque: VmTraceProvider = { valueAt: (p) => truth.vm(inputs, GAME).valueAt(p), stepData: (p) => truth.vm(inputs, GAME).stepData(p) };
    expect(unfinishedReason(opaque, 64n)).toMatch(/needs more steps than the game's vmTraceDepth 6 allows/);
    expect(vmTraceDepthFor(1n)).toBe(0);
    expect(vmTraceDepthFor(64n)).toBe(6);
    expect(vmTraceDepthFor(65n)).toBe(7);
    expect(vmTraceDepthFor(1_616_090_927n)).toBe(31);
  });

  it("loads the keccak preimage part a step reads before stepping, and never steps against itself", () => {
    const truthAt = (p: bigint) => toyTraces(s.world).vm({ nodeIndex: 2n, preState: "0x", postState: "0x", localContext: CONTEXT }, GAME).valueAt(p);
    const data: StepData = {
      preState: "0x01",
      preStateHash: truthAt(3n),
      proof: "0x1234",
      preimage: { key: "0x02ab", oracleKey: "0x02ab", local: false, offset: 40n, data: "0xdeadbeef" },
      postStateHash: truthAt(4n),
    };
    const vm: VmTraceProvider = { valueAt: truthAt, stepData: () => data };
    const traces: DisputeTraces = { graph: honest.graph, vm: () => vm };
    const view: GameView = {
      ...toyGame(s, cheat, honest).view(5_000n),
      phase: GamePhase.Step,
      lo: 3n,
      hi: 4n,
      roundPoints: [],
      agreedValue: truthAt(3n),
      disputedValues: [`0x03${"00".repeat(31)}`, truthAt(4n)],
      vmInputs: { nodeIndex: 2n, preState: "0x", postState: "0x", localContext: CONTEXT },
      stepPhaseSince: 4_000n,
    };
    expect(solve(view, Side.Challenger, traces)).toEqual([
      { kind: "loadPreimage", key: "0x02ab", partOffset: 40n, preimage: "0xdeadbeef" },
      { kind: "step", preState: "0x01", proof: "0x1234" },
    ]);
    // The defender's value at hi is not the truth: stepping would lose, so it waits...
    expect(solve(view, Side.Defender, traces)).toEqual([]);
    // ...and claims the Step phase's timeout once nobody stepped in time.
    expect(solve({ ...view, now: 4_000n + CLOCK + 1n }, Side.Defender, traces)).toEqual([{ kind: "claimTimeout" }]);
    // A local part is loaded by the game itself.
    const local: StepData = { ...data, preimage: { ...data.preimage!, local: true } };
    expect(solve(view, Side.Challenger, { ...traces, vm: () => ({ ...vm, stepData: () => local }) }).map((a) => a.kind)).toEqual(["step"]);
    // A pre-state that is not the agreed one means our trace is broken: say so.
    expect(() => solve({ ...view, agreedValue: truthAt(2n) }, Side.Challenger, traces)).toThrow(GameError);
  });

  it("status helper: the defender shows VALID, the challenger INVALID", () => {
    expect(requiredFinalStatus(Side.Defender)).toBe(VmStatus.VALID);
    expect(requiredFinalStatus(Side.Challenger)).toBe(VmStatus.INVALID);
  });
});

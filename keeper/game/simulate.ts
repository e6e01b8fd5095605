/**
 * A whole dispute without a chain: an honest party and a cheater (faults.ts) play the reference game
 * model with the real MIPS step verifier, on a real model and input. Pure (the guest ELF is passed
 * in). The chain version is keeper/src/demo/simulate.ts; both report the same figures.
 */
import type { Model } from "../graph/model.ts";
import { Executor, type NodeReplacer } from "../graph/executor.ts";
import type { Tensor } from "../graph/tensor.ts";
import { Trace } from "../vm/trace.ts";
import { cheaterParty, type Fault, honestParty, resolveScenario, type Scenario } from "./faults.ts";
import { type Party, playOut, type PlayedAction, silentAfter, solverParty } from "./playout.ts";
import { mipsStepVerifier, ReferenceGame } from "./reference.ts";
import { type Hex, otherSide, Side } from "./types.ts";

export interface GameConfig {
  graphWidthBits: number;
  vmWidthBits: number;
  /** T = 2^vmTraceDepth bounds the guest's run. */
  vmTraceDepth: number;
  clockDuration: bigint;
}

/** MNIST's largest node runs 1.22M steps; 2^24 leaves room for bigger models. */
export const DEFAULT_GAME_CONFIG: GameConfig = { graphWidthBits: 2, vmWidthBits: 4, vmTraceDepth: 24, clockDuration: 3_600n };

/** The guest program's absolute prestate (§4.7): the hash of its initial state. */
export function absolutePrestate(elf: Uint8Array): Hex {
  return Trace.fromElf(elf).stateHashAt(0);
}

export interface OfflineDisputeResult {
  winner: "honest" | "cheater";
  honestSide: "defender" | "challenger";
  scenario: Scenario;
  nodeIndex: bigint;
  graphRounds: number;
  vmRounds: number;
  /** Actions the game accepted (each would be one transaction). */
  transactions: number;
  actions: PlayedAction[];
}

export function simulateOffline(p: {
  model: Model;
  input: Tensor;
  elf: Uint8Array;
  fault: Fault;
  seed: number;
  config?: GameConfig;
  snapshotInterval?: number;
  /** The model's executor, if the caller has one (a loaded model's weights then stay resident once). */
  executor?: Executor;
}): OfflineDisputeResult {
  const config = p.config ?? DEFAULT_GAME_CONFIG;
  const T = 1n << BigInt(config.vmTraceDepth);
  const executor = p.executor ?? new Executor(p.model);
  const run = executor.run(p.input);
  const scenario = resolveScenario(p.fault, p.model.nodes.length, p.seed, T, p.model);
  const setup = { model: p.model, input: p.input, run, elf: p.elf, vmFinalPosition: T, snapshotInterval: p.snapshotInterval, rerun: (replace: NodeReplacer) => executor.run(p.input, replace) };
  const honest = honestParty(setup);
  const cheater = cheaterParty(setup, scenario);
  const honestSide = otherSide(scenario.cheaterSide);
  const [def, chal] = scenario.cheaterSide === Side.Defender ? [cheater, honest] : [honest, cheater];
  const n = p.model.nodes.length;
  const game = new ReferenceGame({
    address: "0x00000000000000000000000000000000000d15e7",
    nodeCount: n,
    state0: honest.claim.provider.valueAt(0n),
    stateN: [def.claim.provider.valueAt(BigInt(n)), chal.claim.provider.valueAt(BigInt(n))],
    traceRoots: [def.claim.provider.traceRoot, chal.claim.provider.traceRoot],
    modelRoot: `0x${Buffer.from(p.model.modelRoot).toString("hex")}`,
    absolutePrestate: absolutePrestate(p.elf),
    ...config,
    startTime: 1_700_000_000n,
    localContext: `0x${"00".repeat(31)}01`,
    verifier: mipsStepVerifier,
  });
  let cheaterPlayer: Party = solverParty(scenario.cheaterSide, cheater.traces, "cheater");
  if (scenario.silentAfterPosts !== undefined) cheaterPlayer = silentAfter(cheaterPlayer, scenario.silentAfterPosts);
  const result = playOut(game, [solverParty(honestSide, honest.traces, "honest"), cheaterPlayer], {
    startTime: 1_700_000_000n,
    tolerateReverts: [scenario.cheaterSide],
    firstMover: (i) => (seededBit(p.seed, i) ? Side.Defender : Side.Challenger),
  });
  return {
    winner: result.winner === honestSide ? "honest" : "cheater",
    honestSide: honestSide === Side.Defender ? "defender" : "challenger",
    scenario,
    nodeIndex: game.boundInputs?.nodeIndex ?? 0n,
    graphRounds: result.graphRounds,
    vmRounds: result.vmRounds,
    transactions: result.actions.filter((a) => a.reverted === undefined).length,
    actions: result.actions,
  };
}

function seededBit(seed: number, i: number): boolean {
  return ((Math.imul(seed ^ 0x9e3779b9, i + 1) >>> 13) & 1) === 1;
}

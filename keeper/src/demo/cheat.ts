/**
 * A cheating keeper's lies for one served model (fault injection for tests, demos and rehearsals only,
 * keeper/game/faults.ts): the wrong claim it commits or challenges with (a `ClaimTransform` of the keeper
 * service) and the matching dispute traces (the dispute agent's `tracesFor`), built once per input.
 * Used by the in-process parties (`createParties`) and by `oao keeper run --fault`.
 */
import type { Hex } from "viem";
import type { Side } from "../../game/types.ts";
import { cheaterParty, resolveScenario, type Fault, type PartyTraces, type Scenario } from "../../game/faults.ts";
import type { DisputeTraces } from "../../game/trace-provider.ts";
import { encodeTensor, toHex, type Model, type Tensor } from "../../graph/index.ts";
import type { Executor } from "../../graph/executor.ts";
import { decodeRequestInput, type ComputedClaim } from "../service/inference.ts";

export interface Cheat {
  scenario: Scenario;
  /** The cheater's wrong claim and lying traces for `input` (computed once per input). */
  partyFor(input: Tensor): PartyTraces;
  /** Rewrites the claim the keeper computed for a request's input into the cheater's wrong one. */
  claim(claim: ComputedClaim, input: Uint8Array): ComputedClaim;
  /**
   * The cheater's dispute traces for an input, played from `side` (default: the fault's side). Its wrong claims are
   * committed and challenged with (a `graph:N` cheater also challenges the right answers others commit, a
   * `false-challenge` one also commits its wrong answers), so it ends up on either side of a game: its forced VM lie
   * ends with the status that side must post (§5.4), else it could not post its final state and stalled at VmStart.
   */
  traces(input: Tensor, side?: Side): DisputeTraces;
}

export function createCheat(p: { model: Model; executor: Pick<Executor, "run">; elf: Uint8Array; fault: Fault; seed: number; vmTraceDepth: number }): Cheat {
  const T = 1n << BigInt(p.vmTraceDepth);
  const scenario = resolveScenario(p.fault, p.model.nodes.length, p.seed, T, p.model);
  const cache = new Map<string, PartyTraces>();
  const partyFor = (input: Tensor, side: Side = scenario.cheaterSide): PartyTraces => {
    const key = `${side}:${toHex(encodeTensor(input))}`;
    let c = cache.get(key);
    if (!c) {
      const run = p.executor.run(input);
      c = cheaterParty({ model: p.model, input, run, elf: p.elf, vmFinalPosition: T, rerun: (replace) => p.executor.run(input, replace) }, { ...scenario, cheaterSide: side });
      cache.set(key, c);
    }
    return c;
  };
  return {
    scenario,
    partyFor,
    claim: (claim, input) => {
      const lie = partyFor(decodeRequestInput(p.model, input)).claim;
      return { ...claim, output: encodeTensor(lie.output), traceRoot: toHex(lie.trace.traceRoot) as Hex, proof: lie.proof };
    },
    traces: (input, side) => partyFor(input, side).traces,
  };
}

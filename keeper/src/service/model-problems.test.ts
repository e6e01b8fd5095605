/**
 * `oao keeper run`'s /readyz state (keeper/src/cli/keeper.ts → `withModelProblems`): the startup model problems
 * and the watchdog's blockers, merged. Pure: no chain, no clock but the one passed.
 */
import { describe, expect, it } from "vitest";
import { evaluateReadiness, withModelProblems, type LoopState } from "./health.ts";

const BOUND = 30_000;
const loop: LoopState = { synced: true, startedAt: 0, lastOkAt: 10_000 };
const stake = "stake: free stake 0 is below the claim bond 100 (stake more)";
const games = "games: dispute games at risk: cannot play game 0xg1 (request 7): model 1 is not served";

describe("startup model problems merged with the watchdog's blockers", () => {
  it("nothing to say: no blockers (undefined, not an empty list) and the loop's state kept", () => {
    const merged = withModelProblems(loop, []);
    expect(merged).toEqual(loop);
    expect(merged.blockers).toBeUndefined();
    expect(evaluateReadiness(merged, 11_000, BOUND)).toEqual({ ready: true });
    expect(withModelProblems({ ...loop, blockers: [] }, []).blockers).toBeUndefined();
  });

  it("model problems alone: one blocker naming every problem", () => {
    const merged = withModelProblems(loop, ["model 1: file hash differs from the chain's", "model 2 is not served"]);
    expect(merged.blockers).toEqual(["model not served: model 1: file hash differs from the chain's; model 2 is not served"]);
    expect(evaluateReadiness(merged, 11_000, BOUND)).toEqual({ ready: false, reason: "model not served: model 1: file hash differs from the chain's; model 2 is not served" });
  });

  it("the watchdog's blockers alone pass through unchanged", () => {
    expect(withModelProblems({ ...loop, blockers: [stake, games] }, []).blockers).toEqual([stake, games]);
  });

  it("both: the model problems first, then each watchdog blocker, then the loop's own failure; the loop state is not changed", () => {
    const state: LoopState = { ...loop, lastError: "tick failed: HTTP request failed", blockers: [stake, games] };
    const merged = withModelProblems(state, ["model 2 is not served"]);
    expect(merged.blockers).toEqual(["model not served: model 2 is not served", stake, games]);
    expect(state.blockers).toEqual([stake, games]);
    expect({ ...merged, blockers: undefined }).toEqual({ ...state, blockers: undefined });
    expect(evaluateReadiness(merged, 11_000, BOUND).reason).toBe(`model not served: model 2 is not served; ${stake}; ${games}; tick failed: HTTP request failed`);
  });
});

import { describe, expect, it } from "vitest";
import type { TransactionReceipt } from "viem";
import { BaseError, ContractFunctionRevertedError, HttpRequestError } from "viem";
import type { Responder } from "../chain/responder.ts";
import { DEFAULT_WATCH_LIMITS, evaluateWatch, isSendPathFailure, watchSends, type WatchInput } from "./watchdog.ts";

const OP = "0x00000000000000000000000000000000000000aa";
const calm: WatchInput = { stake: { operator: OP, free: 30n, bond: 10n }, tx: { consecutiveFailures: 0 }, games: [], due: [], now: 1_000n };
const reasons = (input: WatchInput) => evaluateWatch(input).blockers.map((b) => b.reason);

describe("watchdog (pure)", () => {
  it("no blocker when stake, the tx path, games and the backlog are fine; gauges report them", () => {
    const r = evaluateWatch(calm);
    expect(r.blockers).toEqual([]);
    expect(r.gauges).toEqual({ freeStake: 30n, bondsAvailable: 3n, txSendFailures: 0, gamesUnplayable: 0, backlogDueRequests: 0 });
  });

  it("stake: free stake below one bond blocks, naming the values and the operator", () => {
    const r = evaluateWatch({ ...calm, stake: { operator: OP, free: 9n, bond: 10n } });
    expect(r.blockers).toHaveLength(1);
    expect(r.blockers[0]!.reason).toBe("stake");
    expect(r.blockers[0]!.message).toContain(`free stake 9 < bond 10 of operator ${OP}`);
    expect(r.gauges.bondsAvailable).toBe(0n);
    expect(reasons({ ...calm, stake: { operator: OP, free: 10n, bond: 10n } })).toEqual([]);
  });

  it("jailed: blocks while the chain's time is before jailedUntil, naming the operator, the end and what reverts", () => {
    const r = evaluateWatch({ ...calm, stake: { operator: OP, free: 30n, bond: 10n, jailedUntil: 1_500n, jailed: true, now: 1_000n } });
    expect(r.blockers.map((b) => b.reason)).toEqual(["jailed"]);
    expect(r.blockers[0]!.message).toContain(`operator ${OP} is jailed until 1500 (500 s of chain time from now)`);
    expect(r.blockers[0]!.message).toContain("OperatorJailed");
    expect(reasons({ ...calm, stake: { operator: OP, free: 30n, bond: 10n, jailedUntil: 1_500n, jailed: false, now: 1_500n } })).toEqual([]);
    // Jailed and short of stake: both said.
    expect(reasons({ ...calm, stake: { operator: OP, free: 0n, bond: 10n, jailedUntil: 1_500n, jailed: true, now: 1_000n } })).toEqual(["stake", "jailed"]);
  });

  it("tx_path: blocks from the limit of consecutive failures on, with the last error", () => {
    expect(reasons({ ...calm, tx: { consecutiveFailures: DEFAULT_WATCH_LIMITS.txFailures - 1, lastError: "x" } })).toEqual([]);
    const r = evaluateWatch({ ...calm, tx: { consecutiveFailures: 3, lastError: "commit: HTTP request failed." } });
    expect(r.blockers.map((b) => b.reason)).toEqual(["tx_path"]);
    expect(r.blockers[0]!.message).toContain("the last 3 sends failed (commit: HTTP request failed.)");
    expect(r.gauges.txSendFailures).toBe(3);
  });

  it("games: unplayable, failing 3 ticks, our move silent for more than 3 ticks; each named with its game and request", () => {
    const g = { game: "0xg1", requestId: 7n, failedTicks: 0, ourMoveTicks: 0 };
    expect(reasons({ ...calm, games: [g, { ...g, failedTicks: 2 }, { ...g, ourMoveTicks: 3 }] })).toEqual([]);
    const unplayable = evaluateWatch({ ...calm, games: [{ ...g, unplayable: "model 1 of game 0xg1 is not served by this keeper" }] });
    expect(unplayable.blockers[0]!.message).toContain("cannot play game 0xg1 (request 7): model 1 of game 0xg1 is not served");
    const failing = evaluateWatch({ ...calm, games: [{ ...g, failedTicks: 3, lastError: "OperatorJailed(0xaa, 99)" }] });
    expect(failing.blockers[0]!.message).toContain("moves failing in game 0xg1 (request 7) for 3 ticks: OperatorJailed(0xaa, 99)");
    const silent = evaluateWatch({ ...calm, games: [{ ...g, game: "0xg2", ourMoveTicks: 4 }] });
    expect(silent.blockers.map((b) => b.reason)).toEqual(["games"]);
    expect(silent.blockers[0]!.message).toContain("our move and nothing sent in game 0xg2 (request 7) for 4 ticks");
    expect(silent.gauges.gamesUnplayable).toBe(1);
  });

  it("backlog: due requests listed soonest first with the seconds left (or past), the count in the gauge", () => {
    const r = evaluateWatch({ ...calm, due: [{ requestId: 5n, deadline: 1_200n }, { requestId: 4n, deadline: 990n }] });
    expect(r.blockers.map((b) => b.reason)).toEqual(["backlog"]);
    expect(r.blockers[0]!.message).toContain("2 answerable request(s) within 300 s of their deadline");
    expect(r.blockers[0]!.message).toContain("request 4: deadline passed 10 s ago, request 5: 200 s left");
    expect(r.gauges.backlogDueRequests).toBe(2);
  });

  it("an unread stake (RPC failing) is no stake blocker and no gauge", () => {
    const r = evaluateWatch({ ...calm, stake: undefined });
    expect(r.blockers).toEqual([]);
    expect(r.gauges.freeStake).toBeUndefined();
  });
});

describe("watchSends", () => {
  const receipt = { status: "success" } as TransactionReceipt;
  const scripted = (outcomes: (Error | null)[]): Responder => ({
    address: OP,
    idle: async () => {},
    submit: async () => {
      const next = outcomes.shift();
      if (next) throw next;
      return receipt;
    },
  });
  const http = () => new HttpRequestError({ url: "http://node", body: {}, details: "connection refused" });
  const intent = { kind: "commit", to: OP, data: "0x" } as const;

  it("counts consecutive transport failures, not reverts; a success resets the count", async () => {
    const revert = new BaseError("reverted", { cause: new ContractFunctionRevertedError({ abi: [], functionName: "commit" }) });
    const r = watchSends(scripted([http(), http(), revert, http(), null, http()]));
    for (let i = 0; i < 4; i++) await expect(r.submit(intent)).rejects.toThrow();
    expect(r.sendRecord().consecutiveFailures).toBe(3);
    expect(r.sendRecord().lastError).toMatch(/^commit: HTTP request failed/);
    await r.submit(intent);
    expect(r.sendRecord()).toEqual({ consecutiveFailures: 0 });
    await expect(r.submit(intent)).rejects.toThrow();
    expect(r.sendRecord().consecutiveFailures).toBe(1);
    expect(watchSends(r)).toBe(r);
  });

  it("classifies: reverts are the chain answering, transport errors and missing gas money are the path failing", () => {
    expect(isSendPathFailure(http())).toBe(true);
    expect(isSendPathFailure(new Error("insufficient funds for gas * price + value"))).toBe(true);
    expect(isSendPathFailure(new Error("execution reverted: custom error 0x285ec55c"))).toBe(false);
  });
});

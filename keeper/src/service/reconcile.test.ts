import { describe, it, expect } from "vitest";
import { encodeErrorResult, type Hex } from "viem";
import { StakingAbi } from "../../../sdk/src/abis/generated.ts";
import { ChainStatus, decide, decodeRevert, isStakeError, owes, retryDelay, type RequestView } from "./reconcile.ts";

const me = "0x00000000000000000000000000000000000000aa" as const;
const other = "0x00000000000000000000000000000000000000bb" as const;
const ours = "0x1111111111111111111111111111111111111111111111111111111111111111" as Hex;
const theirs = "0x2222222222222222222222222222222222222222222222222222222222222222" as Hex;
const policy = { me, ourOutputHash: ours, expireUnanswered: true };
const committed = (operator: `0x${string}`, outputHash: Hex, extra: Partial<RequestView> = {}): RequestView => ({
  status: ChainStatus.Committed,
  now: 100n,
  standing: { claimId: 7n, operator, outputHash, windowEnd: 200n },
  ourChallenge: false,
  ...extra,
});

describe("decide: what is still owed for a request, from the chain alone", () => {
  it("commits an open request we can answer, and only then", () => {
    expect(decide({ status: ChainStatus.Requested, now: 1n, ourChallenge: false }, policy)).toMatchObject({ status: "computing", action: { kind: "commit" } });
    expect(decide({ status: ChainStatus.Requested, now: 1n, ourChallenge: false }, { ...policy, ourOutputHash: undefined }).action).toBeUndefined();
  });

  it("challenges a wrong standing claim once: not when ours is on chain, not after its window", () => {
    expect(decide(committed(other, theirs), policy)).toMatchObject({ status: "disputed", action: { kind: "challenge", target: 7n } });
    expect(decide(committed(other, theirs, { status: ChainStatus.Challenged }), policy).action).toEqual({ kind: "challenge", target: 7n });
    expect(decide(committed(other, theirs, { ourChallenge: true }), policy)).toEqual({ status: "disputed", reason: expect.any(String) });
    const late = decide(committed(other, theirs, { now: 201n }), policy);
    expect(late.action).toBeUndefined();
    expect(late).toMatchObject({ status: "done", reason: expect.stringMatching(/window of wrong claim 7 closed/) });
  });

  it("leaves an agreeing or our own claim alone", () => {
    expect(decide(committed(other, ours), policy)).toEqual({ status: "done", reason: expect.any(String) });
    expect(decide(committed(me, theirs), policy)).toEqual({ status: "committed", reason: expect.any(String) });
  });

  it("refunds an expired request by policy, and settles final ones", () => {
    expect(decide({ status: ChainStatus.Expired, now: 1n, ourChallenge: false }, policy)).toMatchObject({ status: "expiring", action: { kind: "expire" } });
    expect(decide({ status: ChainStatus.Expired, now: 1n, ourChallenge: false }, { ...policy, expireUnanswered: false })).toEqual({ status: "done", reason: expect.any(String) });
    for (const status of [ChainStatus.Finalized, ChainStatus.Delivered, ChainStatus.Refunded]) {
      expect(decide({ status, now: 1n, ourChallenge: false }, policy)).toEqual({ status: "done", reason: expect.any(String) });
    }
    expect(decide({ status: ChainStatus.Cancelled, now: 1n, ourChallenge: false }, policy).status).toBe("cancelled");
    expect(decide({ status: ChainStatus.None, now: 1n, ourChallenge: false }, policy).status).toBeUndefined();
  });

  it("matches intents to what is owed", () => {
    expect(owes({ kind: "challenge", target: 7n }, "challenge", 7n)).toBe(true);
    expect(owes({ kind: "challenge", target: 8n }, "challenge", 7n)).toBe(false);
    expect(owes({ kind: "commit" }, "commit", 0n)).toBe(true);
    expect(owes(undefined, "commit", 0n)).toBe(false);
  });

  it("backs off exponentially, capped", () => {
    expect([0, 1, 2, 3, 10].map((a) => retryDelay(a, 1, 30))).toEqual([0, 1, 2, 4, 30]);
    expect(retryDelay(5, 0, 0)).toBe(0);
  });

  it("decodes the protocol's custom errors from raw revert data anywhere in the cause chain", () => {
    const data = encodeErrorResult({ abi: StakingAbi, errorName: "OperatorJailed", args: [other, 5n] });
    const error = { shortMessage: "Execution reverted", cause: { cause: { code: 3, data } } };
    expect(decodeRevert(error)).toEqual({ errorName: "OperatorJailed", args: [expect.stringMatching(/^0x0*bb$/i), 5n] });
    expect(isStakeError(error)).toBe(true);
    expect(isStakeError(new Error("HTTP request failed."))).toBe(false);
  });
});

describe("shortError: one line for logs, stored errors and readiness reasons", () => {
  it("decodes a protocol custom error from raw revert data (viem's `custom error 0x285ec55c`) with its arguments", async () => {
    const { BaseError, CallExecutionError, RawContractError, getAddress } = await import("viem");
    const { shortError } = await import("./reconcile.ts");
    const data = encodeErrorResult({ abi: StakingAbi, errorName: "OperatorJailed", args: [me, 1_700_000_000n] });
    expect(data.slice(0, 10)).toBe("0x285ec55c");
    const error = new CallExecutionError(new RawContractError({ data }) as unknown as InstanceType<typeof BaseError>, { account: undefined as never });
    expect(error.message).not.toContain("OperatorJailed");
    expect(shortError(error)).toBe(`OperatorJailed(${getAddress(me)}, 1700000000)`);
    // Not ours: the first line of the message; a generic viem wrapper gives way to its cause.
    expect(shortError(new Error("first line\nsecond line"))).toBe("first line");
    expect(shortError(new Error("An unknown RPC error occurred.", { cause: new Error("HTTP request failed.") }))).toBe("HTTP request failed.");
  });
});

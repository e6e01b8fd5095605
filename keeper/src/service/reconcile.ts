/**
 * What the keeper must still do for one request, derived from the chain alone (docs/protocol.md §6.0).
 *
 * Pure: a `RequestView` read at one block and what this keeper computed go in; the request's store status and
 * the one action still owed (commit, challenge, expire, or none) come out, with the reason. The keeper calls it
 * before sending an intent (is it still wanted?), after a send failed (transient, or did the chain make it
 * moot?) and when reconciling its store after a restart, so no local status a crash left behind decides
 * anything: a decided challenge that never reached the chain is decided again, and one that did is never
 * sent twice (`ourChallenge`).
 */
import { decodeErrorResult, type Abi, type Address, type Hex } from "viem";
import {
  AIOracleAbi,
  DisputeGameAbi,
  DisputeGameFactoryAbi,
  MIPSAbi,
  MockStakeTokenAbi,
  PreimageOracleAbi,
  StakingAbi,
  TaskManagerAbi,
} from "../../../sdk/src/abis/generated.ts";
import type { IntentKind, RequestStatus } from "../store/store.ts";

/** TaskManager's RequestStatus (contracts/lib/Types.sol). */
export const ChainStatus = {
  None: 0,
  Requested: 1,
  Committed: 2,
  Challenged: 3,
  Finalized: 4,
  Delivered: 5,
  Expired: 6,
  Refunded: 7,
  Cancelled: 8,
} as const;

/** One request as the chain shows it at one block. */
export interface RequestView {
  /** `getStatus` (derived: Requested/Expired/Challenged included). */
  status: number;
  /** The block's timestamp. */
  now: bigint;
  /** The standing claim, when the request is committed. */
  standing?: { claimId: bigint; operator: Address; outputHash: Hex; windowEnd: bigint };
  /** Whether one of our claims already challenges the standing claim (its open game, or queued behind it). */
  ourChallenge: boolean;
}

export interface DecidePolicy {
  me: Address;
  /** keccak256 of the output we computed; undefined when we cannot answer (model not served, bad input). */
  ourOutputHash?: Hex;
  /** Refund requests that expired unanswered (`expire`) instead of only forgetting them. */
  expireUnanswered: boolean;
}

export type OwedAction = { kind: "commit" } | { kind: "challenge"; target: bigint } | { kind: "expire" };

export interface Decision {
  /** The request's store status; undefined: keep the one it has (the chain does not say). */
  status?: RequestStatus;
  action?: OwedAction;
  reason: string;
}

export function decide(view: RequestView, policy: DecidePolicy): Decision {
  const me = policy.me.toLowerCase();
  switch (view.status) {
    case ChainStatus.None:
      return { reason: "the chain does not know this request (yet)" };
    case ChainStatus.Requested:
      if (policy.ourOutputHash === undefined) return { reason: "unanswered, and not ours to answer" };
      return { status: "computing", action: { kind: "commit" }, reason: "nobody has committed" };
    case ChainStatus.Committed:
    case ChainStatus.Challenged: {
      const s = view.standing;
      if (s === undefined) return { reason: "committed, standing claim not read" };
      if (s.operator.toLowerCase() === me) return { status: "committed", reason: "our claim stands" };
      if (policy.ourOutputHash === undefined) return { status: "done", reason: "another operator's claim stands; we cannot check it" };
      if (s.outputHash.toLowerCase() === policy.ourOutputHash.toLowerCase()) return { status: "done", reason: "the standing claim agrees with ours" };
      if (view.ourChallenge) return { status: "disputed", reason: `our challenge of claim ${s.claimId} is on chain` };
      if (view.now > s.windowEnd) {
        return { status: "done", reason: `the challenge window of wrong claim ${s.claimId} closed before our challenge landed` };
      }
      return { status: "disputed", action: { kind: "challenge", target: s.claimId }, reason: `claim ${s.claimId} is wrong` };
    }
    case ChainStatus.Finalized:
    case ChainStatus.Delivered:
      return { status: "done", reason: "finalized" };
    case ChainStatus.Expired:
      if (policy.expireUnanswered && policy.ourOutputHash !== undefined) {
        return { status: "expiring", action: { kind: "expire" }, reason: "expired unanswered: refund it" };
      }
      return { status: "done", reason: "expired unanswered" };
    case ChainStatus.Refunded:
      return { status: "done", reason: "refunded" };
    case ChainStatus.Cancelled:
      return { status: "cancelled", reason: "cancelled by an undecided game" };
    default:
      return { reason: `unknown chain status ${view.status}` };
  }
}

/** Whether `action` is the intent `(kind, target)`: the intent is still owed. */
export function owes(action: OwedAction | undefined, kind: IntentKind, target: bigint): boolean {
  if (action === undefined || action.kind !== kind) return false;
  return action.kind !== "challenge" || action.target === target;
}

/** Backoff (in ticks) before retrying an intent after its `attempts`-th transient failure (exponential, capped). */
export function retryDelay(attempts: number, base: number, max: number): number {
  if (attempts <= 0 || base <= 0) return 0;
  return Math.min(max, base * 2 ** Math.min(attempts - 1, 30));
}

/** Reverts that say this operator cannot lock a bond now (every commit fails alike until stake frees up). */
const STAKE_ERRORS = new Set(["InsufficientFreeStake", "OperatorJailed", "StakeBelowMinimum"]);

/** Every custom error a keeper or CLI transaction can meet: the core, the dispute game and VM, OpenZeppelin's ERC20 errors. */
const ERRORS_ABI = [
  ...TaskManagerAbi,
  ...StakingAbi,
  ...AIOracleAbi,
  ...DisputeGameAbi,
  ...DisputeGameFactoryAbi,
  ...MIPSAbi,
  ...PreimageOracleAbi,
  ...MockStakeTokenAbi,
].filter((item) => item.type === "error") as Abi;

/** `InsufficientFreeStake(0xab…, 0, 10000000000000000000)`: a decoded revert as a contract would name it. */
export function formatRevert(revert: { errorName: string; args: readonly unknown[] }): string {
  const show = (v: unknown): string =>
    typeof v === "bigint" ? v.toString() : Array.isArray(v) ? `[${v.map(show).join(", ")}]` : typeof v === "object" && v !== null ? JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) : String(v);
  return `${revert.errorName}(${revert.args.map(show).join(", ")})`;
}

/**
 * The protocol's custom error in a viem error chain, decoded: from viem's own decoding when it had the ABI, else
 * from the raw revert data (an estimate or a call without an ABI reports only `0x…` data).
 */
export function decodeRevert(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const data = (e as { data?: unknown }).data;
    if (data && typeof data === "object" && typeof (data as { errorName?: unknown }).errorName === "string") {
      const d = data as { errorName: string; args?: readonly unknown[] };
      return { errorName: d.errorName, args: d.args ?? [] };
    }
    const raw = typeof data === "string" ? data : typeof (data as { data?: unknown } | undefined)?.data === "string" ? (data as { data: string }).data : undefined;
    if (raw !== undefined && /^0x[0-9a-fA-F]{8}/.test(raw)) {
      try {
        const decoded = decodeErrorResult({ abi: ERRORS_ABI, data: raw as Hex });
        return { errorName: decoded.errorName, args: decoded.args ?? [] };
      } catch {
        // not one of ours
      }
    }
  }
  return undefined;
}

/**
 * One line saying why `error` happened, for logs, stored errors and readiness reasons: a protocol custom error
 * decoded with its arguments (`OperatorJailed(0x70…, 1700000000)`, never viem's `custom error 0x285ec55c`), else
 * the first meaningful message of the error chain (viem wraps a transport's failure in generic errors, "An unknown
 * RPC error occurred.": the cause says what failed).
 */
export function shortError(error: unknown): string {
  const revert = decodeRevert(error);
  if (revert) return formatRevert(revert);
  for (let e = error as { shortMessage?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const message = e.shortMessage ?? e.message;
    if (message === undefined) continue;
    if (e.cause === undefined || !/^An unknown RPC error occurred|^An internal error was received|^Transaction creation failed/.test(message)) return message.split("\n")[0]!;
  }
  return String(error).split("\n")[0]!;
}

export function revertName(error: unknown): string | undefined {
  return decodeRevert(error)?.errorName;
}

export function isStakeError(error: unknown): boolean {
  const name = revertName(error);
  return name !== undefined && STAKE_ERRORS.has(name);
}

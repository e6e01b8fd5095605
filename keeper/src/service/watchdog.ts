/**
 * The keeper's watchdog ("never blind", docs/protocol.md §6.0 "Readiness"): after every tick it reads what the
 * keeper needs to do its job and turns what is missing into readiness blockers, each saying what to fix with the
 * values it saw, and into gauges. `evaluateWatch` is the pure core; `createWatchdog` gathers its input (chain reads,
 * the store, the responder's send record, the dispute agent's games) and `watchSends` wraps a responder so it
 * records consecutive send failures.
 *
 * Blockers (the reason names are the `reason` label of `oao_keeper_blocked`):
 * - stake: our free stake cannot lock one more claim bond (no challenge of a wrong claim could be made);
 * - jailed: our operator is jailed (slashed; Staking.lock reverts `OperatorJailed` until `jailedUntil`): no commit or
 *   challenge can be made until the jail ends (moves in running games still can);
 * - tx_path: the last `txFailures` sends failed at the node or transport (not reverts), none succeeded since;
 * - games: a game we are in that we cannot play (not resumed, moves failing `gameFailedTicks` ticks in a row, or our
 *   move with nothing sent for `ourMoveTicks` ticks);
 * - backlog: answerable requests of served models within `deadlineMarginSeconds` of their deadline, not committed.
 */
import type { Address, PublicClient, TransactionReceipt } from "viem";
import { AIOracleAbi, StakingAbi, TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import type { Responder, TxIntent } from "../chain/responder.ts";
import type { KeeperStore, RequestCursor } from "../store/store.ts";
import type { KeeperMetrics } from "./metrics.ts";
import { decodeRevert, shortError } from "./reconcile.ts";

export const BLOCK_REASONS = ["stake", "jailed", "tx_path", "games", "backlog"] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export interface WatchLimits {
  /** Consecutive failed sends that block (until one succeeds). */
  txFailures: number;
  /** Consecutive ticks a game's moves may fail. */
  gameFailedTicks: number;
  /** Consecutive ticks it may be our move with nothing sent. */
  ourMoveTicks: number;
  /** A request this close to its deadline (seconds) and not committed is overdue work. */
  deadlineMarginSeconds: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = { txFailures: 3, gameFailedTicks: 3, ourMoveTicks: 3, deadlineMarginSeconds: 300 };

/** How one game we are in is going, as the dispute agent tracks it. */
export interface GameWatch {
  game: string;
  requestId: bigint;
  /** Why it cannot be played at all (e.g. its player could not be built); undefined when it is being played. */
  unplayable?: string;
  /** Consecutive ticks whose moves failed, and the last failure. */
  failedTicks: number;
  lastError?: string;
  /** Consecutive ticks the chain showed it our move (our post missing in the round) and we sent nothing. */
  ourMoveTicks: number;
}

/**
 * Our free stake, the bond one claim (a commit or a challenge) locks, and our jail: `jailed` when the chain's time
 * (`now`, the latest block's timestamp) is before `jailedUntil` (Staking.lock then reverts `OperatorJailed`).
 */
export interface StakeState {
  operator: string;
  free: bigint;
  bond: bigint;
  jailedUntil?: bigint;
  jailed?: boolean;
  /** The chain time `jailed` was decided at (read only while a jail may be running). */
  now?: bigint;
}

export interface WatchInput {
  /** Our stake (`StakeState`); undefined when it could not be read. */
  stake?: StakeState;
  tx: { consecutiveFailures: number; lastError?: string };
  games: readonly GameWatch[];
  /** Answerable requests (pending or computing) close to their deadline: deadline in chain seconds. */
  due: readonly { requestId: bigint; deadline: bigint }[];
  /** The chain's time (the latest block's timestamp). */
  now: bigint;
}

export interface WatchReport {
  blockers: { reason: BlockReason; message: string }[];
  gauges: { freeStake?: bigint; bondsAvailable?: bigint; txSendFailures: number; gamesUnplayable: number; backlogDueRequests: number };
}

const list = <T>(items: readonly T[], show: (t: T) => string, max = 3) =>
  items.slice(0, max).map(show).join(", ") + (items.length > max ? ` and ${items.length - max} more` : "");

/** Pure: the blockers and gauges of one watch. */
export function evaluateWatch(input: WatchInput, limits: WatchLimits = DEFAULT_WATCH_LIMITS): WatchReport {
  const blockers: WatchReport["blockers"] = [];
  const { stake, tx, games, now } = input;
  if (stake !== undefined && stake.free < stake.bond) {
    blockers.push({
      reason: "stake",
      message: `no stake for a challenge bond: free stake ${stake.free} < bond ${stake.bond} of operator ${stake.operator} (stake more with \`oao keeper stake\`, or wait for locked bonds to be released)`,
    });
  }
  if (stake?.jailed && stake.jailedUntil !== undefined) {
    const left = stake.now !== undefined ? ` (${stake.jailedUntil - stake.now} s of chain time from now)` : "";
    blockers.push({
      reason: "jailed",
      message: `operator ${stake.operator} is jailed until ${stake.jailedUntil}${left}, after a slash: no commit or challenge can be made until then (Staking.lock reverts OperatorJailed; nothing is sent for them, running games are still played) (find the lost game in the log; a jailed operator's stake cannot challenge a wrong claim)`,
    });
  }
  if (tx.consecutiveFailures >= limits.txFailures) {
    blockers.push({
      reason: "tx_path",
      message: `the RPC refuses transactions: the last ${tx.consecutiveFailures} sends failed${tx.lastError ? ` (${tx.lastError})` : ""} (check the node's transaction path, the account's balance for gas and the nonce)`,
    });
  }
  const unplayable = games.filter((g) => g.unplayable !== undefined);
  const failing = games.filter((g) => g.unplayable === undefined && g.failedTicks >= limits.gameFailedTicks);
  const silent = games.filter((g) => g.unplayable === undefined && g.failedTicks < limits.gameFailedTicks && g.ourMoveTicks > limits.ourMoveTicks);
  const gameProblems: string[] = [];
  if (unplayable.length > 0) gameProblems.push(`cannot play ${list(unplayable, (g) => `game ${g.game} (request ${g.requestId}): ${g.unplayable}`)}`);
  if (failing.length > 0) gameProblems.push(`moves failing ${list(failing, (g) => `in game ${g.game} (request ${g.requestId}) for ${g.failedTicks} ticks${g.lastError ? `: ${g.lastError}` : ""}`)}`);
  if (silent.length > 0) gameProblems.push(`our move and nothing sent ${list(silent, (g) => `in game ${g.game} (request ${g.requestId}) for ${g.ourMoveTicks} ticks`)}`);
  if (gameProblems.length > 0) {
    blockers.push({ reason: "games", message: `dispute games at risk (a game not played is lost on time): ${gameProblems.join("; ")}` });
  }
  const due = [...input.due].sort((a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0));
  if (due.length > 0) {
    const left = (d: bigint) => (d >= now ? `${d - now} s left` : `deadline passed ${now - d} s ago`);
    blockers.push({
      reason: "backlog",
      message: `backlog: ${due.length} answerable request(s) within ${limits.deadlineMarginSeconds} s of their deadline and not committed (${list(due, (d) => `request ${d.requestId}: ${left(d.deadline)}`)}) (the keeper cannot keep up or cannot commit: check the errors logged, the free stake and the RPC; more keepers share the load)`,
    });
  }
  return {
    blockers,
    gauges: {
      ...(stake !== undefined ? { freeStake: stake.free, bondsAvailable: stake.bond > 0n ? stake.free / stake.bond : 0n } : {}),
      txSendFailures: tx.consecutiveFailures,
      gamesUnplayable: unplayable.length + failing.length + silent.length,
      backlogDueRequests: due.length,
    },
  };
}

/** Whether a failed send is the transaction path's fault (the node or transport), not the chain refusing the call. */
export function isSendPathFailure(error: unknown): boolean {
  if (decodeRevert(error) !== undefined) return false;
  for (let e = error as { name?: string; shortMessage?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const text = `${e.name ?? ""} ${e.shortMessage ?? e.message ?? ""}`;
    if (/insufficient funds/i.test(text)) return true; // no gas money: nothing can be sent
    if (/revert|ContractFunctionExecutionError/i.test(text)) return false;
  }
  return true;
}

export interface SendRecord {
  consecutiveFailures: number;
  lastError?: string;
}

export type WatchedResponder = Responder & { sendRecord(): SendRecord };

export function isWatchedResponder(r: Responder): r is WatchedResponder {
  return typeof (r as Partial<WatchedResponder>).sendRecord === "function";
}

/**
 * The responder, recording consecutive send failures of the transaction path (`isSendPathFailure`): a success
 * resets the count. Wrapping a watched responder returns it unchanged (one record per lane).
 */
export function watchSends(responder: Responder): WatchedResponder {
  if (isWatchedResponder(responder)) return responder;
  const record: SendRecord = { consecutiveFailures: 0 };
  return {
    get address() {
      return responder.address;
    },
    idle: () => responder.idle(),
    sendRecord: () => ({ ...record }),
    async submit(intent: TxIntent): Promise<TransactionReceipt> {
      try {
        const receipt = await responder.submit(intent);
        record.consecutiveFailures = 0;
        record.lastError = undefined;
        return receipt;
      } catch (error) {
        if (isSendPathFailure(error)) {
          record.consecutiveFailures++;
          record.lastError = `${intent.kind}: ${shortError(error)}`;
        }
        throw error;
      }
    },
  };
}

export interface WatchdogParams {
  publicClient: PublicClient;
  addresses: { aiOracle: Address; taskManager: Address; staking: Address };
  store: KeeperStore;
  responder: WatchedResponder;
  metrics: KeeperMetrics;
  /** The dispute agent's games (undefined: this keeper plays none). */
  games?: () => readonly GameWatch[];
  limits?: Partial<WatchLimits>;
}

export interface Watchdog {
  /** Reads, evaluates and publishes (gauges) one watch; returns its blockers' messages. */
  check(): Promise<string[]>;
  /** The blockers of the last check. */
  blockers(): string[];
  /**
   * Our free stake and the claim bond (read once, it is immutable), as `check` reads them; undefined when the read
   * failed. The keeper reads it once per tick to decide whether owed commits and challenges can be sent at all.
   */
  readStake(): Promise<StakeState | undefined>;
}

/** Requests whose deadline was read, at most this many new ones per check (oldest first: the ones due first). */
const DEADLINE_READS_PER_CHECK = 256;
const READ_LANES = 16;

export function createWatchdog(params: WatchdogParams): Watchdog {
  const { publicClient, addresses, store, metrics } = params;
  const limits: WatchLimits = { ...DEFAULT_WATCH_LIMITS, ...params.limits };
  const deadlines = new Map<bigint, bigint>(); // immutable once requested
  let bond: bigint | undefined;
  let last: string[] = [];

  /** The last `jailedUntil` the chain's time was seen past: that jail is over, no block is read for it again. */
  let jailOver: bigint | undefined;

  async function readStake(): Promise<StakeState | undefined> {
    try {
      bond ??= BigInt(await publicClient.readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "claimBond" }));
      const operator = params.responder.address;
      // One read for both: free stake is active - locked (Staking.freeStake), and the jail.
      const account = await publicClient.readContract({ address: addresses.staking, abi: StakingAbi, functionName: "getAccount", args: [operator] });
      const free = BigInt(account.active) - BigInt(account.locked);
      const jailedUntil = BigInt(account.jailedUntil);
      if (jailedUntil === 0n || jailedUntil === jailOver) return { operator, free, bond, jailedUntil, jailed: false };
      // Possibly jailed: decided by the chain's clock (what Staking.lock compares with), not ours.
      const now = (await publicClient.getBlock({ blockTag: "latest" })).timestamp;
      if (now >= jailedUntil) jailOver = jailedUntil;
      return { operator, free, bond, jailedUntil, jailed: now < jailedUntil, now };
    } catch {
      return undefined; // the RPC failing shows in the tick's own readiness
    }
  }

  /**
   * Answerable requests within the margin of their deadline. Deadlines are read once per request, at most
   * `DEADLINE_READS_PER_CHECK` per check, oldest requests first (the ones due first), `READ_LANES` at a time.
   */
  async function readDue(now: bigint): Promise<WatchInput["due"]> {
    const live: bigint[] = [];
    for (const status of ["pending", "computing"] as const) {
      let after: RequestCursor | undefined;
      for (;;) {
        const page = store.listRequests(status, 256, after);
        if (page.length === 0) break;
        after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
        for (const r of page) live.push(r.requestId);
      }
    }
    const unread = live.filter((id) => !deadlines.has(id)).slice(0, DEADLINE_READS_PER_CHECK);
    for (let i = 0; i < unread.length; i += READ_LANES) {
      const batch = unread.slice(i, i + READ_LANES);
      const headers = await Promise.allSettled(
        batch.map((id) => publicClient.readContract({ address: addresses.aiOracle, abi: AIOracleAbi, functionName: "getRequestHeader", args: [id] })),
      );
      headers.forEach((h, k) => {
        if (h.status === "fulfilled") deadlines.set(batch[k]!, BigInt(h.value.deadline));
      });
      if (headers.some((h) => h.status === "rejected")) break; // the RPC is failing: the tick's own readiness says so
    }
    const liveSet = new Set(live);
    for (const id of deadlines.keys()) if (!liveSet.has(id)) deadlines.delete(id);
    const margin = BigInt(limits.deadlineMarginSeconds);
    return live.flatMap((requestId) => {
      const deadline = deadlines.get(requestId);
      return deadline !== undefined && now + margin >= deadline ? [{ requestId, deadline }] : [];
    });
  }

  return {
    blockers: () => last,
    readStake,
    async check() {
      let now: bigint | undefined;
      try {
        now = (await publicClient.getBlock({ blockTag: "latest" })).timestamp;
      } catch {
        now = undefined;
      }
      const input: WatchInput = {
        stake: await readStake(),
        tx: params.responder.sendRecord(),
        games: params.games?.() ?? [],
        due: now === undefined ? [] : await readDue(now),
        now: now ?? 0n,
      };
      const report = evaluateWatch(input, limits);
      const blocked = new Set(report.blockers.map((b) => b.reason));
      for (const reason of BLOCK_REASONS) metrics.blocked.set({ reason }, blocked.has(reason) ? 1 : 0);
      if (report.gauges.freeStake !== undefined) metrics.freeStake.set(Number(report.gauges.freeStake));
      if (report.gauges.bondsAvailable !== undefined) metrics.bondsAvailable.set(Number(report.gauges.bondsAvailable));
      metrics.txSendFailures.set(report.gauges.txSendFailures);
      metrics.gamesUnplayable.set(report.gauges.gamesUnplayable);
      metrics.backlogDueRequests.set(report.gauges.backlogDueRequests);
      last = report.blockers.map((b) => b.message);
      return last;
    },
  };
}

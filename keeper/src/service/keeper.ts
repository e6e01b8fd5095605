/**
 * The keeper service: monitor -> scheduler -> (pure) compute -> responder, in the op-challenger
 * mould. One `tick` reads newly confirmed events, records them in the store, answers pending
 * requests, checks other operators' claims and challenges wrong ones, lets the dispute agent play
 * its games, and finalizes claims whose window has passed. Everything it decides is recorded in the
 * store first, so a keeper killed at any point resumes from there.
 *
 * The only component that sends transactions is the responder.
 */
import {
  decodeEventLog,
  encodeFunctionData,
  keccak256,
  zeroAddress,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { AIOracleAbi, StakingAbi, TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { fromHex, InputError, toHex } from "../../graph/index.ts";
import type { Responder } from "../chain/responder.ts";
import { createChainWatcher, type ChainWatcher } from "../chain/watcher.ts";
import { withRetry } from "../chain/retry.ts";
import type { Logger } from "./logger.ts";
import type { KeeperMetrics } from "./metrics.ts";
import type { KeeperStore, RequestCursor, RequestStatus, StoredIntent, StoredRequest } from "../store/store.ts";
import { KeeperError } from "../errors.ts";
import { ChainStatus, decide, decodeRevert, isStakeError, shortError, owes, retryDelay, type Decision, type DecidePolicy, type OwedAction, type RequestView } from "./reconcile.ts";
import { computeClaim, computeClaims, type ComputedClaim } from "./inference.ts";
import { ComputeWorkerError, type Compute } from "./compute.ts";
import type { ModelBook } from "./models.ts";
import { encodeClaimCall, readStandingOpening } from "./claims.ts";
import { evaluateReadiness, readinessBoundMs, type LoopState } from "./health.ts";
import { createWatchdog, watchSends, type GameWatch, type WatchLimits } from "./watchdog.ts";
import { commitNotBefore, peerRank } from "./peers.ts";
import { packFinalizations, type DueFinalization } from "./finalize-batch.ts";

/**
 * Fault injection for tests and demos only: rewrites the claim this keeper computed before it is
 * committed (keeper/src/dispute builds consistent wrong claims, e.g. wrong from node N on).
 */
export type ClaimTransform = (claim: ComputedClaim, request: StoredRequest) => ComputedClaim;

/** The dispute agent (keeper/src/dispute): plays every game this keeper is in. */
export interface DisputeAgent {
  /** Called when a game involving one of our claims is created (`ours`: our claim, when already computed). */
  onGameCreated(game: { game: Address; requestId: bigint; defenderClaimId: bigint; challengerClaimId: bigint; ourSide: "defender" | "challenger"; ours?: ComputedClaim }): void;
  tick(): Promise<void>;
  /** Stops playing a request's games: a rollback forgot the request (its games are read again if still there). */
  forget?(requestId: bigint): void;
  /** How each game is going, for the watchdog (keeper/src/service/watchdog.ts). */
  watch?(): GameWatch[];
}

export interface KeeperParams {
  publicClient: PublicClient;
  responder: Responder;
  addresses: { aiOracle: Address; taskManager: Address; staking: Address };
  store: KeeperStore;
  models: ModelBook;
  log: Logger;
  metrics: KeeperMetrics;
  confirmations?: number;
  /** Block to start reading from when the store has no cursor yet. */
  fromBlock?: bigint;
  /** Most requests computed per tick: bounds memory and keeps each tick short. */
  batchSize?: number;
  fault?: ClaimTransform;
  /**
   * Where claims are computed (compute.ts). A compute with `claimNow` (in-thread; the default) computes inside the
   * tick; a pool's computation is started by a tick and picked up by a later one, so no tick waits for it.
   */
  compute?: Compute;
  /** Every this many ticks, withdraw fee credits and staking rewards above `minClaim` wei (off if unset). */
  claimEvery?: number;
  minClaim?: bigint;
  disputes?: DisputeAgent;
  /** Refund requests of served models that expired unanswered (`expire`); default true. */
  expireUnanswered?: boolean;
  /** Every this many ticks (and on the first), reconcile the store's half-done requests with the chain; default 30. */
  reconcileEvery?: number;
  /**
   * Backoff between retries of an intent that failed transiently, in ticks (counted across restarts, so no wall
   * clock is involved): after the n-th failure it waits min(max, base·2^(n-1)) ticks; default base 1, max 30.
   */
  retryBackoff?: { base: number; max: number };
  /**
   * Fault injection for tests only: called after an intent is decided, written and (for a commit) simulated,
   * just before it is sent. Throwing a `CrashFault` here stands for the process dying at that moment.
   */
  crashBeforeSend?: (intent: StoredIntent) => void;
  /**
   * Other honest keepers sharing the load (their operator addresses): for each request the operators are ranked by
   * keccak256(requestId, operator) and a keeper of rank r commits only r × `commitBackoffBlocks` blocks after the
   * request's block (keeper/src/service/peers.ts). Default none: every request at once.
   */
  peers?: readonly Address[];
  /** Blocks a keeper waits per rank before committing (default 3). */
  commitBackoffBlocks?: number;
  /** Gas budget of one finalizeMany transaction (default 8,000,000); ids are packed by their reserves. */
  finalizeGasPerTx?: bigint;
  /** The clock readiness is computed with (ms); default `Date.now`. Tests inject a fake one. */
  clock?: () => number;
  /**
   * Not ready when no tick succeeded within this many ms, or one has been running longer; default
   * max(3 × the poll interval, 30 s) (`readinessBoundMs`).
   */
  readyWithinMs?: number;
  /**
   * Not ready ("backlog") while an answerable request of a served model is this close to its deadline (chain
   * seconds) and not committed; default 300 (keeper config `deadlineMarginSeconds`).
   */
  deadlineMarginSeconds?: number;
  /** The watchdog's other limits (consecutive send failures, failing or silent game ticks); defaults in watchdog.ts. */
  watchLimits?: Partial<Omit<WatchLimits, "deadlineMarginSeconds">>;
}

/**
 * The claim bonds a tick may still lock (`left`, decremented as commits and challenges are started) and the open
 * challenges at its start (commits are answered only with what those leave: a wrong claim's challenge goes first).
 */
interface BondBudget {
  left: number;
  challengesOwed: number;
}

/** Commits and challenges lock a claim bond from our free stake (contracts/task/TaskManager.sol `commit`, `challenge`). */
const locksBond = (intent: Pick<StoredIntent, "kind">) => intent.kind === "commit" || intent.kind === "challenge";

/** Thrown by a `crashBeforeSend` hook: propagates out of the tick like a crash (nothing recorded after it). */
export class CrashFault extends Error {
  override name = "CrashFault";
}

/** A claim still being computed on a compute thread: the request waits for a later tick (nothing is decided on it yet). */
export class ClaimNotReady extends KeeperError {
  override name = "ClaimNotReady";
  constructor(requestId: bigint) {
    super(`the claim of request ${requestId} is still being computed`, { retryable: true });
  }
}

/** Whether `error` means "ask again on a later tick": the claim is computing, or its thread died (it is restarted). */
const computePending = (error: unknown) => error instanceof ClaimNotReady || error instanceof ComputeWorkerError;

/** A tick that did all it could but left work undone (an intent not accepted yet, a request not reconciled). */
export class TickProblemsError extends KeeperError {
  override name = "TickProblemsError";
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems[0]}; …`, { retryable: true });
  }
}

/**
 * Gas limit of a commit that does not rely on the node's estimator: the commit itself (claim, bond lock, an
 * AtCommit delivery: ~500k measured, docs/gas-snapshot.json) with a margin, the calldata, and the callback's
 * exact gas through two nested calls (each forwards at most 63/64 of what is left, contracts/lib/ExactGasCall.sol).
 * A callback that fails (out of gas, reverts) only makes the oracle record the failure: the commit stands.
 */
export const COMMIT_FIXED_GAS = 700_000n;
export function commitGasBound(calldataBytes: number, callbackGasLimit: bigint): bigint {
  return COMMIT_FIXED_GAS + 16n * BigInt(calldataBytes) + (callbackGasLimit * 66n) / 63n + 20_000n;
}

export interface Keeper {
  tick(): Promise<void>;
  /** Runs ticks until `signal` aborts; resolves after the current tick finishes. */
  run(signal: AbortSignal, pollIntervalMs?: number): Promise<void>;
  readiness(): { ready: boolean; reason?: string };
  /** The loop's state readiness is computed from (published to the ops server's thread). */
  loopState(): LoopState;
  /** The readiness bound in ms. */
  readonly readyWithinMs: number;
  /** Claim computations running on the compute pool (not finished yet). */
  computing(): number;
}

const EVENTS_ABI = [...AIOracleAbi, ...TaskManagerAbi].filter((item) => item.type === "event");
const eventOf = <N extends string>(name: N) => TaskManagerAbi.find((item) => item.type === "event" && item.name === name)! as Extract<(typeof TaskManagerAbi)[number], { type: "event"; name: N }>;
const CLAIM_CHALLENGED = eventOf("ClaimChallenged");
const CHALLENGE_QUEUED = eventOf("ChallengeQueued");
const WATCHED = new Set([
  "AICallbackRequest",
  "ClaimCommitted",
  "ClaimChallenged",
  "ChallengeQueued",
  "ChallengeReleased",
  "GameResolved",
  "ClaimOverturned",
  "RequestCancelled",
  "RequestFinalized",
  "RequestExpired",
]);
/** TaskManager's ClaimStatus and RequestStatus values the keeper reads (contracts/lib/Types.sol). */
const CLAIM_STANDING = 1;
const CLAIM_QUEUED = 6;
const REQUEST_REFUNDED = 7;
const CURSOR = "cursor";
const TICK = "tick";
/** The watcher's remembered block hashes (JSON [[number, hash], …]), persisted with the cursor. */
const HASHES = "blockHashes";
/** The first block this store ever read (a rollback below every witness re-reads from there). */
const START = "startBlock";
/** Rows read per page when walking a status (no fixed cap on the working set). */
const PAGE = 256;
/** `TaskManager.MAX_FINALIZE_BATCH`. */
const FINALIZE_MAX_BATCH = 256;

export function createKeeper(params: KeeperParams): Keeper {
  const { publicClient, store, models, log, metrics, addresses } = params;
  // Records consecutive send failures for the watchdog (the runtime's responder is already watched: same record).
  const responder = watchSends(params.responder);
  const watchdog = createWatchdog({
    publicClient,
    addresses,
    store,
    responder,
    metrics,
    games: params.disputes?.watch ? () => params.disputes!.watch!() : undefined,
    limits: { ...params.watchLimits, ...(params.deadlineMarginSeconds !== undefined ? { deadlineMarginSeconds: params.deadlineMarginSeconds } : {}) },
  });
  let blockers: string[] = [];
  const batchSize = params.batchSize ?? 16;
  const expireUnanswered = params.expireUnanswered ?? true;
  const reconcileEvery = params.reconcileEvery ?? 30;
  const backoff = params.retryBackoff ?? { base: 1, max: 30 };
  const peers = params.peers ?? [];
  const commitBackoffBlocks = params.commitBackoffBlocks ?? 3;
  const finalizeGasPerTx = params.finalizeGasPerTx ?? 8_000_000n;
  /** Head block when each pending request was first seen (the peers' back-off counts from it for a backlog). */
  const firstSeen = new Map<bigint, bigint>();
  /** Intents being made right now (by any lane): a second lane never makes the same intent concurrently. */
  const inFlight = new Set<string>();
  /** Set when a lane hit an injected crash: the other lanes stop sending, as a dead process would. */
  let crashed: CrashFault | undefined;
  /** Whether the last stake read found free stake below one claim bond (logged once per change, `bondBudget`). */
  let stakeShort: boolean | undefined;
  /** Whether the last stake read found our operator jailed (logged once per change, `bondBudget`). */
  let wasJailed = false;
  /** This tick's number, persisted with the cursor (the retry backoff's clock). */
  let tickNo = Number(store.getMeta(TICK) ?? "0");
  const now = () => tickNo;
  const me = responder.address.toLowerCase();
  const computed = new Map<bigint, ComputedClaim>(); // per request, bounded by the live set
  /** Claim computations started on a compute pool and not picked up yet (per request). */
  const inflight = new Map<bigint, { settled: boolean; claim?: ComputedClaim; error?: unknown }>();
  /** Set when a computation settles: ends the run loop's wait, so the next tick picks the result up at once. */
  let wake: (() => void) | undefined;
  /** A computation settled while no wait was running: the run loop's next wait is skipped. */
  let woken = false;
  /** A reconcile pass met a claim still computing: run it again next tick rather than in `reconcileEvery` ticks. */
  let reconcileAgain = false;
  const forgetClaim = (requestId: bigint) => {
    computed.delete(requestId);
    inflight.delete(requestId);
  };
  let watcher: ChainWatcher | undefined;
  let synced = false;
  let lastError: string | undefined;
  const clock = params.clock ?? Date.now;
  let readyWithinMs = params.readyWithinMs ?? readinessBoundMs(1_000);
  const startedAt = clock();
  let lastOkAt: number | undefined;
  let tickStartedAt: number | undefined;

  async function getWatcher(): Promise<ChainWatcher> {
    if (watcher) return watcher;
    const saved = store.getMeta(CURSOR);
    const fromBlock = saved !== undefined ? BigInt(saved) : (params.fromBlock ?? (await publicClient.getBlockNumber()));
    if (store.getMeta(START) === undefined) store.setMeta(START, (saved !== undefined ? 0n : fromBlock).toString());
    watcher = createChainWatcher({
      publicClient,
      address: [addresses.aiOracle, addresses.taskManager],
      events: EVENTS_ABI.filter((e) => WATCHED.has(e.name)) as never,
      fromBlock,
      confirmations: params.confirmations ?? 0,
      knownHashes: savedHashes(),
      deepAncestor,
      onReorg: rollback,
    });
    return watcher;
  }

  function savedHashes(): [bigint, Hex][] {
    const text = store.getMeta(HASHES);
    if (text === undefined) return [];
    return (JSON.parse(text) as [string, Hex][]).map(([n, h]) => [BigInt(n), h]);
  }
  const saveHashes = (hashes: [bigint, Hex][]) => store.setMeta(HASHES, JSON.stringify(hashes.map(([n, h]) => [n.toString(), h])));

  /**
   * A canonical block at or below `below` for a reorg deeper than every remembered block: the highest block a
   * stored request came from whose hash the chain still has (a block hash commits to all blocks below it), else the
   * block before the first one this store read.
   */
  async function deepAncestor(below: bigint): Promise<bigint> {
    for (const { blockNumber, blockHash } of store.listRequestBlocks(below, 64)) {
      const block = await withRetry(() => publicClient.getBlock({ blockNumber })).catch(() => undefined);
      if (block?.hash === blockHash) return blockNumber;
    }
    return BigInt(store.getMeta(START) ?? "0") - 1n;
  }

  /**
   * Rolls the store back to the chain's history up to `ancestor` (a reorg orphaned the blocks above it): every
   * request an orphaned block touched is forgotten with its claims and intents, and is read again from its own first
   * block, so its state is re-derived from the new chain alone (its events, then the intents the chain says are
   * owed). The rollback and the rewound cursor are one store transaction: a keeper killed after it resumes from there.
   */
  function rollback(ancestor: bigint, deep: boolean): bigint {
    let from = ancestor + 1n;
    const forgotten = store.transaction(() => {
      const affected = store.listRequestsTouchedAfter(ancestor);
      for (const r of affected) {
        if (r.blockNumber < from) from = r.blockNumber;
        // The agent first (it finds the request's games in the store to drop their cached traces), then the store.
        params.disputes?.forget?.(r.requestId);
        store.deleteRequest(r.requestId);
        forgetClaim(r.requestId);
      }
      store.setMeta(CURSOR, from.toString());
      saveHashes(savedHashes().filter(([n]) => n < from));
      return affected.length;
    });
    metrics.reorgs.inc();
    const fields = { commonAncestor: ancestor.toString(), rereadFrom: from.toString(), requestsRolledBack: forgotten };
    if (deep) {
      log.error(
        fields,
        "the chain's history differs from what this keeper recorded, below every block it remembers (a reorg deeper than it tracks, or a node restarted with another history): rolled the store back and re-reading",
      );
    } else log.warn(fields, "reorg: rolled the store back and re-reading");
    return from;
  }

  /**
   * Our claim for `request`. On a compute pool the first call starts the computation and throws `ClaimNotReady`, as do
   * calls while it runs; a later tick's call picks the result up (a `ComputeWorkerError` once if its thread died: the
   * next call starts it again). In-thread it is computed here.
   */
  function claimFor(request: StoredRequest): ComputedClaim {
    const cached = computed.get(request.requestId);
    if (cached) return cached;
    const loaded = models.get(request.modelId);
    if (!loaded) throw new InputError(`model ${request.modelId} is not served by this keeper`);
    const compute = params.compute;
    let claim: ComputedClaim;
    if (compute === undefined || compute.claimNow !== undefined) {
      claim = compute?.claimNow ? compute.claimNow({ modelId: request.modelId, input: request.input }) : computeClaim(loaded.executor, request.input);
    } else {
      const job = inflight.get(request.requestId);
      if (job === undefined) {
        const started: { settled: boolean; claim?: ComputedClaim; error?: unknown } = { settled: false };
        inflight.set(request.requestId, started);
        compute
          .claim({ modelId: request.modelId, input: request.input })
          .then(
            (c) => void (started.claim = c),
            (e: unknown) => void (started.error = e),
          )
          .finally(() => {
            started.settled = true;
            if (wake) wake();
            else woken = true;
          });
        throw new ClaimNotReady(request.requestId);
      }
      if (!job.settled) throw new ClaimNotReady(request.requestId);
      inflight.delete(request.requestId);
      if (job.error !== undefined) throw job.error;
      claim = job.claim!;
    }
    if (params.fault) claim = params.fault(claim, request);
    computed.set(request.requestId, claim);
    return claim;
  }

  /**
   * Starts the claims of `requests` as batches, one per model with two or more requests not yet computed or
   * computing (docs/protocol.md §6.0 "Batches"): in-thread they are computed here, on a compute pool each batch is
   * one job and every request of it is in flight until it ends. `claimFor` then finds each claim as if computed
   * alone (same bytes); a request whose input the model refuses gets its error there, alone.
   */
  function startBatches(requests: readonly StoredRequest[]): void {
    const compute = params.compute;
    const now = compute === undefined ? (id: bigint, inputs: readonly Uint8Array[]) => computeClaims(models.get(id)!.executor, inputs) : compute.claimBatchNow;
    const byModel = new Map<bigint, StoredRequest[]>();
    for (const r of requests) {
      if (computed.has(r.requestId) || inflight.has(r.requestId)) continue;
      const loaded = models.get(r.modelId);
      if (!loaded || !loaded.executor.batchable(2).batched) continue;
      let group = byModel.get(r.modelId);
      if (!group) byModel.set(r.modelId, (group = []));
      group.push(r);
    }
    for (const [modelId, group] of byModel) {
      if (group.length < 2) continue;
      const inputs = group.map((r) => r.input);
      if (now) {
        const claims = now(modelId, inputs);
        group.forEach((r, i) => {
          const c = claims[i]!;
          if (!(c instanceof Error)) computed.set(r.requestId, params.fault ? params.fault(c, r) : c);
        });
        metrics.claimBatches.inc();
        continue;
      }
      const entries = group.map((r) => {
        const entry: { settled: boolean; claim?: ComputedClaim; error?: unknown } = { settled: false };
        inflight.set(r.requestId, entry);
        return entry;
      });
      compute!
        .claimBatch(modelId, inputs)
        .then(
          (claims) =>
            entries.forEach((e, i) => {
              const c = claims[i]!;
              if (c instanceof Error) e.error = c;
              else e.claim = c;
            }),
          (error: unknown) => entries.forEach((e) => (e.error = error)),
        )
        .finally(() => {
          for (const e of entries) e.settled = true;
          metrics.claimBatches.inc();
          if (wake) wake();
          else woken = true;
        });
    }
  }

  function handleLog(log_: Log): void {
    const { eventName, args } = decodeEventLog({ abi: EVENTS_ABI, data: log_.data, topics: log_.topics }) as {
      eventName: string;
      args: Record<string, unknown>;
    };
    const block = log_.blockNumber ?? 0n;
    if (typeof args.requestId === "bigint" && eventName !== "AICallbackRequest") {
      if (store.getRequest(args.requestId)) store.touchRequest(args.requestId, block);
    }
    switch (eventName) {
      case "AICallbackRequest": {
        const requestId = args.requestId as bigint;
        const known = store.getRequest(requestId);
        if (known) {
          if (sameRequest(known, args, log_)) return; // seen before (re-read after a reorg or restart)
          // The chain has another request under this id: the stored one came from an orphaned history.
          log.warn({ requestId: requestId.toString(), storedBlock: known.blockNumber.toString(), block: block.toString() }, "request id reused by the chain's history: forgetting the stored one");
          store.deleteRequest(requestId);
          forgetClaim(requestId);
          params.disputes?.forget?.(requestId);
        }
        metrics.requestsSeen.inc();
        const served = models.get(args.modelId as bigint) !== undefined;
        store.upsertRequest({
          requestId,
          modelId: args.modelId as bigint,
          requester: args.account as Address,
          input: fromHex(args.input as Hex),
          blockNumber: block,
          ...(log_.blockHash ? { blockHash: log_.blockHash } : {}),
          status: served ? "pending" : "skipped",
          error: served ? null : `model ${args.modelId} is not served by this keeper`,
        });
        return;
      }
      case "ClaimCommitted":
      case "ClaimChallenged": {
        const isCommit = eventName === "ClaimCommitted";
        const claimId = (isCommit ? args.claimId : args.challengerClaimId) as bigint;
        const operator = (isCommit ? args.operator : args.challenger) as Address;
        store.upsertClaim({
          claimId,
          requestId: args.requestId as bigint,
          operator,
          output: fromHex(args.output as Hex),
          outputHash: args.outputHash as Hex,
          traceRoot: args.traceRoot as Hex,
          ours: operator.toLowerCase() === me,
          status: isCommit ? "standing" : "challenging",
        });
        if (isCommit && operator.toLowerCase() !== me) {
          // Another operator answered: check its claim instead of answering ourselves.
          const request = store.getRequest(args.requestId as bigint);
          if (request && (request.status === "pending" || request.status === "computing")) {
            store.setRequestStatus(request.requestId, "watching");
          }
        }
        if (!isCommit) onChallenge(args);
        return;
      }
      case "ChallengeQueued": {
        // A game is open against the standing claim: this challenge waits for its own (ClaimChallenged then).
        const operator = args.challenger as Address;
        store.upsertClaim({
          claimId: args.challengerClaimId as bigint,
          requestId: args.requestId as bigint,
          operator,
          output: null,
          outputHash: args.outputHash as Hex,
          traceRoot: args.traceRoot as Hex,
          ours: operator.toLowerCase() === me,
          status: "queued",
        });
        return;
      }
      case "ChallengeReleased": {
        const claim = store.getClaim(args.claimId as bigint);
        if (claim) store.touchRequest(claim.requestId, block);
        if (claim) store.upsertClaim({ ...claim, status: "released" });
        return;
      }
      case "ClaimOverturned": {
        const oldClaim = store.getClaim(args.oldClaimId as bigint);
        if (oldClaim) store.upsertClaim({ ...oldClaim, status: "defeated" });
        const newClaim = store.getClaim(args.newClaimId as bigint);
        if (newClaim) store.upsertClaim({ ...newClaim, status: "standing" });
        const request = store.getRequest(args.requestId as bigint);
        if (!request) return;
        // Our challenge won: the claim is now ours to see through to finalization. Another challenger won: a
        // challenge of ours queued behind it is moot (released next tick) and the new standing claim is checked.
        if (newClaim?.ours) store.setRequestStatus(request.requestId, "committed");
        else if (request.status === "disputed" || request.status === "done") store.setRequestStatus(request.requestId, "watching");
        return;
      }
      case "RequestCancelled": {
        // A game found the request undecidable (§5.4): nothing can finalize; it waits for its refund (expire).
        const request = store.getRequest(args.requestId as bigint);
        if (request) store.setRequestStatus(request.requestId, "cancelled");
        forgetClaim(args.requestId as bigint);
        return;
      }
      case "RequestFinalized":
      case "RequestExpired": {
        const requestId = args.requestId as bigint;
        const request = store.getRequest(requestId);
        // A cancelled request keeps its status until our queued claims on it are released (releaseMoot).
        if (request && !(request.status === "cancelled" && hasQueuedClaim(requestId))) store.setRequestStatus(requestId, "done");
        forgetClaim(requestId);
        return;
      }
      default:
        return;
    }
  }

  /** Whether a re-read `AICallbackRequest` is the stored request (same requester, model, input and block). */
  function sameRequest(known: StoredRequest, args: Record<string, unknown>, l: Log): boolean {
    if (known.requester.toLowerCase() !== (args.account as string).toLowerCase() || known.modelId !== (args.modelId as bigint)) return false;
    if (toHex(known.input).toLowerCase() !== (args.input as string).toLowerCase()) return false;
    if (known.blockHash !== undefined && l.blockHash && known.blockHash !== l.blockHash) return false;
    return true;
  }

  function onChallenge(args: Record<string, unknown>): void {
    if (!params.disputes) return;
    const defender = store.getClaim(args.defenderClaimId as bigint);
    const challengerIsUs = (args.challenger as Address).toLowerCase() === me;
    const defenderIsUs = defender?.ours === true;
    if (!challengerIsUs && !defenderIsUs) return;
    const request = store.getRequest(args.requestId as bigint);
    if (!request) return;
    params.disputes.onGameCreated({
      game: args.game as Address,
      requestId: request.requestId,
      defenderClaimId: args.defenderClaimId as bigint,
      challengerClaimId: args.challengerClaimId as bigint,
      ourSide: challengerIsUs ? "challenger" : "defender",
      ...ourClaimIfReady(request),
    });
  }

  /** Our claim for a request, when computed (a game of ours reads it again if not). */
  function ourClaimIfReady(request: StoredRequest): { ours?: ComputedClaim } {
    try {
      return { ours: claimFor(request) };
    } catch (error) {
      if (computePending(error)) return {};
      throw error;
    }
  }

  /** The output hash we computed for `request`, or undefined when we cannot answer it; throws while it is computing. */
  function ourOutputHash(request: StoredRequest): Hex | undefined {
    if (request.status === "skipped" || request.status === "failed") return undefined;
    try {
      return keccak256(toHex(claimFor(request).output) as Hex);
    } catch (error) {
      if (computePending(error)) throw error; // not known yet: nothing may be decided on it
      return undefined;
    }
  }

  const policyFor = (request: StoredRequest): DecidePolicy => ({ me: responder.address, ourOutputHash: ourOutputHash(request), expireUnanswered });

  /** The request as the chain shows it, every read pinned to one block (RPC errors retried, bounded). */
  const readView = (requestId: bigint, ourHash: Hex | undefined): Promise<RequestView> => withRetry(() => readViewOnce(requestId, ourHash));

  async function readViewOnce(requestId: bigint, ourHash: Hex | undefined): Promise<RequestView> {
    const block = await publicClient.getBlock({ blockTag: "latest" });
    const at = { blockNumber: block.number! };
    const tm = { address: addresses.taskManager, abi: TaskManagerAbi } as const;
    const [status, task] = await Promise.all([
      publicClient.readContract({ ...tm, functionName: "getStatus", args: [requestId], ...at }),
      publicClient.readContract({ ...tm, functionName: "getTask", args: [requestId], ...at }),
    ]);
    const view: RequestView = { status: Number(status), now: block.timestamp, ourChallenge: false };
    if (task.standingClaimId === 0n || (status !== ChainStatus.Committed && status !== ChainStatus.Challenged)) return view;
    const s = await publicClient.readContract({ ...tm, functionName: "getClaim", args: [task.standingClaimId], ...at });
    view.standing = { claimId: task.standingClaimId, operator: s.operator, outputHash: s.outputHash, windowEnd: s.windowEnd };
    if (s.operator.toLowerCase() === me || ourHash === undefined || s.outputHash.toLowerCase() === ourHash.toLowerCase()) return view;
    // Is one of our claims already against it (its open game, or queued behind it)? Then a challenge was made.
    const [game, queued] = await Promise.all([
      publicClient.readContract({ ...tm, functionName: "activeGame", args: [task.standingClaimId], ...at }),
      publicClient.readContract({ ...tm, functionName: "queuedChallenges", args: [task.standingClaimId], ...at }),
    ]);
    const ids = [...queued];
    if (game !== zeroAddress) ids.push((await publicClient.readContract({ ...tm, functionName: "getGame", args: [game], ...at })).challengerClaimId);
    const claims = await Promise.all(ids.map((id) => publicClient.readContract({ ...tm, functionName: "getClaim", args: [id], ...at })));
    view.ourChallenge = claims.some((c) => c.operator.toLowerCase() === me);
    return view;
  }

  /**
   * Opens the intent `action` for `request` (with its new status, in one store transaction) unless it exists:
   * an open one is left to the intent lane; a settled challenge is never reopened (it was made, or the chain
   * made it moot), a settled commit or expire is reopened (the chain says it is owed again).
   */
  function openIntent(requestId: bigint, action: OwedAction, status: RequestStatus | undefined): StoredIntent | undefined {
    const target = action.kind === "challenge" ? action.target : 0n;
    return store.transaction(() => {
      const existing = store.getIntent(action.kind, requestId, target);
      if (existing?.status === "open") return existing;
      if (existing && action.kind === "challenge") return undefined;
      const intent: StoredIntent = { kind: action.kind, requestId, target, status: "open", attempts: 0, lastError: null, notBefore: 0 };
      store.putIntent(intent);
      if (status !== undefined) store.setRequestStatus(requestId, status);
      return intent;
    });
  }

  /** Applies a decision read from the chain: the request's status, and the intent it owes (if any). */
  function applyDecision(request: StoredRequest, d: Decision): void {
    if (d.action) {
      openIntent(request.requestId, d.action, d.status);
      return;
    }
    if (d.status !== undefined && d.status !== request.status) store.setRequestStatus(request.requestId, d.status, d.reason);
  }

  const intentKey = (i: Pick<StoredIntent, "kind" | "requestId" | "target">) => `${i.kind}:${i.requestId}:${i.target}`;

  async function commitGas(request: StoredRequest, data: Hex, attempts: number): Promise<bigint> {
    const to = addresses.taskManager;
    let estimate: bigint | undefined;
    try {
      estimate = ((await publicClient.estimateGas({ account: responder.address, to, data })) * 12n) / 10n;
    } catch (error) {
      // The estimator's gas search can refuse a commit whose callback fails (it runs out of its exact gas), though
      // the commit itself succeeds: the oracle calls back with exactly the request's gas limit and records a
      // failure. Simulate once at full gas: a real revert surfaces here; otherwise commit with the bound below.
      await publicClient.call({ account: responder.address, to, data });
      log.warn({ requestId: request.requestId.toString(), error: shortError(error) }, "commit gas estimation failed; using the callback gas bound");
    }
    if (estimate !== undefined && attempts === 0) return estimate;
    const header = await publicClient.readContract({ address: addresses.aiOracle, abi: AIOracleAbi, functionName: "getRequestHeader", args: [request.requestId] });
    const bound = commitGasBound((data.length - 2) / 2, header.gasLimit);
    return estimate !== undefined && estimate > bound ? estimate : bound;
  }

  async function send(intent: StoredIntent, request: StoredRequest): Promise<void> {
    const to = addresses.taskManager;
    if (intent.kind === "commit") {
      const data = encodeClaimCall("commit", request.requestId, claimFor(request));
      const gas = await commitGas(request, data, intent.attempts);
      params.crashBeforeSend?.(intent);
      recordOwnClaims(await responder.submit({ kind: "commit", to, data, gas }), request.requestId);
      metrics.commits.inc();
    } else if (intent.kind === "challenge") {
      // The claim the chain challenges is the one standing now; its opening comes from the event that posted it.
      const standing = await withRetry(() => readStandingOpening(publicClient, to, request.requestId, request.blockNumber));
      const data = encodeClaimCall("challenge", request.requestId, claimFor(request), standing);
      params.crashBeforeSend?.(intent);
      recordOwnClaims(await responder.submit({ kind: "challenge", to, data }), request.requestId);
      metrics.challenges.inc();
    } else {
      const data = encodeFunctionData({ abi: TaskManagerAbi, functionName: "expire", args: [request.requestId] });
      params.crashBeforeSend?.(intent);
      const receipt = await responder.submit({ kind: "expire", to, data });
      if (store.getRequest(request.requestId)) store.touchRequest(request.requestId, receipt.blockNumber);
    }
  }

  /**
   * Records the claim our commit or challenge created, from its receipt (before the watcher reads that block), and
   * that its block touched the request: a reorg that takes the block away rolls the request back, and the
   * reconcile pass can see that the chain no longer has the claim (`verifyOwnClaims`). A receipt naming, as our claim
   * on `requestId`, a claim id the store holds as another claim (another operator's, another request's) contradicts
   * what the watcher read from the chain: its block is not (or no longer) on chain, and the intent is not counted as
   * made (a retryable error: the chain is asked again, and the intent retried while it is owed).
   */
  function recordOwnClaims(receipt: TransactionReceipt, requestId_?: bigint): void {
    let contradicted: bigint | undefined;
    for (const l of receipt.logs) {
      if (l.address.toLowerCase() !== addresses.taskManager.toLowerCase()) continue;
      let ev: { eventName: string; args: Record<string, unknown> };
      try {
        ev = decodeEventLog({ abi: EVENTS_ABI, data: l.data, topics: l.topics }) as typeof ev;
      } catch {
        continue;
      }
      const { eventName, args } = ev;
      if (eventName !== "ClaimCommitted" && eventName !== "ClaimChallenged" && eventName !== "ChallengeQueued") continue;
      const operator = (eventName === "ClaimCommitted" ? args.operator : args.challenger) as Address;
      if (operator.toLowerCase() !== me) continue;
      const requestId = args.requestId as bigint;
      if (!store.getRequest(requestId)) continue;
      const claimId = (eventName === "ClaimCommitted" ? args.claimId : args.challengerClaimId) as bigint;
      const held = store.getClaim(claimId);
      if (held && (!held.ours || held.requestId !== requestId)) {
        contradicted = claimId;
        continue;
      }
      if (!held) {
        store.upsertClaim({
          claimId,
          requestId,
          operator,
          output: eventName === "ChallengeQueued" ? null : fromHex(args.output as Hex),
          outputHash: args.outputHash as Hex,
          traceRoot: args.traceRoot as Hex,
          ours: true,
          status: eventName === "ClaimCommitted" ? "standing" : eventName === "ClaimChallenged" ? "challenging" : "queued",
        });
      }
      store.touchRequest(requestId, receipt.blockNumber);
    }
    if (contradicted !== undefined && requestId_ !== undefined) {
      throw new KeeperError(
        `the receipt of ${receipt.transactionHash} (block ${receipt.blockNumber}) names claim ${contradicted} as ours on request ${requestId_}, but the chain gave that id another claim: its block is not on chain`,
        { retryable: true },
      );
    }
  }

  /**
   * Our claims the store holds as live (standing, challenging, queued) that the chain does not have — another claim
   * under that id or none (a reorg the watcher could not see: it took blocks it had not read yet) — are forgotten
   * with the request's settled intents, and the request is re-derived from the chain: a vanished challenge is made
   * again. A claim of ours that lost stays (the chain has it, defeated): nothing is challenged twice.
   */
  async function verifyOwnClaims(problems: string[]): Promise<void> {
    for (const status of ["committed", "disputed"] as const) {
      let after: RequestCursor | undefined;
      for (;;) {
        const page = store.listRequests(status, PAGE, after);
        if (page.length === 0) break;
        after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
        for (const request of page) {
          try {
            const gone: bigint[] = [];
            for (const claim of store.listClaims(request.requestId)) {
              if (!claim.ours || !["standing", "challenging", "queued"].includes(claim.status)) continue;
              const onChain = await withRetry(() =>
                publicClient.readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "getClaim", args: [claim.claimId] }),
              ).catch((error: unknown) => {
                if (decodeRevert(error)?.errorName === "UnknownClaim") return undefined;
                throw error;
              });
              if (onChain && onChain.operator.toLowerCase() === me && onChain.requestId === request.requestId) continue;
              gone.push(claim.claimId);
            }
            if (gone.length === 0) continue;
            const policy = policyFor(request); // before forgetting anything: it throws while our claim is computing
            for (const claimId of gone) {
              log.warn({ requestId: request.requestId.toString(), claimId: claimId.toString() }, "our claim is not on chain (its block was reorged away): re-deriving the request");
              store.deleteClaim(claimId);
            }
            store.deleteSettledIntents(request.requestId);
            applyDecision(request, decide(await readView(request.requestId, policy.ourOutputHash), policy));
          } catch (error) {
            if (computePending(error)) reconcileAgain = true;
            else problems.push(`cannot verify our claims on request ${request.requestId}: ${shortError(error)}`);
          }
        }
      }
    }
  }

  /** Whether the chain shows `intent` happened (else it was made moot). */
  function happened(intent: StoredIntent, view: RequestView, d: Decision): boolean {
    if (intent.kind === "commit") return d.status === "committed";
    if (intent.kind === "challenge") return view.ourChallenge;
    return view.status === ChainStatus.Refunded;
  }

  function settle(intent: StoredIntent, request: StoredRequest, view: RequestView, d: Decision, sendError?: unknown): void {
    const outcome = happened(intent, view, d) ? "done" : "moot";
    const reason = sendError === undefined ? d.reason : `${shortError(sendError)}: ${d.reason}`;
    store.transaction(() => {
      store.putIntent({ ...intent, status: outcome, lastError: outcome === "moot" ? reason : null });
      applyDecision({ ...request, status: store.getRequest(request.requestId)!.status }, { ...d, reason });
    });
    const fields = { requestId: request.requestId.toString(), intent: intent.kind, reason };
    if (outcome === "done") log.info(fields, `${intent.kind} is on chain`);
    else if (intent.kind === "challenge" && d.status === "done" && !/agrees|finalized/.test(d.reason)) log.error(fields, "challenge not made");
    else log.info(fields, `${intent.kind} no longer owed`);
  }

  /**
   * Makes one intent: re-derives from the chain whether it is still owed, sends it, and on a failure asks the
   * chain again: moot (someone else committed, the window closed, the request expired) ends it with the reason;
   * anything else is transient and retried with backoff until the chain makes it moot. Returns "stop" when
   * commits cannot succeed now (no free stake, jailed): the commit batch stops until the next tick.
   */
  async function execute(intent: StoredIntent, executed: Set<string>, problems: string[]): Promise<"ok" | "stop"> {
    const key = intentKey(intent);
    executed.add(key);
    if (crashed) throw crashed;
    if (inFlight.has(key)) return "ok"; // another lane is making it
    // A lane may hold a copy listed before another lane settled it: the store's record decides.
    const current = store.getIntent(intent.kind, intent.requestId, intent.target);
    if (current && current.status !== "open") return "ok";
    inFlight.add(key);
    try {
      return await executeOnce(current ?? intent, problems);
    } catch (error) {
      if (error instanceof CrashFault) crashed = error;
      throw error;
    } finally {
      inFlight.delete(key);
    }
  }

  async function executeOnce(intent: StoredIntent, problems: string[]): Promise<"ok" | "stop"> {
    const request = store.getRequest(intent.requestId);
    if (!request) {
      store.putIntent({ ...intent, status: "moot", lastError: "request not in the store" });
      return "ok";
    }
    let policy: DecidePolicy;
    try {
      policy = policyFor(request);
    } catch (error) {
      if (computePending(error)) return "ok"; // our claim is computing (after a restart): the intent waits, untouched
      throw error;
    }
    let view: RequestView;
    try {
      view = await readView(request.requestId, policy.ourOutputHash);
    } catch (error) {
      retryLater(intent, error, problems);
      return "ok";
    }
    const d = decide(view, policy);
    if (!owes(d.action, intent.kind, intent.target)) {
      settle(intent, request, view, d);
      return "ok";
    }
    try {
      await send(intent, request);
    } catch (error) {
      if (error instanceof CrashFault) throw error;
      const after = await readView(request.requestId, policy.ourOutputHash).catch(() => undefined);
      const d2 = after && decide(after, policy);
      if (after && d2 && !owes(d2.action, intent.kind, intent.target)) {
        settle(intent, request, after, d2, error);
        return "ok";
      }
      if (intent.kind === "commit" && isStakeError(error)) {
        // Our free stake is locked in open claims (or we are jailed): every commit fails alike until it frees up.
        store.transaction(() => {
          store.putIntent({ ...intent, status: "moot", lastError: shortError(error) });
          store.setRequestStatus(request.requestId, "pending", `commit not accepted yet: ${shortError(error)}`);
        });
        log.warn({ requestId: request.requestId.toString(), error: shortError(error) }, "commit not accepted; will retry");
        return "stop";
      }
      retryLater(intent, error, problems);
      return "ok";
    }
    store.transaction(() => {
      store.putIntent({ ...intent, status: "done", lastError: null });
      const next = intent.kind === "commit" ? "committed" : intent.kind === "challenge" ? "disputed" : "done";
      if (store.getRequest(request.requestId)!.status === d.status) store.setRequestStatus(request.requestId, next);
    });
    if (intent.kind === "challenge") log.warn({ requestId: request.requestId.toString(), claimId: intent.target.toString() }, "challenged a wrong claim");
    else if (intent.kind === "commit") log.info({ requestId: request.requestId.toString(), modelId: request.modelId.toString() }, "committed a result");
    else log.info({ requestId: request.requestId.toString(), intent: intent.kind }, "refunded an unanswered request (expire)");
    return "ok";
  }

  function retryLater(intent: StoredIntent, error: unknown, problems: string[]): void {
    const attempts = intent.attempts + 1;
    const delay = retryDelay(attempts, backoff.base, backoff.max);
    store.putIntent({ ...intent, attempts, lastError: shortError(error), notBefore: now() + delay });
    problems.push(`${intent.kind} of request ${intent.requestId} not made yet: ${shortError(error)}`);
    log.warn({ requestId: intent.requestId.toString(), intent: intent.kind, attempts, retryInTicks: delay, error: shortError(error) }, `${intent.kind} not accepted; will retry`);
  }

  /**
   * Answers up to `batchSize` pending requests: each commit is decided and written first (its intent), then all of
   * them are made concurrently, so the responder pipelines them (many commits per block). No more are started than
   * the tick's bond budget leaves after the challenges waiting for stake (`bondBudget`): none while our free stake
   * cannot lock a bond (the requests stay pending, nothing is simulated or sent).
   */
  async function answerPending(executed: Set<string>, problems: string[], budget: BondBudget): Promise<void> {
    const cap = budget.left - budget.challengesOwed;
    if (cap <= 0) return;
    const requests = await ourTurn();
    if (requests.length === 0) return;
    startBatches(requests.slice(0, Math.min(cap, budget.left)));
    const intents: { intent: StoredIntent; request: StoredRequest; started: number }[] = [];
    for (const request of requests) {
      if (intents.length >= cap || intents.length >= budget.left) break;
      try {
        claimFor(request);
      } catch (error) {
        if (error instanceof ClaimNotReady) continue; // computing: a later tick commits it
        if (error instanceof ComputeWorkerError) {
          problems.push(`request ${request.requestId}: ${error.message}`);
          continue; // its thread died: the next tick computes it again
        }
        // Malformed input or an unserved model: record why and move on (never crash, never commit).
        store.setRequestStatus(request.requestId, "failed", shortError(error));
        log.warn({ requestId: request.requestId.toString(), error: shortError(error) }, "cannot answer request");
        continue;
      }
      // The intent is written before anything is sent: a keeper killed from here on makes (or finds) the commit.
      const intent = openIntent(request.requestId, { kind: "commit" }, "computing");
      if (intent) intents.push({ intent, request, started: Date.now() });
    }
    budget.left -= intents.length;
    await inParallel(intents, batchSize, async ({ intent, request, started }) => {
      await execute(intent, executed, problems);
      if (store.getRequest(request.requestId)?.status === "committed") metrics.requestToCommitSeconds.observe((Date.now() - started) / 1000);
    });
  }

  /**
   * Up to `batchSize` pending requests it is our turn to commit to. With `peers`, a request of rank r waits until
   * `commitNotBefore(b, r, commitBackoffBlocks)`, b the later of its block and the head when this keeper first saw it
   * pending (so a backlog found at start is shared too, not free for all at once); the ready ones are taken by rank,
   * then age, so each keeper works through its own share before stepping in for a peer. Pages past the waiting
   * ones: they never hold up the requests behind them. A peer's commit moves a request to `watching`.
   */
  async function ourTurn(): Promise<StoredRequest[]> {
    if (peers.length === 0) return store.listRequests("pending", batchSize);
    const head = await publicClient.getBlockNumber();
    const ready: { request: StoredRequest; rank: number }[] = [];
    const pending = new Set<bigint>();
    let after: RequestCursor | undefined;
    for (;;) {
      const page = store.listRequests("pending", PAGE, after);
      if (page.length === 0) break;
      after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
      for (const request of page) {
        pending.add(request.requestId);
        let seen = firstSeen.get(request.requestId);
        if (seen === undefined) firstSeen.set(request.requestId, (seen = head));
        const rank = peerRank(request.requestId, responder.address, peers);
        const from = request.blockNumber > seen ? request.blockNumber : seen;
        if (head >= commitNotBefore(from, rank, commitBackoffBlocks)) ready.push({ request, rank });
      }
    }
    for (const id of firstSeen.keys()) if (!pending.has(id)) firstSeen.delete(id); // bounded by the pending set
    ready.sort((x, y) => x.rank - y.rank); // stable: within a rank, the store's order (block, id)
    return ready.slice(0, batchSize).map((r) => r.request);
  }

  /**
   * Checks every watching request (paging through all of them: the working set has no fixed cap). A wrong claim's
   * challenge is decided and written here (its intent); `runIntents` makes it, right after, in deadline order within
   * the tick's bond budget.
   */
  async function checkOthers(problems: string[]): Promise<void> {
    let after: RequestCursor | undefined;
    for (;;) {
      const page = store.listRequests("watching", PAGE, after);
      if (page.length === 0) break;
      after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
      for (const request of page) {
        const standing = store.listClaims(request.requestId).find((c) => c.status === "standing");
        if (!standing) continue; // its ClaimCommitted is not confirmed yet, or it expired: the reconcile pass reads the chain
        if (standing.ours) {
          store.setRequestStatus(request.requestId, "committed");
          continue;
        }
        let ours: ComputedClaim;
        try {
          ours = claimFor(request);
        } catch (error) {
          if (error instanceof ClaimNotReady) continue; // computing: checked on a later tick
          if (error instanceof ComputeWorkerError) {
            problems.push(`request ${request.requestId}: ${error.message}`);
            continue;
          }
          store.setRequestStatus(request.requestId, "done", `cannot check: ${shortError(error)}`);
          continue;
        }
        if (standing.output !== null && toHex(ours.output) === toHex(standing.output)) {
          store.setRequestStatus(request.requestId, "done"); // agrees: nothing for us to do
          continue;
        }
        const existing = store.getIntent("challenge", request.requestId, standing.claimId);
        if (existing && existing.status !== "open") {
          // Decided before: made (our claim is on chain) or moot (the chain said why).
          store.setRequestStatus(request.requestId, existing.status === "done" ? "disputed" : "done", existing.lastError ?? undefined);
          continue;
        }
        log.warn({ requestId: request.requestId.toString(), claimId: standing.claimId.toString() }, "wrong claim: challenging");
        openIntent(request.requestId, { kind: "challenge", target: standing.claimId }, "disputed");
      }
    }
  }

  /** Retries the open intents whose backoff has passed (the ones not already tried this tick). */
  /**
   * Makes the open intents whose backoff has passed (the ones not already tried this tick). Commits and challenges
   * each lock a claim bond: no more are made than the tick's bond budget (`bondBudget`), challenges first, the one
   * whose target's challenge window closes first first, then commits oldest request first; the others are left
   * untouched (open, same attempts and backoff), nothing read or sent for them, until stake frees up.
   */
  async function runIntents(executed: Set<string>, problems: string[], budget: BondBudget): Promise<void> {
    let commitsStopped = false;
    const due = store.listIntents("open", { dueBy: now(), limit: 10_000 }).filter((i) => !executed.has(intentKey(i)));
    const bonded = due.filter(locksBond);
    const make = bonded.length <= budget.left ? bonded : budget.left <= 0 ? [] : (await byDeadline(bonded)).slice(0, budget.left);
    budget.left -= make.length;
    const waitingForStake = new Set(bonded.filter((i) => !make.includes(i)).map(intentKey));
    await inParallel([...make, ...due.filter((i) => !locksBond(i))], batchSize, async (intent) => {
      if (intent.kind === "commit" && commitsStopped) return;
      if ((await execute(intent, executed, problems)) === "stop") commitsStopped = true;
    });
    const waiting = store.listIntents("open").filter((i) => i.lastError !== null && !executed.has(intentKey(i)) && !waitingForStake.has(intentKey(i)));
    for (const i of waiting) problems.push(`${i.kind} of request ${i.requestId} not made yet (retrying): ${i.lastError}`);
  }

  /**
   * Intents that lock a bond, in the order stake goes to them: challenges by their target's window end (read from the
   * chain; the claim id, i.e. commit order, if the read fails), then commits by request id. Only called when the
   * budget is short of them, at most once a tick.
   */
  async function byDeadline(intents: StoredIntent[]): Promise<StoredIntent[]> {
    const tm = { address: addresses.taskManager, abi: TaskManagerAbi } as const;
    const keyed = await Promise.all(
      intents.map(async (intent) => {
        if (intent.kind !== "challenge") return { intent, rank: 1, at: intent.requestId };
        const windowEnd = await publicClient
          .readContract({ ...tm, functionName: "getClaim", args: [intent.target] })
          .then((c) => BigInt(c.windowEnd))
          .catch(() => undefined);
        return { intent, rank: 0, at: windowEnd ?? intent.target };
      }),
    );
    const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
    return keyed.sort((a, b) => a.rank - b.rank || cmp(a.at, b.at) || cmp(a.intent.requestId, b.intent.requestId)).map((k) => k.intent);
  }

  /**
   * How many claim bonds this tick may lock: our free stake over the bond, read once a tick through the watchdog's
   * reader (Infinity when the read failed: everything is tried, and a refusal is handled per intent). A shortage is
   * logged once when it starts (with the values and what to do) and once when it ends, not per tick or per request.
   */
  async function bondBudget(): Promise<BondBudget> {
    const open = store.listIntents("open", { limit: 10_000 });
    const challengesOwed = open.filter((i) => i.kind === "challenge").length;
    const stake = await watchdog.readStake();
    if (stake === undefined) return { left: Number.POSITIVE_INFINITY, challengesOwed };
    const jailed = stake.jailed === true;
    if (jailed !== wasJailed) {
      const fields = { operator: stake.operator, jailedUntil: stake.jailedUntil?.toString(), chainTime: stake.now?.toString(), waiting: open.filter(locksBond).length };
      if (jailed) log.error(fields, "our operator is jailed (slashed): owed commits and challenges wait (nothing is sent for them: Staking.lock reverts OperatorJailed) until the jail ends; running games are still played");
      else log.info(fields, "the jail has ended: making the waiting challenges and commits");
    }
    wasJailed = jailed;
    // Jailed, every commit and challenge would revert (Staking.lock): none is made until the chain's time passes jailedUntil.
    if (jailed) return { left: 0, challengesOwed };
    if (stake.bond === 0n) return { left: Number.POSITIVE_INFINITY, challengesOwed };
    const bonds = stake.free / stake.bond;
    const short = bonds === 0n;
    if (short !== (stakeShort ?? false)) {
      const fields = { operator: stake.operator, freeStake: stake.free.toString(), bond: stake.bond.toString(), waiting: open.filter(locksBond).length };
      if (short) {
        log.warn(
          fields,
          "free stake is below one claim bond: owed challenges and commits wait (nothing is sent for them) until bonds are returned or more is staked (`oao keeper stake`)",
        );
      } else log.info(fields, "free stake covers a claim bond again: making the waiting challenges and commits");
    }
    stakeShort = short;
    return { left: bonds > 1_000_000n ? Number.POSITIVE_INFINITY : Number(bonds), challengesOwed };
  }

  /**
   * Re-derives from the chain what is still owed for every request whose store status stands for an action
   * (computing, disputed, expiring) with no open intent, and for watching requests whose standing claim we have
   * not seen (expired or refunded ones leave `watching` here). Run at start-up and every `reconcileEvery` ticks:
   * whatever a crash left half-done is made, found made, or found moot.
   */
  async function reconcile(problems: string[]): Promise<void> {
    await verifyOwnClaims(problems);
    for (const status of ["computing", "disputed", "expiring", "watching"] as const) {
      let after: RequestCursor | undefined;
      for (;;) {
        const page = store.listRequests(status, PAGE, after);
        if (page.length === 0) break;
        after = { blockNumber: page.at(-1)!.blockNumber, requestId: page.at(-1)!.requestId };
        for (const request of page) {
          if (store.listRequestIntents(request.requestId).length > 0) continue; // the intent lane has it
          if (status === "watching" && store.listClaims(request.requestId).some((c) => c.status === "standing")) continue;
          try {
            const policy = policyFor(request);
            const d = decide(await readView(request.requestId, policy.ourOutputHash), policy);
            if (d.action || d.status !== status) log.info({ requestId: request.requestId.toString(), was: status, now: d.status, owed: d.action?.kind, reason: d.reason }, "reconciled with the chain");
            if (d.action?.kind === "challenge") await reopenVanishedChallenge(request, d.action.target);
            applyDecision(request, d);
          } catch (error) {
            if (computePending(error)) reconcileAgain = true; // our claim is computing: decide once it is known
            else problems.push(`cannot reconcile request ${request.requestId}: ${shortError(error)}`);
          }
        }
      }
    }
  }

  /**
   * A challenge the intent log holds as made (`done`) that the chain says is owed (the target stands, its window is
   * open, no claim of ours is its open game's challenger or queued behind it) is reopened — unless the chain's
   * `ClaimChallenged`/`ChallengeQueued` logs against that target name us: then our challenge was made and lost (or
   * was released), and is never repeated. "Made" came from a receipt the chain no longer has (a reorg or
   * `evm_revert` took its block, and the claim it named was not recorded as ours: another claim took its id).
   */
  async function reopenVanishedChallenge(request: StoredRequest, target: bigint): Promise<void> {
    const existing = store.getIntent("challenge", request.requestId, target);
    if (existing?.status !== "done") return;
    if (await challengedOnChain(request, target)) return;
    log.warn(
      { requestId: request.requestId.toString(), claimId: target.toString() },
      "our challenge of a wrong claim is recorded as made but the chain has none (its block was reorged away): making it again",
    );
    store.putIntent({ ...existing, status: "open", attempts: 0, lastError: null, notBefore: 0 });
  }

  /** Whether the chain's logs show a challenge of ours against claim `target` of `request` (open, queued, lost or released). */
  async function challengedOnChain(request: StoredRequest, target: bigint): Promise<boolean> {
    const args = { requestId: request.requestId, defenderClaimId: target };
    const range = { address: addresses.taskManager, args, fromBlock: request.blockNumber, toBlock: "latest" } as const;
    const [challenged, queued] = await Promise.all([
      withRetry(() => publicClient.getLogs({ ...range, event: CLAIM_CHALLENGED })),
      withRetry(() => publicClient.getLogs({ ...range, event: CHALLENGE_QUEUED })),
    ]);
    return [...challenged, ...queued].some((l) => (l.args.challenger as Address | undefined)?.toLowerCase() === me);
  }

  function hasQueuedClaim(requestId: bigint): boolean {
    return store.listClaims(requestId).some((c) => c.ours && c.status === "queued");
  }

  /**
   * Releases our queued challenges whose target stopped standing (§1.6): their games can no longer change the
   * request, so the bond goes back to our free stake at once. Requests a game cancelled are refunded (expire).
   */
  async function releaseMoot(problems: string[]): Promise<void> {
    const requests = [...store.listRequests("watching", batchSize * 4), ...store.listRequests("disputed", batchSize * 4), ...store.listRequests("cancelled", batchSize * 4)];
    for (const request of requests) {
      try {
        await releaseMootOf(request);
      } catch (error) {
        problems.push(`cannot release or refund request ${request.requestId}: ${shortError(error)}`);
      }
    }
  }

  async function releaseMootOf(request: StoredRequest): Promise<void> {
    {
      for (const claim of store.listClaims(request.requestId)) {
        if (!claim.ours || claim.status !== "queued") continue;
        const [onChain, target] = await Promise.all([
          publicClient.readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "getClaim", args: [claim.claimId] }),
          publicClient
            .readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "challengeTarget", args: [claim.claimId] })
            .then((id) => publicClient.readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "getClaim", args: [id] })),
        ]);
        if (onChain.status !== CLAIM_QUEUED) {
          store.upsertClaim({ ...claim, status: onChain.status === 2 ? "challenging" : "released" });
          continue;
        }
        if (target.status === CLAIM_STANDING) continue; // still waiting for its game
        await responder.submit({
          kind: "releaseChallenge",
          to: addresses.taskManager,
          data: encodeFunctionData({ abi: TaskManagerAbi, functionName: "releaseChallenge", args: [claim.claimId] }),
        });
        store.upsertClaim({ ...claim, status: "released" });
        log.info({ requestId: request.requestId.toString(), claimId: claim.claimId.toString() }, "released a moot queued challenge");
      }
      if (request.status !== "cancelled") return;
      const status = await publicClient.readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "getStatus", args: [request.requestId] });
      if (status !== REQUEST_REFUNDED) {
        await responder.submit({
          kind: "expire",
          to: addresses.taskManager,
          data: encodeFunctionData({ abi: TaskManagerAbi, functionName: "expire", args: [request.requestId] }),
        });
      }
      store.setRequestStatus(request.requestId, "done", "cancelled by an undecided game and refunded");
    }
  }

  /**
   * Finalizes our committed requests whose window passed, batched: the due ids are packed by their on-chain reserves
   * (`finalizeGasReserve`) into `finalizeMany` transactions of at most `finalizeGasPerTx` gas (finalize-batch.ts),
   * sent concurrently (the responder pipelines them); the receipt's `RequestFinalized` logs say which were finalized
   * (the contract skips an id it cannot finalize without reverting; such an id is looked at again next tick). A
   * committed request the chain does not show committed (a reorg took our claim away, or it expired, was refunded,
   * finalized by someone else) is re-derived from the chain instead: what is owed again (e.g. the commit) is
   * reopened. One request's failure never stops the others.
   */
  async function finalizeDue(): Promise<void> {
    const block = await publicClient.getBlock();
    const at = { blockNumber: block.number! };
    const tm = { address: addresses.taskManager, abi: TaskManagerAbi } as const;
    const due: DueFinalization[] = [];
    await inParallel(store.listRequests("committed", batchSize * 4), batchSize, async (request) => {
      try {
        const task = await publicClient.readContract({ ...tm, functionName: "getTask", args: [request.requestId], ...at });
        const claim =
          task.standingClaimId === 0n ? undefined : await publicClient.readContract({ ...tm, functionName: "getClaim", args: [task.standingClaimId], ...at });
        const live = task.status === ChainStatus.Committed || task.status === ChainStatus.Challenged;
        if (!live || claim === undefined || claim.operator.toLowerCase() !== me) {
          const policy = policyFor(request);
          const d = decide(await readView(request.requestId, policy.ourOutputHash), policy);
          if (d.status !== "committed") {
            log.warn({ requestId: request.requestId.toString(), now: d.status, owed: d.action?.kind, reason: d.reason }, "committed request re-derived from the chain");
            applyDecision(request, d);
          }
          return;
        }
        if (task.status !== ChainStatus.Committed || claim.windowEnd >= block.timestamp || claim.openGames !== 0) return;
        const reserve = await publicClient.readContract({ ...tm, functionName: "finalizeGasReserve", args: [request.requestId], ...at });
        due.push({ requestId: request.requestId, reserve });
      } catch (error) {
        log.info({ requestId: request.requestId.toString(), error: shortError(error) }, "cannot check finalization yet");
      }
    });
    due.sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0)); // deterministic packing
    const batches = packFinalizations(due, finalizeGasPerTx, FINALIZE_MAX_BATCH);
    await inParallel(batches, batches.length, async ({ requestIds, gas }) => {
      if (crashed) throw crashed;
      try {
        const receipt = await responder.submit({
          kind: "finalize",
          to: addresses.taskManager,
          data: encodeFunctionData({ abi: TaskManagerAbi, functionName: "finalizeMany", args: [requestIds] }),
          gas,
        });
        const finalized = finalizedIn(receipt);
        store.transaction(() => {
          for (const id of requestIds) if (finalized.has(id)) store.setRequestStatus(id, "done");
        });
        for (const id of requestIds) {
          if (finalized.has(id)) log.info({ requestId: id.toString() }, "finalized a claim");
          else log.info({ requestId: id.toString() }, "finalizeMany skipped the request; looking again next tick");
        }
      } catch (error) {
        log.info({ requestIds: requestIds.map(String), error: shortError(error) }, "finalize not accepted yet");
      }
    });
  }

  /** Ids of the requests a receipt's `RequestFinalized` logs (of our task manager) name. */
  function finalizedIn(receipt: TransactionReceipt): Set<bigint> {
    const ids = new Set<bigint>();
    for (const l of receipt.logs) {
      if (l.address.toLowerCase() !== addresses.taskManager.toLowerCase()) continue;
      try {
        const event = decodeEventLog({ abi: TaskManagerAbi, data: l.data, topics: l.topics });
        if (event.eventName === "RequestFinalized") ids.add(event.args.requestId);
      } catch {
        // another event of the task manager
      }
    }
    return ids;
  }

  /** Withdraws what the operator earned (oracle fee credits, staking rewards) once it is worth it. */
  async function claimEarnings(): Promise<void> {
    const me_ = responder.address;
    const [credit, rewards] = await Promise.all([
      publicClient.readContract({ address: addresses.aiOracle, abi: AIOracleAbi, functionName: "pendingWithdrawal", args: [me_] }),
      publicClient.readContract({ address: addresses.staking, abi: StakingAbi, functionName: "claimable", args: [me_] }),
    ]);
    const min = params.minClaim ?? 0n;
    if (credit > min) {
      await responder.submit({ kind: "withdrawCredit", to: addresses.aiOracle, data: encodeFunctionData({ abi: AIOracleAbi, functionName: "withdraw", args: [me_] }) });
      log.info({ amount: credit.toString() }, "withdrew oracle credit (fees, wei)");
    }
    if (rewards > min) {
      await responder.submit({ kind: "claimRewards", to: addresses.staking, data: encodeFunctionData({ abi: StakingAbi, functionName: "claimRewards", args: [me_] }) });
      log.info({ amount: rewards.toString() }, "claimed staking rewards (slash shares, stake token units)");
    }
  }

  /** One tick; its outcome is what `readiness` reports until the next. */
  async function tick(): Promise<void> {
    tickStartedAt = clock();
    try {
      await tickOnce();
      lastError = undefined;
      lastOkAt = clock();
      metrics.lastSuccessfulTick.set(lastOkAt / 1000);
    } catch (error) {
      lastError = shortError(error);
      metrics.tickFailures.inc();
      throw error;
    } finally {
      // What would keep us from doing the job even when the tick succeeds (stake, tx path, games, backlog); part
      // of the tick, so a watchdog stuck on a frozen node shows as a long tick.
      if (synced) {
        blockers = await watchdog.check().catch((error: unknown) => {
          log.warn({ error: shortError(error) }, "watchdog check failed");
          return blockers;
        });
      }
      tickStartedAt = undefined;
    }
  }
  const loopState = (): LoopState => ({ synced, startedAt, lastOkAt, tickStartedAt, lastError, ...(blockers.length > 0 ? { blockers } : {}) });

  let ticks = 0;
  async function tickOnce(): Promise<void> {
    const w = await getWatcher();
    const events = await w.poll();
    store.transaction(() => {
      for (const event of events) {
        if (event.type === "reorg") continue; // rolled back already (`rollback`, before the re-read)
        for (const l of event.logs) handleLog(l);
      }
      store.setMeta(CURSOR, w.cursor.toString());
      saveHashes(w.hashes());
      store.setMeta(TICK, String(++tickNo));
    });
    metrics.headBlock.set(Number(w.cursor));
    metrics.queueDepth.set(store.countRequests("pending"));
    synced = true;
    const problems: string[] = [];
    const executed = new Set<string>();
    if (ticks++ % reconcileEvery === 0 || reconcileAgain) {
      reconcileAgain = false;
      await reconcile(problems);
    }
    // Independent lanes (docs/protocol.md §6.0, "Lanes"): answering, checking others (then retrying the intents both
    // left open), the games and finalizing run concurrently, so one slow or failing lane never holds up the others'
    // transactions; an intent is never made by two lanes at once (`inFlight`). The tick reports the first lane that
    // failed, after all settled.
    const failures: unknown[] = [];
    const settle = (results: PromiseSettledResult<unknown>[]) => {
      for (const r of results) if (r.status === "rejected") failures.push(r.reason);
    };
    const budget = await bondBudget();
    await Promise.allSettled([
      (async () => {
        settle(
          await Promise.allSettled([
            answerPending(executed, problems, budget),
            (async () => {
              await releaseMoot(problems);
              await checkOthers(problems);
            })(),
          ]),
        );
        if (!crashed) await runIntents(executed, problems, budget);
      })().catch((error: unknown) => void failures.push(error)),
      Promise.resolve(params.disputes?.tick()).catch((error: unknown) => void failures.push(error)),
      finalizeDue().catch((error: unknown) => void failures.push(error)),
    ]);
    if (crashed) throw crashed;
    if (params.claimEvery !== undefined && ticks % params.claimEvery === 0) await claimEarnings();
    if (failures.length > 0) throw failures[0];
    // Everything else was done: report what is still owed, so the tick (and /readyz) shows it.
    if (problems.length > 0) throw new TickProblemsError(problems);
  }

  return {
    tick,
    get readyWithinMs() {
      return readyWithinMs;
    },
    loopState,
    computing: () => [...inflight.values()].filter((j) => !j.settled).length,
    async run(signal, pollIntervalMs = 1_000) {
      if (params.readyWithinMs === undefined) readyWithinMs = readinessBoundMs(pollIntervalMs);
      while (!signal.aborted) {
        try {
          await tick();
        } catch {
          log.error({ error: lastError }, "tick failed; retrying");
        }
        if (woken) {
          woken = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const done = () => (clearTimeout(timer), (wake = undefined), resolve());
          const timer = setTimeout(done, pollIntervalMs);
          wake = done; // a claim computation settled: pick it up now
          signal.addEventListener("abort", done, { once: true });
        });
      }
    },
    readiness: () => evaluateReadiness(loopState(), clock(), readyWithinMs),
  };
}

/**
 * Runs `fn` on every item, at most `limit` at once (the responder pipelines what they send). Waits for all; a
 * `CrashFault` (a test's injected crash) is rethrown after the others settled.
 */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let crash: unknown;
  const lane = async () => {
    while (next < items.length && crash === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        if (error instanceof CrashFault) crash = error;
        else throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (crash !== undefined) throw crash;
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

export { shortError };


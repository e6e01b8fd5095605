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
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from "viem";
import { AIOracleAbi, StakingAbi, TaskManagerAbi } from "../../../sdk/src/abis/generated.ts";
import { fromHex, InputError, toHex } from "../../graph/index.ts";
import type { Responder } from "../chain/responder.ts";
import { createChainWatcher, type ChainWatcher } from "../chain/watcher.ts";
import type { Logger } from "./logger.ts";
import type { KeeperMetrics } from "./metrics.ts";
import type { KeeperStore, StoredRequest } from "../store/store.ts";
import { computeClaim, type ComputedClaim } from "./inference.ts";
import type { ModelBook } from "./models.ts";
import { encodeClaimCall } from "./claims.ts";

/**
 * Fault injection for tests and demos only: rewrites the claim this keeper computed before it is
 * committed (keeper/src/dispute builds consistent wrong claims, e.g. wrong from node N on).
 */
export type ClaimTransform = (claim: ComputedClaim, request: StoredRequest) => ComputedClaim;

/** The dispute agent (keeper/src/dispute): plays every game this keeper is in. */
export interface DisputeAgent {
  /** Called when a game involving one of our claims is created. */
  onGameCreated(game: { game: Address; requestId: bigint; defenderClaimId: bigint; challengerClaimId: bigint; ourSide: "defender" | "challenger"; ours: ComputedClaim }): void;
  tick(): Promise<void>;
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
  /** Every this many ticks, withdraw fee credits and staking rewards above `minClaim` wei (off if unset). */
  claimEvery?: number;
  minClaim?: bigint;
  disputes?: DisputeAgent;
}

export interface Keeper {
  tick(): Promise<void>;
  /** Runs ticks until `signal` aborts; resolves after the current tick finishes. */
  run(signal: AbortSignal, pollIntervalMs?: number): Promise<void>;
  readiness(): { ready: boolean; reason?: string };
}

const EVENTS_ABI = [...AIOracleAbi, ...TaskManagerAbi].filter((item) => item.type === "event");
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

export function createKeeper(params: KeeperParams): Keeper {
  const { publicClient, responder, store, models, log, metrics, addresses } = params;
  const batchSize = params.batchSize ?? 16;
  const me = responder.address.toLowerCase();
  const computed = new Map<bigint, ComputedClaim>(); // per request, bounded by the live set
  let watcher: ChainWatcher | undefined;
  let synced = false;
  let lastError: string | undefined;

  async function getWatcher(): Promise<ChainWatcher> {
    if (watcher) return watcher;
    const saved = store.getMeta(CURSOR);
    const fromBlock = saved !== undefined ? BigInt(saved) : (params.fromBlock ?? (await publicClient.getBlockNumber()));
    watcher = createChainWatcher({
      publicClient,
      address: [addresses.aiOracle, addresses.taskManager],
      events: EVENTS_ABI.filter((e) => WATCHED.has(e.name)) as never,
      fromBlock,
      confirmations: params.confirmations ?? 0,
    });
    return watcher;
  }

  function claimFor(request: StoredRequest): ComputedClaim {
    const cached = computed.get(request.requestId);
    if (cached) return cached;
    const loaded = models.get(request.modelId);
    if (!loaded) throw new InputError(`model ${request.modelId} is not served by this keeper`);
    let claim = computeClaim(loaded.executor, request.input);
    if (params.fault) claim = params.fault(claim, request);
    computed.set(request.requestId, claim);
    return claim;
  }

  function handleLog(log_: Log): void {
    const { eventName, args } = decodeEventLog({ abi: EVENTS_ABI, data: log_.data, topics: log_.topics }) as {
      eventName: string;
      args: Record<string, unknown>;
    };
    switch (eventName) {
      case "AICallbackRequest": {
        const requestId = args.requestId as bigint;
        if (store.getRequest(requestId)) return; // seen before (re-read after a reorg or restart)
        metrics.requestsSeen.inc();
        const served = models.get(args.modelId as bigint) !== undefined;
        store.upsertRequest({
          requestId,
          modelId: args.modelId as bigint,
          requester: args.account as Address,
          input: fromHex(args.input as Hex),
          blockNumber: log_.blockNumber ?? 0n,
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
        computed.delete(args.requestId as bigint);
        return;
      }
      case "RequestFinalized":
      case "RequestExpired": {
        const requestId = args.requestId as bigint;
        const request = store.getRequest(requestId);
        // A cancelled request keeps its status until our queued claims on it are released (releaseMoot).
        if (request && !(request.status === "cancelled" && hasQueuedClaim(requestId))) store.setRequestStatus(requestId, "done");
        computed.delete(requestId);
        return;
      }
      default:
        return;
    }
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
      ours: claimFor(request),
    });
  }

  async function answerPending(): Promise<void> {
    for (const request of store.listRequests("pending", batchSize)) {
      let claim: ComputedClaim;
      try {
        claim = claimFor(request);
      } catch (error) {
        // Malformed input or an unserved model: record why and move on (never crash, never commit).
        store.setRequestStatus(request.requestId, "failed", (error as Error).message);
        log.warn({ requestId: request.requestId.toString(), error: (error as Error).message }, "cannot answer request");
        continue;
      }
      const started = Date.now();
      store.setRequestStatus(request.requestId, "computing");
      try {
        await responder.submit({
          kind: "commit",
          to: addresses.taskManager,
          data: encodeClaimCall("commit", request.requestId, claim),
        });
        metrics.commits.inc();
        metrics.requestToCommitSeconds.observe((Date.now() - started) / 1000);
        store.setRequestStatus(request.requestId, "committed");
      } catch (error) {
        const status = await publicClient
          .readContract({ address: addresses.taskManager, abi: TaskManagerAbi, functionName: "getStatus", args: [request.requestId] })
          .catch(() => undefined);
        if (status === 1 /* Requested: nobody committed */) {
          // Not answered yet (e.g. our free stake is all locked in open claims, or the RPC failed):
          // keep it pending and try again next tick; stop this batch so we do not hammer the node.
          store.setRequestStatus(request.requestId, "pending", `commit not accepted yet: ${shortError(error)}`);
          log.warn({ requestId: request.requestId.toString(), error: shortError(error) }, "commit not accepted; will retry");
          break;
        }
        // Another operator committed first (or the request expired): check its claim instead.
        store.setRequestStatus(request.requestId, "watching");
        log.info({ requestId: request.requestId.toString(), error: shortError(error) }, "commit not accepted");
      }
    }
  }

  async function checkOthers(): Promise<void> {
    for (const request of store.listRequests("watching", batchSize * 4)) {
      const standing = store.listClaims(request.requestId).find((c) => c.status === "standing");
      if (!standing) continue; // its ClaimCommitted event is not confirmed yet
      if (standing.ours) {
        store.setRequestStatus(request.requestId, "committed");
        continue;
      }
      const ours = claimFor(request); // served model, well-formed input: it was computed before
      if (standing.output !== null && toHex(ours.output) === toHex(standing.output)) {
        store.setRequestStatus(request.requestId, "done"); // agrees: nothing for us to do
        continue;
      }
      log.warn({ requestId: request.requestId.toString(), claimId: standing.claimId.toString() }, "wrong claim: challenging");
      store.setRequestStatus(request.requestId, "disputed");
      try {
        await responder.submit({
          kind: "challenge",
          to: addresses.taskManager,
          data: encodeClaimCall("challenge", request.requestId, ours),
        });
        metrics.challenges.inc();
      } catch (error) {
        store.setRequestStatus(request.requestId, "failed", `challenge not accepted: ${shortError(error)}`);
        log.error({ requestId: request.requestId.toString(), error: shortError(error) }, "challenge not accepted");
      }
    }
  }

  function hasQueuedClaim(requestId: bigint): boolean {
    return store.listClaims(requestId).some((c) => c.ours && c.status === "queued");
  }

  /**
   * Releases our queued challenges whose target stopped standing (§1.6): their games can no longer change the
   * request, so the bond goes back to our free stake at once. Requests a game cancelled are refunded (expire).
   */
  async function releaseMoot(): Promise<void> {
    const requests = [...store.listRequests("watching", batchSize * 4), ...store.listRequests("disputed", batchSize * 4), ...store.listRequests("cancelled", batchSize * 4)];
    for (const request of requests) {
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
      if (request.status !== "cancelled") continue;
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

  async function finalizeDue(): Promise<void> {
    const block = await publicClient.getBlock();
    for (const request of store.listRequests("committed", batchSize * 4)) {
      const task = await publicClient.readContract({
        address: addresses.taskManager,
        abi: TaskManagerAbi,
        functionName: "getTask",
        args: [request.requestId],
        blockNumber: block.number,
      });
      const claim = await publicClient.readContract({
        address: addresses.taskManager,
        abi: TaskManagerAbi,
        functionName: "getClaim",
        args: [task.standingClaimId],
        blockNumber: block.number,
      });
      if (task.status !== 2 /* Committed */) continue;
      if (claim.windowEnd >= block.timestamp || claim.openGames !== 0) continue;
      try {
        await responder.submit({
          kind: "finalize",
          to: addresses.taskManager,
          data: encodeFunctionData({ abi: TaskManagerAbi, functionName: "finalize", args: [request.requestId] }),
        });
        store.setRequestStatus(request.requestId, "done");
      } catch (error) {
        log.info({ requestId: request.requestId.toString(), error: shortError(error) }, "finalize not accepted yet");
      }
    }
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
    }
    if (rewards > min) {
      await responder.submit({ kind: "claimRewards", to: addresses.staking, data: encodeFunctionData({ abi: StakingAbi, functionName: "claimRewards", args: [me_] }) });
    }
  }

  let ticks = 0;
  async function tick(): Promise<void> {
    const w = await getWatcher();
    const events = await w.poll();
    store.transaction(() => {
      for (const event of events) {
        if (event.type === "reorg") {
          log.warn({ commonAncestor: event.commonAncestor.toString() }, "reorg: re-reading");
          continue;
        }
        for (const l of event.logs) handleLog(l);
      }
      store.setMeta(CURSOR, w.cursor.toString());
    });
    metrics.headBlock.set(Number(w.cursor));
    metrics.queueDepth.set(store.countRequests("pending"));
    synced = true;
    await answerPending();
    await releaseMoot();
    await checkOthers();
    let disputeError: unknown;
    try {
      await params.disputes?.tick();
    } catch (error) {
      disputeError = error; // after finalizing what can be: one failing game must not hold up the rest
    }
    await finalizeDue();
    if (params.claimEvery !== undefined && ++ticks % params.claimEvery === 0) await claimEarnings();
    if (disputeError !== undefined) throw disputeError;
  }

  return {
    tick,
    async run(signal, pollIntervalMs = 1_000) {
      while (!signal.aborted) {
        try {
          await tick();
          lastError = undefined;
        } catch (error) {
          lastError = shortError(error);
          metrics.rpcErrors.inc();
          log.error({ error: lastError }, "tick failed; retrying");
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollIntervalMs);
          signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    },
    readiness: () =>
      !synced ? { ready: false, reason: "not synced yet" } : lastError ? { ready: false, reason: lastError } : { ready: true },
  };
}

export function shortError(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; cause?: { data?: { errorName?: string; args?: unknown[] } } };
  const name = e.cause?.data?.errorName;
  if (name) return `${name}(${(e.cause?.data?.args ?? []).map(String).join(", ")})`;
  return e.shortMessage ?? e.message ?? String(error);
}


/** Prometheus metrics of the keeper (prom-client), on their own registry so tests can inspect them. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface KeeperMetrics {
  registry: Registry;
  requestsSeen: Counter;
  /** Claim batches computed (several requests of one model in one run, Executor.runBatch). */
  claimBatches: Counter;
  commits: Counter;
  challenges: Counter;
  gamesWon: Counter;
  gamesLost: Counter;
  gamesUndecided: Counter;
  /** The watchdog (watchdog.ts): 1 while `reason` keeps the keeper not ready. */
  blocked: Gauge<"reason">;
  freeStake: Gauge;
  bondsAvailable: Gauge;
  txSendFailures: Gauge;
  gamesUnplayable: Gauge;
  backlogDueRequests: Gauge;
  txSent: Counter<"kind">;
  txFailed: Counter<"kind">;
  rpcErrors: Counter;
  reorgs: Counter;
  tickFailures: Counter;
  lastSuccessfulTick: Gauge;
  queueDepth: Gauge;
  headBlock: Gauge;
  requestToCommitSeconds: Histogram;
  /** The compute pool (compute-pool.ts): jobs waiting for a thread, threads running one, threads that died. */
  computeQueueDepth: Gauge;
  computeBusyThreads: Gauge;
  computeThreadDeaths: Counter<"kind">;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): KeeperMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "oao_keeper_" });
  const registers = [registry];
  return {
    registry,
    requestsSeen: new Counter({ name: "oao_keeper_requests_seen_total", help: "Requests observed on chain", registers }),
    claimBatches: new Counter({ name: "oao_keeper_claim_batches_total", help: "Claim computations of several requests of one model run as one batch", registers }),
    commits: new Counter({ name: "oao_keeper_commits_total", help: "Claims this keeper committed", registers }),
    challenges: new Counter({ name: "oao_keeper_challenges_total", help: "Challenges this keeper opened", registers }),
    gamesWon: new Counter({ name: "oao_keeper_games_won_total", help: "Dispute games won", registers }),
    gamesLost: new Counter({ name: "oao_keeper_games_lost_total", help: "Dispute games lost", registers }),
    gamesUndecided: new Counter({ name: "oao_keeper_games_undecided_total", help: "Dispute games that ended undecided (the request was cancelled)", registers }),
    blocked: new Gauge({ name: "oao_keeper_blocked", help: "1 while this reason keeps the keeper not ready (stake, tx_path, games, backlog)", labelNames: ["reason"], registers }),
    freeStake: new Gauge({ name: "oao_keeper_free_stake", help: "The operator's free stake (stake token units; a float, may round)", registers }),
    bondsAvailable: new Gauge({ name: "oao_keeper_bonds_available", help: "Claim bonds (commits or challenges) the free stake can lock", registers }),
    txSendFailures: new Gauge({ name: "oao_keeper_tx_send_failures", help: "Consecutive transaction sends that failed at the node or transport (reset by a success)", registers }),
    gamesUnplayable: new Gauge({ name: "oao_keeper_games_unplayable", help: "Games we are in that we cannot play, whose moves keep failing, or where our move is not being sent", registers }),
    backlogDueRequests: new Gauge({ name: "oao_keeper_backlog_due_requests", help: "Answerable requests within deadlineMarginSeconds of their deadline, not committed", registers }),
    txSent: new Counter({ name: "oao_keeper_tx_sent_total", help: "Transactions sent", labelNames: ["kind"], registers }),
    txFailed: new Counter({ name: "oao_keeper_tx_failed_total", help: "Transactions that reverted or were dropped", labelNames: ["kind"], registers }),
    rpcErrors: new Counter({ name: "oao_keeper_rpc_errors_total", help: "JSON-RPC calls that failed at the transport or node (timeouts included; reverts excluded), retried or not", registers }),
    reorgs: new Counter({ name: "oao_keeper_reorgs_total", help: "Reorgs (or history changes) the store was rolled back for", registers }),
    tickFailures: new Counter({ name: "oao_keeper_tick_failures_total", help: "Service-loop ticks that failed (or left work owed)", registers }),
    lastSuccessfulTick: new Gauge({ name: "oao_keeper_last_successful_tick_timestamp_seconds", help: "Unix time the last tick completed without error", registers }),
    queueDepth: new Gauge({ name: "oao_keeper_queue_depth", help: "Work items waiting", registers }),
    headBlock: new Gauge({ name: "oao_keeper_head_block", help: "Latest block the keeper processed", registers }),
    requestToCommitSeconds: new Histogram({
      name: "oao_keeper_request_to_commit_seconds",
      help: "From the request's block to our commit's inclusion",
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    computeQueueDepth: new Gauge({ name: "oao_keeper_compute_queue_depth", help: "Compute jobs (claims, dispute moves) waiting for a compute thread", registers }),
    computeBusyThreads: new Gauge({ name: "oao_keeper_compute_busy_threads", help: "Compute threads running a job", registers }),
    computeThreadDeaths: new Counter({ name: "oao_keeper_compute_thread_deaths_total", help: "Compute threads that died (crash, out of memory) and were replaced or given up on, by kind (claim, game)", labelNames: ["kind"], registers }),
  };
}

/**
 * Liveness and readiness of the keeper's service loop, as pure functions of its state and a clock (docs/protocol.md
 * §6.0 "Readiness"). Used on the main thread (`Keeper.readiness`) and by the ops server's worker thread (which
 * evaluates the state the main thread last published, with its own clock, so a blocked or hung main loop still
 * shows). Erasable TypeScript only: the worker thread loads this file with Node's type stripping.
 */

export interface Readiness {
  ready: boolean;
  reason?: string;
}

/** What the service loop publishes about itself (times in ms of one clock). */
export interface LoopState {
  /** The first read of the chain completed. */
  synced: boolean;
  /** When the loop started. */
  startedAt: number;
  /** When the last tick that completed without error ended (undefined: none yet). */
  lastOkAt?: number;
  /** When the tick now running started (undefined: none running). */
  tickStartedAt?: number;
  /** The last tick's failure (cleared by a successful tick). */
  lastError?: string;
  /** Reasons outside the loop that keep the keeper not ready (e.g. a configured model that is not served). */
  blockers?: string[];
}

/**
 * The loop state `/readyz` evaluates for `oao keeper run`: the startup model problems (a configured model that is
 * not served, or differs from the chain's) as one blocker first, then the loop's own blockers (the watchdog's);
 * `blockers` undefined when there are none.
 */
export function withModelProblems(state: LoopState, modelProblems: readonly string[]): LoopState {
  const blockers = [...(modelProblems.length > 0 ? [`model not served: ${modelProblems.join("; ")}`] : []), ...(state.blockers ?? [])];
  return { ...state, blockers: blockers.length > 0 ? blockers : undefined };
}

/** The readiness bound: a tick must succeed at least this often, and none may run longer. */
export function readinessBoundMs(pollIntervalMs: number): number {
  return Math.max(3 * pollIntervalMs, 30_000);
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Ready only when the loop has synced, no tick has been running longer than `boundMs`, a tick succeeded within the
 * last `boundMs`, and the last tick did not fail. The time since the last successful tick decides, not only the last
 * tick's result: a tick stuck on an RPC node that never answers makes the keeper not ready within the bound.
 */
export function evaluateReadiness(state: LoopState, now: number, boundMs: number): Readiness {
  const loop = loopReadiness(state, now, boundMs);
  if (!state.blockers || state.blockers.length === 0) return loop;
  // Blockers first, then what the loop itself says (a failing tick is not hidden by a blocker).
  return { ready: false, reason: [...state.blockers, ...(loop.reason !== undefined ? [loop.reason] : [])].join("; ") };
}

function loopReadiness(state: LoopState, now: number, boundMs: number): Readiness {
  if (state.tickStartedAt !== undefined && now - state.tickStartedAt > boundMs) {
    return { ready: false, reason: `a tick has been running for ${secs(now - state.tickStartedAt)} (bound ${secs(boundMs)}): the RPC node is not answering?` };
  }
  if (!state.synced) {
    return now - state.startedAt > boundMs ? { ready: false, reason: `not synced yet after ${secs(now - state.startedAt)}` } : { ready: false, reason: "not synced yet" };
  }
  const since = state.lastOkAt ?? state.startedAt;
  if (now - since > boundMs) {
    return { ready: false, reason: `no successful tick for ${secs(now - since)} (bound ${secs(boundMs)})${state.lastError ? `: ${state.lastError}` : ""}` };
  }
  if (state.lastError !== undefined) return { ready: false, reason: state.lastError };
  return { ready: true };
}

/**
 * Liveness of the main loop from its heartbeat (the last time its event loop ran a timer): healthy while the
 * heartbeat is younger than `boundMs`. A long computation blocks the heartbeat for its duration; only one longer than
 * the bound (a hung loop) is unhealthy.
 */
export function evaluateHealth(heartbeatAt: number, now: number, boundMs: number): { healthy: boolean; mainLoopLagMs: number } {
  const lag = Math.max(0, now - heartbeatAt);
  return { healthy: lag <= boundMs, mainLoopLagMs: lag };
}

/**
 * `oao keeper run --fault SPEC [--fault-seed N]`: a cheating keeper for tests and dispute rehearsals against an
 * operator's own deployment (keeper/game/faults.ts: graph:N, vm:N, false-challenge[:N], silent). It lies in the
 * claims it commits or challenges with and in the games it plays; it says so loudly (a warning at start, the
 * `oao_keeper_fault_injected` gauge, a `fault` field on /healthz and /readyz).
 *
 * And `OAO_TEST_CRASH_BEFORE_SEND=commit|challenge|expire` (tests only): the process kills itself with SIGKILL
 * the first time it is about to send an intent of that kind, after the intent is decided and written, so a test
 * can crash it exactly between deciding and sending. `OAO_TEST_SERVE_LONG_NODES=1` (tests only) serves models whose
 * nodes do not fit the game's VM trace (no step measurement at start): a keeper process computing GPT-2-small claims,
 * to show its ops endpoints and dispute moves are not held up by a long computation (a game on such a model could
 * not be decided, so a keeper serving users never sets it).
 */
import { Gauge } from "prom-client";
import { formatFault, parseFault, type Fault } from "../../game/faults.ts";
import { createCheat, type Cheat } from "../demo/cheat.ts";
import { ConfigError } from "../errors.ts";
import type { ClaimTransform, KeeperParams } from "./keeper.ts";
import type { DisputeAgentParams } from "../dispute/scheduler.ts";
import type { KeeperRuntime } from "./runtime.ts";
import type { IntentKind } from "../store/store.ts";

export interface FaultMode {
  fault: Fault;
  /** `graph:2 (seed 1)`: what /healthz, /readyz and the log show. */
  label: string;
  /** The keeper's claim rewrite. */
  claim: ClaimTransform;
  /** The dispute agent's lying traces; undefined for `silent` (it never plays its games). */
  tracesFor?: DisputeAgentParams["tracesFor"];
}

/** Parses `--fault`/`--fault-seed` and builds one cheat per served model; undefined when no fault is asked for. */
export function faultMode(rt: Pick<KeeperRuntime, "models" | "elf" | "vmTraceDepth" | "metrics" | "log">, spec: string | undefined, seedText: string | undefined): FaultMode | undefined {
  if (spec === undefined || spec === "") {
    if (seedText !== undefined) throw new ConfigError("--fault-seed is only meaningful with --fault");
    return undefined;
  }
  let fault: Fault;
  try {
    fault = parseFault(spec);
  } catch (cause) {
    throw new ConfigError((cause as Error).message, { cause });
  }
  if (fault.kind === "silent" && (fault.at ?? 0n) !== 0n) {
    throw new ConfigError(`--fault ${formatFault(fault)}: a keeper process can only be silent from the start (--fault silent); use \`oao dispute simulate --fault ${formatFault(fault)}\` for a cheater that goes quiet after some posts`);
  }
  const seed = seedText === undefined ? 1 : Number(seedText);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`--fault-seed ${JSON.stringify(seedText)} must be a non-negative integer`);
  const cheats = new Map<bigint, Cheat>();
  for (const id of rt.models.ids()) {
    const loaded = rt.models.get(id)!;
    cheats.set(id, createCheat({ model: loaded.model, executor: loaded.executor, elf: rt.elf, fault, seed, vmTraceDepth: rt.vmTraceDepth }));
  }
  const cheatOf = (modelId: bigint): Cheat => {
    const c = cheats.get(modelId);
    if (c === undefined) throw new Error(`--fault: model ${modelId} is not served by this keeper`);
    return c;
  };
  const label = `${formatFault(fault)} (seed ${seed})`;
  new Gauge({ name: "oao_keeper_fault_injected", help: "1: this keeper runs with an injected fault (--fault; a cheater for tests and rehearsals)", labelNames: ["fault"], registers: [rt.metrics.registry] })
    .labels(label)
    .set(1);
  rt.log.warn(
    { fault: label },
    `FAULT INJECTION: this keeper CHEATS (--fault ${label}): it commits wrong answers and will be slashed. For tests and dispute rehearsals only; never on a deployment that serves users.`,
  );
  return {
    fault,
    label,
    claim: (claim, request) => cheatOf(request.modelId).claim(claim, request.input),
    tracesFor: fault.kind === "silent" ? undefined : (game, loaded, input) => cheatOf(loaded.modelId).traces(input, game.side),
  };
}

const CRASH_KINDS: readonly IntentKind[] = ["commit", "challenge", "expire"];

/** The `crashBeforeSend` hook of OAO_TEST_CRASH_BEFORE_SEND (undefined when unset). */
export function crashHookFromEnv(env: NodeJS.ProcessEnv, log: KeeperRuntime["log"]): KeeperParams["crashBeforeSend"] {
  const kind = env.OAO_TEST_CRASH_BEFORE_SEND;
  if (kind === undefined || kind === "") return undefined;
  if (!CRASH_KINDS.includes(kind as IntentKind)) throw new ConfigError(`OAO_TEST_CRASH_BEFORE_SEND=${JSON.stringify(kind)}: expected one of ${CRASH_KINDS.join(", ")}`);
  log.warn({ kind }, `OAO_TEST_CRASH_BEFORE_SEND: this process kills itself (SIGKILL) before sending its first ${kind} (tests only)`);
  return (intent) => {
    if (intent.kind !== kind) return;
    log.warn({ kind, requestId: intent.requestId.toString() }, "OAO_TEST_CRASH_BEFORE_SEND: SIGKILL");
    process.kill(process.pid, "SIGKILL");
  };
}

/** `OAO_TEST_SERVE_LONG_NODES=1` (tests only): `createKeeperRuntime`'s `skipStepCheck` reason; unset, empty or 0: undefined. */
export function skipStepCheckFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.OAO_TEST_SERVE_LONG_NODES;
  if (v === undefined || v === "" || v === "0") return undefined;
  if (v !== "1") throw new ConfigError(`OAO_TEST_SERVE_LONG_NODES=${JSON.stringify(v)}: expected 1 (or unset)`);
  return "OAO_TEST_SERVE_LONG_NODES=1 (tests only)";
}

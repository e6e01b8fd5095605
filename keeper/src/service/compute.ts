/**
 * Where the keeper's heavy work runs (docs/protocol.md §6.0 "Compute threads"): computing a request's claim (the
 * native executor over the whole graph) and solving dispute-game moves (node traces, guest VM runs and step proofs).
 * `createInThreadCompute` does it on the calling thread; `createComputePool` (compute-pool.ts) in worker threads, so
 * the keeper's event loop (its tick, the ops server's heartbeat) keeps running while a GPT-2-sized inference or a
 * long guest run computes. Both give bit-identical results: the same code runs on the same bytes.

 */
import { solve } from "../../game/solver.ts";
import { MerkleGraphTrace, type DisputeTraces } from "../../game/trace-provider.ts";
import { claimTraces } from "../../game/vm-provider.ts";
import type { Action, GameView, Side } from "../../game/types.ts";
import { InputError, toHex, type Executor, type Model, type RunResult } from "../../graph/index.ts";
import { KeeperError } from "../errors.ts";
import { computeClaim, computeClaims, decodeRequestInput, type ComputedClaim } from "./inference.ts";
import type { ModelBook } from "./models.ts";

/** A request's claim computation: which model, on which input bytes. */
export interface ClaimJob {
  modelId: bigint;
  input: Uint8Array;
}

/** A dispute game to solve a move of: the request it judges (model, input) and the game's current view. */
export interface GameJob {
  /** The game's address: the solver keeps the game's traces under it between moves. */
  game: `0x${string}`;
  modelId: bigint;
  input: Uint8Array;
  view: GameView;
  side: Side;
}

export interface Compute {
  /** Worker threads used (0: everything runs on the calling thread). */
  readonly threads: number;
  /**
   * The claim of a request (output, traceRoot, §3.5 proof). Rejects with an `InputError` for input the model cannot
   * take, and with a `ComputeWorkerError` when the thread computing it died (transient: ask again).
   */
  claim(job: ClaimJob): Promise<ComputedClaim>;
  /**
   * The same, on the calling thread, when this compute runs there (undefined for a pool): callers that can wait use
   * it to keep today's one-tick answer.
   */
  claimNow?(job: ClaimJob): ComputedClaim;
  /**
   * The claims of several requests of one model as one batched run (inference.ts `computeClaims`): per job its claim,
   * or the error its input gives (the others are still computed). Rejects as a whole only when the computation
   * itself did not finish (`ComputeWorkerError`).
   */
  claimBatch(modelId: bigint, inputs: readonly Uint8Array[]): Promise<(ComputedClaim | Error)[]>;
  /** The same on the calling thread, when this compute runs there. */
  claimBatchNow?(modelId: bigint, inputs: readonly Uint8Array[]): (ComputedClaim | Error)[];
  /** The actions our side sends next in a game (keeper/game/solver.ts `solve` over the honest traces). */
  solve(job: GameJob): Promise<Action[]>;
  /** Drops what is kept for a game (it ended, or a rollback forgot it). */
  forgetGame(game: `0x${string}`): void;
  /** Stops the threads; jobs not finished reject. */
  close(): Promise<void>;
}

/** The thread that ran a job died (it crashed, ran out of memory, or the pool was closed): the job did not finish. */
export class ComputeWorkerError extends KeeperError {
  override name = "ComputeWorkerError";
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/** One line naming a job, for errors and logs. */
export function describeJob(job: { type: "claim" | "solve"; modelId: bigint; game?: string }): string {
  return job.type === "claim" ? `the claim computation for model ${job.modelId}` : `the move of game ${job.game} (model ${job.modelId})`;
}

/** Our honest traces of a game's request: the native run's node states and outputs, and the guest program in the VM. */
export function honestTraces(model: Model, executor: Executor, inputBytes: Uint8Array, elf: Uint8Array, run?: RunResult): DisputeTraces {
  const input = decodeRequestInput(model, inputBytes);
  const r = run ?? executor.run(input);
  return claimTraces({ model, input, nodeOutputs: r.nodeOutputs, graph: new MerkleGraphTrace(r.trace.states), elf });
}

/** A claim without the native run (what crosses a thread: the run's node outputs are the size of the model's activations). */
export function claimOnly(claim: ComputedClaim): ComputedClaim {
  return { output: claim.output, traceRoot: claim.traceRoot, proof: claim.proof };
}

/**
 * Game traces kept per game, built on first use from the request (model, input); shared by the in-thread compute and
 * the compute worker. A game is rebuilt from its job after `forget` (or in a fresh worker).
 */
export function createGameSolver(executorOf: (modelId: bigint) => { model: Model; executor: Executor }, elf: Uint8Array) {
  /**
   * Per game address, the traces and the (model, input) they were built from. A game address is not unique over time:
   * after a reorg (evm_revert) the factory creates the game of a request that reuses the id at the same address, with
   * another input, and a rollback may not reach this cache. Traces of another (model, input) are never used.
   */
  const traces = new Map<string, { of: string; traces: DisputeTraces }>();
  return {
    solve(job: GameJob): Action[] {
      const key = job.game.toLowerCase();
      const of = `${job.modelId}:${toHex(job.input)}`;
      let t = traces.get(key);
      if (t === undefined || t.of !== of) {
        const { model, executor } = executorOf(job.modelId);
        t = { of, traces: honestTraces(model, executor, job.input, elf) };
        traces.set(key, t);
      }
      return solve(job.view, job.side, t.traces);
    },
    forget: (game: string) => traces.delete(game.toLowerCase()),
  };
}

/** Everything on the calling thread (config `computeThreads: 0`). */
export function createInThreadCompute(models: ModelBook, elf?: Uint8Array): Compute {
  const executorOf = (modelId: bigint) => {
    const loaded = models.get(modelId);
    if (!loaded) throw new InputError(`model ${modelId} is not served by this keeper`);
    return loaded;
  };
  const games = elf ? createGameSolver(executorOf, elf) : undefined;
  const claimNow = (job: ClaimJob) => computeClaim(executorOf(job.modelId).executor, job.input);
  const claimBatchNow = (modelId: bigint, inputs: readonly Uint8Array[]) => computeClaims(executorOf(modelId).executor, inputs);
  return {
    threads: 0,
    claimNow,
    claim: async (job) => claimNow(job),
    claimBatchNow,
    claimBatch: async (modelId, inputs) => claimBatchNow(modelId, inputs),
    async solve(job) {
      if (!games) throw new KeeperError(`cannot solve game ${job.game}: this compute was made without the guest program (elf)`);
      return games.solve(job);
    },
    forgetGame: (game) => void games?.forget(game),
    close: async () => {},
  };
}

/**
 * An honest keeper and a cheating keeper serving the same requests on a local world, through the
 * real keeper service (watcher, answerer, checker, dispute agent, responder, store): the code path a
 * staker runs, with a fault injected into one of them. Used by `oao dispute simulate` and `oao demo`.
 *
 * The cheater's fault (keeper/game/faults.ts) decides its side: a wrong claim it commits first
 * (graph:N, vm:N, silent) or a wrong challenge against the honest claim (false-challenge).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEventLog, parseAbi, type Address, type Transport } from "viem";
import { Side } from "../../game/types.ts";
import type { Fault } from "../../game/faults.ts";
import { createCheat } from "./cheat.ts";
import type { Model, Tensor } from "../../graph/index.ts";
import { ModelBook, resolveModelPath } from "../service/models.ts";
import { createComputePool, type ComputePool } from "../service/compute-pool.ts";
import { parseKeeperConfig } from "../service/config.ts";
import { createKeeper, type Keeper, type KeeperParams } from "../service/keeper.ts";
import { createKeeperRuntime, type KeeperRuntime } from "../service/runtime.ts";
import { createLogger, type Logger } from "../service/logger.ts";
import { createMetrics } from "../service/metrics.ts";
import { createDisputeAgent } from "../dispute/scheduler.ts";
import { devKey, type LocalWorld } from "./world.ts";

export interface Party {
  name: "honest" | "cheater";
  index: number;
  dataDir: string;
  address: Address;
  runtime: KeeperRuntime;
  keeper: Keeper;
  agent: ReturnType<typeof createDisputeAgent>;
  /** The party's compute pool (its claims and moves off the main thread), when it has one. */
  compute?: ComputePool;
}

export type ProgressEvent =
  | { kind: "committed"; party: string; requestId: bigint }
  | { kind: "challenged"; party: string; requestId: bigint; game: Address }
  | { kind: "game"; game: Address; phase: string; lo: string; hi: string }
  | { kind: "resolved"; game: Address; winner: "honest" | "cheater" }
  | { kind: "finalized"; requestId: bigint }
  | { kind: "time"; seconds: bigint };

/** TaskManager's RequestStatus.Refunded. */
const REQUEST_REFUNDED = 7;
const SLASHED = parseAbi([
  "event Slashed(address indexed operator, uint256 amount, address indexed winner, uint256 toWinner, address indexed requester, uint256 toRequester, uint256 toTreasury, uint64 jailedUntil)",
]);

/** Keeper operators of a scenario: dev accounts 1 (honest) and 2 (cheater). */
export const HONEST_ACCOUNT = 1;
export const CHEATER_ACCOUNT = 2;

/**
 * Both keepers serve `p.model` from one shared model book (one decoded model, one executor): the
 * model file is only named in their configs. The cheater's wrong claim reuses the same executor.
 */
export async function createParties(
  world: LocalWorld,
  p: {
    model: Model;
    modelId: bigint;
    modelFile: string;
    fault: Fault;
    seed: number;
    /** The keepers skip the start-up step check (`createKeeperRuntime`'s `skipStepCheck`), for this reason. */
    skipStepCheck?: string;
    /** Dev account indices of the two keepers (default 1 and 2: HONEST_ACCOUNT, CHEATER_ACCOUNT). */
    accounts?: { honest: number; cheater: number };
    /** Each keeper's logger (default: silent, or OAO_LOG_LEVEL). */
    logFor?: (name: "honest" | "cheater") => Logger;
    /** Withdraw earnings (oracle credit, staking rewards) every this many ticks, as `oao keeper run` does (default: never). */
    claimEvery?: number;
    /** The honest keeper computes claims on this many threads, plus one for its moves (default: in-thread). */
    honestComputeThreads?: number;
  },
) {
  const accounts = p.accounts ?? { honest: HONEST_ACCOUNT, cheater: CHEATER_ACCOUNT };
  if (accounts.honest === accounts.cheater) throw new Error(`the honest and the cheating keeper need two accounts (both are ${accounts.honest})`);
  const models = new ModelBook();
  const { executor } = models.add(p.modelId, p.model);
  const cheat = createCheat({ model: p.model, executor, elf: world.elf, fault: p.fault, seed: p.seed, vmTraceDepth: world.game.vmTraceDepth });
  const scenario = cheat.scenario;

  /** Starts (or, with the same dataDir, restarts) a party's keeper; `transport` overrides the world's. */
  const start = async (
    name: "honest" | "cheater",
    index: number,
    address: Address,
    options: { dataDir?: string; transport?: Transport; fromBlock?: bigint; keeper?: Pick<KeeperParams, "retryBackoff"> } = {},
  ): Promise<Party> => {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `oao-${name}-`));
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the world's transport reaches the chain
      contracts: { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
      dataDir,
      models: { [p.modelId.toString()]: p.modelFile },
      confirmations: 0,
      logLevel: "silent",
    });
    const runtime = await createKeeperRuntime(config, devKey(index), {
      transport: options.transport ?? world.transport,
      models,
      elf: world.elf,
      skipStepCheck: p.skipStepCheck,
      log: p.logFor?.(name) ?? createLogger({ level: process.env.OAO_LOG_LEVEL ?? "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const cheating = name === "cheater";
    const modelFile = resolveModelPath(p.modelFile);
    const compute =
      !cheating && p.honestComputeThreads ? createComputePool({ threads: p.honestComputeThreads, modelFile: (id) => (id === p.modelId ? modelFile : undefined), elf: runtime.elf, log: runtime.log }) : undefined;
    const agent = createDisputeAgent({
      ...(compute ? { compute } : {}),
      publicClient: runtime.publicClient,
      responder: runtime.responder,
      store: runtime.store,
      models: runtime.models,
      elf: runtime.elf,
      log: runtime.log,
      metrics: runtime.metrics,
      ...(cheating ? { tracesFor: (game, _loaded, input: Tensor) => cheat.traces(input, game.side) } : {}),
    });
    const keeper = createKeeper({
      publicClient: runtime.publicClient,
      responder: runtime.responder,
      addresses: runtime.config.contracts,
      store: runtime.store,
      models: runtime.models,
      log: runtime.log,
      metrics: runtime.metrics,
      confirmations: 0,
      fromBlock: options.fromBlock ?? (await runtime.publicClient.getBlockNumber()),
      disputes: agent,
      ...(compute ? { compute } : {}),
      claimEvery: p.claimEvery,
      ...options.keeper,
      ...(cheating ? { fault: (claim, request) => cheat.claim(claim, request.input) } : {}),
    });
    return { name, index, dataDir, address, runtime, keeper, agent, ...(compute ? { compute } : {}) };
  };

  const startBlock = await world.publicClient.getBlockNumber();
  const honestAddress = await world.fundAndStake(accounts.honest);
  const cheaterAddress = await world.fundAndStake(accounts.cheater);
  const parties = {
    scenario,
    honest: await start("honest", accounts.honest, honestAddress, { fromBlock: startBlock }),
    cheater: await start("cheater", accounts.cheater, cheaterAddress, { fromBlock: startBlock }),
    /**
     * Replaces a party's keeper by a fresh one over the same database, as after a crash (the old
     * process's state is dropped without closing anything); optionally on another transport.
     */
    async restart(name: "honest" | "cheater", options: { transport?: Transport; keeper?: Pick<KeeperParams, "retryBackoff"> } = {}): Promise<Party> {
      const old = parties[name];
      void old.compute?.close();
      const fresh = await start(name, old.index, old.address, { dataDir: old.dataDir, transport: options.transport, keeper: options.keeper });
      parties[name] = fresh;
      return fresh;
    },
  };
  return parties;
}

/** One Slashed event of Staking (amounts in the stake token's smallest unit). */
export interface Slash {
  operator: Address;
  amount: bigint;
  winner: Address;
  toWinner: bigint;
  toRequester: bigint;
  toTreasury: bigint;
  /** "transactionHash/logIndex": tells one event from another. */
  id: string;
}

/** Staking's Slashed events from `fromBlock` on. */
export async function readSlashes(world: LocalWorld, fromBlock: bigint): Promise<Slash[]> {
  const logs = await world.publicClient.getLogs({ address: world.addresses.staking, events: SLASHED, fromBlock });
  return logs.map((log) => {
    const { args } = decodeEventLog({ abi: SLASHED, data: log.data, topics: log.topics });
    const { operator, amount, winner, toWinner, toRequester, toTreasury } = args;
    return { operator, amount, winner, toWinner, toRequester, toTreasury, id: `${log.transactionHash}/${log.logIndex}` };
  });
}

/** Gas of one kind of transaction (the responder's kinds: commit, challenge, dispute.moveVm, …). */
export interface KindGas {
  count: number;
  minGas: bigint;
  maxGas: bigint;
  totalGas: bigint;
}

export interface PlayResult {
  /** `undecided`: the game could not decide the disputed node (§5.4): nobody slashed, the request refunded. */
  winner: "honest" | "cheater" | "undecided" | "none";
  cheaterSlashed: bigint;
  graphRounds: number;
  vmRounds: number;
  transactions: number;
  gasUsed: bigint;
  /** Both parties' mined transactions by kind. */
  gasByKind: Record<string, KindGas>;
  /**
   * Wall seconds from the start of the tick in which the first game appeared (the parties building
   * their traces included) until every game was over.
   */
  disputeSeconds: number;
  games: Address[];
}

/**
 * Ticks both keepers until every request in `requestIds` is finalized: the committer first, so the
 * cheater's side matches its fault; a silent cheater stops playing after its allowed posts; when
 * nobody can move, the chain's clock advances (clocks, windows).
 */
export async function playUntilFinal(
  world: LocalWorld,
  parties: Awaited<ReturnType<typeof createParties>>,
  requestIds: bigint[],
  /** Awaited: a reporter may read the chain before the next tick changes it. */
  onProgress: (e: ProgressEvent) => void | Promise<void> = () => {},
  maxTicks = 400,
): Promise<PlayResult> {
  const { honest, cheater, scenario } = parties;
  const order = scenario.cheaterSide === Side.Defender ? [cheater, honest] : [honest, cheater];
  const silentAfter = scenario.silentAfterPosts;
  const startBlock = await world.publicClient.getBlockNumber();
  let disputeStarted: number | undefined;
  let disputeEnded: number | undefined;
  const seenGames = new Set<string>();
  const reported = new Map<string, string>();

  const failures = new Map<string, number>();
  for (let tick = 0; tick < maxTicks; tick++) {
    let tickFailed = false;
    const tickStarted = Date.now();
    const before = await world.publicClient.getBlockNumber();
    let computing = false;
    for (const party of order) {
      if (party === cheater && silentAfter !== undefined) {
        const posts = party.agent.scheduler.active().length === 0 ? 0 : sumTransactions(party);
        // The silent cheater goes offline once it has made its allowed posts in a game.
        if (posts >= silentAfter && seenGames.size > 0) continue;
      }
      try {
        await party.keeper.tick();
        // A keeper with a compute pool picks its claims up on a tick after the one that started them: wait for them
        // and tick it again, so the committer still acts first.
        while (party.keeper.computing() > 0) {
          await until(() => party.keeper.computing() === 0);
          await party.keeper.tick();
        }
        failures.set(party.name, 0);
        // Its moves are sent by a background round of game ticks (solved on the pool's game thread).
        if (party.agent.busy()) computing = true;
      } catch (error) {
        // The cheater's failures do not hold the world up (once it has lost a game it is jailed: its claims and
        // challenges wait for the jail to end, and its readiness says so).
        if (party === cheater) continue;
        // A failed honest tick (an RPC call dropped) is retried on the next one, as `oao keeper run` does;
        // time must not move on meanwhile, or the honest keeper would lose on a flaky connection alone.
        tickFailed = true;
        const n = (failures.get(party.name) ?? 0) + 1;
        failures.set(party.name, n);
        if (n >= 25) throw error;
      }
    }
    // Progress reporting from the honest keeper's store.
    for (const g of honest.runtime.store.listGames<{ address: Address; phase: string; lo: string; hi: string; winner: string | null }>()) {
      const key = g.state.address.toLowerCase();
      if (!seenGames.has(key)) {
        seenGames.add(key);
        disputeStarted ??= tickStarted;
        await onProgress({ kind: "challenged", party: scenario.cheaterSide === Side.Defender ? "honest" : "cheater", requestId: g.requestId, game: g.state.address });
      }
      const line = `${g.state.phase}/${g.state.lo}/${g.state.hi}`;
      if (reported.get(key) !== line) {
        reported.set(key, line);
        await onProgress({ kind: "game", game: g.state.address, phase: g.state.phase, lo: g.state.lo, hi: g.state.hi });
      }
    }
    // Done when every request is final, or refunded (a game found it undecidable, §5.4).
    const settled = await Promise.all(
      requestIds.map(async (id) => (await world.contracts.aiOracle.read.isFinalized([id])) || (await world.contracts.taskManager.read.getStatus([id])) === REQUEST_REFUNDED),
    );
    if (settled.every(Boolean)) break;
    const after = await world.publicClient.getBlockNumber();
    if (computing) {
      // Time must not move on while a party is still computing what it will send (its clock would run out).
      await until(() => order.every((q) => !q.agent.busy()));
      continue;
    }
    if (after === before && !tickFailed) {
      // Nobody had anything to send: let time pass (challenge window, a silent party's clock).
      if (seenGames.size > 0 && disputeEnded === undefined && allGamesDone(honest)) disputeEnded = Date.now();
      const step = world.game.clockDuration + 1n;
      await onProgress({ kind: "time", seconds: step });
      await world.advanceTime(step);
    }
  }
  if (seenGames.size > 0) disputeEnded ??= Date.now();

  // Figures, read back from the chain.
  let cheaterSlashed = 0n;
  let honestSlashed = 0n;
  for (const slash of await readSlashes(world, startBlock)) {
    if (slash.operator.toLowerCase() === cheater.address.toLowerCase()) cheaterSlashed += slash.amount;
    if (slash.operator.toLowerCase() === honest.address.toLowerCase()) honestSlashed += slash.amount;
  }
  const progress = honest.runtime.store.listGames<{ graphRounds: number; vmRounds: number; winner: string | null }>();
  let transactions = 0;
  let gasUsed = 0n;
  const gasByKind: Record<string, KindGas> = {};
  for (const party of [honest, cheater]) {
    for (const tx of party.runtime.store.listTxs()) {
      if (!tx.hash) continue;
      const receipt = await world.publicClient.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined);
      if (!receipt) continue;
      transactions++;
      gasUsed += receipt.gasUsed;
      const k = (gasByKind[tx.kind] ??= { count: 0, minGas: receipt.gasUsed, maxGas: receipt.gasUsed, totalGas: 0n });
      k.count++;
      k.totalGas += receipt.gasUsed;
      if (receipt.gasUsed < k.minGas) k.minGas = receipt.gasUsed;
      if (receipt.gasUsed > k.maxGas) k.maxGas = receipt.gasUsed;
    }
  }
  const undecided = progress.some((g) => g.state.winner === "undecided");
  const winner =
    seenGames.size === 0 ? "none" : cheaterSlashed > 0n && honestSlashed === 0n ? "honest" : honestSlashed > 0n ? "cheater" : undecided ? "undecided" : "none";
  return {
    winner,
    cheaterSlashed,
    graphRounds: Math.max(0, ...progress.map((g) => g.state.graphRounds)),
    vmRounds: Math.max(0, ...progress.map((g) => g.state.vmRounds)),
    transactions,
    gasUsed,
    gasByKind,
    disputeSeconds: disputeStarted !== undefined ? ((disputeEnded ?? Date.now()) - disputeStarted) / 1000 : 0,
    games: [...seenGames] as Address[],
  };
}

/** Waits until `done()` holds: a keeper's computation settles (it calls back on its own thread's results). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("a keeper's computation did not settle within 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sumTransactions(party: Party): number {
  return party.runtime.store.listGames<{ transactions: number }>().reduce((n, g) => n + g.state.transactions, 0);
}

function allGamesDone(party: Party): boolean {
  return party.runtime.store.listGames("active").length === 0;
}

export function closeParties(parties: Awaited<ReturnType<typeof createParties>>): void {
  parties.honest.runtime.close();
  parties.cheater.runtime.close();
  for (const party of [parties.honest, parties.cheater]) void party.compute?.close();
}

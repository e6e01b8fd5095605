/**
 * `oao keeper …`: what a staker runs.
 *   oao keeper run      --config FILE          watch, answer, check, challenge, dispute, finalize
 *   oao keeper stake    AMOUNT --config FILE   approve the stake token and stake AMOUNT (wei)
 *   oao keeper unstake  AMOUNT --config FILE   start unbonding AMOUNT
 *   oao keeper withdraw        --config FILE   withdraw unbonded stake, rewards and oracle credits
 *   oao keeper status  [--json] --config FILE  stake, locks, jail, pending rewards, store counts
 * The operator key comes from OAO_PRIVATE_KEY or OAO_PRIVATE_KEY_FILE (never from the config file,
 * never logged). Every option can also come from the environment (docs/operator-guide.md).
 */
import { Command } from "commander";
import { encodeFunctionData, erc20Abi, type Address, zeroAddress } from "viem";
import { AIOracleAbi, StakingAbi } from "../../../sdk/src/abis/generated.ts";
import { loadKeeperConfig, loadSigningKey, type KeeperConfig } from "../service/config.ts";
import { createKeeper, type Keeper, type KeeperParams } from "../service/keeper.ts";
import { startOpsServer } from "../service/http.ts";
import { createKeeperRuntime, runtimeReadiness, type KeeperRuntime } from "../service/runtime.ts";
import { ConfigError } from "../errors.ts";
import { createDisputeAgent } from "../dispute/scheduler.ts";
import { createKeeperCompute } from "../service/compute-pool.ts";
import type { Compute } from "../service/compute.ts";
import { withModelProblems } from "../service/health.ts";
import { crashHookFromEnv, faultMode, skipStepCheckFromEnv, type FaultMode } from "../service/fault-mode.ts";

interface CommonOpts {
  config?: string;
  json?: boolean;
  fault?: string;
  faultSeed?: string;
}

function configFrom(opts: CommonOpts): KeeperConfig {
  return loadKeeperConfig(opts.config ?? process.env.OAO_CONFIG);
}

function parseAmount(text: string): bigint {
  if (!/^\d+$/.test(text)) throw new ConfigError(`amount ${JSON.stringify(text)} must be a whole number of wei (digits only)`);
  const amount = BigInt(text);
  if (amount === 0n) throw new ConfigError("amount must be greater than zero");
  return amount;
}

async function withRuntime<T>(opts: CommonOpts, fn: (rt: KeeperRuntime) => Promise<T>): Promise<T> {
  const runtime = await createKeeperRuntime(configFrom(opts), loadSigningKey());
  try {
    return await fn(runtime);
  } finally {
    await runtime.responder.idle();
    runtime.close();
  }
}

export async function operatorStatus(rt: KeeperRuntime, operator: Address) {
  const { staking, aiOracle } = rt.config.contracts;
  const token = await rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "stakeToken" });
  const [account, free, claimable, eligible, credit, balance] = await Promise.all([
    rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "getAccount", args: [operator] }),
    rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "freeStake", args: [operator] }),
    rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "claimable", args: [operator] }),
    rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "isEligible", args: [operator] }),
    rt.publicClient.readContract({ address: aiOracle, abi: AIOracleAbi, functionName: "pendingWithdrawal", args: [operator] }),
    rt.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [operator] }),
  ]);
  return {
    operator,
    /** The ERC20 operators stake (Staking.stakeToken()) and this operator's unstaked balance of it. */
    stakeToken: token,
    stakeTokenBalance: balance.toString(),
    active: account.active.toString(),
    locked: account.locked.toString(),
    free: free.toString(),
    unbonding: account.unbonding.toString(),
    unbondingEnd: Number(account.unbondingEnd),
    jailedUntil: Number(account.jailedUntil),
    eligible,
    rewardsClaimable: claimable.toString(),
    oracleCredit: credit.toString(),
    requests: {
      pending: rt.store.countRequests("pending"),
      committed: rt.store.countRequests("committed"),
      watching: rt.store.countRequests("watching"),
      disputed: rt.store.countRequests("disputed"),
      failed: rt.store.countRequests("failed"),
      done: rt.store.countRequests("done"),
    },
  };
}

/**
 * The service `oao keeper run` runs over a runtime (also `oao devnet`'s keeper): compute threads (config
 * computeThreads; 0: on this thread), the dispute agent and the service loop, with the config's settings.
 */
export function createKeeperService(
  rt: KeeperRuntime,
  opts: { fault?: FaultMode; crashBeforeSend?: KeeperParams["crashBeforeSend"]; claimEvery?: number } = {},
): { service: Keeper; compute: Compute } {
  const { fault, crashBeforeSend } = opts;
  // Claims and dispute moves are computed on worker threads (config computeThreads; 0: on this thread).
  const compute = createKeeperCompute({ threads: rt.config.computeThreads, models: rt.models, elf: rt.elf, log: rt.log, metrics: rt.metrics });
  const disputes = createDisputeAgent({
    compute,
    publicClient: rt.publicClient,
    responder: rt.responder,
    store: rt.store,
    models: rt.models,
    elf: rt.elf,
    log: rt.log,
    metrics: rt.metrics,
    ...(fault?.tracesFor ? { tracesFor: fault.tracesFor } : {}),
  });
  const service = createKeeper({
    // A silent cheater (--fault silent) commits its wrong claims and never plays the games.
    disputes: fault && !fault.tracesFor ? undefined : disputes,
    compute,
    ...(fault ? { fault: fault.claim } : {}),
    ...(crashBeforeSend ? { crashBeforeSend } : {}),
    claimEvery: opts.claimEvery,
    fromBlock: rt.config.startBlock !== undefined ? BigInt(rt.config.startBlock) : undefined,
    publicClient: rt.publicClient,
    responder: rt.responder,
    addresses: rt.config.contracts,
    store: rt.store,
    models: rt.models,
    log: rt.log,
    metrics: rt.metrics,
    confirmations: rt.config.confirmations,
    batchSize: Math.min(64, rt.config.maxQueue),
    expireUnanswered: rt.config.expireUnanswered,
    deadlineMarginSeconds: rt.config.deadlineMarginSeconds,
    peers: rt.config.peers,
    commitBackoffBlocks: rt.config.commitBackoffBlocks,
    finalizeGasPerTx: BigInt(rt.config.finalizeGasPerTx),
  });
  return { service, compute };
}

export function buildKeeperCommand(): Command {
  const keeper = new Command("keeper").description("run an operator keeper and manage its stake");
  const withConfig = (c: Command) => c.option("-c, --config <file>", "keeper config file (JSON); or set OAO_CONFIG");

  withConfig(keeper.command("run").description("watch the chain and serve as an operator until SIGINT/SIGTERM"))
    .option("--fault <spec>", "TESTS AND REHEARSALS ONLY: run a cheating keeper (graph:N | vm:N | false-challenge[:N] | silent | token:K); or config.fault")
    .option("--fault-seed <n>", "seed of the fault's unspecified positions (default 1)")
    .action(async (opts: CommonOpts) => {
      const config = configFrom(opts);
      const rt = await createKeeperRuntime(config, loadSigningKey(), { skipStepCheck: skipStepCheckFromEnv(process.env) });
      const fault = faultMode(rt, opts.fault ?? config.fault, opts.faultSeed);
      const crashBeforeSend = crashHookFromEnv(process.env, rt.log);
      const { service, compute } = createKeeperService(rt, { fault, crashBeforeSend, claimEvery: 60 }); // withdraws earnings about once a minute at the default poll interval
      // The ops server runs in a worker thread: it answers while this thread computes (inference, guest runs).
      const ops = await startOpsServer({
        ...rt.config.http,
        metrics: rt.metrics,
        fault: fault?.label,
        readiness: () => runtimeReadiness(rt, service.readiness()),
        loop: () => ({
          state: withModelProblems(service.loopState(), rt.modelProblems),
          boundMs: service.readyWithinMs,
        }),
      });
      rt.log.info({ ops: ops.url }, "keeper running");
      const stop = new AbortController();
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
          rt.log.info({ signal }, "shutting down after the current tick");
          stop.abort();
        });
      }
      await service.run(stop.signal, rt.config.pollIntervalMs);
      await rt.responder.idle();
      await compute.close();
      await ops.close();
      rt.close();
      rt.log.info("keeper stopped");
    });

  withConfig(keeper.command("stake <amount>").description("approve and stake AMOUNT wei of the stake token")).action(
    (amount: string, opts: CommonOpts) =>
      withRuntime(opts, async (rt) => {
        const value = parseAmount(amount);
        const staking = rt.config.contracts.staking;
        const token = await rt.publicClient.readContract({ address: staking, abi: StakingAbi, functionName: "stakeToken" });
        await rt.responder.submit({ kind: "approve", to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [staking, value] }) });
        const receipt = await rt.responder.submit({ kind: "stake", to: staking, data: encodeFunctionData({ abi: StakingAbi, functionName: "stake", args: [value] }) });
        console.log(JSON.stringify({ staked: value.toString(), tx: receipt.transactionHash }));
      }),
  );

  withConfig(keeper.command("unstake <amount>").description("start unbonding AMOUNT wei of free stake")).action(
    (amount: string, opts: CommonOpts) =>
      withRuntime(opts, async (rt) => {
        const value = parseAmount(amount);
        const receipt = await rt.responder.submit({
          kind: "unstake",
          to: rt.config.contracts.staking,
          data: encodeFunctionData({ abi: StakingAbi, functionName: "requestUnstake", args: [value] }),
        });
        console.log(JSON.stringify({ unbonding: value.toString(), tx: receipt.transactionHash }));
      }),
  );

  withConfig(keeper.command("withdraw").description("withdraw unbonded stake, staking rewards and oracle credits")).action(
    (opts: CommonOpts) =>
      withRuntime(opts, async (rt) => {
        const me = rt.responder.address;
        const status = await operatorStatus(rt, me);
        const sent: Record<string, string> = {};
        const now = (await rt.publicClient.getBlock()).timestamp;
        if (BigInt(status.unbonding) > 0n && BigInt(status.unbondingEnd) <= now) {
          sent.stake = (await rt.responder.submit({ kind: "withdraw", to: rt.config.contracts.staking, data: encodeFunctionData({ abi: StakingAbi, functionName: "withdraw" }) })).transactionHash;
        }
        if (BigInt(status.rewardsClaimable) > 0n) {
          sent.rewards = (await rt.responder.submit({ kind: "claimRewards", to: rt.config.contracts.staking, data: encodeFunctionData({ abi: StakingAbi, functionName: "claimRewards", args: [me] }) })).transactionHash;
        }
        if (BigInt(status.oracleCredit) > 0n) {
          sent.oracleCredit = (await rt.responder.submit({ kind: "withdrawCredit", to: rt.config.contracts.aiOracle, data: encodeFunctionData({ abi: AIOracleAbi, functionName: "withdraw", args: [me] }) })).transactionHash;
        }
        // Token-priced models (docs/protocol.md §1.5) pay operators in their fee token: one credit per token.
        const tokens = new Set<Address>();
        for (const modelId of rt.models.ids()) {
          const token = await rt.publicClient.readContract({ address: rt.config.contracts.aiOracle, abi: AIOracleAbi, functionName: "modelFeeToken", args: [modelId] });
          if (token !== zeroAddress) tokens.add(token);
        }
        for (const token of tokens) {
          const credit = await rt.publicClient.readContract({ address: rt.config.contracts.aiOracle, abi: AIOracleAbi, functionName: "pendingTokenWithdrawal", args: [token, me] });
          if (credit === 0n) continue;
          sent[`token:${token}`] = (
            await rt.responder.submit({ kind: "withdrawToken", to: rt.config.contracts.aiOracle, data: encodeFunctionData({ abi: AIOracleAbi, functionName: "withdrawToken", args: [token, me] }) })
          ).transactionHash;
        }
        if (Object.keys(sent).length === 0) {
          console.error(
            BigInt(status.unbonding) > 0n
              ? `nothing to withdraw yet: ${status.unbonding} wei unbonding until ${new Date(status.unbondingEnd * 1000).toISOString()}`
              : "nothing to withdraw",
          );
        }
        console.log(JSON.stringify({ withdrawn: sent }));
      }),
  );

  withConfig(keeper.command("status").description("show this operator's stake, locks, jail and rewards").option("--json", "one JSON object")).action(
    (opts: CommonOpts) =>
      withRuntime(opts, async (rt) => {
        const status = await operatorStatus(rt, rt.responder.address);
        if (opts.json) console.log(JSON.stringify(status));
        else for (const [k, v] of Object.entries(status)) console.log(`${k.padEnd(18)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
      }),
  );
  return keeper;
}

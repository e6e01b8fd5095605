/**
 * Dispute section: whole MNIST disputes on Hardhat's in-process chain, one per injected fault, each
 * through `oao dispute simulate --model mnist --fault KIND --json` in its own process (the real
 * DisputeGame with MIPS.step, two keepers — honest and cheating — running the keeper service).
 * The large model's on-chain dispute is measured by the scale section (`dispute.large.*`).
 */
import type { BenchContext, BenchSection, SectionResult } from "./types.ts";
import { runOaoJson, runScriptJson } from "./util.ts";

interface Simulation {
  winner: string;
  cheaterSlashed: string;
  graphRounds: number;
  vmRounds: number;
  vmTraceDepth: number;
  transactions: number;
  gasUsed: string;
  disputeSeconds: number;
  seconds: number;
}

/** scripts/bench-dispute-blocks.ts's line: one MNIST dispute between two `oao keeper run` processes on anvil's timed blocks. */
interface BlocksRun {
  blockSeconds: number;
  confirmations: number;
  pollIntervalMs: number;
  fault: string;
  vmTraceDepth: number;
  honestWon: boolean;
  disputeWallSeconds: number;
  disputeChainSeconds: number;
  blocksChallengeToResolution: number;
  honestTransactions: number;
  cheaterTransactions: number;
  graphRounds: number;
  vmRounds: number;
}

/** Timed-block runs: [fault, VM trace depth] at 2 s blocks, 1 confirmation (the keeper's default). */
const FULL_BLOCK_RUNS: [string, number][] = [["graph:2", 21], ["vm:1", 21], ["false-challenge:2", 21], ["graph:2", 32]];
const QUICK_BLOCK_RUNS: [string, number][] = [["graph:2", 21]];

const FULL_FAULTS = ["graph:1", "graph:2", "graph:3", "vm:1", "vm:2097152", "false-challenge:2", "silent:3"];
const QUICK_FAULTS = ["graph:2", "vm:1"];

async function run(ctx: BenchContext): Promise<SectionResult> {
  const faults = ctx.quick ? QUICK_FAULTS : FULL_FAULTS;
  const runs: { fault: string; r: Simulation }[] = [];
  for (const fault of faults) {
    ctx.log(`  oao dispute simulate --model mnist --fault ${fault}`);
    const r = await runOaoJson<Simulation>(ctx, ["dispute", "simulate", "--model", "mnist", "--fault", fault, "--seed", "1"]);
    if (r.winner !== "honest") throw new Error(`dispute with fault ${fault}: the ${r.winner} side won`);
    if (BigInt(r.cheaterSlashed) === 0n) throw new Error(`dispute with fault ${fault}: the cheater was not slashed`);
    runs.push({ fault, r });
  }
  // The same disputes on real blocks: anvil mining every 2 s, the keepers as processes with their default config.
  const blockRuns: BlocksRun[] = [];
  const { anvilAvailable, ANVIL_MISSING } = await import("../../test/e2e/harness/anvil.ts");
  if (!anvilAvailable) ctx.log(`  timed-block disputes skipped: ${ANVIL_MISSING}`);
  for (const [fault, depth] of anvilAvailable ? (ctx.quick ? QUICK_BLOCK_RUNS : FULL_BLOCK_RUNS) : []) {
    ctx.log(`  tsx scripts/bench-dispute-blocks.ts --block-s 2 --fault ${fault} --vm-trace-depth ${depth}`);
    const r = await runScriptJson<BlocksRun>(ctx, "scripts/bench-dispute-blocks.ts", ["--block-s", "2", "--fault", fault, "--vm-trace-depth", String(depth)]);
    if (!r.honestWon) throw new Error(`timed-block dispute with fault ${fault}: the honest side did not win`);
    blockRuns.push(r);
  }
  // Silent cheaters end on time, so the full-game figures come from the played-out faults.
  const played = runs.filter((x) => !x.fault.startsWith("silent"));
  const max = (f: (r: Simulation) => number) => Math.max(...played.map((x) => f(x.r)));
  return {
    metrics: [
      { key: "dispute.seconds", value: max((r) => r.disputeSeconds), unit: "s", description: "MNIST: longest dispute wall time (from the tick the honest keeper sees the game, building its traces, to resolution), in-process chain, no block times" },
      { key: "dispute.transactions", value: max((r) => r.transactions), unit: "txs", description: "MNIST: most transactions of both keepers in one request's dispute (commits, challenge, moves, loads, step)" },
      { key: "dispute.gas", value: max((r) => Number(r.gasUsed)), unit: "gas", description: "MNIST: most gas of all those transactions" },
      {
        key: "dispute.blocks2sSeconds",
        value: blockRuns.length ? Math.max(...blockRuns.filter((r) => r.vmTraceDepth === 21).map((r) => r.disputeWallSeconds)) : null,
        unit: "s",
        description: "MNIST: longest dispute on anvil with 2 s blocks (interval mining), 1 confirmation, two `oao keeper run` processes, VM trace depth 21: challenger start to resolution (goal ≤ 45 s)",
      },
    ],
    tables: [
      {
        title: "Whole MNIST disputes on chain, through the keeper service",
        command: "npx oao dispute simulate --model mnist --fault KIND --json",
        columns: ["fault", "winner", "graph rounds", "VM rounds", "VM trace depth", "transactions", "gas (all keeper txs)", "dispute wall s", "whole run s"],
        numeric: [false, false, true, true, true, true, true, true, true],
        rows: runs.map(({ fault, r }) => [`\`${fault}\``, r.winner, r.graphRounds, r.vmRounds, r.vmTraceDepth, r.transactions, Number(r.gasUsed), r.disputeSeconds, r.seconds]),
        notes:
          "Seed 1 (a held-out digit). Hardhat's in-process chain with automine: no block times, which on a real chain " +
          "dominate (the transactions go in sequence). The cheater is slashed in every run. `silent` cheaters stop " +
          "answering and lose on time. Peer: opML's documentation claims a whole MNIST challenge \"within 2 minutes\" " +
          "on a local chain (its MNIST MLP is 784→20→10 in 6 graph nodes).",
      },
      ...(blockRuns.length
        ? [
            {
              title: "Whole MNIST disputes on timed blocks: anvil mining every 2 s, two keeper processes",
              command: "npx tsx scripts/bench-dispute-blocks.ts --block-s 2 --fault KIND --vm-trace-depth D",
              columns: ["fault", "VM trace depth", "graph rounds", "VM rounds", "blocks (challenge → resolution)", "honest txs", "cheater txs", "chain s", "wall s"],
              numeric: [false, true, true, true, true, true, true, true, true],
              rows: blockRuns.map((r) => [`\`${r.fault}\``, r.vmTraceDepth, r.graphRounds, r.vmRounds, r.blocksChallengeToResolution, r.honestTransactions, r.cheaterTransactions, r.disputeChainSeconds, r.disputeWallSeconds]),
              notes:
                "A separate anvil node (npm @foundry-rs/anvil-linux-amd64) with interval mining, and two `oao keeper run` processes with the " +
                "keeper's default `confirmations` 1 and `pollIntervalMs` 1000: the committer's claim is mined, then the other keeper starts and " +
                "challenges. Wall s: from the challenger's start to the game's resolution on chain; chain s: the challenge's block to the " +
                "resolution's block. Both sides post each round's values in the same block, so a round costs one block plus the keeper's " +
                "wait for its confirmation; depth 32 is production's (`vmTraceDepth` 32: 8 VM rounds). Goal (issue 16): ≤ 45 s at 2 s blocks.",
            },
          ]
        : []),
    ],
    charts: [
      {
        id: "dispute-mnist-gas",
        title: "Gas of a whole MNIST dispute, per injected fault",
        kind: "bar",
        xLabel: "fault",
        yLabel: "gas (all transactions)",
        series: [{ name: "gas", points: runs.map(({ fault, r }) => ({ x: fault, y: Number(r.gasUsed) })) }],
      },
      {
        id: "dispute-mnist-seconds",
        title: "MNIST dispute wall time, per injected fault",
        kind: "bar",
        xLabel: "fault",
        yLabel: "seconds",
        series: [{ name: "dispute wall s", points: runs.map(({ fault, r }) => ({ x: fault, y: r.disputeSeconds })) }],
      },
    ],
  };
}

export const section: BenchSection = { id: "dispute", title: "Disputes on chain (MNIST)", run };

/**
 * A whole MNIST dispute on real blocks (issue 16, "MNIST dispute ≤ 45 s at 2 s blocks with 1 confirmation"): a
 * separate anvil node mines a block every `--block-s` seconds (interval mining, not automine), and two
 * `oao keeper run` processes play: an honest operator and a cheater (`--fault`, default graph:2), both with the
 * keeper's default config (1 confirmation, 1 s poll) unless `--confirmations`/`--poll-ms` say otherwise. One
 * MNIST request; the cheater commits a wrong claim first (the honest keeper starts after the cheater's commit is
 * mined), the honest keeper challenges and the game is played to the end (for `false-challenge` the honest
 * operator commits first and the cheater challenges).
 *
 *   npx tsx scripts/bench-dispute-blocks.ts [--block-s 2] [--confirmations 1] [--poll-ms 1000]
 *                                           [--fault graph:2] [--vm-trace-depth 21] [--sample 11]
 *
 * Reports (one JSON line, last on stdout): the dispute's wall seconds from the challenge being sent to the game
 * resolved on chain (from the challenger's start, seen by this script's 100 ms poll), the same span in chain time (block timestamps of the
 * challenge's and the resolution's blocks), blocks, each side's transactions in the game and the game's rounds.
 * Needs the optional dependency @foundry-rs/anvil-linux-amd64 and `npm run build`. Not part of `npm test`
 * (wall time is a benchmark figure, never a test assertion).
 */
import { parseEventLogs, zeroAddress, type Address } from "viem";
import { parseFault } from "../keeper/game/faults.ts";
import { DisputeGameAbi, TaskManagerAbi } from "../sdk/src/abis/generated.ts";
import { anvilAvailable, ANVIL_MISSING, sleep, startAnvil } from "../test/e2e/harness/anvil.ts";
import { startKeeperProc, type KeeperProc } from "../test/e2e/harness/keeper-proc.ts";
import { createE2eWorld } from "../test/e2e/harness/world.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const blockS = Number(flag("--block-s", "2"));
const confirmations = Number(flag("--confirmations", "1"));
const pollMs = Number(flag("--poll-ms", "1000"));
const faultSpec = flag("--fault", "graph:2");
const vmTraceDepth = Number(flag("--vm-trace-depth", "21"));
const sample = Number(flag("--sample", "11"));
// A bad spec fails here, before anything starts. A silent cheater loses on time: a game clock of an hour of real
// blocks, which is not what this measures.
if (["silent", "token"].includes(parseFault(faultSpec).kind)) throw new Error(`--fault ${faultSpec}: expected graph:N, vm:N or false-challenge[:N] (a silent cheater loses on its clock, an hour of blocks; token:K is for text models)`);
for (const [name, v, ok] of [
  ["--block-s", blockS, Number.isInteger(blockS) && blockS >= 1],
  ["--confirmations", confirmations, Number.isInteger(confirmations) && confirmations >= 0],
  ["--poll-ms", pollMs, Number.isInteger(pollMs) && pollMs >= 50],
  ["--vm-trace-depth", vmTraceDepth, Number.isInteger(vmTraceDepth) && vmTraceDepth >= 1 && vmTraceDepth <= 40],
] as const) {
  if (!ok) throw new Error(`${name} ${v}: expected a whole number in range (block-s ≥ 1, confirmations ≥ 0, poll-ms ≥ 50, vm-trace-depth 1..40)`);
}
if (!anvilAvailable) throw new Error(ANVIL_MISSING);

const HONEST = 1;
const CHEATER = 2;
const anvil = await startAnvil({ blockTime: 0, accounts: 10 }); // automine while deploying
const procs: KeeperProc[] = [];
try {
  const world = await createE2eWorld(anvil.url, { game: { vmTraceDepth } });
  const honestAddress = await world.stake(HONEST);
  const cheaterAddress = await world.stake(CHEATER);
  const startBlock = await world.publicClient.getBlockNumber();
  const common = {
    rpcUrl: anvil.url,
    contracts: world.keeperContracts,
    models: { [world.modelId.toString()]: "mnist" },
    startBlock,
    config: { confirmations, pollIntervalMs: pollMs },
  };
  // The committer starts first and its claim is mined before the other keeper starts: the cheater for a wrong
  // claim (graph, vm, silent), the honest operator for false-challenge (the cheater then challenges it).
  const cheaterCommits = parseFault(faultSpec).kind !== "false-challenge";
  const startCheater = () => startKeeperProc({ ...common, key: world.key(CHEATER), fault: faultSpec, faultSeed: 1, name: "cheater" });
  const startHonest = () => startKeeperProc({ ...common, key: world.key(HONEST), name: "honest" });
  const first = await (cheaterCommits ? startCheater() : startHonest());
  procs.push(first);
  await first.waitUp();
  await anvil.intervalMining(blockS);
  const requestId = await world.request(sample);
  for (let i = 0; (await world.standingOperator(requestId)) === zeroAddress; i++) {
    if (i > 600) throw new Error(`${first.name} did not commit request ${requestId} within 60 s:\n${first.log().slice(-3000)}`);
    await sleep(100);
  }
  const second = await (cheaterCommits ? startHonest() : startCheater());
  procs.push(second);
  await second.waitUp();
  const [cheater, honest] = cheaterCommits ? [first, second] : [second, first];
  const challengerUp = Date.now();

  // Wait for the game, then for its resolution; this script only reads the chain.
  let game: Address | undefined;
  let resolvedAt: number | undefined;
  const deadline = Date.now() + 15 * 60_000;
  while (resolvedAt === undefined) {
    if (Date.now() > deadline) throw new Error(`no resolution within 15 min:\nhonest:\n${honest.log().slice(-3000)}\ncheater:\n${cheater.log().slice(-3000)}`);
    if (!game && (await world.contracts.disputeGameFactory.read.gameCount()) > 0n) game = await world.contracts.disputeGameFactory.read.gameAt([0n]);
    if (game) {
      const phase = await world.publicClient.readContract({ address: game, abi: DisputeGameAbi, functionName: "phase" });
      if (phase === 4 /* Resolved */) resolvedAt = Date.now();
    }
    if (resolvedAt === undefined) await sleep(100);
  }
  await anvil.pauseMining();

  // Figures from the chain: the challenge's block and the resolution's block; each side's transactions.
  const head = await world.publicClient.getBlockNumber();
  const tmLogs = await world.publicClient.getLogs({ address: world.addresses.taskManager, fromBlock: startBlock, toBlock: head });
  const challenged = parseEventLogs({ abi: TaskManagerAbi, eventName: "ClaimChallenged", logs: tmLogs })[0];
  const resolved = parseEventLogs({ abi: TaskManagerAbi, eventName: "GameResolved", logs: tmLogs })[0];
  if (!challenged || !resolved) throw new Error("the task manager's logs lack ClaimChallenged or GameResolved");
  const challengeBlock = await world.publicClient.getBlock({ blockNumber: challenged.blockNumber });
  const resolveBlock = await world.publicClient.getBlock({ blockNumber: resolved.blockNumber });
  const challengeTx = await world.publicClient.getTransaction({ hash: challenged.transactionHash });
  const sent = async (from: Address) => (await world.sentTxs(from, challenged.blockNumber)).filter((t) => t.ok).length;
  const honestTxs = await sent(honestAddress);
  const cheaterTxs = await sent(cheaterAddress);
  // Rounds: one RangeNarrowed per round decided (phase Graph = 0, Vm = 2).
  const narrowed = parseEventLogs({ abi: DisputeGameAbi, eventName: "RangeNarrowed", logs: await world.publicClient.getLogs({ address: game!, fromBlock: challenged.blockNumber, toBlock: head }) });
  const rounds = (phase: number) => narrowed.filter((e) => e.args.phase === phase).length;
  const winnerCode = await world.publicClient.readContract({ address: game!, abi: DisputeGameAbi, functionName: "winner" });
  const cheaterJailed = await world.jailed(cheaterAddress);
  const honestJailed = await world.jailed(honestAddress);
  // Wall time of the dispute: from the second keeper's start (it challenges on its first poll) to the resolution.
  const result = {
    blockSeconds: blockS,
    confirmations,
    pollIntervalMs: pollMs,
    fault: faultSpec,
    vmTraceDepth: Number(await world.contracts.disputeGameFactory.read.vmTraceDepth()),
    winner: winnerCode === 0 ? "defender" : winnerCode === 1 ? "challenger" : "undecided",
    honestWon: cheaterJailed && !honestJailed,
    disputeWallSeconds: (resolvedAt - challengerUp) / 1000,
    disputeChainSeconds: Number(resolveBlock.timestamp - challengeBlock.timestamp),
    blocksChallengeToResolution: Number(resolved.blockNumber - challenged.blockNumber),
    challengeSentBy: challengeTx.from,
    honestTransactions: honestTxs,
    cheaterTransactions: cheaterTxs,
    graphRounds: rounds(0),
    vmRounds: rounds(2),
  };
  console.log(JSON.stringify(result));
} finally {
  for (const p of procs) await p.kill("SIGKILL");
  await anvil.stop();
}

/**
 * `oao demo`: the main job, end to end on an embedded chain.
 *   oao demo [--digits N] [--fault KIND[:N]] [--seed S] [--rpc URL] [--json]
 * Starts Hardhat's in-process chain (or uses `--rpc URL`), deploys the protocol with Ignition,
 * registers the shipped MNIST model, starts an honest keeper and a cheating keeper and deploys the
 * DigitClassifier consumer, then asks it to classify real MNIST digits. The cheater answers first
 * with wrong claims; the honest keeper checks them, challenges, plays the dispute (graph bisection,
 * the bound phase transition, VM bisection, one MIPS step on chain), the cheater is slashed and the
 * right digit reaches the consumer's callback.
 *
 * `oao devnet` is in cli/devnet.ts.
 */
import { Command } from "commander";
import { fileURLToPath } from "node:url";
import { createPublicClient, http, type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex } from "../../graph/index.ts";
import { InputError } from "../../graph/errors.ts";
import { formatFault, parseFault, seededDraw } from "../../game/faults.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../service/models.ts";
import { mnemonicToAccount } from "viem/accounts";
import { DEV_MNEMONIC, createLocalWorld } from "../demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../demo/scenario.ts";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface DemoOpts {
  digits: string;
  fault: string;
  seed: string;
  rpc?: string;
  accounts?: string;
  json?: boolean;
}

/** `--accounts 3,4` → the honest and the cheating keeper's dev account indices. */
export function parseAccounts(text: string): { honest: number; cheater: number } {
  const m = /^(\d+),(\d+)$/.exec(text.trim());
  const honest = m ? Number(m[1]) : NaN;
  const cheater = m ? Number(m[2]) : NaN;
  if (!m || honest === cheater || honest === 0 || cheater === 0 || honest > 1000 || cheater > 1000) {
    throw new InputError(`--accounts ${text}: expected two different dev account indices HONEST,CHEATER (not 0, the deployer), e.g. 3,4`);
  }
  return { honest, cheater };
}

export function buildDemoCommand(): Command {
  return new Command("demo")
    .description("the whole protocol on an embedded chain: a cheating keeper is challenged, disputed and slashed")
    .option("--digits <n>", "how many MNIST digits to classify", "2")
    .option("--fault <kind>", "how the cheating keeper lies: graph:N | vm:N | silent[:N]", "graph:2")
    .option("--seed <s>", "picks the digits and unspecified fault positions", "7")
    .option("--rpc <url>", "use this JSON-RPC node (Hardhat or anvil, dev accounts unlocked) instead of the in-process chain")
    .option("--accounts <honest,cheater>", "dev account indices of the two keepers, funded and sending transactions (default 1,2; with --rpc, pick accounts nobody else uses)")
    .option("--json", "last stdout line: one JSON object")
    .action(async (opts: DemoOpts) => runDemo(opts));
}

async function runDemo(opts: DemoOpts): Promise<void> {
  const digits = Number(opts.digits);
  const seed = Number(opts.seed);
  if (!Number.isInteger(digits) || digits < 1 || digits > 20) throw new InputError(`--digits ${opts.digits}: expected 1..20`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError(`--seed ${opts.seed}: expected a non-negative integer`);
  const fault = parseFault(opts.fault);
  if (fault.kind === "false-challenge") {
    throw new InputError("--fault false-challenge: in the demo the cheater answers first; use `oao dispute simulate --fault false-challenge` for a false challenge");
  }
  const say = (line: string) => console.error(line);
  const accounts = parseAccounts(opts.accounts ?? "1,2");
  if (opts.rpc && opts.accounts === undefined) {
    say(
      `oao demo: warning: on ${opts.rpc} the demo's keepers use dev accounts ${accounts.honest} (honest) and ${accounts.cheater} (cheater) of the node's unlocked accounts: ` +
        "they are funded, stake and send transactions from those accounts. If an operator or a devnet keeper uses them on this node, pass --accounts with other indices (e.g. --accounts 3,4).",
    );
  }
  const started = performance.now();
  process.chdir(REPO_ROOT); // Hardhat finds its config (and the artifacts) from the project root

  if (opts.rpc && opts.accounts === undefined) {
    // Accounts that already sent transactions on this node belong to someone (an operator, `oao devnet`'s keeper):
    // two processes sending from one account fight over its nonces.
    for (const [role, index] of Object.entries(accounts)) {
      const address = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address;
      const sent = await createPublicClient({ transport: http(opts.rpc) }).getTransactionCount({ address });
      if (sent > 0) {
        throw new InputError(
          `dev account ${index} (${address}, the ${role} keeper's default) has already sent ${sent} transaction(s) on ${opts.rpc}: someone uses it. Pass --accounts HONEST,CHEATER with two unused indices (e.g. --accounts 5,6).`,
        );
      }
    }
  }
  say(`▸ Starting ${opts.rpc ? `on ${opts.rpc}` : "an in-process chain"} and deploying the protocol with Ignition…`);
  const world = await createLocalWorld({ rpc: opts.rpc });
  say(`  AIOracle ${world.addresses.aiOracle}`);
  say(`  TaskManager ${world.addresses.taskManager}  Staking ${world.addresses.staking}`);
  say(`  DisputeGameFactory ${world.addresses.disputeGameFactory} (real game: MIPS one-step verifier)`);

  const modelFile = resolveModelPath("mnist");
  const model = loadModelFile(modelFile);
  const modelId = await world.registerModel(model);
  say(`▸ Registered model ${modelId}: ${model.metadata.name}, ${model.nodes.length} nodes, modelRoot ${toHex(model.modelRoot)}`);

  const parties = await createParties(world, { model, modelId, modelFile, fault, seed, accounts });
  say(`▸ Keepers staked: honest ${parties.honest.address}, cheating ${parties.cheater.address} (fault ${formatFault(fault)})`);
  try {
    const classifier = await world.conn.viem.deployContract("DigitClassifier", [world.addresses.aiOracle, modelId]);
    say(`▸ Consumer DigitClassifier at ${classifier.address}`);

    const test = loadMnist().test;
    const requests: { requestId: bigint; label: number }[] = [];
    for (let i = 0; i < digits; i++) {
      const sample = test[Number(seededDraw(seed, `digit/${i}`, BigInt(test.length)))]!;
      const image = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
      const hash = await classifier.write.classify([image], { value: await classifier.read.fee() });
      await world.publicClient.waitForTransactionReceipt({ hash });
      const requestId = await world.contracts.aiOracle.read.requestCount();
      requests.push({ requestId, label: sample.label });
      say(`▸ Request ${requestId}: classify an MNIST "${sample.label}"`);
    }

    const cheated = new Set<bigint>();
    const result = await playUntilFinal(
      world,
      parties,
      requests.map((r) => r.requestId),
      (e) => {
        if (e.kind === "challenged") {
          cheated.add(e.requestId);
          say(`▸ Request ${e.requestId}: the honest keeper found a wrong claim and challenged it (game ${e.game})`);
        } else if (e.kind === "game") {
          const label = e.phase === "Graph" ? "phase 2, bisecting graph states" : e.phase === "VmStart" ? "phase transition bound by the contract" : e.phase === "Vm" ? "phase 1, bisecting MIPS steps" : e.phase === "Step" ? "one MIPS step left" : "resolved";
          say(`  game ${e.game.slice(0, 10)}… ${label}: [${e.lo}, ${e.hi}]`);
        } else if (e.kind === "time") {
          say(`  (chain time +${e.seconds} s: challenge window / clocks)`);
        }
      },
    );

    const delivered: number[] = [];
    for (const r of requests) delivered.push(Number(await classifier.read.digitOf([r.requestId])));
    const expected = requests.map((r) => r.label);
    const seconds = (performance.now() - started) / 1000;
    say("");
    say("Summary");
    for (let i = 0; i < requests.length; i++) {
      say(`  request ${requests[i]!.requestId}: delivered ${delivered[i]} (expected ${expected[i]})${cheated.has(requests[i]!.requestId) ? " after a dispute" : ""}`);
    }
    say(`  dispute winner: ${result.winner}; cheater slashed ${result.cheaterSlashed} wei of stake`);
    say(`  ${result.graphRounds} graph round(s), ${result.vmRounds} VM rounds, ${result.transactions} keeper transactions, ${result.gasUsed} gas`);
    say(`  disputes took ${result.disputeSeconds.toFixed(2)} s; whole demo ${seconds.toFixed(1)} s`);
    const summary = {
      delivered,
      expected,
      correct: delivered.every((d, i) => d === expected[i]),
      winner: result.winner,
      cheaterSlashed: result.cheaterSlashed.toString(),
      disputes: result.games.length,
      graphRounds: result.graphRounds,
      vmRounds: result.vmRounds,
      disputeSeconds: Number(result.disputeSeconds.toFixed(3)),
      transactions: result.transactions,
      gasUsed: result.gasUsed.toString(),
      seconds: Number(seconds.toFixed(3)),
    };
    if (opts.json) console.log(JSON.stringify(summary));
    else console.log(summary.correct ? "The right digits were delivered; the cheater was slashed." : "Some digits were not delivered correctly.");
  } finally {
    closeParties(parties);
  }
}

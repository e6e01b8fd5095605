/**
 * `oao demo`: the main job, end to end on an embedded chain.
 *   oao demo [--model text|mnist] [--prompt TEXT] [--digits N] [--fault KIND[:N]] [--seed S] [--rpc URL] [--json]
 * Starts Hardhat's in-process chain (or uses `--rpc URL`), deploys the protocol with Ignition, starts an honest
 * keeper and a cheating keeper, and tells in plain words what happens, in order (docs/protocol.md §5):
 * - `--model text` (default): registers the shipped language model (keeper/models/text_lm/generate.oao, a text
 *   model, §3.3 and §3.9), deploys the ORA-style OAOPromptConsumer and sends it a prompt, which it passes on with
 *   `requestCallback`. The cheater commits an altered continuation (default fault `token:K`: token K replaced by
 *   the runner-up, the rest computed honestly from it); the honest keeper challenges, the dispute narrows to token
 *   K's choice (its ArgMax node), then to one MIPS instruction executed on chain, the cheater is slashed and the
 *   consumer's `aiOracleCallback` ends with the honest text.
 * - `--model mnist`: registers the shipped MNIST model, deploys the DigitClassifier consumer and asks it to classify
 *   real MNIST digits, with the same dispute and slash (default fault `graph:2`).
 *
 * `oao devnet` is in cli/devnet.ts.
 */
import { Command } from "commander";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, formatEther, http, parseEventLogs, type Address, type Hex } from "viem";
import { decodeTensor, encodeTensor, quantizeInput, toHex, type Model } from "../../graph/index.ts";
import { InputError } from "../../graph/errors.ts";
import { formatFault, parseFault, seededDraw, type Fault } from "../../game/faults.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { SHIPPED_MODELS_DIR, executorFor, loadModelFile, resolveModelPath } from "../service/models.ts";
import { decodeRequestInput } from "../service/inference.ts";
import { mnemonicToAccount } from "viem/accounts";
import { decodeText, encodePrompt } from "../../../sdk/src/text.ts";
import { DEV_MNEMONIC, createLocalWorld, type LocalWorld } from "../demo/world.ts";
import { closeParties, createParties, playUntilFinal, readSlashes, type PlayResult, type ProgressEvent } from "../demo/scenario.ts";
import { boundNode, describeNode, describeStep, firstDifference, generationSteps, markedTexts, readGameStory, stakeUnits, type GameStory } from "../demo/story.ts";
import { DEV_DEFAULTS } from "../../../ignition/modules/dev/OracleDev.ts";
import { GAME_DEFAULTS } from "../../../ignition/modules/OracleCore.ts";

/** The devnet's challenge window (OracleLocal uses the dev defaults). */
const LOCAL_CHALLENGE_WINDOW = DEV_DEFAULTS.challengeWindow;

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The shipped text model the demo serves: the greedy generation graph of the trained byte-level LM. */
export const TEXT_MODEL_FILE = join(SHIPPED_MODELS_DIR, "text_lm", "generate.oao");
export const DEFAULT_PROMPT = "And God said unto Moses,";
/** The default `token:K` fault alters token K = this (or the last one before the honest text ends), so it shows. */
const DEFAULT_FAULT_TOKEN = 3;
const DEMO_MODELS = ["text", "mnist"] as const;
type DemoModel = (typeof DEMO_MODELS)[number];

interface DemoOpts {
  model: string;
  prompt?: string;
  digits?: string;
  fault?: string;
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

/**
 * A prompt's UTF-8 bytes for a text model of context `context` bytes, or an InputError saying what to change.
 */
export function promptBytes(prompt: string, context: number): Uint8Array {
  const bytes = encodePrompt(prompt);
  if (bytes.length === 0) throw new InputError(`--prompt is empty: give the model 1..${context} bytes of text to continue`);
  if (bytes.length > context) {
    throw new InputError(`--prompt is ${bytes.length} bytes of UTF-8 but the text model's context is ${context} bytes: shorten it to at most ${context} bytes`);
  }
  return bytes;
}

/**
 * The default fault of the text demo: token K = DEFAULT_FAULT_TOKEN, or earlier if the honest text ends before it
 * (its first 0x00), so the altered byte is one the consumer receives.
 */
export function defaultTokenFault(honestOutput: Uint8Array): Fault {
  const end = honestOutput.indexOf(0);
  const last = (end < 0 ? honestOutput.length : end + 1) - 1;
  return { kind: "token", at: BigInt(Math.max(0, Math.min(DEFAULT_FAULT_TOKEN, last))) };
}

export function buildDemoCommand(): Command {
  return new Command("demo")
    .description("the whole protocol on an embedded chain: a prompt, a cheating keeper's altered text challenged, disputed and slashed, the honest text delivered")
    .option("--model <name>", "text: the shipped language model continues a prompt; mnist: classify MNIST digits", "text")
    .option("--prompt <text>", `text model: the prompt (at most the model's context in UTF-8 bytes; default ${JSON.stringify(DEFAULT_PROMPT)})`)
    .option("--digits <n>", "--model mnist: how many MNIST digits to classify (default 2)")
    .option("--fault <kind>", "how the cheating keeper lies: token:K (text default: a few tokens in) | graph:N (mnist default graph:2) | vm:N | silent[:N]")
    .option("--seed <s>", "picks the digits and unspecified fault positions", "7")
    .option("--rpc <url>", "use this JSON-RPC node (Hardhat or anvil, dev accounts unlocked) instead of the in-process chain")
    .option("--accounts <honest,cheater>", "dev account indices of the two keepers, funded and sending transactions (default 1,2; with --rpc, pick accounts nobody else uses)")
    .option("--json", "last stdout line: one JSON object")
    .action(async (opts: DemoOpts) => runDemo(opts));
}

async function runDemo(opts: DemoOpts): Promise<void> {
  const kind = opts.model as DemoModel;
  if (!DEMO_MODELS.includes(kind)) throw new InputError(`--model ${opts.model}: expected text (the language model, default) or mnist (the digit classifier)`);
  if (kind === "mnist" && opts.prompt !== undefined) throw new InputError("--prompt is for the text model: --model mnist classifies digits (--digits N)");
  if (kind === "text" && opts.digits !== undefined) throw new InputError("--digits is for --model mnist: the text model continues a prompt (--prompt TEXT)");
  const digits = Number(opts.digits ?? "2");
  const seed = Number(opts.seed);
  if (!Number.isInteger(digits) || digits < 1 || digits > 20) throw new InputError(`--digits ${opts.digits}: expected 1..20`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError(`--seed ${opts.seed}: expected a non-negative integer`);
  const fault = opts.fault === undefined ? undefined : parseFault(opts.fault);
  if (fault?.kind === "false-challenge") {
    throw new InputError("--fault false-challenge: in the demo the cheater answers first; use `oao dispute simulate --fault false-challenge` for a false challenge");
  }
  if (fault?.kind === "token" && kind === "mnist") throw new InputError(`--fault ${opts.fault}: token:K alters a generated token; --model mnist generates none (use graph:N, vm:N or silent)`);
  const modelFile = kind === "text" ? TEXT_MODEL_FILE : resolveModelPath("mnist");
  const model = loadModelFile(modelFile);
  // Checked before any chain is started: a prompt the model cannot take.
  const prompt = kind === "text" ? (opts.prompt ?? DEFAULT_PROMPT) : "";
  const input = kind === "text" ? promptBytes(prompt, model.input.shape[0]!) : new Uint8Array(0);

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
  // The text model's largest nodes (the prompt's prefill) run far more guest steps than the local game's 2^21: its
  // world has production's VM trace depth, which covers every node of the shipped model (docs/text-generation.md).
  const world = await createLocalWorld({ rpc: opts.rpc, ...(kind === "text" ? { game: { vmTraceDepth: GAME_DEFAULTS.vmTraceDepth } } : {}) });
  say(`  AIOracle ${world.addresses.aiOracle}`);
  say(`  TaskManager ${world.addresses.taskManager}  Staking ${world.addresses.staking}`);
  say(`  DisputeGameFactory ${world.addresses.disputeGameFactory} (real game: MIPS one-step verifier; phase 1 covers 2^${world.game.vmTraceDepth} VM steps per node)`);

  const modelId = await world.registerModel(model);
  const kindWords = kind === "text" ? `a text model generating ${generationSteps(model).length} bytes for a prompt of up to ${model.input.shape[0]} bytes` : "an image classifier";
  say(`▸ Registered model ${modelId}: ${model.metadata.name}, ${kindWords}; ${model.nodes.length} graph nodes, modelRoot ${toHex(model.modelRoot)}`);
  const units = await stakeUnits(world);
  const demo = { world, model, modelId, modelFile, seed, accounts, say, units, json: opts.json === true, started };
  if (kind === "text") {
    // A keeper measures every node's guest steps against the game's trace before serving a model (minutes for this
    // one, cached in its data directory by `oao keeper run`); the demo's fresh keepers skip it: production's depth
    // above holds the shipped model's largest node (it needs 27, docs/text-generation.md).
    await textDemo({ ...demo, prompt, input, fault, skipStepCheck: "oao demo: the text model's largest node fits production's depth" });
  } else await digitDemo({ ...demo, digits, fault: fault ?? parseFault("graph:2") });
}

interface DemoContext {
  world: LocalWorld;
  model: Model;
  modelId: bigint;
  modelFile: string;
  seed: number;
  accounts: { honest: number; cheater: number };
  say: (line: string) => void;
  units: Awaited<ReturnType<typeof stakeUnits>>;
  json: boolean;
  started: number;
}

type Parties = Awaited<ReturnType<typeof createParties>>;

/** Stakes both keepers and says who they are and what the stake is. */
async function startKeepers(d: DemoContext, fault: Fault, skipStepCheck?: string): Promise<Parties> {
  const parties = await createParties(d.world, { model: d.model, modelId: d.modelId, modelFile: d.modelFile, fault, seed: d.seed, accounts: d.accounts, skipStepCheck });
  const stake = (await d.world.contracts.staking.read.getAccount([parties.honest.address])).active;
  const bond = await d.world.contracts.taskManager.read.claimBond();
  d.say(`▸ Two keepers staked ${d.units.format(stake)} each (${d.units.symbol} is the stake token, MockStakeToken on this local chain, ${d.units.decimals} decimals); every claim or challenge locks a bond of ${d.units.format(bond)}:`);
  d.say(`  honest  ${parties.honest.address}`);
  d.say(`  cheater ${parties.cheater.address} (fault ${formatFault(fault)})`);
  return parties;
}


/**
 * Tells a dispute as it happens (playUntilFinal's progress, awaited): the challenge, phase 2 narrowing graph states
 * to one node, the contract binding it, phase 1 narrowing VM steps to one instruction, the resolution (on time or by
 * the step), the slash, the chain's clock jumps and why. `onChallenge` says what the two sides claimed for the request.
 * `finish` tells what the progress did not (a game that ended with the run) and returns every game's story.
 */
function narrator(d: DemoContext, parties: Parties, fault: Fault, onChallenge: (requestId: bigint) => void) {
  const silent = fault.kind === "silent";
  const phases = new Map<string, string>();
  const stepAt = new Map<string, bigint>();
  const stories = new Map<string, GameStory>();
  const toldSlashes = new Set<string>();
  const gameName = (g: Address) => `game ${g.slice(0, 10)}…`;
  const cheater = parties.cheater.address.toLowerCase();
  const honest = parties.honest.address.toLowerCase();

  const tellResolved = async (game: Address) => {
    const s = await readGameStory(d.world, parties, game, stepAt.get(game.toLowerCase()));
    stories.set(game.toLowerCase(), s);
    const node = s.node === 0 ? undefined : describeNode(d.model, s.node);
    if (s.winner !== "honest") {
      d.say(`▸ ${gameName(game)} is resolved${node === undefined ? "" : ` over ${node}`}: ${s.winner === undefined ? "the honest keeper has not seen its result" : s.winner === "undecided" ? "undecided (§5.4: nobody is slashed, the request is refunded)" : "the cheater won it"}.`);
    } else if (s.onTime) {
      d.say(
        `▸ The cheater lost ${gameName(game)} on time: it stopped answering ${node === undefined ? "while phase 2 was still narrowing the graph" : `in the dispute over ${node}`}, ` +
          "its clock ran out and the honest keeper claimed the game (claimTimeout).",
      );
    } else if (s.instruction !== undefined || s.pc !== undefined) {
      d.say(`▸ ${gameName(game)} came down to ${describeStep(s)}, inside ${node ?? "the bound node"}.`);
      d.say("  The chain executed that one instruction (MIPS.step): its result is the honest keeper's VM state, not the cheater's, so the cheater's claim lost.");
    } else {
      d.say(`▸ ${gameName(game)} is resolved${node === undefined ? "" : ` over ${node}`}.`);
    }
    await tellSlashes(s.resolvedBy);
  };

  /** The slashes not told yet: those in transaction `hash`, or all of them. */
  const tellSlashes = async (hash?: Hex) => {
    for (const slash of await readSlashes(d.world, d.world.startBlock)) {
      if (toldSlashes.has(slash.id) || (hash !== undefined && !slash.id.toLowerCase().startsWith(`${hash.toLowerCase()}/`))) continue;
      toldSlashes.add(slash.id);
      const op = slash.operator.toLowerCase();
      const who = op === cheater ? "the cheater" : op === honest ? "the honest keeper" : slash.operator;
      d.say(
        `▸ Slashed: ${who} (${slash.operator}) lost ${d.units.format(slash.amount)} of its stake (the claim's bond): ${d.units.format(slash.toWinner)} to the winner` +
          `${slash.winner.toLowerCase() === honest ? " (the honest keeper)" : ""}, ${d.units.format(slash.toRequester)} to the requester, ${d.units.format(slash.toTreasury)} to the treasury.`,
      );
    }
  };

  const onProgress = async (e: ProgressEvent) => {
    if (e.kind === "challenged") {
      onChallenge(e.requestId);
      d.say(`▸ The honest keeper re-ran request ${e.requestId} itself, got a different output and challenged the cheater's claim with its own: dispute ${gameName(e.game)} (${e.game})`);
      d.say(`  Each side has ${d.world.game.clockDuration} s of chain time on its clock to make its moves.`);
    } else if (e.kind === "game") {
      const key = e.game.toLowerCase();
      const before = phases.get(key);
      phases.set(key, e.phase);
      if (e.phase === "Graph") {
        if (before === undefined) {
          d.say(`▸ Phase 2, graph bisection (${gameName(e.game)}): both sides post Merkle-proven states of the graph after chosen nodes; each round narrows where they first disagree.`);
        }
        if (BigInt(e.hi) > 0n) d.say(`  they agree on the state after node ${e.lo} and disagree after node ${e.hi}`);
      } else if (e.phase === "VmStart") {
        const node = await boundNode(d.world, e.game);
        d.say(`  narrowed to one node: ${describeNode(d.model, node)}.`);
        d.say(`  The contract binds that node's inputs for phase 1: the MIPS guest program recomputes just this node; its run is padded to 2^${d.world.game.vmTraceDepth} VM steps.`);
      } else if (e.phase === "Vm") {
        if (before !== "Vm") d.say(`▸ Phase 1, VM bisection (${gameName(e.game)}): both sides post hashes of the guest's VM state at chosen steps; each round narrows where they first disagree.`);
        d.say(`  they agree on the VM state at step ${e.lo} and disagree at step ${e.hi}`);
      } else if (e.phase === "Step") {
        stepAt.set(key, BigInt(e.lo));
        d.say(`  narrowed to one MIPS instruction: step ${e.lo} → ${e.hi}. It is executed on chain (MIPS.step), which decides the game.`);
      } else if (e.phase === "Resolved") {
        await tellResolved(e.game);
      }
    } else if (e.kind === "time") {
      const open = [...phases.values()].some((p) => p !== "Resolved");
      const why = open
        ? `nobody moved in the open dispute: ${silent ? "the cheater has gone silent" : "the side to move is not answering"}, and the honest keeper can claim the game once that side's ${d.world.game.clockDuration} s clock has run out`
        : `no dispute is open: the standing claim is final once its ${LOCAL_CHALLENGE_WINDOW} s challenge window has passed unchallenged`;
      d.say(`▸ The chain's clock was moved ${e.seconds} s ahead (evm_increaseTime; on a real chain this is waiting): ${why}.`);
    }
  };

  const finish = async (result: PlayResult): Promise<GameStory[]> => {
    for (const game of result.games) if (!stories.has(game.toLowerCase())) await tellResolved(game);
    await tellSlashes();
    return result.games.map((g) => stories.get(g.toLowerCase())!);
  };
  return { onProgress, finish };
}

function gamesJson(d: DemoContext, stories: GameStory[]) {
  return stories.map((s) => ({
    game: s.game,
    node: s.node,
    nodeName: s.node === 0 ? null : describeNode(d.model, s.node),
    step: s.step === undefined ? null : s.step.toString(),
    instruction: s.instruction ?? null,
    lostOnTime: s.onTime,
    winner: s.winner ?? null,
  }));
}

function figures(d: DemoContext, result: PlayResult) {
  const seconds = (performance.now() - d.started) / 1000;
  d.say(`  ${result.graphRounds} graph round(s), ${result.vmRounds} VM rounds, ${result.transactions} keeper transactions, ${result.gasUsed} gas`);
  d.say(`  disputes took ${result.disputeSeconds.toFixed(2)} s; whole demo ${seconds.toFixed(1)} s`);
  return {
    winner: result.winner,
    cheaterSlashed: result.cheaterSlashed.toString(),
    stakeToken: d.units.symbol,
    disputes: result.games.length,
    graphRounds: result.graphRounds,
    vmRounds: result.vmRounds,
    disputeSeconds: Number(result.disputeSeconds.toFixed(3)),
    transactions: result.transactions,
    gasUsed: result.gasUsed.toString(),
    seconds: Number(seconds.toFixed(3)),
  };
}

/** The text demo: a prompt through the ORA-style OAOPromptConsumer, an altered continuation disputed, the honest text delivered. */
async function textDemo(d: DemoContext & { prompt: string; input: Uint8Array; fault: Fault | undefined; skipStepCheck: string }): Promise<void> {
  const { world, model, modelId, say } = d;
  const honestOutput = encodeTensor(executorFor(model).run(decodeRequestInput(model, d.input)).output);
  const fault = d.fault ?? defaultTokenFault(honestOutput);
  const parties = await startKeepers(d, fault, d.skipStepCheck);
  try {
    const consumer = await world.conn.viem.deployContract("OAOPromptConsumer", [world.addresses.aiOracle]);
    say(`▸ Consumer OAOPromptConsumer at ${consumer.address} (written to ORA's interface: it sends bytes(prompt) with requestCallback and stores string(output) in aiOracleCallback)`);
    say(`▸ Prompt (${d.input.length} bytes): ${JSON.stringify(d.prompt)}`);
    const fee = await consumer.read.estimateFee([modelId]);
    const hash = await consumer.write.calculateAIResult([modelId, d.prompt], { value: fee });
    await world.publicClient.waitForTransactionReceipt({ hash });
    const requestId = await world.contracts.aiOracle.read.requestCount();
    say(`  sent through calculateAIResult → requestCallback: request ${requestId}, fee ${formatEther(fee)} ETH`);

    let cheaterOutput: Uint8Array | undefined;
    const { onProgress, finish } = narrator(d, parties, fault, (id) => {
      const claims = parties.honest.runtime.store.listClaims(id);
      cheaterOutput = claims.find((c) => c.operator.toLowerCase() === parties.cheater.address.toLowerCase())?.output ?? undefined;
      say(`▸ The cheating keeper committed first: its claim is an altered continuation (the oracle delivered it to the consumer at once, as OAO does; it is not final while it can be challenged).`);
      if (cheaterOutput) for (const line of markedTexts(["  cheater claims", "  honest text"], [cheaterOutput, honestOutput])) say(line);
      if (fault.kind === "token") say(`  The cheater changed token ${fault.at} to the model's second choice and computed the rest of the text honestly from it.`);
    });
    const result = await playUntilFinal(world, parties, [requestId], onProgress);
    const stories = await finish(result);

    const delivered = await consumer.read.getAIResult([modelId, d.prompt]);
    const logs = await world.publicClient.getLogs({ address: consumer.address, fromBlock: world.startBlock });
    const callbacks = (parseEventLogs({ abi: consumer.abi, eventName: "PromptsUpdated", logs }) as unknown as { args: { requestId: bigint; output: string } }[])
      .filter((l) => l.args.requestId === requestId)
      .map((l) => l.args.output);
    const honestText = decodeText(honestOutput);
    const cheaterText = cheaterOutput === undefined ? null : decodeText(cheaterOutput);
    say(`▸ The consumer's aiOracleCallback ran ${callbacks.length} time(s) (OAO delivers at commit, and again when a dispute changes the standing output):`);
    callbacks.forEach((text, i) => say(`  ${i + 1}. ${JSON.stringify(text)}${text === honestText ? " (the honest text)" : text === cheaterText ? " (the cheater's)" : ""}`));
    say("▸ The text OAOPromptConsumer stores, read back with getAIResult(modelId, prompt):");
    say(`  ${JSON.stringify(d.prompt)} → ${JSON.stringify(delivered)}`);
    say("");
    say("Summary");
    say(`  delivered ${delivered === honestText ? "the honest text" : "a text that is not the honest one"}; final: ${await world.contracts.aiOracle.read.isFinalized([requestId])}`);
    say(`  dispute winner: ${result.winner}; cheater slashed ${d.units.format(result.cheaterSlashed)}`);
    const summary = {
      model: "text",
      prompt: d.prompt,
      fault: formatFault(fault),
      honestText,
      cheaterText,
      firstDifference: cheaterOutput === undefined ? null : firstDifference(cheaterOutput, honestOutput),
      delivered,
      correct: delivered === honestText,
      callbacks,
      // the request's one game: the node and instruction it came down to
      ...(() => {
        const [g] = gamesJson(d, stories);
        return { node: g?.node ?? null, nodeName: g?.nodeName ?? null, step: g?.step ?? null, instruction: g?.instruction ?? null, lostOnTime: g?.lostOnTime ?? false };
      })(),
      ...figures(d, result),
      games: gamesJson(d, stories),
    };
    if (d.json) console.log(JSON.stringify(summary));
    else console.log(summary.correct ? "The honest text was delivered; the cheater was slashed." : "The honest text was not delivered.");
  } finally {
    closeParties(parties);
  }
}

/** The digit the DigitClassifier reads from an output: the argmax of its scores (first on ties). */
function digitOf(model: Model, output: Uint8Array): number {
  const t = decodeTensor(model.output.dtype, [...model.output.shape], output);
  let best = 0;
  for (let i = 1; i < t.data.length; i++) if (Number(t.data[i]) > Number(t.data[best])) best = i;
  return best;
}

/** The digit demo (`--model mnist`): real MNIST digits through DigitClassifier, wrong claims disputed, the right digits delivered. */
async function digitDemo(d: DemoContext & { digits: number; fault: Fault }): Promise<void> {
  const { world, model, modelId, say, seed } = d;
  const parties = await startKeepers(d, d.fault);
  try {
    const classifier = await world.conn.viem.deployContract("DigitClassifier", [world.addresses.aiOracle, modelId]);
    say(`▸ Consumer DigitClassifier at ${classifier.address}`);

    const test = loadMnist().test;
    const requests: { requestId: bigint; label: number; output: Uint8Array; honest: number }[] = [];
    for (let i = 0; i < d.digits; i++) {
      const sample = test[Number(seededDraw(seed, `digit/${i}`, BigInt(test.length)))]!;
      const tensor = quantizeInput(model, Array.from(sample.pixels));
      const image = toHex(encodeTensor(tensor)) as Hex;
      const hash = await classifier.write.classify([image], { value: await classifier.read.fee() });
      await world.publicClient.waitForTransactionReceipt({ hash });
      const requestId = await world.contracts.aiOracle.read.requestCount();
      const output = encodeTensor(executorFor(model).run(tensor).output);
      requests.push({ requestId, label: sample.label, output, honest: digitOf(model, output) });
      say(`▸ Request ${requestId}: classify an MNIST "${sample.label}"`);
    }

    const claimed = new Map<bigint, number>();
    const { onProgress, finish } = narrator(d, parties, d.fault, (id) => {
      const r = requests.find((q) => q.requestId === id);
      const claim = parties.honest.runtime.store.listClaims(id).find((c) => c.operator.toLowerCase() === parties.cheater.address.toLowerCase());
      if (claim?.output) claimed.set(id, digitOf(model, claim.output));
      const c = claimed.get(id);
      say(
        `▸ Request ${id}: the cheating keeper committed first, claiming ${c === undefined ? "wrong scores" : `the digit is ${c}${c === r?.honest ? " (the right digit, but from wrong scores: its output bytes are wrong all the same)" : ""}`}; the honest answer is ${r?.honest}.`,
      );
      if (claim?.output && r) {
        const scores = (o: Uint8Array) => `[${Array.from(decodeTensor(model.output.dtype, [...model.output.shape], o).data, Number).join(", ")}]`;
        say(`  cheater's scores: ${scores(claim.output)}`);
        say(`  honest scores:    ${scores(r.output)}`);
      }
    });
    const result = await playUntilFinal(world, parties, requests.map((r) => r.requestId), onProgress);
    const stories = await finish(result);

    const delivered: number[] = [];
    for (const r of requests) delivered.push(Number(await classifier.read.digitOf([r.requestId])));
    const expected = requests.map((r) => r.label);
    say("");
    say("Summary");
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      say(`  request ${r.requestId}: delivered ${delivered[i]} (expected ${expected[i]})${claimed.has(r.requestId) ? ` after a dispute; the cheater had claimed ${claimed.get(r.requestId)}` : ""}`);
    }
    say(`  dispute winner: ${result.winner}; cheater slashed ${d.units.format(result.cheaterSlashed)}`);
    const summary = {
      model: "mnist",
      fault: formatFault(d.fault),
      delivered,
      expected,
      claimed: requests.map((r) => claimed.get(r.requestId) ?? null),
      correct: delivered.every((v, i) => v === expected[i]),
      ...figures(d, result),
      games: gamesJson(d, stories),
    };
    if (d.json) console.log(JSON.stringify(summary));
    else console.log(summary.correct ? "The right digits were delivered; the cheater was slashed." : "Some digits were not delivered correctly.");
  } finally {
    closeParties(parties);
  }
}

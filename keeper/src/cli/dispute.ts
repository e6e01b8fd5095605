/**
 * `oao dispute …`: play whole disputes with injected faults (docs/protocol.md §5, keeper/game).
 *
 *   oao dispute simulate (--model mnist | DIR) --fault KIND[:N] [--seed S] [--vm-trace-depth N] [--offline] [--json]
 *
 * KIND is graph:N, vm:N, false-challenge[:N], silent[:N] or token:K (text models) (keeper/game/faults.ts). The request
 * input is a held-out MNIST digit for `--model mnist` and a seeded int8 tensor otherwise.
 * By default it runs on Hardhat's in-process chain with everything deployed by Ignition, through the
 * keeper service an operator runs (keeper/src/demo/scenario.ts). `--offline` plays on the reference
 * game model (keeper/game/reference.ts) with the real MIPS step verifier: no chain, hence no gas and
 * no slashing figures (reported as null).
 *
 * `--vm-trace-depth N` sets the game's phase-1 trace to 2^N guest steps (default: 21 on chain, the
 * local deployment's; 24 offline). The disputed node's guest run must exit within it: GPT-2 small's
 * largest nodes run about 5.7·10^8 steps and need 30. When it does not fit, the honest keeper stops at
 * the VM phase's start with the exit step and the depth needed (keeper/game/solver.ts).
 */
import { Command } from "commander";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatFault, parseFault } from "../../game/faults.ts";
import { DEFAULT_GAME_CONFIG, simulateOffline } from "../../game/simulate.ts";
import { decodeTensor, elementCount, InputError, quantizeInput, type Model, type Tensor } from "../../graph/index.ts";
import { DType, elementSize, int32Tensor } from "../../graph/tensor.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { seededDraw } from "../../game/faults.ts";
import { loadModelDir, resolveModelDir } from "./model.ts";
import { executorFor } from "../service/models.ts";
import { parseVmTraceDepth, simulateOnChain } from "../demo/simulate.ts";

const GUEST_ELF = fileURLToPath(new URL("../../guest/build/oao_node.elf", import.meta.url));

interface SimulateOpts {
  model?: string;
  fault: string;
  seed: string;
  offline?: boolean;
  vmTraceDepth?: string;
  json?: boolean;
}

/**
 * The request input of a simulation: a held-out digit for MNIST, seeded token ids below the
 * vocabulary for a GPT model (keeper/graph/gpt), seeded bytes otherwise.
 */
export function simulationInput(model: Model, seed: number): { input: Tensor; label: number | undefined } {
  if (model.metadata.name.startsWith("mnist")) {
    const test = loadMnist().test;
    const sample = test[Number(seededDraw(seed, "sample", BigInt(test.length)))]!;
    return { input: quantizeInput(model, Array.from(sample.pixels)), label: sample.label };
  }
  const { dtype, shape } = model.input;
  const vocab = (model.metadata.gpt as { vocab?: unknown } | undefined)?.vocab;
  if (dtype === DType.int32 && typeof vocab === "number" && Number.isSafeInteger(vocab) && vocab > 0) {
    const ids = Int32Array.from({ length: elementCount(shape) }, (_, i) => Number(seededDraw(seed, `token/${i}`, BigInt(vocab))));
    return { input: int32Tensor([...shape], ids), label: undefined };
  }
  const bytes = new Uint8Array(elementCount(shape) * elementSize(dtype));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number(seededDraw(seed, `input/${i}`, 256n));
  return { input: decodeTensor(dtype, [...shape], bytes), label: undefined };
}

export function buildDisputeCommand(): Command {
  const dispute = new Command("dispute").description("dispute games between an honest and a cheating party");
  dispute
    .command("simulate")
    .description("request -> cheating and honest parties -> dispute -> resolution, with an injected fault")
    .argument("[dir]", "model directory (holding model.oao)")
    .option("--model <name>", "a shipped model (keeper/models/<name>)")
    .requiredOption("--fault <kind>", "graph:N | vm:N | false-challenge[:N] | silent[:N] | token:K")
    .option("--seed <s>", "seed for the input, unspecified fault positions and move order", "1")
    .option("--vm-trace-depth <n>", "the game's VM trace covers 2^n guest steps (1..40; default 21 on chain, 24 offline)")
    .option("--offline", "play on the reference game model instead of a chain")
    .option("--json", "last stdout line: one JSON object")
    .action(async (dir: string | undefined, opts: SimulateOpts) => {
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError(`--seed ${opts.seed}: expected a non-negative integer`);
      const fault = parseFault(opts.fault);
      const model = loadModelDir(resolveModelDir(dir, opts.model));
      const vmTraceDepth = opts.vmTraceDepth === undefined ? undefined : parseVmTraceDepth(opts.vmTraceDepth);
      const { input, label } = simulationInput(model, seed);
      if (!opts.offline) {
        const say = (line: string) => console.error(line);
        say(`dispute simulate: ${model.metadata.name}, fault ${formatFault(fault)}, seed ${seed} (in-process chain)`);
        const summary = await simulateOnChain({
          model,
          modelFile: resolveModelDir(dir, opts.model),
          input,
          fault,
          seed,
          game: vmTraceDepth === undefined ? undefined : { vmTraceDepth },
          onProgress: (e) => {
            if (e.kind === "game") say(`  game ${e.game.slice(0, 10)}: ${e.phase} [${e.lo}, ${e.hi}]`);
            else if (e.kind === "challenged") say(`  challenge: game ${e.game}`);
            else if (e.kind === "time") say(`  time passes: +${e.seconds} s`);
          },
        });
        const out = { ...summary, inputLabel: label ?? null };
        if (opts.json) console.log(JSON.stringify(out));
        else if (out.winner === "undecided") console.log(`undecided: the guest cannot decide node ${out.disputedNode} within the game's trace (vmTraceDepth ${out.vmTraceDepth}); nobody slashed, the request refunded (${out.transactions} transactions, ${out.gasUsed} gas, ${out.seconds} s)`);
        else console.log(`${out.winner} party won; cheater slashed ${out.cheaterSlashed} wei; node ${out.disputedNode}: ${out.graphRounds} graph rounds, ${out.vmRounds} VM rounds, ${out.transactions} transactions, ${out.gasUsed} gas, ${out.seconds} s`);
        return;
      }
      const elf = new Uint8Array(readFileSync(GUEST_ELF));
      const started = performance.now();
      const config = { ...DEFAULT_GAME_CONFIG, ...(vmTraceDepth === undefined ? {} : { vmTraceDepth }) };
      console.error(`dispute simulate: ${model.metadata.name}, fault ${formatFault(fault)}, seed ${seed} (offline)`);
      const r = simulateOffline({ model, input, elf, fault, seed, config, executor: executorFor(model) });
      const seconds = (performance.now() - started) / 1000;
      const summary = {
        mode: "offline",
        model: model.metadata.name,
        fault: formatFault(fault),
        seed,
        inputLabel: label ?? null,
        winner: r.winner,
        honestSide: r.honestSide,
        disputedNode: r.nodeIndex.toString(),
        graphRounds: r.graphRounds,
        vmRounds: r.vmRounds,
        vmTraceDepth: config.vmTraceDepth,
        transactions: r.transactions,
        gasUsed: null,
        cheaterSlashed: null,
        seconds: Number(seconds.toFixed(3)),
      };
      for (const a of r.actions) {
        console.error(`  ${a.side === 0 ? "defender  " : "challenger"} ${a.kind}${a.reverted ? ` (reverted: ${a.reverted})` : ""}`);
      }
      if (opts.json) console.log(JSON.stringify(summary));
      else console.log(`${summary.winner} party won (${summary.honestSide} honest) at node ${summary.disputedNode}: ${summary.graphRounds} graph rounds, ${summary.vmRounds} VM rounds, ${summary.transactions} transactions, ${summary.seconds} s`);
    });
  return dispute;
}


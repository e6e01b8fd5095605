/**
 * A whole dispute over one token of the synthetic GPT-2 small (`npm run model:gpt` first) at a
 * random node: `npm run dispute:gpt -- [--chain] [--model DIR] [--node K] [--seed S] [--vm-trace-depth N]`.
 * The cheater lies from node K on (fault graph:K). Offline (default), both parties play the reference
 * game model (keeper/game) with the real MIPS step verifier, as `oao dispute simulate --offline`
 * does; with `--chain`, two keepers play it on Hardhat's in-process chain through the keeper service,
 * as `oao dispute simulate` does (keeper/src/demo/simulate.ts). The VM trace depth is 32 (2^32 steps)
 * by default: GPT-2's large Gemm nodes run ~5.7·10^8 guest steps, beyond the default 2^21/2^24.
 * The last stdout line is one JSON object.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { executorFor, loadModel } from "../keeper/src/service/models.ts";
import { int32Tensor } from "../keeper/graph/tensor.ts";
import { OP_NAMES } from "../keeper/graph/ops.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { DEFAULT_GAME_CONFIG, simulateOffline } from "../keeper/game/simulate.ts";
import { parseFault } from "../keeper/game/faults.ts";
import { parseVmTraceDepth, simulateOnChain } from "../keeper/src/demo/simulate.ts";

const args = process.argv.slice(2);
const value = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dir = resolve(value("--model") ?? join(repo, ".oao", "models", "gpt2-small"));
const tLoad = performance.now();
const { model } = loadModel(join(dir, "model.oao"));
const loadSeconds = (performance.now() - tLoad) / 1000;
const n = model.nodes.length;
const k = value("--node") ? Number(value("--node")) : 1 + Math.floor(seededRandom(2024)() * n);
const seed = Number(value("--seed") ?? 1);
const T = model.input.shape[0]!;
const vocab = (model.metadata.gpt as { vocab?: number } | undefined)?.vocab ?? 50257;
const input = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % vocab));
console.error(`dispute over one token of ${model.metadata.name}: cheater wrong from node ${k} (${OP_NAMES[model.nodes[k - 1]!.op]}) of ${n}`);
const depth = parseVmTraceDepth(value("--vm-trace-depth") ?? "32");
const t0 = performance.now();
const maxRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const base = { model: model.metadata.name, node: k, op: OP_NAMES[model.nodes[k - 1]!.op] };
let summary: Record<string, unknown>;
if (args.includes("--chain")) {
  const r = await simulateOnChain({
    model,
    modelFile: dir,
    input,
    fault: parseFault(`graph:${k}`),
    seed,
    game: { vmTraceDepth: depth },
    onProgress: (e) => {
      if (e.kind === "game") console.error(`  game ${e.game.slice(0, 10)}: ${e.phase} [${e.lo}, ${e.hi}]`);
    },
  });
  summary = { ...base, ...r, loadSeconds, maxRssMB: maxRssMB() };
} else {
  const r = simulateOffline({
    executor: executorFor(model),
    model,
    input,
    elf: new Uint8Array(readFileSync(join(repo, "keeper/guest/build/oao_node.elf"))),
    fault: parseFault(`graph:${k}`),
    seed,
    config: { ...DEFAULT_GAME_CONFIG, vmTraceDepth: depth },
  });
  summary = {
    ...base,
    mode: "offline",
    winner: r.winner,
    honestSide: r.honestSide,
    disputedNode: r.nodeIndex.toString(),
    graphRounds: r.graphRounds,
    vmRounds: r.vmRounds,
    vmTraceDepth: depth,
    transactions: r.transactions,
    seconds: (performance.now() - t0) / 1000,
    loadSeconds,
    maxRssMB: maxRssMB(),
  };
}
console.error(JSON.stringify(summary));
console.log(JSON.stringify(summary));
if (summary.winner !== "honest") process.exitCode = 1;

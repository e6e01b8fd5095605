/**
 * A whole dispute over one token of the synthetic GPT-2 small (`npm run model:gpt` first) at a
 * random node: `npm run dispute:gpt -- [--model DIR] [--node K] [--seed S] [--json]`. The cheater
 * lies from node K on (fault graph:K); both parties play the reference game model (keeper/game) with
 * the real MIPS step verifier, as `oao dispute simulate --offline` does, but with a VM trace depth
 * of 2^32 steps: GPT-2's large Gemm nodes run ~1.6·10^9 guest steps, beyond the default 2^24.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeModelFile } from "../keeper/graph/model.ts";
import { int32Tensor } from "../keeper/graph/tensor.ts";
import { OP_NAMES } from "../keeper/graph/ops.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { DEFAULT_GAME_CONFIG, simulateOffline } from "../keeper/game/simulate.ts";
import { parseFault } from "../keeper/game/faults.ts";

const args = process.argv.slice(2);
const value = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dir = resolve(value("--model") ?? join(repo, ".oao", "models", "gpt2-small"));
const buf = readFileSync(join(dir, "model.oao"));
const model = decodeModelFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
const n = model.nodes.length;
const k = value("--node") ? Number(value("--node")) : 1 + Math.floor(seededRandom(2024)() * n);
const seed = Number(value("--seed") ?? 1);
const T = model.input.shape[0]!;
const vocab = (model.metadata.gpt as { vocab?: number } | undefined)?.vocab ?? 50257;
const input = int32Tensor([T], Array.from({ length: T }, (_, i) => (i * 7919 + 13) % vocab));
console.error(`dispute over one token of ${model.metadata.name}: cheater wrong from node ${k} (${OP_NAMES[model.nodes[k - 1]!.op]}) of ${n}`);
const t0 = performance.now();
const r = simulateOffline({
  model,
  input,
  elf: new Uint8Array(readFileSync(join(repo, "keeper/guest/build/oao_node.elf"))),
  fault: parseFault(`graph:${k}`),
  seed,
  config: { ...DEFAULT_GAME_CONFIG, vmTraceDepth: 32 },
  snapshotInterval: 1 << 22,
});
const summary = {
  model: model.metadata.name,
  node: k,
  op: OP_NAMES[model.nodes[k - 1]!.op],
  winner: r.winner,
  honestSide: r.honestSide,
  disputedNode: r.nodeIndex.toString(),
  graphRounds: r.graphRounds,
  vmRounds: r.vmRounds,
  vmTraceDepth: 32,
  transactions: r.transactions,
  seconds: (performance.now() - t0) / 1000,
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.error(JSON.stringify(summary));
console.log(JSON.stringify(summary));

/**
 * Dispute benchmark (docs/benchmarks.md): whole MNIST disputes on the reference game with the real VM
 * step (offline), per fault kind; and how rounds grow with nodes and VM steps.
 * Run: npm run bench:dispute
 */
import { worstCaseRounds } from "../../keeper/game/bisection.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { DEFAULT_GAME_CONFIG, simulateOffline } from "../../keeper/game/simulate.ts";
import { mnistFixture } from "./fixture.ts";

const { model, input, elf } = mnistFixture();
console.log("| fault | seed | disputed node | graph rounds | VM rounds | transactions | wall (s) |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const f of ["graph:1", "graph:3", "vm:1", "false-challenge", "silent:3"]) {
  for (const seed of [1, 2]) {
    const t = performance.now();
    const r = simulateOffline({ model, input, elf, fault: parseFault(f), seed });
    const s = ((performance.now() - t) / 1000).toFixed(2);
    console.log(`| ${f} | ${seed} | ${r.nodeIndex} | ${r.graphRounds} | ${r.vmRounds} | ${r.transactions} | ${s} |`);
  }
}
console.log("\n| nodes n | graph rounds w=2 | w=4 | w=16 |");
console.log("|---:|---:|---:|---:|");
for (const n of [3n, 100n, 1_000n, 100_000n]) console.log(`| ${n} | ${worstCaseRounds(0n, n, 1)} | ${worstCaseRounds(0n, n, 2)} | ${worstCaseRounds(0n, n, 4)} |`);
console.log("\n| vmTraceDepth | VM rounds w=2 | w=4 | w=16 |");
console.log("|---:|---:|---:|---:|");
for (const d of [21n, 24n, 32n]) console.log(`| ${d} | ${worstCaseRounds(0n, 1n << d, 1)} | ${worstCaseRounds(0n, 1n << d, 2)} | ${worstCaseRounds(0n, 1n << d, 4)} |`);
console.log(`\ndefault config: ${JSON.stringify({ ...DEFAULT_GAME_CONFIG, clockDuration: DEFAULT_GAME_CONFIG.clockDuration.toString() })}`);

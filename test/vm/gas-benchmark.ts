/**
 * Gas of MIPS.step per instruction class (docs/benchmarks.md): each hand-made witness of
 * test/vm/cases.ts is sent as a transaction on Hardhat's in-process chain, twice:
 * - on a cancun chain, where gasUsed = 21,000 + calldata (4/16 gas per zero/non-zero byte) +
 *   execution, so execution gas is exact;
 * - on Hardhat's default chain (prague), whose gasUsed is what an L1 transaction costs today,
 *   EIP-7623's calldata floor included.
 * A benchmark, not a test: `npm run bench:vm-gas`.
 */
import { buildCase, handCases } from "./cases.ts";
import { deployVm } from "./harness.ts";

const cancun = await deployVm({ hardfork: "cancun" });
const prague = await deployVm();
const rows: string[] = [];
for (const [name, spec] of Object.entries(handCases)) {
  const c = buildCase(spec);
  const measured: bigint[] = [];
  for (const vm of [cancun, prague]) {
    await vm.loadPreimage(c);
    // Check the witness first: the gas of a wrong step would be meaningless.
    const post = await vm.callStep(c);
    if (post !== c.postStateHash) throw new Error(`${c.label}: MIPS.step returned ${post}, expected ${c.postStateHash}`);
    const g = await vm.sendStep(c);
    measured.push(g.gasUsed - g.intrinsic, g.gasUsed, BigInt(g.calldataBytes));
  }
  const [execution, cancunTx, bytes, , pragueTx] = measured;
  rows.push(`| ${name} | ${c.label} | ${execution} | ${cancunTx} | ${pragueTx} | ${bytes} |`);
}
console.log("| class | witness | execution gas | tx gas (cancun) | tx gas (prague) | calldata bytes |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
await cancun.connection.close();
await prague.connection.close();

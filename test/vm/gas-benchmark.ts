/**
 * Gas of MIPS.step per instruction class (docs/benchmarks.md): each hand-made witness of
 * test/vm/cases.ts is sent as a transaction on Hardhat's in-process chain, twice:
 * - on a cancun chain, where gasUsed = 21,000 + calldata (4/16 gas per zero/non-zero byte) +
 *   execution, so execution gas is exact;
 * - on Hardhat's default chain (prague), whose gasUsed is what an L1 transaction costs today,
 *   EIP-7623's calldata floor included.
 * A benchmark, not a test: `npm run bench:vm-gas` prints the table; the bench's VM section
 * (scripts/bench/vm.ts) calls `measureStepGas`.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCase, handCases } from "./cases.ts";
import { deployVm } from "./harness.ts";

export interface StepGasRow {
  /** The hand case's name in test/vm/cases.ts (alu, branch, load, preimageRead, …). */
  name: string;
  /** What the witness executes, e.g. "load lw". */
  witness: string;
  executionGas: number;
  txGasCancun: number;
  txGasPrague: number;
  calldataBytes: number;
}

/** Every hand case's gas, checked first: the gas of a wrong step would be meaningless. */
export async function measureStepGas(): Promise<StepGasRow[]> {
  const cancun = await deployVm({ hardfork: "cancun" });
  const prague = await deployVm();
  try {
    const rows: StepGasRow[] = [];
    for (const [name, spec] of Object.entries(handCases)) {
      const c = buildCase(spec);
      const measured: bigint[] = [];
      for (const vm of [cancun, prague]) {
        await vm.loadPreimage(c);
        const post = await vm.callStep(c);
        if (post !== c.postStateHash) throw new Error(`${c.label}: MIPS.step returned ${post}, expected ${c.postStateHash}`);
        const g = await vm.sendStep(c);
        measured.push(g.gasUsed - g.intrinsic, g.gasUsed, BigInt(g.calldataBytes));
      }
      const [execution, cancunTx, bytes, , pragueTx] = measured.map(Number);
      rows.push({ name, witness: c.label, executionGas: execution!, txGasCancun: cancunTx!, txGasPrague: pragueTx!, calldataBytes: bytes! });
    }
    return rows;
  } finally {
    await cancun.connection.close();
    await prague.connection.close();
  }
}

async function main(): Promise<void> {
  const rows = await measureStepGas();
  console.log("| class | witness | execution gas | tx gas (cancun) | tx gas (prague) | calldata bytes |");
  console.log("|---|---|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.witness} | ${r.executionGas} | ${r.txGasCancun} | ${r.txGasPrague} | ${r.calldataBytes} |`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

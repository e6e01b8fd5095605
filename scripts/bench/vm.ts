/**
 * VM section: the TypeScript VM's speed (fast mode on bench_loop.elf: the block translator, and the
 * interpreter alone), the witness of a deep
 * step of a long trace, and MIPS.step's gas per instruction class. The same functions as
 * `npm run bench:vm` (scripts/bench-vm.ts) and `npm run bench:vm-gas` (test/vm/gas-benchmark.ts).
 *
 * Quick mode: fast mode best of 2 instead of 3 on the same 115M-step run, and the deep witnesses on
 * a ~23M-step trace (1,000,000 iterations) instead of the 115M-step one. Gas does not depend on the
 * machine: quick and full measure the same.
 */
import { BENCH_LOOP_BENCH_ITERATIONS } from "../../keeper/guest/inputs.ts";
import { measureStepGas } from "../../test/vm/gas-benchmark.ts";
import { measureDeepWitnesses, measureFastMode, readBenchLoop } from "../bench-vm.ts";
import type { BenchContext, BenchSection, SectionResult } from "./types.ts";
import { sig } from "./util.ts";

const QUICK_WITNESS_ITERATIONS = 1_000_000;

/** A hand case's label short enough for a chart axis: "syscall read fd 5 (local data)" -> "read fd 5 local". */
function chartLabel(witness: string): string {
  return witness
    .replace(/^syscall /, "")
    .replace(/ \((?:preimage )?(\w+)(?: preimage| data)?\)$/, " $1");
}

async function run(ctx: BenchContext): Promise<SectionResult> {
  const elf = readBenchLoop(ctx.repo);
  const log = (line: string) => ctx.log(`  ${line}`);
  const runs = ctx.quick ? 2 : 3;
  ctx.log(`  fast mode: bench_loop with ${BENCH_LOOP_BENCH_ITERATIONS.toLocaleString("en-US")} iterations, best of ${runs}…`);
  const fast = measureFastMode(elf, { iterations: BENCH_LOOP_BENCH_ITERATIONS, runs, mode: "jit", log });
  ctx.log(`  the interpreter alone (OAO_VM=interp) on the same run, best of ${runs}…`);
  const interp = measureFastMode(elf, { iterations: BENCH_LOOP_BENCH_ITERATIONS, runs, mode: "interp", log });
  const witnessIterations = ctx.quick ? QUICK_WITNESS_ITERATIONS : BENCH_LOOP_BENCH_ITERATIONS;
  ctx.log(`  deep witnesses: a trace of bench_loop with ${witnessIterations.toLocaleString("en-US")} iterations…`);
  const deep = measureDeepWitnesses(elf, { iterations: witnessIterations, log });
  ctx.log("  MIPS.step gas per instruction class (cancun and prague chains)…");
  const gas = await measureStepGas();

  const n = (x: number) => x.toLocaleString("en-US");
  const traceNote = `a ${n(deep.traceSteps)}-step trace${ctx.quick ? " (quick mode; the full bench uses 115M steps)" : ""}`;
  const worstExec = gas.reduce((a, b) => (b.executionGas > a.executionGas ? b : a));
  const worstTx = gas.reduce((a, b) => (b.txGasPrague > a.txGasPrague ? b : a));
  return {
    metrics: [
      {
        key: "vm.stepsPerSecond",
        value: Math.round(fast.stepsPerSecond),
        unit: "steps/s",
        description: `keeper/vm fast mode, bench_loop.elf to its exit (${n(fast.steps)} steps), best of ${fast.runs}, wall clock`,
      },
      {
        key: "vm.stepsPerCpuSecond",
        value: Math.round(fast.stepsPerCpuSecond),
        unit: "steps/s",
        description: "the same run per CPU second (steadier than wall clock on a shared machine)",
      },
      {
        key: "vm.interpStepsPerCpuSecond",
        value: Math.round(interp.stepsPerCpuSecond),
        unit: "steps/s",
        description: "the same run with the interpreter alone (OAO_VM=interp), per CPU second; fast mode translates basic blocks (jit.ts)",
      },
      {
        key: "vm.witnessMsDeep",
        value: sig(deep.worstMs),
        unit: "ms",
        description: `worst time for the witness of a deep step of ${traceNote}: snapshot restored, run, proved (verified after)`,
      },
      {
        key: "vm.stepExecGasMax",
        value: worstExec.executionGas,
        unit: "gas",
        description: `MIPS.step execution gas of the most expensive instruction class (${worstExec.witness}), cancun`,
      },
      {
        key: "vm.stepTxGasMax",
        value: worstTx.txGasPrague,
        unit: "gas",
        description: `the most expensive step transaction with its witness in calldata (${worstTx.witness}), prague (EIP-7623 floor)`,
      },
    ],
    tables: [
      {
        title: "TypeScript VM: fast mode and witnesses",
        command: "npm run bench:vm",
        columns: ["measurement", "value", "unit"],
        numeric: [false, true, false],
        rows: [
          [`fast mode, bench_loop to its exit (${n(fast.steps)} steps), best of ${fast.runs}, wall clock`, Math.round(fast.stepsPerSecond), "steps/s"],
          ["the same run per CPU second", Math.round(fast.stepsPerCpuSecond), "steps/s"],
          ["the same run, interpreter alone (`OAO_VM=interp`), per CPU second", Math.round(interp.stepsPerCpuSecond), "steps/s"],
          [`trace run with snapshots every ${n(deep.snapshotInterval)} steps (${n(deep.traceSteps)} steps)`, sig(deep.traceRunSeconds), "s"],
          [`witness of a deep step, cold, worst of steps ${deep.witnesses.map((w) => n(w.step)).join(" / ")}`, sig(deep.worstMs), "ms"],
          [`the next witness after one (step ${n(deep.next.step)}: the trace reuses its cursor)`, sig(deep.next.ms), "ms"],
        ],
        notes:
          "bench_loop.elf reads its iteration count from local datum 1 (keeper/guest/inputs.ts); " +
          `5,000,000 iterations make ${n(fast.steps)} steps. Each witness is checked by \`verifyStep\` (the post-state ` +
          "hash recomputed from the witness bytes alone). A cold witness costs a snapshot restore, at most " +
          `${n(deep.snapshotInterval)} fast steps and hashing the pages written since that snapshot.`,
      },
      {
        title: "MIPS.step gas per instruction class",
        command: "npm run bench:vm-gas",
        columns: ["class", "witness", "execution gas", "tx gas (cancun)", "tx gas (prague)", "calldata bytes"],
        numeric: [false, false, true, true, true, true],
        rows: gas.map((r) => [r.name, `\`${r.witness}\``, r.executionGas, r.txGasCancun, r.txGasPrague, r.calldataBytes]),
        notes:
          "One hand-made witness per row (test/vm/cases.ts), checked with `eth_call`, then sent as a transaction from an " +
          "EOA (cold oracle, cold storage: a game's single step). Execution gas = gasUsed − 21,000 − calldata (4/16 per " +
          "zero/non-zero byte) on a cancun chain; tx gas (prague) includes EIP-7623's calldata floor. Peer: Optimism " +
          "Cannon's `MIPS.step`, as measured by compiling and running it: 18.4k (ALU/branch) to 31k " +
          "(store, preimage read) execution gas, ~55–95k per transaction.",
      },
    ],
    charts: [
      {
        id: "vm-step-gas",
        title: "MIPS.step execution gas per instruction class (cancun)",
        kind: "bar",
        xLabel: "instruction class",
        yLabel: "execution gas",
        series: [{ name: "execution gas", points: gas.map((r) => ({ x: chartLabel(r.witness), y: r.executionGas })) }],
      },
    ],
  };
}

export const section: BenchSection = { id: "vm", title: "VM", run };

/**
 * Oracle section: gas of each step of a request's life and of whole lifecycles, measured by the same
 * fixed scenario as the gas snapshot test (test/gas/measure.ts: the core deployed by the Ignition dev
 * module on Hardhat's in-process chain). Gas does not depend on the machine; quick and full are equal.
 */
import { gasSettings, measureGas } from "../../test/gas/measure.ts";
import type { BenchSection, SectionResult } from "./types.ts";

async function run(): Promise<SectionResult> {
  const g = await measureGas();
  const gas = (name: string) => {
    const e = g[name];
    if (e === undefined) throw new Error(`test/gas/measure.ts no longer measures "${name}"`);
    return e.gas;
  };
  const lifecycles: [string, string[]][] = [
    ["request with callback → commit (delivered at once) → finalize", ["requestCallback (callback)", "commit + delivery", "finalize"]],
    ["the same, steady state (an operator that has committed and finalized before)", ["requestCallback (callback), steady state", "commit + delivery, steady state", "finalize, steady state"]],
    ["ORA's Prompt pattern as the consumer, steady state", ["calculateAIResult (ORA Prompt), steady state", "commit + delivery (ORA Prompt), steady state", "finalize (ORA Prompt), steady state"]],
    ["request at finality → commit → finalize (delivered then)", ["requestWithOptions (at finality)", "commit", "finalize + delivery"]],
    ["request → commit + delivery → challenge → overturn → redeliver → finalize (toy game)", ["requestCallback (callback)", "commit + delivery", "challenge", "resolveGame (overturn + slash)", "deliver (after overturn)", "finalize"]],
  ];
  const totals = lifecycles.map(([name, steps]) => [name, steps.map((s) => `\`${s}\``).join(" + "), steps.reduce((a, s) => a + gas(s), 0)] as const);
  return {
    metrics: [
      { key: "oracle.requestGas", value: gas("requestCallback (callback)"), unit: "gas", description: "OAO requestCallback with a callback contract" },
      { key: "oracle.commitGas", value: gas("commit + delivery"), unit: "gas", description: "a keeper's commit with the §3.5 claim proof, bond lock and the callback delivery" },
      { key: "oracle.finalizeGas", value: gas("finalize"), unit: "gas", description: "unlock the bond and settle the fee after the challenge window" },
      { key: "oracle.lifecycleGas", value: totals[0]![2], unit: "gas", description: "a whole undisputed request: request + commit (delivered) + finalize, all parties (an operator's first)" },
      { key: "oracle.steadyLifecycleGas", value: totals[1]![2], unit: "gas", description: "the same later in a deployment's life: an operator that has committed and finalized before" },
      { key: "oracle.promptLifecycleGas", value: totals[2]![2], unit: "gas", description: "the same with ORA's Prompt pattern as the consumer (OraPrompt): ORA's request + invokeCallback is 671k (issue 16; goal ≤ 1.0×)" },
    ],
    tables: [
      {
        title: "Gas per operation",
        command: "npm run gas:snapshot (docs/gas.md)",
        columns: ["operation", "gas", "what it does"],
        numeric: [false, true, false],
        rows: Object.entries(g).map(([name, e]) => [`\`${name}\``, e.gas, e.note]),
        notes: gasSettings().join("; ") + ". `gasUsed` of each transaction: 21,000 intrinsic and calldata included.",
      },
      {
        title: "Gas per request lifecycle (all parties' transactions)",
        columns: ["lifecycle", "transactions", "gas"],
        numeric: [false, false, true],
        rows: totals.map((t) => [...t]),
        notes: "The disputed lifecycle uses the toy game of the dev deployment; a real game's moves are in the dispute sections.",
      },
    ],
    charts: [
      {
        id: "oracle-gas",
        title: "Gas per oracle operation",
        kind: "bar",
        xLabel: "operation",
        yLabel: "gas",
        series: [{ name: "gas", points: Object.entries(g).map(([name, e]) => ({ x: name, y: e.gas })) }],
      },
    ],
  };
}

export const section: BenchSection = { id: "oracle", title: "Oracle: gas per request lifecycle", run };

/**
 * The bench runner's pure parts: argument parsing, nesting of metric keys for --json, the
 * docs/benchmarks.md block (inserted the first time, replaced after, hand-written text kept) and
 * the SVG charts. The sections themselves are benchmarks, run by `npm run bench`, not here.
 */
import { describe, expect, it } from "vitest";
import { BEGIN, END, formatValue, renderBlock, spliceBlock } from "../../scripts/bench/report.ts";
import { describeRegression, findRegressions, gateOf, nestMetrics, parseArgs, type Baseline } from "../../scripts/bench/run.ts";
import { renderChart, shortNumber } from "../../scripts/bench/svg.ts";
import type { BenchChart, SectionResult } from "../../scripts/bench/types.ts";

const result: SectionResult = {
  metrics: [{ key: "vm.stepsPerSecond", value: 123456789, unit: "steps/s", description: "fast | mode" }],
  tables: [{ title: "T", command: "npm run x", columns: ["a", "b"], numeric: [false, true], rows: [["x|y", 1234.5]], notes: "n" }],
  charts: [{ id: "c1", title: "C", kind: "bar", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [{ x: "a", y: 1 }] }] }],
};
const info = { mode: "quick" as const, date: "2026-11-22 10:00 UTC", command: "npm run bench -- --quick", machine: "test box", seconds: 12 };

describe("bench runner", () => {
  it("parses its arguments and refuses unknown ones with the usage", () => {
    expect(parseArgs(["--quick", "--json"])).toEqual({ quick: true, json: true, write: true, only: undefined, accept: false });
    // A partial run never replaces the docs' whole-run block.
    expect(parseArgs(["--only", "vm,graph"])).toEqual({ quick: false, json: false, write: false, only: ["vm", "graph"], accept: false });
    expect(parseArgs(["--accept"]).accept).toBe(true);
    expect(parseArgs(["--no-write"]).write).toBe(false);
    expect(() => parseArgs(["--only", "vm,nope"])).toThrow(/unknown section\(s\) nope; known: vm, graph/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown argument --fast; usage: npm run bench/);
    expect(() => parseArgs(["--only"])).toThrow(/comma-separated/);
  });

  it("fails a figure worse than the committed run's beyond its noise allowance, and nothing else", () => {
    const baseline: Baseline = {
      meta: { mode: "full", date: "2026-12-06 10:00 UTC", machine: "test box", command: "npm run bench" },
      metrics: { "vm.stepsPerSecond": 100e6, "oracle.lifecycleGas": 887_456, "dispute.seconds": 0.7, "graph.vsOnnxruntime": 0.4, "graph.alphaMin": 2000, "keeper.heapMiB": 200 },
    };
    const m = (key: string, value: number | null, unit: string, extra: { better?: "higher" | "lower" | "none"; tolerance?: number } = {}) => ({ key, value, unit, description: "", ...extra });
    // Directions and allowances from the unit, or given by the metric.
    expect(gateOf({ unit: "steps/s" })).toEqual({ better: "higher", tolerance: 0.5 });
    expect(gateOf({ unit: "gas" })).toEqual({ better: "lower", tolerance: 0 });
    expect(gateOf({ unit: "ratio" }).better).toBe("none");
    expect(gateOf({ unit: "ratio", better: "higher" }).better).toBe("higher");
    const regressions = findRegressions(
      [
        m("vm.stepsPerSecond", 40e6, "steps/s"), // 60% slower: beyond the 50% allowance
        m("oracle.lifecycleGas", 887_457, "gas"), // one gas more: gas is deterministic
        m("dispute.seconds", 1.0, "s"), // 43% slower: within noise
        m("graph.vsOnnxruntime", 0.1, "ratio", { better: "higher" }), // 75% worse
        m("graph.alphaMin", 9000, "ratio"), // not gated
        m("keeper.heapMiB", 150, "MiB"), // better
        m("scale.new", 5, "s"), // not in the baseline
        m("dispute.large.gas", null, "gas"), // not measured
      ],
      baseline,
    );
    expect(regressions.map((r) => r.key)).toEqual(["vm.stepsPerSecond", "oracle.lifecycleGas", "graph.vsOnnxruntime"]);
    expect(describeRegression(regressions[0]!)).toBe("REGRESSION vm.stepsPerSecond: 100,000,000 → 40,000,000 steps/s (worse by 60%; noise allowance 50%)");
    expect(findRegressions([m("oracle.lifecycleGas", 800_000, "gas"), m("vm.stepsPerSecond", 60e6, "steps/s")], baseline)).toEqual([]);
  });

  it("nests dotted metric keys and refuses a key that is both a value and a prefix", () => {
    expect(nestMetrics([["vm.stepsPerSecond", 1], ["dispute.large.gas", null], ["dispute.seconds", 2]])).toEqual({
      vm: { stepsPerSecond: 1 },
      dispute: { large: { gas: null }, seconds: 2 },
    });
    expect(() => nestMetrics([["a.b", 1], ["a.b.c", 2]])).toThrow(/a.b.c: b is already a value/);
    expect(() => nestMetrics([["a.b", 1], ["a.b", 2]])).toThrow(/reported twice/);
  });

  it("renders the block with the metrics, escaped cells, tables, charts and failures", () => {
    const block = renderBlock(info, [
      { id: "vm", title: "VM", seconds: 3, result },
      { id: "scale", title: "scale", seconds: 1, error: "boom" },
    ]);
    expect(block.startsWith(BEGIN) && block.endsWith(END)).toBe(true);
    expect(block).toContain("| `vm.stepsPerSecond` | 123,456,789 | steps/s | fast \\| mode |");
    expect(block).toContain("| x\\|y | 1,234.5 |");
    expect(block).toContain("![C](bench/c1.svg)");
    expect(block).toContain("**Failed** after 1 s: boom");
  });

  it("inserts the block once, then replaces only the block, keeping hand-written text", () => {
    const first = spliceBlock("# Benchmarks\n\nOld text.\n", "BLOCK1".replace("BLOCK1", `${BEGIN}\none\n${END}`));
    expect(first).toContain("one");
    expect(first).toContain("Old text.");
    const second = spliceBlock(first, `${BEGIN}\ntwo\n${END}`);
    expect(second).toContain("two");
    expect(second).not.toContain("\none\n");
    expect(second).toContain("Old text.");
    expect(second.split(BEGIN)).toHaveLength(2);
  });

  it("draws bar and log-log line charts as standalone SVG, deterministically", () => {
    const line: BenchChart = {
      id: "l",
      title: "Gas <vs> size",
      kind: "line",
      xLabel: "params",
      yLabel: "gas",
      logX: true,
      logY: true,
      series: [
        { name: "two-phase", points: [{ x: 1e6, y: 5e6 }, { x: 1.24e8, y: 9e6 }] },
        { name: "single", points: [{ x: 1e6, y: 2e7 }, { x: 1.24e8, y: 4e9 }] },
      ],
    };
    const svg = renderChart(line);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("Gas &lt;vs&gt; size");
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain(">1G<"); // a decade tick of the log y axis
    expect(renderChart(line)).toBe(svg);
    const bar = renderChart(result.charts[0]!);
    expect(bar.match(/<rect x=/g)).toHaveLength(1);
    expect(() => renderChart({ ...line, series: [] })).toThrow(/no data/);
    expect(() => renderChart({ ...line, series: [{ name: "s", points: [{ x: "a", y: 1 }] }] })).toThrow(/numeric x/);
  });

  it("formats table values without losing small ones", () => {
    expect([1234.5678, 0.000412345, 0.5, 42, null].map(formatValue)).toEqual(["1,234.568", "0.000412", "0.5", "42", "—"]);
  });

  it("abbreviates axis numbers", () => {
    expect([0, 0.25, 999, 12_000, 3_400_000, 5e9].map(shortNumber)).toEqual(["0", "0.25", "999", "12k", "3.4M", "5G"]);
  });
});

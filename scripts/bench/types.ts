/**
 * The contract between `npm run bench` (scripts/bench/run.ts) and its sections. Each section is a
 * module exporting `section: BenchSection`; the runner runs the selected sections in one process,
 * one after another, gathers their metrics into one JSON object (`--json`: the last stdout line)
 * and writes docs/benchmarks.md with the tables and SVG charts (docs/bench/*.svg).
 *
 * Sections measure through the same code a user runs (keeper/vm, keeper/graph, the keeper service,
 * the contracts on Hardhat's in-process chain). They write progress to `ctx.log` (stderr), never to
 * stdout, and never assert timings: a benchmark reports, it does not pass or fail on speed. A
 * section throws only when what it measured is wrong (a witness that does not verify, a dispute
 * the honest side lost), and then the whole bench fails.
 */

export interface BenchContext {
  /** `--quick`: a few-minute version (smaller inputs, fewer repetitions; same code paths). */
  quick: boolean;
  /** Absolute path of the repository root. */
  repo: string;
  /** Progress and diagnostics (stderr). */
  log: (line: string) => void;
}

/** A metric value: numbers in the unit its name or description gives; null when not measurable here. */
export type MetricValue = number | string | boolean | null;

export interface Metric {
  /** Flat dotted key, e.g. `vm.stepsPerSecond`, `scale.largestModelParams`. */
  key: string;
  value: MetricValue;
  /** Unit, e.g. "steps/s", "ms", "gas", "params", "ratio". */
  unit: string;
  /** One line: what it is and how it was measured. */
  description: string;
  /**
   * Which way is better, for the regression gate against the committed run (run.ts `gateOf`); default from the
   * unit: rates (`…/s`) higher, times, gas, transactions and memory lower, anything else (counts, `ratio`) not gated.
   */
  better?: "higher" | "lower" | "none";
  /** Allowed relative worsening before the gate fails (default from the unit: 0 for gas/txs, 0.5 for times and rates). */
  tolerance?: number;
}

export interface BenchTable {
  title: string;
  /** The command that measures this table alone, if there is one (e.g. `npm run bench:vm`). */
  command?: string;
  columns: string[];
  /** Right-align numeric columns: one flag per column (default: left). */
  numeric?: boolean[];
  rows: (string | number)[][];
  /** Markdown paragraph printed under the table: conditions, caveats. */
  notes?: string;
}

export interface ChartSeries {
  name: string;
  points: { x: number | string; y: number }[];
}

export interface BenchChart {
  /** File name stem: docs/bench/<id>.svg. */
  id: string;
  title: string;
  /** bar: categorical x (one group per x, one bar per series); line: numeric x. */
  kind: "bar" | "line";
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: ChartSeries[];
}

export interface SectionResult {
  metrics: Metric[];
  tables: BenchTable[];
  charts: BenchChart[];
}

export interface BenchSection {
  /** Short id used by `--only` and as the JSON key prefix, e.g. "vm". */
  id: string;
  /** Heading in docs/benchmarks.md. */
  title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

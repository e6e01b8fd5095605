/**
 * Renders a BenchChart as a standalone SVG (no dependencies, deterministic bytes for equal input):
 * bar charts (categorical x, one bar per series in each group) and line charts (numeric x), each
 * axis linear or logarithmic, with ticks, grid lines, axis labels and a legend.
 */
import type { BenchChart } from "./types.ts";

const WIDTH = 720;
const PLOT_H = 290;
const M = { left: 78, right: 20, top: 60 };
const PLOT_W = WIDTH - M.left - M.right;
/** Longest category label drawn on a bar chart's x axis (longer ones are cut with an ellipsis). */
const MAX_LABEL = 26;
/** Colour-blind-safe palette (Okabe–Ito). */
const COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/** A number in a short form: 1.2k, 3.4M, 5G, 0.25. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  const fmt = (x: number) => (Number.isInteger(x) ? x.toString() : x.toPrecision(3).replace(/\.?0+$/, ""));
  if (a >= 1e12) return `${fmt(v / 1e12)}T`;
  if (a >= 1e9) return `${fmt(v / 1e9)}G`;
  if (a >= 1e6) return `${fmt(v / 1e6)}M`;
  if (a >= 1e3) return `${fmt(v / 1e3)}k`;
  if (a === 0) return "0";
  return fmt(v);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

/** `lo..hi` mapped onto `[a, b]` pixels, linear with 1/2/5 ticks or log10 with decade ticks. */
function makeScale(values: number[], a: number, b: number, log: boolean, fromZero: boolean): Scale {
  if (log) {
    const positive = values.filter((v) => v > 0);
    if (positive.length === 0) throw new Error("log axis without positive values");
    const lo = Math.floor(Math.log10(Math.min(...positive)));
    let hi = Math.ceil(Math.log10(Math.max(...positive)));
    if (hi === lo) hi = lo + 1;
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    return { map: (v) => a + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (b - a), ticks };
  }
  let lo = fromZero ? Math.min(0, ...values) : Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { map: (v) => a + ((v - lo) / (hi - lo)) * (b - a), ticks };
}

export function renderChart(chart: BenchChart): string {
  if (chart.series.length === 0 || chart.series.every((s) => s.points.length === 0)) {
    throw new Error(`chart ${chart.id}: no data`);
  }
  const categories: string[] = [];
  for (const s of chart.series) for (const p of s.points) if (!categories.includes(String(p.x))) categories.push(String(p.x));
  const rotated = chart.kind === "bar" && categories.length > 5;
  const longest = Math.min(MAX_LABEL, Math.max(0, ...categories.map((c) => c.length)));
  // Rotated labels need room below the axis: about 3.6 px per character at -35°.
  const bottom = 62 + (rotated ? Math.ceil(longest * 3.6) : 0);
  const HEIGHT = M.top + PLOT_H + bottom;
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") =>
    out.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  );
  text(WIDTH / 2, 22, chart.title, 'text-anchor="middle" font-size="15" font-weight="bold"');

  const ys = chart.series.flatMap((s) => s.points.map((p) => p.y));
  const yScale = makeScale(ys, M.top + PLOT_H, M.top, chart.logY === true, true);
  for (const t of yScale.ticks) {
    const y = yScale.map(t);
    out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    text(M.left - 6, y + 4, shortNumber(t), 'text-anchor="end"');
  }

  if (chart.kind === "bar") {
    const group = PLOT_W / categories.length;
    const barW = Math.min(40, (group * 0.8) / chart.series.length);
    const base = yScale.map(chart.logY === true ? yScale.ticks[0]! : 0);
    categories.forEach((c, i) => {
      const x0 = M.left + i * group + (group - barW * chart.series.length) / 2;
      chart.series.forEach((s, k) => {
        const p = s.points.find((q) => String(q.x) === c);
        if (p === undefined) return;
        const y = yScale.map(p.y);
        const x = x0 + k * barW;
        out.push(
          `<rect x="${x.toFixed(1)}" y="${Math.min(y, base).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.abs(base - y).toFixed(1)}" fill="${COLORS[k % COLORS.length]}"><title>${escapeXml(`${s.name} ${c}: ${p.y}`)}</title></rect>`,
        );
      });
      const cx = M.left + (i + 0.5) * group;
      const label = c.length > MAX_LABEL ? `${c.slice(0, MAX_LABEL - 1)}…` : c;
      const ly = M.top + PLOT_H + 16;
      text(cx, ly, label, rotated ? `text-anchor="end" transform="rotate(-35 ${cx.toFixed(1)} ${ly.toFixed(1)})"` : 'text-anchor="middle"');
    });
  } else {
    const xs = chart.series.flatMap((s) => s.points.map((p) => Number(p.x)));
    if (xs.some((x) => !Number.isFinite(x))) throw new Error(`chart ${chart.id}: a line chart needs numeric x`);
    const xScale = makeScale(xs, M.left, M.left + PLOT_W, chart.logX === true, false);
    for (const t of xScale.ticks) {
      const x = xScale.map(t);
      out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${M.top + PLOT_H}" stroke="#f0f0f0"/>`);
      text(x, M.top + PLOT_H + 16, shortNumber(t), 'text-anchor="middle"');
    }
    chart.series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length]!;
      const pts = [...s.points].sort((a, b) => Number(a.x) - Number(b.x)).map((p) => [xScale.map(Number(p.x)), yScale.map(p.y), p] as const);
      if (pts.length > 1) {
        out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`);
      }
      for (const [x, y, p] of pts) {
        out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${p.x} → ${p.y}`)}</title></circle>`);
      }
    });
  }

  // axes and labels
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PLOT_H}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H}" stroke="#333"/>`);
  text(M.left + PLOT_W / 2, HEIGHT - 10, chart.xLabel + (chart.logX ? " (log)" : ""), 'text-anchor="middle"');
  text(16, M.top + PLOT_H / 2, chart.yLabel + (chart.logY ? " (log)" : ""), `text-anchor="middle" transform="rotate(-90 16 ${(M.top + PLOT_H / 2).toFixed(1)})"`);

  // legend: one row between the title and the plot
  if (chart.series.length > 1 || chart.kind === "line") {
    let x = M.left;
    chart.series.forEach((s, k) => {
      out.push(`<rect x="${x}" y="33" width="10" height="10" fill="${COLORS[k % COLORS.length]}"/>`);
      text(x + 15, 42, s.name);
      x += 30 + 7 * s.name.length;
    });
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** Small helpers the bench sections share: repeated timing, the `oao` CLI as a subprocess. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { BenchContext } from "./types.ts";

/** The median of `xs` (the upper one of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Runs each of `fns` once to warm up, then `rounds` rounds in which each runs once in turn, so that a disturbance
 * of the shared machine (another job taking a core for a while) falls on the measurements alike instead of on one
 * of them; per name the best rate `n / seconds` (the least disturbed round: interference only slows) and the median.
 */
export async function interleavedRates<K extends string>(n: number, rounds: number, fns: Record<K, () => unknown>): Promise<Record<K, { best: number; median: number }>> {
  const names = Object.keys(fns) as K[];
  for (const k of names) await fns[k]();
  const rates = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const k of names) {
      const t0 = performance.now();
      await fns[k]();
      rates[k].push(n / ((performance.now() - t0) / 1000));
    }
  }
  return Object.fromEntries(names.map((k) => [k, { best: Math.max(...rates[k]), median: median(rates[k]) }])) as Record<K, { best: number; median: number }>;
}

/**
 * Runs `oao <args> --json` (bin/oao.js, in a fresh process: a clean heap and its own chain, the way a
 * user runs it) and returns the last stdout line parsed. Its stderr (progress) goes to `ctx.log`.
 */
export function runOaoJson<T = Record<string, unknown>>(ctx: BenchContext, args: string[]): Promise<T> {
  return runJson<T>(ctx, process.execPath, [join(ctx.repo, "bin", "oao.js"), ...args, "--json"], `oao ${args.join(" ")}`);
}

/** Runs a TypeScript script of the repository (`tsx <script> <args>`) the same way; its last stdout line is JSON. */
export function runScriptJson<T = Record<string, unknown>>(ctx: BenchContext, script: string, args: string[]): Promise<T> {
  return runJson<T>(ctx, join(ctx.repo, "node_modules", ".bin", "tsx"), [join(ctx.repo, script), ...args], `tsx ${script} ${args.join(" ")}`);
}

function runJson<T>(ctx: BenchContext, command: string, argv: string[], label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: ctx.repo,
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      let nl: number;
      while ((nl = stderr.indexOf("\n")) >= 0) {
        ctx.log(`    ${stderr.slice(0, nl)}`);
        stderr = stderr.slice(nl + 1);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`${label} exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${label}: the last stdout line is not JSON: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** Rounds to `digits` significant digits (for metrics: timing noise beyond that is meaningless). */
export function sig(x: number, digits = 3): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

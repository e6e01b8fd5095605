/** `oao demo` and `oao dispute simulate` as a user runs them: a child process, JSON on the last line. */
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const oao = (...args: string[]) => {
  const out = execFileSync(process.execPath, [`${root}bin/oao.js`, ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
};

describe("oao demo", () => {
  it("delivers the right digits after the cheater is challenged, disputed and slashed", () => {
    const r = oao("demo", "--json", "--digits", "2");
    expect(r.correct).toBe(true);
    expect(r.delivered).toEqual(r.expected);
    expect(r.winner).toBe("honest");
    expect(BigInt(r.cheaterSlashed as string)).toBeGreaterThan(0n);
    expect(r.disputes).toBe(2);
    expect(r.transactions as number).toBeGreaterThan(10);
  });

  it("simulates a dispute on chain from the CLI", () => {
    const r = oao("dispute", "simulate", "--model", "mnist", "--fault", "vm:5", "--json");
    expect(r).toMatchObject({ mode: "chain", winner: "honest", fault: "vm:5" });
    expect(BigInt(r.gasUsed as string)).toBeGreaterThan(0n);
  });

  it("explains a bad option instead of crashing", () => {
    expect(() => oao("demo", "--digits", "0")).toThrow(/--digits 0: expected 1..20/);
  });
});

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyStep } from "../../vm/step.ts";
import { fromHex } from "../../vm/hex.ts";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");
const elf = (name: string): string => join(root, "keeper", "guest", "build", `${name}.elf`);

function oao(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, "bin", "oao.js"), ...args], { encoding: "utf8", cwd: root });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe("oao vm", () => {
  it("run --json reports the exit, stdout, steps and state hash", () => {
    const r = oao("vm", "run", elf("hello"), "--json");
    expect(r.status).toBe(0);
    const out = lastJson(r.stdout);
    expect(out).toMatchObject({ exited: true, exitCode: 0, status: "valid", steps: "137", stdout: "hello from the oao guest\n" });
    expect(out.stateHash).toMatch(/^0x00[0-9a-f]{62}$/);
    expect(typeof out.stepsPerSecond).toBe("number");
  });

  it("run passes the guest's exit code through, and 124 when --max-steps is too small", () => {
    expect(oao("vm", "run", elf("exit1")).status).toBe(1);
    // bench_loop reads its iteration count (5,000,000 here) from local datum 1.
    const r = oao("vm", "run", elf("bench_loop"), "--local", "1=0x004c4b40", "--max-steps", "1000", "--json");
    expect(r.status).toBe(124);
    expect(lastJson(r.stdout)).toMatchObject({ exited: false, exitCode: null, status: "unfinished", steps: "1000" });
    expect(r.stderr).toMatch(/did not exit within 1000 steps/);
  });

  it("run refuses a file that is not a MIPS ELF, and reports failing steps", () => {
    const bad = oao("vm", "run", join(root, "package.json"));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/not an ELF file/);
    const trap = oao("vm", "run", elf("trap"));
    expect(trap.status).toBe(125);
    expect(trap.stderr).toMatch(/Trap/);
  });

  it("run stops a guest that needs more memory than --max-memory (default 1 GiB): exit 125, the step and the cap named", () => {
    // alloc.elf touches 465 pages of 4 KiB (1.9 MB); 64 KiB is 16 pages.
    const capped = oao("vm", "run", elf("alloc"), "--max-memory", "64KiB", "--json");
    expect(capped.status).toBe(125);
    const out = lastJson(capped.stdout);
    expect(out).toMatchObject({ exited: false, status: "unfinished" });
    expect(out.error).toMatch(/^memory cap reached: writing page 0x[0-9a-f]{5} \(address 0x[0-9a-f]{8}\) needs a page beyond the cap of 16 pages of 4 KiB \(64 KiB\)$/);
    expect(capped.stderr).toMatch(new RegExp(`oao vm: step ${out.steps} failed: memory cap reached: .* \\(raise --max-memory\\)`));
    // the same run at the default cap, and at 2MiB, exits normally
    expect(oao("vm", "run", elf("alloc")).status).toBe(0);
    expect(oao("vm", "run", elf("alloc"), "--max-memory", "2MiB").status).toBe(0);
    for (const bad of ["lots", "5GiB"]) {
      const r = oao("vm", "run", elf("alloc"), "--max-memory", bad);
      expect(r.status, bad).toBe(1);
      expect(r.stderr, bad).toMatch(/--max-memory/);
    }
  });

  it("prove prints a witness that verifies", () => {
    const r = oao("vm", "prove", elf("hello"), "--step", "40");
    expect(r.status).toBe(0);
    const w = lastJson(r.stdout) as { step: string; preState: string; proof: string; postStateHash: string };
    expect(w.step).toBe("40");
    expect(verifyStep(fromHex(w.preState), fromHex(w.proof))).toBe(w.postStateHash);
  });
});

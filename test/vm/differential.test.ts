/**
 * The differential test of issue 3: steps of every guest test program, witnessed by the TypeScript
 * VM (keeper/vm `traceWitnesses`), executed by `MIPS.step` on Hardhat's chain; the returned hash
 * must equal the TypeScript post-state hash byte for byte. Every step of the small programs (the
 * instruction suite `special`, the syscall and preimage programs), and of the larger ones every
 * spread of samples and the exit step.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GUEST_BUILD_DIR, listGuestPrograms } from "../../keeper/guest/build.ts";
import { MapPreimageSource, type StepWitness, Trace, toHex, traceWitnesses } from "../../keeper/vm/index.ts";
import { type StepCase, type VmChain, deployVm } from "./harness.ts";
import { CONTEXT } from "./cases.ts";

const EVERY_STEP = new Set(["hello", "exit1", "panic", "special", "syscalls", "preimage"]);
const SAMPLES = 150;

function preimages(): MapPreimageSource {
  const source = new MapPreimageSource();
  const data = new Uint8Array(100).map((_, i) => (i * 7 + 3) & 0xff);
  source.setLocal(1, source.addKeccak(data));
  source.setLocal(2, new Uint8Array([0, 0, 1, 2]));
  return source;
}

function toCase(name: string, w: StepWitness): StepCase {
  const c: StepCase = {
    label: `${name} step ${w.step}`,
    preState: toHex(w.preState),
    proof: toHex(w.proof),
    localContext: CONTEXT,
    postStateHash: w.postStateHash,
  };
  if (w.preimage !== undefined) c.preimage = { key: toHex(w.preimage.key), offset: w.preimage.offset, data: toHex(w.preimage.data) };
  return c;
}

/** The witnesses to check for one program. */
function casesOf(name: string, caller: `0x${string}`): StepCase[] {
  const elf = readFileSync(join(GUEST_BUILD_DIR, `${name}.elf`));
  const localContext = { caller, localContext: CONTEXT };
  if (EVERY_STEP.has(name)) return [...traceWitnesses(elf, preimages(), { localContext })].map((w) => toCase(name, w));
  // Larger programs: evenly spread samples, from a trace with snapshots.
  const trace = Trace.fromElf(elf, { preimages: preimages(), localContext, snapshotInterval: 50_000 });
  const total = trace.run(Number.MAX_SAFE_INTEGER).steps;
  const stride = Math.max(1, Math.floor(total / SAMPLES));
  const cases: StepCase[] = [];
  for (let n = 0; n < total; n += stride) cases.push(toCase(name, trace.witness(n)));
  cases.push(toCase(name, trace.witness(total - 1))); // the exit
  return cases;
}

describe("MIPS.step equals the TypeScript VM on guest program steps", () => {
  let chain: VmChain;
  beforeAll(async () => {
    chain = await deployVm();
  });

  for (const p of listGuestPrograms()) {
    if (p.kind !== "tests" || p.name === "bench_loop" || p.name === "trap") continue;
    it(p.name, async () => {
      const cases = casesOf(p.name, chain.wallet.account.address);
      expect(cases.length).toBeGreaterThan(20);
      expect(await chain.checkCases(cases)).toEqual([]);
    });
  }
});

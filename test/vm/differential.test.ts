/**
 * Differential test: steps of every guest program in keeper/guest/build/*.elf executed by the
 * TypeScript VM (keeper/vm, which produces each step's witness) and by MIPS.step on Hardhat's chain
 * (through MIPSStepBatch, one eth_call per 256 steps): the post-state hashes must be byte-equal.
 *
 * Programs of at most SMALL_PROGRAM steps are replayed whole. Longer ones (up to millions of steps)
 * are replayed in windows of consecutive steps: the first, evenly spaced ones, and the last (the exit).
 * `OAO_VM_DIFF=full npx vitest run test/vm/differential.test.ts` replays every step of every program
 * (about 6 ms per step on the reference machine: witness generation ~3 ms, MIPS.step ~2.7 ms; the
 * suite has ~5M steps besides bench_loop, so hours; not part of npm test).
 * A sample of steps is also sent as transactions on a cancun chain, to check execution gas.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Hex, toHex } from "viem";
import {
  type Machine,
  MapPreimageSource,
  type PreimageSource,
  type StepWitness,
  Trace,
  VmStepError,
  traceWitnesses,
} from "../../keeper/vm/index.ts";
import { nodeCheck } from "../../keeper/graph/preimages.ts";
import { buildModel, type ModelSpec } from "../../keeper/graph/model.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { inputSlot, weightSlot } from "../../keeper/graph/ops.ts";
import { ALL_OPS, randomNodeCase, seededRandom } from "../../keeper/graph/fixtures.ts";
import type { Tensor } from "../../keeper/graph/tensor.ts";
import { type StepCase, type VmChain, deployVm } from "./harness.ts";

const BUILD = fileURLToPath(new URL("../../keeper/guest/build/", import.meta.url));
const FULL = process.env.OAO_VM_DIFF === "full";
const SMALL_PROGRAM = 4_000;
const WINDOW = 200;
const WINDOWS = 4;
const CONTEXT: Hex = `0x${"00".repeat(32)}`;

/** The preimages of preimage.elf: local 1 = a keccak key, local 2 = a 4-byte node index. */
function preimageProgramSource(): PreimageSource {
  const source = new MapPreimageSource();
  const data = Uint8Array.from({ length: 1500 }, (_, i) => (i * 7 + 3) & 0xff);
  source.setLocal(1n, source.addKeccak(data));
  source.setLocal(2n, Uint8Array.from([0, 0, 0, 5]));
  return source;
}

/** The preimages of oao_node.elf checking node 1 of a one-node model from a seeded random case. */
function nodeProgramSource(): PreimageSource {
  const c = randomNodeCase(ALL_OPS[0]!, seededRandom(7));
  const inputs: Tensor[] = c.inputs;
  const spec: ModelSpec = {
    input: { dtype: inputs[0]!.dtype, shape: inputs[0]!.shape },
    weights: inputs.slice(1),
    nodes: [{ ...c.node, inputs: [inputSlot(), ...inputs.slice(1).map((_, j) => weightSlot(j))] }],
    metadata: { name: "case", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
  };
  const model = buildModel(spec);
  const run = new Executor(model).run(inputs[0]!);
  const check = nodeCheck(model, inputs[0]!, run.nodeOutputs, 1);
  const source = new MapPreimageSource();
  for (const data of check.preimages.byKey.values()) source.addKeccak(data);
  for (const [ident, data] of check.locals) source.setLocal(BigInt(ident), data);
  return source;
}

const SOURCES: Record<string, () => PreimageSource> = {
  "preimage.elf": preimageProgramSource,
  "oao_node.elf": nodeProgramSource,
};

function toCase(program: string, w: StepWitness): StepCase {
  const c: StepCase = {
    label: `${program} step ${w.step}`,
    preState: toHex(w.preState),
    proof: toHex(w.proof),
    localContext: CONTEXT,
    postStateHash: w.postStateHash,
  };
  if (w.preimage !== undefined) {
    c.preimage = { key: toHex(w.preimage.key), offset: w.preimage.offset, data: toHex(w.preimage.data) };
  }
  return c;
}

/**
 * The step windows [from, to) replayed for a program of `total` steps (the last step exits).
 * bench_loop.elf (a speed benchmark of tens of millions of steps) is sampled even in full mode.
 */
function windows(program: string, total: number): [number, number][] {
  if ((FULL && program !== "bench_loop.elf") || total <= SMALL_PROGRAM) return [[0, total]];
  const out: [number, number][] = [[0, WINDOW]];
  for (let i = 1; i <= WINDOWS; i++) {
    const from = Math.floor((total * i) / (WINDOWS + 1));
    out.push([from, from + WINDOW]);
  }
  out.push([total - WINDOW, total]);
  return out;
}

/**
 * Runs a program in fast mode: its step count until exit, or the machine at its failing step
 * (trap.elf ends in a `teq` that holds).
 */
function runToEnd(elf: Uint8Array, preimages: PreimageSource | undefined): { total: number; failing?: Machine } {
  const trace = Trace.fromElf(elf, preimages === undefined ? {} : { preimages });
  try {
    return { total: trace.run(FULL ? 50_000_000 : 10_000_000).steps };
  } catch (e) {
    if (!(e instanceof VmStepError)) throw e;
    // runFast leaves the machine at the state before the failing step.
    return { total: trace.headStep, failing: trace.headMachine };
  }
}

const programs = readdirSync(BUILD)
  .filter((f) => f.endsWith(".elf"))
  .sort();

describe("differential: keeper/vm witnesses vs MIPS.step", () => {
  let vm: VmChain;
  beforeAll(async () => {
    vm = await deployVm({ hardfork: "cancun" });
  });

  it("finds the guest programs", () => {
    expect(programs.length).toBeGreaterThanOrEqual(10);
  });

  for (const program of programs) {
    it(`${program}: MIPS.step returns the TypeScript VM's post-state hash`, async () => {
      const elf = new Uint8Array(readFileSync(BUILD + program));
      const preimages = SOURCES[program]?.();
      const { total, failing } = runToEnd(elf, preimages);
      let checked = 0;
      for (const [from, to] of windows(program, total)) {
        // Pipelined: the chain checks one batch while the next batch's witnesses are generated.
        let pending: Promise<string | undefined> | undefined;
        let batch: StepCase[] = [];
        for (const w of traceWitnesses(elf, preimages, { from, to })) {
          batch.push(toCase(program, w));
          if (batch.length === 256) {
            const failure = await pending;
            expect(failure).toBeUndefined();
            pending = vm.checkBatches(batch);
            batch = [];
          }
          checked++;
        }
        expect(await pending).toBeUndefined();
        if (batch.length > 0) expect(await vm.checkBatches(batch)).toBeUndefined();
      }
      expect(checked).toBeGreaterThan(0);
      if (failing !== undefined) {
        // The step the TypeScript VM refuses reverts on chain with the same custom error.
        const c: StepCase = {
          label: `${program} failing step ${failing.step}`,
          preState: toHex(failing.encodeState()),
          proof: toHex(failing.memory.merkleProof(failing.pc)),
          localContext: CONTEXT,
          postStateHash: "0x",
        };
        await expect(vm.callStep(c)).rejects.toThrow(/Trap/);
      }
    });
  }

  it("a sample of steps as transactions stays within 31k execution gas", async () => {
    const elf = new Uint8Array(readFileSync(BUILD + "preimage.elf"));
    let maxExecution = 0n;
    let preimageSteps = 0;
    for (const w of traceWitnesses(elf, preimageProgramSource(), { from: 0, to: 3000 })) {
      const c = toCase("preimage.elf", w);
      const touchesData = c.proof.length > 2 + 2 * 896;
      if (w.step % 97 !== 0 && c.preimage === undefined && !touchesData) continue;
      if (c.preimage !== undefined) preimageSteps++;
      await vm.loadPreimage(c);
      expect(await vm.callStep(c), c.label).toBe(c.postStateHash);
      const g = await vm.sendStep(c);
      const execution = g.gasUsed - g.intrinsic;
      if (execution > maxExecution) maxExecution = execution;
    }
    expect(preimageSteps).toBeGreaterThan(0);
    expect(maxExecution).toBeLessThanOrEqual(31_000n);
  });
});

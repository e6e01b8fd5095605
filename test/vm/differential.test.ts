/**
 * Differential test (docs/protocol.md §4): every step of every guest program in
 * keeper/guest/build/*.elf, executed by the TypeScript VM (keeper/vm, which produces each step's
 * witness) and by MIPS.step on Hardhat's chain (through MIPSStepBatch, BATCH_SIZE steps per
 * eth_call). Every post-state hash must be byte-equal, and the last step must be the program's exit
 * with the exit code qemu-mips gives (or the VM's own expectation for programs that need the
 * oracle); trap.elf ends in a step that both sides refuse with `Trap`.
 *
 * Programs that read inputs get them through the preimage oracle: preimage.elf a keccak preimage and
 * a node index, bench_loop.elf its iteration count (the 1,000 it runs under qemu-mips), oao_node.elf
 * a real node check (the shortest one: Relu on a 1x1 tensor, ~162k steps, nearly all of them the
 * check's fixed hashing). Step counts and timings: docs/benchmarks.md.
 *
 * EDR executes each eth_call off this thread, and two chains (two EDR providers) check batches in
 * parallel, so the witnesses of the next batches are generated while the chains check theirs (the
 * loop yields to the event loop every YIELD_EVERY steps so that the chains' requests, and their
 * preimage loads, move on meanwhile). Each witness is self-contained, so which chain checks it
 * does not matter.
 *
 * A sample of steps is also sent as transactions on a cancun chain, to check execution gas.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import {
  type Machine,
  MapPreimageSource,
  type PreimageSource,
  type StepWitness,
  VmStepError,
  decodeState,
  loadElf,
  runFast,
  statusOfHash,
  toHex,
  traceWitnesses,
  vmStatus,
} from "../../keeper/vm/index.ts";
import { readCommittedHashes, readExpected } from "../../keeper/guest/build.ts";
import { BENCH_LOOP_DEFAULT_ITERATIONS, benchLoopPreimages } from "../../keeper/guest/inputs.ts";
import { preimageSource } from "../../keeper/guest/node/vm.ts";
import { nodeCheck } from "../../keeper/graph/preimages.ts";
import { buildModel } from "../../keeper/graph/model.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { Op, inputSlot } from "../../keeper/graph/ops.ts";
import { DType, int8Tensor } from "../../keeper/graph/tensor.ts";
import { type StepCase, type VmChain, deployVm } from "./harness.ts";

const BUILD = fileURLToPath(new URL("../../keeper/guest/build/", import.meta.url));
const CONTEXT: Hex = `0x${"00".repeat(32)}`;
/** Witnesses per eth_call. */
const BATCH_SIZE = 256;
/** Chains checking batches in parallel. */
const CHAINS = 2;
/** Batches generated but not yet checked, at most. */
const BATCHES_AHEAD = 2 * CHAINS;
/** Steps between yields to the event loop while generating witnesses. */
const YIELD_EVERY = 64;
/** Fast-mode bound when finding a program's length (every program ends far below it). */
const MAX_STEPS = 10_000_000;

/** The preimages of preimage.elf: local 1 = a keccak key, local 2 = a 4-byte node index. */
function preimageProgramSource(): PreimageSource {
  const source = new MapPreimageSource();
  const data = Uint8Array.from({ length: 1500 }, (_, i) => (i * 7 + 3) & 0xff);
  source.setLocal(1n, source.addKeccak(data));
  source.setLocal(2n, Uint8Array.from([0, 0, 0, 5]));
  return source;
}

/**
 * The preimages of oao_node.elf checking the only node of a one-node model: Relu of a 1x1 int8
 * tensor (the shortest whole node check: the rest of the trace is the check's fixed cost).
 */
function nodeProgramSource(): PreimageSource {
  const input = int8Tensor([1, 1], [-3]);
  const model = buildModel({
    input: { dtype: input.dtype, shape: input.shape },
    weights: [],
    nodes: [{ op: Op.Relu, inputs: [inputSlot()], outDtype: DType.int8, outShape: [1, 1], attrs: [0] }],
    metadata: { name: "relu-1x1", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
  });
  const run = new Executor(model).run(input);
  return preimageSource(nodeCheck(model, input, run.nodeOutputs, 1));
}

/** What each program reads from the preimage oracle (the others read nothing). */
const INPUTS: Record<string, () => PreimageSource> = {
  "preimage.elf": preimageProgramSource,
  "bench_loop.elf": () => benchLoopPreimages(BENCH_LOOP_DEFAULT_ITERATIONS),
  "oao_node.elf": nodeProgramSource,
};

/**
 * How each program ends: the exit code qemu-mips gave (keeper/guest/build/expected.json), or, for
 * the programs qemu cannot run, the VM's: oao_node.elf exits 0 (VALID: the claimed state is right).
 */
const expected = readExpected();
const VM_ONLY_END: Record<string, number | "Trap"> = { "preimage.elf": 0, "syscalls.elf": 0, "oao_node.elf": 0, "trap.elf": "Trap" };
function expectedEnd(program: string): number | "Trap" | undefined {
  return expected[program.replace(/\.elf$/, "")]?.exitCode ?? VM_ONLY_END[program];
}

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
 * Runs a program in fast mode: its step count until exit, or the machine at its failing step
 * (trap.elf ends in a `teq` that holds).
 */
function runToEnd(elf: Uint8Array, preimages: PreimageSource | undefined): { steps: number; end: Machine; failed: boolean } {
  const m = loadElf(elf, preimages === undefined ? {} : { preimages });
  try {
    runFast(m, MAX_STEPS);
  } catch (e) {
    if (!(e instanceof VmStepError)) throw e;
    // runFast leaves the machine at the state before the failing step.
    return { steps: m.step, end: m, failed: true };
  }
  if (!m.exited) throw new Error(`the program did not end within ${MAX_STEPS} steps`);
  return { steps: m.step, end: m, failed: false };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Replays steps [0, steps) of a program through MIPS.step, BATCH_SIZE witnesses per call, spread
 * over `chains`. Returns the mismatches and reverts (at most one per chain: a chain stops at its
 * first), the number of witnesses replayed and the last one.
 */
async function replay(
  chains: readonly VmChain[],
  program: string,
  elf: Uint8Array,
  preimages: PreimageSource | undefined,
  steps: number,
): Promise<{ failures: string[]; replayed: number; last: StepWitness | undefined }> {
  // Each chain checks its batches one after another; its lane settles with its first failure.
  const lanes = chains.map(() => Promise.resolve<string | undefined>(undefined));
  const ahead: Promise<string | undefined>[] = [];
  let submitted = 0;
  const submit = (cases: StepCase[]): void => {
    const lane = submitted++ % chains.length;
    lanes[lane] = lanes[lane]!.then((failure) => failure ?? chains[lane]!.checkBatches(cases, BATCH_SIZE));
    ahead.push(lanes[lane]!);
  };
  const failuresOf = async (): Promise<string[]> => (await Promise.all(lanes)).filter((f) => f !== undefined);
  let batch: StepCase[] = [];
  let replayed = 0;
  let last: StepWitness | undefined;
  for (const w of traceWitnesses(elf, preimages, { to: steps })) {
    batch.push(toCase(program, w));
    last = w;
    replayed++;
    if (batch.length === BATCH_SIZE) {
      submit(batch);
      batch = [];
      while (ahead.length > BATCHES_AHEAD) {
        if ((await ahead.shift()) !== undefined) return { failures: await failuresOf(), replayed, last };
      }
    }
    if (replayed % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  if (batch.length > 0) submit(batch);
  return { failures: await failuresOf(), replayed, last };
}

const programs = readdirSync(BUILD)
  .filter((f) => f.endsWith(".elf"))
  .sort();

describe("differential: keeper/vm witnesses vs MIPS.step, every step of every program", () => {
  let chains: VmChain[];
  let vm: VmChain;
  beforeAll(async () => {
    chains = await Promise.all(Array.from({ length: CHAINS }, () => deployVm({ hardfork: "cancun" })));
    vm = chains[0]!;
  });

  it("finds every committed guest program, each with an expected end", () => {
    const committed = Object.keys(readCommittedHashes()).map((name) => `${name}.elf`).sort();
    expect(programs).toEqual(committed);
    expect(programs).toContain("oao_node.elf");
    expect(programs).toContain("bench_loop.elf");
    for (const program of programs) expect(expectedEnd(program), program).toBeDefined();
  });

  for (const program of programs) {
    it(`${program}: MIPS.step returns the TypeScript VM's post-state hash on every step`, { timeout: 600_000 }, async () => {
      const elf = new Uint8Array(readFileSync(BUILD + program));
      const want = expectedEnd(program)!;
      const { steps, end, failed } = runToEnd(elf, INPUTS[program]?.());
      expect(failed ? "Trap" : end.exitCode).toBe(want);

      const { failures, replayed, last } = await replay(chains, program, elf, INPUTS[program]?.(), steps);
      expect(failures).toEqual([]);
      expect(replayed).toBe(steps);
      // The replay ends where the fast run did: the exit (or the state before the failing step).
      expect(last?.postStateHash).toBe(end.stateHash());
      if (!failed) {
        const post = decodeState(last!.postState);
        expect({ exited: post.exited, exitCode: post.exitCode }).toEqual({ exited: true, exitCode: want });
        expect(statusOfHash(last!.postStateHash)).toBe(vmStatus(true, want as number));
        return;
      }
      // The step the TypeScript VM refuses reverts on chain with the same custom error.
      const c: StepCase = {
        label: `${program} failing step ${end.step}`,
        preState: toHex(end.encodeState()),
        proof: toHex(end.memory.merkleProof(end.pc)),
        localContext: CONTEXT,
        postStateHash: "0x",
      };
      await expect(vm.callStep(c)).rejects.toThrow(/Trap/);
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

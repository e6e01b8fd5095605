/**
 * The real trace providers on the shipped MNIST model: graph claims from the native executor and
 * the guest node program's run in the TypeScript VM.
 */
import { describe, expect, it } from "vitest";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { checkGraphProof } from "../../keeper/game/trace-provider.ts";
import { claimTraces, guestPreimages } from "../../keeper/game/vm-provider.ts";
import { absolutePrestate } from "../../keeper/game/simulate.ts";
import { GameError, type Hex, type VmInputs } from "../../keeper/game/types.ts";
import { tensorHash, toHex, verifyClaim } from "../../keeper/graph/index.ts";
import { fromHex, localizeKey, statusOfHash, traceWitnesses, verifyStep, VmStatus } from "../../keeper/vm/index.ts";
import { mnistFixture } from "./fixture.ts";

const GAME = "0x00000000000000000000000000000000000ca11e" as Hex;
const CONTEXT = `0x${"00".repeat(31)}2a` as Hex;

describe("graph trace provider (native executor)", () => {
  const { model, run } = mnistFixture();
  const n = model.nodes.length;

  it("honest: State_k at k, State_n after n, proofs that open against the committed root", () => {
    const claim = graphClaim(run, model.weightsRoot);
    const g = claim.provider;
    expect(g.traceRoot).toBe(toHex(run.trace.traceRoot));
    for (let k = 0n; k < 1n << BigInt(run.trace.traceDepth); k++) {
      const want = toHex(run.trace.states[Math.min(Number(k), n)]!);
      expect(g.valueAt(k)).toBe(want);
      expect(checkGraphProof(g.traceRoot, k, g.valueAt(k), g.proofAt(k))).toBe(true);
      expect(checkGraphProof(g.traceRoot, k, toHex(new Uint8Array(32)), g.proofAt(k))).toBe(false);
    }
    expect(() => g.valueAt(1n << BigInt(run.trace.traceDepth))).toThrow(GameError);
  });

  it("faulty (graph:N): wrong exactly from node N on, yet passes the commit checks", () => {
    const honest = graphClaim(run, model.weightsRoot);
    for (let N = 1; N <= n; N++) {
      const bad = graphClaim(run, model.weightsRoot, { wrongFrom: N });
      for (let k = 0; k <= n; k++) {
        expect(bad.provider.valueAt(BigInt(k)) === honest.provider.valueAt(BigInt(k)), `N=${N} k=${k}`).toBe(k < N);
      }
      expect(
        verifyClaim({ inputHash: run.inputHash, weightsRoot: model.weightsRoot, nodeCount: n, outputHash: tensorHash(bad.output), proof: bad.proof }),
      ).toBe(true);
      expect(toHex(tensorHash(bad.output))).not.toBe(toHex(tensorHash(honest.output)));
    }
    expect(() => graphClaim(run, model.weightsRoot, { wrongFrom: n + 1 })).toThrow(/outside the model's nodes/);
  });
});

describe("VM trace provider (guest node program in keeper/vm)", () => {
  const { model, input, run, elf } = mnistFixture();
  const honest = graphClaim(run, model.weightsRoot);
  const bad = graphClaim(run, model.weightsRoot, { wrongFrom: 2 });
  const inputsFor = (post: Hex): VmInputs => ({ nodeIndex: 2n, preState: honest.provider.valueAt(1n), postState: post, localContext: CONTEXT });

  it("ends VALID for the right State_i and INVALID for a wrong one; one trace whichever side plays it", () => {
    const defenderOf = claimTraces({ model, input, nodeOutputs: honest.nodeOutputs, graph: honest.provider, elf });
    const challengerOf = claimTraces({ model, input, nodeOutputs: honest.nodeOutputs, graph: honest.provider, elf });
    const right = defenderOf.guest(inputsFor(honest.provider.valueAt(2n)), GAME);
    const runRight = right.run(1n << 24n);
    expect(runRight.exited).toBe(true);
    expect(statusOfHash(right.valueAt(1n << 24n))).toBe(VmStatus.VALID);
    expect(right.valueAt(0n)).toBe(absolutePrestate(elf));
    // Padded with the exited state, up to a vmTraceDepth of 64 (positions beyond 2^53).
    expect(right.valueAt(BigInt(runRight.steps))).toBe(right.valueAt(BigInt(runRight.steps) + 12345n));
    expect(right.valueAt(1n << 64n)).toBe(right.valueAt(BigInt(runRight.steps)));
    expect(right.valueAt((1n << 60n) * 15n)).toBe(right.valueAt(BigInt(runRight.steps)));
    expect(right.stepData(1n << 63n).postStateHash).toBe(right.valueAt(BigInt(runRight.steps)));
    expect(right.exitStep(1n << 24n)).toBe(BigInt(runRight.steps));
    expect(right.exitStep(BigInt(runRight.steps) - 1n)).toBe(BigInt(runRight.steps)); // already run: known
    expect(defenderOf.guest(inputsFor(honest.provider.valueAt(2n)), "0x00000000000000000000000000000000000ca11f").exitStep(1000n)).toBeUndefined();
    expect(right.valueAt(BigInt(runRight.steps) - 1n)).not.toBe(right.valueAt(BigInt(runRight.steps)));

    const wrongInputs = inputsFor(bad.provider.valueAt(2n));
    const a = defenderOf.guest(wrongInputs, GAME);
    const b = challengerOf.guest(wrongInputs, GAME);
    expect(statusOfHash(a.valueAt(1n << 24n))).toBe(VmStatus.INVALID);
    for (const s of [0n, 1n, 1000n, 100_000n, BigInt(a.run(1n << 24n).steps), 1n << 24n]) expect(b.valueAt(s)).toBe(a.valueAt(s));
  });

  it("step data re-executes on the chain's terms: verifyStep returns the next value, local keys localized for the game", () => {
    const traces = claimTraces({ model, input, nodeOutputs: honest.nodeOutputs, graph: honest.provider, elf });
    const vm = traces.guest(inputsFor(honest.provider.valueAt(2n)), GAME);
    const steps = BigInt(vm.run(1n << 24n).steps);
    // Find the first local and the first keccak read by walking the program once.
    const reads: bigint[] = [];
    let local = false;
    let keccak = false;
    for (const w of traceWitnesses(elf, guestPreimages(model, input, honest.nodeOutputs, inputsFor(honest.provider.valueAt(2n))))) {
      if (w.preimage === undefined) continue;
      const isLocal = w.preimage.key[0] === 1;
      if (isLocal ? local : keccak) continue;
      reads.push(BigInt(w.step));
      if (isLocal) local = true;
      else keccak = true;
      if (local && keccak) break;
    }
    let sawLocal = false;
    let sawKeccak = false;
    for (const s of reads) {
      const d = vm.stepData(s);
      const p = d.preimage!;
      if (p.local) {
        sawLocal = true;
        expect(p.oracleKey).toBe(toHex(localizeKey(fromHex(p.key), { caller: GAME, localContext: CONTEXT })));
      } else {
        sawKeccak = true;
        expect(p.oracleKey).toBe(p.key);
      }
      const post = verifyStep(fromHex(d.preState), fromHex(d.proof), (key, offset) => {
        const framed = new Uint8Array(8 + fromHex(p.data).length);
        new DataView(framed.buffer).setBigUint64(0, BigInt(framed.length - 8));
        framed.set(fromHex(p.data), 8);
        const part = new Uint8Array(32);
        part.set(framed.subarray(offset, offset + 32));
        expect(toHex(key)).toBe(p.key);
        expect(BigInt(offset)).toBe(p.offset);
        return { part, partLen: Math.min(32, framed.length - offset) };
      });
      expect(post).toBe(vm.valueAt(s + 1n));
      expect(d.postStateHash).toBe(post);
    }
    expect(sawLocal && sawKeccak).toBe(true);
    // The exit step and a padded step.
    for (const s of [steps - 1n, steps, steps + 7n]) {
      const d = vm.stepData(s);
      expect(verifyStep(fromHex(d.preState), fromHex(d.proof), () => {
        throw new Error("no preimage read expected");
      })).toBe(vm.valueAt(s + 1n));
    }
  });

  it("refuses inputs whose agreed pre-state is not its own State_{i-1}", () => {
    const traces = claimTraces({ model, input, nodeOutputs: honest.nodeOutputs, graph: honest.provider, elf });
    expect(() => traces.guest({ ...inputsFor(honest.provider.valueAt(2n)), preState: honest.provider.valueAt(2n) }, GAME)).toThrow(
      /our State_1 is .*does not agree/,
    );
    expect(() => traces.guest({ ...inputsFor(honest.provider.valueAt(2n)), nodeIndex: 9n }, GAME)).toThrow(/outside the model's nodes/);
  });
});

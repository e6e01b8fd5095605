import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildModel, decodeModelFile, InputMode, nodeInputs, type ModelSpec } from "../../graph/model.ts";
import { Executor } from "../../graph/executor.ts";
import { inputSlot, nodeSlot, Op, weightSlot } from "../../graph/ops.ts";
import { refNode } from "../../graph/reference.ts";
import { ALL_OPS, nextLetterTextSpec, randomNodeCase, seededRandom, TEXT_GENERATION_OPS, vectorKernelCases } from "../../graph/fixtures.ts";
import { KERNEL_PATHS, kernelPathUnavailable } from "../../graph/wasm.ts";
import { nodeCheck } from "../../graph/preimages.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "../../graph/tensor.ts";
import { keccak } from "../../graph/hash.ts";
import { OP_NAMES } from "../../graph/ops.ts";
import { hasQemu, runGuestQemu } from "./qemu.ts";
import { absolutePrestate, measureNodeSteps, runNodeCheckInVm, stepSlack } from "./vm.ts";
import { createHash } from "node:crypto";
import type { NodeCheck } from "../../graph/preimages.ts";
import { loadMnist } from "../../graph/train/mnist-data.ts";
import { quantizeInput } from "../../graph/quant.ts";

const ELF = fileURLToPath(new URL("../build/oao_node.elf", import.meta.url));
const elfBytes = new Uint8Array(readFileSync(ELF));

type GuestRunner = (check: NodeCheck) => Promise<{ exitCode: number; stderr: string }>;
const RUNNERS: [string, GuestRunner, boolean][] = [
  ["in the VM (keeper/vm)", async (c) => runNodeCheckInVm(elfBytes, c), true],
  ["under qemu-mips", (c) => runGuestQemu(ELF, c), hasQemu()],
];

/** A one-node model from a random case: input = the case's first tensor, weights = the rest. */
function oneNodeModel(node: ModelSpec["nodes"][number], inputs: Tensor[]) {
  const spec: ModelSpec = {
    input: { dtype: inputs[0]!.dtype, shape: inputs[0]!.shape },
    weights: inputs.slice(1),
    nodes: [{ ...node, inputs: [inputSlot(), ...inputs.slice(1).map((_, j) => weightSlot(j))] }],
    metadata: { name: "case", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
  };
  return buildModel(spec);
}

describe("the published absolute prestate", () => {
  it("is the initial VM state hash of the committed ELF", () => {
    const published = JSON.parse(readFileSync(new URL("./prestate.json", import.meta.url), "utf8")) as { elfSha256: string; absolutePrestate: string };
    expect(createHash("sha256").update(elfBytes).digest("hex")).toBe(published.elfSha256);
    expect(absolutePrestate(elfBytes)).toBe(published.absolutePrestate);
  });
});

describe("the guest's step count: the same on every input but for LayerNorm's bounded slack (keepers measure it once per model: measureNodeSteps)", () => {
  it("every op: the same node on other input values takes the same number of VM steps, LayerNorm within its slack", () => {
    for (const op of ALL_OPS) {
      const rand = seededRandom(900 + op);
      for (let i = 0; i < 4; i++) {
        const c = randomNodeCase(op, rand);
        const model = oneNodeModel(c.node, c.inputs);
        const x = c.inputs[0]!;
        const n = x.data.length;
        // other values of the same shape: fresh and extreme int8 values, or the int32 values (indices) shuffled
        const data = Array.from(x.data as ArrayLike<number>);
        for (let j = data.length - 1; j > 0; j--) {
          const k = Math.floor(rand() * (j + 1));
          [data[j], data[k]] = [data[k]!, data[j]!];
        }
        const others =
          x.dtype === DType.int8
            ? [data.map(() => Math.floor(rand() * 256) - 128), new Array<number>(n).fill(0), new Array<number>(n).fill(127), data.map((_, j) => (j % 2 ? 127 : -128)), data.map((_, j) => (j % 7 ? -128 : 127))].map((d) => int8Tensor([...x.shape], d))
            : [int32Tensor([...x.shape], data)];
        const steps = [x, ...others].map((input) => runNodeCheckInVm(elfBytes, nodeCheck(model, input, new Executor(model).run(input).nodeOutputs, 1)).steps);
        const spread = Math.max(...steps) - Math.min(...steps);
        const slack = stepSlack(model.nodes[0]!);
        if (op === Op.LayerNorm) expect(spread, `LayerNorm case ${i}: steps ${steps.join(", ")}`).toBeLessThanOrEqual(slack);
        else expect(spread, `${OP_NAMES[op]} case ${i}: steps ${steps.join(", ")}`).toBe(0);
        if (op !== Op.LayerNorm) expect(slack).toBe(0);
      }
    }
  });

  it("the text-generation ops: the same steps whatever the positions, L, tokens and earlier bytes (every input varied, weights too)", () => {
    for (const op of TEXT_GENERATION_OPS) {
      const rand = seededRandom(950 + op);
      for (let i = 0; i < 3; i++) {
        const c = randomNodeCase(op, rand);
        const stepsWith = (inputs: Tensor[]) => {
          const model = oneNodeModel(c.node, inputs);
          const run = runNodeCheckInVm(elfBytes, nodeCheck(model, inputs[0]!, new Executor(model).run(inputs[0]!).nodeOutputs, 1));
          expect(run.exitCode, run.stderr).toBe(0);
          return run.steps;
        };
        const variants: Tensor[][] = [];
        c.inputs.forEach((x, j) => {
          const n = x.data.length;
          const fills =
            x.dtype === DType.int8
              ? [[0], [127], [-128], [1, 0], [0, 5, 5]].map((cycle) => int8Tensor([...x.shape], Array.from({ length: n }, (_, e) => cycle[e % cycle.length]!)))
              : [-(2 ** 31), -3, -1, 0, 1, 2, 3, 5, 11, 39, 2 ** 31 - 1].map((v) => int32Tensor([...x.shape], new Array<number>(n).fill(v)));
          for (const f of fills) variants.push(c.inputs.map((t, m) => (m === j ? f : t)));
        });
        const base = stepsWith(c.inputs);
        for (const [v, inputs] of variants.entries()) expect(stepsWith(inputs), `${c.name} case ${i} variant ${v}`).toBe(base);
      }
    }
  });

  it("TokenWindow: a shorter prompt never takes more guest steps than L = C (what measureNodeSteps measures on a text model)", () => {
    for (const C of [1, 5, 64, 128]) {
      const node = { op: Op.TokenWindow, inputs: [inputSlot()], outDtype: DType.int32, outShape: [C + 1], attrs: [C] };
      const steps = [...new Set([1, 2, Math.floor(C / 2), C - 1, C].filter((L) => L >= 1 && L <= C))].map((L) => {
        const x = int8Tensor([L], Array.from({ length: L }, (_, e) => (e * 37) % 256 - 128));
        const model = oneNodeModel(node, [x]);
        const run = runNodeCheckInVm(elfBytes, nodeCheck(model, x, new Executor(model).run(x).nodeOutputs, 1));
        expect(run.exitCode, run.stderr).toBe(0);
        return run.steps;
      });
      for (let j = 1; j < steps.length; j++) expect(steps[j]!, `C ${C}: steps ${steps.join(", ")}`).toBeGreaterThanOrEqual(steps[j - 1]!);
    }
  });

  it("measureNodeSteps gives every node's steps, and stops a run at the bound", () => {
    const model = decodeModelFile(new Uint8Array(readFileSync(fileURLToPath(new URL("../../models/mnist/model.oao", import.meta.url)))));
    const exec = new Executor(model);
    const run = (input: Tensor) => exec.run(input).nodeOutputs;
    expect(measureNodeSteps(model, run, elfBytes, 2 ** 21)).toEqual([1_218_509, 290_718, 281_907]);
    expect(measureNodeSteps(model, run, elfBytes, 1_000_000)).toEqual([undefined, 290_718, 281_907]);
  });
});

for (const [where, runGuest, available] of RUNNERS)
describe.skipIf(!available)(`guest node program ${where} vs the native wasm kernels`, () => {
  for (const op of ALL_OPS) {
    it(`${OP_NAMES[op]}: random cases agree bit for bit (VALID for the native state, INVALID for another)`, async () => {
      const rand = seededRandom(500 + op);
      // the text-generation ops are small nodes: more cases (pos in and out of range, extremes)
      for (let i = 0; i < (TEXT_GENERATION_OPS.includes(op) ? 24 : 4); i++) {
        const c = randomNodeCase(op, rand);
        const model = oneNodeModel(c.node, c.inputs);
        const res = new Executor(model).run(c.inputs[0]!);
        const honest = await runGuest(nodeCheck(model, c.inputs[0]!, res.nodeOutputs, 1));
        expect(honest.exitCode, honest.stderr).toBe(0);
        const wrong = await runGuest(nodeCheck(model, c.inputs[0]!, res.nodeOutputs, 1, keccak(new Uint8Array([i]))));
        expect(wrong.exitCode, wrong.stderr).toBe(1);
      }
    });
  }

  it("Gemm, MatMul, Conv2D at odd shapes and extreme values: the guest agrees with every build here (wasm, native)", async () => {
    const paths = KERNEL_PATHS.filter((p) => kernelPathUnavailable(p) === undefined);
    const cases = vectorKernelCases(seededRandom(77));
    for (const [i, c] of cases.entries()) {
      const model = oneNodeModel(c.node, c.inputs);
      const runs = paths.map((p) => new Executor(model, undefined, { kernels: p }).run(c.inputs[0]!));
      for (const r of runs) expect(r.trace.traceRoot, `${c.name}: the builds' traces differ`).toEqual(runs[0]!.trace.traceRoot);
      const honest = await runGuest(nodeCheck(model, c.inputs[0]!, runs[0]!.nodeOutputs, 1));
      expect(honest.exitCode, `case ${i} ${c.name}: ${honest.stderr}`).toBe(0);
    }
  });

  it("every node of the shipped MNIST model: VALID for the native State_k, INVALID for a one-element change", async () => {
    const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../../models/mnist/model.oao", import.meta.url))));
    const exec = new Executor(model);
    const sample = loadMnist().test[3]!;
    const input = quantizeInput(model, Array.from(sample.pixels));
    const res = exec.run(input);
    for (let k = 1; k <= model.nodes.length; k++) {
      const ok = await runGuest(nodeCheck(model, input, res.nodeOutputs, k));
      expect(ok.exitCode, `node ${k}: ${ok.stderr}`).toBe(0);
      // a claim whose node-k output differs in one element
      const tampered = res.nodeOutputs.map((t) => ({ ...t, data: t.data.slice() })) as Tensor[];
      const t = tampered[k - 1]!;
      t.data[0] = t.data[0] === 5 ? 6 : 5;
      const bad = nodeCheck(model, input, tampered, k);
      const run = await runGuest({ ...bad, preimages: nodeCheck(model, input, res.nodeOutputs, k).preimages });
      expect(run.exitCode, `node ${k} tampered: ${run.stderr}`).toBe(1);
    }
  });

  it("a miniature generation graph (TokenWindow, Position, Gather, ArgMax, Emit, ScatterRow, PrefixSoftmax) for every prompt length: the same nodes, the bytes by hand, the guest VALID on every node", async () => {
    const C = 4, D = 6, T = 3;
    const i8 = DType.int8, i32 = DType.int32;
    // W0 row r: its maximum (100) at column r + 1; W1: a cache of -50s
    const w0 = int8Tensor([C, D], Array.from({ length: C * D }, (_, e) => (e % D === Math.floor(e / D) + 1 ? 100 : e % D)));
    const w1 = int8Tensor([1, C, D], new Array<number>(C * D).fill(-50));
    const table = Array.from({ length: 256 }, (_, d) => (d < 17 ? 65536 >> d : 0));
    const n = (k: number) => nodeSlot(k);
    const nodes: ModelSpec["nodes"] = [
      { op: Op.TokenWindow, inputs: [inputSlot()], outDtype: i32, outShape: [C + 1], attrs: [C] }, // 1
      { op: Op.Position, inputs: [n(1)], outDtype: i32, outShape: [1], attrs: [-1] }, // 2: L - 1
      { op: Op.Gather, inputs: [weightSlot(0), n(2)], outDtype: i8, outShape: [1, D], attrs: [] }, // 3
      { op: Op.ArgMax, inputs: [n(3)], outDtype: i32, outShape: [1, 1], attrs: [] }, // 4: t_0 = L
      { op: Op.Emit, inputs: [n(4), n(1)], outDtype: i8, outShape: [T], attrs: [0, T] }, // 5
      { op: Op.Position, inputs: [n(1)], outDtype: i32, outShape: [1], attrs: [0] }, // 6: p = min(L, C - 1)
      { op: Op.Gather, inputs: [weightSlot(0), n(6)], outDtype: i8, outShape: [1, D], attrs: [] }, // 7
      { op: Op.Reshape, inputs: [n(7)], outDtype: i8, outShape: [1, 1, D], attrs: [] }, // 8
      { op: Op.ScatterRow, inputs: [weightSlot(1), n(8), n(6)], outDtype: i8, outShape: [1, C, D], attrs: [] }, // 9: cache row p = W0[p]
      { op: Op.Transpose, inputs: [n(9)], outDtype: i8, outShape: [1, D, C], attrs: [0, 2, 1] }, // 10
      { op: Op.PrefixSoftmax, inputs: [n(10), n(6)], outDtype: i8, outShape: [1, D, C], attrs: table }, // 11
      { op: Op.ArgMax, inputs: [n(11)], outDtype: i32, outShape: [1, D, 1], attrs: [] }, // 12
      { op: Op.Slice, inputs: [n(12)], outDtype: i32, outShape: [1, 1, 1], attrs: [1, 0] }, // 13: t_1 = p (column 0: W0[p][0] = 0 > -50)
      { op: Op.Emit, inputs: [n(13), n(1), n(5)], outDtype: i8, outShape: [T], attrs: [1, T] }, // 14
    ];
    const want: Record<number, number[]> = { 1: [1, 1, 0], 2: [2, 2, 0], 3: [3, 0, 0], 4: [0, 0, 0] };
    let graphRoot: string | undefined;
    for (const L of [1, 2, 3, 4]) {
      const input = int8Tensor([L], Array.from({ length: L }, (_, e) => 65 + e));
      const model = buildModel({ input: { dtype: i8, shape: [L] }, weights: [w0, w1], nodes, metadata: { name: "mini-generate", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } } });
      graphRoot ??= Buffer.from(model.graphRoot).toString("hex");
      expect(Buffer.from(model.graphRoot).toString("hex"), "the nodes do not depend on L").toBe(graphRoot);
      const res = new Executor(model).run(input);
      expect(Array.from(res.output.data), `L ${L}`).toEqual(want[L]);
      // every node as the TS reference computes it from the same inputs
      const ref: Tensor[] = [];
      for (let k = 1; k <= nodes.length; k++) ref.push(refNode(model.nodes[k - 1]!, nodeInputs(model, k, input, ref)));
      ref.forEach((t, k) => expect(Array.from(res.nodeOutputs[k]!.data), `L ${L} node ${k + 1}`).toEqual(Array.from(t.data)));
      for (let k = 1; k <= nodes.length; k++) {
        const ok = await runGuest(nodeCheck(model, input, res.nodeOutputs, k));
        expect(ok.exitCode, `L ${L} node ${k}: ${ok.stderr}`).toBe(0);
      }
      const wrong = await runGuest(nodeCheck(model, input, res.nodeOutputs, nodes.length, keccak(new Uint8Array([L]))));
      expect(wrong.exitCode, wrong.stderr).toBe(1);
    }
  });

  it("version-2 descriptors: inputMode 0 checks as version 1 does; a text model's input read by another op than TokenWindow, or an unknown inputMode, panics", async () => {
    const c = randomNodeCase(Op.Relu, seededRandom(3));
    const v1 = oneNodeModel(c.node, c.inputs);
    const model = buildModel({ input: v1.input, nodes: v1.nodes, weights: v1.weights, metadata: v1.metadata, inputMode: InputMode.fixed });
    expect(model.descriptor[7]).toBe(2);
    const res = new Executor(model).run(c.inputs[0]!);
    const ok = await runGuest(nodeCheck(model, c.inputs[0]!, res.nodeOutputs, 1));
    expect(ok.exitCode, ok.stderr).toBe(0);
    const wrong = await runGuest(nodeCheck(model, c.inputs[0]!, res.nodeOutputs, 1, keccak(new Uint8Array([9]))));
    expect(wrong.exitCode, wrong.stderr).toBe(1);
    // the same graph under a text descriptor (which keeper/graph refuses to build): Relu reads the request input
    for (const [mode, message] of [[1, /only TokenWindow reads a text model's request input/], [2, /inputMode is not 0 or 1/]] as const) {
      const descriptor = model.descriptor.slice();
      descriptor[descriptor.length - 1] = mode;
      const forged = { ...model, descriptor, modelRoot: keccak(descriptor) };
      const run = await runGuest(nodeCheck(forged, c.inputs[0]!, res.nodeOutputs, 1));
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });

  it("a text model (descriptor version 2, inputMode 1): TokenWindow reads the int8 [L] prompt, every node VALID for L = 1, 5, C; a wrong output INVALID", async () => {
    const C = 8, T = 4;
    const model = buildModel(nextLetterTextSpec(C, T));
    expect(model.descriptor[model.descriptor.length - 1]).toBe(InputMode.text);
    const exec = new Executor(model);
    for (const L of [1, 5, C]) {
      const input = int8Tensor([L], Array.from({ length: L }, (_, e) => 0x61 + e));
      const res = exec.run(input);
      for (let k = 1; k <= model.nodes.length; k++) {
        const ok = await runGuest(nodeCheck(model, input, res.nodeOutputs, k));
        expect(ok.exitCode, `L ${L} node ${k}: ${ok.stderr}`).toBe(0);
      }
      const wrong = await runGuest(nodeCheck(model, input, res.nodeOutputs, model.nodes.length, keccak(new Uint8Array([L]))));
      expect(wrong.exitCode, wrong.stderr).toBe(1);
    }
  });

  it("panics (exit 2) on a node index outside the model", async () => {
    const c = randomNodeCase(ALL_OPS[0]!, seededRandom(1));
    const model = oneNodeModel(c.node, c.inputs);
    const res = new Executor(model).run(c.inputs[0]!);
    const check = nodeCheck(model, c.inputs[0]!, res.nodeOutputs, 1);
    const idx = new Uint8Array(32);
    idx[31] = 2;
    check.locals.set(2, idx);
    const run = await runGuest(check);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/node index outside/);
  });
});

void int8Tensor;

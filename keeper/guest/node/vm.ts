/**
 * Runs the guest node program in the fraud-proof VM (keeper/vm) on a node check's local data and
 * preimages (keeper/graph/preimages.ts), and computes its absolute prestate (docs/protocol.md §4.7).
 * Pure: the caller supplies the ELF bytes.
 */
import { loadElf, MapPreimageSource, runElf, type Hex } from "../../vm/index.ts";
import { nodeCheck, type NodeCheck } from "../../graph/preimages.ts";
import { DType, int32Tensor, int8Tensor, nodeInputs, Op, type Model, type NodeDesc, type Tensor } from "../../graph/index.ts";

export interface VmNodeRun {
  exitCode: number;
  steps: number;
  /** final VM state hash (its first byte is the status, §4.1) */
  stateHash: Hex;
  stderr: string;
}

export function preimageSource(check: NodeCheck): MapPreimageSource {
  const src = new MapPreimageSource();
  for (const [ident, data] of check.locals) src.setLocal(ident, data);
  for (const data of check.preimages.byKey.values()) src.addKeccak(data);
  return src;
}

export function runNodeCheckInVm(elf: Uint8Array, check: NodeCheck, maxSteps = 2 ** 32): VmNodeRun {
  const r = runElf(elf, { preimages: preimageSource(check), maxSteps });
  if (!r.exited) throw new Error(`the guest did not exit within ${maxSteps} steps`);
  return { exitCode: r.exitCode, steps: r.steps, stateHash: r.stateHash, stderr: new TextDecoder().decode(r.stderr) };
}

/** Hash of the program's initial VM state: what a game registers as the absolute prestate. */
export function absolutePrestate(elf: Uint8Array): Hex {
  return loadElf(elf).stateHash();
}

/**
 * The VM steps the guest takes on each node of `model` (index k - 1 for node k), run on an all-zero
 * input, or `undefined` for a node that has not exited after `maxSteps` (the run stops there, so a
 * caller bounds the cost by the trace length it cares about). The guest's kernels take the same
 * path whatever the values (loops over shapes, branch-free arithmetic), except LayerNorm, whose
 * division and square root branch on the bits of each row's variance: `stepSlack` bounds how far
 * another input can move a node's count (keeper/guest/node/node.test.ts checks both on random and
 * extreme inputs), so one input measures every input.
 */
export function measureNodeSteps(
  model: Model,
  nodeOutputs: (input: Tensor) => readonly Tensor[],
  elf: Uint8Array,
  maxSteps: number,
): (number | undefined)[] {
  const { input, outputs } = zeroInputRun(model, nodeOutputs);
  return model.nodes.map((_, i) => guestSteps(model, input, outputs, i + 1, elf, maxSteps));
}

/** The all-zero input of the model's input header and the node outputs on it: what the step measurements run. */
function zeroInputRun(model: Model, nodeOutputs: (input: Tensor) => readonly Tensor[]): { input: Tensor; outputs: readonly Tensor[] } {
  const shape = [...model.input.shape];
  const n = shape.reduce((a, d) => a * d, 1);
  const input = model.input.dtype === DType.int8 ? int8Tensor(shape, new Int8Array(n)) : int32Tensor(shape, new Int32Array(n));
  return { input, outputs: nodeOutputs(input) };
}

/** VM steps of the guest's check of node k, or undefined if it does not exit within maxSteps. */
function guestSteps(model: Model, input: Tensor, outputs: readonly Tensor[], k: number, elf: Uint8Array, maxSteps: number): number | undefined {
  const r = runElf(elf, { preimages: preimageSource(nodeCheck(model, input, outputs, k)), maxSteps });
  return r.exited ? r.steps : undefined;
}

/**
 * measureNodeSteps for a model that repeats nodes (a generation graph's steps, keeper/graph/onnx/generate.ts):
 * nodes of one class — the same op, attributes and output header, inputs of the same slot kinds,
 * dtypes and shapes — run the same guest path (the proof walks have the model's depths, the kernels
 * the paths their shapes set, as measureNodeSteps relies on), so the first node of each class is
 * run and its count given to the others.
 */
export function nodeClassSteps(
  model: Model,
  nodeOutputs: (input: Tensor) => readonly Tensor[],
  elf: Uint8Array,
  maxSteps: number,
): (number | undefined)[] {
  const { input, outputs } = zeroInputRun(model, nodeOutputs);
  const measured = new Map<string, number | undefined>();
  return model.nodes.map((node, i) => {
    const ins = nodeInputs(model, i + 1, input, outputs).map((t, j) => `${node.inputs[j]! >>> 24}:${t.dtype}:${t.shape.join("x")}`);
    const key = `${node.op}|${node.attrs.join(",")}|${node.outDtype}:${node.outShape.join("x")}|${ins.join("|")}`;
    if (!measured.has(key)) measured.set(key, guestSteps(model, input, outputs, i + 1, elf, maxSteps));
    return measured.get(key);
  });
}

/**
 * An upper bound on how many more VM steps node `node` can take on other input values than on the
 * measured ones: 0 for every op but LayerNorm, whose per-row 64-bit divisions (two, 64 iterations)
 * and square root (at most 32 iterations) take data-dependent branches, and whose per-element
 * rounding branches on the sign. Measured: at most 354 steps per row and 1 per element.
 */
export function stepSlack(node: NodeDesc): number {
  if (node.op !== Op.LayerNorm) return 0;
  const n = node.outShape.reduce((a, d) => a * d, 1);
  const rows = n / Math.max(1, node.outShape[node.outShape.length - 1] ?? 1);
  return rows * 1024 + n * 8;
}

/**
 * ONNX import: parses an ONNX model (npm onnx-proto), maps the supported ops onto the quantized
 * ops of docs/protocol.md §3.6, and quantizes post-training from calibration samples (float
 * interpretation here, off chain). Unsupported ops or attributes are named in the error.
 *
 * Supported: Gemm (alpha = beta = 1), MatMul with a constant right operand (an Add of a constant
 * after it becomes the bias), Add and Mul of two activations of the same shape, Relu (fused into a
 * preceding Gemm/MatMul/Conv when it is its only consumer), Softmax (last axis), Reshape (constant
 * shape), Flatten, Conv (2-D, NOTSET padding), MaxPool (2-D), Identity, Constant. Batch size 1.
 */
import onnxPkg from "onnx-proto";
import { GraphError } from "../errors.ts";
import { Op, inputSlot, nodeSlot, weightSlot, type NodeDesc } from "../ops.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "../tensor.ts";
import type { ModelSpec, QuantParams } from "../model.ts";
import { quantizeMultiplier, quantizeWeights, rangeParams, softmaxTable } from "../train/quantize.ts";

const { onnx } = onnxPkg;
type OnnxNode = InstanceType<typeof onnx.NodeProto>;
type OnnxTensor = InstanceType<typeof onnx.TensorProto>;

export class OnnxImportError extends GraphError {
  override name = "OnnxImportError";
}

export const SUPPORTED_ONNX_OPS = ["Gemm", "MatMul", "Add", "Mul", "Relu", "Softmax", "Reshape", "Flatten", "Conv", "MaxPool", "Identity", "Constant"];

/** A float tensor (row-major). */
interface FTensor {
  shape: number[];
  data: Float64Array;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function tensorValues(t: OnnxTensor): FTensor {
  const shape = (t.dims ?? []).map(toNumber);
  const n = numel(shape);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const data = new Float64Array(n);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  for (let i = 0; i < n; i++) {
    if (type === onnx.TensorProto.DataType.FLOAT) data[i] = view ? view.getFloat32(4 * i, true) : t.floatData[i]!;
    else if (type === onnx.TensorProto.DataType.INT64) data[i] = view ? Number(view.getBigInt64(8 * i, true)) : toNumber(t.int64Data[i]);
    else if (type === onnx.TensorProto.DataType.INT32) data[i] = view ? view.getInt32(4 * i, true) : t.int32Data[i]!;
    else if (type === onnx.TensorProto.DataType.DOUBLE) data[i] = view ? view.getFloat64(8 * i, true) : t.doubleData[i]!;
    else throw new OnnxImportError(`initializer ${t.name}: ONNX data type ${type} is not supported (float, double, int32, int64)`);
  }
  return { shape, data };
}

function attrs(node: OnnxNode): Map<string, { i?: number; f?: number; ints?: number[]; s?: string; t?: OnnxTensor }> {
  const m = new Map<string, { i?: number; f?: number; ints?: number[]; s?: string; t?: OnnxTensor }>();
  for (const a of node.attribute ?? []) {
    m.set(a.name ?? "", {
      i: a.i !== undefined && a.i !== null ? toNumber(a.i) : undefined,
      f: a.f ?? undefined,
      ints: (a.ints ?? []).map(toNumber),
      s: a.s && a.s.length ? new TextDecoder().decode(a.s) : undefined,
      t: (a.t as OnnxTensor | null | undefined) ?? undefined,
    });
  }
  return m;
}

function rejectAttrs(node: OnnxNode, allowed: string[]): void {
  for (const a of node.attribute ?? []) {
    if (!allowed.includes(a.name ?? "")) throw new OnnxImportError(`${node.opType} node ${node.name || node.output?.[0]}: attribute ${a.name} is not supported (supported: ${allowed.join(", ") || "none"})`);
  }
}

/** One op of the intermediate float graph. */
interface FloatOp {
  kind: "gemm" | "conv" | "add" | "mul" | "relu" | "softmax" | "reshape" | "maxpool";
  inputs: string[]; // activation names
  output: string;
  w?: FTensor; // gemm: [N,K]; conv: [O,C/g,kh,kw]
  b?: FTensor;
  relu?: boolean;
  shape?: number[];
  conv?: { strides: number[]; pads: number[]; dil: number[]; group: number };
  pool?: { k: number[]; strides: number[]; pads: number[] };
}

export interface ImportOptions {
  name?: string;
}

/** Parses and maps the graph; returns the float program. */
function mapGraph(bytes: Uint8Array) {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxImportError(`not an ONNX model: ${(e as Error).message}`);
  }
  const g = model.graph;
  if (!g) throw new OnnxImportError("ONNX model has no graph");
  const consts = new Map<string, FTensor>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? "", tensorValues(t as OnnxTensor));
  const graphInputs = (g.input ?? []).filter((i) => !consts.has(i.name ?? ""));
  if (graphInputs.length !== 1) throw new OnnxImportError(`the model must have exactly one non-constant input, it has ${graphInputs.length}`);
  const inName = graphInputs[0]!.name ?? "";
  const dims = graphInputs[0]!.type?.tensorType?.shape?.dim ?? [];
  const inShape = dims.map((d, i) => {
    const v = d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0;
    if (v > 0) return v;
    if (i === 0) return 1; // symbolic batch
    throw new OnnxImportError(`input ${inName}: dimension ${i} is symbolic (${d.dimParam}); only the batch dimension may be`);
  });
  if ((g.output ?? []).length !== 1) throw new OnnxImportError(`the model must have exactly one output, it has ${(g.output ?? []).length}`);
  const outName = g.output![0]!.name ?? "";

  const nodes = (g.node ?? []) as OnnxNode[];
  const consumers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const alias = new Map<string, string>();
  const name = (s: string) => alias.get(s) ?? s;
  const shapes = new Map<string, number[]>([[inName, inShape]]);
  const ops: FloatOp[] = [];
  const fusedAway = new Set<OnnxNode>();
  const constOf = (s: string, node: OnnxNode): FTensor => {
    const c = consts.get(s);
    if (!c) throw new OnnxImportError(`${node.opType} node ${node.name || node.output?.[0]}: input ${s} must be a constant (initializer)`);
    return c;
  };
  const actShape = (s: string, node: OnnxNode): number[] => {
    const sh = shapes.get(name(s));
    if (!sh) throw new OnnxImportError(`${node.opType} node ${node.name || node.output?.[0]}: input ${s} is not a computed activation`);
    return sh;
  };
  /** Fuses a following Relu (sole consumer) into op; returns the final output name. */
  const maybeRelu = (node: OnnxNode, idx: number, op: FloatOp): void => {
    const out = node.output![0]!;
    const next = nodes.slice(idx + 1).find((n) => (n.input ?? []).includes(out));
    if (next && next.opType === "Relu" && consumers.get(out) === 1) {
      op.relu = true;
      fusedAway.add(next);
      alias.set(next.output![0]!, out);
    }
  };
  nodes.forEach((node, idx) => {
    if (fusedAway.has(node)) return;
    const ins = (node.input ?? []).filter((s) => s !== "");
    const out = node.output?.[0] ?? "";
    const a = attrs(node);
    switch (node.opType) {
      case "Constant": {
        rejectAttrs(node, ["value"]);
        const t = a.get("value")?.t;
        if (!t) throw new OnnxImportError(`Constant node ${node.name || out}: only the 'value' tensor form is supported`);
        consts.set(out, tensorValues(t));
        return;
      }
      case "Identity":
        if (consts.has(ins[0]!)) consts.set(out, consts.get(ins[0]!)!);
        else alias.set(out, name(ins[0]!));
        return;
      case "Gemm":
      case "MatMul": {
        const x = actShape(ins[0]!, node);
        if (x.length !== 2) throw new OnnxImportError(`${node.opType} node ${node.name || out}: input must be 2-D, got [${x}]`);
        let w: FTensor;
        let b: FTensor | undefined;
        if (node.opType === "Gemm") {
          rejectAttrs(node, ["alpha", "beta", "transA", "transB"]);
          if ((a.get("alpha")?.f ?? 1) !== 1 || (a.get("beta")?.f ?? 1) !== 1 || (a.get("transA")?.i ?? 0) !== 0) {
            throw new OnnxImportError(`Gemm node ${node.name || out}: only alpha = beta = 1 and transA = 0 are supported`);
          }
          const B = constOf(ins[1]!, node);
          w = (a.get("transB")?.i ?? 0) === 1 ? B : transpose(B);
          if (ins[2]) b = constOf(ins[2], node);
        } else {
          rejectAttrs(node, []);
          w = transpose(constOf(ins[1]!, node));
          // MatMul + Add(constant) → Gemm with bias
          const next = nodes[idx + 1];
          if (next && next.opType === "Add" && consumers.get(out) === 1) {
            const other = (next.input ?? []).find((s) => s !== out);
            if (other && consts.has(other)) {
              b = consts.get(other)!;
              fusedAway.add(next);
              alias.set(next.output![0]!, out);
            }
          }
        }
        if (w.shape[1] !== x[1]) throw new OnnxImportError(`${node.opType} node ${node.name || out}: weight [${w.shape}] does not fit input [${x}]`);
        if (b && numel(b.shape) !== w.shape[0]) throw new OnnxImportError(`${node.opType} node ${node.name || out}: bias of ${numel(b.shape)} values for ${w.shape[0]} outputs`);
        const op: FloatOp = { kind: "gemm", inputs: [name(ins[0]!)], output: out, w, b };
        const fusedNext = nodes[idx + 1];
        maybeRelu(fusedAway.has(fusedNext!) ? fusedNext! : node, fusedAway.has(fusedNext!) ? idx + 1 : idx, op);
        ops.push(op);
        shapes.set(out, [x[0]!, w.shape[0]!]);
        return;
      }
      case "Conv": {
        rejectAttrs(node, ["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"]);
        if ((a.get("auto_pad")?.s ?? "NOTSET") !== "NOTSET") throw new OnnxImportError(`Conv node ${node.name || out}: auto_pad ${a.get("auto_pad")?.s} is not supported (use explicit pads)`);
        const x = actShape(ins[0]!, node);
        const w = constOf(ins[1]!, node);
        if (x.length !== 4 || w.shape.length !== 4) throw new OnnxImportError(`Conv node ${node.name || out}: only 2-D convolutions (4-D tensors) are supported`);
        const strides = a.get("strides")?.ints?.length ? a.get("strides")!.ints! : [1, 1];
        const p = a.get("pads")?.ints?.length ? a.get("pads")!.ints! : [0, 0, 0, 0];
        const dil = a.get("dilations")?.ints?.length ? a.get("dilations")!.ints! : [1, 1];
        const group = a.get("group")?.i ?? 1;
        const pads = [p[0]!, p[1]!, p[2]!, p[3]!]; // ONNX [t, l, b, r] = ours
        const oh = Math.floor((x[2]! + pads[0]! + pads[2]! - dil[0]! * (w.shape[2]! - 1) - 1) / strides[0]!) + 1;
        const ow = Math.floor((x[3]! + pads[1]! + pads[3]! - dil[1]! * (w.shape[3]! - 1) - 1) / strides[1]!) + 1;
        const op: FloatOp = { kind: "conv", inputs: [name(ins[0]!)], output: out, w, b: ins[2] ? constOf(ins[2], node) : undefined, conv: { strides, pads, dil, group } };
        maybeRelu(node, idx, op);
        ops.push(op);
        shapes.set(out, [x[0]!, w.shape[0]!, oh, ow]);
        return;
      }
      case "MaxPool": {
        rejectAttrs(node, ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations", "storage_order"]);
        if ((a.get("ceil_mode")?.i ?? 0) !== 0 || (a.get("dilations")?.ints ?? []).some((d) => d !== 1) || (a.get("auto_pad")?.s ?? "NOTSET") !== "NOTSET") {
          throw new OnnxImportError(`MaxPool node ${node.name || out}: ceil_mode, dilations and auto_pad are not supported`);
        }
        const x = actShape(ins[0]!, node);
        const k = a.get("kernel_shape")!.ints!;
        const strides = a.get("strides")?.ints?.length ? a.get("strides")!.ints! : [1, 1];
        const p = a.get("pads")?.ints?.length ? a.get("pads")!.ints! : [0, 0, 0, 0];
        const oh = Math.floor((x[2]! + p[0]! + p[2]! - k[0]!) / strides[0]!) + 1;
        const ow = Math.floor((x[3]! + p[1]! + p[3]! - k[1]!) / strides[1]!) + 1;
        ops.push({ kind: "maxpool", inputs: [name(ins[0]!)], output: out, pool: { k, strides, pads: p } });
        shapes.set(out, [x[0]!, x[1]!, oh, ow]);
        return;
      }
      case "Add":
      case "Mul": {
        rejectAttrs(node, []);
        if (ins.some((s) => consts.has(s))) throw new OnnxImportError(`${node.opType} node ${node.name || out}: a constant operand is only supported as the bias right after a MatMul`);
        const s0 = actShape(ins[0]!, node), s1 = actShape(ins[1]!, node);
        if (s0.join() !== s1.join()) throw new OnnxImportError(`${node.opType} node ${node.name || out}: broadcasting [${s0}] with [${s1}] is not supported`);
        ops.push({ kind: node.opType === "Add" ? "add" : "mul", inputs: [name(ins[0]!), name(ins[1]!)], output: out });
        shapes.set(out, s0);
        return;
      }
      case "Relu":
        rejectAttrs(node, []);
        ops.push({ kind: "relu", inputs: [name(ins[0]!)], output: out });
        shapes.set(out, actShape(ins[0]!, node));
        return;
      case "Softmax": {
        rejectAttrs(node, ["axis"]);
        const x = actShape(ins[0]!, node);
        const axis = a.get("axis")?.i ?? -1;
        if (axis !== -1 && axis !== x.length - 1) throw new OnnxImportError(`Softmax node ${node.name || out}: only the last axis is supported, got axis ${axis}`);
        ops.push({ kind: "softmax", inputs: [name(ins[0]!)], output: out });
        shapes.set(out, x);
        return;
      }
      case "Reshape":
      case "Flatten": {
        const x = actShape(ins[0]!, node);
        let shape: number[];
        if (node.opType === "Flatten") {
          rejectAttrs(node, ["axis"]);
          const axis = a.get("axis")?.i ?? 1;
          shape = [numel(x.slice(0, axis)), numel(x.slice(axis))];
        } else {
          rejectAttrs(node, ["allowzero"]);
          const target = Array.from(constOf(ins[1]!, node).data);
          shape = target.map((d, i) => (d === 0 ? x[i]! : d));
          const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
          shape = shape.map((d) => (d === -1 ? numel(x) / known : d));
        }
        if (numel(shape) !== numel(x)) throw new OnnxImportError(`${node.opType} node ${node.name || out}: cannot reshape [${x}] to [${shape}]`);
        ops.push({ kind: "reshape", inputs: [name(ins[0]!)], output: out, shape });
        shapes.set(out, shape);
        return;
      }
      default:
        throw new OnnxImportError(`unsupported ONNX op ${node.opType} (node ${node.name || out}); supported: ${SUPPORTED_ONNX_OPS.join(", ")}`);
    }
  });
  const finalName = name(outName);
  if (ops.length === 0 || ops[ops.length - 1]!.output !== finalName) throw new OnnxImportError(`the graph output ${outName} must be produced by its last op`);
  return { inName, inShape, ops, shapes };
}

function transpose(t: FTensor): FTensor {
  const [r, c] = t.shape as [number, number];
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data };
}

/** Float interpretation of the mapped program (for calibration). */
function runFloat(ops: FloatOp[], shapes: Map<string, number[]>, inName: string, x: Float64Array): Map<string, Float64Array> {
  const vals = new Map<string, Float64Array>([[inName, x]]);
  for (const op of ops) {
    const a = vals.get(op.inputs[0]!)!;
    const outShape = shapes.get(op.output)!;
    const y = new Float64Array(numel(outShape));
    switch (op.kind) {
      case "gemm": {
        const [N, K] = op.w!.shape as [number, number];
        const M = a.length / K;
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = op.b ? op.b.data[j]! : 0;
            for (let k = 0; k < K; k++) s += a[i * K + k]! * op.w!.data[j * K + k]!;
            y[i * N + j] = op.relu ? Math.max(0, s) : s;
          }
        break;
      }
      case "conv": {
        const inShape = shapes.get(op.inputs[0]!)!;
        const [, C, H, W] = inShape as [number, number, number, number];
        const [O, Cg, KH, KW] = op.w!.shape as [number, number, number, number];
        const [N, , OH, OW] = outShape as [number, number, number, number];
        const { strides, pads, dil, group } = op.conv!;
        const Og = O / group;
        for (let n = 0; n < N; n++)
          for (let o = 0; o < O; o++)
            for (let oh = 0; oh < OH; oh++)
              for (let ow = 0; ow < OW; ow++) {
                let s = op.b ? op.b.data[o]! : 0;
                for (let c = 0; c < Cg; c++)
                  for (let ki = 0; ki < KH; ki++)
                    for (let kj = 0; kj < KW; kj++) {
                      const ih = oh * strides[0]! - pads[0]! + ki * dil[0]!, iw = ow * strides[1]! - pads[1]! + kj * dil[1]!;
                      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                      const cin = Math.floor(o / Og) * Cg + c;
                      s += a[((n * C + cin) * H + ih) * W + iw]! * op.w!.data[((o * Cg + c) * KH + ki) * KW + kj]!;
                    }
                y[((n * O + o) * OH + oh) * OW + ow] = op.relu ? Math.max(0, s) : s;
              }
        break;
      }
      case "maxpool": {
        const [, , H, W] = shapes.get(op.inputs[0]!)! as [number, number, number, number];
        const [N, C, OH, OW] = outShape as [number, number, number, number];
        const { k, strides, pads } = op.pool!;
        for (let p = 0; p < N * C; p++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let m = -Infinity;
              for (let ki = 0; ki < k[0]!; ki++)
                for (let kj = 0; kj < k[1]!; kj++) {
                  const ih = oh * strides[0]! - pads[0]! + ki, iw = ow * strides[1]! - pads[1]! + kj;
                  if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = Math.max(m, a[(p * H + ih) * W + iw]!);
                }
              y[(p * OH + oh) * OW + ow] = m;
            }
        break;
      }
      case "add":
      case "mul": {
        const b = vals.get(op.inputs[1]!)!;
        for (let i = 0; i < y.length; i++) y[i] = op.kind === "add" ? a[i]! + b[i]! : a[i]! * b[i]!;
        break;
      }
      case "relu":
        for (let i = 0; i < y.length; i++) y[i] = Math.max(0, a[i]!);
        break;
      case "softmax": {
        const len = outShape[outShape.length - 1]!;
        for (let r = 0; r < y.length; r += len) {
          let m = -Infinity, s = 0;
          for (let i = 0; i < len; i++) m = Math.max(m, a[r + i]!);
          for (let i = 0; i < len; i++) s += y[r + i] = Math.exp(a[r + i]! - m);
          for (let i = 0; i < len; i++) y[r + i]! /= s;
        }
        break;
      }
      case "reshape":
        y.set(a);
        break;
    }
    vals.set(op.output, y);
  }
  return vals;
}

export interface ImportedModel {
  spec: ModelSpec;
  /** float outputs of the calibration samples (the importer's own float reading of the graph) */
  floatOutputs: Float64Array[];
}

/** Imports an ONNX model, quantizing post-training from calibration samples (flat arrays in the input layout). */
export function importOnnx(bytes: Uint8Array, calibration: readonly number[][], opts: ImportOptions = {}): ImportedModel {
  const { inName, inShape, ops, shapes } = mapGraph(bytes);
  if (calibration.length === 0) throw new OnnxImportError("calibration needs at least one sample");
  const want = numel(inShape);
  calibration.forEach((s, i) => {
    if (s.length !== want) throw new OnnxImportError(`calibration sample ${i} has ${s.length} values, the model input [${inShape}] takes ${want}`);
  });
  // activation ranges
  const lo = new Map<string, number>(), hi = new Map<string, number>();
  const floatOutputs: Float64Array[] = [];
  for (const s of calibration) {
    const vals = runFloat(ops, shapes, inName, Float64Array.from(s));
    for (const [k, v] of vals) {
      let mn = lo.get(k) ?? Infinity, mx = hi.get(k) ?? -Infinity;
      for (const x of v) {
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
      lo.set(k, mn);
      hi.set(k, mx);
    }
    floatOutputs.push(vals.get(ops[ops.length - 1]!.output)!);
  }
  const q = new Map<string, QuantParams>();
  const ref = new Map<string, number>([[inName, inputSlot()]]);
  q.set(inName, rangeParams(lo.get(inName)!, hi.get(inName)!));
  const weights: Tensor[] = [];
  const nodes: NodeDesc[] = [];
  const push = (node: NodeDesc, out: string, params: QuantParams) => {
    nodes.push(node);
    ref.set(out, nodeSlot(nodes.length));
    q.set(out, params);
  };
  for (const op of ops) {
    const xq = q.get(op.inputs[0]!)!;
    const xr = ref.get(op.inputs[0]!)!;
    const outShape = shapes.get(op.output)!;
    const yq = () => rangeParams(lo.get(op.output)!, hi.get(op.output)!);
    switch (op.kind) {
      case "gemm":
      case "conv": {
        const y = yq();
        const { q: wq, scale: ws } = quantizeWeights(op.w!.data);
        const wj = weights.length;
        weights.push(int8Tensor([...op.w!.shape], wq));
        const inputs = [xr, weightSlot(wj)];
        if (op.b) {
          weights.push(int32Tensor([op.w!.shape[0]!], Array.from(op.b.data, (b) => Math.round(b / (xq.scale * ws)))));
          inputs.push(weightSlot(wj + 1));
        }
        const [m, s] = quantizeMultiplier((xq.scale * ws) / y.scale);
        const base = [xq.zeroPoint, 0, m, s, y.zeroPoint, op.relu ? y.zeroPoint : -128, 127];
        const c = op.conv;
        const attrsList = op.kind === "gemm" ? base : [...base, c!.strides[0]!, c!.strides[1]!, c!.pads[0]!, c!.pads[1]!, c!.pads[2]!, c!.pads[3]!, c!.dil[0]!, c!.dil[1]!, c!.group];
        push({ op: op.kind === "gemm" ? Op.Gemm : Op.Conv2D, inputs, outDtype: DType.int8, outShape, attrs: attrsList }, op.output, y);
        break;
      }
      case "add": {
        const y = yq(), bq = q.get(op.inputs[1]!)!;
        const twice = 2 * Math.max(xq.scale, bq.scale);
        const [am, as] = quantizeMultiplier(xq.scale / twice);
        const [bm, bs] = quantizeMultiplier(bq.scale / twice);
        const [m, s] = quantizeMultiplier(twice / (2 ** 20 * y.scale));
        push({ op: Op.Add, inputs: [xr, ref.get(op.inputs[1]!)!], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint, am, as, bq.zeroPoint, bm, bs, m, s, y.zeroPoint, -128, 127, 20] }, op.output, y);
        break;
      }
      case "mul": {
        const y = yq(), bq = q.get(op.inputs[1]!)!;
        const [m, s] = quantizeMultiplier((xq.scale * bq.scale) / y.scale);
        push({ op: Op.Mul, inputs: [xr, ref.get(op.inputs[1]!)!], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint, bq.zeroPoint, m, s, y.zeroPoint, -128, 127] }, op.output, y);
        break;
      }
      case "relu":
        push({ op: Op.Relu, inputs: [xr], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint] }, op.output, xq);
        break;
      case "softmax":
        push({ op: Op.Softmax, inputs: [xr], outDtype: DType.int8, outShape, attrs: softmaxTable(xq.scale) }, op.output, { scale: 1 / 256, zeroPoint: -128 });
        break;
      case "reshape":
        push({ op: Op.Reshape, inputs: [xr], outDtype: DType.int8, outShape, attrs: [] }, op.output, xq);
        break;
      case "maxpool": {
        const p = op.pool!;
        push({ op: Op.MaxPool, inputs: [xr], outDtype: DType.int8, outShape, attrs: [p.k[0]!, p.k[1]!, p.strides[0]!, p.strides[1]!, p.pads[0]!, p.pads[1]!, p.pads[2]!, p.pads[3]!] }, op.output, xq);
        break;
      }
    }
  }
  const last = ops[ops.length - 1]!.output;
  return {
    spec: {
      input: { dtype: DType.int8, shape: inShape },
      nodes,
      weights,
      metadata: { name: opts.name ?? "onnx-import", input: q.get(inName)!, output: q.get(last)!, source: "onnx", calibrationSamples: calibration.length },
    },
    floatOutputs,
  };
}

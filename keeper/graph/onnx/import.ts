/**
 * ONNX import: parses an ONNX model (npm onnx-proto) as PyTorch's `torch.onnx.export` writes it,
 * folds constants (shape arithmetic), pattern-matches it onto the integer ops of docs/protocol.md
 * §3.6, and quantizes post-training from calibration samples (float interpretation here, at import
 * time, off chain: the committed computation is integer). Unsupported ops or attributes are named
 * in the error with the node and what to change in the PyTorch code. Coverage: docs/byo-model.md.
 *
 * The pipeline: (1) map every ONNX node onto the float program (float.ts) — element-wise chains of
 * one tensor (Relu, Sigmoid, Tanh, GELU's Div/Erf/Add/Mul, SiLU's Sigmoid/Mul, arithmetic by scalar
 * constants, …) become one table (Lut) of their source tensor, BatchNormalization and arithmetic by
 * per-channel constants a per-channel affine op, pooling a depthwise Conv; (2) fold: clamps (Relu,
 * Clip) into the preceding Gemm/Conv's qmin/qmax, affine ops into the neighbouring Gemm/Conv's
 * weights and bias, Pad into the following Conv, Reshape chains into one; (3) calibrate activation
 * ranges (percentile clipping), quantize, and report float-vs-int8 agreement per node.
 *
 * Transformers: int64/int32 token ids stay an int32 input read by the embedding (Gather);
 * LayerNorm as LayerNormalization or its decomposition (matched stage by stage, `lnStage`) is the
 * LayerNorm op with γ/β folded in; Linear layers on [N, T, d] are Gemms between Reshapes (their bias
 * Add folded, a fused qkv split into one Gemm per part); MatMul of two activations is the batched
 * MatMul op, a scalar scale on either side folded into its multiplier; a constant causal mask
 * (Where with a BOOL mask, or an additive -inf mask) followed by Softmax is CausalSoftmax;
 * Transpose/Split/Slice/Gather with constant indices on activations are Transpose/Slice.
 */
import onnxPkg from "onnx-proto";
import { GraphError } from "../errors.ts";
import { Op, OP_NAMES, inputSlot, nodeSlot, weightSlot, type NodeDesc } from "../ops.ts";
import { CHUNK_BYTES, DType, dtypeName, elementSize, int32Tensor, int8Tensor, type Tensor } from "../tensor.ts";
import { buildModel, isTextModel, maxInputBytes, type ModelSpec, type QuantParams } from "../model.ts";
import { Executor } from "../executor.ts";
import { quantizeValues } from "../quant.ts";
import { quantizeMultiplier, quantizeWeights, quantizeValue, rangeParams, softmaxTable } from "../train/quantize.ts";
import { composePointwise, erf, IDENTITY, numel, runFloat, type FloatOp, type FTensor, type Pointwise } from "./float.ts";
import { broadcast, foldConstant, reshapeTarget, type AttrValue, type CTensor } from "./fold.ts";

const { onnx } = onnxPkg;
type OnnxNode = InstanceType<typeof onnx.NodeProto>;
type OnnxTensor = InstanceType<typeof onnx.TensorProto>;

export class OnnxImportError extends GraphError {
  override name = "OnnxImportError";
}

/** Element-wise ops that become (part of) a table: name → function of x given the node's attributes/constant inputs. */
const UNARY: Record<string, (a: Map<string, AttrValue>, c: (CTensor | undefined)[]) => Pointwise> = {
  Relu: () => ({ fn: (x) => Math.max(0, x), clamp: [0, Infinity], desc: "relu" }),
  Clip: (a, c) => {
    const lo = c[1] ? c[1].data[0]! : (a.get("min")?.f ?? -Infinity), hi = c[2] ? c[2].data[0]! : (a.get("max")?.f ?? Infinity);
    return { fn: (x) => Math.min(hi, Math.max(lo, x)), clamp: [lo, hi], desc: `clip(${lo},${hi})` };
  },
  Sigmoid: () => ({ fn: (x) => 1 / (1 + Math.exp(-x)), desc: "sigmoid" }),
  Tanh: () => ({ fn: Math.tanh, desc: "tanh" }),
  Erf: () => ({ fn: erf, desc: "erf" }),
  LeakyRelu: (a) => {
    const al = a.get("alpha")?.f ?? 0.01;
    return { fn: (x) => (x >= 0 ? x : al * x), desc: `leaky_relu(${al})` };
  },
  HardSigmoid: (a) => {
    const al = a.get("alpha")?.f ?? 0.2, be = a.get("beta")?.f ?? 0.5;
    return { fn: (x) => Math.max(0, Math.min(1, al * x + be)), desc: "hard_sigmoid" };
  },
  HardSwish: () => ({ fn: (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)), desc: "hard_swish" }),
  Elu: (a) => {
    const al = a.get("alpha")?.f ?? 1;
    return { fn: (x) => (x >= 0 ? x : al * (Math.exp(x) - 1)), desc: "elu" };
  },
  Celu: (a) => {
    const al = a.get("alpha")?.f ?? 1;
    return { fn: (x) => Math.max(0, x) + Math.min(0, al * (Math.exp(x / al) - 1)), desc: "celu" };
  },
  Selu: (a) => {
    const al = a.get("alpha")?.f ?? 1.67326319217681884765625, g = a.get("gamma")?.f ?? 1.05070102214813232421875;
    return { fn: (x) => (x > 0 ? g * x : g * al * (Math.exp(x) - 1)), desc: "selu" };
  },
  Softplus: () => ({ fn: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))), desc: "softplus" }),
  Softsign: () => ({ fn: (x) => x / (1 + Math.abs(x)), desc: "softsign" }),
  Gelu: (a) =>
    a.get("approximate")?.s === "tanh"
      ? { fn: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), desc: "gelu_tanh" }
      : { fn: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), desc: "gelu" },
  Exp: () => ({ fn: Math.exp, desc: "exp" }),
  Log: () => ({ fn: Math.log, desc: "log" }),
  Neg: () => ({ fn: (x) => -x, linear: [-1, 0], desc: "neg" }),
  Abs: () => ({ fn: Math.abs, desc: "abs" }),
  Sqrt: () => ({ fn: Math.sqrt, desc: "sqrt" }),
  Reciprocal: () => ({ fn: (x) => 1 / x, desc: "reciprocal" }),
  Sin: () => ({ fn: Math.sin, desc: "sin" }),
  Cos: () => ({ fn: Math.cos, desc: "cos" }),
  Floor: () => ({ fn: Math.floor, desc: "floor" }),
  Ceil: () => ({ fn: Math.ceil, desc: "ceil" }),
  Round: () => ({ fn: (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r; }, desc: "round" }),
  Sign: () => ({ fn: Math.sign, desc: "sign" }),
  ThresholdedRelu: (a) => {
    const al = a.get("alpha")?.f ?? 1;
    return { fn: (x) => (x > al ? x : 0), desc: "thresholded_relu" };
  },
  Pow: (_a, c) => {
    const e = c[1]!.data[0]!;
    return { fn: (x) => x ** e, desc: `pow(${e})` };
  },
};

const UNARY_ATTRS: Record<string, string[]> = {
  Clip: ["min", "max"], LeakyRelu: ["alpha"], Elu: ["alpha"], Celu: ["alpha"], ThresholdedRelu: ["alpha"], HardSigmoid: ["alpha", "beta"], Selu: ["alpha", "gamma"], Gelu: ["approximate"],
};

const STRUCTURAL = ["Gemm", "MatMul", "ArgMax", "Gather", "LayerNormalization", "Transpose", "Split", "Slice", "Where", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "BatchNormalization", "Add", "Sub", "Mul", "Div", "Softmax", "LogSoftmax", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Pad", "Concat", "Dropout", "Identity", "Cast", "Shape", "Constant"];
export const SUPPORTED_ONNX_OPS = [...STRUCTURAL, ...Object.keys(UNARY)];

/** What to change in the PyTorch code, for ops the importer does not take. */
const HINTS: Record<string, string> = {
  LSTM: "recurrent layers (nn.LSTM/GRU/RNN) have no integer kernel; use 1-D convolutions (nn.Conv1d) or a transformer",
  GRU: "recurrent layers (nn.LSTM/GRU/RNN) have no integer kernel; use 1-D convolutions (nn.Conv1d) or a transformer",
  RNN: "recurrent layers (nn.LSTM/GRU/RNN) have no integer kernel; use 1-D convolutions (nn.Conv1d) or a transformer",
  ConvTranspose: "nn.ConvTranspose2d is not supported; upsample by a Conv2d to 4x the channels and a reshape, or use a classifier head",
  Resize: "F.interpolate / nn.Upsample is not supported; use strided convolutions instead",
  Upsample: "F.interpolate / nn.Upsample is not supported; use strided convolutions instead",
  Concat: "torch.cat of activations is supported along the last axis, or an axis with only size-1 axes before it (the channels of [1, C, H, W]); otherwise sum the branches (x + y) or concatenate the inputs before the model",
  InstanceNormalization: "nn.InstanceNorm is not supported; use nn.BatchNorm (folded into the neighbouring layer)",
  ReduceMax: "x.max(dim) is not supported; use F.max_pool2d / nn.AdaptiveMaxPool2d(1) over the spatial axes",
  ReduceSum: "x.sum(dim) is not supported; use nn.AdaptiveAvgPool2d(1) (a mean) over the spatial axes",
  ArgMax: "argmax is supported over the last axis only (logits.argmax(-1), the first maximum); return the scores and take the argmax in the dapp otherwise",
  TopK: "topk inside the model is not supported; return the scores and rank them in the dapp",
  Dropout: "Dropout in training mode: export with model.eval()",
  Sub: "subtracting two different activations is not supported; write x + (-1 * y) with a constant on a branch that ends in a Linear/Conv, or fold it into the model",
  Div: "dividing by an activation is not supported; only division by constants is",
};

export interface ImportOptions {
  name?: string;
  /**
   * Percentile of each activation's calibration values kept when choosing its int8 range (the rest
   * are clipped): 100 = min/max. The model output and Softmax inputs always use min/max.
   */
  clipPercentile?: number;
  /** compute the float-vs-int8 report on the calibration set (default true) */
  report?: boolean;
  /**
   * Every activation at 14 bits and every weight at 12 bits through the wide forms of §3.6 (int32 tensors), instead
   * of int8: for a language model whose greedy text must follow its float model's (docs/text-generation.md). Only
   * the transformer's ops have wide forms: Gemm, MatMul, LayerNorm, Add, Gather, CausalSoftmax, pointwise functions,
   * and the shape ops.
   */
  wide?: boolean;
}

export interface NodeReport {
  node: number;
  op: string;
  /** the ONNX node(s) it comes from */
  onnx: string;
  /** RMS(int8 − float) / RMS(float) of the node's output over the calibration set */
  relError: number;
  /** relError minus the largest relError of its inputs: the error this node adds */
  added: number;
}

export interface ImportReport {
  /** top-1 agreement (argmax of the output) of the int8 model with the float graph on the calibration set */
  agreement: number;
  samples: number;
  nodes: NodeReport[];
  /** the node that adds the most error */
  worst?: NodeReport;
}

export interface ImportedModel {
  spec: ModelSpec;
  /** float outputs of the calibration samples (the importer's own float reading of the graph) */
  floatOutputs: Float64Array[];
  /** what the importer decided that the model owner should know (batch axis fixed, output values approximated, …) */
  notes: string[];
  report?: ImportReport;
}

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

const DT = onnx.TensorProto.DataType;

function tensorValues(t: OnnxTensor): CTensor {
  const shape = (t.dims ?? []).map(toNumber);
  const n = numel(shape);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const data = new Float64Array(n);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  for (let i = 0; i < n; i++) {
    if (type === DT.FLOAT) data[i] = view ? view.getFloat32(4 * i, true) : t.floatData[i]!;
    else if (type === DT.INT64) data[i] = view ? Number(view.getBigInt64(8 * i, true)) : toNumber(t.int64Data[i]);
    else if (type === DT.INT32) data[i] = view ? view.getInt32(4 * i, true) : t.int32Data[i]!;
    else if (type === DT.DOUBLE) data[i] = view ? view.getFloat64(8 * i, true) : t.doubleData[i]!;
    else if (type === DT.BOOL || type === DT.UINT8 || type === DT.INT8) data[i] = view ? (type === DT.INT8 ? view.getInt8(i) : view.getUint8(i)) : t.int32Data[i]!;
    else throw new OnnxImportError(`initializer ${t.name}: ONNX data type ${type} is not supported (float, double, int8/32/64, uint8, bool)`);
  }
  return { shape, data, int: type !== DT.FLOAT && type !== DT.DOUBLE };
}

function attrs(node: OnnxNode): Map<string, AttrValue> {
  const m = new Map<string, AttrValue>();
  for (const a of node.attribute ?? []) {
    m.set(a.name ?? "", {
      i: a.i !== undefined && a.i !== null ? toNumber(a.i) : undefined,
      f: a.f ?? undefined,
      ints: (a.ints ?? []).map(toNumber),
      floats: (a.floats ?? []).map(Number),
      s: a.s && a.s.length ? new TextDecoder().decode(a.s) : undefined,
      t: a.t ? tensorValues(a.t as OnnxTensor) : undefined,
    });
  }
  return m;
}

const label = (node: OnnxNode) => `${node.opType} node ${node.name || node.output?.[0]}`;

function rejectAttrs(node: OnnxNode, allowed: string[]): void {
  for (const a of node.attribute ?? []) {
    if (!allowed.includes(a.name ?? "")) throw new OnnxImportError(`${label(node)}: attribute ${a.name} is not supported (supported: ${allowed.join(", ") || "none"})`);
  }
}

function transpose2(t: FTensor): FTensor {
  const [r, c] = t.shape as [number, number];
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data };
}

/** Parses, folds and maps the graph onto the float program. */
function mapGraph(bytes: Uint8Array) {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxImportError(`not an ONNX model: ${(e as Error).message}`);
  }
  const g = model.graph;
  if (!g) throw new OnnxImportError("ONNX model has no graph");
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 13);
  const notes: string[] = [];
  const consts = new Map<string, CTensor>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? "", tensorValues(t as OnnxTensor));
  const graphInputs = (g.input ?? []).filter((i) => !consts.has(i.name ?? ""));
  if (graphInputs.length !== 1) throw new OnnxImportError(`the model must have exactly one non-constant input, it has ${graphInputs.length}`);
  const inName = graphInputs[0]!.name ?? "";
  const elem = graphInputs[0]!.type?.tensorType?.elemType ?? DT.FLOAT;
  if (elem !== DT.FLOAT && elem !== DT.DOUBLE && elem !== DT.INT64 && elem !== DT.INT32) throw new OnnxImportError(`input ${inName}: element type ${elem} is not supported (float inputs, or int64/int32 token ids feeding an embedding)`);
  /** token ids: kept as integers (an int32 input), read only by an embedding (Gather) or reshaped/sliced */
  const intInput = elem === DT.INT64 || elem === DT.INT32;
  const dims = graphInputs[0]!.type?.tensorType?.shape?.dim ?? [];
  const inShape = dims.map((d, i) => {
    const v = d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0;
    if (v > 0) return v;
    if (i === 0) {
      notes.push(`input ${inName}: the batch axis is dynamic (${d.dimParam || "?"}); fixed to 1 (a request is one sample)`);
      return 1;
    }
    throw new OnnxImportError(`input ${inName}: dimension ${i} is symbolic (${d.dimParam}); only the batch dimension may be — export with a fixed-size dummy input and no dynamic_axes except the batch`);
  });
  if (inShape[0] !== 1) throw new OnnxImportError(`input ${inName}: batch size ${inShape[0]}; export with a batch of 1 (or a dynamic batch axis)`);
  if ((g.output ?? []).length !== 1) throw new OnnxImportError(`the model must have exactly one output, it has ${(g.output ?? []).length}`);
  let outName = g.output![0]!.name ?? "";

  const alias = new Map<string, string>();
  const name = (s: string): string => {
    let n = s;
    while (alias.has(n)) n = alias.get(n)!;
    return n;
  };
  const shapes = new Map<string, number[]>([[inName, inShape]]);
  const ops: FloatOp[] = [];
  /** integer tensors (the token ids and their reshapes/slices) */
  const ints = new Set<string>(intInput ? [inName] : []);
  /** ONNX consumers of every tensor name (the graph output counts as one) */
  const uses = new Map<string, number>([[outName, 1]]);
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  /** the stages of a decomposed LayerNorm (ReduceMean → Sub → Pow → ReduceMean → Add → Sqrt → Div) */
  const lnStage = new Map<string, { stage: "mean" | "centered" | "sq" | "var" | "vareps" | "std" | "invstd"; x: string; eps?: number }>();
  /** scores with a causal mask applied (Where with a BOOL mask, or an additive -inf mask): name → the unmasked activation */
  const causal = new Map<string, string>();
  /** element-wise functions of a source tensor, not yet materialized as an op */
  const virt = new Map<string, { src: string; pw: Pointwise; from: string }>();
  const materialized = new Set<string>();
  /** an activation, materializing an element-wise chain when an op needs it */
  const act = (s: string, node: OnnxNode, allowInt = false): string => {
    const n = name(s);
    if (ints.has(n) && !allowInt) throw new OnnxImportError(`${label(node)}: reads the integer tensor ${s} (token ids); integer inputs may only feed an embedding (nn.Embedding: Gather), a reshape or a slice`);
    if (lnStage.has(n)) throw new OnnxImportError(`${label(node)}: reads ${s}, a part of a decomposed LayerNorm (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div); only the whole pattern (nn.LayerNorm, or its formula over the last axis) imports`);
    if (causal.has(n)) throw new OnnxImportError(`${label(node)}: reads ${s}, attention scores with a causal mask; a masked tensor may only feed a Softmax over its last axis`);
    const v = virt.get(n);
    if (v && !materialized.has(n)) {
      materialized.add(n);
      ops.push({ kind: "pointwise", inputs: [v.src], output: n, pw: v.pw, src: v.from });
    }
    if (!shapes.has(n)) {
      if (consts.has(n)) throw new OnnxImportError(`${label(node)}: input ${s} is a constant where this importer needs an activation (constant-only subgraphs feeding this op are not foldable)`);
      throw new OnnxImportError(`${label(node)}: input ${s} is not a computed activation`);
    }
    return n;
  };
  const shapeOf = (s: string, node: OnnxNode) => {
    const sh = shapes.get(name(s));
    if (!sh) throw new OnnxImportError(`${label(node)}: input ${s} is not a computed activation`);
    return sh;
  };
  const constOf = (s: string | undefined, node: OnnxNode, what: string): CTensor => {
    const c = s ? consts.get(name(s)) : undefined;
    if (!c) throw new OnnxImportError(`${label(node)}: ${what} (${s}) must be a constant (an initializer or foldable from them)`);
    return c;
  };
  /** source and function of a tensor as an element-wise function of a materialized tensor */
  const asPointwise = (s: string): { src: string; pw: Pointwise } => {
    const n = name(s);
    const v = virt.get(n);
    return v ? { src: v.src, pw: v.pw } : { src: n, pw: IDENTITY };
  };
  const setVirtual = (out: string, src: string, pw: Pointwise, node: OnnxNode) => {
    virt.set(out, { src, pw, from: node.name || out });
    shapes.set(out, shapes.get(src)!);
  };
  const push = (op: FloatOp, shape: number[]) => {
    ops.push(op);
    shapes.set(op.output, shape);
  };
  const reshape = (input: string, output: string, shape: number[], src: string) => {
    push({ kind: "reshape", inputs: [input], output, shape, src }, shape);
    if (ints.has(input)) ints.add(output);
  };
  const producer = (n: string) => ops.find((o) => o.output === n);
  /** the Gemm computing `n` (directly or through the Reshape a rank-3 Linear is lowered to), if `n` is read once */
  const gemmBehind = (n: string): FloatOp | undefined => {
    if ((uses.get(n) ?? 0) !== 1) return undefined;
    let p = producer(n);
    if (p?.kind === "reshape" && p.inputs[0]!.endsWith("::mm")) p = producer(p.inputs[0]!);
    return p?.kind === "gemm" ? p : undefined;
  };
  /** a constant broadcast along the last axis only (shape [D] or [1, …, D]) for an activation [… , D]: its D values */
  const lastAxisValues = (c: CTensor, os: number[]): Float64Array | undefined => {
    const D = os[os.length - 1]!;
    if (c.shape.length > os.length || c.shape.slice(0, -1).some((d) => d !== 1)) return undefined;
    const n = c.shape.length ? c.shape[c.shape.length - 1]! : 1;
    if (n !== D && n !== 1) return undefined;
    return Float64Array.from({ length: D }, (_, i) => c.data[n === 1 ? 0 : i]!);
  };
  /**
   * Whether `allowed(i)` (for every element of an activation of shape xs, xs = [… , R, C]) is
   * exactly the causal pattern of CausalSoftmax: column j of row r allowed iff j ≤ r + C − R.
   */
  const isCausal = (xs: number[], allowed: (i: number) => boolean): boolean => {
    if (xs.length < 2) return false;
    const C = xs[xs.length - 1]!, R = xs[xs.length - 2]!;
    if (R > C) return false;
    const n = numel(xs);
    for (let i = 0; i < n; i++) {
      const j = i % C, r = Math.floor(i / C) % R;
      if (allowed(i) !== j <= r + C - R) return false;
    }
    return true;
  };
  /** a constant broadcast to an activation's shape (error when it does not broadcast to exactly that shape) */
  const broadcastTo = (c: CTensor, os: number[], node: OnnxNode): CTensor => {
    let b: CTensor;
    try {
      b = broadcast({ shape: os, data: new Float64Array(numel(os)) }, c, (_, v) => v, false);
    } catch {
      throw new OnnxImportError(`${label(node)}: the constant of shape [${c.shape}] does not broadcast to the activation [${os}]`);
    }
    if (b.shape.join() !== os.join()) throw new OnnxImportError(`${label(node)}: the constant of shape [${c.shape}] would broadcast the activation [${os}] to [${b.shape}]; only constants that keep the activation's shape are supported`);
    return b;
  };
  /** x [… , K] · w [N, K]ᵀ (+ b) as a Gemm on [M, K] between Reshapes when x is not 2-D */
  const linear = (x: string, xs: number[], w: FTensor, b: FTensor | undefined, out: string, src: string) => {
    const N = w.shape[0]!;
    if (xs.length === 2) {
      push({ kind: "gemm", inputs: [x], output: out, w, b, src }, [xs[0]!, N]);
      return;
    }
    const M = numel(xs.slice(0, -1));
    reshape(x, `${out}::2d`, [M, xs[xs.length - 1]!], src);
    push({ kind: "gemm", inputs: [`${out}::2d`], output: `${out}::mm`, w, b, src }, [M, N]);
    reshape(`${out}::mm`, out, [...xs.slice(0, -1), N], src);
  };
  /** a slice of an activation along one axis (an alias when it is the whole axis) */
  const slice = (x: string, out: string, axis: number, start: number, len: number, src: string) => {
    const xs = shapes.get(x)!;
    if (start === 0 && len === xs[axis]) {
      alias.set(out, x);
      return;
    }
    if (len < 1) throw new OnnxImportError(`${src}: an empty slice of [${xs}] along axis ${axis}`);
    const shape = [...xs];
    shape[axis] = len;
    push({ kind: "slice", inputs: [x], output: out, axis, start, src }, shape);
    if (ints.has(x)) ints.add(out);
  };

  /** Spatial attributes of a 1-D or 2-D Conv/pool as 2-D (height 1 for 1-D). */
  const spatial = (node: OnnxNode, a: Map<string, AttrValue>, rank: number, kernel: number[]) => {
    const d = rank - 2;
    if (d !== 1 && d !== 2) throw new OnnxImportError(`${label(node)}: only 1-D and 2-D ${node.opType} (3-D or 4-D tensors) are supported, got a ${rank}-D input`);
    const autoPad = a.get("auto_pad")?.s ?? "NOTSET";
    if (autoPad !== "NOTSET" && autoPad !== "VALID") throw new OnnxImportError(`${label(node)}: auto_pad ${autoPad} is not supported (PyTorch writes explicit pads; use padding=<int> rather than padding='same')`);
    const get = (k: string, dflt: number) => (a.get(k)?.ints?.length ? a.get(k)!.ints! : new Array<number>(d * (k === "pads" ? 2 : 1)).fill(dflt));
    const k = d === 1 ? [1, kernel[0]!] : kernel;
    const st = get("strides", 1), dl = get("dilations", 1), pd = autoPad === "VALID" ? new Array<number>(2 * d).fill(0) : get("pads", 0);
    return d === 1
      ? { k, strides: [1, st[0]!], dil: [1, dl[0]!], pads: [0, pd[0]!, 0, pd[1]!], oneD: true }
      : { k, strides: st, dil: dl, pads: [pd[0]!, pd[1]!, pd[2]!, pd[3]!], oneD: false };
  };
  /** Output H, W of a window op on [H, W] (floor; ceil_mode allowed when it gives the same size). */
  const outHW = (node: OnnxNode, x4: number[], k: number[], strides: number[], pads: number[], dil: number[], ceil: boolean) =>
    [0, 1].map((i) => {
      const span = x4[2 + i]! + pads[i]! + pads[i + 2]! - dil[i]! * (k[i]! - 1) - 1;
      const fl = Math.floor(span / strides[i]!) + 1;
      if (ceil && Math.ceil(span / strides[i]!) + 1 !== fl) throw new OnnxImportError(`${label(node)}: ceil_mode=True changes the output size here; use ceil_mode=False (the default) or a padding that divides evenly`);
      return fl;
    });
  /** Runs a 4-D op on a 3-D ([N,C,L]) tensor by reshaping to [N,C,1,L] and back. */
  const as4d = (x: string, xs: number[], out: string, oneD: boolean, src: string, body: (x4: string, x4s: number[], out4: string) => number[]) => {
    if (!oneD) {
      const s = body(x, xs, out);
      shapes.set(out, s);
      return;
    }
    const x4s = [xs[0]!, xs[1]!, 1, xs[2]!];
    reshape(x, `${out}::in4d`, x4s, src);
    const s4 = body(`${out}::in4d`, x4s, `${out}::4d`);
    shapes.set(`${out}::4d`, s4);
    reshape(`${out}::4d`, out, [s4[0]!, s4[1]!, s4[3]!], src);
  };
  /**
   * Average pooling as a depthwise Conv with weights 1/(kh·kw). With `countPad = false` (count_include_pad=0) a
   * window reaching into the padding averages only the input's elements: the Conv's output is then multiplied
   * by kh·kw / (elements of the window inside the input), a constant per position (a Mul with a weight).
   */
  const avgPool = (x4: string, x4s: number[], out4: string, k: number[], strides: number[], pads: number[], src: string, ceil: boolean, node: OnnxNode, countPad = true) => {
    const C = x4s[1]!;
    const w = { shape: [C, 1, k[0]!, k[1]!], data: new Float64Array(C * k[0]! * k[1]!).fill(1 / (k[0]! * k[1]!)) };
    const [oh, ow] = outHW(node, x4s, k, strides, pads, [1, 1], ceil);
    const s = [x4s[0]!, C, oh!, ow!];
    const rescale = !countPad && pads.some((p) => p > 0);
    const conv4 = rescale ? `${out4}::sum` : out4;
    push({ kind: "conv", inputs: [x4], output: conv4, w, conv: { strides, pads, dil: [1, 1], group: C }, src }, s);
    if (rescale) {
      // elements of window i along spatial axis d that lie inside the input (pads: [top, left, bottom, right])
      const inside = (i: number, d: number) => {
        const start = i * strides[d]! - pads[d]!;
        return Math.min(start + k[d]!, x4s[2 + d]!) - Math.max(start, 0);
      };
      const data = new Float64Array(numel(s));
      for (let i = 0; i < data.length; i++) {
        const y = Math.floor(i / ow!) % oh!, x = i % ow!;
        data[i] = (k[0]! * k[1]!) / (inside(y, 0) * inside(x, 1));
      }
      push({ kind: "mul", inputs: [conv4], output: out4, c: { shape: s, data }, src }, s);
    }
    return s;
  };

  const nodes = (g.node ?? []) as OnnxNode[];
  for (const node of nodes) {
    const ins = (node.input ?? []).map((s) => (s === "" ? "" : name(s)));
    const out = node.output?.[0] ?? "";
    const a = attrs(node);
    const src = node.name || out;
    const op = node.opType ?? "";
    const isConst = (s: string) => s === "" || consts.has(s);

    if (op === "Constant") {
      const t = a.get("value")?.t as CTensor | undefined;
      if (t) consts.set(out, t);
      else if (a.get("value_float")?.f !== undefined) consts.set(out, { shape: [], data: Float64Array.of(a.get("value_float")!.f!) });
      else if (a.get("value_floats")?.floats?.length) consts.set(out, { shape: [a.get("value_floats")!.floats!.length], data: Float64Array.from(a.get("value_floats")!.floats!) });
      else if (a.get("value_int")?.i !== undefined) consts.set(out, { shape: [], data: Float64Array.of(a.get("value_int")!.i!), int: true });
      else if (a.get("value_ints")?.ints?.length) consts.set(out, { shape: [a.get("value_ints")!.ints!.length], data: Float64Array.from(a.get("value_ints")!.ints!), int: true });
      else throw new OnnxImportError(`${label(node)}: only value, value_float(s) and value_int(s) constants are supported`);
      continue;
    }
    if (op === "Shape") {
      const s = shapeOf(ins[0]!, node);
      const start = a.get("start")?.i ?? 0, end = a.get("end")?.i ?? s.length;
      const dims = s.slice(start < 0 ? start + s.length : start, end < 0 ? end + s.length : end);
      consts.set(out, { shape: [dims.length], data: Float64Array.from(dims), int: true });
      continue;
    }
    // constant folding: every input a constant
    if (ins.length > 0 && ins.every(isConst) && op !== "Dropout") {
      const cin = ins.map((s) => (s === "" ? undefined : consts.get(s)));
      let folded: CTensor | undefined;
      try {
        folded = foldConstant(op, cin, a);
        if (!folded && UNARY[op] && cin[0] && !cin[0].int) {
          const f = UNARY[op](a, cin).fn;
          folded = { shape: cin[0].shape, data: cin[0].data.map(f) };
        }
      } catch (e) {
        throw new OnnxImportError(`${label(node)}: folding constants: ${(e as Error).message}`);
      }
      if (folded) {
        consts.set(out, folded);
        continue;
      }
    }
    // a decomposed LayerNorm: (x − mean(x)) / sqrt(mean((x − mean(x))²) + eps), over the last axis
    {
      const st = (i: number) => (ins[i] ? lnStage.get(ins[i]!) : undefined);
      const s0 = st(0), s1 = st(1);
      const cval = (i: number) => (ins[i] && consts.get(ins[i]!) && numel(consts.get(ins[i]!)!.shape) === 1 ? consts.get(ins[i]!)!.data[0] : undefined);
      if (op === "Sub" && s1?.stage === "mean" && s1.x === ins[0]) {
        lnStage.set(out, { stage: "centered", x: s1.x });
        continue;
      }
      if (s0?.stage === "centered" && ((op === "Pow" && cval(1) === 2) || (op === "Mul" && ins[1] === ins[0]))) {
        lnStage.set(out, { stage: "sq", x: s0.x });
        continue;
      }
      const lastAxisMean = () => {
        const r = shapes.get(s0!.x)!.length;
        const axes = (a.get("axes")?.ints ?? (ins[1] ? Array.from(constOf(ins[1], node, "the axes").data) : [])).map((v) => (v < 0 ? v + r : v));
        return axes.length === 1 && axes[0] === r - 1 && (a.get("keepdims")?.i ?? 1) === 1;
      };
      if (op === "ReduceMean" && s0?.stage === "sq") {
        if (!lastAxisMean()) throw new OnnxImportError(`${label(node)}: a LayerNorm's variance must be a mean over the last axis with keepdims`);
        lnStage.set(out, { stage: "var", x: s0.x });
        continue;
      }
      if (op === "Add" && (s0?.stage === "var" || s1?.stage === "var")) {
        const eps = s0 ? cval(1) : cval(0);
        if (eps === undefined) throw new OnnxImportError(`${label(node)}: the LayerNorm's epsilon must be a scalar constant`);
        lnStage.set(out, { stage: "vareps", x: (s0 ?? s1)!.x, eps });
        continue;
      }
      if (op === "Sqrt" && s0?.stage === "vareps") {
        lnStage.set(out, { stage: "std", x: s0.x, eps: s0.eps });
        continue;
      }
      if ((op === "Reciprocal" && s0?.stage === "std") || (op === "Div" && cval(0) === 1 && s1?.stage === "std")) {
        // torch.rsqrt(var + eps) exports as Sqrt → Reciprocal (or 1 / sqrt)
        lnStage.set(out, { stage: "invstd", x: (s0 ?? s1)!.x, eps: (s0 ?? s1)!.eps });
        continue;
      }
      const normalized =
        (op === "Div" && s0?.stage === "centered" && s1?.stage === "std" && s0.x === s1.x) ||
        (op === "Mul" && ((s0?.stage === "centered" && s1?.stage === "invstd") || (s0?.stage === "invstd" && s1?.stage === "centered")) && s0.x === s1!.x);
      if (normalized) {
        const xs = shapes.get(s0!.x)!;
        const D = xs[xs.length - 1]!;
        push({ kind: "layernorm", inputs: [s0!.x], output: out, gamma: new Float64Array(D).fill(1), beta: new Float64Array(D), eps: [s0, s1].find((t) => t?.stage === "std" || t?.stage === "invstd")!.eps!, src }, xs);
        continue;
      }
      const stray = ins.find((i) => i && lnStage.has(i));
      if (stray) throw new OnnxImportError(`${label(node)}: reads ${stray}, a part of a decomposed LayerNorm (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div) in an order this importer does not match; use nn.LayerNorm (or F.layer_norm) over the last axis`);
    }
    if (UNARY[op] && !(op === "Pow" && !isConst(ins[1]!))) {
      if (op === "Pow" && numel(constOf(ins[1], node, "the exponent").shape) !== 1) throw new OnnxImportError(`${label(node)}: only a scalar exponent is supported`);
      const cin = ins.map((s) => (s === "" ? undefined : consts.get(s)));
      if (op === "Clip" && ((ins[1] && !cin[1]) || (ins[2] && !cin[2]))) throw new OnnxImportError(`${label(node)}: Clip bounds must be constants (torch.clamp with numbers)`);
      rejectAttrs(node, UNARY_ATTRS[op] ?? []);
      shapeOf(ins[0]!, node);
      if (ints.has(ins[0]!)) act(ins[0]!, node); // token ids: refused with the reason
      const { src: s0, pw } = asPointwise(ins[0]!);
      setVirtual(out, s0, composePointwise(UNARY[op](a, cin), pw), node);
      continue;
    }
    switch (op) {
      case "Identity":
      case "Dropout":
      case "Cast": {
        if (op === "Dropout" && node.output!.length > 1 && nodes.some((n) => (n.input ?? []).includes(node.output![1]!))) throw new OnnxImportError(`${label(node)}: its mask output is used; ${HINTS.Dropout}`);
        if (op === "Cast" && ![DT.FLOAT, DT.DOUBLE, DT.FLOAT16].includes(a.get("to")?.i ?? DT.FLOAT)) throw new OnnxImportError(`${label(node)}: casting an activation to an integer type is not supported (remove .long()/.int() from the model)`);
        if (op === "Dropout" && (ins[2] && consts.get(ins[2])?.data[0])) throw new OnnxImportError(`${label(node)}: ${HINTS.Dropout}`);
        alias.set(out, ins[0]!);
        continue;
      }
      case "Gemm":
      case "MatMul": {
        if (op === "MatMul" && !isConst(ins[1]!)) {
          // two activations: q @ kᵀ, attn @ v — a batched MatMul on [B, M, K] × [B, K, N]
          rejectAttrs(node, []);
          const x = act(ins[0]!, node), y = act(ins[1]!, node);
          const xs = shapes.get(x)!, ys = shapes.get(y)!;
          if (xs.length < 2 || ys.length !== xs.length || xs.slice(0, -2).join() !== ys.slice(0, -2).join() || xs[xs.length - 1] !== ys[ys.length - 2]) {
            throw new OnnxImportError(`${label(node)}: a MatMul of [${xs}] and [${ys}] is not supported (both operands of the same rank ≥ 2, equal batch dimensions, no broadcasting)`);
          }
          const r = xs.length, B = numel(xs.slice(0, -2)), M = xs[r - 2]!, K = xs[r - 1]!, N = ys[r - 1]!;
          const x3 = r === 3 ? x : `${out}::a3`, y3 = r === 3 ? y : `${out}::b3`;
          if (r !== 3) {
            reshape(x, x3, [B, M, K], src);
            reshape(y, y3, [B, K, N], src);
          }
          const o3 = r === 3 ? out : `${out}::o3`;
          push({ kind: "matmul", inputs: [x3, y3], output: o3, alpha: 1, src }, [B, M, N]);
          if (r !== 3) reshape(o3, out, [...xs.slice(0, -1), N], src);
          continue;
        }
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        if (xs.length !== 2 && op === "Gemm") throw new OnnxImportError(`${label(node)}: the input must be 2-D [1, features], got [${xs}] (flatten before the nn.Linear: torch.flatten(x, 1))`);
        let w: FTensor;
        let b: FTensor | undefined;
        if (op === "Gemm") {
          rejectAttrs(node, ["alpha", "beta", "transA", "transB"]);
          if ((a.get("transA")?.i ?? 0) !== 0) throw new OnnxImportError(`${label(node)}: transA = 1 is not supported`);
          const B = constOf(ins[1], node, "the weight");
          const alpha = a.get("alpha")?.f ?? 1, beta = a.get("beta")?.f ?? 1;
          w = (a.get("transB")?.i ?? 0) === 1 ? B : transpose2(B);
          if (alpha !== 1) w = { shape: w.shape, data: w.data.map((v) => v * alpha) };
          if (ins[2]) {
            const C = constOf(ins[2], node, "the bias");
            const N = w.shape[0]!;
            if (numel(C.shape) !== N && numel(C.shape) !== 1) throw new OnnxImportError(`${label(node)}: bias of shape [${C.shape}] for ${N} outputs`);
            b = { shape: [N], data: Float64Array.from({ length: N }, (_, j) => beta * C.data[numel(C.shape) === 1 ? 0 : j]!) };
          }
        } else {
          rejectAttrs(node, []);
          const B = consts.get(ins[1]!)!;
          if (B.shape.length !== 2) throw new OnnxImportError(`${label(node)}: the weight must be 2-D, got [${B.shape}]`);
          w = transpose2(B);
        }
        if (w.shape[1] !== xs[xs.length - 1]) throw new OnnxImportError(`${label(node)}: weight [${w.shape}] does not fit input [${xs}]`);
        linear(x, xs, w, b, out, src);
        continue;
      }
      case "Conv": {
        rejectAttrs(node, ["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"]);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const w0 = constOf(ins[1], node, "the weight");
        const sp = spatial(node, a, xs.length, w0.shape.slice(2));
        const w = { shape: sp.oneD ? [w0.shape[0]!, w0.shape[1]!, 1, w0.shape[2]!] : w0.shape, data: w0.data };
        const group = a.get("group")?.i ?? 1;
        if (w.shape[1]! * group !== xs[1]) throw new OnnxImportError(`${label(node)}: weight [${w0.shape}] with group ${group} does not fit input [${xs}]`);
        const b = ins[2] ? constOf(ins[2], node, "the bias") : undefined;
        as4d(x, xs, out, sp.oneD, src, (x4, x4s, out4) => {
          const [oh, ow] = outHW(node, x4s, sp.k, sp.strides, sp.pads, sp.dil, false);
          const s = [x4s[0]!, w.shape[0]!, oh!, ow!];
          push({ kind: "conv", inputs: [x4], output: out4, w, b, conv: { strides: sp.strides, pads: sp.pads, dil: sp.dil, group }, src }, s);
          return s;
        });
        continue;
      }
      case "MaxPool":
      case "AveragePool": {
        rejectAttrs(node, op === "MaxPool" ? ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations", "storage_order"] : ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad"]);
        if (node.output!.length > 1 && node.output![1]) throw new OnnxImportError(`${label(node)}: the indices output (return_indices=True) is not supported`);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const sp = spatial(node, a, xs.length, a.get("kernel_shape")!.ints!);
        if (sp.dil.some((d) => d !== 1)) throw new OnnxImportError(`${label(node)}: dilation is not supported for pooling`);
        const ceil = (a.get("ceil_mode")?.i ?? 0) === 1;
        const countPad = (a.get("count_include_pad")?.i ?? 0) === 1;
        as4d(x, xs, out, sp.oneD, src, (x4, x4s, out4) => {
          if (op === "AveragePool") return avgPool(x4, x4s, out4, sp.k, sp.strides, sp.pads, src, ceil, node, countPad);
          const [oh, ow] = outHW(node, x4s, sp.k, sp.strides, sp.pads, [1, 1], ceil);
          const s = [x4s[0]!, x4s[1]!, oh!, ow!];
          push({ kind: "maxpool", inputs: [x4], output: out4, pool: { k: sp.k, strides: sp.strides, pads: sp.pads }, src }, s);
          return s;
        });
        continue;
      }
      case "GlobalAveragePool":
      case "GlobalMaxPool":
      case "ReduceMean": {
        if (op === "ReduceMean" && nodes.some((n) => n.opType === "Sub" && n.input?.[1] === out && name(n.input[0]!) === ins[0])) {
          // the mean of a LayerNorm (x − mean(x) follows)
          const x = act(ins[0]!, node);
          const r = shapes.get(x)!.length;
          const axes = (a.get("axes")?.ints ?? (ins[1] ? Array.from(constOf(ins[1], node, "the axes").data) : [])).map((v) => (v < 0 ? v + r : v));
          if (axes.length !== 1 || axes[0] !== r - 1 || (a.get("keepdims")?.i ?? 1) !== 1) throw new OnnxImportError(`${label(node)}: a LayerNorm over axes [${axes}] is not supported; only over the last axis (nn.LayerNorm(d) on [… , d])`);
          lnStage.set(out, { stage: "mean", x });
          continue;
        }
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        if (xs.length !== 3 && xs.length !== 4) throw new OnnxImportError(`${label(node)}: only 3-D or 4-D inputs (N, C, …) are supported`);
        let keep = true;
        if (op === "ReduceMean") {
          rejectAttrs(node, ["axes", "keepdims"]);
          const axes = (a.get("axes")?.ints ?? []).map((v) => (v < 0 ? v + xs.length : v)).sort();
          const spatialAxes = xs.slice(2).map((_, i) => i + 2);
          if (axes.join() !== spatialAxes.join()) throw new OnnxImportError(`${label(node)}: a mean over axes [${axes}] is not supported; only over all spatial axes (x.mean([2, 3]) or nn.AdaptiveAvgPool2d(1))`);
          keep = (a.get("keepdims")?.i ?? 1) === 1;
        }
        const oneD = xs.length === 3;
        const final = keep ? out : `${out}::keep`;
        as4d(x, xs, final, oneD, src, (x4, x4s, out4) => {
          const k = [x4s[2]!, x4s[3]!];
          if (op === "GlobalMaxPool") {
            const s = [x4s[0]!, x4s[1]!, 1, 1];
            push({ kind: "maxpool", inputs: [x4], output: out4, pool: { k, strides: [1, 1], pads: [0, 0, 0, 0] }, src }, s);
            return s;
          }
          return avgPool(x4, x4s, out4, k, [1, 1], [0, 0, 0, 0], src, false, node);
        });
        if (!keep) reshape(final, out, xs.slice(0, 2), src);
        continue;
      }
      case "BatchNormalization": {
        rejectAttrs(node, ["epsilon", "momentum", "training_mode", "spatial"]);
        if ((a.get("training_mode")?.i ?? 0) !== 0) throw new OnnxImportError(`${label(node)}: training_mode = 1; export with model.eval()`);
        if (node.output!.length > 1 && node.output!.slice(1).some((s) => s)) throw new OnnxImportError(`${label(node)}: running statistics outputs are used; export with model.eval()`);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const [gm, bt, mean, vr] = [1, 2, 3, 4].map((i) => constOf(ins[i], node, ["", "scale", "bias", "mean", "var"][i]!));
        const eps = a.get("epsilon")?.f ?? 1e-5;
        const C = xs[1]!;
        const scale = Float64Array.from({ length: C }, (_, c) => gm!.data[c]! / Math.sqrt(vr!.data[c]! + eps));
        const shift = Float64Array.from({ length: C }, (_, c) => bt!.data[c]! - mean!.data[c]! * scale[c]!);
        push({ kind: "affine", inputs: [x], output: out, scale, shift, src }, xs);
        continue;
      }
      case "Add":
      case "Sub":
      case "Mul":
      case "Div": {
        rejectAttrs(node, []);
        const [p, q] = [ins[0]!, ins[1]!];
        const f = { Add: (u: number, v: number) => u + v, Sub: (u: number, v: number) => u - v, Mul: (u: number, v: number) => u * v, Div: (u: number, v: number) => u / v }[op]!;
        if (isConst(p) || isConst(q)) {
          const constFirst = isConst(p);
          const c = consts.get(constFirst ? p : q)!;
          const other = constFirst ? q : p;
          const os = shapeOf(other, node);
          if (numel(c.shape) === 1) {
            const k = c.data[0]!;
            const fn = constFirst ? (x: number) => f(k, x) : (x: number) => f(x, k);
            const lin: [number, number] | undefined =
              op === "Add" ? [1, k] : op === "Sub" ? (constFirst ? [-1, k] : [1, -k]) : op === "Mul" ? [k, 0] : constFirst ? undefined : [1 / k, 0];
            const { src: s0, pw } = asPointwise(other);
            act(s0, node);
            setVirtual(out, s0, composePointwise({ fn, linear: lin, desc: `${op.toLowerCase()}(${k})` }, pw), node);
            continue;
          }
          // an additive causal mask (0 on and below the diagonal, -inf above): CausalSoftmax
          if (op === "Add" && c.data.some((v) => v <= -1e4)) {
            const x = act(other, node);
            const cb = broadcastTo(c, os, node);
            if (!cb.data.every((v) => v === 0 || v <= -1e4) || !isCausal(os, (i) => cb.data[i] === 0)) {
              throw new OnnxImportError(`${label(node)}: an additive attention mask must be causal: 0 where a query may attend (key ≤ query) and -inf above the diagonal (nn.Transformer.generate_square_subsequent_mask); padding or other masks are not supported`);
            }
            causal.set(out, x);
            shapes.set(out, os);
            continue;
          }
          const lastVals = lastAxisValues(c, os);
          if (lastVals && !(constFirst && (op === "Sub" || op === "Div"))) {
            // a Linear's bias on a [… , N] activation: into the Gemm
            const gm = op === "Add" || op === "Sub" ? gemmBehind(other) : undefined;
            if (gm) {
              const N = gm.w!.shape[0]!;
              gm.b = { shape: [N], data: Float64Array.from({ length: N }, (_, j) => (gm.b ? gm.b.data[j]! : 0) + (op === "Sub" ? -1 : 1) * lastVals[j]!) };
              gm.src += `+${src}`;
              alias.set(out, other);
              uses.set(other, uses.get(out) ?? 0); // its readers are now the Add's
              continue;
            }
            // a LayerNorm's gain and shift: into the LayerNorm
            const ln = producer(other);
            if (ln?.kind === "layernorm" && (uses.get(other) ?? 0) === 1) {
              const g0 = ln.gamma!, b0 = ln.beta!;
              if (op === "Mul" || op === "Div") {
                const v = op === "Mul" ? lastVals : lastVals.map((u) => 1 / u);
                ln.gamma = g0.map((u, i) => u * v[i]!);
                ln.beta = b0.map((u, i) => u * v[i]!);
              } else ln.beta = b0.map((u, i) => u + (op === "Sub" ? -1 : 1) * lastVals[i]!);
              ln.src += `+${src}`;
              alias.set(out, other);
              uses.set(other, uses.get(out) ?? 0);
              continue;
            }
          }
          // per-channel: a constant broadcast along axis 1 only
          const cs = [...new Array<number>(Math.max(0, os.length - c.shape.length)).fill(1), ...c.shape];
          const C = os[1]!;
          const perChannel = os.length >= 2 && os.length <= 4 && cs.length === os.length && cs.every((d, i) => d === 1 || (i === 1 && d === C));
          if (!perChannel && !(constFirst && (op === "Div" || op === "Sub"))) {
            // any other constant of the activation's shape (a position embedding): an Add/Mul with it as a weight
            const x = act(other, node);
            const cb = broadcastTo(c, os, node);
            const data = op === "Sub" ? cb.data.map((v) => -v) : op === "Div" ? cb.data.map((v) => 1 / v) : cb.data;
            if (!data.every(Number.isFinite)) throw new OnnxImportError(`${label(node)}: the constant operand has non-finite values`);
            push({ kind: op === "Add" || op === "Sub" ? "add" : "mul", inputs: [x], output: out, c: { shape: os, data }, src }, os);
            continue;
          }
          if (!perChannel || (constFirst && op === "Div")) {
            throw new OnnxImportError(
              `${label(node)}: ${op} of an activation [${os}] and a constant of shape [${c.shape}] is not supported (only scalars and per-channel constants, shape [C] for [N, C] or [C, 1, 1] for [N, C, H, W]${constFirst && op === "Div" ? ", and not constant / activation" : ""})`,
            );
          }
          const vals = Float64Array.from({ length: C }, (_, i) => c.data[cs[1] === 1 ? 0 : i]!);
          const one = new Float64Array(C).fill(1), zero = new Float64Array(C);
          const [scale, shift] =
            op === "Add" ? [one, vals] : op === "Sub" ? (constFirst ? [one.map(() => -1), vals] : [one, vals.map((v) => -v)]) : op === "Mul" ? [vals, zero] : [vals.map((v) => 1 / v), zero];
          const x = act(other, node);
          push({ kind: "affine", inputs: [x], output: out, scale, shift, src }, os);
          continue;
        }
        const A = asPointwise(p), B = asPointwise(q);
        if (A.src === B.src) {
          // x * sigmoid(x), x * (1 + erf(x / √2)), …: one table of their common source
          act(A.src, node);
          const fa = A.pw.fn, fb = B.pw.fn;
          setVirtual(out, A.src, { fn: (x) => f(fa(x), fb(x)), desc: `${op.toLowerCase()}(${A.pw.desc}, ${B.pw.desc})` }, node);
          continue;
        }
        const x = act(p, node), y = act(q, node);
        const s0 = shapes.get(x)!, s1 = shapes.get(y)!;
        if (op === "Sub" || op === "Div") throw new OnnxImportError(`unsupported ${op} of two activations (${label(node)}): ${HINTS[op]}`);
        if (s0.join() !== s1.join()) throw new OnnxImportError(`${label(node)}: broadcasting [${s0}] with [${s1}] is not supported (both operands must have the same shape)`);
        push({ kind: op === "Add" ? "add" : "mul", inputs: [x, y], output: out, src }, s0);
        continue;
      }
      case "Concat": {
        // torch.cat of activations: each part placed into the whole by a Linear/1×1 Conv with 0/1 weights, the
        // results summed by Adds (exact in float; in int8 each part is requantized once to the whole's scale)
        rejectAttrs(node, ["axis"]);
        const parts = ins.map((p) => {
          if (isConst(p)) throw new OnnxImportError(`${label(node)}: a Concat of an activation and a constant (${p}) is not supported; add the constant part with an Add of a constant after concatenating zeros, or concatenate outside the model`);
          return act(p, node);
        });
        const ps = parts.map((p) => shapes.get(p)!);
        const r = ps[0]!.length;
        let axis = a.get("axis")?.i ?? 0;
        if (axis < 0) axis += r;
        if (ps.some((t) => t.length !== r || t.some((d, i) => i !== axis && d !== ps[0]![i]))) throw new OnnxImportError(`${label(node)}: parts of shapes ${ps.map((t) => `[${t}]`).join(", ")} do not concatenate along axis ${axis}`);
        const lastAxis = axis === r - 1;
        if (!lastAxis && numel(ps[0]!.slice(0, axis)) !== 1) throw new OnnxImportError(`${label(node)}: a Concat along axis ${axis} of [${ps[0]}] is not supported: ${HINTS.Concat}`);
        if (parts.length === 1) {
          alias.set(out, parts[0]!);
          continue;
        }
        const total = ps.reduce((sum, t) => sum + t[axis]!, 0);
        const outShape = ps[0]!.map((d, i) => (i === axis ? total : d));
        // a middle axis (size-1 axes before it): as the channels of [1, C, rest, 1]
        const rest = numel(ps[0]!.slice(axis + 1));
        const asChannels = !lastAxis && !(r === 4 && axis === 1);
        const sumShape = lastAxis || !asChannels ? outShape : [1, total, rest, 1];
        let offset = 0, sum = "";
        parts.forEach((p, j) => {
          const C = ps[j]![axis]!;
          const w = { shape: lastAxis ? [total, C] : [total, C, 1, 1], data: new Float64Array(total * C) };
          for (let c = 0; c < C; c++) w.data[(offset + c) * C + c] = 1;
          offset += C;
          const placed = `${out}::part${j}`;
          if (lastAxis) linear(p, ps[j]!, w, undefined, placed, src);
          else {
            const p4 = asChannels ? `${out}::in${j}` : p;
            if (asChannels) reshape(p, p4, [1, C, rest, 1], src);
            push({ kind: "conv", inputs: [p4], output: placed, w, conv: { strides: [1, 1], pads: [0, 0, 0, 0], dil: [1, 1], group: 1 }, src }, sumShape);
          }
          if (j === 0) sum = placed;
          else {
            const next = j === parts.length - 1 && !asChannels ? out : `${out}::sum${j}`;
            push({ kind: "add", inputs: [sum, placed], output: next, src }, sumShape);
            sum = next;
          }
        });
        if (asChannels) reshape(sum, out, outShape, src);
        continue;
      }
      case "Softmax":
      case "LogSoftmax": {
        rejectAttrs(node, ["axis"]);
        if (causal.has(ins[0]!)) {
          const x = causal.get(ins[0]!)!;
          const xs = shapes.get(x)!;
          let axis = a.get("axis")?.i ?? (opset >= 13 ? -1 : 1);
          if (axis < 0) axis += xs.length;
          if (op !== "Softmax" || axis !== xs.length - 1) throw new OnnxImportError(`${label(node)}: causally masked scores need a Softmax over the last axis (F.softmax(att, dim=-1))`);
          if (xs[xs.length - 1]! > 32767) throw new OnnxImportError(`${label(node)}: rows of ${xs[xs.length - 1]} exceed CausalSoftmax's 32767`);
          push({ kind: "causalsoftmax", inputs: [x], output: out, src }, xs);
          continue;
        }
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        let axis = a.get("axis")?.i ?? (opset >= 13 ? -1 : 1);
        if (axis < 0) axis += xs.length;
        if (axis !== xs.length - 1 || (opset < 13 && xs.length !== 2)) throw new OnnxImportError(`${label(node)}: only a softmax over the last axis is supported (dim=-1), got axis ${axis} of [${xs}]`);
        if (op === "LogSoftmax") notes.push(`${label(node)}: LogSoftmax imports as Softmax + a ln table: int8 probabilities have a resolution of 1/256, so output values below ln(1/256) ≈ −5.5 read as ln(1/512) ≈ −6.2 (the argmax and the likely classes' values are kept)`);
        push({ kind: op === "Softmax" ? "softmax" : "logsoftmax", inputs: [x], output: out, src }, xs);
        continue;
      }
      case "Reshape":
      case "Flatten":
      case "Squeeze":
      case "Unsqueeze": {
        const x = act(ins[0]!, node, true);
        const xs = shapes.get(x)!;
        let shape: number[];
        if (op === "Flatten") {
          rejectAttrs(node, ["axis"]);
          let axis = a.get("axis")?.i ?? 1;
          if (axis < 0) axis += xs.length;
          shape = [numel(xs.slice(0, axis)), numel(xs.slice(axis))];
        } else if (op === "Reshape") {
          rejectAttrs(node, ["allowzero"]);
          shape = reshapeTarget(xs, Array.from(constOf(ins[1], node, "the target shape").data), (a.get("allowzero")?.i ?? 0) === 1);
        } else {
          const axesT = ins[1] ? constOf(ins[1], node, "the axes") : undefined;
          const folded = foldConstant(op, [{ shape: xs, data: new Float64Array(0) }, axesT], a)!;
          shape = folded.shape;
        }
        if (numel(shape) !== numel(xs) || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new OnnxImportError(`${label(node)}: cannot reshape [${xs}] to [${shape}]`);
        if (shape.length > 6) throw new OnnxImportError(`${label(node)}: rank ${shape.length} exceeds the 6 dimensions of a tensor`);
        reshape(x, out, shape, src);
        continue;
      }
      case "Gather": {
        rejectAttrs(node, ["axis"]);
        const axis0 = a.get("axis")?.i ?? 0;
        if (isConst(ins[0]!)) {
          // an embedding: rows of a constant table picked by token ids
          const table = consts.get(ins[0]!)!;
          const ids = act(ins[1]!, node, true);
          if (!ints.has(ids)) throw new OnnxImportError(`${label(node)}: the indices must be the model's integer input (token ids), not a computed activation`);
          if (table.shape.length !== 2 || (axis0 !== 0 && axis0 !== -2)) throw new OnnxImportError(`${label(node)}: only an embedding lookup (a 2-D table [V, D], axis 0: nn.Embedding) is supported, got a [${table.shape}] table on axis ${axis0}`);
          const is = shapes.get(ids)!;
          if (is.length > 5) throw new OnnxImportError(`${label(node)}: token ids of rank ${is.length} (at most 5)`);
          push({ kind: "gather", inputs: [ids], output: out, w: { shape: table.shape, data: table.data }, src }, [...is, table.shape[1]!]);
          continue;
        }
        // constant indices into an activation (x[:, -1, :], x[0]): a Slice (+ a Reshape dropping the axis)
        const x = act(ins[0]!, node, true);
        const xs = shapes.get(x)!;
        const idx = constOf(ins[1], node, "the indices");
        const axis = axis0 < 0 ? axis0 + xs.length : axis0;
        const picks = Array.from(idx.data, (v) => (v < 0 ? v + xs[axis]! : v));
        if (picks.some((v, i) => v !== picks[0]! + i) || picks.some((v) => v < 0 || v >= xs[axis]!) || idx.shape.length > 1) {
          throw new OnnxImportError(`${label(node)}: indexing an activation is supported with a constant scalar or a contiguous ascending range (x[:, -1], x[:, 2:5]), got [${picks}]`);
        }
        const sliced = idx.shape.length === 0 ? `${out}::slice` : out;
        slice(x, sliced, axis, picks[0]!, picks.length, src);
        if (idx.shape.length === 0) {
          const t = name(sliced);
          reshape(t, out, xs.filter((_, i) => i !== axis), src);
        }
        continue;
      }
      case "Transpose": {
        rejectAttrs(node, ["perm"]);
        const x = act(ins[0]!, node, true);
        const xs = shapes.get(x)!;
        const perm = a.get("perm")?.ints?.length ? a.get("perm")!.ints! : xs.map((_, i) => xs.length - 1 - i);
        const os = perm.map((p) => xs[p]!);
        // moving only size-1 axes keeps the data order: a Reshape
        const moved = perm.filter((p) => xs[p] !== 1);
        if (moved.every((p, i) => i === 0 || p > moved[i - 1]!)) {
          reshape(x, out, os, src);
          continue;
        }
        push({ kind: "transpose", inputs: [x], output: out, perm, src }, os);
        if (ints.has(x)) ints.add(out);
        continue;
      }
      case "Split": {
        rejectAttrs(node, ["axis", "split"]);
        const x = act(ins[0]!, node, true);
        const xs = shapes.get(x)!;
        const ax0 = a.get("axis")?.i ?? 0;
        const axis = ax0 < 0 ? ax0 + xs.length : ax0;
        const outs = node.output ?? [];
        const sizes = ins[1] ? Array.from(constOf(ins[1], node, "the split sizes").data) : a.get("split")?.ints?.length ? a.get("split")!.ints! : outs.map(() => xs[axis]! / outs.length);
        if (sizes.length !== outs.length || sizes.some((v) => !Number.isInteger(v) || v < 1) || sizes.reduce((p, v) => p + v, 0) !== xs[axis]) throw new OnnxImportError(`${label(node)}: split sizes [${sizes}] do not divide axis ${axis} of [${xs}]`);
        let start = 0;
        outs.forEach((o, i) => {
          if (o) slice(x, o, axis, start, sizes[i]!, `${src}:${i}`);
          start += sizes[i]!;
        });
        continue;
      }
      case "Slice": {
        const x = act(ins[0]!, node, true);
        const xs = shapes.get(x)!;
        const arr = (i: number, attr: string, dflt?: number[]) => (ins[i] ? Array.from(constOf(ins[i], node, attr).data) : a.get(attr)?.ints?.length ? a.get(attr)!.ints! : dflt);
        const starts = arr(1, "starts")!, ends = arr(2, "ends")!;
        const axes = arr(3, "axes", starts.map((_, i) => i))!.map((v) => (v < 0 ? v + xs.length : v));
        const steps = arr(4, "steps", starts.map(() => 1))!;
        let cur = x;
        axes.forEach((axis, i) => {
          if (steps[i] !== 1) throw new OnnxImportError(`${label(node)}: only step 1 slices of an activation are supported (x[:, a:b]), got step ${steps[i]}`);
          const dim = xs[axis]!;
          const clampI = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
          const s0 = clampI(starts[i]!), e0 = clampI(ends[i]!);
          const o = i === axes.length - 1 ? out : `${out}::ax${axis}`;
          slice(cur, o, axis, s0, e0 - s0, src);
          cur = name(o);
        });
        continue;
      }
      case "Where": {
        // masked_fill(mask, -inf) with a constant causal mask: CausalSoftmax
        const [cond, tv, fv] = [ins[0]!, ins[1]!, ins[2]!];
        const fillFirst = isConst(tv) && !isConst(fv);
        const fill = consts.get(fillFirst ? tv : fv);
        const other = fillFirst ? fv : tv;
        if (!isConst(cond) || !fill || isConst(other) || numel(fill.shape) !== 1 || fill.data[0]! > -1e4) {
          throw new OnnxImportError(`${label(node)}: Where on activations is supported only as a causal attention mask (att.masked_fill(mask == 0, float('-inf')) with a constant lower-triangular mask)`);
        }
        const x = act(other, node);
        const xs = shapes.get(x)!;
        const cb = broadcastTo(consts.get(cond)!, xs, node);
        // fillFirst: where(cond, -inf, x): cond marks the masked positions
        if (!isCausal(xs, (i) => (cb.data[i] !== 0) !== fillFirst)) throw new OnnxImportError(`${label(node)}: the attention mask is not causal (a query attends to keys at or before its position only); other masks are not supported`);
        causal.set(out, x);
        shapes.set(out, xs);
        continue;
      }
      case "LayerNormalization": {
        rejectAttrs(node, ["axis", "epsilon", "stash_type"]);
        if (node.output!.slice(1).some((o) => o && (uses.get(o) ?? 0) > 0)) throw new OnnxImportError(`${label(node)}: its Mean/InvStdDev outputs are used; only the normalized output is supported`);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const ax0 = a.get("axis")?.i ?? -1;
        if ((ax0 < 0 ? ax0 + xs.length : ax0) !== xs.length - 1) throw new OnnxImportError(`${label(node)}: a LayerNorm over more than the last axis (normalized_shape of rank > 1) is not supported`);
        const D = xs[xs.length - 1]!;
        const gm = ins[1] ? lastAxisValues(constOf(ins[1], node, "the scale"), xs) : new Float64Array(D).fill(1);
        const bt = ins[2] ? lastAxisValues(constOf(ins[2], node, "the bias"), xs) : new Float64Array(D);
        if (!gm || !bt) throw new OnnxImportError(`${label(node)}: scale and bias must have shape [${D}]`);
        push({ kind: "layernorm", inputs: [x], output: out, gamma: gm, beta: bt, eps: a.get("epsilon")?.f ?? 1e-5, src }, xs);
        continue;
      }
      case "ArgMax": {
        // greedy decoding's next token: the ArgMax op (int32 indices, the first maximum)
        rejectAttrs(node, ["axis", "keepdims", "select_last_index"]);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const ax0 = a.get("axis")?.i ?? 0;
        if ((ax0 < 0 ? ax0 + xs.length : ax0) !== xs.length - 1 || (a.get("select_last_index")?.i ?? 0) !== 0) throw new OnnxImportError(`${label(node)}: ${HINTS.ArgMax}`);
        if (out !== outName) throw new OnnxImportError(`${label(node)}: an ArgMax must be the model's output (its indices are integers)`);
        const keep = (a.get("keepdims")?.i ?? 1) === 1;
        const kept = [...xs.slice(0, -1), 1];
        push({ kind: "argmax", inputs: [x], output: keep ? out : `${out}::keep`, src }, kept);
        if (!keep) reshape(`${out}::keep`, out, xs.slice(0, -1).length ? xs.slice(0, -1) : [1], src);
        ints.add(out);
        continue;
      }
      case "Pad": {
        rejectAttrs(node, ["mode", "pads", "value"]);
        if ((a.get("mode")?.s ?? "constant") !== "constant") throw new OnnxImportError(`${label(node)}: ${a.get("mode")?.s} padding is not supported (only zero padding: padding_mode='zeros')`);
        const x = act(ins[0]!, node);
        const xs = shapes.get(x)!;
        const pads = ins[1] ? Array.from(constOf(ins[1], node, "the pads").data) : a.get("pads")!.ints!;
        const value = ins[2] ? constOf(ins[2], node, "the pad value").data[0]! : (a.get("value")?.f ?? 0);
        if (value !== 0) throw new OnnxImportError(`${label(node)}: padding with ${value} is not supported (only 0)`);
        const r = xs.length;
        if ((r !== 3 && r !== 4) || pads[0] || pads[1] || pads[r] || pads[r + 1] || pads.some((p) => p < 0)) throw new OnnxImportError(`${label(node)}: only non-negative zero padding of the spatial axes of a 3-D or 4-D tensor is supported, pads [${pads}]`);
        const p4 = r === 4 ? [pads[2]!, pads[3]!, pads[6]!, pads[7]!] : [0, pads[2]!, 0, pads[5]!];
        as4d(x, xs, out, r === 3, src, (x4, x4s, out4) => {
          const s = [x4s[0]!, x4s[1]!, x4s[2]! + p4[0]! + p4[2]!, x4s[3]! + p4[1]! + p4[3]!];
          push({ kind: "pad", inputs: [x4], output: out4, pads: p4, src }, s);
          return s;
        });
        continue;
      }
      default: {
        const hint = HINTS[op] ?? `rewrite that part of the model with the supported layers (see docs/byo-model.md for the ONNX ops each PyTorch layer exports and which import)`;
        throw new OnnxImportError(`unsupported ONNX op ${op} (node ${src}): ${hint}. Supported: ${SUPPORTED_ONNX_OPS.join(", ")}`);
      }
    }
  }
  outName = name(outName);
  if (consts.has(outName)) throw new OnnxImportError(`the graph output ${outName} is a constant`);
  act(outName, { opType: "output", name: outName } as OnnxNode, ints.has(outName) && outName !== inName);
  return { inName, inShape, ops, shapes, outName, notes, intInput };
}

// ---------------------------------------------------------------- folding passes

/** Folds clamps, affine ops, pads and reshapes into their neighbours until nothing changes. */
function fuse(ops: FloatOp[], shapes: Map<string, number[]>, outName: string): { ops: FloatOp[]; outName: string } {
  let out = outName;
  const uses = (n: string) => ops.filter((o) => o.inputs.includes(n)).length + (n === out ? 1 : 0);
  const producer = (n: string) => ops.find((o) => o.output === n);
  const soleConsumer = (n: string) => {
    if (n === out) return undefined;
    const c = ops.filter((o) => o.inputs.includes(n));
    return c.length === 1 && c[0]!.inputs.filter((i) => i === n).length === 1 ? c[0] : undefined;
  };
  const remove = (op: FloatOp) => ops.splice(ops.indexOf(op), 1);
  /**
   * `p` (which commutes with `q`) moves before it: `p` reads `q`'s inputs and writes a new tensor of shape
   * `preShape`, which `q` reads to write what `p` wrote.
   */
  const hoist = (p: FloatOp, q: FloatOp, preShape: number[]) => {
    const pre = `${p.output}::pre`;
    shapes.set(pre, preShape);
    p.inputs = [...q.inputs];
    const out2 = p.output;
    p.output = pre;
    q.inputs = [pre];
    q.output = out2;
    remove(p);
    ops.splice(ops.indexOf(q), 0, p);
  };
  /** drop `op` (element-wise, its input now holds its value) */
  const bypass = (op: FloatOp, into: string) => {
    remove(op);
    for (const o of ops) o.inputs = o.inputs.map((i) => (i === op.output ? into : i));
    if (out === op.output) out = into;
  };
  const affineOut = (q: FloatOp, scale: (c: number) => number, shift: (c: number) => number) => {
    const w = q.w!;
    const N = w.shape[0]!, per = numel(w.shape.slice(1));
    const data = w.data.slice();
    for (let j = 0; j < N; j++) for (let i = 0; i < per; i++) data[j * per + i]! *= scale(j);
    q.w = { shape: w.shape, data };
    q.b = { shape: [N], data: Float64Array.from({ length: N }, (_, j) => scale(j) * (q.b ? q.b.data[j]! : 0) + shift(j)) };
  };
  /** input-side affine x' = s[c]·x + t[c] folded into the op reading x' (no padding) */
  const affineIn = (r: FloatOp, scale: (c: number) => number, shift: (c: number) => number) => {
    const w = r.w!;
    const N = w.shape[0]!;
    const data = w.data.slice();
    const bias = Float64Array.from({ length: N }, (_, j) => (r.b ? r.b.data[j]! : 0));
    if (r.kind === "gemm") {
      const K = w.shape[1]!;
      for (let j = 0; j < N; j++)
        for (let k = 0; k < K; k++) {
          bias[j]! += w.data[j * K + k]! * shift(k);
          data[j * K + k]! *= scale(k);
        }
    } else {
      const [, Cg, KH, KW] = w.shape as [number, number, number, number];
      const Og = N / r.conv!.group;
      for (let o = 0; o < N; o++)
        for (let c = 0; c < Cg; c++) {
          const cin = Math.floor(o / Og) * Cg + c;
          for (let i = 0; i < KH * KW; i++) {
            const at = (o * Cg + c) * KH * KW + i;
            bias[o]! += w.data[at]! * shift(cin);
            data[at]! *= scale(cin);
          }
        }
    }
    r.w = { shape: w.shape, data };
    r.b = { shape: [N], data: bias };
  };
  const affineOf = (p: FloatOp): [(c: number) => number, (c: number) => number] | undefined =>
    p.kind === "affine" ? [(c) => p.scale![c]!, (c) => p.shift![c]!] : p.kind === "pointwise" && p.pw!.linear ? [() => p.pw!.linear![0], () => p.pw!.linear![1]] : undefined;

  // a fused projection split along its outputs (qkv = Linear(d, 3d) then split(d, dim=-1)): one Gemm
  // per part, each with its own output scale (and no Slice nodes)
  for (const g of [...ops]) {
    if (g.kind !== "gemm" || g.clamp) continue;
    const r = soleConsumer(g.output);
    // through a Reshape that only splits the rows ([T, N] → [1, T, N])
    const viaReshape = r?.kind === "reshape" && r.shape!.at(-1) === g.w!.shape[0] ? r : undefined;
    const t = viaReshape ? viaReshape.output : g.output;
    if (t === out) continue;
    const parts = ops.filter((o) => o.inputs.includes(t));
    const rank = shapes.get(t)!.length;
    if (parts.length < 2 || !parts.every((o) => o.kind === "slice" && o.axis === rank - 1)) continue;
    const [N, K] = g.w!.shape as [number, number];
    for (const sl of parts) {
      const len = shapes.get(sl.output)!.at(-1)!, st = sl.start!;
      const w = { shape: [len, K], data: g.w!.data.slice(st * K, (st + len) * K) };
      const b = g.b ? { shape: [len], data: g.b.data.slice(st, st + len) } : undefined;
      const M = shapes.get(g.output)![0]!;
      const part: FloatOp = { kind: "gemm", inputs: [...g.inputs], output: viaReshape ? `${sl.output}::mm` : sl.output, w, b, src: sl.src.replace(/:\d+$/, "") + `(${g.src})` };
      shapes.set(part.output, [M, len]);
      const at = ops.indexOf(sl);
      ops.splice(at, 1, part);
      if (viaReshape) ops.splice(at + 1, 0, { kind: "reshape", inputs: [part.output], output: sl.output, shape: shapes.get(sl.output)!, src: sl.src });
    }
    void N;
    remove(g);
    if (viaReshape) remove(viaReshape);
  }

  let changed = true;
  while (changed) {
    changed = false;
    for (const p of [...ops]) {
      if (!ops.includes(p)) continue;
      const q = producer(p.inputs[0]!);
      const qSole = q && soleConsumer(q.output) === p;
      // identities
      if (
        (p.kind === "pointwise" && p.pw!.clamp?.[0] === -Infinity && p.pw!.clamp[1] === Infinity) ||
        (p.kind === "reshape" && shapes.get(p.inputs[0]!)!.join() === p.shape!.join()) ||
        (p.kind === "transpose" && p.perm!.every((v, i) => v === i))
      ) {
        bypass(p, p.inputs[0]!);
        changed = true;
        continue;
      }
      if (q && qSole) {
        const affine = q.kind === "gemm" || q.kind === "conv";
        if (affine && p.kind === "pointwise" && p.pw!.clamp) {
          const [lo, hi] = p.pw!.clamp;
          q.clamp = q.clamp ? [Math.max(q.clamp[0], lo), Math.min(q.clamp[1], hi)] : [lo, hi];
          q.src += `+${p.src}`;
          bypass(p, q.output);
          changed = true;
          continue;
        }
        const af = affineOf(p);
        if (affine && af && (!q.clamp || (p.kind === "pointwise" && p.pw!.linear![0] !== 0))) {
          if (q.clamp) {
            const [a0, b0] = p.pw!.linear!;
            const ends = [a0 * q.clamp[0] + b0, a0 * q.clamp[1] + b0].map((v) => (Number.isNaN(v) ? 0 : v));
            q.clamp = [Math.min(...ends), Math.max(...ends)];
          }
          affineOut(q, af[0], af[1]);
          q.src += `+${p.src}`;
          bypass(p, q.output);
          changed = true;
          continue;
        }
        const lin = p.kind === "pointwise" ? p.pw!.linear : undefined;
        if (q.kind === "matmul" && lin && lin[1] === 0 && lin[0] > 0) {
          // a scale after q·kᵀ (1/sqrt(d)): into the MatMul's multiplier
          q.alpha = (q.alpha ?? 1) * lin[0];
          q.src += `+${p.src}`;
          bypass(p, q.output);
          changed = true;
          continue;
        }
        if (q.kind === "layernorm" && lin) {
          q.gamma = q.gamma!.map((g) => g * lin[0]);
          q.beta = q.beta!.map((b) => b * lin[0] + lin[1]);
          q.src += `+${p.src}`;
          bypass(p, q.output);
          changed = true;
          continue;
        }
        if (p.kind === "causalsoftmax" && q.kind === "reshape" && shapes.get(q.inputs[0]!)!.length >= 2 && shapes.get(q.inputs[0]!)!.slice(-2).join() === shapes.get(p.output)!.slice(-2).join()) {
          // row-wise over the last two axes: commutes with a reshape of the leading ones
          hoist(p, q, shapes.get(q.inputs[0]!)!);
          changed = true;
          continue;
        }
        if (p.kind === "slice" && p.axis! < shapes.get(p.inputs[0]!)!.length - 1 && (q.kind === "layernorm" || q.kind === "pointwise")) {
          // a slice of rows commutes with a row-wise op: compute only the rows kept (x[:, -1] after the final LayerNorm)
          const s0 = [...shapes.get(q.inputs[0]!)!];
          s0[p.axis!] = shapes.get(p.output)![p.axis!]!;
          hoist(p, q, s0);
          changed = true;
          continue;
        }
        if (p.kind === "slice" && q.kind === "reshape" && p.axis! < shapes.get(p.inputs[0]!)!.length - 1) {
          // a slice of rows of a rank-3 Linear's output ([1, T, N] = reshape of Gemm [T, N] of reshape of [1, T, K]):
          // slice the Linear's input instead, and run the Gemm on the kept rows only
          const g = producer(q.inputs[0]!), r0 = g?.kind === "gemm" ? producer(g.inputs[0]!) : undefined;
          const ys = shapes.get(q.output)!, xs0 = r0?.kind === "reshape" ? shapes.get(r0.inputs[0]!)! : undefined;
          if (g && r0 && xs0 && soleConsumer(g.output) === q && soleConsumer(r0.output) === g && xs0.length === ys.length && xs0.slice(0, -1).join() === ys.slice(0, -1).join()) {
            const kept = shapes.get(p.output)!;
            const xsK = [...xs0];
            xsK[p.axis!] = kept[p.axis!]!;
            const rows = numel(kept.slice(0, -1));
            shapes.set(`${p.output}::x`, xsK);
            shapes.set(`${p.output}::x2d`, [rows, xs0.at(-1)!]);
            shapes.set(`${p.output}::mm`, [rows, ys.at(-1)!]);
            const at = ops.indexOf(r0);
            const xSlice: FloatOp = { kind: "slice", inputs: [r0.inputs[0]!], output: `${p.output}::x`, axis: p.axis, start: p.start, src: p.src };
            const x2d: FloatOp = { kind: "reshape", inputs: [xSlice.output], output: `${p.output}::x2d`, shape: [rows, xs0.at(-1)!], src: r0.src };
            const gemm: FloatOp = { ...g, inputs: [x2d.output], output: `${p.output}::mm` };
            const back: FloatOp = { kind: "reshape", inputs: [gemm.output], output: p.output, shape: kept, src: q.src };
            for (const o of [r0, g, q, p]) remove(o);
            ops.splice(at, 0, xSlice, x2d, gemm, back);
            changed = true;
            continue;
          }
        }
        if (p.kind === "transpose" && q.kind === "transpose") {
          p.perm = p.perm!.map((i) => q.perm![i]!);
          p.inputs = [...q.inputs];
          p.src = `${q.src}+${p.src}`;
          remove(q);
          changed = true;
          continue;
        }
        if (p.kind === "pointwise" && q.kind === "pointwise") {
          p.pw = composePointwise(p.pw!, q.pw!);
          p.inputs = [...q.inputs];
          p.src = `${q.src}+${p.src}`;
          remove(q);
          changed = true;
          continue;
        }
        if (p.kind === "pointwise" && (q.kind === "reshape" || q.kind === "transpose")) {
          // element-wise commutes with a reshape or a transpose: move it before, where it may fold into a Conv/Gemm
          hoist(p, q, shapes.get(q.inputs[0]!)!);
          changed = true;
          continue;
        }
        if (p.kind === "reshape" && q.kind === "reshape") {
          p.inputs = [...q.inputs];
          remove(q);
          changed = true;
          continue;
        }
      }
      if (p.kind === "matmul") {
        // a scale of an operand (q / sqrt(d)), possibly before Reshapes/Transposes: into the multiplier
        let folded = false;
        for (const inp of p.inputs) {
          let t = inp, via = producer(t);
          while (via && (via.kind === "reshape" || via.kind === "transpose") && soleConsumer(via.output)) {
            t = via.inputs[0]!;
            via = producer(t);
          }
          const lin = via?.kind === "pointwise" ? via.pw!.linear : undefined;
          if (via && lin && lin[1] === 0 && lin[0] > 0 && soleConsumer(via.output)) {
            p.alpha = (p.alpha ?? 1) * lin[0];
            p.src += `+${via.src}`;
            bypass(via, via.inputs[0]!);
            folded = true;
            break;
          }
        }
        if (folded) {
          changed = true;
          continue;
        }
      }
      // forward: into the single op that reads p
      const r = soleConsumer(p.output);
      const af = affineOf(p);
      const noPads = (o: FloatOp) => o.kind === "gemm" || (o.kind === "conv" && o.conv!.pads.every((v) => v === 0));
      if (r && af && noPads(r) && (p.kind === "pointwise" || r.kind === "conv" || shapes.get(p.inputs[0]!)!.length === 2)) {
        affineIn(r, af[0], af[1]);
        r.inputs = [...p.inputs];
        r.src = `${p.src}+${r.src}`;
        remove(p);
        changed = true;
        continue;
      }
      if (r && p.kind === "pad" && r.kind === "conv") {
        const pd = r.conv!.pads;
        r.conv!.pads = pd.map((v, i) => v + p.pads![i]!);
        r.inputs = [...p.inputs];
        r.src = `${p.src}+${r.src}`;
        remove(p);
        changed = true;
        continue;
      }
    }
  }
  void uses;
  // what is left: affine ops as a depthwise 1x1 Conv (reshaped for [N, C] and [N, C, L])
  const result: FloatOp[] = [];
  for (const op of ops) {
    if (op.kind === "pad") throw new OnnxImportError(`Pad node ${op.src}: zero padding is only supported right before a Conv or an AvgPool (nn.ZeroPad2d / F.pad elsewhere are not)`);
    if (op.kind !== "affine") {
      result.push(op);
      continue;
    }
    const xs = shapes.get(op.inputs[0]!)!;
    const C = xs[1]!;
    const conv: FloatOp = {
      kind: "conv",
      inputs: [op.inputs[0]!],
      output: op.output,
      src: op.src,
      w: { shape: [C, 1, 1, 1], data: op.scale! },
      b: { shape: [C], data: op.shift! },
      conv: { strides: [1, 1], pads: [0, 0, 0, 0], dil: [1, 1], group: C },
    };
    if (xs.length === 4) {
      result.push(conv);
      continue;
    }
    const x4 = [xs[0]!, C, 1, numel(xs.slice(2))];
    result.push({ kind: "reshape", inputs: [op.inputs[0]!], output: `${op.output}::in4d`, shape: x4, src: op.src });
    shapes.set(`${op.output}::in4d`, x4);
    conv.inputs = [`${op.output}::in4d`];
    conv.output = `${op.output}::4d`;
    shapes.set(conv.output, x4);
    result.push(conv, { kind: "reshape", inputs: [conv.output], output: op.output, shape: xs, src: op.src });
  }
  return { ops: result, outName: out };
}

// ---------------------------------------------------------------- calibration and quantization

/** The quantile of the calibration samples' own extremes that a tensor's range always covers. */
const SAMPLE_EXTREME_QUANTILE = 0.9;

/**
 * Per-tensor calibration values (subsampled to a bound) and each sample's extremes. The range at a
 * percentile p is the wider of the pooled values' p-th percentile and the 90th percentile of the
 * samples' extremes (their 10th for the minimum).
 */
class RangeStats {
  private readonly vals = new Map<string, { kept: number[]; mins: number[]; maxs: number[] }>();
  constructor(private readonly stride: Map<string, number>) {}
  add(name: string, v: Float64Array): void {
    let s = this.vals.get(name);
    if (!s) this.vals.set(name, (s = { kept: [], mins: [], maxs: [] }));
    const st = this.stride.get(name) ?? 1;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (i % st === 0) s.kept.push(x);
    }
    s.mins.push(lo);
    s.maxs.push(hi);
  }
  range(name: string, percentile: number): [number, number] {
    const s = this.vals.get(name)!;
    if (percentile >= 100 || s.kept.length < 100) return [s.mins.reduce((a, b) => Math.min(a, b)), s.maxs.reduce((a, b) => Math.max(a, b))];
    const sorted = Float64Array.from(s.kept).sort();
    const at = (a: Float64Array, p: number) => a[Math.min(a.length - 1, Math.max(0, Math.round(p * (a.length - 1))))]!;
    // values beyond the pooled percentile are still kept when at least 1 sample in 10 reaches them:
    // a feature the model carries in every input (a transformer's outlier channels), not one odd sample
    const mins = Float64Array.from(s.mins).sort(), maxs = Float64Array.from(s.maxs).sort();
    return [Math.min(at(sorted, 1 - percentile / 100), at(mins, 1 - SAMPLE_EXTREME_QUANTILE)), Math.max(at(sorted, percentile / 100), at(maxs, SAMPLE_EXTREME_QUANTILE))];
  }
}

/**
 * The input's parameters: per channel (axis 1) when every op reading the input can take them
 * (Gemm, Conv without padding), every channel varies over the calibration set and their ranges
 * differ by 4x or more (tabular features in different units: one int8 scale would flatten the
 * small ones to a few levels).
 */
function inputParams(inName: string, inShape: number[], ops: FloatOp[], calibration: readonly number[][], whole: QuantParams, percentile: number): QuantParams {
  const C = inShape[1] ?? 1;
  const readers = ops.filter((o) => o.inputs.includes(inName));
  if (inShape.length < 2 || C < 2 || !readers.every((o) => o.kind === "gemm" || (o.kind === "conv" && o.conv!.pads.every((p) => p === 0)))) return whole;
  const inner = numel(inShape.slice(2));
  const ranges = Array.from({ length: C }, (_, c) => {
    const v: number[] = [];
    for (const s of calibration) for (let i = c * inner; i < (c + 1) * inner; i++) v.push(s[i]!);
    v.sort((a, b) => a - b);
    const at = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))]!;
    return v.length >= 100 && percentile < 100 ? [at(1 - percentile / 100), at(percentile / 100)] : [v[0]!, v[v.length - 1]!];
  });
  // a channel constant over the calibration set (an image's border pixel flattened) says nothing of
  // its range: per-tensor then. Otherwise each range widened by 5% for values beyond the calibration's.
  if (ranges.some(([lo, hi]) => !(hi! > lo!))) return whole;
  const params = ranges.map(([lo, hi]) => rangeParams(lo! - 0.05 * (hi! - lo!), hi! + 0.05 * (hi! - lo!)));
  const scales = params.map((p) => p.scale);
  if (Math.max(...scales) < 4 * Math.min(...scales)) return whole;
  return { ...whole, channelScales: scales, channelZeroPoints: params.map((p) => p.zeroPoint) };
}

const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};

/** Largest |value| a calibration sample may hold: beyond it the data is not a model input (a unit or parse mistake). */
/**
 * The note for a model whose input the registry refuses (§1.3: above MAX_INPUT_BYTES, or a text model's context
 * above one chunk; `registerModel` reverts ModelInputTooLarge), or undefined when it fits.
 */
export function inputLimitNote(spec: Pick<ModelSpec, "input" | "inputMode">): string | undefined {
  const values = spec.input.shape.reduce((a, b) => a * b, 1);
  const bytes = values * elementSize(spec.input.dtype);
  const max = maxInputBytes(spec);
  if (bytes <= max) return undefined;
  const limit = `the registry accepts at most ${max} (${max / CHUNK_BYTES} ${max === CHUNK_BYTES ? "chunk" : "chunks"}), so registerModel reverts with ModelInputTooLarge`;
  if (isTextModel(spec)) return `the text model's context is ${bytes} bytes: ${limit}; use a shorter context`;
  return `the input has ${bytes} bytes (${values} ${dtypeName(spec.input.dtype)} values): ${limit}; shrink the input`;
}

export const MAX_CALIBRATION_MAGNITUDE = 1e6;

/**
 * Checks calibration (or input) samples: at least one, all of one length, every element a finite number with
 * |x| ≤ 1e6. Throws naming the sample index, the element index and the offending value.
 */
export function checkSamples(samples: readonly (readonly unknown[])[]): void {
  if (samples.length === 0) throw new OnnxImportError("no samples: at least one is needed");
  const length = samples[0]!.length;
  samples.forEach((s, i) => {
    if (s.length !== length) throw new OnnxImportError(`sample ${i} has ${s.length} values but sample 0 has ${length}: every sample must have the model input's length`);
    s.forEach((v, j) => {
      const shown = typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)).slice(0, 40);
      if (typeof v !== "number") throw new OnnxImportError(`sample ${i}, element ${j}: ${shown} is not a number`);
      if (!Number.isFinite(v)) throw new OnnxImportError(`sample ${i}, element ${j}: ${shown} is not finite`);
      if (Math.abs(v) > MAX_CALIBRATION_MAGNITUDE) throw new OnnxImportError(`sample ${i}, element ${j}: ${shown} is beyond ±1e6 (absurd for a model input: check the data's units and parsing)`);
    });
  });
}

/** Imports an ONNX model, quantizing post-training from calibration samples (flat arrays in the input layout). */
/** The importer's float program of an ONNX graph: its ops after constant folding and pattern matching (float.ts). */
export function floatProgram(bytes: Uint8Array) {
  const mapped = mapGraph(bytes);
  const { ops, outName } = fuse(mapped.ops, mapped.shapes, mapped.outName);
  return { ...mapped, ops, outName };
}

/**
 * The activation ranges the importer quantizes with, from the float program's values on the calibration
 * samples: per tensor its `percentile` range (the pooled values, widened to what 1 sample in 10 reaches), and
 * min/max for the output, the inputs of Softmax/LogSoftmax/CausalSoftmax/LayerNorm, residual sums and the
 * branches added into them (each back through its Reshapes/Transposes/Slices). Also each sample's float output.
 */
export function calibrationRanges(
  program: Pick<ReturnType<typeof floatProgram>, "ops" | "shapes" | "inName" | "outName">,
  calibration: readonly number[][],
  percentile: number,
): { range: (name: string) => [number, number]; floatOutputs: Float64Array[] } {
  const { ops, shapes, inName, outName } = program;
  const stride = new Map<string, number>();
  for (const [n, s] of shapes) stride.set(n, Math.max(1, Math.ceil((numel(s) * calibration.length) / 200_000)));
  const stats = new RangeStats(stride);
  const floatOutputs: Float64Array[] = [];
  for (const s of calibration) {
    const vals = runFloat(ops, shapes, inName, Float64Array.from(s));
    for (const [k, v] of vals) stats.add(k, v);
    floatOutputs.push(vals.get(outName)!);
  }
  // the output is not clipped (a rank-3 Linear's Gemm before its Reshape included: below)
  const noClip = new Set<string>([outName]);
  for (const op of ops) if (op.kind === "softmax" || op.kind === "logsoftmax" || op.kind === "causalsoftmax" || op.kind === "layernorm") noClip.add(op.inputs[0]!);
  // a residual stream (the sum of two activations) is not clipped, nor are the branches added
  // into it: a transformer carries a few outlier features there (values 4x the 99.99th percentile
  // in a handful of channels), and clipping them changes what every later layer reads
  for (const op of ops) if (op.kind === "add" && !op.c) for (const t of [op.output, ...op.inputs]) noClip.add(t);
  // a tensor's range is that of the op before its Reshapes/Transposes/Slices
  for (const t0 of [...noClip])
    for (let t = t0, p = ops.find((o) => o.output === t); p && (p.kind === "reshape" || p.kind === "transpose" || p.kind === "slice"); p = ops.find((o) => o.output === t)) {
      t = p.inputs[0]!;
      noClip.add(t);
    }
  return { range: (n: string): [number, number] => stats.range(n, noClip.has(n) ? 100 : percentile), floatOutputs };
}

export function importOnnx(bytes: Uint8Array, calibration: readonly number[][], opts: ImportOptions = {}): ImportedModel {
  const program = floatProgram(bytes);
  const { inName, inShape, shapes, notes, ops, outName, intInput } = program;
  if (ops.length === 0) throw new OnnxImportError("the graph computes nothing (its output is its input)");
  if (calibration.length === 0) throw new OnnxImportError("calibration needs at least one sample");
  checkSamples(calibration);
  const want = numel(inShape);
  calibration.forEach((s, i) => {
    if (s.length !== want) throw new OnnxImportError(`calibration sample ${i} has ${s.length} values, the model input [${inShape}] takes ${want}`);
  });
  if (intInput) calibration.forEach((s, i) => {
    if (s.some((v) => !Number.isInteger(v))) throw new OnnxImportError(`calibration sample ${i}: the model takes integer token ids, got a non-integer value`);
  });
  const inputNote = inputLimitNote({ input: { dtype: intInput ? DType.int32 : DType.int8, shape: inShape } });
  if (inputNote !== undefined) notes.push(inputNote);
  const percentile = opts.clipPercentile ?? 99.99;
  // activation ranges
  const { range, floatOutputs } = calibrationRanges(program, calibration, percentile);
  const wide = wideTensors(ops, outName);
  // a language model's logits (token ids in, a clamp-free Gemm behind Reshapes out): int32 at the
  // accumulator's scale, so no two logits tie at the maximum by rounding to 256 levels
  let logits: string | undefined = outName;
  for (let p = ops.find((o) => o.output === logits); p?.kind === "reshape"; p = ops.find((o) => o.output === logits)) logits = p.inputs[0]!;
  const head = ops.find((o) => o.output === logits);
  if (!intInput || head?.kind !== "gemm" || head.clamp) logits = undefined;

  const q = new Map<string, QuantParams>();
  const ref = new Map<string, number>([[inName, inputSlot()]]);
  q.set(inName, intInput ? { scale: 1, zeroPoint: 0 } : inputParams(inName, inShape, ops, calibration, rangeParams(...range(inName)), percentile));
  const dtypes = new Map<string, DType>([[inName, intInput ? DType.int32 : DType.int8]]);
  const weights: Tensor[] = [];
  /** a weight slot for `t`, shared with an identical earlier weight (a tied embedding and head) */
  const addWeight = (t: Tensor): number => {
    const j = weights.findIndex((w) => w.dtype === t.dtype && w.shape.join() === t.shape.join() && w.data.every((v, i) => v === t.data[i]));
    if (j >= 0) return weightSlot(j);
    weights.push(t);
    return weightSlot(weights.length - 1);
  };
  const nodes: NodeDesc[] = [];
  /** per node: the float tensor it computes (undefined: an internal step), its source, its input tensors */
  const info: { tensor?: string; src: string; inputs: string[]; kind: FloatOp["kind"] }[] = [];
  const push = (node: NodeDesc, out: string | undefined, params: QuantParams, op: FloatOp) => {
    nodes.push(node);
    info.push({ tensor: out, src: op.src, inputs: op.inputs, kind: op.kind });
    if (out !== undefined) dtypes.set(out, node.outDtype);
    if (out !== undefined) {
      ref.set(out, nodeSlot(nodes.length));
      q.set(out, params);
    }
  };
  const clampQ = (c: [number, number] | undefined, y: QuantParams): [number, number] =>
    c ? [c[0] === -Infinity ? -128 : quantizeValue(c[0], y), c[1] === Infinity ? 127 : quantizeValue(c[1], y)] : [-128, 127];
  const W = opts.wide === true;
  /** the wide import: each tensor's levels (its int32 values within ±levels) */
  const lv = new Map<string, number>([[inName, 2 ** 31 - 1]]);
  /** q and k of an attention's scores: fewer levels, so that levels² · K stays below 2^31 (§3.6's bound) */
  const qkLevels = new Map<string, number>();
  if (W) {
    const producer = new Map(ops.map((o) => [o.output, o]));
    const source = (t: string): string => {
      const p = producer.get(t);
      return p && (p.kind === "reshape" || p.kind === "transpose" || p.kind === "slice") ? source(p.inputs[0]!) : t;
    };
    const readers = (t: string): FloatOp[] =>
      ops.filter((o) => o.inputs.includes(t)).flatMap((o) => (o.kind === "reshape" || o.kind === "transpose" || o.kind === "slice" ? readers(o.output) : [o]));
    for (const mm of ops) {
      if (mm.kind !== "matmul" || !readers(mm.output).some((r) => r.kind === "causalsoftmax")) continue;
      const K = shapes.get(mm.inputs[0]!)!.at(-1)!;
      for (const t of mm.inputs) qkLevels.set(source(t), Math.min(ACT_LEVELS, Math.floor(Math.sqrt((0.98 * 2 ** 31) / K))));
    }
  }
  /** One op of the wide import (§3.6's wide forms): int32 tensors at ACT_LEVELS, weights at WEIGHT_LEVELS. */
  const wideOp = (op: FloatOp, xq: QuantParams, xr: number, outShape: number[]): void => {
    const inLevels = lv.get(op.inputs[0]!) ?? ACT_LEVELS;
    const wideIn = () => {
      for (const t of op.kind === "matmul" ? op.inputs : [op.inputs[0]!])
        if (dtypes.get(t) !== DType.int32) throw new OnnxImportError(`${op.src}: the wide import needs an int32 input here (a token model's ids through Gather), got int8`);
    };
    const out = (node: NodeDesc, params: QuantParams, levels: number) => {
      push(node, op.output, params, op);
      lv.set(op.output, levels);
    };
    switch (op.kind) {
      case "gemm": {
        wideIn();
        const N = op.w!.shape[0]!;
        const wl = wideWeightLevels(op.w!.data, N, inLevels);
        if (wl < WEIGHT_LEVELS) notes.push(`${op.src}: weights at ±${wl} levels instead of ±${WEIGHT_LEVELS}, so that the sum over inputs within ±${inLevels} stays below 2^31`);
        const { q: wq, scale: ws } = quantizeWide(op.w!.data, wl);
        const inputs = [xr, addWeight(int32Tensor([...op.w!.shape], wq))];
        if (op.b) {
          const bias = Array.from({ length: N }, (_, j) => Math.round(op.b!.data[j]! / (xq.scale * ws)));
          if (bias.some((b) => Math.abs(b) >= 2 ** 30)) throw new OnnxImportError(`${op.src}: a bias does not fit the wide Gemm's accumulator at scale ${xq.scale * ws}`);
          inputs.push(addWeight(int32Tensor([N], bias)));
        }
        if (op.output === logits) {
          const [m, s] = quantizeMultiplier(1);
          out({ op: Op.Gemm, inputs, outDtype: DType.int32, outShape, attrs: [0, 0, m, s, 0, -(2 ** 31), 2 ** 31 - 1] }, { scale: xq.scale * ws, zeroPoint: 0 }, 2 ** 31 - 1);
          return;
        }
        const L = wide.has(op.output) ? WIDE_LEVELS : (qkLevels.get(op.output) ?? ACT_LEVELS);
        let [lo, hi] = range(op.output);
        if (op.clamp) [lo, hi] = [Math.max(lo, op.clamp[0]), Math.min(hi, op.clamp[1])];
        const y = symmetricParams(lo, hi, L);
        const [m, s] = quantizeMultiplier((xq.scale * ws) / y.scale);
        const [qlo, qhi] = op.clamp ? [Math.max(-L, Math.round(op.clamp[0] / y.scale)), Math.min(L, Math.round(op.clamp[1] / y.scale))] : [-L, L];
        out({ op: Op.Gemm, inputs, outDtype: DType.int32, outShape, attrs: [0, 0, m, s, 0, qlo, qhi] }, y, L);
        return;
      }
      case "add": {
        wideIn();
        let bq: QuantParams, br: number;
        if (op.c) {
          const { q: cq, scale: cs } = quantizeWide(op.c.data, WEIGHT_LEVELS);
          bq = { scale: cs, zeroPoint: 0 };
          br = addWeight(int32Tensor([...outShape], cq));
        } else [bq, br] = [q.get(op.inputs[1]!)!, ref.get(op.inputs[1]!)!];
        const L = wide.has(op.output) ? WIDE_LEVELS : ACT_LEVELS;
        const yq = symmetricParams(...range(op.output), L);
        const twice = 2 * Math.max(xq.scale, bq.scale);
        const [am, as] = quantizeMultiplier(xq.scale / twice);
        const [bm, bs] = quantizeMultiplier(bq.scale / twice);
        const [m, s] = quantizeMultiplier(twice / (2 ** 13 * yq.scale));
        out({ op: Op.Add, inputs: [xr, br], outDtype: DType.int32, outShape, attrs: [0, am, as, 0, bm, bs, m, s, 0, -L, L, 13] }, yq, L);
        return;
      }
      case "gather": {
        const { q: tq, scale: ts } = quantizeWide(op.w!.data, WEIGHT_LEVELS);
        out({ op: Op.Gather, inputs: [addWeight(int32Tensor([...op.w!.shape], tq)), xr], outDtype: DType.int32, outShape, attrs: [] }, { scale: ts, zeroPoint: 0 }, WEIGHT_LEVELS);
        return;
      }
      case "layernorm": {
        wideIn();
        const D = outShape[outShape.length - 1]!;
        const { q: gq, scale: gs } = quantizeWide(op.gamma!, WEIGHT_LEVELS);
        const bias = Array.from(op.beta!, (v) => Math.round(v / (2 ** -12 * gs)));
        if (bias.some((b) => Math.abs(b) >= 2 ** 30)) throw new OnnxImportError(`${op.src}: a LayerNorm shift does not fit int32`);
        const k = Math.max(0, D.toString(2).length - 5);
        const eps = Math.max(1, Math.round((op.eps! * D * D) / (xq.scale * xq.scale * 4 ** k)));
        const y = symmetricParams(...range(op.output), ACT_LEVELS);
        const [m, s] = quantizeMultiplier((2 ** -12 * gs) / y.scale);
        const inputs = [xr, addWeight(int32Tensor([D], gq)), addWeight(int32Tensor([D], bias))];
        out({ op: Op.LayerNorm, inputs, outDtype: DType.int32, outShape, attrs: [0, 0, Math.min(eps, 2 ** 31 - 1), m, s, 0, -ACT_LEVELS, ACT_LEVELS] }, y, ACT_LEVELS);
        return;
      }
      case "matmul": {
        wideIn();
        const bq = q.get(op.inputs[1]!)!;
        const y = symmetricParams(...range(op.output), ACT_LEVELS);
        const [m, s] = quantizeMultiplier(((op.alpha ?? 1) * xq.scale * bq.scale) / y.scale);
        out({ op: Op.MatMul, inputs: [xr, ref.get(op.inputs[1]!)!], outDtype: DType.int32, outShape, attrs: [0, 0, m, s, 0, -ACT_LEVELS, ACT_LEVELS, 0] }, y, ACT_LEVELS);
        return;
      }
      case "causalsoftmax": {
        wideIn();
        // exp(−d·scale) at 2^16 on n + 1 points, down to where it rounds to 0 (d·scale = ln 2^17)
        const { n, shift } = wideTableShape(Math.ceil(Math.log(2 ** 17) / xq.scale));
        const table = Array.from({ length: n + 1 }, (_, j) => Math.max(j === 0 ? 1 : 0, Math.round(65536 * Math.exp(-j * 2 ** shift * xq.scale))));
        out({ op: Op.CausalSoftmax, inputs: [xr], outDtype: DType.int32, outShape, attrs: [shift, ...table] }, { scale: 2 ** -15, zeroPoint: 0 }, 2 ** 15);
        return;
      }
      case "pointwise": {
        wideIn();
        const pw = op.pw!;
        const { n, shift } = wideTableShape(2 * inLevels);
        const lo = -inLevels;
        const real = Array.from({ length: n + 1 }, (_, j) => pw.fn(xq.scale * (lo + j * 2 ** shift)));
        if (real.some((v) => !Number.isFinite(v))) throw new OnnxImportError(`${op.src}: ${pw.desc} is not finite over the input's range; keep its input away from 0`);
        let [ylo, yhi] = range(op.output);
        ylo = Math.max(ylo, Math.min(...real));
        yhi = Math.min(yhi, Math.max(...real));
        const y = symmetricParams(ylo, yhi, ACT_LEVELS);
        const table = real.map((v) => Math.max(-ACT_LEVELS, Math.min(ACT_LEVELS, Math.round(v / y.scale))));
        out({ op: Op.Lut, inputs: [xr], outDtype: DType.int32, outShape, attrs: [lo, shift, ...table] }, y, ACT_LEVELS);
        return;
      }
      case "argmax":
        out({ op: Op.ArgMax, inputs: [xr], outDtype: DType.int32, outShape, attrs: [] }, { scale: 1, zeroPoint: 0 }, 2 ** 31 - 1);
        return;
      case "transpose":
      case "slice":
      case "reshape": {
        const opCode = op.kind === "transpose" ? Op.Transpose : op.kind === "slice" ? Op.Slice : Op.Reshape;
        const attrs = op.kind === "transpose" ? op.perm! : op.kind === "slice" ? [op.axis!, op.start!] : [];
        out({ op: opCode, inputs: [xr], outDtype: dtypes.get(op.inputs[0]!)!, outShape, attrs }, xq, inLevels);
        return;
      }
      default:
        throw new OnnxImportError(`${op.src}: the wide import has no wide form of ${op.kind} (it takes a transformer language model: Gemm, MatMul, LayerNorm, Add, Gather, causal Softmax, pointwise functions and shape ops)`);
    }
  };
  for (const op of ops) {
    const xq = q.get(op.inputs[0]!)!;
    const xr = ref.get(op.inputs[0]!)!;
    const outShape = shapes.get(op.output)!;
    const calibrated = () => {
      let [lo, hi] = range(op.output);
      if (op.clamp) [lo, hi] = [Math.max(lo, op.clamp[0]), Math.min(hi, op.clamp[1])];
      return rangeParams(lo, hi);
    };
    if (W) {
      wideOp(op, xq, xr, outShape);
      continue;
    }
    switch (op.kind) {
      case "gemm":
      case "conv": {
        const y = calibrated();
        // per-channel input parameters: the channel scales go into the weights (the input as
        // integers q − z at unit scale), the channel zero points into the bias
        const cs = xq.channelScales, cz = xq.channelZeroPoints;
        const chanOf = (i: number) => {
          const per = numel(op.w!.shape.slice(2)), Cg = op.w!.shape[1]!;
          if (op.kind === "gemm") return i % op.w!.shape[1]!;
          const o = Math.floor(i / (Cg * per)), c = Math.floor(i / per) % Cg;
          return Math.floor(o / (op.w!.shape[0]! / op.conv!.group)) * Cg + c;
        };
        const wReal = cs ? op.w!.data.map((v, i) => v * cs[chanOf(i)]!) : op.w!.data;
        const xScale = cs ? 1 : xq.scale, xZero = cs ? 0 : xq.zeroPoint;
        const { q: wq, scale: ws } = quantizeWeights(wReal);
        const inputs = [xr, addWeight(int8Tensor([...op.w!.shape], wq))];
        const N = op.w!.shape[0]!, per = wq.length / N;
        const zeroTerm = (j: number) => {
          if (!cz) return 0;
          let t = 0;
          for (let i = j * per; i < (j + 1) * per; i++) t += wq[i]! * cz[chanOf(i)]!;
          return t;
        };
        if (op.b || cz) {
          const bias = Array.from({ length: N }, (_, j) => Math.round((op.b ? op.b.data[j]! : 0) / (xScale * ws)) - zeroTerm(j));
          if (bias.some((b) => Math.abs(b) >= 2 ** 31)) throw new OnnxImportError(`${op.src}: a bias does not fit int32 at scale ${xq.scale * ws}`);
          inputs.push(addWeight(int32Tensor([N], bias)));
        }
        if (op.output === logits) {
          // the exact accumulator: identity rq, zero point 0, the whole i32 range
          const [m, s] = quantizeMultiplier(1);
          push({ op: Op.Gemm, inputs, outDtype: DType.int32, outShape, attrs: [xZero, 0, m, s, 0, -(2 ** 31), 2 ** 31 - 1] }, op.output, { scale: xScale * ws, zeroPoint: 0 }, op);
          break;
        }
        if (op.kind === "gemm" && wide.has(op.output)) {
          // a branch into a residual stream: int32 at ±32767 levels of its calibrated range (§3.6, Gemm's int32 output)
          const yw = wideParams(...range(op.output));
          const [m, s] = quantizeMultiplier((xScale * ws) / yw.scale);
          push({ op: Op.Gemm, inputs, outDtype: DType.int32, outShape, attrs: [xZero, 0, m, s, 0, -WIDE_LEVELS, WIDE_LEVELS] }, op.output, yw, op);
          break;
        }
        const [m, s] = quantizeMultiplier((xScale * ws) / y.scale);
        const [qmin, qmax] = clampQ(op.clamp, y);
        const base = [xZero, 0, m, s, y.zeroPoint, Math.min(qmin, qmax), qmax];
        const c = op.conv;
        const attrsList = op.kind === "gemm" ? base : [...base, c!.strides[0]!, c!.strides[1]!, c!.pads[0]!, c!.pads[1]!, c!.pads[2]!, c!.pads[3]!, c!.dil[0]!, c!.dil[1]!, c!.group];
        push({ op: op.kind === "gemm" ? Op.Gemm : Op.Conv2D, inputs, outDtype: DType.int8, outShape, attrs: attrsList }, op.output, y, op);
        break;
      }
      case "add":
      case "mul": {
        // the second operand: an activation, or a constant of the output's shape (a position
        // embedding) stored as an int8 weight with its own range
        let bq: QuantParams, br: number;
        if (op.c) {
          let lo = Infinity, hi = -Infinity;
          for (const v of op.c.data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
          bq = rangeParams(lo, hi);
          br = addWeight(int8Tensor([...outShape], Int8Array.from(op.c.data, (v) => quantizeValue(v, bq))));
        } else [bq, br] = [q.get(op.inputs[1]!)!, ref.get(op.inputs[1]!)!];
        const y = calibrated();
        if (op.kind === "mul") {
          const [m, s] = quantizeMultiplier((xq.scale * bq.scale) / y.scale);
          push({ op: Op.Mul, inputs: [xr, br], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint, bq.zeroPoint, m, s, y.zeroPoint, -128, 127] }, op.output, y, op);
          break;
        }
        // a residual stream is wide: int32 of ±32767 levels, zero point 0 (§3.6); its operands
        // are summed at 2^13 (a wide operand) or 2^20 (int8 only) units of the larger scale
        const wideOut = wide.has(op.output);
        const yq = wideOut ? wideParams(...range(op.output)) : y;
        const ls = dtypes.get(op.inputs[0]!) === DType.int32 || (!op.c && dtypes.get(op.inputs[1]!) === DType.int32) ? 13 : 20;
        const twice = 2 * Math.max(xq.scale, bq.scale);
        const [am, as] = quantizeMultiplier(xq.scale / twice);
        const [bm, bs] = quantizeMultiplier(bq.scale / twice);
        const [m, s] = quantizeMultiplier(twice / (2 ** ls * yq.scale));
        const [qlo, qhi] = wideOut ? [-WIDE_LEVELS, WIDE_LEVELS] : [-128, 127];
        push({ op: Op.Add, inputs: [xr, br], outDtype: wideOut ? DType.int32 : DType.int8, outShape, attrs: [xq.zeroPoint, am, as, bq.zeroPoint, bm, bs, m, s, yq.zeroPoint, qlo, qhi, ls] }, op.output, yq, op);
        break;
      }
      case "gather": {
        // the table's own int8 parameters are the output's (a lookup adds no error)
        const { q: tq, scale: ts } = quantizeWeights(op.w!.data);
        const slot = addWeight(int8Tensor([...op.w!.shape], tq));
        push({ op: Op.Gather, inputs: [slot, xr], outDtype: DType.int8, outShape, attrs: [] }, op.output, { scale: ts, zeroPoint: 0 }, op);
        break;
      }
      case "layernorm": {
        // y = clamp(rq(t·(g − 0) + b, m, s) + yZero), t the normalized value in units of 2^-12 (§3.6)
        const y = calibrated();
        const D = outShape[outShape.length - 1]!;
        const { q: gq, scale: gs } = quantizeWeights(op.gamma!);
        const bias = Array.from(op.beta!, (v) => Math.round(v / (2 ** -12 * gs)));
        if (bias.some((b) => Math.abs(b) >= 2 ** 31)) throw new OnnxImportError(`${op.src}: a LayerNorm shift does not fit int32`);
        // a wide input's c is shifted right by k = max(0, bitlen(D) − 5) bits (§3.6): eps in those units
        const k = dtypes.get(op.inputs[0]!) === DType.int32 ? Math.max(0, D.toString(2).length - 5) : 0;
        const eps = Math.max(1, Math.round((op.eps! * D * D) / (xq.scale * xq.scale * 4 ** k)));
        const [m, s] = quantizeMultiplier((2 ** -12 * gs) / y.scale);
        const inputs = [xr, addWeight(int8Tensor([D], gq)), addWeight(int32Tensor([D], bias))];
        push({ op: Op.LayerNorm, inputs, outDtype: DType.int8, outShape, attrs: [xq.zeroPoint, 0, Math.min(eps, 2 ** 31 - 1), m, s, y.zeroPoint, -128, 127] }, op.output, y, op);
        break;
      }
      case "matmul": {
        const y = calibrated(), bq = q.get(op.inputs[1]!)!;
        const [m, s] = quantizeMultiplier(((op.alpha ?? 1) * xq.scale * bq.scale) / y.scale);
        push({ op: Op.MatMul, inputs: [xr, ref.get(op.inputs[1]!)!], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint, bq.zeroPoint, m, s, y.zeroPoint, -128, 127, 0] }, op.output, y, op);
        break;
      }
      case "argmax":
        push({ op: Op.ArgMax, inputs: [xr], outDtype: DType.int32, outShape, attrs: [] }, op.output, { scale: 1, zeroPoint: 0 }, op);
        break;
      case "causalsoftmax":
        push({ op: Op.CausalSoftmax, inputs: [xr], outDtype: DType.int8, outShape, attrs: softmaxTable(xq.scale) }, op.output, { scale: 1 / 256, zeroPoint: -128 }, op);
        break;
      case "transpose":
        push({ op: Op.Transpose, inputs: [xr], outDtype: dtypes.get(op.inputs[0]!)!, outShape, attrs: op.perm! }, op.output, xq, op);
        break;
      case "slice":
        push({ op: Op.Slice, inputs: [xr], outDtype: dtypes.get(op.inputs[0]!)!, outShape, attrs: [op.axis!, op.start!] }, op.output, xq, op);
        break;
      case "pointwise": {
        const pw = op.pw!;
        if (pw.clamp && pw.clamp[0] === 0 && pw.clamp[1] === Infinity) {
          push({ op: Op.Relu, inputs: [xr], outDtype: DType.int8, outShape, attrs: [xq.zeroPoint] }, op.output, xq, op);
          break;
        }
        const levels = Array.from({ length: 256 }, (_, i) => pw.fn(xq.scale * (i - 128 - xq.zeroPoint)));
        if (levels.some((v) => !Number.isFinite(v))) throw new OnnxImportError(`${op.src}: ${pw.desc} is not finite over the input's int8 range (e.g. log or 1/x of 0); keep its input away from 0`);
        let [lo, hi] = range(op.output);
        lo = Math.max(lo, Math.min(...levels));
        hi = Math.min(hi, Math.max(...levels));
        const y = rangeParams(lo, hi);
        push({ op: Op.Lut, inputs: [xr], outDtype: DType.int8, outShape, attrs: levels.map((v) => quantizeValue(v, y)) }, op.output, y, op);
        break;
      }
      case "softmax":
        push({ op: Op.Softmax, inputs: [xr], outDtype: DType.int8, outShape, attrs: softmaxTable(xq.scale) }, op.output, { scale: 1 / 256, zeroPoint: -128 }, op);
        break;
      case "logsoftmax": {
        push({ op: Op.Softmax, inputs: [xr], outDtype: DType.int8, outShape, attrs: softmaxTable(xq.scale) }, undefined, { scale: 1 / 256, zeroPoint: -128 }, op);
        const sm = nodeSlot(nodes.length);
        const y = rangeParams(Math.log(0.5 / 256), 0);
        const table = Array.from({ length: 256 }, (_, i) => quantizeValue(Math.log(Math.max(i, 0.5) / 256), y));
        push({ op: Op.Lut, inputs: [sm], outDtype: DType.int8, outShape, attrs: table }, op.output, y, op);
        break;
      }
      case "reshape":
        push({ op: Op.Reshape, inputs: [xr], outDtype: dtypes.get(op.inputs[0]!)!, outShape, attrs: [] }, op.output, xq, op);
        break;
      case "maxpool": {
        const p = op.pool!;
        push({ op: Op.MaxPool, inputs: [xr], outDtype: DType.int8, outShape, attrs: [p.k[0]!, p.k[1]!, p.strides[0]!, p.strides[1]!, p.pads[0]!, p.pads[1]!, p.pads[2]!, p.pads[3]!] }, op.output, xq, op);
        break;
      }
      default:
        throw new OnnxImportError(`internal: op ${op.kind} left after folding`);
    }
  }
  const outNode = nodes[nodes.length - 1]!, outValues = numel(outNode.outShape);
  const outBytes = outValues * (outNode.outDtype === DType.int32 ? 4 : 1);
  if (outBytes > 4096) notes.push(`the output has ${outBytes} bytes (${outValues} ${outNode.outDtype === DType.int32 ? "int32" : "int8"} values): a deployment's TaskManager accepts claims of at most maxOutputBytes (4096 by default), so a keeper's commit reverts with OutputTooLarge; return fewer values (a language model: the last position's logits, x[:, -1, :])`);
  const spec: ModelSpec = {
    input: { dtype: intInput ? DType.int32 : DType.int8, shape: inShape },
    nodes,
    weights,
    metadata: { name: opts.name ?? "onnx-import", input: q.get(inName)!, output: q.get(outName)!, source: "onnx", calibrationSamples: calibration.length, clipPercentile: percentile },
  };
  const report = opts.report === false ? undefined : quantReport(spec, ops, shapes, inName, outName, calibration, info, q, floatOutputs);
  return { spec, floatOutputs, notes, report };
}

const REPORT_NODE_SAMPLES = 50;

/** A wide tensor's levels: int32 values in ±WIDE_LEVELS (§3.6's wide form of Add and LayerNorm). */
const WIDE_LEVELS = 32767;

/** Symmetric parameters of a wide tensor covering [min, max]. */
function wideParams(min: number, max: number): QuantParams {
  const m = Math.max(Math.abs(min), Math.abs(max));
  return { scale: m > 0 ? m / WIDE_LEVELS : 1, zeroPoint: 0 };
}

/** The wide import's activation levels (14 bits) and weight levels (12 bits). */
const ACT_LEVELS = 8191;
const WEIGHT_LEVELS = 2047;

/** Symmetric parameters of a tensor covering [min, max] on ±levels. */
function symmetricParams(min: number, max: number, levels: number): QuantParams {
  const m = Math.max(Math.abs(min), Math.abs(max));
  return { scale: m > 0 ? m / levels : 1, zeroPoint: 0 };
}

/** Symmetric weights on ±levels, per tensor. */
function quantizeWide(w: ArrayLike<number>, levels: number): { q: Int32Array; scale: number } {
  let mx = 0;
  for (let i = 0; i < w.length; i++) mx = Math.max(mx, Math.abs(w[i]!));
  const scale = mx > 0 ? mx / levels : 1;
  const q = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-levels, Math.min(levels, Math.round(w[i]! / scale)));
  return { q, scale };
}

/**
 * The weight levels of a wide Gemm over inputs within ±inLevels: WEIGHT_LEVELS, or fewer where the largest row's
 * Σ|w| (in units of max|w|) would take the int32 accumulator past 2^31 (§3.6: exact only below it), with 2% room
 * for the bias.
 */
function wideWeightLevels(w: ArrayLike<number>, rows: number, inLevels: number): number {
  let mx = 0;
  for (let i = 0; i < w.length; i++) mx = Math.max(mx, Math.abs(w[i]!));
  if (mx === 0) return WEIGHT_LEVELS;
  const per = w.length / rows;
  let worst = 0;
  for (let j = 0; j < rows; j++) {
    let t = 0;
    for (let k = j * per; k < (j + 1) * per; k++) t += Math.abs(w[k]!);
    worst = Math.max(worst, t / mx);
  }
  return Math.max(1, Math.min(WEIGHT_LEVELS, Math.floor((0.98 * 2 ** 31) / (inLevels * worst))));
}

/** A wide table's entries f(lo + j·2^shift), j = 0..n, for an input range of `span` levels (n <= 1024). */
function wideTableShape(span: number): { n: number; shift: number } {
  let shift = 0;
  while (Math.ceil(span / 2 ** shift) > 1024) shift++;
  return { n: Math.max(1, Math.ceil(span / 2 ** shift)), shift };
}

/**
 * The residual streams: outputs of Adds whose every reader (through Reshapes, Transposes and
 * Slices) is an Add or a LayerNorm, the ops with a wide (int32) form, and which are not the
 * model's output. A transformer's x + attn(ln(x)) and x + mlp(ln(x)) keep 2^16 levels there: the
 * stream carries a few outlier features (values 10x the others), and int8 steps at their scale
 * would flatten the rest. Everything read by other ops stays int8.
 */
function wideTensors(ops: readonly FloatOp[], outName: string): Set<string> {
  const readers = (t: string): FloatOp[] =>
    ops.filter((o) => o.inputs.includes(t)).flatMap((o) => (o.kind === "reshape" || o.kind === "transpose" || o.kind === "slice" ? (o.output === outName ? [o] : readers(o.output)) : [o]));
  const wide = new Set<string>();
  for (const op of ops) {
    if (op.kind !== "add" || op.output === outName) continue;
    const rs = readers(op.output);
    if (rs.length > 0 && rs.every((r) => (r.kind === "add" && r.output !== outName) || r.kind === "layernorm")) wide.add(op.output);
  }
  // the branches added into a residual stream: a Gemm without a clamp whose every reader is a wide Add of two
  // activations (attention's output projection, the MLP's down projection) outputs int32 at the stream's 2^16
  // levels too, instead of rounding its sum to 256 levels before it joins a stream that keeps 65,535
  for (const op of ops) {
    if (op.kind !== "gemm" || op.clamp || op.output === outName) continue;
    const rs = readers(op.output);
    if (rs.length > 0 && rs.every((r) => r.kind === "add" && !r.c && wide.has(r.output))) wide.add(op.output);
  }
  return wide;
}

/** Float vs int8 on the calibration set: top-1 agreement and every node's relative error. */
function quantReport(
  spec: ModelSpec,
  ops: FloatOp[],
  shapes: Map<string, number[]>,
  inName: string,
  outName: string,
  calibration: readonly number[][],
  info: { tensor?: string; src: string; inputs: string[]; kind: FloatOp["kind"] }[],
  q: Map<string, QuantParams>,
  floatOutputs: Float64Array[],
): ImportReport {
  const model = buildModel(spec);
  const exec = new Executor(model);
  const err = new Float64Array(info.length), sig = new Float64Array(info.length);
  let agree = 0, rows = 0;
  const indices = ops.some((o) => o.kind === "argmax");
  const inQ = q.get(inName)!;
  // per-node errors on up to REPORT_NODE_SAMPLES samples (a float run each), agreement on all
  const every = Math.max(1, Math.ceil(calibration.length / REPORT_NODE_SAMPLES));
  calibration.forEach((s, i) => {
    const input = spec.input.dtype === DType.int32 ? int32Tensor([...spec.input.shape], s) : int8Tensor([...spec.input.shape], quantizeValues(inQ, spec.input.shape, s));
    const outs = exec.inferAll(input);
    const res = { output: outs[outs.length - 1]!, nodeOutputs: outs };
    const outQ = q.get(outName)!;
    const deq = Array.from(res.output.data, (v) => outQ.scale * (v - outQ.zeroPoint));
    // top-1 per row of the last axis (a classifier's one row; a language model's every position)
    // (an ArgMax output: the indices themselves)
    const len = indices ? 1 : spec.nodes[spec.nodes.length - 1]!.outShape.at(-1)!, f = floatOutputs[i]!;
    for (let r = 0; r < deq.length; r += len) if (indices ? deq[r] === f[r] : argmax(deq.slice(r, r + len)) === argmax(f.subarray(r, r + len))) agree++;
    rows += deq.length / len;
    if (i % every !== 0) return;
    const vals = runFloat(ops, shapes, inName, Float64Array.from(s));
    info.forEach((n, k) => {
      if (!n.tensor || n.kind === "argmax" || (indices && n.tensor === outName)) return;
      const f = vals.get(n.tensor)!, p = q.get(n.tensor)!, o = res.nodeOutputs[k]!.data;
      // a log-softmax table represents ln p down to ln(1/512) by design: measured against that
      const floor = n.kind === "logsoftmax" ? Math.log(0.5 / 256) : -Infinity;
      for (let j = 0; j < f.length; j++) {
        const d = p.scale * (o[j]! - p.zeroPoint) - Math.max(floor, f[j]!);
        err[k]! += d * d;
        sig[k]! += f[j]! * f[j]!;
      }
    });
  });
  const rel = new Map<string, number>([[inName, 0]]);
  const nodes: NodeReport[] = [];
  info.forEach((n, k) => {
    if (!n.tensor) return;
    const r = Math.sqrt(err[k]! / Math.max(sig[k]!, 1e-30));
    rel.set(n.tensor, r);
    const before = Math.max(0, ...n.inputs.map((i) => rel.get(i) ?? 0));
    nodes.push({ node: k + 1, op: OP_NAMES[spec.nodes[k]!.op] ?? "?", onnx: n.src, relError: r, added: r - before });
  });
  const worst = nodes.reduce<NodeReport | undefined>((w, n) => (!w || n.added > w.added ? n : w), undefined);
  return { agreement: agree / rows, samples: calibration.length, nodes, worst };
}

/**
 * A GPT-2-shaped decoder built from the integer operators of docs/protocol.md §3.6, with weights
 * generated deterministically from a seed (no downloads): the scale model of issue 8.
 *
 * Shape (GPT-2 small with `GPT2_SMALL`): token + position embeddings, `layers` pre-LayerNorm blocks
 * (causal multi-head attention, a 4·d GELU MLP, residual adds), a final LayerNorm and the tied
 * token-embedding head on the last position, then ArgMax: the model's output is the greedy next
 * token, an int32 `[1,1]`. The input is `seqLen` token ids (int32 `[seqLen]`).
 *
 * With `fullSequence` the head runs on every position and the output is the int8 logits
 * `[seqLen, vocab]` (no Slice, no ArgMax): the full-sequence decoder the generation transform
 * (keeper/graph/onnx/generate.ts, docs/protocol.md §3.9) turns into a KV-cache generation graph when
 * the vocabulary is the 256 byte tokens (`GPT2_SMALL_BYTES`).
 *
 * The weights are random, so the model computes nothing meaningful; every scale is chosen so that
 * activations keep a useful spread (about ±4σ over int8) and nothing saturates. Floats appear only
 * here, in choosing integer multipliers and tables off chain (like Softmax tables, §3.6); the weights
 * themselves come from an integer PRNG, so the model file is the same on every machine.
 *
 * Pure: builds a ModelSpec in memory (one copy of the weights, ~124 MB for GPT-2 small).
 */
import { Op, inputSlot, nodeSlot, weightSlot, type NodeDesc } from "../ops.ts";
import { DType, int32Tensor, type Int8Tensor, type Int32Tensor, type Tensor } from "../tensor.ts";
import { quantizeMultiplier, softmaxTable } from "../train/quantize.ts";
import type { ModelSpec } from "../model.ts";

export interface GptConfig {
  /** vocabulary size (GPT-2: 50257) */
  vocab: number;
  /** rows of the position table (GPT-2: 1024); the model uses the first seqLen */
  positions: number;
  /** model width d (GPT-2 small: 768) */
  width: number;
  heads: number;
  layers: number;
  /** tokens per request (the context the model reads) */
  seqLen: number;
  seed: number;
  /** logits int8 [seqLen, vocab] at every position instead of the greedy next token (default: false) */
  fullSequence?: boolean;
}

export const GPT2_SMALL: GptConfig = { vocab: 50257, positions: 1024, width: 768, heads: 12, layers: 12, seqLen: 64, seed: 1 };
/** The same generator at toy size, for tests. */
export const GPT_TINY: GptConfig = { vocab: 97, positions: 16, width: 16, heads: 2, layers: 2, seqLen: 8, seed: 1 };
/**
 * GPT-2 small's 12 × 768 body with a byte vocabulary (256 tokens, the text-model rule: Emit writes
 * one byte per token) and logits at every position: the full-sequence decoder the generation
 * transform accepts. 86,039,040 parameters (GPT-2 small's 124M less 50,001 embedding rows);
 * weights generated from the seed like every model of this builder, so its text means nothing.
 */
export const GPT2_SMALL_BYTES: GptConfig = { ...GPT2_SMALL, vocab: 256, fullSequence: true };
/** GPT2_SMALL_BYTES at toy size, for tests. */
export const GPT_TINY_BYTES: GptConfig = { ...GPT_TINY, vocab: 256, fullSequence: true };

/** Parameter count of a config (every weight element, biases and LayerNorm parameters included). */
export function gptParamCount(c: GptConfig): number {
  const d = c.width;
  const ln = 2 * d;
  const block = ln + 3 * (d * d + d) + (d * d + d) + ln + (4 * d * d + 4 * d) + (4 * d * d + d);
  return c.vocab * d + c.positions * d + c.layers * block + ln;
}

/** mulberry32 over a 32-bit state: the integer PRNG of the weights. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Weight std in quantized units: int8 weights are ~N(0, 25²), in −86..86. */
const W_STD = 25;

/**
 * int8 tensor of ~N(mean, (25·num/1024·… )²) values from an integer-only recipe: the four bytes of
 * one PRNG word summed (Irwin–Hall, std ≈ 147.8), centred and scaled by `mul / 1024`.
 */
function randInt8(shape: number[], seed: number, mul = 173, mean = 0): Int8Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Int8Array(n);
  const next = prng(seed);
  for (let i = 0; i < n; i++) {
    const r = next();
    const sum = (r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - 510;
    const v = mean + ((sum * mul) >> 10);
    data[i] = v < -127 ? -127 : v > 127 ? 127 : v;
  }
  return { dtype: DType.int8, shape, data };
}

function randInt32(shape: number[], seed: number, std: number): Int32Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const next = prng(seed);
  const mul = Math.round((std * 1024) / 148);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    const sum = (r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - 510;
    data[i] = Math.trunc((sum * mul) / 1024);
  }
  return int32Tensor(shape, data);
}

/** Real scales of the activations (real = scale · q, every zero point 0 except softmax outputs). */
const S = {
  embed: 1 / W_STD, // embeddings: real std 1
  resid: 1 / 16, // residual stream: ±8
  act: 1 / 32, // LayerNorm outputs, projections, MLP: ±4
  scores: 1 / 16, // attention scores (softmax input)
  prob: 1 / 256, // softmax output, zero point −128
  gamma: 1 / 64, // LayerNorm gain: q ≈ 64 ± 8
};

function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** The GELU lookup table of a Lut node (input and output scale S.act). */
export function geluTable(inScale = S.act, outScale = S.act): number[] {
  return Array.from({ length: 256 }, (_, i) => Math.max(-128, Math.min(127, Math.round(gelu((i - 128) * inScale) / outScale))));
}

/** Multiplier attributes of rq(acc, m, s) ≈ acc · real. */
const rqOf = (real: number): [number, number] => quantizeMultiplier(real);

/** Add attributes for y = a + b with scales sa, sb → sy (the form ONNX import uses, lshift 20). */
function addAttrs(sa: number, sb: number, sy: number): number[] {
  const twice = 2 * Math.max(sa, sb);
  const [am, as] = rqOf(sa / twice);
  const [bm, bs] = rqOf(sb / twice);
  const [m, s] = rqOf(twice / (2 ** 20 * sy));
  return [0, am, as, 0, bm, bs, m, s, 0, -128, 127, 20];
}

export function buildGpt(c: GptConfig): ModelSpec {
  const { vocab: V, width: d, heads: H, layers: L, seqLen: T } = c;
  if (d % H !== 0) throw new RangeError(`width ${d} is not a multiple of heads ${H}`);
  if (T > c.positions) throw new RangeError(`seqLen ${T} exceeds the ${c.positions} positions`);
  const dh = d / H;
  const weights: Tensor[] = [];
  const nodes: NodeDesc[] = [];
  let seedCounter = 0;
  const seedOf = () => (Math.imul(c.seed, 0x9e3779b1) + ++seedCounter * 0x85ebca6b) >>> 0;
  const weight = (t: Tensor): number => {
    weights.push(t);
    return weightSlot(weights.length - 1);
  };
  const node = (n: NodeDesc): number => {
    nodes.push(n);
    return nodeSlot(nodes.length);
  };
  const i8 = DType.int8;

  /** LayerNorm of x (scale sx) to S.act. */
  const layerNorm = (x: number, shape: number[], sx: number): number => {
    const g = weight(randInt8([d], seedOf(), 22, 64)); // γ ≈ 1 ± 0.125
    const b = weight(randInt32([d], seedOf(), 0.05 * 2 ** 12 / S.gamma)); // β ≈ N(0, 0.05²) in units of 2^-12 · S.gamma
    const [m, s] = rqOf(S.gamma / 2 ** 12 / S.act);
    const eps = Math.max(1, Math.round((1e-5 * d * d) / (sx * sx)));
    return node({ op: Op.LayerNorm, inputs: [x, g, b], outDtype: i8, outShape: shape, attrs: [0, 0, eps, m, s, 0, -128, 127] });
  };
  /** x [rows, K] (scale sx) · Wᵀ + b → [rows, N] at scale sy; W ~ N(0, 1/K) in real terms. */
  const linear = (x: number, rows: number, K: number, N: number, sx: number, sy: number): number => {
    const sw = 1 / (W_STD * Math.sqrt(K));
    const w = weight(randInt8([N, K], seedOf()));
    const b = weight(randInt32([N], seedOf(), 0.02 / (sx * sw)));
    const [m, s] = rqOf((sx * sw) / sy);
    return node({ op: Op.Gemm, inputs: [x, w, b], outDtype: i8, outShape: [rows, N], attrs: [0, 0, m, s, 0, -128, 127] });
  };
  /** [T, d] → [H, T, dh] */
  const splitHeads = (x: number): number => {
    const r = node({ op: Op.Reshape, inputs: [x], outDtype: i8, outShape: [T, H, dh], attrs: [] });
    return node({ op: Op.Transpose, inputs: [r], outDtype: i8, outShape: [H, T, dh], attrs: [1, 0, 2] });
  };

  const wte = weight(randInt8([V, d], seedOf()));
  const wpe = weight(randInt8([c.positions, d], seedOf()));
  const tok = node({ op: Op.Gather, inputs: [wte, inputSlot()], outDtype: i8, outShape: [T, d], attrs: [] });
  const pos = c.positions === T ? wpe : node({ op: Op.Slice, inputs: [wpe], outDtype: i8, outShape: [T, d], attrs: [0, 0] });
  let x = node({ op: Op.Add, inputs: [tok, pos], outDtype: i8, outShape: [T, d], attrs: addAttrs(S.embed, S.embed, S.resid) });

  for (let l = 0; l < L; l++) {
    const h = layerNorm(x, [T, d], S.resid);
    const q = splitHeads(linear(h, T, d, d, S.act, S.act));
    const k = splitHeads(linear(h, T, d, d, S.act, S.act));
    const v = splitHeads(linear(h, T, d, d, S.act, S.act));
    const [sm, ss] = rqOf((S.act * S.act) / (Math.sqrt(dh) * S.scores));
    const scores = node({ op: Op.MatMul, inputs: [q, k], outDtype: i8, outShape: [H, T, T], attrs: [0, 0, sm, ss, 0, -128, 127, 1] });
    const probs = node({ op: Op.CausalSoftmax, inputs: [scores], outDtype: i8, outShape: [H, T, T], attrs: softmaxTable(S.scores) });
    const [cm, cs] = rqOf((S.prob * S.act) / S.act);
    const ctx = node({ op: Op.MatMul, inputs: [probs, v], outDtype: i8, outShape: [H, T, dh], attrs: [-128, 0, cm, cs, 0, -128, 127, 0] });
    const merged = node({ op: Op.Transpose, inputs: [ctx], outDtype: i8, outShape: [T, H, dh], attrs: [1, 0, 2] });
    const flat = node({ op: Op.Reshape, inputs: [merged], outDtype: i8, outShape: [T, d], attrs: [] });
    const attn = linear(flat, T, d, d, S.act, S.act);
    x = node({ op: Op.Add, inputs: [x, attn], outDtype: i8, outShape: [T, d], attrs: addAttrs(S.resid, S.act, S.resid) });
    const h2 = layerNorm(x, [T, d], S.resid);
    const up = linear(h2, T, d, 4 * d, S.act, S.act);
    const act = node({ op: Op.Lut, inputs: [up], outDtype: i8, outShape: [T, 4 * d], attrs: geluTable() });
    const down = linear(act, T, 4 * d, d, S.act, S.act);
    x = node({ op: Op.Add, inputs: [x, down], outDtype: i8, outShape: [T, d], attrs: addAttrs(S.resid, S.act, S.resid) });
  }

  // the head's rows: the last position (next token), or every position (full sequence)
  const rows = c.fullSequence ? T : 1;
  const last = c.fullSequence ? x : node({ op: Op.Slice, inputs: [x], outDtype: i8, outShape: [1, d], attrs: [0, T - 1] });
  const hf = layerNorm(last, [rows, d], S.resid);
  // tied head: logits = h · wteᵀ, real std ≈ sqrt(d); int8 logits at ±3.2σ
  const logitScale = Math.sqrt(d) / 40;
  const [lm, ls] = rqOf((S.act * S.embed) / logitScale);
  const logits = node({ op: Op.Gemm, inputs: [hf, wte], outDtype: i8, outShape: [rows, V], attrs: [0, 0, lm, ls, 0, -128, 127] });
  if (!c.fullSequence) node({ op: Op.ArgMax, inputs: [logits], outDtype: DType.int32, outShape: [1, 1], attrs: [] });

  const gpt2Body = c.width === GPT2_SMALL.width && c.layers === GPT2_SMALL.layers;
  const name = gpt2Body && c.vocab === GPT2_SMALL.vocab ? "gpt2-small-synthetic" : gpt2Body && c.vocab === 256 ? "gpt2-small-bytes-synthetic" : "gpt-synthetic";
  return {
    input: { dtype: DType.int32, shape: [T] },
    nodes,
    weights,
    metadata: {
      name,
      input: { scale: 1, zeroPoint: 0 },
      output: { scale: 1, zeroPoint: 0 },
      gpt: { ...c, params: gptParamCount(c) },
      note: c.fullSequence
        ? `GPT-2-shaped decoder with seeded random int8 weights (generated, not trained: its text means nothing); input: seqLen token ids; output: int8 logits [seqLen, ${V}] at every position`
        : "GPT-2-shaped decoder with seeded random int8 weights; input: seqLen token ids; output: the greedy next token id",
    },
  };
}

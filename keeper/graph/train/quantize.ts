/**
 * Post-training quantization helpers (float, off chain): real multipliers to (m, s) pairs, int8
 * parameters from calibrated ranges, softmax tables, and the quantized MLP model.
 */
import { GraphError } from "../errors.ts";
import { Op, inputSlot, nodeSlot, weightSlot, type NodeDesc } from "../ops.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "../tensor.ts";
import type { ModelMetadata, ModelSpec, QuantParams } from "../model.ts";
import { forward, type Mlp } from "./mlp.ts";

/** (m, s) with m/2^s ≈ real, m in [2^30, 2^31) when possible, s in 1..62. */
export function quantizeMultiplier(real: number): [number, number] {
  if (!(real >= 0) || !Number.isFinite(real)) throw new GraphError(`cannot quantize multiplier ${real}`);
  if (real === 0) return [0, 1];
  let s = 31;
  let m = Math.round(real * 2 ** s);
  while (m >= 2 ** 31 && s > 1) {
    s--;
    m = Math.round(real * 2 ** s);
  }
  while (m < 2 ** 30 && s < 62) {
    s++;
    m = Math.round(real * 2 ** s);
  }
  if (m >= 2 ** 31) throw new GraphError(`multiplier ${real} is too large for rq (max ~2^30)`);
  return [m, s];
}

/** Asymmetric int8 parameters covering [min, max] (which is widened to include 0). */
export function rangeParams(min: number, max: number): QuantParams {
  const lo = Math.min(min, 0), hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

export function quantizeValue(x: number, q: QuantParams): number {
  return Math.min(127, Math.max(-128, Math.round(x / q.scale) + q.zeroPoint));
}

export function softmaxTable(inputScale: number): number[] {
  return Array.from({ length: 256 }, (_, d) => Math.round(65536 * Math.exp(-d * inputScale)));
}

/** Symmetric per-tensor int8 weights: scale = max|w| / 127. */
export function quantizeWeights(w: ArrayLike<number>): { q: Int8Array; scale: number } {
  let mx = 0;
  for (let i = 0; i < w.length; i++) mx = Math.max(mx, Math.abs(w[i]!));
  const scale = mx > 0 ? mx / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)));
  return { q, scale };
}

/**
 * Quantizes an MLP (784 → … → classes) into a model: Gemm (+fused ReLU) per layer, then Softmax.
 * Input pixels in [0,1] use scale 1/255, zero point −128; activation ranges come from `calibration`.
 */
export function quantizeMlp(mlp: Mlp, calibration: readonly Float64Array[], name: string, extra: Record<string, unknown> = {}): ModelSpec {
  const inSize = mlp.layers[0]!.inSize;
  const inQ: QuantParams = { scale: 1 / 255, zeroPoint: -128 };
  const mins = mlp.layers.map(() => Infinity), maxs = mlp.layers.map(() => -Infinity);
  for (const x of calibration) {
    const acts = forward(mlp, x);
    for (let l = 0; l < mlp.layers.length; l++) for (const v of acts[l + 1]!) {
      mins[l] = Math.min(mins[l]!, v);
      maxs[l] = Math.max(maxs[l]!, v);
    }
  }
  const weights: Tensor[] = [];
  const nodes: NodeDesc[] = [];
  let xQ = inQ;
  let xRef = inputSlot();
  mlp.layers.forEach((L, l) => {
    const yQ = rangeParams(mins[l]!, maxs[l]!);
    const { q, scale: wScale } = quantizeWeights(L.w);
    const bias = Int32Array.from(L.b, (b) => Math.round(b / (xQ.scale * wScale)));
    const wj = weights.length;
    weights.push(int8Tensor([L.outSize, L.inSize], q), int32Tensor([L.outSize], bias));
    const [m, s] = quantizeMultiplier((xQ.scale * wScale) / yQ.scale);
    const hidden = l < mlp.layers.length - 1;
    nodes.push({
      op: Op.Gemm,
      inputs: [xRef, weightSlot(wj), weightSlot(wj + 1)],
      outDtype: DType.int8,
      outShape: [1, L.outSize],
      // hidden layers: ReLU fused as the clamp's lower bound at the zero point
      attrs: [xQ.zeroPoint, 0, m, s, yQ.zeroPoint, hidden ? yQ.zeroPoint : -128, 127],
    });
    xRef = nodeSlot(nodes.length);
    xQ = yQ;
  });
  const classes = mlp.layers[mlp.layers.length - 1]!.outSize;
  nodes.push({ op: Op.Softmax, inputs: [xRef], outDtype: DType.int8, outShape: [1, classes], attrs: softmaxTable(xQ.scale) });
  const metadata: ModelMetadata = {
    name,
    input: inQ,
    output: { scale: 1 / 256, zeroPoint: -128 },
    labels: Array.from({ length: classes }, (_, i) => String(i)),
    ...extra,
  };
  return { input: { dtype: DType.int8, shape: [1, inSize] }, nodes, weights, metadata };
}

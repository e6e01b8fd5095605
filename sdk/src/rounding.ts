/**
 * The rounding between real values and a model's int8 values (docs/protocol.md §3.7, metadata `input`/`output`):
 * one definition for the SDK (`encodeInput`, `decodeOutput`, ./quant.ts) and the keeper (keeper/graph/quant.ts).
 * No imports: pure arithmetic.
 */

/** real = scale · (q − zeroPoint); per-channel (axis 1) parameters, when given, take precedence (an input's features). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
  channelScales?: readonly number[];
  channelZeroPoints?: readonly number[];
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Real values in a tensor's row-major layout → int8 values with per-tensor or (channelScales) per-channel (axis 1)
 * parameters. The parameters must be consistent (one channel parameter per channel).
 */
export function quantizeReal(q: QuantParams, shape: readonly number[], values: readonly number[]): number[] {
  const { channelScales: cs, channelZeroPoints: cz } = q;
  const C = shape[1] ?? 1;
  const inner = count(shape.slice(2));
  return values.map((x, i) => {
    const c = Math.floor(i / inner) % C;
    const [scale, zeroPoint] = cs && cz ? [cs[c]!, cz[c]!] : [q.scale, q.zeroPoint];
    return Math.min(127, Math.max(-128, Math.round(x / scale) + zeroPoint));
  });
}

/** Quantized values → real values: scale · (q − zeroPoint) (per tensor: outputs carry no channel parameters). */
export function dequantizeReal(q: QuantParams, data: ArrayLike<number>): number[] {
  return Array.from(data, (v) => q.scale * (v - q.zeroPoint));
}

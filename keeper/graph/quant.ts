/**
 * Converting between real numbers and a model's int8 input/output (metadata scale and zero point).
 * Floats here are outside committed computation: the committed input is the int8 tensor.
 * The formulas are sdk/src/rounding.ts's (`encodeInput`/`decodeOutput` for dapps); this adds the model's checks.
 */
import { InputError } from "./errors.ts";
import { DType, elementCount, int32Tensor, int8Tensor, type Int32Tensor, type Int8Tensor, type Tensor } from "./tensor.ts";
import type { Model, QuantParams } from "./model.ts";
// the rounding is the SDK's (a dapp encodes request inputs with it): one definition
import { dequantizeReal, quantizeReal } from "../../sdk/src/rounding.ts";

/**
 * A flat array of numbers in the model's input layout → the input tensor: real numbers quantized
 * to int8 with the model's input parameters, or, for an int32 input (token ids), integers as they are.
 */
export function quantizeInput(model: Model, values: readonly number[]): Int8Tensor | Int32Tensor {
  const want = elementCount(model.input.shape);
  if (values.length !== want) {
    throw new InputError(`a sample has ${values.length} values but model ${model.metadata.name} takes ${want} (shape [${model.input.shape.join(",")}])`);
  }
  if (model.input.dtype === DType.int32) {
    return int32Tensor([...model.input.shape], values.map((x, i) => {
      if (!Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 31) throw new InputError(`sample value ${i} is ${JSON.stringify(x)}, not an int32 (this model takes integers, e.g. token ids)`);
      return x;
    }));
  }
  values.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) throw new InputError(`sample value ${i} is ${JSON.stringify(x)}, not a finite number`);
  });
  return int8Tensor([...model.input.shape], quantizeValues(model.metadata.input, model.input.shape, values));
}

/** Real values in a tensor's layout → int8 with per-tensor or (channelScales) per-channel (axis 1) parameters. */
export function quantizeValues(q: QuantParams, shape: readonly number[], values: readonly number[]): number[] {
  const { channelScales: cs, channelZeroPoints: cz } = q;
  const C = shape[1] ?? 1;
  if (cs && cz && (cs.length !== C || cz.length !== C)) throw new InputError(`the model's input has ${cs.length} channel scales for ${C} channels`);
  return quantizeReal(q, shape, values);
}

/** The output tensor as real numbers. */
export function dequantize(model: Model, t: Tensor): number[] {
  return dequantizeReal(model.metadata.output, t.data);
}

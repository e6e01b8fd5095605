/**
 * A model's input and output as real numbers (docs/protocol.md §3.2, §3.7): a request input is the canonical bytes
 * of the model's input tensor — int8 values `q = clamp(round(x / scale) + zeroPoint, −128, 127)` with the model's
 * input parameters, or int32 token ids as they are (big-endian) — and an output decodes to `scale · (q − zeroPoint)`.
 *
 * The parameters are in the model's metadata, which the model file carries and the descriptor commits to
 * (`metadataHash`); they are not stored on chain. Take them from the model file (`modelQuantizationFromFile`) or
 * from `oao model info --json` (its `input` and `output` objects are `TensorQuantization`s).
 *
 * The rounding is ./rounding.ts, which the keeper's `keeper/graph/quant.ts` imports too: one definition.
 */
import { type Hex, hexToBytes, isHex, keccak256, bytesToHex } from "viem";
import { InvalidModelFileError, InvalidParameterError } from "./errors/parameters.ts";
import { modelDescriptorFromFile, decodeModelDescriptor } from "./model.ts";
import { type QuantParams, dequantizeReal, quantizeReal } from "./rounding.ts";

export type { QuantParams } from "./rounding.ts";

/** A model's input or output tensor: its type and shape (the descriptor's header) and its quantization parameters. */
export interface TensorQuantization extends QuantParams {
  dtype: "int8" | "int32";
  shape: readonly number[];
}

/** What `encodeInput` and `decodeOutput` need: the `input` and `output` of `oao model info --json`. */
export interface ModelQuantization {
  input: TensorQuantization;
  output: TensorQuantization;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function checkParams(parameter: string, t: TensorQuantization): void {
  const fail = (message: string): never => {
    throw new InvalidParameterError({ parameter, message });
  };
  if (t.dtype !== "int8" && t.dtype !== "int32") fail(`dtype ${JSON.stringify(t.dtype)} is not "int8" or "int32"`);
  if (!Array.isArray(t.shape) || t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d > 0)) fail(`shape ${JSON.stringify(t.shape)} is not a list of positive integers`);
  if (t.dtype === "int8") {
    if (!(Number.isFinite(t.scale) && t.scale > 0)) fail(`scale ${t.scale} is not a positive number`);
    if (!Number.isInteger(t.zeroPoint)) fail(`zeroPoint ${t.zeroPoint} is not an integer`);
    const C = t.shape[1] ?? 1;
    if ((t.channelScales === undefined) !== (t.channelZeroPoints === undefined)) fail("channelScales and channelZeroPoints come together");
    if (t.channelScales && (t.channelScales.length !== C || t.channelZeroPoints!.length !== C)) {
      fail(`${t.channelScales.length} channel scales and ${t.channelZeroPoints!.length} zero points for ${C} channels (axis 1 of [${t.shape.join(",")}])`);
    }
  }
}

/**
 * A request input from real values: `values` is the flat, row-major list of the model's input elements (for an
 * image `[1, C, H, W]`, channel by channel, row by row); an int8 input is quantized with the model's parameters, an
 * int32 input (token ids) must be integers. Returns the input bytes as hex, `requestInference({ input })`'s type.
 */
export function encodeInput(params: ModelQuantization, values: readonly number[]): Hex {
  const t = params.input;
  checkParams("params.input", t);
  const n = count(t.shape);
  if (values.length !== n) throw new InvalidParameterError({ parameter: "values", message: `the model's input [${t.shape.join(",")}] has ${n} elements, got ${values.length} values` });
  values.forEach((x, i) => {
    const ok = typeof x === "number" && (t.dtype === "int32" ? Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31 : Number.isFinite(x));
    if (!ok) throw new InvalidParameterError({ parameter: "values", message: `value ${i} is ${JSON.stringify(x)}, not ${t.dtype === "int32" ? "an int32 (this model takes integers, e.g. token ids)" : "a finite number"}`, value: x });
  });
  if (t.dtype === "int8") return bytesToHex(Uint8Array.from(quantizeReal(t, t.shape, values), (q) => q & 0xff));
  const out = new Uint8Array(4 * n);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => view.setInt32(4 * i, x, false));
  return bytesToHex(out);
}

/**
 * A model's output bytes (a result's `output`: the canonical bytes of the output tensor) as real values,
 * scale · (q − zeroPoint), row-major. An int32 output (e.g. an ArgMax's index) decodes the same way (its
 * parameters are scale 1, zero point 0).
 */
export function decodeOutput(params: ModelQuantization, output: Uint8Array | Hex): number[] {
  const t = params.output;
  checkParams("params.output", t);
  let bytes: Uint8Array;
  if (output instanceof Uint8Array) bytes = output;
  else if (isHex(output, { strict: true }) && output.length % 2 === 0) bytes = hexToBytes(output);
  else throw new InvalidParameterError({ parameter: "output", message: "expected bytes (a Uint8Array or an even-length 0x hex string)", value: output });
  const n = count(t.shape), size = t.dtype === "int8" ? 1 : 4;
  if (bytes.length !== n * size) throw new InvalidParameterError({ parameter: "output", message: `the model's output ${t.dtype} [${t.shape.join(",")}] is ${n * size} bytes, got ${bytes.length}` });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = Array.from({ length: n }, (_, i) => (size === 1 ? view.getInt8(i) : view.getInt32(4 * i, false)));
  return dequantizeReal(t, q);
}

/** A tensor header (§3.2): dtype byte (1 int8, 2 int32), rank byte, big-endian u32 dims. */
function decodeHeader(header: Hex): { dtype: "int8" | "int32"; shape: number[] } {
  const b = hexToBytes(header);
  const dtype = b[0] === 1 ? "int8" : b[0] === 2 ? "int32" : undefined;
  if (dtype === undefined || b.length !== 2 + 4 * b[1]!) throw new InvalidModelFileError({ part: "descriptor", message: `tensor header ${header} is not int8/int32 with rank·4 dims` });
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { dtype, shape: Array.from({ length: b[1]! }, (_, i) => view.getUint32(2 + 4 * i, false)) };
}

/**
 * The quantization of a model from its model file (`model.oao`, §3.7): the input and output tensor headers of its
 * descriptor and the parameters of its metadata, after checking the file's integrity hash and that the metadata is
 * the one the descriptor commits to (`metadataHash`, hence `modelRoot`). No Node APIs: works on a picked file.
 */
export function modelQuantizationFromFile(file: Uint8Array | Hex): ModelQuantization {
  const b = file instanceof Uint8Array ? file : hexToBytes(file);
  const descriptor = decodeModelDescriptor(modelDescriptorFromFile(b)); // checks the framing and the integrity hash
  const fail = (message: string): never => {
    throw new InvalidModelFileError({ part: "file", message });
  };
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = 16 + view.getUint32(12, false); // "OAOMODEL" ‖ u32 version ‖ u32 descriptor length ‖ descriptor
  if (at + 4 > b.length - 32) fail("truncated before the metadata");
  const len = view.getUint32(at, false);
  if (at + 4 + len > b.length - 32) fail(`metadata length ${len} runs past the end of the file`);
  const metadataBytes = b.subarray(at + 4, at + 4 + len);
  if (keccak256(metadataBytes) !== descriptor.metadataHash) fail(`its metadata hashes to ${keccak256(metadataBytes)}, not the descriptor's metadataHash ${descriptor.metadataHash}`);
  let metadata: { input?: QuantParams; output?: QuantParams };
  try {
    metadata = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(metadataBytes)) as typeof metadata;
  } catch (e) {
    return fail(`its metadata is not UTF-8 JSON (${(e as Error).message})`);
  }
  const tensor = (header: Hex, q: QuantParams | undefined, what: string): TensorQuantization => {
    if (!q || typeof q.scale !== "number" || typeof q.zeroPoint !== "number") fail(`its metadata has no ${what} scale and zeroPoint`);
    const { scale, zeroPoint, channelScales, channelZeroPoints } = q!;
    return { ...decodeHeader(header), scale, zeroPoint, ...(channelScales && channelZeroPoints ? { channelScales, channelZeroPoints } : {}) };
  };
  return { input: tensor(descriptor.inputHeader, metadata.input, "input"), output: tensor(descriptor.outputHeader, metadata.output, "output") };
}

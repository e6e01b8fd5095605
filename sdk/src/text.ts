/**
 * Text models (docs/protocol.md §1.4, §1.7, §3.3): a prompt is UTF-8 bytes, 1..C of them (C the model's context,
 * `getModel(id).inputBytes`); the output is int8 [T] bytes, and the text is what comes before the first 0x00 — what
 * the oracle hands a consumer's callback.
 */
import { type Hex, hexToBytes, isHex } from "viem";
import { InvalidParameterError } from "./errors/parameters.ts";

/** The UTF-8 bytes of a prompt, as a text model's request input. */
export function encodePrompt(prompt: string): Uint8Array {
  return new TextEncoder().encode(prompt);
}

/**
 * The text of a text model's output: its bytes up to, not including, the first 0x00 (all of them if there is none),
 * decoded as UTF-8 with U+FFFD for malformed sequences (a model may stop inside a multi-byte character).
 */
export function decodeText(output: Hex | Uint8Array): string {
  let bytes: Uint8Array;
  if (output instanceof Uint8Array) bytes = output;
  else if (isHex(output, { strict: true }) && output.length % 2 === 0) bytes = hexToBytes(output);
  else throw new InvalidParameterError({ parameter: "output", message: "expected bytes (a Uint8Array or an even-length 0x hex string)", value: output });
  const end = bytes.indexOf(0);
  return new TextDecoder("utf-8", { fatal: false }).decode(end < 0 ? bytes : bytes.subarray(0, end));
}

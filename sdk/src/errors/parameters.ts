import { BaseError } from "./base.ts";

export type InvalidParameterErrorType = InvalidParameterError & { name: "InvalidParameterError" };
/** A parameter is wrong before anything is sent; the message says which one and what to pass. */
export class InvalidParameterError extends BaseError {
  readonly parameter: string;
  constructor({ parameter, message, value }: { parameter: string; message: string; value?: unknown }) {
    super(`Invalid \`${parameter}\`: ${message}`, {
      name: "InvalidParameterError",
      metaMessages: value !== undefined ? [`Got: ${typeof value === "bigint" ? `${value}n` : JSON.stringify(value)}`] : undefined,
    });
    this.parameter = parameter;
  }
}

export type MissingAddressErrorType = MissingAddressError & { name: "MissingAddressError" };
/** An action needs a contract address the caller did not configure. */
export class MissingAddressError extends BaseError {
  constructor({ contract }: { contract: string }) {
    super(`No address configured for the ${contract} contract.`, {
      name: "MissingAddressError",
      details: `Pass \`addresses.${contract}\` to oaoActions({ addresses }) or \`address\` to the action.`,
    });
  }
}

export type InvalidModelFileErrorType = InvalidModelFileError & { name: "InvalidModelFileError" };
/** A model file or descriptor (docs/protocol.md §3.3, §3.7) is malformed; the message names the part. */
export class InvalidModelFileError extends BaseError {
  constructor({ message, part }: { message: string; part: "file" | "descriptor" }) {
    super(`Invalid model ${part}: ${message}`, {
      name: "InvalidModelFileError",
      details:
        part === "file"
          ? "Pass the bytes of a model.oao file written by the keeper (`npx oao model …`), or the descriptor itself as `descriptor`."
          : "A descriptor is the preimage of the model's modelRoot (docs/protocol.md §3.3): 'OAOM', version 1 or 2, node and weight counts, three roots, the input and output tensor headers, and for version 2 one inputMode byte (0 fixed, 1 text).",
    });
  }
}

export type InputLengthMismatchErrorType = InputLengthMismatchError & { name: "InputLengthMismatchError" };
/**
 * A request input is not the model's input tensor: the oracle would revert with
 * `InputLengthMismatch(modelId, expected, given)` (docs/protocol.md §1.4, §3.4), so nothing is sent.
 */
export class InputLengthMismatchError extends BaseError {
  readonly modelId: bigint;
  /** Byte length of the model's input tensor (`getModel(modelId).inputBytes`). */
  readonly expected: number;
  /** Byte length of the input given. */
  readonly given: number;
  constructor({ modelId, expected, given }: { modelId: bigint; expected: number; given: number }) {
    super(`Invalid \`input\`: model ${modelId} takes ${expected} input bytes, got ${given}.`, {
      name: "InputLengthMismatchError",
      details:
        "A request input is the canonical bytes of the model's input tensor (docs/protocol.md §3.2): its length is fixed by the model's input header (dtype size × element count).",
    });
    this.modelId = modelId;
    this.expected = expected;
    this.given = given;
  }
}

export type PromptLengthErrorType = PromptLengthError & { name: "PromptLengthError" };
/**
 * A text model's prompt is empty or longer than the model's context: the oracle would revert with
 * `EmptyInput(modelId)` or `InputTooLong(modelId, max, given)` (docs/protocol.md §1.4), so nothing is sent.
 */
export class PromptLengthError extends BaseError {
  readonly modelId: bigint;
  /** The model's context C: the longest prompt, in bytes (`getModel(modelId).inputBytes`). */
  readonly max: number;
  /** Byte length of the prompt given (UTF-8). */
  readonly given: number;
  constructor({ modelId, max, given }: { modelId: bigint; max: number; given: number }) {
    super(`Invalid \`prompt\`: model ${modelId} takes a prompt of 1 to ${max} bytes, got ${given}.`, {
      name: "PromptLengthError",
      details:
        "A text model's request input is the prompt's UTF-8 bytes, at least one and at most the model's context (docs/protocol.md §1.4, §3.3): shorten the prompt (a multi-byte character counts all its bytes).",
    });
    this.modelId = modelId;
    this.max = max;
    this.given = given;
  }
}

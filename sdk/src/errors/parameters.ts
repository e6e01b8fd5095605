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
          : "A descriptor is the preimage of the model's modelRoot (docs/protocol.md §3.3): 'OAOM', version 1, node and weight counts, three roots, the input and output tensor headers.",
    });
  }
}

export { BaseError, type BaseErrorParameters, type BaseErrorType } from "./base.ts";
export {
  InputLengthMismatchError,
  type InputLengthMismatchErrorType,
  InvalidModelFileError,
  type InvalidModelFileErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  MissingAddressError,
  type MissingAddressErrorType,
  PromptLengthError,
  type PromptLengthErrorType,
} from "./parameters.ts";
export {
  RequestCancelledError,
  type RequestCancelledErrorType,
  RequestExpiredError,
  type RequestExpiredErrorType,
  RequestNotFoundError,
  type RequestNotFoundErrorType,
  WaitAbortedError,
  type WaitAbortedErrorType,
  WaitTimeoutError,
  type WaitTimeoutErrorType,
} from "./wait.ts";

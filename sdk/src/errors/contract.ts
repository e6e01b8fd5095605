import { BaseError as ViemBaseError, ContractFunctionRevertedError, type ContractErrorArgs } from "viem";
import type { OaoErrorAbiItem } from "../contracts.ts";
import { BaseError } from "./base.ts";

/** Name of any custom error of the oracle, staking and task manager contracts. */
export type OaoErrorName = OaoErrorAbiItem["name"];
/** The decoded arguments of custom error `name`, typed from the ABI. */
export type OaoErrorArgs<name extends OaoErrorName> = ContractErrorArgs<readonly OaoErrorAbiItem[], name>;

export type ContractRevertErrorType = ContractRevertError & { name: "ContractRevertError" };
/**
 * A contract call reverted with one of the protocol's custom errors. `errorName` and `args` are
 * typed: narrow with `isContractRevertError(err, "InsufficientFee")` to read `err.args`.
 */
export class ContractRevertError<name extends OaoErrorName = OaoErrorName> extends BaseError {
  readonly errorName: name;
  readonly args: OaoErrorArgs<name>;
  readonly functionName: string | undefined;
  constructor({
    errorName,
    args,
    functionName,
    cause,
  }: { errorName: name; args: OaoErrorArgs<name>; functionName?: string; cause?: unknown }) {
    const shown = (args as readonly unknown[]).map((a) => (typeof a === "bigint" ? a.toString() : String(a))).join(", ");
    super(`${functionName ? `${functionName} reverted` : "The contract reverted"} with ${errorName}(${shown}).`, {
      name: "ContractRevertError",
      cause,
    });
    this.errorName = errorName;
    this.args = args;
    this.functionName = functionName;
  }
}

export type UnknownRevertErrorType = UnknownRevertError & { name: "UnknownRevertError" };
/** A revert without a recognizable custom error (a panic, a string reason, or no data). */
export class UnknownRevertError extends BaseError {
  readonly reason: string | undefined;
  constructor({ reason, functionName, cause }: { reason?: string; functionName?: string; cause?: unknown }) {
    super(`${functionName ? `${functionName} reverted` : "The contract reverted"}${reason ? `: ${reason}` : "."}`, {
      name: "UnknownRevertError",
      cause,
    });
    this.reason = reason;
  }
}

export function isContractRevertError<name extends OaoErrorName>(
  err: unknown,
  errorName: name,
): err is ContractRevertError<name> {
  return err instanceof ContractRevertError && err.errorName === errorName;
}

/**
 * Turns a viem error from a contract call into the SDK's error: a typed ContractRevertError for a
 * custom error, an UnknownRevertError for other reverts, or a BaseError wrapping anything else.
 */
export function toOaoError(err: unknown, functionName?: string): BaseError {
  if (err instanceof BaseError) return err;
  if (err instanceof ViemBaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      if (reverted.data?.errorName && reverted.data.errorName !== "Error" && reverted.data.errorName !== "Panic") {
        return new ContractRevertError({
          errorName: reverted.data.errorName as OaoErrorName,
          args: (reverted.data.args ?? []) as never,
          functionName,
          cause: err,
        });
      }
      return new UnknownRevertError({ reason: reverted.reason, functionName, cause: err });
    }
    return new BaseError(err.shortMessage, { cause: err, name: "OaoBaseError" });
  }
  return new BaseError(err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Errors of the VM. A failing step (docs/protocol.md §4.3-§4.6) throws a `VmStepError` whose
 * `reason` is the name of the custom error `MIPS.step` reverts with and whose `args` are its
 * values, so a test can compare the two implementations' failures one for one.
 */

export type VmStepErrorReason =
  | "InvalidState"
  | "InvalidProofLength"
  | "InvalidMemoryProof"
  | "UnalignedAccess"
  | "InvalidInstruction"
  | "JumpInDelaySlot"
  | "DivisionByZero"
  | "Trap"
  | "InvalidSyscall"
  | "PartOffsetOOB"
  | "PreimageNotFound";

/** Root of every error thrown by keeper/vm. */
export class VmError extends Error {
  override name = "VmError";
}

/** A step that cannot execute: the same condition reverts `MIPS.step` on chain. */
export class VmStepError extends VmError {
  override name = "VmStepError";
  constructor(
    readonly reason: VmStepErrorReason,
    readonly args: readonly (number | bigint | string)[],
    details: string,
  ) {
    super(`${reason}(${args.map(formatArg).join(", ")}): ${details}`);
  }
}

/** A program file the loader refuses (§4.7). */
export class ElfError extends VmError {
  override name = "ElfError";
}

function formatArg(a: number | bigint | string): string {
  return typeof a === "number" ? `0x${(a >>> 0).toString(16).padStart(8, "0")}` : a.toString();
}

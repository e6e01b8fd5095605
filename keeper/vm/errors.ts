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

/**
 * A write needed a new memory page beyond the machine's cap (`Memory.maxPages`): a host limit, not a failing step
 * (`MIPS.step` has no such limit). Thrown before the step changes anything, so the machine is left at the state
 * before that step, in every mode alike.
 */
export class VmMemoryLimitError extends VmError {
  override name = "VmMemoryLimitError";
  constructor(
    readonly page: number,
    readonly maxPages: number,
  ) {
    super(
      `memory cap reached: writing page 0x${(page >>> 0).toString(16).padStart(5, "0")} (address 0x${((page << 12) >>> 0).toString(16).padStart(8, "0")}) ` +
        `needs a page beyond the cap of ${maxPages} pages of 4 KiB (${formatBytes(maxPages * 4096)})`,
    );
  }
}

function formatBytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

/** A program file the loader refuses (§4.7). */
export class ElfError extends VmError {
  override name = "ElfError";
}

function formatArg(a: number | bigint | string): string {
  return typeof a === "number" ? `0x${(a >>> 0).toString(16).padStart(8, "0")}` : a.toString();
}

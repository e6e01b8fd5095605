/**
 * Lying VM traces, for fault injection (`vm:N`) and for testing the solver: the truth up to step
 * N − 1, made-up state hashes from step N on. The made-up hash at the final position carries the
 * status the liar's side must show (§5.4: VALID for the defender, INVALID for the challenger), the
 * others the UNFINISHED status, as a real unfinished run would. `stepData` stays the truth: a liar
 * cannot make the chain execute anything else.
 */
import { keccak256 } from "../vm/keccak.ts";
import { toHex } from "../vm/hex.ts";
import { VmStatus } from "../vm/state.ts";
import type { StepData, VmTraceProvider } from "./trace-provider.ts";
import { GameError, type Hex } from "./types.ts";

/** A deterministic fake state hash for `position` with `status` in its top byte. */
export function fakeStateHash(salt: string, position: bigint, status: VmStatus): Hex {
  const h = keccak256(new TextEncoder().encode(`oao-fake-vm-state/${salt}/${position}`));
  h[0] = status;
  return toHex(h);
}

export class LyingVmTrace implements VmTraceProvider {
  constructor(
    private readonly truth: VmTraceProvider,
    /** First position whose value is a lie (≥ 1: position 0 is the agreed absolute prestate). */
    private readonly fromStep: bigint,
    /** T: the position of the final state the liar posts at the phase start. */
    private readonly finalPosition: bigint,
    private readonly finalStatus: VmStatus,
    private readonly salt = "liar",
  ) {
    if (fromStep < 1n || fromStep > finalPosition) {
      throw new GameError(`a VM lie must start at a step in 1..${finalPosition} (the trace's final position), got ${fromStep}`);
    }
  }

  valueAt(position: bigint): Hex {
    if (position < this.fromStep) return this.truth.valueAt(position);
    return fakeStateHash(this.salt, position, position === this.finalPosition ? this.finalStatus : VmStatus.UNFINISHED);
  }

  stepData(position: bigint): StepData {
    return this.truth.stepData(position);
  }

  exitStep(limit: bigint): bigint | undefined {
    return this.truth.exitStep?.(limit);
  }
}

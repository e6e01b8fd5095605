/**
 * Runs the guest node program in the fraud-proof VM (keeper/vm) on a node check's local data and
 * preimages (keeper/graph/preimages.ts), and computes its absolute prestate (docs/protocol.md §4.7).
 * Pure: the caller supplies the ELF bytes.
 */
import { loadElf, MapPreimageSource, runElf, type Hex } from "../../vm/index.ts";
import type { NodeCheck } from "../../graph/preimages.ts";

export interface VmNodeRun {
  exitCode: number;
  steps: number;
  /** final VM state hash (its first byte is the status, §4.1) */
  stateHash: Hex;
  stderr: string;
}

export function preimageSource(check: NodeCheck): MapPreimageSource {
  const src = new MapPreimageSource();
  for (const [ident, data] of check.locals) src.setLocal(ident, data);
  for (const data of check.preimages.byKey.values()) src.addKeccak(data);
  return src;
}

export function runNodeCheckInVm(elf: Uint8Array, check: NodeCheck, maxSteps = 2 ** 32): VmNodeRun {
  const r = runElf(elf, { preimages: preimageSource(check), maxSteps });
  if (!r.exited) throw new Error(`the guest did not exit within ${maxSteps} steps`);
  return { exitCode: r.exitCode, steps: r.steps, stateHash: r.stateHash, stderr: new TextDecoder().decode(r.stderr) };
}

/** Hash of the program's initial VM state: what a game registers as the absolute prestate. */
export function absolutePrestate(elf: Uint8Array): Hex {
  return loadElf(elf).stateHash();
}

/**
 * keeper/vm: the MIPS32 fraud-proof VM of docs/protocol.md §4, in pure TypeScript (no I/O, no
 * clock). Typical use:
 *
 *   const trace = Trace.fromElf(elfBytes, { preimages });
 *   const result = trace.run(maxSteps);          // fast mode, snapshots on the way
 *   trace.stateHashAt(n);                        // state hash at any step
 *   trace.witness(n);                            // what MIPS.step needs for step n
 *   verifyStep(w.preState, w.proof, witnessPreimageReader(w)) === w.postStateHash
 */
export { ElfError, VmError, VmMemoryLimitError, VmStepError, type VmStepErrorReason } from "./errors.ts";
export { type Hex, fromHex, toHex } from "./hex.ts";
export { keccak256 } from "./keccak.ts";
export {
  HEAP_START,
  INITIAL_SP,
  STATE_SIZE,
  VmStatus,
  type VmState,
  decodeState,
  encodeState,
  stateHash,
  stateHashBytes,
  statusOfHash,
  vmStatus,
} from "./state.ts";
export {
  MEMORY_DEPTH,
  MEMORY_PROOF_SIZE,
  Memory,
  type MemorySnapshot,
  checkProof,
  rootFromProof,
  wordFromProof,
  zeroHash,
} from "./memory.ts";
export {
  INSTRUCTIONS,
  type InstructionEncoding,
  decodeInstruction,
  executeMipsInstruction,
  signExtend,
} from "./instructions.ts";
export { Fd, Sys, handleSyscall } from "./syscalls.ts";
export {
  KEY_TYPE_KECCAK,
  KEY_TYPE_LOCAL,
  MAX_PREIMAGE_BYTES,
  type LocalContext,
  MapPreimageSource,
  type PreimagePart,
  type PreimageSource,
  checkPreimage,
  framePreimage,
  keccakKey,
  localKey,
  localizeKey,
  preimagePart,
} from "./preimage.ts";
export { Machine, type MachineOptions, type MachineSnapshot, OutputCapture } from "./machine.ts";
export { type ElfProgram, loadElf, parseElf } from "./elf.ts";
export { DEFAULT_JIT_THRESHOLD, type JitStats, MAX_BLOCK, blockSource, jitStats } from "./jit.ts";
export {
  type PreimageWitness,
  type StepWitness,
  type FastOptions,
  type VmMode,
  executeStep,
  runFast,
  runInterpreter,
  setVmMode,
  vmMode,
  stepMachine,
  stepWithWitness,
  verifyStep,
  witnessPreimageReader,
} from "./step.ts";
export {
  DEFAULT_SNAPSHOT_INTERVAL,
  type RunOptions,
  type RunResult,
  type StepWitnessJson,
  Trace,
  type TraceOptions,
  type TraceWitnessRange,
  runElf,
  traceWitnesses,
  witnessToJson,
} from "./trace.ts";

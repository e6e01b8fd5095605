/**
 * A program's execution trace with snapshots, for the dispute game: the state hash at any step
 * and the witness of any step without re-running from step 0.
 *
 * `Trace.run` executes in fast mode and keeps a machine snapshot every `snapshotInterval` steps
 * (registers + copy-on-write pages: a snapshot costs O(mapped pages) and later writes copy only
 * the pages they touch). `machineAt(n)` resumes the nearest snapshot at or below n and runs the
 * rest fast; page subtree roots are cached per page object, so the memory root there rehashes only
 * pages written since. Past the exit, every step is the exited state (§4.3: it steps to itself).
 *
 * Memory stays bounded on long runs: when the trace holds `maxSnapshots` snapshots it drops every
 * other one and doubles the interval (snapshots stay at multiples of the interval), so a run of
 * 1.6·10^9 steps keeps ≤ `maxSnapshots` snapshots 2^21 steps apart instead of 50,000 at 2^15.
 */
import { ElfError } from "./errors.ts";
import { type Hex, toHex } from "./hex.ts";
import { loadElf } from "./elf.ts";
import { Machine, type MachineOptions, type MachineSnapshot } from "./machine.ts";
import type { LocalContext, PreimageSource } from "./preimage.ts";
import { type StepWitness, runFast, stepWithWitness } from "./step.ts";

export const DEFAULT_SNAPSHOT_INTERVAL = 1 << 22;
/** Snapshots kept at most before thinning (each holds its page table and the pages written after it). */
export const DEFAULT_MAX_SNAPSHOTS = 1024;

export interface TraceOptions {
  preimages?: PreimageSource;
  /** Steps between snapshots at first (default 4,194,304: about 30 ms of re-execution). */
  snapshotInterval?: number;
  /** Snapshots kept at most: past it, every other one is dropped and the interval doubles (default 1024, at least 2). */
  maxSnapshots?: number;
  /** Localizes local preimage keys in witnesses for the on-chain oracle (§4.5). */
  localContext?: LocalContext;
  outputLimit?: number;
}

export interface RunResult {
  exited: boolean;
  exitCode: number;
  /** Steps executed: the step counter of the final state. */
  steps: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  stateHash: Hex;
}

export class Trace {
  private snapshots: MachineSnapshot[] = [];
  private interval: number;
  private readonly maxSnapshots: number;
  private readonly machineOptions: MachineOptions;
  /** The machine at the furthest step run so far. */
  private head: Machine;
  /**
   * A private machine left by the last stateHashAt/witness query: reused when the next query is
   * at or after it and closer than any snapshot, so ascending queries rehash only what changed.
   */
  private cursor: Machine | undefined;

  constructor(
    initial: Machine,
    private readonly options: TraceOptions = {},
  ) {
    this.interval = options.snapshotInterval ?? DEFAULT_SNAPSHOT_INTERVAL;
    if (!Number.isInteger(this.interval) || this.interval < 1) {
      throw new RangeError(`snapshotInterval must be a positive integer, got ${options.snapshotInterval}`);
    }
    this.maxSnapshots = options.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS;
    if (!Number.isInteger(this.maxSnapshots) || this.maxSnapshots < 2) {
      throw new RangeError(`maxSnapshots must be an integer of at least 2, got ${options.maxSnapshots}`);
    }
    this.machineOptions = { preimages: options.preimages, outputLimit: options.outputLimit };
    this.head = initial;
    this.snapshots.push(initial.snapshot());
  }

  static fromElf(elf: Uint8Array, options: TraceOptions = {}): Trace {
    return new Trace(loadElf(elf, { preimages: options.preimages, outputLimit: options.outputLimit }), options);
  }

  /** The step counter of the furthest state reached. */
  get headStep(): number {
    return this.head.step;
  }

  get exited(): boolean {
    return this.head.exited;
  }

  /** The machine at the furthest step (do not step it: use run). */
  get headMachine(): Machine {
    return this.head;
  }

  /** Steps between snapshots now (it doubles each time the snapshots are thinned). */
  get snapshotInterval(): number {
    return this.interval;
  }

  /** Snapshots held now. */
  get snapshotCount(): number {
    return this.snapshots.length;
  }

  /**
   * Runs until the program exits or the step counter reaches `untilStep`, snapshotting on the way.
   * Returns the result at the head.
   */
  run(untilStep: number): RunResult {
    const m = this.head;
    while (!m.exited && m.step < untilStep) {
      const nextSnapshot = (Math.floor(m.step / this.interval) + 1) * this.interval;
      runFast(m, Math.min(nextSnapshot, untilStep) - m.step);
      if (m.step === nextSnapshot && !m.exited) {
        if (this.snapshots.length >= this.maxSnapshots) this.thin();
        if (m.step % this.interval === 0) this.snapshots.push(m.snapshot());
      }
    }
    return resultOf(m);
  }

  /** Doubles the interval, keeping the first snapshot and those at multiples of the new interval. */
  private thin(): void {
    this.interval *= 2;
    const first = this.snapshots[0]!;
    this.snapshots = [first, ...this.snapshots.slice(1).filter((s) => s.step % this.interval === 0)];
  }

  /** A fresh machine at step n, owned by the caller (n beyond the exit gives the exited state). */
  machineAt(n: number): Machine {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`step must be a non-negative integer, got ${n}`);
    if (n > this.head.step && !this.head.exited) this.run(n);
    const snap = this.snapshotAtOrBefore(n);
    const m = Machine.fromSnapshot(snap, this.machineOptions);
    runFast(m, n - m.step);
    return m;
  }

  /** The private cursor moved to step n (from itself or from the nearest snapshot). */
  private cursorAt(n: number): Machine {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`step must be a non-negative integer, got ${n}`);
    if (n > this.head.step && !this.head.exited) this.run(n);
    const snap = this.snapshotAtOrBefore(n);
    const c = this.cursor;
    if (c === undefined || c.step > n || (c.step < snap.step && !c.exited) || (c.exited && c.step < snap.step)) {
      this.cursor = Machine.fromSnapshot(snap, this.machineOptions);
    }
    const m = this.cursor!;
    runFast(m, n - m.step);
    return m;
  }

  private snapshotAtOrBefore(n: number): MachineSnapshot {
    let lo = 0;
    let hi = this.snapshots.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.snapshots[mid]!.step <= n) lo = mid;
      else hi = mid - 1;
    }
    return this.snapshots[lo]!;
  }

  /** The state hash at step n. */
  stateHashAt(n: number): Hex {
    return this.cursorAt(n).stateHash();
  }

  /** The witness for executing step n (from the state with step counter n). */
  witness(n: number): StepWitness {
    return stepWithWitness(this.cursorAt(n), this.options.localContext);
  }
}

function resultOf(m: Machine): RunResult {
  return {
    exited: m.exited,
    exitCode: m.exitCode,
    steps: m.step,
    stdout: m.stdout.bytes(),
    stderr: m.stderr.bytes(),
    stateHash: m.stateHash(),
  };
}

export interface RunOptions extends MachineOptions {
  maxSteps?: number;
}

/** Loads and runs a program in fast mode (no snapshots); stops at exit or maxSteps. */
export function runElf(elf: Uint8Array, options: RunOptions = {}): RunResult {
  const m = loadElf(elf, options);
  const max = options.maxSteps ?? Number.MAX_SAFE_INTEGER;
  while (!m.exited && m.step < max) runFast(m, Math.min(max - m.step, 1 << 30));
  return resultOf(m);
}

export interface TraceWitnessRange {
  /** First step (default 0). */
  from?: number;
  /** Stop before this step (default: after the exit step). */
  to?: number;
  localContext?: LocalContext;
}

/**
 * The witnesses of steps [from, to) of a program, for the Solidity differential tests: each one is
 * exactly what `MIPS.step(preState, proof, localContext)` takes, and its `postStateHash` is what it
 * must return. Stops after the step that exits.
 */
export function* traceWitnesses(
  elf: Uint8Array,
  preimages: PreimageSource | undefined,
  range: TraceWitnessRange = {},
): Generator<StepWitness> {
  const m = loadElf(elf, { preimages });
  const from = range.from ?? 0;
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  runFast(m, from);
  if (m.step !== from && !m.exited) throw new ElfError(`could not reach step ${from}`);
  while (!m.exited && m.step < to) yield stepWithWitness(m, range.localContext);
}

/** A witness with every byte field as a 0x-hex string (CLI, fixtures). */
export interface StepWitnessJson {
  step: string;
  preState: Hex;
  preStateHash: Hex;
  proof: Hex;
  preimage?: { key: Hex; oracleKey: Hex; offset: string; part: Hex; partLen: string; data: Hex };
  postState: Hex;
  postStateHash: Hex;
}

export function witnessToJson(w: StepWitness): StepWitnessJson {
  const out: StepWitnessJson = {
    step: w.step.toString(),
    preState: toHex(w.preState),
    preStateHash: w.preStateHash,
    proof: toHex(w.proof),
    postState: toHex(w.postState),
    postStateHash: w.postStateHash,
  };
  if (w.preimage !== undefined) {
    const p = w.preimage;
    out.preimage = {
      key: toHex(p.key),
      oracleKey: toHex(p.oracleKey),
      offset: p.offset.toString(),
      part: toHex(p.part),
      partLen: p.partLen.toString(),
      data: toHex(p.data),
    };
  }
  return out;
}

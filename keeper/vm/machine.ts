/**
 * A running VM: the state of §4.1 held unpacked (registers, control, preimage cursor), the
 * Merkle memory of §4.2, captured stdout/stderr, and the preimage source. The step functions in
 * step.ts execute it; `encodeState()` packs it (computing the memory root).
 */
import { VmStepError } from "./errors.ts";
import { type Hex, bytesEqual, toHex } from "./hex.ts";
import { Memory, type MemorySnapshot } from "./memory.ts";
import {
  type PreimagePart,
  type PreimageSource,
  framePreimage,
  preimagePart,
} from "./preimage.ts";
import { STATE_SIZE, type VmState, encodeState, stateHash } from "./state.ts";
import { Fd, type SyscallIO, type SyscallState } from "./syscalls.ts";

/** Captured bytes of one output descriptor, capped so a runaway guest cannot exhaust memory. */
export class OutputCapture {
  private chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.size;
  }

  /** How many more bytes fit. */
  room(): number {
    return this.limit - this.size;
  }

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }

  text(): string {
    return new TextDecoder("utf-8").decode(this.bytes());
  }

  clone(): OutputCapture {
    const c = new OutputCapture(this.limit);
    c.push(this.bytes());
    c.truncated = this.truncated;
    return c;
  }
}

export interface MachineOptions {
  /** Serves the guest's preimage reads and receives its hints. */
  preimages?: PreimageSource;
  /** Bytes of stdout and of stderr kept, each (default 16 MiB); the rest is dropped. */
  outputLimit?: number;
}

/** Everything needed to resume a machine at a step (memory copy-on-write). */
export interface MachineSnapshot {
  readonly step: number;
  readonly pc: number;
  readonly nextPC: number;
  readonly lo: number;
  readonly hi: number;
  readonly heap: number;
  readonly exited: boolean;
  readonly exitCode: number;
  readonly registers: Int32Array;
  readonly preimageKey: Uint8Array;
  readonly preimageOffset: number;
  readonly memory: MemorySnapshot;
  readonly stdoutLength: number;
  readonly stderrLength: number;
}

const DEFAULT_OUTPUT_LIMIT = 16 << 20;

export class Machine implements SyscallState, SyscallIO {
  pc = 0;
  nextPC = 4;
  lo = 0;
  hi = 0;
  heap = 0;
  exited = false;
  exitCode = 0;
  /** Instructions executed so far (a JS number: exact up to 2^53). */
  step = 0;
  readonly registers = new Int32Array(32);
  preimageKey = new Uint8Array(32);
  preimageOffset = 0;
  readonly memory: Memory;
  readonly stdout: OutputCapture;
  readonly stderr: OutputCapture;
  preimages: PreimageSource | undefined;
  private cachedKey: Uint8Array | undefined;
  private cachedFrame: Uint8Array | undefined;
  /** cachedKey as 8 words, and the key array whose word view keyWords is (currentFrame). */
  private cachedKeyWords: Int32Array | undefined;
  private keyWordsOf: Uint8Array | undefined;
  private keyWords: Int32Array | undefined;
  private fastIO: SyscallIO | undefined;

  constructor(memory: Memory = new Memory(), options: MachineOptions = {}) {
    this.memory = memory;
    this.preimages = options.preimages;
    const limit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    this.stdout = new OutputCapture(limit);
    this.stderr = new OutputCapture(limit);
  }

  get mem(): Memory {
    return this.memory;
  }

  /** §4.5 readPreimage, served from the preimage source (framing the data). */
  readPreimage(key: Uint8Array, offset: number): PreimagePart {
    return this.readPreimageInto(key, offset, undefined);
  }

  /** readPreimage into `out` (its part overwritten) or a new part. */
  private readPreimageInto(key: Uint8Array, offset: number, out: PreimagePart | undefined): PreimagePart {
    if (this.cachedKey === undefined || !bytesEqual(this.cachedKey, key)) {
      if (this.preimages === undefined) {
        throw new VmStepError("PreimageNotFound", [toHex(key)], "the guest read a preimage but the machine has no preimage source");
      }
      this.cachedFrame = framePreimage(this.preimages.getPreimage(key));
      this.cachedKey = key.slice();
      this.cachedKeyWords = key.length === 32 ? new Int32Array(this.cachedKey.buffer, 0, 8) : undefined;
    }
    return preimagePart(this.cachedFrame!, key, offset, out);
  }

  /**
   * The framed preimage under the current key when it is the one already fetched (fast mode's in-block reads,
   * jit.ts: no source call, no part copied), else undefined.
   */
  currentFrame(): Uint8Array | undefined {
    const cached = this.cachedKeyWords;
    if (cached === undefined) return undefined;
    const key = this.preimageKey;
    // The key compared as 8 words (it is 32 bytes long in every state); a view made once per key array.
    if (key !== this.keyWordsOf) {
      this.keyWordsOf = key;
      this.keyWords = key.length === 32 && (key.byteOffset & 3) === 0 ? new Int32Array(key.buffer, key.byteOffset, 8) : undefined;
    }
    const k = this.keyWords;
    if (k === undefined) return bytesEqual(this.cachedKey!, key) ? this.cachedFrame : undefined;
    for (let i = 0; i < 8; i++) if (k[i] !== cached[i]) return undefined;
    return this.cachedFrame;
  }

  /**
   * The io of the syscalls fast mode runs (jit.ts): this machine's, except that readPreimage fills one reused part,
   * which handleSysRead reads at once and drops (witnesses keep their parts: they use `readPreimage`).
   */
  get syscallIO(): SyscallIO {
    if (this.fastIO === undefined) {
      const scratch: PreimagePart = { part: new Uint8Array(32), partLen: 0 };
      this.fastIO = {
        mem: this.memory,
        readPreimage: (key, offset) => this.readPreimageInto(key, offset, scratch),
        output: (fd, addr, count) => this.output(fd, addr, count),
      };
    }
    return this.fastIO;
  }

  /** The unframed data under a key (for witnesses). */
  preimageData(key: Uint8Array): Uint8Array {
    this.readPreimage(key, 0);
    return this.cachedFrame!.subarray(8);
  }

  output(fd: number, addr: number, count: number): void {
    if (fd === Fd.HINT_WRITE) {
      this.preimages?.hint?.(this.memory.readBytes(addr, Math.min(count, 1 << 20)));
      return;
    }
    const sink = fd === Fd.STDOUT ? this.stdout : this.stderr;
    const n = Math.min(count, sink.room());
    if (n < count) sink.truncated = true;
    if (n > 0) sink.push(this.memory.readBytes(addr, n));
  }

  /** The unpacked state (computes the memory root). */
  state(): VmState {
    const registers = new Uint32Array(32);
    for (let i = 0; i < 32; i++) registers[i] = this.registers[i]! >>> 0;
    return {
      memRoot: this.memory.root(),
      preimageKey: this.preimageKey.slice(),
      preimageOffset: this.preimageOffset >>> 0,
      pc: this.pc >>> 0,
      nextPC: this.nextPC >>> 0,
      lo: this.lo >>> 0,
      hi: this.hi >>> 0,
      heap: this.heap >>> 0,
      exitCode: this.exitCode,
      exited: this.exited,
      step: BigInt(this.step),
      registers,
    };
  }

  /** The packed 226-byte state (§4.1). */
  encodeState(): Uint8Array {
    const packed = encodeState(this.state());
    if (packed.length !== STATE_SIZE) throw new Error("unreachable: bad state size");
    return packed;
  }

  stateHash(): Hex {
    return stateHash(this.encodeState());
  }

  /**
   * A snapshot to resume from later. The memory becomes copy-on-write; captured output is
   * remembered by length (the captures only grow).
   */
  snapshot(): MachineSnapshot {
    return {
      step: this.step,
      pc: this.pc,
      nextPC: this.nextPC,
      lo: this.lo,
      hi: this.hi,
      heap: this.heap,
      exited: this.exited,
      exitCode: this.exitCode,
      registers: this.registers.slice(),
      preimageKey: this.preimageKey.slice(),
      preimageOffset: this.preimageOffset,
      memory: this.memory.snapshot(),
      stdoutLength: this.stdout.length,
      stderrLength: this.stderr.length,
    };
  }

  /** A machine resumed from a snapshot (output captures start empty). */
  static fromSnapshot(snap: MachineSnapshot, options: MachineOptions = {}): Machine {
    const m = new Machine(Memory.fromSnapshot(snap.memory), options);
    m.step = snap.step;
    m.pc = snap.pc;
    m.nextPC = snap.nextPC;
    m.lo = snap.lo;
    m.hi = snap.hi;
    m.heap = snap.heap;
    m.exited = snap.exited;
    m.exitCode = snap.exitCode;
    m.registers.set(snap.registers);
    m.preimageKey = snap.preimageKey.slice();
    m.preimageOffset = snap.preimageOffset;
    return m;
  }
}

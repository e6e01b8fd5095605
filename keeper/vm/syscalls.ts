/**
 * Syscalls (docs/protocol.md §4.6), with the function names of contracts/vm/lib/MIPSSyscalls.sol.
 * Linux o32 numbering: number in $v0, arguments in $a0..$a2, result in $v0, errno in $a3.
 */
import { VmStepError } from "./errors.ts";
import { type CpuState, type DataMemory, handleRd } from "./instructions.ts";
import type { PreimagePart } from "./preimage.ts";

export const Sys = {
  EXIT: 4001,
  READ: 4003,
  WRITE: 4004,
  BRK: 4045,
  FCNTL: 4055,
  MMAP: 4090,
  EXIT_GROUP: 4246,
} as const;

export const Fd = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  HINT_READ: 3,
  HINT_WRITE: 4,
  PREIMAGE_READ: 5,
  PREIMAGE_WRITE: 6,
} as const;

export const EBADF = 9;
export const EINVAL = 22;
export const BRK_START = 0x40000000;
const ERROR_RESULT = 0xffffffff;

/** The full state a syscall may change. */
export interface SyscallState extends CpuState {
  heap: number;
  exited: boolean;
  exitCode: number;
  preimageKey: Uint8Array;
  preimageOffset: number;
}

/** What a syscall reaches outside the registers. */
export interface SyscallIO {
  mem: DataMemory;
  /** readPreimage of §4.5 for the guest's key (the caller localizes it if it needs to). */
  readPreimage(key: Uint8Array, offset: number): PreimagePart;
  /** A write to fd 1, 2 or 4: no effect on the state (captured or dropped off chain). */
  output(fd: number, addr: number, count: number): void;
}

/** Executes the syscall instruction at pc (§4.6). */
export function handleSyscall(s: SyscallState, io: SyscallIO): void {
  const r = s.registers;
  const number = r[2]! >>> 0;
  const a0 = r[4]! >>> 0;
  const a1 = r[5]! >>> 0;
  const a2 = r[6]! >>> 0;
  let v0 = 0;
  let errno = 0;
  switch (number) {
    case Sys.MMAP:
      v0 = handleSysMmap(s, a0, a1);
      break;
    case Sys.BRK:
      v0 = BRK_START;
      break;
    case Sys.EXIT_GROUP:
    case Sys.EXIT:
      // Only exited and exitCode change (§4.6): pc and registers keep their values.
      s.exited = true;
      s.exitCode = a0 & 0xff;
      return;
    case Sys.READ:
      v0 = handleSysRead(s, io, a0, a1, a2);
      break;
    case Sys.WRITE:
      v0 = handleSysWrite(s, io, a0, a1, a2);
      break;
    case Sys.FCNTL:
      v0 = handleSysFcntl(a0, a1);
      break;
    default:
      throw new VmStepError("InvalidSyscall", [number], `unknown syscall ${number}`);
  }
  if (v0 < 0) {
    errno = -v0;
    v0 = ERROR_RESULT;
  }
  r[2] = v0 | 0;
  r[7] = errno | 0;
  handleRd(s, 0, 0, false);
}

/** mmap(addr, len): a fresh range from the heap when addr is 0, else addr itself. */
export function handleSysMmap(s: SyscallState, addr: number, len: number): number {
  if (addr !== 0) return addr;
  const v0 = s.heap;
  s.heap = (s.heap + ((len + 4095) & ~4095)) >>> 0;
  return v0;
}

/**
 * read(fd, addr, count) -> v0, or -errno (v0 0xffffffff with that errno). The read, write and fcntl handlers
 * return one number, not a pair: fast mode runs millions of preimage reads.
 */
export function handleSysRead(s: SyscallState, io: SyscallIO, fd: number, addr: number, count: number): number {
  switch (fd) {
    case Fd.STDIN:
      return 0;
    case Fd.HINT_READ:
      return count;
    case Fd.PREIMAGE_READ: {
      const wordAddr = (addr & ~3) >>> 0;
      const word = io.mem.readMem(wordAddr);
      const { part, partLen } = io.readPreimage(s.preimageKey, s.preimageOffset);
      const a = addr & 3;
      const n = Math.min(count, 4 - a, partLen);
      if (n > 0) io.mem.writeMem(wordAddr, mergeBytes(word, a, part, 0, n));
      s.preimageOffset = (s.preimageOffset + n) >>> 0;
      return n;
    }
    default:
      return -EBADF;
  }
}

/** `word` (big-endian bytes) with its bytes a .. a + n - 1 replaced by bytes[start .. start + n - 1] (a + n <= 4). */
export function mergeBytes(word: number, a: number, bytes: Uint8Array, start: number, n: number): number {
  let out = word;
  for (let i = 0; i < n; i++) {
    const shift = 24 - 8 * (a + i);
    out = (out & ~(0xff << shift)) | (bytes[start + i]! << shift);
  }
  return out >>> 0;
}

/** write(fd, addr, count) -> v0, or -errno. */
export function handleSysWrite(s: SyscallState, io: SyscallIO, fd: number, addr: number, count: number): number {
  switch (fd) {
    case Fd.STDOUT:
    case Fd.STDERR:
    case Fd.HINT_WRITE:
      io.output(fd, addr, count);
      return count;
    case Fd.PREIMAGE_WRITE: {
      const word = io.mem.readMem((addr & ~3) >>> 0);
      const a = addr & 3;
      const n = Math.min(count, 4 - a);
      const key = s.preimageKey;
      // preimageKey <- (preimageKey << 8n) | the n bytes at addr
      key.copyWithin(0, n);
      for (let i = 0; i < n; i++) key[32 - n + i] = (word >>> (24 - 8 * (a + i))) & 0xff;
      s.preimageOffset = 0;
      return n;
    }
    default:
      return -EBADF;
  }
}

/** fcntl(fd, cmd) -> v0, or -errno: only F_GETFL (3). */
export function handleSysFcntl(fd: number, cmd: number): number {
  if (cmd !== 3) return -EINVAL;
  switch (fd) {
    case Fd.STDIN:
    case Fd.HINT_READ:
    case Fd.PREIMAGE_READ:
      return 0;
    case Fd.STDOUT:
    case Fd.STDERR:
    case Fd.HINT_WRITE:
    case Fd.PREIMAGE_WRITE:
      return 1;
    default:
      return -EBADF;
  }
}

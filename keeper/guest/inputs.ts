/**
 * Inputs of the guest test programs that read them through the preimage oracle (docs/protocol.md
 * §4.5), shared by the tests and the benchmarks. Pure.
 *
 * bench_loop.elf (tests/bench_loop.c) reads its iteration count from local datum 1 (4 bytes
 * big-endian). Without the oracle's descriptors (plain qemu-mips) it runs
 * BENCH_LOOP_DEFAULT_ITERATIONS, so qemu's recorded output (build/expected.json) is that count's.
 */
import { MapPreimageSource } from "../vm/index.ts";

export const BENCH_LOOP_ITERATIONS_IDENT = 1;
/** What bench_loop.c runs without an oracle; the tests replay this count (about 23k steps). */
export const BENCH_LOOP_DEFAULT_ITERATIONS = 1000;
/** The speed benchmark's count (scripts/bench-vm.ts): 115,000,359 steps. */
export const BENCH_LOOP_BENCH_ITERATIONS = 5_000_000;

/** bench_loop.elf's local datum: `iterations` as a 4-byte big-endian word. */
export function benchLoopIterationsDatum(iterations: number): Uint8Array {
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 0xffffffff) {
    throw new RangeError(`bench_loop's iteration count must be a uint32, got ${iterations}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, iterations);
  return out;
}

/** The preimage source bench_loop.elf needs to run `iterations` rounds in the VM. */
export function benchLoopPreimages(iterations: number): MapPreimageSource {
  const source = new MapPreimageSource();
  source.setLocal(BENCH_LOOP_ITERATIONS_IDENT, benchLoopIterationsDatum(iterations));
  return source;
}

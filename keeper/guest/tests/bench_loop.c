/*
 * The benchmark loop: `iterations` rounds of integer work (multiply, shifts, xor, add, a load and a
 * store into a small table, a branch: 23 steps a round), then prints a checksum.
 *
 * Input: local datum 1, the iteration count as 4 bytes big-endian, read through the preimage
 * oracle. Without the oracle's descriptors (plain qemu-mips) the count is DEFAULT_ITERATIONS.
 * scripts/bench-vm.ts gives 5,000,000 (about 115M steps, the speed benchmark); the tests give the
 * default and replay every step (in the VM, on chain, and under qemu-mips for the output).
 */
#include "oao_guest.h"

/* This program's local identifier for its iteration count (its own, unrelated to §5's). */
#define LOCAL_ITERATIONS 1
#define DEFAULT_ITERATIONS 1000u

static uint32_t table[256];

static uint32_t iterations(void) {
  if (!oao_has_preimage_oracle()) return DEFAULT_ITERATIONS;
  uint8_t b[4];
  if (oao_local_read(LOCAL_ITERATIONS, b, sizeof b) != sizeof b) oao_panic("local datum 1 is not 4 bytes");
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int main(void) {
  uint32_t n = iterations();
  uint32_t x = 1, acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    uint32_t slot = (x >> 13) & 255u;
    table[slot] += x ^ (acc >> 3);
    acc = (acc << 1 | acc >> 31) + table[(slot + i) & 255u];
  }
  oao_print("checksum ");
  oao_print_hex32(acc);
  oao_print("\n");
  return 0;
}

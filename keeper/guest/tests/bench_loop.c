/*
 * The benchmark loop: about 115M steps of integer work (multiply, shifts, xor, add, a load and a
 * store into a small table, a branch), then prints a checksum. Used by scripts/bench-vm.ts; the
 * tests run only its first steps.
 */
#include "oao_guest.h"

#define ITERATIONS 5000000u

static uint32_t table[256];

int main(void) {
  uint32_t x = 1, acc = 0;
  for (uint32_t i = 0; i < ITERATIONS; i++) {
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

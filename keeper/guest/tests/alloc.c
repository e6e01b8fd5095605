/*
 * The bump allocator over mmap: many allocations across chunk boundaries, written and summed.
 * Sparse strides keep the trace short (about 9k steps) while every allocation still touches its
 * first and last words and pages in between.
 */
#include "oao_guest.h"

int main(void) {
  uint32_t total = 0;
  uint32_t *prev = 0;
  for (uint32_t i = 1; i <= 12; i++) {
    uint32_t n = i * 6007u; /* 1.9 MB in all: crosses 1 MiB chunks */
    uint32_t *p = (uint32_t *)oao_alloc(n * 4u);
    if (((uintptr_t)p & 7u) != 0) oao_panic("unaligned allocation");
    if (prev != 0 && p == prev) oao_panic("allocation reused");
    for (uint32_t k = 0; k < n; k += 509) p[k] = k * i;
    p[n - 1] = i;
    for (uint32_t k = 0; k < n; k += 1018) total += p[k]; /* every other written word */
    total += p[n - 1];
    prev = p;
  }
  /* larger than a chunk: its own mapping */
  uint32_t *big = (uint32_t *)oao_alloc(300000u * 4u);
  big[0] = 5;
  big[299999] = 7;
  total += big[0] * big[299999];
  oao_print("alloc ");
  oao_print_u32(total);
  oao_print("\n");
  return 0;
}

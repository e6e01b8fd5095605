/*
 * 64-bit arithmetic, which clang lowers to 32-bit operations (addu/sltu carries, multu, shifts
 * with movn) and calls to the runtime's __udivdi3/__divdi3/__umoddi3/__moddi3.
 *
 * The inline operations run on every pair of inputs. The division helpers (about a thousand steps
 * per call: binary long division) run on the pairs in `div_pairs`, chosen to reach every branch
 * of them: each sign combination, a zero dividend, a dividend below/equal to the divisor, a
 * divisor with a zero low word, a 32-bit divisor, and INT64_MIN / -1 (which wraps).
 */
#include "oao_guest.h"

static volatile uint64_t inputs[] = {
    0u, 1u, 0xffffffffu, 0x100000000u, 0x7fffffffffffffffu, 0x8000000000000000u, 0xffffffffffffffffu,
    0x123456789abcdef0u, 0xfedcba9876543210u, 1000000007u, 0xfffffffffffffff9u,
};
#define N (sizeof inputs / sizeof inputs[0])

/* Indices into `inputs` of (dividend, divisor) pairs for the division helpers. */
static const uint8_t div_pairs[][2] = {
    {0, 9},  /* 0 / 1000000007 */
    {1, 4},  /* 1 / INT64_MAX: dividend below the divisor */
    {2, 2},  /* equal operands */
    {4, 3},  /* INT64_MAX / 2^32: divisor with a zero low word */
    {7, 9},  /* positive / positive, 32-bit divisor */
    {7, 10}, /* positive / negative */
    {8, 9},  /* negative / positive */
    {8, 10}, /* negative / negative */
    {5, 6},  /* INT64_MIN / -1: the quotient wraps */
};
#define NDIV (sizeof div_pairs / sizeof div_pairs[0])

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3u; }

int main(void) {
  uint64_t h = 0xcbf29ce484222325u;
  for (uint32_t i = 0; i < N; i++) {
    for (uint32_t j = 0; j < N; j++) {
      uint64_t a = inputs[i], b = inputs[j];
      int64_t sa = (int64_t)a, sb = (int64_t)b;
      h = mix(h, a + b);
      h = mix(h, a - b);
      h = mix(h, a * b);
      h = mix(h, a << (b & 63));
      h = mix(h, a >> (b & 63));
      h = mix(h, (uint64_t)(sa >> (b & 63)));
      h = mix(h, (uint64_t)(sa < sb) | (uint64_t)(a < b) << 1);
    }
  }
  for (uint32_t k = 0; k < NDIV; k++) {
    uint64_t a = inputs[div_pairs[k][0]], b = inputs[div_pairs[k][1]];
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    h = mix(h, a / b);
    h = mix(h, a % b);
    h = mix(h, (uint64_t)(sa / sb));
    h = mix(h, (uint64_t)(sa % sb));
  }
  oao_print("int64 ");
  oao_print_hex64(h);
  oao_print("\n");
  volatile int64_t big = 1000000000000LL;
  int ok = big / 7 == 142857142857LL && big % 7 == 1 && -big / 7 == -142857142857LL;
  oao_print(ok ? "known ok\n" : "known FAILED\n");
  return ok ? 0 : 1;
}

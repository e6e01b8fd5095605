/*
 * 64-bit arithmetic, which clang lowers to 32-bit operations (addu/sltu carries, multu, shifts
 * with movn) and calls to the runtime's __udivdi3/__divdi3/__umoddi3/__moddi3.
 */
#include "oao_guest.h"

static volatile uint64_t inputs[] = {
    0u, 1u, 0xffffffffu, 0x100000000u, 0x7fffffffffffffffu, 0x8000000000000000u, 0xffffffffffffffffu,
    0x123456789abcdef0u, 0xfedcba9876543210u, 1000000007u, 0xfffffffffffffff9u,
};
#define N (sizeof inputs / sizeof inputs[0])

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
      if (b != 0) {
        h = mix(h, a / b);
        h = mix(h, a % b);
        h = mix(h, (uint64_t)(sa / sb));
        h = mix(h, (uint64_t)(sa % sb));
      }
    }
  }
  oao_print("int64 ");
  oao_print_hex64(h);
  oao_print("\n");
  volatile int64_t big = 1000000000000LL;
  int ok = big / 7 == 142857142857LL && big % 7 == 1 && -big / 7 == -142857142857LL;
  oao_print(ok ? "known ok\n" : "known FAILED\n");
  return ok ? 0 : 1;
}

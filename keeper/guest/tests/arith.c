/*
 * 32-bit integer arithmetic over edge-case operands: add/sub/mul, logic, shifts by constants and by
 * registers, comparisons, signed and unsigned division and remainder (INT_MIN / -1 included; zero
 * divisors skipped), multiply-high via 64-bit products. Prints one line per operation class; the
 * tests compare it with qemu-mips and with build/expected.json.
 */
#include "oao_guest.h"

/* volatile so that clang cannot fold the operations at compile time */
static volatile uint32_t inputs[] = {
    0u, 1u, 2u, 3u, 7u, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xffffffffu, 0xfffffffeu,
    0x12345678u, 0x9abcdef0u, 0x0000ffffu, 0xffff0000u, 31u, 32u, 33u, 0xdeadbeefu, 100u, 0xffffff9cu,
};
#define N (sizeof inputs / sizeof inputs[0])

static uint32_t mix(uint32_t h, uint32_t v) { return (h ^ v) * 0x01000193u; }

static void line(const char *name, uint32_t h) {
  oao_print(name);
  oao_print(" ");
  oao_print_hex32(h);
  oao_print("\n");
}

int main(void) {
  uint32_t add = 0x811c9dc5u, logic = add, shift = add, cmp = add, mul = add, div = add, mulhi = add;
  for (uint32_t i = 0; i < N; i++) {
    for (uint32_t j = 0; j < N; j++) {
      uint32_t a = inputs[i], b = inputs[j];
      int32_t sa = (int32_t)a, sb = (int32_t)b;
      add = mix(add, a + b);
      add = mix(add, a - b);
      add = mix(add, a + 12345u);
      add = mix(add, a - 0x8000u);
      logic = mix(logic, a & b);
      logic = mix(logic, a | b);
      logic = mix(logic, a ^ b);
      logic = mix(logic, ~(a | b));
      logic = mix(logic, a & 0xf0f0u);
      logic = mix(logic, a | 0x0ff0u);
      logic = mix(logic, a ^ 0xffffu);
      shift = mix(shift, a << (b & 31));
      shift = mix(shift, a >> (b & 31));
      shift = mix(shift, (uint32_t)(sa >> (b & 31)));
      shift = mix(shift, a << 7);
      shift = mix(shift, a >> 13);
      shift = mix(shift, (uint32_t)(sa >> 29));
      cmp = mix(cmp, (uint32_t)(sa < sb) | (uint32_t)(a < b) << 1 | (uint32_t)(sa < 100) << 2 |
                         (uint32_t)(a < 100u) << 3 | (uint32_t)(sa <= sb) << 4 | (uint32_t)(a == b) << 5 |
                         (uint32_t)(sa > -5) << 6 | (uint32_t)(a >= 0x80000000u) << 7);
      mul = mix(mul, a * b);
      mul = mix(mul, (uint32_t)(sa * 1000));
      uint64_t pu = (uint64_t)a * b;
      int64_t ps = (int64_t)sa * sb;
      mulhi = mix(mulhi, (uint32_t)(pu >> 32));
      mulhi = mix(mulhi, (uint32_t)((uint64_t)ps >> 32));
      if (b != 0) {
        div = mix(div, a / b);
        div = mix(div, a % b);
        div = mix(div, (uint32_t)(sa / sb));
        div = mix(div, (uint32_t)(sa % sb));
      }
    }
  }
  line("add", add);
  line("logic", logic);
  line("shift", shift);
  line("cmp", cmp);
  line("mul", mul);
  line("mulhi", mulhi);
  line("div", div);

  /* Known answers, checked in the guest too: a wrong VM exits 1 even without a reference. */
  volatile int32_t min = (int32_t)0x80000000u, neg1 = -1, seven = 7, mthree = -3;
  int ok = 1;
  ok &= min / neg1 == (int32_t)0x80000000u; /* wraps (§4.4) */
  ok &= min % neg1 == 0;
  ok &= seven / mthree == -2 && seven % mthree == 1;
  ok &= -seven / 3 == -2 && -seven % 3 == -1;
  ok &= (uint32_t)min / 3u == 0x2aaaaaaau;
  line("known", (uint32_t)ok);
  return ok ? 0 : 1;
}

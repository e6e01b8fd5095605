/*
 * Control flow: recursion, function pointers (jalr), a dense switch (a jump table: jr through a
 * table in .rodata), a sparse switch, nested loops with early exits, and conditional moves.
 */
#include "oao_guest.h"

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static uint32_t ackermann(uint32_t m, uint32_t n) {
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t (*volatile const ops[])(uint32_t, uint32_t) = {op_add, op_sub, op_mul, op_xor};

static __attribute__((noinline)) uint32_t dense(uint32_t k, uint32_t v) {
  switch (k) {
    case 0: return v + 1;
    case 1: return v * 3;
    case 2: return v ^ 0x55u;
    case 3: return v << 2;
    case 4: return v >> 1;
    case 5: return ~v;
    case 6: return v - 7;
    case 7: return v | 0x100u;
    case 8: return v & 0xffu;
    case 9: return v * v;
    default: return 0;
  }
}

static __attribute__((noinline)) uint32_t sparse(uint32_t k) {
  switch (k) {
    case 3: return 1;
    case 100: return 2;
    case 1000: return 3;
    case 65537: return 4;
    case 0x80000000u: return 5;
    default: return 6;
  }
}

static volatile uint32_t vin[] = {5, 0xffffffffu, 0, 17, 0x80000000u, 1000, 3};

static void line(const char *name, uint32_t h) {
  oao_print(name);
  oao_print(" ");
  oao_print_u32(h);
  oao_print("\n");
}

int main(void) {
  line("fib12", fib(12));
  line("ack2_3", ackermann(2, 3));
  uint32_t acc = 1;
  for (uint32_t i = 0; i < 40; i++) acc = ops[i & 3](acc, i * 2654435761u);
  line("fnptr", acc);
  acc = 0;
  for (uint32_t i = 0; i < 30; i++) acc = acc * 31u + dense(i % 11u, i + acc);
  line("dense", acc);
  acc = 0;
  for (uint32_t i = 0; i < sizeof vin / sizeof vin[0]; i++) acc = acc * 7u + sparse(vin[i]);
  line("sparse", acc);
  /* min/max/select: clang uses movz/movn and slt */
  int32_t lo = 0x7fffffff, hi = (int32_t)0x80000000u;
  uint32_t sel = 0;
  for (uint32_t i = 0; i < sizeof vin / sizeof vin[0]; i++) {
    int32_t v = (int32_t)vin[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sel += vin[i] != 0 ? vin[i] : 99u;
  }
  line("min", (uint32_t)lo);
  line("max", (uint32_t)hi);
  line("select", sel);
  /* a search loop with an early exit */
  uint32_t found = 0xffffffffu;
  for (uint32_t i = 0; i < 1000; i++) {
    if ((i * i) % 97u == 35u) {
      found = i;
      break;
    }
  }
  line("search", found);
  return fib(10) == 55 ? 0 : 1;
}

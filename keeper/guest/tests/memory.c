/*
 * Loads and stores of every width: lb/lbu sign and zero extension, lh/lhu, sb/sh, and unaligned
 * word copies through packed structs (clang emits lwl/lwr/swl/swr for them), memcpy/memset/memmove
 * at every alignment, and a word-sized stack/global/heap round trip.
 */
#include "oao_guest.h"

struct __attribute__((packed)) unaligned {
  uint8_t pad;
  uint32_t word;
  uint16_t half;
  int32_t sword;
};

static uint8_t bytes[64];
static volatile uint32_t seed = 0x9e3779b9u;

static uint32_t mix(uint32_t h, uint32_t v) { return (h ^ v) * 0x01000193u; }

static void line(const char *name, uint32_t h) {
  oao_print(name);
  oao_print(" ");
  oao_print_hex32(h);
  oao_print("\n");
}

int main(void) {
  uint32_t x = seed;
  for (uint32_t i = 0; i < sizeof bytes; i++) {
    x = x * 1103515245u + 12345u;
    bytes[i] = (uint8_t)(x >> 16);
  }
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < sizeof bytes; i++) {
    volatile int8_t *sb = (volatile int8_t *)&bytes[i];
    volatile uint8_t *ub = &bytes[i];
    h = mix(h, (uint32_t)(int32_t)*sb);
    h = mix(h, *ub);
  }
  line("bytes", h);

  h = 0x811c9dc5u;
  for (uint32_t i = 0; i + 1 < sizeof bytes; i += 2) {
    volatile int16_t *sh = (volatile int16_t *)&bytes[i];
    volatile uint16_t *uh = (volatile uint16_t *)&bytes[i];
    h = mix(h, (uint32_t)(int32_t)*sh);
    h = mix(h, *uh);
  }
  line("halves", h);

  /* unaligned words: each offset 0..3 */
  h = 0x811c9dc5u;
  for (uint32_t off = 0; off < 4; off++) {
    volatile struct unaligned *u = (volatile struct unaligned *)&bytes[off + 8];
    h = mix(h, u->word);
    h = mix(h, u->half);
    h = mix(h, (uint32_t)u->sword);
    u->word = h;
    u->sword = -(int32_t)h;
    u->half = (uint16_t)(h >> 3);
    h = mix(h, u->word ^ (uint32_t)u->sword ^ u->half);
  }
  line("unaligned", h);

  /* stores of bytes and halves into words */
  static uint32_t words[8];
  for (uint32_t i = 0; i < 32; i++) ((volatile uint8_t *)words)[i] = (uint8_t)(i * 37u);
  for (uint32_t i = 0; i < 8; i++) ((volatile uint16_t *)words)[i] = (uint16_t)(0xbeefu * i);
  h = 0x811c9dc5u;
  for (uint32_t i = 0; i < 8; i++) h = mix(h, words[i]);
  line("stores", h);

  /* memcpy / memmove / memset at all alignments */
  uint8_t *heap = (uint8_t *)oao_alloc(256);
  h = 0x811c9dc5u;
  for (uint32_t d = 0; d < 4; d++) {
    for (uint32_t s = 0; s < 4; s++) {
      memset(heap, 0xa5, 256);
      memcpy(heap + d, bytes + s, 37);
      memmove(heap + d + 3, heap + d, 29);
      memmove(heap + d, heap + d + 5, 19);
      memset(heap + 100 + s, (int)d, 13);
      for (uint32_t i = 0; i < 128; i += 4) h = mix(h, *(uint32_t *)(heap + i));
    }
  }
  line("memfns", h);
  line("cmp", (uint32_t)(memcmp(bytes, bytes + 1, 8) < 0) | (uint32_t)(memcmp(bytes, bytes, 9) == 0) << 1);
  return 0;
}

/* keccak256: Keccak-f[1600], rate 136 bytes, padding 0x01 … 0x80 (docs/protocol.md uses keccak256). */
#include "keccak.h"

static const uint64_t RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};
static const uint8_t ROT[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};
static const uint8_t PI[25] = {0, 10, 20, 5, 15, 16, 1, 11, 21, 6, 7, 17, 2, 12, 22, 23, 8, 18, 3, 13, 14, 24, 9, 19, 4};

static uint64_t rotl(uint64_t x, uint32_t n) { return n == 0 ? x : (x << n) | (x >> (64 - n)); }

static void keccak_f(uint64_t s[25]) {
  uint64_t b[25], c[5], d[5];
  for (uint32_t round = 0; round < 24; round++) {
    for (uint32_t x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
    for (uint32_t x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
    for (uint32_t i = 0; i < 25; i++) s[i] ^= d[i % 5];
    /* rho and pi: b[PI[i]] = rotl(s[i], ROT[i]) with lane index i = x + 5y */
    for (uint32_t i = 0; i < 25; i++) b[PI[i]] = rotl(s[i], ROT[i]);
    for (uint32_t y = 0; y < 25; y += 5)
      for (uint32_t x = 0; x < 5; x++) s[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
    s[0] ^= RC[round];
  }
}

static void absorb_block(uint64_t s[25], const uint8_t *p) {
  for (uint32_t i = 0; i < 17; i++) {
    uint64_t lane = 0;
    for (uint32_t j = 0; j < 8; j++) lane |= (uint64_t)p[8 * i + j] << (8 * j); /* lanes are little-endian */
    s[i] ^= lane;
  }
  keccak_f(s);
}

void oao_keccak256(const uint8_t *data, uint32_t len, uint8_t out[32]) {
  uint64_t s[25];
  uint8_t last[136];
  for (uint32_t i = 0; i < 25; i++) s[i] = 0;
  while (len >= 136) {
    absorb_block(s, data);
    data += 136;
    len -= 136;
  }
  for (uint32_t i = 0; i < 136; i++) last[i] = i < len ? data[i] : 0;
  last[len] ^= 0x01;
  last[135] ^= 0x80;
  absorb_block(s, last);
  for (uint32_t i = 0; i < 32; i++) out[i] = (uint8_t)(s[i / 8] >> (8 * (i % 8)));
}

void oao_keccak_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]) {
  uint8_t buf[64];
  for (uint32_t i = 0; i < 32; i++) {
    buf[i] = a[i];
    buf[32 + i] = b[i];
  }
  oao_keccak256(buf, 64, out);
}

/* Streaming keccak256 for inputs too large to copy at once (the keeper hashes model files with it;
   the guest does not call it). One stream at a time: begin, update with whole 136-byte blocks,
   end with the remaining bytes. */
static uint64_t stream_state[25];

void oao_keccak_stream_begin(void) {
  for (uint32_t i = 0; i < 25; i++) stream_state[i] = 0;
}

void oao_keccak_stream_update(const uint8_t *data, uint32_t blocks) {
  for (uint32_t b = 0; b < blocks; b++) absorb_block(stream_state, data + 136 * b);
}

void oao_keccak_stream_end(const uint8_t *data, uint32_t len, uint8_t out[32]) {
  uint8_t last[136];
  while (len >= 136) {
    absorb_block(stream_state, data);
    data += 136;
    len -= 136;
  }
  for (uint32_t i = 0; i < 136; i++) last[i] = i < len ? data[i] : 0;
  last[len] ^= 0x01;
  last[135] ^= 0x80;
  absorb_block(stream_state, last);
  for (uint32_t i = 0; i < 32; i++) out[i] = (uint8_t)(stream_state[i / 8] >> (8 * (i % 8)));
}

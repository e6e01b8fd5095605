/* keccak256: Keccak-f[1600], rate 136 bytes, padding 0x01 … 0x80 (docs/protocol.md uses keccak256). */
#include "keccak.h"

static const uint64_t RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};
#ifndef OAO_KECCAK_UNROLLED
/* The guest's permutation (compact; its ELF, and so the program hash, are fixed by this text). */
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
#else
/* The same permutation with the 25 lanes as locals and rho, pi, chi unrolled: the keeper's wasm
   builds (build-wasm.sh -DOAO_KECCAK_UNROLLED), ~4x the throughput of the loops above there;
   equal on every input (keccak256 tests against viem, keeper/graph/claim-path.test.ts). */
#define ROL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))
static void keccak_f(uint64_t st[25]) {
  uint64_t a00=st[0],a01=st[1],a02=st[2],a03=st[3],a04=st[4],a05=st[5],a06=st[6],a07=st[7],a08=st[8],a09=st[9],
  a10=st[10],a11=st[11],a12=st[12],a13=st[13],a14=st[14],a15=st[15],a16=st[16],a17=st[17],a18=st[18],a19=st[19],
  a20=st[20],a21=st[21],a22=st[22],a23=st[23],a24=st[24];
  for (uint32_t r = 0; r < 24; r++) {
    uint64_t c0=a00^a05^a10^a15^a20, c1=a01^a06^a11^a16^a21, c2=a02^a07^a12^a17^a22, c3=a03^a08^a13^a18^a23, c4=a04^a09^a14^a19^a24;
    uint64_t d0=c4^ROL(c1,1), d1=c0^ROL(c2,1), d2=c1^ROL(c3,1), d3=c2^ROL(c4,1), d4=c3^ROL(c0,1);
    /* b[PI[i]] = rotl(a[i]^d[i%5], ROT[i]) */
    uint64_t b00=a00^d0;
    uint64_t b10=ROL(a01^d1,1), b20=ROL(a02^d2,62), b05=ROL(a03^d3,28), b15=ROL(a04^d4,27);
    uint64_t b16=ROL(a05^d0,36), b01=ROL(a06^d1,44), b11=ROL(a07^d2,6), b21=ROL(a08^d3,55), b06=ROL(a09^d4,20);
    uint64_t b07=ROL(a10^d0,3), b17=ROL(a11^d1,10), b02=ROL(a12^d2,43), b12=ROL(a13^d3,25), b22=ROL(a14^d4,39);
    uint64_t b23=ROL(a15^d0,41), b08=ROL(a16^d1,45), b18=ROL(a17^d2,15), b03=ROL(a18^d3,21), b13=ROL(a19^d4,8);
    uint64_t b14=ROL(a20^d0,18), b24=ROL(a21^d1,2), b09=ROL(a22^d2,61), b19=ROL(a23^d3,56), b04=ROL(a24^d4,14);
    a00=b00^(~b01&b02)^RC[r]; a01=b01^(~b02&b03); a02=b02^(~b03&b04); a03=b03^(~b04&b00); a04=b04^(~b00&b01);
    a05=b05^(~b06&b07); a06=b06^(~b07&b08); a07=b07^(~b08&b09); a08=b08^(~b09&b05); a09=b09^(~b05&b06);
    a10=b10^(~b11&b12); a11=b11^(~b12&b13); a12=b12^(~b13&b14); a13=b13^(~b14&b10); a14=b14^(~b10&b11);
    a15=b15^(~b16&b17); a16=b16^(~b17&b18); a17=b17^(~b18&b19); a18=b18^(~b19&b15); a19=b19^(~b15&b16);
    a20=b20^(~b21&b22); a21=b21^(~b22&b23); a22=b22^(~b23&b24); a23=b23^(~b24&b20); a24=b24^(~b20&b21);
  }
  st[0]=a00;st[1]=a01;st[2]=a02;st[3]=a03;st[4]=a04;st[5]=a05;st[6]=a06;st[7]=a07;st[8]=a08;st[9]=a09;
  st[10]=a10;st[11]=a11;st[12]=a12;st[13]=a13;st[14]=a14;st[15]=a15;st[16]=a16;st[17]=a17;st[18]=a18;st[19]=a19;
  st[20]=a20;st[21]=a21;st[22]=a22;st[23]=a23;st[24]=a24;
}
#endif

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

/*
 * oao_runtime.c: definitions behind oao_guest.h, linked into every guest program.
 *
 * Compiled like the programs (freestanding, -O2); the functions named memcpy/memset/... are not
 * turned back into calls to themselves because LLVM does not recognise loop idioms inside
 * functions with those names.
 */
#include "oao_guest.h"

void oao_write_all(int32_t fd, const void *buf, uint32_t n) {
  const uint8_t *p = (const uint8_t *)buf;
  while (n > 0) {
    int32_t w = oao_write(fd, p, n);
    if (w <= 0) oao_exit(OAO_EXIT_PANIC); /* not oao_panic: it writes too */
    p += w;
    n -= (uint32_t)w;
  }
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n] != 0) n++;
  return n;
}

void oao_print(const char *s) { oao_write_all(OAO_FD_STDOUT, s, (uint32_t)strlen(s)); }

void oao_print_u32(uint32_t v) {
  char buf[10];
  uint32_t i = sizeof buf;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0);
  oao_write_all(OAO_FD_STDOUT, buf + i, sizeof buf - i);
}

void oao_print_i32(int32_t v) {
  if (v < 0) {
    oao_print("-");
    oao_print_u32(0u - (uint32_t)v);
  } else {
    oao_print_u32((uint32_t)v);
  }
}

static void print_hex_digits(uint32_t v, uint32_t digits, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (uint32_t i = 0; i < digits; i++) out[i] = hex[(v >> (4 * (digits - 1 - i))) & 15u];
}

void oao_print_hex32(uint32_t v) {
  char buf[10] = {'0', 'x'};
  print_hex_digits(v, 8, buf + 2);
  oao_write_all(OAO_FD_STDOUT, buf, sizeof buf);
}

void oao_print_hex64(uint64_t v) {
  char buf[18] = {'0', 'x'};
  print_hex_digits((uint32_t)(v >> 32), 8, buf + 2);
  print_hex_digits((uint32_t)v, 8, buf + 10);
  oao_write_all(OAO_FD_STDOUT, buf, sizeof buf);
}

void oao_panic(const char *message) {
  oao_write_all(OAO_FD_STDERR, message, (uint32_t)strlen(message));
  oao_write_all(OAO_FD_STDERR, "\n", 1);
  oao_exit(OAO_EXIT_PANIC);
}

void *oao_mmap(uint32_t len) {
  /* o32 passes arguments 5 and 6 (fd, offset) on the stack at 16($sp) and 20($sp). */
  register uint32_t v0 __asm__("$2") = OAO_SYS_MMAP;
  register uint32_t a0 __asm__("$4") = 0;
  register uint32_t a1 __asm__("$5") = len;
  register uint32_t a2 __asm__("$6") = 3;     /* PROT_READ | PROT_WRITE */
  register uint32_t a3 __asm__("$7") = 0x802; /* MAP_PRIVATE | MAP_ANONYMOUS (MIPS values) */
  __asm__ volatile(
      "addiu $sp, $sp, -24\n\t"
      "li $8, -1\n\t"
      "sw $8, 16($sp)\n\t"
      "sw $zero, 20($sp)\n\t"
      "syscall\n\t"
      "addiu $sp, $sp, 24"
      : "+r"(v0), "+r"(a3)
      : "r"(a0), "r"(a1), "r"(a2)
      : "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25", "hi", "lo",
        "memory");
  if (a3 != 0) oao_panic("oao_mmap: mmap failed");
  return (void *)(uintptr_t)v0;
}

/* Bump allocator state: the free range [alloc_next, alloc_end) of the last mapped chunk. */
static uintptr_t alloc_next;
static uintptr_t alloc_end;

#define OAO_ALLOC_CHUNK (1u << 20)

void *oao_alloc(uint32_t size) {
  uint32_t rounded = (size + 7u) & ~7u;
  if (rounded < size) oao_panic("oao_alloc: size overflow");
  if (alloc_end - alloc_next < rounded) {
    uint32_t chunk = rounded > OAO_ALLOC_CHUNK ? rounded : OAO_ALLOC_CHUNK;
    alloc_next = (uintptr_t)oao_mmap(chunk);
    alloc_end = alloc_next + chunk;
  }
  void *p = (void *)alloc_next;
  alloc_next += rounded;
  return p;
}

void oao_hint(const void *hint, uint32_t n) { oao_write_all(OAO_FD_HINT_WRITE, hint, n); }

void oao_local_key(uint8_t key[32], uint32_t ident) {
  memset(key, 0, 32);
  key[0] = OAO_KEY_LOCAL;
  key[28] = (uint8_t)(ident >> 24);
  key[29] = (uint8_t)(ident >> 16);
  key[30] = (uint8_t)(ident >> 8);
  key[31] = (uint8_t)ident;
}

void oao_preimage_set_key(const uint8_t key[32]) { oao_write_all(OAO_FD_PREIMAGE_WRITE, key, 32); }

/* Reads exactly n bytes of the current preimage; panics if it ends first. */
static void preimage_read_exact(uint8_t *p, uint32_t n) {
  while (n > 0) {
    int32_t r = oao_read(OAO_FD_PREIMAGE_READ, p, n);
    if (r <= 0) oao_panic("oao_preimage_read: preimage ended early");
    p += r;
    n -= (uint32_t)r;
  }
}

uint32_t oao_preimage_read(const uint8_t key[32], void *buf, uint32_t cap) {
  uint8_t frame[8];
  oao_preimage_set_key(key);
  preimage_read_exact(frame, 8);
  if (frame[0] | frame[1] | frame[2] | frame[3]) oao_panic("oao_preimage_read: preimage too large");
  uint32_t len = ((uint32_t)frame[4] << 24) | ((uint32_t)frame[5] << 16) |
                 ((uint32_t)frame[6] << 8) | (uint32_t)frame[7];
  if (len > cap) oao_panic("oao_preimage_read: preimage larger than the buffer");
  preimage_read_exact((uint8_t *)buf, len);
  return len;
}

uint32_t oao_local_read(uint32_t ident, void *buf, uint32_t cap) {
  uint8_t key[32];
  oao_local_key(key, ident);
  return oao_preimage_read(key, buf, cap);
}

void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
    for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
  }
  for (; n > 0; n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  while (n > 0) {
    n--;
    d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  uint8_t b = (uint8_t)c;
  for (; n > 0 && ((uintptr_t)d & 3u) != 0; n--) *d++ = b;
  uint32_t word = (uint32_t)b * 0x01010101u;
  for (; n >= 4; n -= 4, d += 4) *(uint32_t *)d = word;
  for (; n > 0; n--) *d++ = b;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *p = (const uint8_t *)a;
  const uint8_t *q = (const uint8_t *)b;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
  }
  return 0;
}

/*
 * 64-bit division helpers (libgcc/compiler-rt names): clang lowers 64-bit `/` and `%` on MIPS32
 * to calls to these. Restoring binary long division with shifts and subtractions only (a `/` on
 * uint64_t here would call itself). Division by zero panics rather than trapping.
 */
static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
  if (d == 0) oao_panic("64-bit division by zero");
  uint64_t q = 0, r = 0;
  for (int i = 63; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) {
      r -= d;
      q |= (uint64_t)1 << i;
    }
  }
  *rem = r;
  return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivdi3(uint64_t n, uint64_t d) {
  uint64_t r;
  return udivmod64(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d) {
  uint64_t r;
  udivmod64(n, d, &r);
  return r;
}

/* Magnitudes in unsigned arithmetic so that INT64_MIN does not overflow; INT64_MIN / -1 wraps. */
int64_t __divdi3(int64_t n, int64_t d) {
  uint64_t un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
  uint64_t ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
  uint64_t r;
  uint64_t q = udivmod64(un, ud, &r);
  return (int64_t)(((n < 0) != (d < 0)) ? 0 - q : q);
}

int64_t __moddi3(int64_t n, int64_t d) {
  uint64_t un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
  uint64_t ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
  uint64_t r;
  udivmod64(un, ud, &r);
  return (int64_t)(n < 0 ? 0 - r : r);
}

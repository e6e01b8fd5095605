/*
 * oao_guest.h: the whole C runtime of a guest program (docs/protocol.md §4.5-§4.7).
 *
 * Guest programs are freestanding: no libc. They get from this header the syscalls the VM
 * implements (exit, write, mmap), the preimage oracle (keys written to fd 6, framed data read
 * from fd 5, hints written to fd 4), a bump allocator, and a few printing helpers. The
 * definitions of the non-inline functions, and of memcpy/memset/memmove/memcmp and the 64-bit
 * division helpers that clang emits calls to, are in oao_runtime.c, linked into every program.
 *
 * Exit codes are the VM's verdict (§4.1): 0 VALID, 1 INVALID, anything else PANIC.
 */
#ifndef OAO_GUEST_H
#define OAO_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* Linux o32 syscall numbers (§4.6). */
#define OAO_SYS_EXIT 4001
#define OAO_SYS_READ 4003
#define OAO_SYS_WRITE 4004
#define OAO_SYS_BRK 4045
#define OAO_SYS_FCNTL 4055
#define OAO_SYS_MMAP 4090
#define OAO_SYS_EXIT_GROUP 4246

/* File descriptors (§4.6). */
#define OAO_FD_STDOUT 1
#define OAO_FD_STDERR 2
#define OAO_FD_HINT_READ 3
#define OAO_FD_HINT_WRITE 4
#define OAO_FD_PREIMAGE_READ 5
#define OAO_FD_PREIMAGE_WRITE 6

/* Exit codes: the status a game reads from the final state hash (§4.1). */
#define OAO_EXIT_VALID 0
#define OAO_EXIT_INVALID 1
#define OAO_EXIT_PANIC 2

/* Preimage key types (first byte of a key, §4.5) and local key identifiers (§5). */
#define OAO_KEY_LOCAL 1
#define OAO_KEY_KECCAK 2
#define OAO_LOCAL_MODEL_ROOT 1
#define OAO_LOCAL_NODE_INDEX 2
#define OAO_LOCAL_PRE_STATE 3
#define OAO_LOCAL_POST_STATE 4

/* Largest preimage the oracle serves (§4.5). */
#define OAO_MAX_PREIMAGE_BYTES 32768u

#define OAO_NORETURN __attribute__((noreturn))

/*
 * A raw syscall: $v0 = number, $a0..$a2 = arguments; the result comes back in $v0 and $a3 is
 * nonzero on error (§4.6). Returns $v0, or -1 on error. The clobber list is Linux's (the VM itself
 * touches only $v0 and $a3) so that the same binaries run under qemu-mips.
 */
static inline int32_t oao_syscall3(uint32_t number, uint32_t a0, uint32_t a1, uint32_t a2) {
  register uint32_t v0 __asm__("$2") = number;
  register uint32_t r4 __asm__("$4") = a0;
  register uint32_t r5 __asm__("$5") = a1;
  register uint32_t r6 __asm__("$6") = a2;
  register uint32_t r7 __asm__("$7");
  __asm__ volatile("syscall"
                   : "+r"(v0), "=r"(r7)
                   : "r"(r4), "r"(r5), "r"(r6)
                   : "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
                     "hi", "lo", "memory");
  return r7 != 0 ? -1 : (int32_t)v0;
}

/* Ends the program with `code & 0xFF` as its exit status. */
static inline OAO_NORETURN void oao_exit(int32_t code) {
  oao_syscall3(OAO_SYS_EXIT_GROUP, (uint32_t)code, 0, 0);
  __builtin_unreachable();
}

/* One write syscall: returns the number of bytes taken (may be fewer than n) or -1. */
static inline int32_t oao_write(int32_t fd, const void *buf, uint32_t n) {
  return oao_syscall3(OAO_SYS_WRITE, (uint32_t)fd, (uint32_t)(uintptr_t)buf, n);
}

/* One read syscall: returns the number of bytes read (0 at the end) or -1. */
static inline int32_t oao_read(int32_t fd, void *buf, uint32_t n) {
  return oao_syscall3(OAO_SYS_READ, (uint32_t)fd, (uint32_t)(uintptr_t)buf, n);
}

/* Writes all n bytes (looping over short writes); panics if the descriptor refuses them. */
void oao_write_all(int32_t fd, const void *buf, uint32_t n);

/* Printing to stdout (fd 1): captured by the off-chain VM, no effect on the state. */
void oao_print(const char *s);                 /* a NUL-terminated string */
void oao_print_u32(uint32_t v);                /* decimal */
void oao_print_i32(int32_t v);                 /* decimal, with '-' when negative */
void oao_print_hex32(uint32_t v);              /* "0x" and 8 lowercase hex digits */
void oao_print_hex64(uint64_t v);              /* "0x" and 16 lowercase hex digits */

/* Prints `message` to stderr and exits with OAO_EXIT_PANIC. */
OAO_NORETURN void oao_panic(const char *message);

/* Maps `len` bytes (rounded up to 4 KiB) of fresh zeroed memory from the VM's heap. Also valid
 * Linux: it passes PROT_READ|PROT_WRITE and MAP_PRIVATE|MAP_ANONYMOUS, fd -1, so it runs under
 * qemu-mips too. Panics on failure. */
void *oao_mmap(uint32_t len);

/* Bump allocator over oao_mmap: 8-byte aligned, zeroed, never freed. Panics when out of memory. */
void *oao_alloc(uint32_t size);

/* Sends a hint to the host's preimage source (fd 4); no effect on the VM state. */
void oao_hint(const void *hint, uint32_t n);

/* Builds the local key for identifier `ident` (§4.5): byte 0 = 1, bytes 28..31 = ident (BE). */
void oao_local_key(uint8_t key[32], uint32_t ident);

/* Selects the preimage to read: writes the 32-byte key to fd 6 (which resets the read cursor). */
void oao_preimage_set_key(const uint8_t key[32]);

/*
 * Reads the whole preimage under `key` into buf: writes the key, reads the 8-byte big-endian
 * length frame and then the data from fd 5 (the VM returns 1-4 bytes per read). Returns the data
 * length. Panics if it exceeds `cap` or the oracle ends early.
 */
uint32_t oao_preimage_read(const uint8_t key[32], void *buf, uint32_t cap);

/* Reads a local datum (at most 32 bytes) into buf; returns its length. */
uint32_t oao_local_read(uint32_t ident, void *buf, uint32_t cap);

/*
 * Whether the preimage oracle's descriptors are there: fcntl(F_GETFL) on fds 5 and 6 succeeds in
 * the VM (§4.6) and fails with EBADF where they are not open (plain qemu-mips). Lets a test program
 * fall back to a default input when run without an oracle; in the VM, reading a datum nobody
 * supplied fails the step instead.
 */
static inline int oao_has_preimage_oracle(void) {
  const uint32_t getfl = 3; /* F_GETFL */
  return oao_syscall3(OAO_SYS_FCNTL, OAO_FD_PREIMAGE_READ, getfl, 0) >= 0 &&
         oao_syscall3(OAO_SYS_FCNTL, OAO_FD_PREIMAGE_WRITE, getfl, 0) >= 0;
}

/* clang emits calls to these for struct copies and loops it recognises. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* OAO_GUEST_H */

/* vm-only: reads the preimage oracle (fds 4-6), which qemu-mips does not have. */
/*
 * The preimage oracle: reads local datum 1 (a 32-byte keccak key), then the keccak preimage under
 * that key, and local datum 2 (4 bytes); sends a hint; prints the lengths and an FNV-1a checksum
 * of the data. Runs only in the VM (fds 4-6 are the oracle's).
 */
#include "oao_guest.h"

static uint8_t buf[OAO_MAX_PREIMAGE_BYTES];

static uint32_t fnv(const uint8_t *p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

int main(void) {
  static const char hint[] = "need the model";
  oao_hint(hint, sizeof hint - 1);
  uint8_t key[32];
  if (oao_local_read(OAO_LOCAL_MODEL_ROOT, key, sizeof key) != 32) oao_panic("local 1 is not 32 bytes");
  if (key[0] != OAO_KEY_KECCAK) oao_panic("local 1 is not a keccak key");
  uint32_t n = oao_preimage_read(key, buf, sizeof buf);
  oao_print("data ");
  oao_print_u32(n);
  oao_print(" ");
  oao_print_hex32(fnv(buf, n));
  oao_print("\n");
  uint8_t idx[4];
  uint32_t m = oao_local_read(OAO_LOCAL_NODE_INDEX, idx, sizeof idx);
  uint32_t node = (uint32_t)idx[0] << 24 | (uint32_t)idx[1] << 16 | (uint32_t)idx[2] << 8 | idx[3];
  oao_print("node ");
  oao_print_u32(m);
  oao_print(" ");
  oao_print_u32(node);
  oao_print("\n");
  /* re-read the first bytes at an odd buffer offset: the 1-3 byte read path */
  uint32_t again = oao_preimage_read(key, buf + 1, sizeof buf - 1);
  oao_print(again == n && fnv(buf + 1, again) == fnv(buf + 1, n) ? "reread ok\n" : "reread FAILED\n");
  return 0;
}

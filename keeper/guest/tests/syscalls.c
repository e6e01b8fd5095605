/* vm-only: the VM-specific descriptors and mmap behaviour differ from Linux. */
/* The VM's other syscalls (§4.6): fcntl(F_GETFL), read from fd 0 and fd 3, bad descriptors, brk, mmap at a fixed address. */
#include "oao_guest.h"

static void show(const char *name, int32_t v) {
  oao_print(name);
  oao_print(" ");
  oao_print_i32(v);
  oao_print("\n");
}

int main(void) {
  for (int32_t fd = 0; fd <= 7; fd++) show("fcntl", oao_syscall3(OAO_SYS_FCNTL, (uint32_t)fd, 3, 0));
  show("fcntl-cmd", oao_syscall3(OAO_SYS_FCNTL, 1, 1, 0));
  uint8_t b[8];
  show("read0", oao_read(0, b, sizeof b));
  show("read3", oao_read(OAO_FD_HINT_READ, b, sizeof b));
  show("read9", oao_read(9, b, sizeof b));
  show("write9", oao_write(9, b, sizeof b));
  show("brk", oao_syscall3(OAO_SYS_BRK, 0, 0, 0));
  show("mmap-fixed", oao_syscall3(OAO_SYS_MMAP, 0x30000000u, 4096, 0));
  uint32_t *a = (uint32_t *)oao_mmap(1);
  uint32_t *c = (uint32_t *)oao_mmap(5000);
  uint32_t *d = (uint32_t *)oao_mmap(4096);
  show("mmap-a", (int32_t)(uintptr_t)a);
  show("mmap-c", (int32_t)(uintptr_t)c);
  show("mmap-d", (int32_t)(uintptr_t)d);
  return 0;
}

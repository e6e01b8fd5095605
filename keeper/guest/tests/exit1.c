/* Exits with code 1 (status INVALID) after writing to stderr. */
#include "oao_guest.h"

int main(void) {
  static const char msg[] = "claim is invalid\n";
  oao_write_all(OAO_FD_STDERR, msg, sizeof msg - 1);
  return OAO_EXIT_INVALID;
}

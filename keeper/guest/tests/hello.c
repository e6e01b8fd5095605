/* Prints a line to stdout and exits 0: the smallest useful program. */
#include "oao_guest.h"

int main(void) {
  oao_print("hello from the oao guest\n");
  return 0;
}

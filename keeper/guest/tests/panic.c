/* Exits with code 2 (status PANIC) through oao_panic. */
#include "oao_guest.h"

int main(void) { oao_panic("deliberate panic"); }

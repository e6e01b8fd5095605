/* The in-VM node program; its source lives in keeper/guest/node/ (built here by keeper/guest/build.ts). */
#include "../node/node.c"

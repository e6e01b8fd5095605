/*
 * Quantized operator kernels of the graph executor (docs/protocol.md §3.6), written once and
 * compiled twice: to wasm32 for the keeper's native executor (keeper/graph/kernels.ts) and to
 * MIPS32 for the in-VM node program (keeper/guest/node). Freestanding: no libc, no floats,
 * no allocation; all arithmetic is integer with two's-complement wrap-around done through
 * unsigned types (no signed-overflow UB). Works on either byte order: tensors in memory are in
 * the host's native order (the guest is big-endian, so canonical bytes load as they are).
 */
#ifndef OAO_KERNELS_H
#define OAO_KERNELS_H

#include <stdint.h>

#define OAO_MAX_RANK 6
#define OAO_MAX_INPUTS 8

/* dtype codes (§3.2) */
#define OAO_INT8 1
#define OAO_INT32 2

/* op codes (§3.6) */
#define OAO_OP_GEMM 1
#define OAO_OP_ADD 2
#define OAO_OP_MUL 3
#define OAO_OP_RELU 4
#define OAO_OP_SOFTMAX 5
#define OAO_OP_RESHAPE 6
#define OAO_OP_CONV2D 7
#define OAO_OP_MAXPOOL 8
#define OAO_OP_GATHER 9
#define OAO_OP_LAYERNORM 10
#define OAO_OP_LUT 11
#define OAO_OP_MATMUL 12
#define OAO_OP_CAUSALSOFTMAX 13
#define OAO_OP_TRANSPOSE 14
#define OAO_OP_SLICE 15
#define OAO_OP_ARGMAX 16
#define OAO_OP_TOKENWINDOW 17
#define OAO_OP_POSITION 18
#define OAO_OP_SCATTERROW 19
#define OAO_OP_PREFIXSOFTMAX 20
#define OAO_OP_EMIT 21

/* status codes: 0 ok, negative = malformed node or inputs (see kernels.ts for messages) */
#define OAO_OK 0
#define OAO_E_DESC_TRUNCATED -1
#define OAO_E_UNKNOWN_OP -2
#define OAO_E_INPUT_COUNT -3
#define OAO_E_INPUT_DTYPE -4
#define OAO_E_INPUT_SHAPE -5
#define OAO_E_OUTPUT_DTYPE -6
#define OAO_E_OUTPUT_SHAPE -7
#define OAO_E_ATTR_COUNT -8
#define OAO_E_ATTR_VALUE -9
#define OAO_E_BAD_HEADER -10
#define OAO_E_DESC_TRAILING -11

/* A tensor in memory: 9 words, 32-bit addresses on both targets. */
typedef struct {
  uint32_t data;  /* address of the elements, native byte order */
  uint32_t dtype; /* OAO_INT8 / OAO_INT32 */
  uint32_t rank;
  uint32_t dims[OAO_MAX_RANK];
} oao_tensor;

/* Checks a node description (§3.3) against its inputs' dtypes and shapes (data unused).
   On success fills *out with the output's dtype, rank and dims (out->data untouched). */
int32_t oao_node_validate(const uint8_t *desc, uint32_t desc_len, const oao_tensor *inputs,
                          uint32_t n_inputs, oao_tensor *out);

/* Validates, then computes the node into out->data (which must hold the output's bytes). */
int32_t oao_node_run(const uint8_t *desc, uint32_t desc_len, const oao_tensor *inputs,
                     uint32_t n_inputs, oao_tensor *out);

/* The fixed-point requantization rq(v, m, s) of §3.6 (exported for tests). */
int32_t oao_rq(int32_t v, int32_t m, int32_t s);

#endif

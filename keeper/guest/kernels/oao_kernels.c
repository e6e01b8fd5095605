/*
 * Quantized operator kernels (docs/protocol.md §3.3 node descriptions, §3.6 semantics).
 * See oao_kernels.h. Every wrap-around is done in uint32_t; conversions from unsigned to
 * int32_t and from int64_t to int32_t are two's-complement truncations (clang, both targets).
 */
#include "oao_kernels.h"

typedef struct {
  uint32_t op;
  uint32_t n_in;
  uint32_t out_dtype;
  uint32_t out_rank;
  uint32_t out_dims[OAO_MAX_RANK];
  uint32_t n_attr;
  const uint8_t *attrs;
} node_desc;

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int32_t attr(const node_desc *nd, uint32_t i) { return (int32_t)be32(nd->attrs + 4 * i); }

static int32_t parse_desc(const uint8_t *d, uint32_t len, node_desc *nd) {
  uint32_t off = 0;
  if (len < 2) return OAO_E_DESC_TRUNCATED;
  nd->op = d[0];
  nd->n_in = d[1];
  off = 2;
  if (nd->n_in > OAO_MAX_INPUTS) return OAO_E_INPUT_COUNT;
  if (len - off < 4 * nd->n_in) return OAO_E_DESC_TRUNCATED;
  off += 4 * nd->n_in; /* slot references: the caller resolves them */
  if (len - off < 2) return OAO_E_DESC_TRUNCATED;
  nd->out_dtype = d[off];
  nd->out_rank = d[off + 1];
  off += 2;
  if (nd->out_rank < 1 || nd->out_rank > OAO_MAX_RANK) return OAO_E_BAD_HEADER;
  if (nd->out_dtype != OAO_INT8 && nd->out_dtype != OAO_INT32) return OAO_E_BAD_HEADER;
  if (len - off < 4 * nd->out_rank) return OAO_E_DESC_TRUNCATED;
  for (uint32_t i = 0; i < nd->out_rank; i++) {
    nd->out_dims[i] = be32(d + off);
    if (nd->out_dims[i] < 1 || nd->out_dims[i] > (1u << 24)) return OAO_E_BAD_HEADER;
    off += 4;
  }
  if (len - off < 4) return OAO_E_DESC_TRUNCATED;
  nd->n_attr = be32(d + off);
  off += 4;
  if (nd->n_attr > (len - off) / 4) return OAO_E_DESC_TRUNCATED;
  nd->attrs = d + off;
  off += 4 * nd->n_attr;
  if (off != len) return OAO_E_DESC_TRAILING;
  return OAO_OK;
}

/* Element count, or 0 if it exceeds 2^31 (dims are each in 1..2^24). */
static uint32_t numel(const uint32_t *dims, uint32_t rank) {
  uint32_t n = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (dims[i] == 0 || n > (0x80000000u / dims[i])) return 0;
    n *= dims[i];
  }
  return n;
}

static int in_range(int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; }

/* multiplier/shift pair of rq */
static int ok_rq(int32_t m, int32_t s) { return m >= 0 && in_range(s, 1, 62); }
static int ok_zero(int32_t z) { return in_range(z, -128, 127); }
static int ok_clamp(int32_t lo, int32_t hi) { return ok_zero(lo) && ok_zero(hi) && lo <= hi; }

int32_t oao_rq(int32_t v, int32_t m, int32_t s) {
  int64_t p = (int64_t)v * (int64_t)m; /* |p| < 2^62: no overflow */
  int64_t half = (int64_t)1 << (s - 1);
  int64_t r = p >= 0 ? (p + half) >> s : -((-p + half) >> s);
  return (int32_t)(uint32_t)(uint64_t)r;
}

/* a softmax exp table (§3.6): table[d] in 0..65536, table[0] >= 1 */
static int ok_table(const node_desc *nd) {
  for (uint32_t i = 0; i < 256; i++)
    if (!in_range(attr(nd, i), i == 0 ? 1 : 0, 65536)) return 0;
  return 1;
}

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

static int same_shape(const oao_tensor *a, const uint32_t *dims, uint32_t rank) {
  if (a->rank != rank) return 0;
  for (uint32_t i = 0; i < rank; i++)
    if (a->dims[i] != dims[i]) return 0;
  return 1;
}

static void set_out(oao_tensor *out, uint32_t dtype, uint32_t rank, const uint32_t *dims) {
  out->dtype = dtype;
  out->rank = rank;
  for (uint32_t i = 0; i < OAO_MAX_RANK; i++) out->dims[i] = i < rank ? dims[i] : 0;
}

/* Output spatial size of a window op; 0 if invalid. */
static uint32_t window_out(uint32_t in, int32_t k, int32_t stride, int32_t p0, int32_t p1, int32_t dil) {
  if (k < 1 || k > (1 << 24) || stride < 1 || stride > (1 << 24) || dil < 1 || dil > (1 << 16)) return 0;
  if (p0 < 0 || p1 < 0 || p0 > (1 << 24) || p1 > (1 << 24)) return 0;
  uint32_t span = (uint32_t)dil * (uint32_t)(k - 1) + 1; /* <= 2^16 * 2^24 would overflow: bound below */
  if ((uint32_t)(k - 1) > 0 && (uint32_t)dil > 0xFFFFFFFFu / (uint32_t)(k - 1)) return 0;
  uint32_t padded = in + (uint32_t)p0 + (uint32_t)p1; /* < 2^26 */
  if (span > padded) return 0;
  return (padded - span) / (uint32_t)stride + 1;
}

static int32_t validate(const node_desc *nd, const oao_tensor *in, uint32_t n_in, oao_tensor *out) {
  uint32_t dims[OAO_MAX_RANK];
  if (n_in != nd->n_in) return OAO_E_INPUT_COUNT;
  for (uint32_t i = 0; i < n_in; i++) {
    if (in[i].rank < 1 || in[i].rank > OAO_MAX_RANK) return OAO_E_INPUT_SHAPE;
    if (numel(in[i].dims, in[i].rank) == 0) return OAO_E_INPUT_SHAPE;
  }
  if (numel(nd->out_dims, nd->out_rank) == 0) return OAO_E_BAD_HEADER;
  switch (nd->op) {
  case OAO_OP_GEMM: {
    if (n_in != 2 && n_in != 3) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 7) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 2 || in[1].rank != 2 || in[0].dims[1] != in[1].dims[1]) return OAO_E_INPUT_SHAPE;
    if (n_in == 3) {
      if (in[2].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
      if (in[2].rank != 1 || in[2].dims[0] != in[1].dims[0]) return OAO_E_INPUT_SHAPE;
    }
    /* an int32 output (a language model's logits) keeps the requantized sum unclamped to int8:
       its zero point and clamp may be any i32 (qmin <= qmax) */
    int wide = nd->out_dtype == OAO_INT32;
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) ||
        !(wide ? attr(nd, 5) <= attr(nd, 6) : ok_zero(attr(nd, 4)) && ok_clamp(attr(nd, 5), attr(nd, 6))))
      return OAO_E_ATTR_VALUE;
    dims[0] = in[0].dims[0];
    dims[1] = in[1].dims[0];
    if (nd->out_rank != 2 || nd->out_dims[0] != dims[0] || nd->out_dims[1] != dims[1]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_ADD:
  case OAO_OP_MUL: {
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (!same_shape(&in[1], in[0].dims, in[0].rank)) return OAO_E_INPUT_SHAPE;
    if (nd->op == OAO_OP_ADD) {
      if (nd->n_attr != 12) return OAO_E_ATTR_COUNT;
      if (!ok_zero(attr(nd, 0)) || !ok_rq(attr(nd, 1), attr(nd, 2)) || !ok_zero(attr(nd, 3)) || !ok_rq(attr(nd, 4), attr(nd, 5)) ||
          !ok_rq(attr(nd, 6), attr(nd, 7)) || !ok_zero(attr(nd, 8)) || !ok_clamp(attr(nd, 9), attr(nd, 10)) ||
          !in_range(attr(nd, 11), 0, 20))
        return OAO_E_ATTR_VALUE;
    } else {
      if (nd->n_attr != 7) return OAO_E_ATTR_COUNT;
      if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) || !ok_zero(attr(nd, 4)) ||
          !ok_clamp(attr(nd, 5), attr(nd, 6)))
        return OAO_E_ATTR_VALUE;
    }
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_RELU: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (nd->n_attr != 1) return OAO_E_ATTR_COUNT;
    if (!ok_zero(attr(nd, 0))) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_SOFTMAX: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].dims[in[0].rank - 1] > 32767) return OAO_E_INPUT_SHAPE;
    if (nd->n_attr != 256) return OAO_E_ATTR_COUNT;
    if (!ok_table(nd)) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_RESHAPE: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 0) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (nd->out_dtype != in[0].dtype) return OAO_E_OUTPUT_DTYPE;
    if (numel(nd->out_dims, nd->out_rank) != numel(in[0].dims, in[0].rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_CONV2D: {
    if (n_in != 2 && n_in != 3) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 16) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 4 || in[1].rank != 4) return OAO_E_INPUT_SHAPE;
    int32_t group = attr(nd, 15);
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) || !ok_zero(attr(nd, 4)) ||
        !ok_clamp(attr(nd, 5), attr(nd, 6)) || group < 1)
      return OAO_E_ATTR_VALUE;
    uint32_t c = in[0].dims[1], o = in[1].dims[0];
    if (c % (uint32_t)group != 0 || o % (uint32_t)group != 0 || in[1].dims[1] != c / (uint32_t)group) return OAO_E_INPUT_SHAPE;
    if (n_in == 3) {
      if (in[2].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
      if (in[2].rank != 1 || in[2].dims[0] != o) return OAO_E_INPUT_SHAPE;
    }
    uint32_t oh = window_out(in[0].dims[2], (int32_t)in[1].dims[2], attr(nd, 7), attr(nd, 9), attr(nd, 11), attr(nd, 13));
    uint32_t ow = window_out(in[0].dims[3], (int32_t)in[1].dims[3], attr(nd, 8), attr(nd, 10), attr(nd, 12), attr(nd, 14));
    if (oh == 0 || ow == 0) return OAO_E_ATTR_VALUE;
    dims[0] = in[0].dims[0];
    dims[1] = o;
    dims[2] = oh;
    dims[3] = ow;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 4) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < 4; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_MAXPOOL: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 8) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 4) return OAO_E_INPUT_SHAPE;
    int32_t kh = attr(nd, 0), kw = attr(nd, 1);
    /* a pad as large as the window would allow windows with no input position */
    if (kh < 1 || kw < 1 || attr(nd, 4) >= kh || attr(nd, 6) >= kh || attr(nd, 5) >= kw || attr(nd, 7) >= kw) return OAO_E_ATTR_VALUE;
    uint32_t oh = window_out(in[0].dims[2], kh, attr(nd, 2), attr(nd, 4), attr(nd, 6), 1);
    uint32_t ow = window_out(in[0].dims[3], kw, attr(nd, 3), attr(nd, 5), attr(nd, 7), 1);
    if (oh == 0 || ow == 0) return OAO_E_ATTR_VALUE;
    dims[0] = in[0].dims[0];
    dims[1] = in[0].dims[1];
    dims[2] = oh;
    dims[3] = ow;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 4) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < 4; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_GATHER: {
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 0) return OAO_E_ATTR_COUNT;
    if ((in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) || in[1].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 2 || in[1].rank > OAO_MAX_RANK - 1) return OAO_E_INPUT_SHAPE;
    for (uint32_t i = 0; i < in[1].rank; i++) dims[i] = in[1].dims[i];
    dims[in[1].rank] = in[0].dims[1];
    if (nd->out_dtype != in[0].dtype) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != in[1].rank + 1) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < nd->out_rank; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_LAYERNORM: {
    if (n_in != 3) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 8) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8 || in[2].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    uint32_t d = in[0].dims[in[0].rank - 1];
    if (d > 16384 || in[1].rank != 1 || in[1].dims[0] != d || in[2].rank != 1 || in[2].dims[0] != d) return OAO_E_INPUT_SHAPE;
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || attr(nd, 2) < 1 || !ok_rq(attr(nd, 3), attr(nd, 4)) || !ok_zero(attr(nd, 5)) ||
        !ok_clamp(attr(nd, 6), attr(nd, 7)))
      return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_LUT: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (nd->n_attr != 256) return OAO_E_ATTR_COUNT;
    for (uint32_t i = 0; i < 256; i++)
      if (!ok_zero(attr(nd, i))) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_MATMUL: {
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 8) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    int32_t tb = attr(nd, 7);
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) || !ok_zero(attr(nd, 4)) ||
        !ok_clamp(attr(nd, 5), attr(nd, 6)) || (tb != 0 && tb != 1))
      return OAO_E_ATTR_VALUE;
    if (in[0].rank != 3 || in[1].rank != 3 || in[0].dims[0] != in[1].dims[0]) return OAO_E_INPUT_SHAPE;
    if (in[0].dims[2] != in[1].dims[tb ? 2 : 1]) return OAO_E_INPUT_SHAPE;
    dims[0] = in[0].dims[0];
    dims[1] = in[0].dims[1];
    dims[2] = in[1].dims[tb ? 1 : 2];
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 3) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < 3; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_CAUSALSOFTMAX: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].rank < 2 || in[0].dims[in[0].rank - 1] > 32767 || in[0].dims[in[0].rank - 2] > in[0].dims[in[0].rank - 1]) return OAO_E_INPUT_SHAPE;
    if (nd->n_attr != 256) return OAO_E_ATTR_COUNT;
    if (!ok_table(nd)) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_TRANSPOSE: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (nd->n_attr != in[0].rank) return OAO_E_ATTR_COUNT;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < in[0].rank; i++) {
      int32_t p = attr(nd, i);
      if (p < 0 || (uint32_t)p >= in[0].rank || (seen & (1u << p))) return OAO_E_ATTR_VALUE;
      seen |= 1u << p;
      dims[i] = in[0].dims[p];
    }
    if (nd->out_dtype != in[0].dtype) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != in[0].rank) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < nd->out_rank; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_SLICE: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (nd->n_attr != 2) return OAO_E_ATTR_COUNT;
    int32_t axis = attr(nd, 0), start = attr(nd, 1);
    if (axis < 0 || (uint32_t)axis >= in[0].rank || start < 0 || (uint32_t)start >= in[0].dims[axis]) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != in[0].dtype) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != in[0].rank) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < nd->out_rank; i++)
      if (i != (uint32_t)axis && nd->out_dims[i] != in[0].dims[i]) return OAO_E_OUTPUT_SHAPE;
    if (nd->out_dims[axis] > in[0].dims[axis] - (uint32_t)start) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_ARGMAX: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 0) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (nd->out_dtype != OAO_INT32) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != in[0].rank || nd->out_dims[nd->out_rank - 1] != 1) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i + 1 < nd->out_rank; i++)
      if (nd->out_dims[i] != in[0].dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_TOKENWINDOW: {
    /* x int8 [L] (the request input; L varies per request) -> int32 [C+1], 1 <= L <= C */
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 1) return OAO_E_ATTR_COUNT;
    int32_t C = attr(nd, 0);
    if (!in_range(C, 1, 32767)) return OAO_E_ATTR_VALUE;
    if (in[0].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 1 || in[0].dims[0] > (uint32_t)C) return OAO_E_INPUT_SHAPE;
    if (nd->out_dtype != OAO_INT32) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 1 || nd->out_dims[0] != (uint32_t)C + 1) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_POSITION: {
    /* w int32 [N], N >= 2 -> int32 [1] */
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 1) return OAO_E_ATTR_COUNT;
    if (in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 1 || in[0].dims[0] < 2) return OAO_E_INPUT_SHAPE;
    if (nd->out_dtype != OAO_INT32) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 1 || nd->out_dims[0] != 1) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_SCATTERROW: {
    /* cache [B,R,D], row [B,1,D] (same dtype), pos int32 [1] -> the cache's dtype and shape */
    if (n_in != 3) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 0) return OAO_E_ATTR_COUNT;
    if ((in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) || in[1].dtype != in[0].dtype || in[2].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].rank != 3 || in[1].rank != 3 || in[1].dims[0] != in[0].dims[0] || in[1].dims[1] != 1 || in[1].dims[2] != in[0].dims[2])
      return OAO_E_INPUT_SHAPE;
    if (in[2].rank != 1 || in[2].dims[0] != 1) return OAO_E_INPUT_SHAPE;
    if (nd->out_dtype != in[0].dtype) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_PREFIXSOFTMAX: {
    /* x int8 [...,N] (N <= 32767), pos int32 [1] -> int8, shape of x */
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].dims[in[0].rank - 1] > 32767 || in[1].rank != 1 || in[1].dims[0] != 1) return OAO_E_INPUT_SHAPE;
    if (nd->n_attr != 256) return OAO_E_ATTR_COUNT;
    if (!ok_table(nd)) return OAO_E_ATTR_VALUE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_EMIT: {
    /* tok int32 (1 element), window int32 [C+1] (C >= 1), optional prev int8 [T]; attrs k, T -> int8 [T] */
    if (n_in != 2 && n_in != 3) return OAO_E_INPUT_COUNT;
    if (nd->n_attr != 2) return OAO_E_ATTR_COUNT;
    int32_t k = attr(nd, 0), T = attr(nd, 1);
    if (T < 1 || T > (1 << 24) || k < 0 || k >= T) return OAO_E_ATTR_VALUE;
    if (n_in == 2 && k != 0) return OAO_E_INPUT_COUNT; /* byte k > 0 needs the earlier bytes */
    if (in[0].dtype != OAO_INT32 || in[1].dtype != OAO_INT32 || (n_in == 3 && in[2].dtype != OAO_INT8)) return OAO_E_INPUT_DTYPE;
    if (numel(in[0].dims, in[0].rank) != 1 || in[1].rank != 1 || in[1].dims[0] < 2) return OAO_E_INPUT_SHAPE;
    if (n_in == 3 && (in[2].rank != 1 || in[2].dims[0] != (uint32_t)T)) return OAO_E_INPUT_SHAPE;
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 1 || nd->out_dims[0] != (uint32_t)T) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  default:
    return OAO_E_UNKNOWN_OP;
  }
  set_out(out, nd->out_dtype, nd->out_rank, nd->out_dims);
  return OAO_OK;
}

int32_t oao_node_validate(const uint8_t *desc, uint32_t desc_len, const oao_tensor *inputs, uint32_t n_inputs,
                          oao_tensor *out) {
  node_desc nd;
  int32_t rc = parse_desc(desc, desc_len, &nd);
  if (rc != OAO_OK) return rc;
  return validate(&nd, inputs, n_inputs, out);
}

/* ---- kernels (inputs already validated) ---- */

static void gemm(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *w = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0; /* int32 output: the clamped value itself */
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  int32_t xz = attr(nd, 0), wz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6);
  for (uint32_t i = 0; i < M; i++) {
    const int8_t *xr = x + i * K;
    for (uint32_t j = 0; j < N; j++) {
      const int8_t *wr = w + j * K;
      uint32_t acc = b ? (uint32_t)b[j] : 0;
      for (uint32_t k = 0; k < K; k++) acc += (uint32_t)(((int32_t)xr[k] - xz) * ((int32_t)wr[k] - wz));
      int32_t r = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
      if (y32) y32[i * N + j] = r;
      else y[i * N + j] = (int8_t)r;
    }
  }
}

static void add(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *a = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *b = (const int8_t *)(uintptr_t)in[1].data;
  int32_t az = attr(nd, 0), am = attr(nd, 1), as = attr(nd, 2), bz = attr(nd, 3), bm = attr(nd, 4), bs = attr(nd, 5);
  int32_t m = attr(nd, 6), s = attr(nd, 7), yz = attr(nd, 8), lo = attr(nd, 9), hi = attr(nd, 10);
  int32_t scale = 1 << attr(nd, 11);
  for (uint32_t i = 0; i < n; i++) {
    int32_t ta = oao_rq(((int32_t)a[i] - az) * scale, am, as); /* |(a-az)·2^20| < 2^28 */
    int32_t tb = oao_rq(((int32_t)b[i] - bz) * scale, bm, bs);
    int32_t sum = (int32_t)((uint32_t)ta + (uint32_t)tb);
    int32_t r = (int32_t)((uint32_t)oao_rq(sum, m, s) + (uint32_t)yz);
    y[i] = (int8_t)clampi(r, lo, hi);
  }
}

static void mul(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *a = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *b = (const int8_t *)(uintptr_t)in[1].data;
  int32_t az = attr(nd, 0), bz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6);
  for (uint32_t i = 0; i < n; i++) {
    int32_t p = ((int32_t)a[i] - az) * ((int32_t)b[i] - bz);
    int32_t r = (int32_t)((uint32_t)oao_rq(p, m, s) + (uint32_t)yz);
    y[i] = (int8_t)clampi(r, lo, hi);
  }
}

static void relu(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  int32_t z = attr(nd, 0);
  for (uint32_t i = 0; i < n; i++) y[i] = (int8_t)((int32_t)x[i] > z ? (int32_t)x[i] : z);
}

static void softmax(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) table[i] = (uint32_t)attr(nd, i);
  uint32_t len = in[0].dims[in[0].rank - 1];
  for (uint32_t r = 0; r < n; r += len) {
    int32_t mx = -128;
    for (uint32_t i = 0; i < len; i++)
      if ((int32_t)x[r + i] > mx) mx = x[r + i];
    uint32_t sum = 0; /* <= 32767 · 65536 < 2^31 */
    for (uint32_t i = 0; i < len; i++) sum += table[(uint32_t)(mx - (int32_t)x[r + i])];
    for (uint32_t i = 0; i < len; i++) {
      uint32_t q = (table[(uint32_t)(mx - (int32_t)x[r + i])] * 256u + sum / 2u) / sum; /* sum >= table[0] >= 1 */
      if (q > 255u) q = 255u;
      y[r + i] = (int8_t)((int32_t)q - 128);
    }
  }
}

static void conv2d(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, const uint32_t *od) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *w = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  int32_t xz = attr(nd, 0), wz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6);
  int32_t sh = attr(nd, 7), sw = attr(nd, 8), pt = attr(nd, 9), pl = attr(nd, 10), dh = attr(nd, 13), dw = attr(nd, 14);
  uint32_t group = (uint32_t)attr(nd, 15);
  uint32_t N = in[0].dims[0], C = in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3];
  uint32_t O = in[1].dims[0], Cg = in[1].dims[1], KH = in[1].dims[2], KW = in[1].dims[3];
  uint32_t OH = od[2], OW = od[3], Og = O / group;
  for (uint32_t nn = 0; nn < N; nn++) {
    for (uint32_t o = 0; o < O; o++) {
      uint32_t c0 = (o / Og) * Cg;
      const int8_t *wo = w + o * Cg * KH * KW;
      for (uint32_t oh = 0; oh < OH; oh++) {
        for (uint32_t ow = 0; ow < OW; ow++) {
          uint32_t acc = b ? (uint32_t)b[o] : 0;
          int32_t ih0 = (int32_t)oh * sh - pt, iw0 = (int32_t)ow * sw - pl;
          for (uint32_t c = 0; c < Cg; c++) {
            const int8_t *xc = x + ((nn * C) + c0 + c) * H * W;
            const int8_t *wc = wo + c * KH * KW;
            for (uint32_t ki = 0; ki < KH; ki++) {
              int32_t ih = ih0 + (int32_t)ki * dh;
              if (ih < 0 || ih >= (int32_t)H) continue; /* padding reads xZero: contributes 0 */
              for (uint32_t kj = 0; kj < KW; kj++) {
                int32_t iw = iw0 + (int32_t)kj * dw;
                if (iw < 0 || iw >= (int32_t)W) continue;
                acc += (uint32_t)(((int32_t)xc[(uint32_t)ih * W + (uint32_t)iw] - xz) * ((int32_t)wc[ki * KW + kj] - wz));
              }
            }
          }
          int32_t r = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
          y[((nn * O + o) * OH + oh) * OW + ow] = (int8_t)clampi(r, lo, hi);
        }
      }
    }
  }
}

static void maxpool(const node_desc *nd, const oao_tensor *in, int8_t *y, const uint32_t *od) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  int32_t kh = attr(nd, 0), kw = attr(nd, 1), sh = attr(nd, 2), sw = attr(nd, 3), pt = attr(nd, 4), pl = attr(nd, 5);
  uint32_t NC = in[0].dims[0] * in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3];
  uint32_t OH = od[2], OW = od[3];
  for (uint32_t p = 0; p < NC; p++) {
    const int8_t *xp = x + p * H * W;
    for (uint32_t oh = 0; oh < OH; oh++) {
      for (uint32_t ow = 0; ow < OW; ow++) {
        int32_t mx = -128;
        int32_t ih0 = (int32_t)oh * sh - pt, iw0 = (int32_t)ow * sw - pl;
        for (int32_t ki = 0; ki < kh; ki++) {
          int32_t ih = ih0 + ki;
          if (ih < 0 || ih >= (int32_t)H) continue;
          for (int32_t kj = 0; kj < kw; kj++) {
            int32_t iw = iw0 + kj;
            if (iw < 0 || iw >= (int32_t)W) continue;
            int32_t v = xp[(uint32_t)ih * W + (uint32_t)iw];
            if (v > mx) mx = v;
          }
        }
        y[(p * OH + oh) * OW + ow] = (int8_t)mx;
      }
    }
  }
}

/* floor(n / d) for d >= 1, by shift and subtract: no 64-bit division helper exists in the
   freestanding guest. */
static uint64_t udiv64(uint64_t n, uint32_t d) {
  uint64_t q = 0, r = 0;
  for (int32_t i = 63; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1u); /* r < 2d <= 2^33 */
    if (r >= d) {
      r -= d;
      q |= (uint64_t)1 << i;
    }
  }
  return q;
}

/* floor(sqrt(v)), bit by bit */
static uint64_t isqrt64(uint64_t v) {
  uint64_t res = 0, one = (uint64_t)1 << 62;
  while (one > v) one >>= 2;
  while (one != 0) {
    if (v >= res + one) {
      v -= res + one;
      res = (res >> 1) + one;
    } else {
      res >>= 1;
    }
    one >>= 2;
  }
  return res;
}

static void gather(const oao_tensor *in, uint8_t *y) {
  const uint8_t *table = (const uint8_t *)(uintptr_t)in[0].data;
  const int32_t *ids = (const int32_t *)(uintptr_t)in[1].data;
  /* D = a row's bytes: rows are copied as bytes whatever the table's dtype */
  uint32_t V = in[0].dims[0], D = in[0].dims[1] * (in[0].dtype == OAO_INT32 ? 4u : 1u), n = numel(in[1].dims, in[1].rank);
  for (uint32_t i = 0; i < n; i++) {
    int32_t id = ids[i];
    uint8_t *row = y + i * D;
    if (id >= 0 && (uint32_t)id < V) {
      const uint8_t *src = table + (uint32_t)id * D;
      for (uint32_t j = 0; j < D; j++) row[j] = src[j];
    } else {
      for (uint32_t j = 0; j < D; j++) row[j] = 0; /* out-of-range id: a zero row */
    }
  }
}

static void layernorm(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *g = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = (const int32_t *)(uintptr_t)in[2].data;
  int32_t xz = attr(nd, 0), gz = attr(nd, 1), eps = attr(nd, 2), m = attr(nd, 3), s = attr(nd, 4), yz = attr(nd, 5);
  int32_t lo = attr(nd, 6), hi = attr(nd, 7);
  uint32_t D = in[0].dims[in[0].rank - 1];
  int32_t Di = (int32_t)D;
  for (uint32_t r = 0; r < n; r += D) {
    const int8_t *xr = x + r;
    int32_t S = 0; /* |S| <= 255 · 2^14 */
    for (uint32_t i = 0; i < D; i++) S += (int32_t)xr[i] - xz;
    uint64_t Q = 0; /* Σ c² <= 2^14 · 2^46 */
    for (uint32_t i = 0; i < D; i++) {
      int64_t c = (int64_t)(Di * ((int32_t)xr[i] - xz) - S); /* |c| < 2^23 */
      Q += (uint64_t)(c * c);
    }
    uint32_t sd = (uint32_t)isqrt64(udiv64(Q, D) + (uint64_t)(uint32_t)eps); /* >= 1 (eps >= 1), < 2^31 */
    uint64_t inv = udiv64((uint64_t)1 << 40, sd);
    for (uint32_t i = 0; i < D; i++) {
      int64_t c = (int64_t)(Di * ((int32_t)xr[i] - xz) - S);
      int64_t p = c * (int64_t)inv; /* |c| < sqrt(D)·(sd+1) so |p| < 2^48 */
      int64_t half = (int64_t)1 << 27;
      int32_t t = (int32_t)(p >= 0 ? (p + half) >> 28 : -((-p + half) >> 28)); /* |t| <= 2^20 */
      uint32_t acc = (uint32_t)(t * ((int32_t)g[i] - gz)) + (uint32_t)b[i];
      int32_t v = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
      y[r + i] = (int8_t)clampi(v, lo, hi);
    }
  }
}

static void lut(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  int8_t table[256];
  for (uint32_t i = 0; i < 256; i++) table[i] = (int8_t)attr(nd, i);
  for (uint32_t i = 0; i < n; i++) y[i] = table[(uint32_t)((int32_t)x[i] + 128)];
}

static void matmul(const node_desc *nd, const oao_tensor *in, int8_t *y) {
  const int8_t *a = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *bm = (const int8_t *)(uintptr_t)in[1].data;
  int32_t az = attr(nd, 0), bz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6), tb = attr(nd, 7);
  uint32_t B = in[0].dims[0], M = in[0].dims[1], K = in[0].dims[2], N = in[1].dims[tb ? 1 : 2];
  /* element (k, j) of batch bb's right operand is at kStride·k + jStride·j */
  uint32_t kStride = tb ? 1 : N, jStride = tb ? K : 1;
  for (uint32_t bb = 0; bb < B; bb++) {
    const int8_t *ab = a + bb * M * K, *bb0 = bm + bb * K * N;
    int8_t *yb = y + bb * M * N;
    for (uint32_t i = 0; i < M; i++) {
      for (uint32_t j = 0; j < N; j++) {
        const int8_t *col = bb0 + j * jStride;
        uint32_t acc = 0;
        for (uint32_t k = 0; k < K; k++) acc += (uint32_t)(((int32_t)ab[i * K + k] - az) * ((int32_t)col[k * kStride] - bz));
        int32_t r = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
        yb[i * N + j] = (int8_t)clampi(r, lo, hi);
      }
    }
  }
}

static void causal_softmax(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) table[i] = (uint32_t)attr(nd, i);
  uint32_t C = in[0].dims[in[0].rank - 1], R = in[0].dims[in[0].rank - 2];
  uint32_t row = 0; /* row index within its [R, C] matrix */
  for (uint32_t base = 0; base < n; base += C) {
    uint32_t allowed = row + (C - R) + 1; /* columns 0 .. row + C - R: at least 1, at most C */
    const int8_t *xr = x + base;
    int32_t mx = -128;
    for (uint32_t j = 0; j < allowed; j++)
      if ((int32_t)xr[j] > mx) mx = xr[j];
    uint32_t sum = 0; /* <= 32767 · 65536 < 2^31 */
    for (uint32_t j = 0; j < allowed; j++) sum += table[(uint32_t)(mx - (int32_t)xr[j])];
    for (uint32_t j = 0; j < C; j++) {
      if (j >= allowed) {
        y[base + j] = -128;
        continue;
      }
      uint32_t q = (table[(uint32_t)(mx - (int32_t)xr[j])] * 256u + sum / 2u) / sum; /* sum >= table[0] >= 1 */
      if (q > 255u) q = 255u;
      y[base + j] = (int8_t)((int32_t)q - 128);
    }
    if (++row == R) row = 0;
  }
}

static void transpose(const node_desc *nd, const oao_tensor *in, uint8_t *y, const uint32_t *od, uint32_t n) {
  const uint8_t *x = (const uint8_t *)(uintptr_t)in[0].data;
  uint32_t rank = in[0].rank, es = in[0].dtype == OAO_INT32 ? 4u : 1u;
  uint32_t inStride[OAO_MAX_RANK], step[OAO_MAX_RANK], idx[OAO_MAX_RANK];
  uint32_t st = 1;
  for (uint32_t i = rank; i > 0; i--) {
    inStride[i - 1] = st;
    st *= in[0].dims[i - 1];
  }
  for (uint32_t i = 0; i < rank; i++) {
    step[i] = inStride[attr(nd, i)]; /* input stride of output axis i */
    idx[i] = 0;
  }
  uint32_t src = 0; /* input element index of output element o */
  for (uint32_t o = 0; o < n; o++) {
    for (uint32_t b = 0; b < es; b++) y[o * es + b] = x[src * es + b];
    for (uint32_t i = rank; i > 0; i--) { /* odometer over the output index, last axis fastest */
      uint32_t a = i - 1;
      if (++idx[a] < od[a]) {
        src += step[a];
        break;
      }
      src -= step[a] * (idx[a] - 1);
      idx[a] = 0;
    }
  }
}

static void slice(const node_desc *nd, const oao_tensor *in, uint8_t *y, const uint32_t *od) {
  const uint8_t *x = (const uint8_t *)(uintptr_t)in[0].data;
  uint32_t axis = (uint32_t)attr(nd, 0), start = (uint32_t)attr(nd, 1), es = in[0].dtype == OAO_INT32 ? 4u : 1u;
  uint32_t outer = 1, inner = es;
  for (uint32_t i = 0; i < axis; i++) outer *= in[0].dims[i];
  for (uint32_t i = axis + 1; i < in[0].rank; i++) inner *= in[0].dims[i];
  uint32_t dimIn = in[0].dims[axis], len = od[axis] * inner;
  for (uint32_t o = 0; o < outer; o++) {
    const uint8_t *src = x + (o * dimIn + start) * inner;
    uint8_t *dst = y + o * len;
    for (uint32_t i = 0; i < len; i++) dst[i] = src[i];
  }
}

static void argmax(const oao_tensor *in, int32_t *y) {
  uint32_t N = in[0].dims[in[0].rank - 1], rows = numel(in[0].dims, in[0].rank) / N;
  if (in[0].dtype == OAO_INT32) { /* a language model's int32 logits */
    const int32_t *x = (const int32_t *)(uintptr_t)in[0].data;
    for (uint32_t r = 0; r < rows; r++) {
      const int32_t *xr = x + r * N;
      uint32_t best = 0;
      for (uint32_t j = 1; j < N; j++)
        if (xr[j] > xr[best]) best = j; /* the first maximum wins */
      y[r] = (int32_t)best;
    }
    return;
  }
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  for (uint32_t r = 0; r < rows; r++) {
    const int8_t *xr = x + r * N;
    uint32_t best = 0;
    for (uint32_t j = 1; j < N; j++)
      if (xr[j] > xr[best]) best = j; /* the first maximum wins */
    y[r] = (int32_t)best;
  }
}

/* ---- the text-generation ops (17-21). Their guest step counts do not depend on the values
   read (the prompt length L, positions, tokens, earlier bytes): the positions select by masks,
   not branches, so a keeper's one measurement per model (measureNodeSteps) bounds every request. */

/* all ones if c, else 0 */
static uint32_t mask_if(uint32_t c) { return 0u - (c & 1u); }
static uint32_t pick_u32(uint32_t m, uint32_t a, uint32_t b) { return (a & m) | (b & ~m); }

static void token_window(const node_desc *nd, const oao_tensor *in, int32_t *y) {
  const uint8_t *x = (const uint8_t *)(uintptr_t)in[0].data;
  uint32_t C = (uint32_t)attr(nd, 0), L = in[0].dims[0]; /* 1 <= L <= C */
  /* one pass over the whole window whatever L (the same steps for every prompt length) */
  for (uint32_t i = 0; i < C; i++) {
    uint32_t m = mask_if(i < L);
    uint32_t src = pick_u32(m, i, L - 1);
    y[i] = (int32_t)((uint32_t)x[src] & m); /* the byte as unsigned 0..255 */
  }
  y[C] = (int32_t)L;
}

static void position(const node_desc *nd, const oao_tensor *in, int32_t *y) {
  const int32_t *w = (const int32_t *)(uintptr_t)in[0].data;
  uint32_t N = in[0].dims[0]; /* >= 2 */
  int64_t v = (int64_t)w[N - 1] + (int64_t)attr(nd, 0); /* exact: |v| <= 2^32 */
  /* clamp to 0 .. N-2 without branches: v + 2^32 is in 0 .. 2^33 - 2, so its high word is 0
     (v < 0) or 1 (then its low word is v) */
  uint64_t u = (uint64_t)(v + ((int64_t)1 << 32));
  uint32_t hi = (uint32_t)(u >> 32), lo = (uint32_t)u;
  uint32_t neg = mask_if(hi == 0u);
  uint32_t big = mask_if((hi == 1u) & (lo > N - 2u));
  y[0] = (int32_t)pick_u32(big, N - 2u, lo & ~neg);
}

static void scatter_row(const oao_tensor *in, uint8_t *y, uint32_t n) {
  const uint8_t *cache = (const uint8_t *)(uintptr_t)in[0].data;
  const uint8_t *row = (const uint8_t *)(uintptr_t)in[1].data;
  int32_t p = ((const int32_t *)(uintptr_t)in[2].data)[0];
  uint32_t es = in[0].dtype == OAO_INT32 ? 4u : 1u;
  uint32_t B = in[0].dims[0], R = in[0].dims[1], rowBytes = in[0].dims[2] * es, bytes = n * es;
  for (uint32_t i = 0; i < bytes; i++) y[i] = cache[i];
  /* p outside 0..R-1: rewrite row 0 with its own bytes (the unchanged copy), in the same steps */
  uint32_t ok = mask_if((uint32_t)p < R);
  uint32_t at = (uint32_t)p & ok;
  uint8_t m8 = (uint8_t)ok;
  for (uint32_t b = 0; b < B; b++) {
    uint8_t *dst = y + (b * R + at) * rowBytes;
    const uint8_t *src = row + b * rowBytes;
    for (uint32_t j = 0; j < rowBytes; j++) dst[j] = (uint8_t)((src[j] & m8) | (dst[j] & (uint8_t)~m8));
  }
}

static void prefix_softmax(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  int32_t p = ((const int32_t *)(uintptr_t)in[1].data)[0];
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) table[i] = (uint32_t)attr(nd, i);
  uint32_t N = in[0].dims[in[0].rank - 1];
  /* q = clamp(p, 0, N-1); column j takes part iff j <= q */
  uint32_t neg = mask_if(p < 0), big = mask_if(p > (int32_t)(N - 1u));
  uint32_t q = pick_u32(big, N - 1u, (uint32_t)p & ~neg);
  for (uint32_t base = 0; base < n; base += N) {
    const int8_t *xr = x + base;
    int32_t mx = -128;
    for (uint32_t j = 0; j < N; j++) {
      int32_t v = (int32_t)pick_u32(mask_if(j <= q), (uint32_t)(int32_t)xr[j], (uint32_t)-128);
      mx = (int32_t)pick_u32(mask_if(v > mx), (uint32_t)v, (uint32_t)mx);
    }
    uint32_t sum = 0; /* <= 32767 · 65536 < 2^31, >= table[0] >= 1 (column 0 always takes part) */
    for (uint32_t j = 0; j < N; j++) {
      uint32_t m = mask_if(j <= q);
      int32_t v = (int32_t)pick_u32(m, (uint32_t)(int32_t)xr[j], (uint32_t)-128); /* mx - v in 0..255 */
      sum += table[(uint32_t)(mx - v)] & m;
    }
    for (uint32_t j = 0; j < N; j++) {
      uint32_t m = mask_if(j <= q);
      int32_t v = (int32_t)pick_u32(m, (uint32_t)(int32_t)xr[j], (uint32_t)-128);
      /* a column past q has e = 0, so floor(floor(S/2) / S) = 0: probability 0, i.e. -128 */
      uint32_t e = table[(uint32_t)(mx - v)] & m;
      uint32_t r = (e * 256u + sum / 2u) / sum;
      r = pick_u32(mask_if(r > 255u), 255u, r);
      y[base + j] = (int8_t)((int32_t)r - 128);
    }
  }
}

static void emit(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  uint32_t tok = (uint32_t)((const int32_t *)(uintptr_t)in[0].data)[0];
  const int32_t *w = (const int32_t *)(uintptr_t)in[1].data;
  const int8_t *prev = n_in == 3 ? (const int8_t *)(uintptr_t)in[2].data : 0;
  uint32_t k = (uint32_t)attr(nd, 0), T = (uint32_t)attr(nd, 1);
  int32_t C = (int32_t)(in[1].dims[0] - 1u), L = w[in[1].dims[0] - 1u];
  for (uint32_t i = 0; i < T; i++) y[i] = prev ? prev[i] : 0;
  uint32_t ended = 0; /* an earlier byte is 0x00 (end of text) */
  for (uint32_t j = 0; j < k; j++) ended |= (uint32_t)(prev[j] == 0);
  /* L + k < C, exactly: C - k does not overflow (C, k < 2^24) */
  uint32_t m = mask_if(L < C - (int32_t)k) & ~mask_if(ended);
  y[k] = (int8_t)(uint8_t)(tok & 0xFFu & m);
}

#ifdef OAO_WASM_SIMD
/* the wasm SIMD128 build (build-wasm.sh): vector versions of the hot kernels, bit-exact */
#include "oao_kernels_simd.h"
#define OAO_GEMM gemm_simd
#define OAO_MATMUL matmul_simd
#define OAO_CONV2D conv2d_simd
#else
#define OAO_GEMM gemm
#define OAO_MATMUL matmul
#define OAO_CONV2D conv2d
#endif

int32_t oao_node_run(const uint8_t *desc, uint32_t desc_len, const oao_tensor *inputs, uint32_t n_inputs, oao_tensor *out) {
  node_desc nd;
  int32_t rc = parse_desc(desc, desc_len, &nd);
  if (rc != OAO_OK) return rc;
  rc = validate(&nd, inputs, n_inputs, out);
  if (rc != OAO_OK) return rc;
  uint32_t n = numel(nd.out_dims, nd.out_rank);
  int8_t *y = (int8_t *)(uintptr_t)out->data;
  switch (nd.op) {
  case OAO_OP_GEMM: OAO_GEMM(&nd, inputs, n_inputs, y); break;
  case OAO_OP_ADD: add(&nd, inputs, y, n); break;
  case OAO_OP_MUL: mul(&nd, inputs, y, n); break;
  case OAO_OP_RELU: relu(&nd, inputs, y, n); break;
  case OAO_OP_SOFTMAX: softmax(&nd, inputs, y, n); break;
  case OAO_OP_RESHAPE: {
    const uint8_t *src = (const uint8_t *)(uintptr_t)inputs[0].data;
    uint8_t *dst = (uint8_t *)y;
    uint32_t bytes = n * (nd.out_dtype == OAO_INT32 ? 4u : 1u);
    for (uint32_t i = 0; i < bytes; i++) dst[i] = src[i];
    break;
  }
  case OAO_OP_CONV2D: OAO_CONV2D(&nd, inputs, n_inputs, y, nd.out_dims); break;
  case OAO_OP_MAXPOOL: maxpool(&nd, inputs, y, nd.out_dims); break;
  case OAO_OP_GATHER: gather(inputs, (uint8_t *)y); break;
  case OAO_OP_LAYERNORM: layernorm(&nd, inputs, y, n); break;
  case OAO_OP_LUT: lut(&nd, inputs, y, n); break;
  case OAO_OP_MATMUL: OAO_MATMUL(&nd, inputs, y); break;
  case OAO_OP_CAUSALSOFTMAX: causal_softmax(&nd, inputs, y, n); break;
  case OAO_OP_TRANSPOSE: transpose(&nd, inputs, (uint8_t *)y, nd.out_dims, n); break;
  case OAO_OP_SLICE: slice(&nd, inputs, (uint8_t *)y, nd.out_dims); break;
  case OAO_OP_ARGMAX: argmax(inputs, (int32_t *)(uintptr_t)out->data); break;
  case OAO_OP_TOKENWINDOW: token_window(&nd, inputs, (int32_t *)(uintptr_t)out->data); break;
  case OAO_OP_POSITION: position(&nd, inputs, (int32_t *)(uintptr_t)out->data); break;
  case OAO_OP_SCATTERROW: scatter_row(inputs, (uint8_t *)y, n); break;
  case OAO_OP_PREFIXSOFTMAX: prefix_softmax(&nd, inputs, y, n); break;
  case OAO_OP_EMIT: emit(&nd, inputs, n_inputs, y); break;
  default: return OAO_E_UNKNOWN_OP;
  }
  return OAO_OK;
}

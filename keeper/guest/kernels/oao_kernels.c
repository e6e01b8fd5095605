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

/* Whether the wide table at attributes base.. (nt + 1 entries, each in lo..hi) keeps interp exact over nt·2^sh <= top */
static int ok_wide_table(const node_desc *nd, uint32_t base, uint32_t nt, int32_t sh, int64_t top, int32_t lo, int32_t hi) {
  if (nt < 1 || nt > 4096 || !in_range(sh, 0, 24) || ((int64_t)nt << sh) > top) return 0;
  for (uint32_t j = 0; j <= nt; j++) {
    if (!in_range(attr(nd, base + j), lo, hi)) return 0;
    if (j < nt) {
      int64_t d = (int64_t)attr(nd, base + 1 + j) - attr(nd, base + j);
      if ((d < 0 ? -d : d) << sh > 2147483647) return 0;
    }
  }
  return 1;
}

/* a softmax's exp table and output (§3.6): table[0..255] and int8 probabilities, or (wide) shift, t_0..t_n
   (1 <= n <= 4096, entries in 0..65536, t_0 >= 1) and int32 probabilities */
static int32_t validate_softmax_table(const node_desc *nd, int wide) {
  if (!wide) {
    if (nd->n_attr != 256) return OAO_E_ATTR_COUNT;
    if (!ok_table(nd)) return OAO_E_ATTR_VALUE;
    return nd->out_dtype == OAO_INT8 ? OAO_OK : OAO_E_OUTPUT_DTYPE;
  }
  if (nd->n_attr < 3 || nd->n_attr > 4098) return OAO_E_ATTR_COUNT;
  if (!ok_wide_table(nd, 1, nd->n_attr - 2, attr(nd, 0), 2147483647, 0, 65536) || attr(nd, 1) < 1) return OAO_E_ATTR_VALUE;
  return nd->out_dtype == OAO_INT32 ? OAO_OK : OAO_E_OUTPUT_DTYPE;
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
    /* the wide form (§3.6): x and w both int32, zero points 0 */
    int wide_in = in[0].dtype == OAO_INT32;
    if ((!wide_in && in[0].dtype != OAO_INT8) || in[1].dtype != in[0].dtype) return OAO_E_INPUT_DTYPE;
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
    if (wide_in && (attr(nd, 0) != 0 || attr(nd, 1) != 0)) return OAO_E_ATTR_VALUE;
    dims[0] = in[0].dims[0];
    dims[1] = in[1].dims[0];
    if (nd->out_rank != 2 || nd->out_dims[0] != dims[0] || nd->out_dims[1] != dims[1]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_ADD:
  case OAO_OP_MUL: {
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if (!same_shape(&in[1], in[0].dims, in[0].rank)) return OAO_E_INPUT_SHAPE;
    if (nd->op == OAO_OP_ADD) {
      /* the wide form (§3.6): an int32 operand or output carries a residual stream, zero point 0 */
      uint32_t wide_a = in[0].dtype == OAO_INT32, wide_b = in[1].dtype == OAO_INT32, wide_y = nd->out_dtype == OAO_INT32;
      if ((!wide_a && in[0].dtype != OAO_INT8) || (!wide_b && in[1].dtype != OAO_INT8)) return OAO_E_INPUT_DTYPE;
      if (nd->n_attr != 12) return OAO_E_ATTR_COUNT;
      if (!ok_zero(attr(nd, 0)) || !ok_rq(attr(nd, 1), attr(nd, 2)) || !ok_zero(attr(nd, 3)) || !ok_rq(attr(nd, 4), attr(nd, 5)) ||
          !ok_rq(attr(nd, 6), attr(nd, 7)) || !in_range(attr(nd, 11), 0, (wide_a || wide_b) ? 13 : 20))
        return OAO_E_ATTR_VALUE;
      if ((wide_a && attr(nd, 0) != 0) || (wide_b && attr(nd, 3) != 0)) return OAO_E_ATTR_VALUE;
      if (wide_y ? (attr(nd, 8) != 0 || attr(nd, 9) > attr(nd, 10)) : (!ok_zero(attr(nd, 8)) || !ok_clamp(attr(nd, 9), attr(nd, 10))))
        return OAO_E_ATTR_VALUE;
      if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
      break;
    }
    if (in[0].dtype != OAO_INT8 || in[1].dtype != OAO_INT8) return OAO_E_INPUT_DTYPE;
    {
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
    {
      int32_t rc = validate_softmax_table(nd, 0);
      if (rc != OAO_OK) return rc;
    }
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
    /* the wide forms (§3.6): an int32 input, an int32 gain, an int32 output, each with zero point 0 */
    if ((in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) || (in[1].dtype != OAO_INT8 && in[1].dtype != OAO_INT32) ||
        in[2].dtype != OAO_INT32)
      return OAO_E_INPUT_DTYPE;
    if ((in[0].dtype == OAO_INT32 && attr(nd, 0) != 0) || (in[1].dtype == OAO_INT32 && attr(nd, 1) != 0)) return OAO_E_ATTR_VALUE;
    uint32_t d = in[0].dims[in[0].rank - 1];
    if (d > 16384 || in[1].rank != 1 || in[1].dims[0] != d || in[2].rank != 1 || in[2].dims[0] != d) return OAO_E_INPUT_SHAPE;
    if (nd->out_dtype != OAO_INT8 && nd->out_dtype != OAO_INT32) return OAO_E_OUTPUT_DTYPE;
    int wide_y = nd->out_dtype == OAO_INT32;
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || attr(nd, 2) < 1 || !ok_rq(attr(nd, 3), attr(nd, 4)) ||
        (wide_y ? attr(nd, 5) != 0 || attr(nd, 6) > attr(nd, 7) : !ok_zero(attr(nd, 5)) || !ok_clamp(attr(nd, 6), attr(nd, 7))))
      return OAO_E_ATTR_VALUE;
    if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_LUT: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype == OAO_INT32) {
      /* the wide form (§3.6): lo, shift, t_0..t_n (1 <= n <= 4096), interpolated; exact in 32 bits by these bounds */
      if (nd->n_attr < 4 || nd->n_attr > 4099) return OAO_E_ATTR_COUNT;
      if (!ok_wide_table(nd, 2, nd->n_attr - 3, attr(nd, 1), 2147483647 - (int64_t)attr(nd, 0), INT32_MIN, INT32_MAX)) return OAO_E_ATTR_VALUE;
      if (nd->out_dtype != OAO_INT32) return OAO_E_OUTPUT_DTYPE;
      if (!same_shape(&in[0], nd->out_dims, nd->out_rank)) return OAO_E_OUTPUT_SHAPE;
      break;
    }
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
    /* the wide form (§3.6): a and b both int32, zero points 0; then also an int32 output (any i32 zero point and clamp) */
    int wide_in = in[0].dtype == OAO_INT32, wide_y = nd->out_dtype == OAO_INT32;
    if ((!wide_in && in[0].dtype != OAO_INT8) || in[1].dtype != in[0].dtype) return OAO_E_INPUT_DTYPE;
    int32_t tb = attr(nd, 7);
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) ||
        !(wide_y ? attr(nd, 5) <= attr(nd, 6) : ok_zero(attr(nd, 4)) && ok_clamp(attr(nd, 5), attr(nd, 6))) || (tb != 0 && tb != 1))
      return OAO_E_ATTR_VALUE;
    if (wide_in && (attr(nd, 0) != 0 || attr(nd, 1) != 0)) return OAO_E_ATTR_VALUE;
    if (in[0].rank != 3 || in[1].rank != 3 || in[0].dims[0] != in[1].dims[0]) return OAO_E_INPUT_SHAPE;
    if (in[0].dims[2] != in[1].dims[tb ? 2 : 1]) return OAO_E_INPUT_SHAPE;
    dims[0] = in[0].dims[0];
    dims[1] = in[0].dims[1];
    dims[2] = in[1].dims[tb ? 1 : 2];
    if (nd->out_dtype != OAO_INT8 && !(wide_y && wide_in)) return OAO_E_OUTPUT_DTYPE;
    if (nd->out_rank != 3) return OAO_E_OUTPUT_SHAPE;
    for (uint32_t i = 0; i < 3; i++)
      if (nd->out_dims[i] != dims[i]) return OAO_E_OUTPUT_SHAPE;
    break;
  }
  case OAO_OP_CAUSALSOFTMAX: {
    if (n_in != 1) return OAO_E_INPUT_COUNT;
    if (in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].rank < 2 || in[0].dims[in[0].rank - 1] > 32767 || in[0].dims[in[0].rank - 2] > in[0].dims[in[0].rank - 1]) return OAO_E_INPUT_SHAPE;
    {
      int32_t rc = validate_softmax_table(nd, in[0].dtype == OAO_INT32);
      if (rc != OAO_OK) return rc;
    }
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
    /* x int8 [...,N] (N <= 32767), pos int32 [1] -> int8, shape of x; or (wide) int32 x -> int32 */
    if (n_in != 2) return OAO_E_INPUT_COUNT;
    if ((in[0].dtype != OAO_INT8 && in[0].dtype != OAO_INT32) || in[1].dtype != OAO_INT32) return OAO_E_INPUT_DTYPE;
    if (in[0].dims[in[0].rank - 1] > 32767 || in[1].rank != 1 || in[1].dims[0] != 1) return OAO_E_INPUT_SHAPE;
    {
      int32_t rc = validate_softmax_table(nd, in[0].dtype == OAO_INT32);
      if (rc != OAO_OK) return rc;
    }
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

/*
 * Register tiles for Gemm and MatMul (the guest's and the scalar wasm build's; the SIMD build has its
 * own in oao_kernels_simd.h): acc[r·4 + c] = Σ_k (x[r·ldx + k] - xz)·w(c, k) modulo 2^32 for r < MR and
 * c < NR, MR×NR one of 2×(1..4) and 1×(1..8). The right operand's zero point is left out: the caller
 * subtracts wz·Σ_k (x[r·ldx + k] - xz) (row_sum), since Σ (x - xz)(w - wz) = Σ (x - xz)·w - wz·Σ (x - xz),
 * an identity of integers, so also modulo 2^32 where every term is computed. Addition modulo 2^32 does
 * not depend on order, so a tile gives the bits of the one-output-at-a-time loop. MR and NR are
 * constants at every call (always_inline), so the accumulators stay in registers. Every loop runs on
 * shapes, never on values.
 *
 * On MIPS (the guest) the full tiles' k loops are inline assembly, four k at a time: each k of a 2×4
 * tile is 6 loads, 2 subtractions of xz, 8 mul and 8 addu (103 instructions per 32 multiply-
 * accumulates with the pointer steps and the branch: 3.22 per MAC; 95 = 2.97 without the
 * subtractions, where the caller folds xz out: FOLD_ROWS below); of a 1×8 tile 9 loads, 1
 * subtraction, 8 mul and 8 addu (3.56 per MAC). clang 14 compiles the same C to 3.9-4.1 per MAC: its
 * scheduler hoists the loads of the unrolled iterations and spills. The C loops take the K % 4 tail
 * and the smaller tiles, and everything on wasm. The assembly declares HI/LO clobbered (MIPS32 leaves
 * them unpredictable after `mul`; keeper/vm/instructions.ts leaves them as they are).
 */
#if defined(__mips__)
#define OAO_MIPS_MAC(xv, wr, off, a) \
  "lb   %[t2], " #off "(%[" #wr "])\n\t" \
  "mul  %[t3], %[" #xv "], %[t2]\n\t" \
  "addu %[" #a "], %[" #a "], %[t3]\n\t"
#define OAO_MIPS_MAC2(wr, off, c) OAO_MIPS_MAC(t0, wr, off, a0##c) "mul %[t3], %[t1], %[t2]\n\taddu %[a1" #c "], %[a1" #c "], %[t3]\n\t"
#define OAO_MIPS_X(r, off) "lb %[t" #r "], " #off "(%[x" #r "])\n\tsubu %[t" #r "], %[t" #r "], %[xz]\n\t"
#define OAO_MIPS_XF(r, off) "lb %[t" #r "], " #off "(%[x" #r "])\n\t" /* xz folded out by the caller */
/* one k of a 2×4 tile over four weight rows (rows layout); X: OAO_MIPS_X or OAO_MIPS_XF */
#define OAO_MIPS_ROWS2(X, off) \
  X(0, off) X(1, off) OAO_MIPS_MAC2(w0, off, 0) OAO_MIPS_MAC2(w1, off, 1) OAO_MIPS_MAC2(w2, off, 2) OAO_MIPS_MAC2(w3, off, 3)
/* one k of a 1×8 tile over eight weight rows */
#define OAO_MIPS_ROWS1(off)                                                                                                         \
  OAO_MIPS_X(0, off) OAO_MIPS_MAC(t0, w0, off, a00) OAO_MIPS_MAC(t0, w1, off, a01) OAO_MIPS_MAC(t0, w2, off, a02)                   \
  OAO_MIPS_MAC(t0, w3, off, a03) OAO_MIPS_MAC(t0, w4, off, a04) OAO_MIPS_MAC(t0, w5, off, a05) OAO_MIPS_MAC(t0, w6, off, a06)       \
  OAO_MIPS_MAC(t0, w7, off, a07)
/* one k over four (2 rows) or eight (1 row) neighbouring columns of one weight row (columns layout), then the next row */
#define OAO_MIPS_COLS2(X, off) \
  X(0, off) X(1, off) OAO_MIPS_MAC2(w0, 0, 0) OAO_MIPS_MAC2(w0, 1, 1) OAO_MIPS_MAC2(w0, 2, 2) OAO_MIPS_MAC2(w0, 3, 3) \
  "addu %[w0], %[w0], %[ldw]\n\t"
#define OAO_MIPS_COLS1(off)                                                                                                         \
  OAO_MIPS_X(0, off) OAO_MIPS_MAC(t0, w0, 0, a00) OAO_MIPS_MAC(t0, w0, 1, a01) OAO_MIPS_MAC(t0, w0, 2, a02)                         \
  OAO_MIPS_MAC(t0, w0, 3, a03) OAO_MIPS_MAC(t0, w0, 4, a04) OAO_MIPS_MAC(t0, w0, 5, a05) OAO_MIPS_MAC(t0, w0, 6, a06)             \
  OAO_MIPS_MAC(t0, w0, 7, a07) "addu %[w0], %[w0], %[ldw]\n\t"
#define OAO_MIPS_ACC2 \
  [a00] "+r"(a0[0]), [a01] "+r"(a0[1]), [a02] "+r"(a0[2]), [a03] "+r"(a0[3]), [a10] "+r"(a1[0]), [a11] "+r"(a1[1]), [a12] "+r"(a1[2]), \
  [a13] "+r"(a1[3]), [x0] "+r"(x0), [x1] "+r"(x1), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
/* the 2×4 k loops, four k an iteration */
#define OAO_MIPS_ROWS2_LOOP(X) \
  __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_MIPS_ROWS2(X, 0) OAO_MIPS_ROWS2(X, 1) OAO_MIPS_ROWS2(X, 2) OAO_MIPS_ROWS2(X, 3) \
          "addiu %[x0], %[x0], 4\n\taddiu %[x1], %[x1], 4\n\taddiu %[w0], %[w0], 4\n\taddiu %[w1], %[w1], 4\n\t" \
          "addiu %[w2], %[w2], 4\n\tbne %[x0], %[end], 1b\n\taddiu %[w3], %[w3], 4\n\t.set pop" \
          : OAO_MIPS_ACC2, [w0] "+r"(wp[0]), [w1] "+r"(wp[1]), [w2] "+r"(wp[2]), [w3] "+r"(wp[3]) \
          : [end] "r"(end), [xz] "r"(xz) \
          : "hi", "lo", "memory")
#define OAO_MIPS_COLS2_LOOP(X) \
  __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_MIPS_COLS2(X, 0) OAO_MIPS_COLS2(X, 1) OAO_MIPS_COLS2(X, 2) OAO_MIPS_COLS2(X, 3) \
          "addiu %[x0], %[x0], 4\n\tbne %[x0], %[end], 1b\n\taddiu %[x1], %[x1], 4\n\t.set pop" \
          : OAO_MIPS_ACC2, [w0] "+r"(w0) \
          : [end] "r"(end), [xz] "r"(xz), [ldw] "r"(ldw) \
          : "hi", "lo", "memory")
#define OAO_MIPS_ACC1 \
  [a00] "+r"(a0[0]), [a01] "+r"(a0[1]), [a02] "+r"(a0[2]), [a03] "+r"(a0[3]), [a04] "+r"(a0[4]), [a05] "+r"(a0[5]), [a06] "+r"(a0[6]), \
  [a07] "+r"(a0[7]), [x0] "+r"(x0), [t0] "=&r"(t0), [t2] "=&r"(t2), [t3] "=&r"(t3)
#endif

/* the right operand's rows run along k (Gemm; MatMul with a transposed right operand): w(c, k) = w[c·ldw + k] */
static inline __attribute__((always_inline)) void tile_rows(const int8_t *x, uint32_t ldx, const int8_t *w, uint32_t ldw, uint32_t K,
                                                            int32_t xz, uint32_t FOLD, uint32_t MR, uint32_t NR, uint32_t *acc) {
  const int8_t *x0 = x, *x1 = MR > 1 ? x + ldx : x, *wp[8];
  (void)FOLD; /* the MIPS assembly's choice only */
  uint32_t a0[8] = {0, 0, 0, 0, 0, 0, 0, 0}, a1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, k = 0;
  for (uint32_t c = 0; c < NR; c++) wp[c] = w + c * ldw;
#if defined(__mips__)
  if (((MR == 2 && NR == 4) || (MR == 1 && NR == 8)) && K >= 4) {
    const int8_t *end = x0 + (K & ~3u);
    int32_t t0, t1, t2, t3;
    k = K & ~3u;
    if (MR == 2 && FOLD)
      OAO_MIPS_ROWS2_LOOP(OAO_MIPS_XF);
    else if (MR == 2)
      OAO_MIPS_ROWS2_LOOP(OAO_MIPS_X);
    else
      __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_MIPS_ROWS1(0) OAO_MIPS_ROWS1(1) OAO_MIPS_ROWS1(2) OAO_MIPS_ROWS1(3)
              "addiu %[x0], %[x0], 4\n\taddiu %[w0], %[w0], 4\n\taddiu %[w1], %[w1], 4\n\taddiu %[w2], %[w2], 4\n\t"
              "addiu %[w3], %[w3], 4\n\taddiu %[w4], %[w4], 4\n\taddiu %[w5], %[w5], 4\n\taddiu %[w6], %[w6], 4\n\t"
              "bne %[x0], %[end], 1b\n\taddiu %[w7], %[w7], 4\n\t.set pop"
              : OAO_MIPS_ACC1, [w0] "+r"(wp[0]), [w1] "+r"(wp[1]), [w2] "+r"(wp[2]), [w3] "+r"(wp[3]), [w4] "+r"(wp[4]), [w5] "+r"(wp[5]),
                [w6] "+r"(wp[6]), [w7] "+r"(wp[7])
              : [end] "r"(end), [xz] "r"(xz)
              : "hi", "lo", "memory");
    (void)t1;
  }
#endif
  for (; k < K; k++) {
    int32_t xv0 = (int32_t)*x0++ - xz, xv1 = MR > 1 ? (int32_t)*x1++ - xz : 0;
    for (uint32_t c = 0; c < NR; c++) {
      int32_t wv = *wp[c]++;
      a0[c] += (uint32_t)(xv0 * wv);
      if (MR > 1) a1[c] += (uint32_t)(xv1 * wv);
    }
  }
  for (uint32_t c = 0; c < NR; c++) acc[c] = a0[c];
  if (MR > 1)
    for (uint32_t c = 0; c < NR; c++) acc[4 + c] = a1[c];
}

/* the right operand's columns run along k (MatMul, not transposed: [K, N], rows ldw apart): w(c, k) = w[k·ldw + c] */
static inline __attribute__((always_inline)) void tile_cols(const int8_t *x, uint32_t ldx, const int8_t *w, uint32_t ldw, uint32_t K,
                                                            int32_t xz, uint32_t FOLD, uint32_t MR, uint32_t NR, uint32_t *acc) {
  const int8_t *x0 = x, *x1 = MR > 1 ? x + ldx : x, *w0 = w;
  (void)FOLD;
  uint32_t a0[8] = {0, 0, 0, 0, 0, 0, 0, 0}, a1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, k = 0;
#if defined(__mips__)
  if (((MR == 2 && NR == 4) || (MR == 1 && NR == 8)) && K >= 4) {
    const int8_t *end = x0 + (K & ~3u);
    int32_t t0, t1, t2, t3;
    k = K & ~3u;
    if (MR == 2 && FOLD)
      OAO_MIPS_COLS2_LOOP(OAO_MIPS_XF);
    else if (MR == 2)
      OAO_MIPS_COLS2_LOOP(OAO_MIPS_X);
    else
      __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_MIPS_COLS1(0) OAO_MIPS_COLS1(1) OAO_MIPS_COLS1(2) OAO_MIPS_COLS1(3)
              "bne %[x0], %[end], 1b\n\taddiu %[x0], %[x0], 4\n\t.set pop"
              : OAO_MIPS_ACC1, [w0] "+r"(w0)
              : [end] "r"(end - 4), [xz] "r"(xz), [ldw] "r"(ldw)
              : "hi", "lo", "memory");
    (void)t1;
  }
#endif
  for (; k < K; k++) {
    int32_t xv0 = (int32_t)*x0++ - xz, xv1 = MR > 1 ? (int32_t)*x1++ - xz : 0;
    for (uint32_t c = 0; c < NR; c++) {
      int32_t wv = w0[c];
      a0[c] += (uint32_t)(xv0 * wv);
      if (MR > 1) a1[c] += (uint32_t)(xv1 * wv);
    }
    w0 += ldw;
  }
  for (uint32_t c = 0; c < NR; c++) acc[c] = a0[c];
  if (MR > 1)
    for (uint32_t c = 0; c < NR; c++) acc[4 + c] = a1[c];
}

/* the width of a tile of `rows` (1 or 2) rows: 2×4 or 1×8 outputs */
static uint32_t tile_width(uint32_t rows) { return rows == 1 ? 8u : 4u; }

/* one tile of rows × cols (2 × 1..4 or 1 × 1..8) at x, w: the tile functions with constant MR, NR. fold: the
   caller folds xz out (passes xz = 0): the 2×4 assembly then skips its subtractions */
static void mac_tile(const int8_t *x, uint32_t ldx, const int8_t *w, uint32_t ldw, uint32_t K, int32_t xz, uint32_t fold, uint32_t rows,
                     uint32_t cols, int w_cols, uint32_t *acc) {
#define TILE_CASE(F, R, C)                                                   \
  case (F) * 64 + (R) * 16 + (C):                                            \
    if (w_cols) tile_cols(x, ldx, w, ldw, K, xz, F, R, C, acc);              \
    else tile_rows(x, ldx, w, ldw, K, xz, F, R, C, acc);                     \
    break;
  switch ((fold && rows == 2 && cols == 4) * 64 + rows * 16 + cols) {
    TILE_CASE(0, 1, 1) TILE_CASE(0, 1, 2) TILE_CASE(0, 1, 3) TILE_CASE(0, 1, 4) TILE_CASE(0, 1, 5) TILE_CASE(0, 1, 6) TILE_CASE(0, 1, 7)
    TILE_CASE(0, 1, 8) TILE_CASE(0, 2, 1) TILE_CASE(0, 2, 2) TILE_CASE(0, 2, 3) TILE_CASE(0, 2, 4) TILE_CASE(1, 2, 4)
  default: break;
  }
#undef TILE_CASE
}

/* wz · Σ_k (x[k] - xz) modulo 2^32: what a tile's accumulator has beyond Σ (x - xz)(w - wz) */
static uint32_t row_sum(const int8_t *x, uint32_t K, int32_t xz, int32_t wz) {
  if (wz == 0) return 0; /* an attribute, not a value: the same path for every input */
  uint32_t s = 0;
  for (uint32_t k = 0; k < K; k++) s += (uint32_t)((int32_t)x[k] - xz);
  return s * (uint32_t)wz;
}

/*
 * From FOLD_ROWS rows on, the left operand's zero point leaves the tiles too:
 *   Σ (x - xz)(w - wz) = Σ x·w - xz·Σ w - wz·Σ (x - xz)
 * (exact modulo 2^32), col_sum giving xz·Σ_k w(j, k) of each column, once per chunk of COLS_CHUNK columns
 * (row_sum once per row and chunk): against the chunk's M rows of tiles they cost little, and the 2×4
 * tile saves 8 of its 103 instructions per 4 k.
 */
#define FOLD_ROWS 8u
#define COLS_CHUNK 256u /* a multiple of both tile widths */

/* xz · Σ_k p[k·stride] modulo 2^32 */
static uint32_t col_sum(const int8_t *p, uint32_t stride, uint32_t K, int32_t xz) {
  if (xz == 0) return 0; /* an attribute, not a value */
  uint32_t s = 0;
  for (uint32_t k = 0; k < K; k++, p += stride) s += (uint32_t)(int32_t)*p;
  return s * (uint32_t)xz;
}

static void gemm(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *w = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0; /* int32 output: the clamped value itself */
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  int32_t xz = attr(nd, 0), wz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6);
  uint32_t fold = M >= FOLD_ROWS, cs[COLS_CHUNK], t[8], sx[2];
  for (uint32_t jc = 0; jc < N; jc += COLS_CHUNK) {
    uint32_t nc = N - jc < COLS_CHUNK ? N - jc : COLS_CHUNK;
    for (uint32_t j = 0; j < nc; j++) cs[j] = fold ? col_sum(w + (jc + j) * K, 1, K, xz) : 0;
    for (uint32_t i0 = 0; i0 < M; i0 += 2) {
      uint32_t rows = M - i0 < 2 ? 1 : 2;
      for (uint32_t r = 0; r < rows; r++) sx[r] = row_sum(x + (i0 + r) * K, K, xz, wz);
      for (uint32_t j0 = jc, tw = tile_width(rows); j0 < jc + nc; j0 += tw) {
        uint32_t cols = jc + nc - j0 < tw ? jc + nc - j0 : tw;
        mac_tile(x + i0 * K, K, w + j0 * K, K, K, fold ? 0 : xz, fold, rows, cols, 0, t);
        for (uint32_t i = i0; i < i0 + rows; i++) {
          for (uint32_t j = j0; j < j0 + cols; j++) {
            uint32_t acc = (b ? (uint32_t)b[j] : 0) + t[(i - i0) * 4 + (j - j0)] - sx[i - i0] - cs[j - jc];
            int32_t r = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
            if (y32) y32[i * N + j] = r;
            else y[i * N + j] = (int8_t)r;
          }
        }
      }
    }
  }
}

/*
 * The wide 2×4 tile's k loops on MIPS, four k an iteration (as the int8 ones above): each k is 2 loads of x,
 * 4 of w, 8 mul and 8 addu, so 95 instructions per 32 multiply-accumulates with the pointer steps and the
 * branch (2.97 per MAC; clang 14 compiles the C loop to ~7, spilling the accumulators). Rows layout
 * (w(c, k) = w_c[k]: Gemm, MatMul transB) or columns layout (the 4 columns adjacent, rows ldw bytes apart).
 */
#if defined(__mips__)
#define OAO_WIDE_MAC2(wr, off, c) \
  "lw   %[t2], " #off "(%[" #wr "])\n\tmul  %[t3], %[t0], %[t2]\n\taddu %[a0" #c "], %[a0" #c "], %[t3]\n\t" \
  "mul  %[t3], %[t1], %[t2]\n\taddu %[a1" #c "], %[a1" #c "], %[t3]\n\t"
#define OAO_WIDE_X(off) "lw   %[t0], " #off "(%[x0])\n\tlw   %[t1], " #off "(%[x1])\n\t"
#define OAO_WIDE_ROWS2(off) OAO_WIDE_X(off) OAO_WIDE_MAC2(w0, off, 0) OAO_WIDE_MAC2(w1, off, 1) OAO_WIDE_MAC2(w2, off, 2) OAO_WIDE_MAC2(w3, off, 3)
#define OAO_WIDE_COLS2(off) \
  OAO_WIDE_X(off) OAO_WIDE_MAC2(w0, 0, 0) OAO_WIDE_MAC2(w0, 4, 1) OAO_WIDE_MAC2(w0, 8, 2) OAO_WIDE_MAC2(w0, 12, 3) "addu %[w0], %[w0], %[ldw]\n\t"
#define OAO_WIDE_ACC \
  [a00] "+r"(a[0]), [a01] "+r"(a[1]), [a02] "+r"(a[2]), [a03] "+r"(a[3]), [a10] "+r"(a[4]), [a11] "+r"(a[5]), [a12] "+r"(a[6]), \
  [a13] "+r"(a[7]), [x0] "+r"(p0), [x1] "+r"(p1), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
#endif

/* The wide forms of Gemm and MatMul (validated: int32 operands, zero points 0): y(i, j) = Σ_k x(i, k)·w(j, k) + b(j)
   modulo 2^32, requantized, offset and clamped as the int8 forms; x(i, k) = x[i·K + k], w(j, k) = w[j·wj + k·wk].
   2×4 tiles of accumulators (about 3 guest steps a multiply-accumulate where wk or wj is 1: every Gemm and MatMul),
   the edges one output at a time. */
static void wide_mm(const int32_t *x, const int32_t *w, uint32_t wj, uint32_t wk, const int32_t *b, uint32_t M, uint32_t N, uint32_t K,
                    const node_desc *nd, int8_t *y, int32_t *y32) {
  int32_t m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4), lo = attr(nd, 5), hi = attr(nd, 6);
  for (uint32_t i0 = 0; i0 < M; i0 += 2) {
    uint32_t rows = M - i0 < 2 ? 1 : 2;
    for (uint32_t j0 = 0; j0 < N; j0 += 4) {
      uint32_t cols = N - j0 < 4 ? N - j0 : 4, t[8];
      if (rows == 2 && cols == 4) {
        const int32_t *x0 = x + i0 * K, *x1 = x0 + K, *w0 = w + j0 * wj, *w1 = w0 + wj, *w2 = w1 + wj, *w3 = w2 + wj;
        uint32_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, k0 = 0;
#if defined(__mips__)
        if (K >= 4 && (wk == 1 || wj == 1)) {
          const int32_t *p0 = x0, *p1 = x1, *end = x0 + (K & ~3u), *q0 = w0, *q1 = w1, *q2 = w2, *q3 = w3;
          uint32_t t0, t1, t2, t3;
          k0 = K & ~3u;
          if (wk == 1)
            __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_WIDE_ROWS2(0) OAO_WIDE_ROWS2(4) OAO_WIDE_ROWS2(8) OAO_WIDE_ROWS2(12)
                    "addiu %[x0], %[x0], 16\n\taddiu %[x1], %[x1], 16\n\taddiu %[w0], %[w0], 16\n\taddiu %[w1], %[w1], 16\n\t"
                    "addiu %[w2], %[w2], 16\n\tbne %[x0], %[end], 1b\n\taddiu %[w3], %[w3], 16\n\t.set pop"
                    : OAO_WIDE_ACC, [w0] "+r"(q0), [w1] "+r"(q1), [w2] "+r"(q2), [w3] "+r"(q3)
                    : [end] "r"(end)
                    : "hi", "lo", "memory");
          else
            __asm__(".set push\n\t.set noreorder\n1:\n\t" OAO_WIDE_COLS2(0) OAO_WIDE_COLS2(4) OAO_WIDE_COLS2(8) OAO_WIDE_COLS2(12)
                    "addiu %[x0], %[x0], 16\n\tbne %[x0], %[end], 1b\n\taddiu %[x1], %[x1], 16\n\t.set pop"
                    : OAO_WIDE_ACC, [w0] "+r"(q0)
                    : [end] "r"(end), [ldw] "r"(4 * wk)
                    : "hi", "lo", "memory");
        }
#endif
        for (uint32_t k = k0, o = k0 * wk; k < K; k++, o += wk) {
          uint32_t p = (uint32_t)x0[k], q = (uint32_t)x1[k], c0 = (uint32_t)w0[o], c1 = (uint32_t)w1[o], c2 = (uint32_t)w2[o], c3 = (uint32_t)w3[o];
          a[0] += p * c0; a[1] += p * c1; a[2] += p * c2; a[3] += p * c3;
          a[4] += q * c0; a[5] += q * c1; a[6] += q * c2; a[7] += q * c3;
        }
        for (uint32_t c = 0; c < 8; c++) t[c] = a[c];
      } else {
        for (uint32_t r = 0; r < rows; r++)
          for (uint32_t c = 0; c < cols; c++) {
            const int32_t *xr = x + (i0 + r) * K, *wc = w + (j0 + c) * wj;
            uint32_t a = 0;
            for (uint32_t k = 0, o = 0; k < K; k++, o += wk) a += (uint32_t)xr[k] * (uint32_t)wc[o];
            t[r * 4 + c] = a;
          }
      }
      for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++) {
          uint32_t i = i0 + r, j = j0 + c, acc = (b ? (uint32_t)b[j] : 0) + t[r * 4 + c];
          int32_t v = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
          if (y32) y32[i * N + j] = v;
          else y[i * N + j] = (int8_t)v;
        }
    }
  }
}

static void gemm_wide(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  uint32_t K = in[0].dims[1];
  wide_mm((const int32_t *)(uintptr_t)in[0].data, (const int32_t *)(uintptr_t)in[1].data, K, 1, n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0,
          in[0].dims[0], in[1].dims[0], K, nd, y, nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0);
}

/* MatMul's wide form, batch by batch: b [N, K] (transB) or [K, N] */
static void matmul_wide(const node_desc *nd, const oao_tensor *in, int8_t *y) {
  const int32_t *a = (const int32_t *)(uintptr_t)in[0].data, *bm = (const int32_t *)(uintptr_t)in[1].data;
  int32_t tb = attr(nd, 7);
  uint32_t B = in[0].dims[0], M = in[0].dims[1], K = in[0].dims[2], N = in[1].dims[tb ? 1 : 2];
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0;
  for (uint32_t bb = 0; bb < B; bb++)
    wide_mm(a + bb * M * K, bm + bb * K * N, tb ? K : 1, tb ? 1 : N, 0, M, N, K, nd, y32 ? 0 : y + bb * M * N, y32 ? y32 + bb * M * N : 0);
}

/* A wide (int32) operand is clamped to ±WIDE_MAX (its zero point is 0), so that d·2^lshift with
   lshift <= 13 stays below 2^31 (§3.6). */
#define WIDE_MAX 131071

static int32_t operand(const oao_tensor *t, uint32_t i, int32_t z) {
  if (t->dtype == OAO_INT32) return clampi(((const int32_t *)(uintptr_t)t->data)[i], -WIDE_MAX, WIDE_MAX);
  return (int32_t)((const int8_t *)(uintptr_t)t->data)[i] - z;
}

static void add(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  int32_t az = attr(nd, 0), am = attr(nd, 1), as = attr(nd, 2), bz = attr(nd, 3), bm = attr(nd, 4), bs = attr(nd, 5);
  int32_t m = attr(nd, 6), s = attr(nd, 7), yz = attr(nd, 8), lo = attr(nd, 9), hi = attr(nd, 10);
  int32_t scale = 1 << attr(nd, 11);
  uint32_t wide_y = nd->out_dtype == OAO_INT32;
  for (uint32_t i = 0; i < n; i++) {
    int32_t ta = oao_rq(operand(&in[0], i, az) * scale, am, as); /* |d·2^lshift| < 2^31 */
    int32_t tb = oao_rq(operand(&in[1], i, bz) * scale, bm, bs);
    int32_t sum = (int32_t)((uint32_t)ta + (uint32_t)tb);
    int32_t r = clampi((int32_t)((uint32_t)oao_rq(sum, m, s) + (uint32_t)yz), lo, hi);
    if (wide_y) ((int32_t *)(uintptr_t)y)[i] = r;
    else y[i] = (int8_t)r;
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

/*
 * Conv2D's tiles: the taps of an output position that fall inside the input form a rectangle
 * (rows [ki0, ki1), columns [kj0, kj1), from the position alone), so the loops over them need no
 * bounds test; a padding tap is skipped as before (it would multiply x - xz = 0). A tile is NP <= 2
 * neighbouring positions of one output row with the same rectangle times NO <= 4 output channels of
 * one group: acc[p·4 + q] = Σ (x - xz)·w over the rectangle, the weights' zero point left out as in
 * the Gemm tiles (conv_sum is the term to subtract). xp: the input at the rectangle's first tap of
 * position 0, channel 0 of the group; wp: the weights of the tile's first channel at that tap,
 * channel q + 1 L bytes after channel q.
 */
static void valid_taps(int32_t base, int32_t d, uint32_t n, uint32_t size, uint32_t *k0, uint32_t *k1) {
  /* base + k·d >= 0 from k = ceil(-base / d) on; base + k·d <= size - 1 up to k = floor((size - 1 - base) / d)
     (d >= 1, |base| and size < 2^26: window_out) */
  int32_t top = (int32_t)size - 1 - base;
  uint32_t a = base >= 0 ? 0 : ((uint32_t)-base + (uint32_t)d - 1) / (uint32_t)d;
  uint32_t e = top < 0 ? 0 : (uint32_t)top / (uint32_t)d + 1;
  if (a > n) a = n;
  if (e > n) e = n;
  *k0 = a;
  *k1 = e > a ? e : a;
}

static inline __attribute__((always_inline)) void conv_tile(const int8_t *xp, uint32_t HW, uint32_t W, uint32_t sw, uint32_t dh, uint32_t dw,
                                                            const int8_t *wp, uint32_t L, uint32_t KW, uint32_t KK, uint32_t Cg, uint32_t nki,
                                                            uint32_t nkj, int32_t xz, uint32_t NP, uint32_t NO, uint32_t *acc) {
  uint32_t a0[4] = {0, 0, 0, 0}, a1[4] = {0, 0, 0, 0};
  for (uint32_t c = 0; c < Cg; c++) {
    for (uint32_t ki = 0; ki < nki; ki++) {
      const int8_t *x0 = xp + c * HW + ki * dh * W, *x1 = x0 + sw, *w0 = wp + c * KK + ki * KW;
      const int8_t *wq[4] = {w0, w0 + L, w0 + 2 * L, w0 + 3 * L};
      for (uint32_t kj = 0; kj < nkj; kj++) {
        int32_t xv0 = (int32_t)*x0 - xz, xv1 = NP > 1 ? (int32_t)*x1 - xz : 0;
        x0 += dw;
        x1 += dw;
        for (uint32_t q = 0; q < NO; q++) {
          int32_t wv = *wq[q]++;
          a0[q] += (uint32_t)(xv0 * wv);
          if (NP > 1) a1[q] += (uint32_t)(xv1 * wv);
        }
      }
    }
  }
  for (uint32_t q = 0; q < NO; q++) {
    acc[q] = a0[q];
    acc[4 + q] = a1[q];
  }
}

static void conv_mac_tile(const int8_t *xp, uint32_t HW, uint32_t W, uint32_t sw, uint32_t dh, uint32_t dw, const int8_t *wp, uint32_t L,
                          uint32_t KW, uint32_t KK, uint32_t Cg, uint32_t nki, uint32_t nkj, int32_t xz, uint32_t np, uint32_t no, uint32_t *acc) {
#define CONV_CASE(P, Q) \
  case (P) * 8 + (Q): conv_tile(xp, HW, W, sw, dh, dw, wp, L, KW, KK, Cg, nki, nkj, xz, P, Q, acc); break;
  switch (np * 8 + no) {
    CONV_CASE(1, 1) CONV_CASE(1, 2) CONV_CASE(1, 3) CONV_CASE(1, 4)
    CONV_CASE(2, 1) CONV_CASE(2, 2) CONV_CASE(2, 3) CONV_CASE(2, 4)
  default: break;
  }
#undef CONV_CASE
}

/* wz · Σ (x - xz) over a position's rectangle of taps (conv_tile's xp) */
static uint32_t conv_sum(const int8_t *xp, uint32_t HW, uint32_t W, uint32_t dh, uint32_t dw, uint32_t Cg, uint32_t nki, uint32_t nkj,
                         int32_t xz, int32_t wz) {
  if (wz == 0) return 0; /* an attribute, not a value */
  uint32_t sum = 0;
  for (uint32_t c = 0; c < Cg; c++)
    for (uint32_t ki = 0; ki < nki; ki++)
      for (uint32_t kj = 0; kj < nkj; kj++) sum += (uint32_t)((int32_t)xp[c * HW + ki * dh * W + kj * dw] - xz);
  return sum * (uint32_t)wz;
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
  uint32_t KK = KH * KW, L = Cg * KK, HW = H * W, t[8], sx[2];
  for (uint32_t nn = 0; nn < N; nn++) {
    for (uint32_t oh = 0; oh < OH; oh++) {
      int32_t ih0 = (int32_t)oh * sh - pt, iw0;
      uint32_t ki0, ki1, kj0, kj1, kn0, kn1, np;
      valid_taps(ih0, dh, KH, H, &ki0, &ki1);
      for (uint32_t ow0 = 0; ow0 < OW; ow0 += np) {
        iw0 = (int32_t)ow0 * sw - pl;
        valid_taps(iw0, dw, KW, W, &kj0, &kj1);
        /* two positions at once where the next one has the same taps inside the input */
        np = 1;
        if (ow0 + 1 < OW) {
          valid_taps(iw0 + sw, dw, KW, W, &kn0, &kn1);
          if (kn0 == kj0 && kn1 == kj1) np = 2;
        }
        uint32_t nki = ki1 - ki0, nkj = kj1 - kj0;
        if (nki == 0 || nkj == 0) nki = nkj = 0; /* every tap in the padding: the bias alone */
        /* the input at tap (ki0, kj0) of position ow0, channel 0 of the image */
        const int8_t *xp0 = x + nn * C * HW + (nki ? (uint32_t)(ih0 + (int32_t)ki0 * dh) * W + (uint32_t)(iw0 + (int32_t)kj0 * dw) : 0);
        for (uint32_t g = 0; g < group; g++) {
          const int8_t *xp = xp0 + g * Cg * HW; /* channel 0 of the group */
          for (uint32_t p = 0; p < np; p++) sx[p] = conv_sum(xp + p * (uint32_t)sw, HW, W, (uint32_t)dh, (uint32_t)dw, Cg, nki, nkj, xz, wz);
          for (uint32_t o0 = g * Og; o0 < (g + 1) * Og; o0 += 4) {
            uint32_t no = (g + 1) * Og - o0 < 4 ? (g + 1) * Og - o0 : 4;
            conv_mac_tile(xp, HW, W, (uint32_t)sw, (uint32_t)dh, (uint32_t)dw, w + o0 * L + ki0 * KW + kj0, L, KW, KK, Cg, nki, nkj, xz, np, no, t);
            for (uint32_t o = o0; o < o0 + no; o++) {
              for (uint32_t ow = ow0; ow < ow0 + np; ow++) {
                uint32_t acc = (b ? (uint32_t)b[o] : 0) + t[(ow - ow0) * 4 + (o - o0)] - sx[ow - ow0];
                int32_t r = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
                y[((nn * O + o) * OH + oh) * OW + ow] = (int8_t)clampi(r, lo, hi);
              }
            }
          }
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

/* p / 2^k rounded half away from zero (k in 0..62) */
static int64_t rshr64(int64_t p, uint32_t k) {
  if (k == 0) return p;
  int64_t half = (int64_t)1 << (k - 1);
  return p >= 0 ? (p + half) >> k : -((-p + half) >> k);
}

static void layernorm(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *g = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *g32 = in[1].dtype == OAO_INT32 ? (const int32_t *)(uintptr_t)in[1].data : 0; /* a wide gain */
  const int32_t *b = (const int32_t *)(uintptr_t)in[2].data;
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0; /* a wide output */
  int32_t xz = attr(nd, 0), gz = attr(nd, 1), eps = attr(nd, 2), m = attr(nd, 3), s = attr(nd, 4), yz = attr(nd, 5);
  int32_t lo = attr(nd, 6), hi = attr(nd, 7);
  uint32_t D = in[0].dims[in[0].rank - 1];
  int64_t Di = (int64_t)D;
  /* a wide (int32) input: c is shifted right by k = max(0, bitlen(D) − 5) so that |c| <= 2^23 as for int8 */
  uint32_t k = 0;
  if (in[0].dtype == OAO_INT32) {
    uint32_t bits = 0;
    for (uint32_t v = D; v != 0; v >>= 1) bits++;
    k = bits > 5 ? bits - 5 : 0;
  }
  for (uint32_t r = 0; r < n; r += D) {
    int64_t S = 0; /* |S| <= 2^14 · 2^17 */
    for (uint32_t i = 0; i < D; i++) S += (int64_t)operand(&in[0], r + i, xz);
    uint64_t Q = 0; /* Σ c² <= 2^14 · 2^46 */
    for (uint32_t i = 0; i < D; i++) {
      int64_t c = rshr64(Di * (int64_t)operand(&in[0], r + i, xz) - S, k); /* |c| <= 2^23 */
      Q += (uint64_t)(c * c);
    }
    uint32_t sd = (uint32_t)isqrt64(udiv64(Q, D) + (uint64_t)(uint32_t)eps); /* >= 1 (eps >= 1), < 2^31 */
    uint64_t inv = udiv64((uint64_t)1 << 40, sd);
    for (uint32_t i = 0; i < D; i++) {
      int64_t c = rshr64(Di * (int64_t)operand(&in[0], r + i, xz) - S, k);
      int64_t p = c * (int64_t)inv; /* |c| < sqrt(D)·(sd+1) so |p| < 2^48 */
      int64_t half = (int64_t)1 << 27;
      int32_t t = (int32_t)(p >= 0 ? (p + half) >> 28 : -((-p + half) >> 28)); /* |t| <= 2^20 */
      uint32_t gi = g32 ? (uint32_t)g32[i] : (uint32_t)((int32_t)g[i] - gz);
      uint32_t acc = (uint32_t)t * gi + (uint32_t)b[i]; /* modulo 2^32 */
      int32_t v = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
      if (y32) y32[r + i] = v;
      else y[r + i] = (int8_t)v;
    }
  }
}

/* A wide table (Lut, the softmaxes): entries t_0..t_nt at attributes base.., linear between them at u in
   0 .. nt·2^sh, rounded half away from zero, exact in 32 bits (validated: |t_{k+1} - t_k|·2^sh < 2^31); no branch
   on u (the guest's steps are the same for every input) */
static int32_t interp(const node_desc *nd, uint32_t base, uint32_t nt, uint32_t sh, uint32_t u) {
  uint32_t k = u >> sh;
  k -= (uint32_t)(k >= nt); /* u = nt·2^sh: the last segment at its end */
  uint32_t f = u - (k << sh);
  int32_t t0 = attr(nd, base + k), d = attr(nd, base + 1 + k) - t0;
  int32_t p = d * (int32_t)f;
  uint32_t sg = (uint32_t)(p >> 31), a = ((uint32_t)p ^ sg) - sg; /* |p| */
  uint32_t q = (a + (sh ? 1u << (sh - 1) : 0u)) >> sh;
  return t0 + (int32_t)((q ^ sg) - sg);
}

/* Lut's wide form (validated): the table over [lo, lo + nt·2^sh] */
static void lut_wide(const node_desc *nd, const oao_tensor *in, int32_t *y, uint32_t n) {
  const int32_t *x = (const int32_t *)(uintptr_t)in[0].data;
  int32_t lo = attr(nd, 0);
  uint32_t sh = (uint32_t)attr(nd, 1), nt = nd->n_attr - 3;
  int32_t top = (int32_t)((uint32_t)lo + (nt << sh));
  for (uint32_t i = 0; i < n; i++) y[i] = interp(nd, 2, nt, sh, (uint32_t)clampi(x[i], lo, top) - (uint32_t)lo);
}

static void lut(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  if (in[0].dtype == OAO_INT32) {
    lut_wide(nd, in, (int32_t *)(void *)y, n);
    return;
  }
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
  /* batch bb's right operand: [N, K] (tb) or [K, N], rows ld apart; column j starts at jStride·j */
  uint32_t ld = tb ? K : N, jStride = tb ? K : 1, fold = M >= FOLD_ROWS, cs[COLS_CHUNK], t[8], sx[2];
  for (uint32_t bb = 0; bb < B; bb++) {
    const int8_t *ab = a + bb * M * K, *bb0 = bm + bb * K * N;
    int8_t *yb = y + bb * M * N;
    for (uint32_t jc = 0; jc < N; jc += COLS_CHUNK) {
      uint32_t nc = N - jc < COLS_CHUNK ? N - jc : COLS_CHUNK;
      for (uint32_t j = 0; j < nc; j++) cs[j] = fold ? col_sum(bb0 + (jc + j) * jStride, tb ? 1 : N, K, az) : 0;
      for (uint32_t i0 = 0; i0 < M; i0 += 2) {
        uint32_t rows = M - i0 < 2 ? 1 : 2;
        for (uint32_t r = 0; r < rows; r++) sx[r] = row_sum(ab + (i0 + r) * K, K, az, bz);
        for (uint32_t j0 = jc, tw = tile_width(rows); j0 < jc + nc; j0 += tw) {
          uint32_t cols = jc + nc - j0 < tw ? jc + nc - j0 : tw;
          mac_tile(ab + i0 * K, K, bb0 + j0 * jStride, ld, K, fold ? 0 : az, fold, rows, cols, !tb, t);
          for (uint32_t i = i0; i < i0 + rows; i++) {
            for (uint32_t j = j0; j < j0 + cols; j++) {
              uint32_t acc = t[(i - i0) * 4 + (j - j0)] - sx[i - i0] - cs[j - jc];
              int32_t r = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
              yb[i * N + j] = (int8_t)clampi(r, lo, hi);
            }
          }
        }
      }
    }
  }
}

/* The wide softmaxes' exp: the table at d = max - x (0 .. 2^32 - 1), read at min(d, n·2^shift) */
static uint32_t wide_exp(const node_desc *nd, uint32_t nt, uint32_t sh, uint32_t top, uint32_t d) {
  return (uint32_t)interp(nd, 1, nt, sh, d < top ? d : top);
}

/* probability e/S at 2^15 levels, rounded to nearest, at most 2^15 (S >= e, S >= 1, e <= 65536: no overflow) */
static uint32_t wide_prob(uint32_t e, uint32_t sum) {
  uint32_t r = (e * 32768u + sum / 2u) / sum;
  return r > 32768u ? 32768u : r;
}

/* CausalSoftmax's wide form (validated): int32 scores, int32 probabilities at 2^15 levels */
static void causal_softmax_wide(const node_desc *nd, const oao_tensor *in, int32_t *y, uint32_t n) {
  const int32_t *x = (const int32_t *)(uintptr_t)in[0].data;
  uint32_t sh = (uint32_t)attr(nd, 0), nt = nd->n_attr - 2, top = nt << sh;
  uint32_t C = in[0].dims[in[0].rank - 1], R = in[0].dims[in[0].rank - 2];
  uint32_t row = 0;
  for (uint32_t base = 0; base < n; base += C) {
    uint32_t allowed = row + (C - R) + 1;
    const int32_t *xr = x + base;
    int32_t mx = INT32_MIN;
    for (uint32_t j = 0; j < allowed; j++) mx = xr[j] > mx ? xr[j] : mx;
    uint32_t sum = 0; /* <= 32767 · 65536 < 2^31, >= t_0 >= 1 */
    for (uint32_t j = 0; j < allowed; j++) { /* e into y (an int32 output holds it), then e/S in place */
      uint32_t e = wide_exp(nd, nt, sh, top, (uint32_t)mx - (uint32_t)xr[j]);
      y[base + j] = (int32_t)e;
      sum += e;
    }
    for (uint32_t j = 0; j < C; j++) y[base + j] = j < allowed ? (int32_t)wide_prob((uint32_t)y[base + j], sum) : 0;
    if (++row == R) row = 0;
  }
}

static void causal_softmax(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  if (in[0].dtype == OAO_INT32) {
    causal_softmax_wide(nd, in, (int32_t *)(void *)y, n);
    return;
  }
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

/* PrefixSoftmax's wide form (validated): as the int8 one, masks instead of branches on pos */
static void prefix_softmax_wide(const node_desc *nd, const oao_tensor *in, int32_t *y, uint32_t n) {
  const int32_t *x = (const int32_t *)(uintptr_t)in[0].data;
  int32_t p = ((const int32_t *)(uintptr_t)in[1].data)[0];
  uint32_t sh = (uint32_t)attr(nd, 0), nt = nd->n_attr - 2, top = nt << sh;
  uint32_t N = in[0].dims[in[0].rank - 1];
  uint32_t neg = mask_if(p < 0), big = mask_if(p > (int32_t)(N - 1u));
  uint32_t q = pick_u32(big, N - 1u, (uint32_t)p & ~neg);
  for (uint32_t base = 0; base < n; base += N) {
    const int32_t *xr = x + base;
    int32_t mx = INT32_MIN;
    for (uint32_t j = 0; j < N; j++) {
      int32_t v = (int32_t)pick_u32(mask_if(j <= q), (uint32_t)xr[j], (uint32_t)INT32_MIN);
      mx = (int32_t)pick_u32(mask_if(v > mx), (uint32_t)v, (uint32_t)mx);
    }
    uint32_t sum = 0; /* >= t_0 >= 1: column 0 always takes part */
    for (uint32_t j = 0; j < N; j++) { /* e into y (0 past q), then e/S in place */
      uint32_t m = mask_if(j <= q);
      uint32_t v = pick_u32(m, (uint32_t)xr[j], (uint32_t)INT32_MIN);
      uint32_t e = wide_exp(nd, nt, sh, top, (uint32_t)mx - v) & m;
      y[base + j] = (int32_t)e;
      sum += e;
    }
    for (uint32_t j = 0; j < N; j++) y[base + j] = (int32_t)wide_prob((uint32_t)y[base + j], sum); /* past q: e = 0, so 0 */
  }
}

static void prefix_softmax(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  if (in[0].dtype == OAO_INT32) {
    prefix_softmax_wide(nd, in, (int32_t *)(void *)y, n);
    return;
  }
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
  case OAO_OP_GEMM:
    if (inputs[0].dtype == OAO_INT32) gemm_wide(&nd, inputs, n_inputs, y);
    else OAO_GEMM(&nd, inputs, n_inputs, y);
    break;
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
  case OAO_OP_MATMUL:
    if (inputs[0].dtype == OAO_INT32) matmul_wide(&nd, inputs, y);
    else OAO_MATMUL(&nd, inputs, y);
    break;
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

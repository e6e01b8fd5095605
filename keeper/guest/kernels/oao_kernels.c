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
    if (!ok_zero(attr(nd, 0)) || !ok_zero(attr(nd, 1)) || !ok_rq(attr(nd, 2), attr(nd, 3)) || !ok_zero(attr(nd, 4)) ||
        !ok_clamp(attr(nd, 5), attr(nd, 6)))
      return OAO_E_ATTR_VALUE;
    dims[0] = in[0].dims[0];
    dims[1] = in[1].dims[0];
    if (nd->out_dtype != OAO_INT8) return OAO_E_OUTPUT_DTYPE;
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
    for (uint32_t i = 0; i < 256; i++)
      if (!in_range(attr(nd, i), i == 0 ? 1 : 0, 65536)) return OAO_E_ATTR_VALUE;
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
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  int32_t xz = attr(nd, 0), wz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6);
  for (uint32_t i = 0; i < M; i++) {
    const int8_t *xr = x + i * K;
    for (uint32_t j = 0; j < N; j++) {
      const int8_t *wr = w + j * K;
      uint32_t acc = b ? (uint32_t)b[j] : 0;
      for (uint32_t k = 0; k < K; k++) acc += (uint32_t)(((int32_t)xr[k] - xz) * ((int32_t)wr[k] - wz));
      int32_t r = (int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz);
      y[i * N + j] = (int8_t)clampi(r, lo, hi);
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

int32_t oao_node_run(const uint8_t *desc, uint32_t desc_len, const oao_tensor *inputs, uint32_t n_inputs, oao_tensor *out) {
  node_desc nd;
  int32_t rc = parse_desc(desc, desc_len, &nd);
  if (rc != OAO_OK) return rc;
  rc = validate(&nd, inputs, n_inputs, out);
  if (rc != OAO_OK) return rc;
  uint32_t n = numel(nd.out_dims, nd.out_rank);
  int8_t *y = (int8_t *)(uintptr_t)out->data;
  switch (nd.op) {
  case OAO_OP_GEMM: gemm(&nd, inputs, n_inputs, y); break;
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
  case OAO_OP_CONV2D: conv2d(&nd, inputs, n_inputs, y, nd.out_dims); break;
  case OAO_OP_MAXPOOL: maxpool(&nd, inputs, y, nd.out_dims); break;
  default: return OAO_E_UNKNOWN_OP;
  }
  return OAO_OK;
}

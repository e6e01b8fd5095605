/*
 * Add and LayerNorm on AVX-512 lanes (the machines the avx512-vnni GEMM runs on), included by addon.c
 * after gemm.h, whose rq16 (equal to oao_rq) they use.
 *
 * Add: oao_kernels.c's `add` element by element, 16 lanes at a time. Per element:
 *   ta = rq(operand(a)·2^ls, am, as), tb = rq(operand(b)·2^ls, bm, bs),
 *   y = clamp(rq(ta + tb, m, s) + yz, lo, hi),
 * operand = x - z for int8, the value clamped to ±WIDE_MAX for int32 (§3.6); the product by 2^ls is a
 * left shift of the same int32 (it cannot overflow: validated ls keeps |d·2^ls| < 2^31), ta + tb wraps
 * as the C's uint32_t sum. The K % 16 tail runs under a mask. Tested against the wasm builds on every
 * form (kernel-paths.test.ts: the random cases and the 70-row ones).
 */

static inline VNNI_TARGET __attribute__((always_inline)) __m512i add_operand16(const oao_tensor *t, uint32_t i, __mmask16 k, int32_t z, uint32_t ls) {
  __m512i v;
  if (t->dtype == OAO_INT32) {
    v = _mm512_maskz_loadu_epi32(k, (const int32_t *)(uintptr_t)t->data + i);
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-WIDE_MAX)), _mm512_set1_epi32(WIDE_MAX));
  } else {
    v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, (const int8_t *)(uintptr_t)t->data + i));
    v = _mm512_sub_epi32(v, _mm512_set1_epi32(z));
  }
  return _mm512_sll_epi32(v, _mm_cvtsi32_si128((int32_t)ls));
}

static VNNI_TARGET void add_vnni(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  int32_t az = attr(nd, 0), am = attr(nd, 1), as = attr(nd, 2), bz = attr(nd, 3), bm = attr(nd, 4), bs = attr(nd, 5);
  int32_t m = attr(nd, 6), s = attr(nd, 7), yz = attr(nd, 8), lo = attr(nd, 9), hi = attr(nd, 10);
  uint32_t ls = (uint32_t)attr(nd, 11), wide_y = nd->out_dtype == OAO_INT32;
  __m512i vyz = _mm512_set1_epi32(yz), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
  for (uint32_t i = 0; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512i ta = rq16(add_operand16(&in[0], i, k, az, ls), am, as), tb = rq16(add_operand16(&in[1], i, k, bz, ls), bm, bs);
    __m512i r = _mm512_add_epi32(rq16(_mm512_add_epi32(ta, tb), m, s), vyz);
    r = _mm512_min_epi32(_mm512_max_epi32(r, vlo), vhi);
    if (wide_y) _mm512_mask_storeu_epi32((int32_t *)(void *)y + i, k, r);
    else _mm_mask_storeu_epi8(y + i, k, _mm512_cvtepi32_epi8(r));
  }
}

/*
 * LayerNorm on vector lanes (avx512-vnni machines): oao_kernels.c's `layernorm` row by row, its
 * per-row statistics (S, Q, the integer square root and reciprocal) the kernels' own scalar code on
 * sums computed in int64 lanes; per element, with D the row length and k the wide input's shift:
 *   c = rshr(D·operand - S, k)                    (|c| <= 2^23: an int32)
 *   t = round(c·inv / 2^28), half away from zero  (|c·inv| < 2^48: exact in int64, |t| <= 2^20)
 *   y = clamp(rq(t·(g - gz) + b, m, s) + yz, lo, hi)   (t·(g - gz) in int32 modulo 2^32, + b wrapping as uint32;
 *                                                    a wide gain is int32 with gz = 0; a wide output int32)
 * rshr and the rounding shift are rq_even's branch-free half-away rounding. Sums modulo 2^64 do not
 * depend on order.
 */
#define LN_TARGET VNNI_TARGET

/* round(p / 2^k), half away from zero, on 8 int64 lanes (k >= 1; |p| < 2^62) */
static inline LN_TARGET __attribute__((always_inline)) __m512i rshr8(__m512i p, uint32_t k) {
  __m512i sign = _mm512_srai_epi64(p, 63);
  __m512i q = _mm512_srl_epi64(_mm512_add_epi64(_mm512_abs_epi64(p), _mm512_set1_epi64((int64_t)1 << (k - 1))), _mm_cvtsi32_si128((int32_t)k));
  return _mm512_sub_epi64(_mm512_xor_si512(q, sign), sign);
}

/* 8 operands from element i of the row as int64 lanes (masked: 0 past the row) */
static inline LN_TARGET __attribute__((always_inline)) __m512i ln_operand8(const oao_tensor *t, uint32_t i, __mmask8 k, int32_t z) {
  __m256i v;
  if (t->dtype == OAO_INT32) {
    v = _mm256_maskz_loadu_epi32(k, (const int32_t *)(uintptr_t)t->data + i);
    v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-WIDE_MAX)), _mm256_set1_epi32(WIDE_MAX));
  } else {
    v = _mm256_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, (const int8_t *)(uintptr_t)t->data + i));
    v = _mm256_maskz_sub_epi32(k, v, _mm256_set1_epi32(z));
  }
  return _mm512_cvtepi32_epi64(v);
}

/* c of 8 elements (masked lanes: 0) */
static inline LN_TARGET __attribute__((always_inline)) __m512i ln_c8(const oao_tensor *t, uint32_t i, __mmask8 km, int32_t z, int64_t D, int64_t S, uint32_t k) {
  __m512i v = _mm512_sub_epi64(_mm512_mul_epi32(ln_operand8(t, i, km, z), _mm512_set1_epi64(D)), _mm512_set1_epi64(S));
  v = k ? rshr8(v, k) : v;
  return _mm512_maskz_mov_epi64(km, v);
}

static LN_TARGET void layernorm_vnni(const node_desc *nd, const oao_tensor *in, int8_t *y, uint32_t n) {
  const int8_t *g = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *g32 = in[1].dtype == OAO_INT32 ? (const int32_t *)(uintptr_t)in[1].data : 0; /* a wide gain (zero point 0) */
  const int32_t *b = (const int32_t *)(uintptr_t)in[2].data;
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0; /* a wide output */
  int32_t xz = attr(nd, 0), gz = attr(nd, 1), eps = attr(nd, 2), m = attr(nd, 3), s = attr(nd, 4), yz = attr(nd, 5);
  int32_t lo = attr(nd, 6), hi = attr(nd, 7);
  uint32_t D = in[0].dims[in[0].rank - 1], k = 0;
  if (in[0].dtype == OAO_INT32) {
    uint32_t bits = 0;
    for (uint32_t v = D; v != 0; v >>= 1) bits++;
    k = bits > 5 ? bits - 5 : 0;
  }
  oao_tensor row = in[0];
  uint32_t esz = in[0].dtype == OAO_INT32 ? 4u : 1u;
  for (uint32_t r = 0; r < n; r += D) {
    row.data = in[0].data + r * esz;
    __m512i vs = _mm512_setzero_si512();
    for (uint32_t i = 0; i < D; i += 8) vs = _mm512_add_epi64(vs, ln_operand8(&row, i, D - i >= 8 ? 0xFF : (__mmask8)((1u << (D - i)) - 1), xz));
    int64_t S = _mm512_reduce_add_epi64(vs);
    __m512i vq = _mm512_setzero_si512();
    for (uint32_t i = 0; i < D; i += 8) {
      __m512i c = ln_c8(&row, i, D - i >= 8 ? 0xFF : (__mmask8)((1u << (D - i)) - 1), xz, (int64_t)D, S, k);
      vq = _mm512_add_epi64(vq, _mm512_mul_epi32(c, c)); /* |c| <= 2^23: its low 32 bits are c */
    }
    uint64_t Q = (uint64_t)_mm512_reduce_add_epi64(vq);
    uint32_t sd = (uint32_t)isqrt64(udiv64(Q, D) + (uint64_t)(uint32_t)eps);
    __m512i inv = _mm512_set1_epi64((int64_t)udiv64((uint64_t)1 << 40, sd));
    for (uint32_t i = 0; i < D; i += 8) {
      __mmask8 km = D - i >= 8 ? 0xFF : (__mmask8)((1u << (D - i)) - 1);
      __m512i t64 = rshr8(_mm512_mullo_epi64(ln_c8(&row, i, km, xz, (int64_t)D, S, k), inv), 28);
      __m256i t = _mm512_cvtepi64_epi32(t64); /* |t| <= 2^20 */
      __m256i gv = g32 ? _mm256_maskz_loadu_epi32(km, g32 + i)
                       : _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_maskz_loadu_epi8(km, g + i)), _mm256_set1_epi32(gz));
      __m256i acc = _mm256_add_epi32(_mm256_mullo_epi32(t, gv), _mm256_maskz_loadu_epi32(km, b + i)); /* modulo 2^32 */
      __m512i v = _mm512_add_epi32(rq16(_mm512_castsi256_si512(acc), m, s), _mm512_set1_epi32(yz));
      v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
      if (y32) _mm256_mask_storeu_epi32(y32 + r + i, km, _mm512_castsi512_si256(v));
      else _mm_mask_storeu_epi8(y + r + i, (__mmask16)km, _mm512_cvtepi32_epi8(v));
    }
  }
}

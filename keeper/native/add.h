/*
 * Add on 16 lanes (avx512-vnni machines), included by addon.c after gemm.h: oao_kernels.c's `add`
 * element by element, with its requantizations in rq16 (gemm.h, equal to oao_rq). Per element:
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

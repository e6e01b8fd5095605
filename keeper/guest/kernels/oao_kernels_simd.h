/*
 * wasm SIMD128 versions of the hot kernels (Gemm, MatMul, Conv2D), included by oao_kernels.c only
 * when OAO_WASM_SIMD is defined (build-wasm.sh's SIMD build). The guest (MIPS) and the scalar wasm
 * build never see this file.
 *
 * Bit-exactness with the scalar kernels: every product (x - xz)·(w - wz) is computed exactly
 * (|x - xz|, |w - wz| <= 255, so widened to int16 and multiplied into int32: |product| <= 65025,
 * a pair sum from i32x4.dot_i16x8_s <= 130050, never near the int32 edge), and every sum is
 * accumulated in i32x4 lanes / uint32_t, i.e. modulo 2^32. Addition modulo 2^32 is associative and
 * commutative, so the accumulator equals the scalar kernel's whatever the order; the
 * requantization (oao_rq, + zero point, clamp) is the scalar code itself, applied to that value.
 */
#include <wasm_simd128.h>

/* the four lanes' sum modulo 2^32 */
static inline uint32_t hsum_u32(v128_t v) {
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return (uint32_t)wasm_i32x4_extract_lane(v, 0);
}

static inline int32_t requant32(uint32_t acc, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi) {
  return clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
}

static inline int8_t requant(uint32_t acc, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi) {
  return (int8_t)requant32(acc, m, s, yz, lo, hi);
}

/* output element i of dot_rows: int8, or int32 (a Gemm's int32 output) when y32 is set */
static inline void put(int8_t *y, int32_t *y32, uint32_t i, uint32_t acc, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi) {
  int32_t r = requant32(acc, m, s, yz, lo, hi);
  if (y32) y32[i] = r;
  else y[i] = (int8_t)r;
}

/*
 * A MR×NR tile of dot products over K: acc[r·NR + c] = Σ_k (x[r·ldx + k] - xz)·(w[c·ldw + k] - wz)
 * modulo 2^32. Eight k per step: i16x8.load8x8_s widens the bytes, i32x4.dot_i16x8_s multiplies
 * and adds pairs; the K % 8 tail is scalar. MR <= 2 and NR <= 4 are compile-time constants at
 * every call (always_inline), so the accumulators stay in registers.
 */
static inline __attribute__((always_inline)) void dot_tile(const int8_t *x, uint32_t ldx, const int8_t *w, uint32_t ldw, uint32_t K,
                                                           int32_t xz, int32_t wz, uint32_t MR, uint32_t NR, uint32_t *acc) {
  v128_t vxz = wasm_i16x8_splat((int16_t)xz), vwz = wasm_i16x8_splat((int16_t)wz);
  v128_t a[2][4];
  for (uint32_t r = 0; r < MR; r++)
    for (uint32_t c = 0; c < NR; c++) a[r][c] = wasm_i32x4_splat(0);
  uint32_t k = 0;
  for (; k + 8 <= K; k += 8) {
    v128_t xv[2];
    for (uint32_t r = 0; r < MR; r++) xv[r] = wasm_i16x8_sub(wasm_i16x8_load8x8(x + r * ldx + k), vxz);
    for (uint32_t c = 0; c < NR; c++) {
      v128_t wv = wasm_i16x8_sub(wasm_i16x8_load8x8(w + c * ldw + k), vwz);
      for (uint32_t r = 0; r < MR; r++) a[r][c] = wasm_i32x4_add(a[r][c], wasm_i32x4_dot_i16x8(xv[r], wv));
    }
  }
  for (uint32_t r = 0; r < MR; r++) {
    for (uint32_t c = 0; c < NR; c++) {
      uint32_t t = hsum_u32(a[r][c]);
      for (uint32_t kk = k; kk < K; kk++) t += (uint32_t)(((int32_t)x[r * ldx + kk] - xz) * ((int32_t)w[c * ldw + kk] - wz));
      acc[r * NR + c] = t;
    }
  }
}

/*
 * y[i·ldy + j] = requant(bias[j] + Σ_k (x[i·K + k] - xz)·(w[j·K + k] - wz)) for i < M, j < N:
 * Gemm's loop (and MatMul's with a transposed right operand). bias may be 0; with y32 the outputs
 * are int32 there instead (put).
 */
static void dot_rows_simd(const int8_t *x, const int8_t *w, const int32_t *bias, uint32_t M, uint32_t N, uint32_t K, int32_t xz,
                          int32_t wz, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi, int8_t *y, int32_t *y32) {
  uint32_t acc[8];
  uint32_t i = 0;
  for (; i + 2 <= M; i += 2) {
    const int8_t *xr = x + i * K;
    uint32_t j = 0;
    for (; j + 4 <= N; j += 4) {
      dot_tile(xr, K, w + j * K, K, K, xz, wz, 2, 4, acc);
      for (uint32_t r = 0; r < 2; r++)
        for (uint32_t c = 0; c < 4; c++)
          put(y, y32, (i + r) * N + j + c, acc[r * 4 + c] + (bias ? (uint32_t)bias[j + c] : 0u), m, s, yz, lo, hi);
    }
    for (; j < N; j++) {
      dot_tile(xr, K, w + j * K, K, K, xz, wz, 2, 1, acc);
      for (uint32_t r = 0; r < 2; r++) put(y, y32, (i + r) * N + j, acc[r] + (bias ? (uint32_t)bias[j] : 0u), m, s, yz, lo, hi);
    }
  }
  for (; i < M; i++) {
    const int8_t *xr = x + i * K;
    uint32_t j = 0;
    for (; j + 4 <= N; j += 4) {
      dot_tile(xr, K, w + j * K, K, K, xz, wz, 1, 4, acc);
      for (uint32_t c = 0; c < 4; c++) put(y, y32, i * N + j + c, acc[c] + (bias ? (uint32_t)bias[j + c] : 0u), m, s, yz, lo, hi);
    }
    for (; j < N; j++) {
      dot_tile(xr, K, w + j * K, K, K, xz, wz, 1, 1, acc);
      put(y, y32, i * N + j, acc[0] + (bias ? (uint32_t)bias[j] : 0u), m, s, yz, lo, hi);
    }
  }
}


/* A raw MR×NR tile (no zero points): acc[r·NR + c] = Σ_k x[r·ldx + k]·w[c·ldw + k] modulo 2^32. */
static inline __attribute__((always_inline)) void dot_tile_raw(const int8_t *x, uint32_t ldx, const int8_t *w, uint32_t ldw, uint32_t K,
                                                               uint32_t MR, uint32_t NR, uint32_t *acc) {
  v128_t a[2][4];
  for (uint32_t r = 0; r < MR; r++)
    for (uint32_t c = 0; c < NR; c++) a[r][c] = wasm_i32x4_splat(0);
  uint32_t k = 0;
  for (; k + 8 <= K; k += 8) {
    v128_t xv[2];
    for (uint32_t r = 0; r < MR; r++) xv[r] = wasm_i16x8_load8x8(x + r * ldx + k);
    for (uint32_t c = 0; c < NR; c++) {
      v128_t wv = wasm_i16x8_load8x8(w + c * ldw + k);
      for (uint32_t r = 0; r < MR; r++) a[r][c] = wasm_i32x4_add(a[r][c], wasm_i32x4_dot_i16x8(xv[r], wv));
    }
  }
  for (uint32_t r = 0; r < MR; r++) {
    for (uint32_t c = 0; c < NR; c++) {
      uint32_t t = hsum_u32(a[r][c]);
      for (uint32_t kk = k; kk < K; kk++) t += (uint32_t)((int32_t)x[r * ldx + kk] * (int32_t)w[c * ldw + kk]);
      acc[r * NR + c] = t;
    }
  }
}

/* Σ_k p[k] modulo 2^32 */
static uint32_t sum_i8(const int8_t *p, uint32_t K) {
  v128_t ones = wasm_i16x8_splat(1), a = wasm_i32x4_splat(0);
  uint32_t k = 0;
  for (; k + 8 <= K; k += 8) a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(p + k), ones));
  uint32_t t = hsum_u32(a);
  for (; k < K; k++) t += (uint32_t)(int32_t)p[k];
  return t;
}

#define ROWS_CHUNK 128u

/*
 * dot_rows for many rows: the zero points leave the inner loop through
 *   Σ (x - xz)(w - wz) = Σ x·w - wz·Σ x - xz·Σ w + K·xz·wz   (an identity of integers, so also
 * modulo 2^32, where every term here is computed). Row sums are taken once per chunk of up to 128
 * rows, column sums once per 4 columns; the 4 columns' weights then stay in cache over the chunk.
 */
static void dot_rows_corr(const int8_t *x, const int8_t *w, const int32_t *bias, uint32_t M, uint32_t N, uint32_t K, int32_t xz,
                          int32_t wz, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi, int8_t *y, int32_t *y32) {
  uint32_t sx[ROWS_CHUNK], acc[8], swc[4];
  uint32_t kzz = K * (uint32_t)xz * (uint32_t)wz;
  for (uint32_t i0 = 0; i0 < M; i0 += ROWS_CHUNK) {
    uint32_t rows = M - i0 < ROWS_CHUNK ? M - i0 : ROWS_CHUNK;
    for (uint32_t r = 0; r < rows; r++) sx[r] = sum_i8(x + (i0 + r) * K, K) * (uint32_t)wz;
    for (uint32_t j = 0; j < N; j += 4) {
      uint32_t nc = N - j < 4 ? N - j : 4;
      /* everything but Σ x·w and wz·Σ x */
      for (uint32_t c = 0; c < nc; c++) swc[c] = kzz - sum_i8(w + (j + c) * K, K) * (uint32_t)xz + (bias ? (uint32_t)bias[j + c] : 0u);
      uint32_t r = 0;
      for (; r + 2 <= rows; r += 2) {
        const int8_t *xr = x + (i0 + r) * K;
        if (nc == 4) {
          dot_tile_raw(xr, K, w + j * K, K, K, 2, 4, acc);
          for (uint32_t a = 0; a < 2; a++)
            for (uint32_t c = 0; c < 4; c++) put(y, y32, (i0 + r + a) * N + j + c, acc[a * 4 + c] - sx[r + a] + swc[c], m, s, yz, lo, hi);
        } else {
          for (uint32_t c = 0; c < nc; c++) {
            dot_tile_raw(xr, K, w + (j + c) * K, K, K, 2, 1, acc);
            for (uint32_t a = 0; a < 2; a++) put(y, y32, (i0 + r + a) * N + j + c, acc[a] - sx[r + a] + swc[c], m, s, yz, lo, hi);
          }
        }
      }
      for (; r < rows; r++) {
        const int8_t *xr = x + (i0 + r) * K;
        for (uint32_t c = 0; c < nc; c++) {
          dot_tile_raw(xr, K, w + (j + c) * K, K, K, 1, 1, acc);
          put(y, y32, (i0 + r) * N + j + c, acc[0] - sx[r] + swc[c], m, s, yz, lo, hi);
        }
      }
    }
  }
}

/* Gemm's loop: few rows (batch 1: the weights are read once anyway) with the zero points subtracted
   in the tile, many rows with them folded out (dot_rows_corr). Both give the same bytes. */
static void dot_rows(const int8_t *x, const int8_t *w, const int32_t *bias, uint32_t M, uint32_t N, uint32_t K, int32_t xz,
                     int32_t wz, int32_t m, int32_t s, int32_t yz, int32_t lo, int32_t hi, int8_t *y, int32_t *y32) {
  (M >= 8 ? dot_rows_corr : dot_rows_simd)(x, w, bias, M, N, K, xz, wz, m, s, yz, lo, hi, y, y32);
}

static void gemm_simd(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *w = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0;
  dot_rows(x, w, b, M, N, K, attr(nd, 0), attr(nd, 1), attr(nd, 2), attr(nd, 3), attr(nd, 4), attr(nd, 5), attr(nd, 6), y, y32);
}

/*
 * MatMul. Transposed right operand ([B, N, K]): rows of both operands run along k, as in Gemm.
 * Otherwise ([B, K, N]): eight output columns at a time, each k adding (a[i][k] - az) times the
 * widened row k of b (i32x4.extmul of int16 lanes: exact); columns N % 8 are scalar.
 */
static void matmul_simd(const node_desc *nd, const oao_tensor *in, int8_t *y) {
  const int8_t *a = (const int8_t *)(uintptr_t)in[0].data;
  const int8_t *bm = (const int8_t *)(uintptr_t)in[1].data;
  int32_t az = attr(nd, 0), bz = attr(nd, 1), m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4);
  int32_t lo = attr(nd, 5), hi = attr(nd, 6), tb = attr(nd, 7);
  uint32_t B = in[0].dims[0], M = in[0].dims[1], K = in[0].dims[2], N = in[1].dims[tb ? 1 : 2];
  for (uint32_t bb = 0; bb < B; bb++) {
    const int8_t *ab = a + bb * M * K, *b0 = bm + bb * K * N;
    int8_t *yb = y + bb * M * N;
    if (tb) {
      dot_rows(ab, b0, 0, M, N, K, az, bz, m, s, yz, lo, hi, yb, 0);
      continue;
    }
    v128_t vbz = wasm_i16x8_splat((int16_t)bz);
    for (uint32_t i = 0; i < M; i++) {
      const int8_t *ar = ab + i * K;
      uint32_t j = 0;
      for (; j + 8 <= N; j += 8) {
        v128_t lo4 = wasm_i32x4_splat(0), hi4 = wasm_i32x4_splat(0);
        for (uint32_t k = 0; k < K; k++) {
          v128_t av = wasm_i16x8_splat((int16_t)((int32_t)ar[k] - az));
          v128_t bv = wasm_i16x8_sub(wasm_i16x8_load8x8(b0 + k * N + j), vbz);
          lo4 = wasm_i32x4_add(lo4, wasm_i32x4_extmul_low_i16x8(av, bv));
          hi4 = wasm_i32x4_add(hi4, wasm_i32x4_extmul_high_i16x8(av, bv));
        }
        uint32_t t[8];
        wasm_v128_store(t, lo4);
        wasm_v128_store(t + 4, hi4);
        for (uint32_t c = 0; c < 8; c++) yb[i * N + j + c] = requant(t[c], m, s, yz, lo, hi);
      }
      for (; j < N; j++) {
        uint32_t acc = 0;
        for (uint32_t k = 0; k < K; k++) acc += (uint32_t)(((int32_t)ar[k] - az) * ((int32_t)b0[k * N + j] - bz));
        yb[i * N + j] = requant(acc, m, s, yz, lo, hi);
      }
    }
  }
}

/* one Conv2D output position, as the scalar kernel computes it (borders, strides other than 1) */
static uint32_t conv_point(const int8_t *x, const int8_t *wo, uint32_t nn, uint32_t C, uint32_t c0, uint32_t Cg, uint32_t H, uint32_t W,
                           uint32_t KH, uint32_t KW, int32_t ih0, int32_t iw0, int32_t dh, int32_t dw, int32_t xz, int32_t wz) {
  uint32_t acc = 0;
  for (uint32_t c = 0; c < Cg; c++) {
    const int8_t *xc = x + ((nn * C) + c0 + c) * H * W;
    const int8_t *wc = wo + c * KH * KW;
    for (uint32_t ki = 0; ki < KH; ki++) {
      int32_t ih = ih0 + (int32_t)ki * dh;
      if (ih < 0 || ih >= (int32_t)H) continue;
      for (uint32_t kj = 0; kj < KW; kj++) {
        int32_t iw = iw0 + (int32_t)kj * dw;
        if (iw < 0 || iw >= (int32_t)W) continue;
        acc += (uint32_t)(((int32_t)xc[(uint32_t)ih * W + (uint32_t)iw] - xz) * ((int32_t)wc[ki * KW + kj] - wz));
      }
    }
  }
  return acc;
}

/*
 * Conv2D: with a horizontal stride of 1, eight neighbouring output columns whose windows lie
 * inside the row at once (each weight tap times eight widened input bytes, i32x4.extmul: exact);
 * the border columns and other strides position by position.
 */
static void conv2d_simd(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, const uint32_t *od) {
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
  /* output columns [owA, owB) have every tap inside the row (stride 1): ow - pl >= 0 and
     ow - pl + (KW - 1)·dw <= W - 1 */
  uint32_t span = (uint32_t)dw * (KW - 1); /* < W + pads (validated) */
  uint32_t owA = (uint32_t)pl < OW ? (uint32_t)pl : OW;
  uint32_t owB = (uint64_t)W + (uint32_t)pl > span ? W + (uint32_t)pl - span : 0; /* W + pl < 2^26 */
  if (owB > OW) owB = OW;
  if (sw != 1 || owB < owA) owA = owB = 0;
  v128_t vxz = wasm_i16x8_splat((int16_t)xz);
  for (uint32_t nn = 0; nn < N; nn++) {
    for (uint32_t o = 0; o < O; o++) {
      uint32_t c0 = (o / Og) * Cg;
      const int8_t *wo = w + o * Cg * KH * KW;
      uint32_t bias = b ? (uint32_t)b[o] : 0;
      for (uint32_t oh = 0; oh < OH; oh++) {
        int32_t ih0 = (int32_t)oh * sh - pt;
        int8_t *yr = y + ((nn * O + o) * OH + oh) * OW;
        uint32_t ow = 0;
        for (; ow < owA; ow++)
          yr[ow] = requant(bias + conv_point(x, wo, nn, C, c0, Cg, H, W, KH, KW, ih0, (int32_t)ow * sw - pl, dh, dw, xz, wz), m, s, yz, lo, hi);
        for (; ow + 8 <= owB; ow += 8) {
          v128_t lo4 = wasm_i32x4_splat((int32_t)bias), hi4 = lo4;
          for (uint32_t c = 0; c < Cg; c++) {
            const int8_t *xc = x + ((nn * C) + c0 + c) * H * W + (ow - (uint32_t)pl);
            const int8_t *wc = wo + c * KH * KW;
            for (uint32_t ki = 0; ki < KH; ki++) {
              int32_t ih = ih0 + (int32_t)ki * dh;
              if (ih < 0 || ih >= (int32_t)H) continue;
              const int8_t *xrow = xc + (uint32_t)ih * W;
              for (uint32_t kj = 0; kj < KW; kj++) {
                v128_t wv = wasm_i16x8_splat((int16_t)((int32_t)wc[ki * KW + kj] - wz));
                v128_t xv = wasm_i16x8_sub(wasm_i16x8_load8x8(xrow + kj * (uint32_t)dw), vxz);
                lo4 = wasm_i32x4_add(lo4, wasm_i32x4_extmul_low_i16x8(xv, wv));
                hi4 = wasm_i32x4_add(hi4, wasm_i32x4_extmul_high_i16x8(xv, wv));
              }
            }
          }
          uint32_t t[8];
          wasm_v128_store(t, lo4);
          wasm_v128_store(t + 4, hi4);
          for (uint32_t c = 0; c < 8; c++) yr[ow + c] = requant(t[c], m, s, yz, lo, hi);
        }
        for (; ow < OW; ow++)
          yr[ow] = requant(bias + conv_point(x, wo, nn, C, c0, Cg, H, W, KH, KW, ih0, (int32_t)ow * sw - pl, dh, dw, xz, wz), m, s, yz, lo, hi);
      }
    }
  }
}

/*
 * The native addon's int8 GEMM (Gemm, and MatMul and Conv2D through it), included by addon.c after
 * oao_kernels.c: it uses that file's node_desc, attr, clampi and oao_rq (the scalar requantization;
 * the avx512-vnni path's requant16 is its branch-free vector form, checked equal by requant16_check).
 *
 * y[i][j] = requant(bias[j] + Σ_k (x[i][k] - xz)·(w[j][k] - wz)), x: M×K, w: N×K, both row-major
 * along k. The inner products are raw, Σ x·w, and the zero points come back through
 *   Σ (x - xz)(w - wz) = Σ x·w - wz·Σ_k x[i][k] - xz·Σ_k w[j][k] + K·xz·wz,
 * an identity of integers, so also modulo 2^32, where every term is computed (uint32_t). Addition
 * modulo 2^32 does not depend on order, so any blocking, vector width or split over threads gives the
 * scalar kernel's accumulator, and then its bytes.
 *
 * - avx512-vnni: vpdpbusd multiplies unsigned by signed bytes and adds groups of 4 into int32 lanes,
 *   wrapping (not the saturating vpdpbusds). x's bytes go in with the sign bit flipped, x + 128 as
 *   u8, so the lanes hold Σ (x + 128)·w = Σ x·w + 128·Σ w: the column sums take the 128 back out.
 * - avx2: bytes widened to int16 (vpmovsxbw), vpmaddwd multiplies pairs into int32 exactly
 *   (|x·w| <= 16384), vpaddd accumulates.
 * - c: the kernels' own scalar gemm (oao_kernels.c), over row ranges when threaded.
 * Large products are split by columns over the threads, in chunks taken as the threads come free
 * (pthreads: the call stays synchronous and the operands stay where they are; see README.md).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OAO_NATIVE_X86 1
#include <immintrin.h>
#endif

enum { OAO_ISA_C = 0, OAO_ISA_AVX2 = 1, OAO_ISA_AVX512_VNNI = 2 };
static const char *const OAO_ISA_NAMES[] = {"c", "avx2", "avx512-vnni"};

/* below this many multiply-accumulates a product runs on the calling thread only */
#define OAO_THREAD_MIN_MACS (1u << 23)
#define OAO_MAX_THREADS 16

typedef struct {
  const int8_t *x, *w;
  const uint8_t *xu;   /* avx512-vnni: x + 128 as u8 (sign bits flipped), made once per product */
  const int32_t *bias; /* may be 0 */
  uint32_t M, N, K;
  int32_t xz, wz, m, s, yz, lo, hi;
  int8_t *y;    /* int8 output, or */
  int32_t *y32; /* int32 output (a Gemm's wide output) */
  const uint32_t *row_corr; /* wz·Σ_k x[i][k] - row_bias[i], per row */
  const int32_t *row_bias;  /* a bias per row instead of per column (Conv2D), or 0 */
} oao_gemm;

static inline void gemm_store(const oao_gemm *g, uint32_t i, uint32_t j, uint32_t acc) {
  int32_t r = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, g->m, g->s) + (uint32_t)g->yz), g->lo, g->hi);
  if (g->y32) g->y32[i * g->N + j] = r;
  else g->y[i * g->N + j] = (int8_t)r;
}

/* Σ_k p[k] modulo 2^32 */
static uint32_t sum_bytes(const int8_t *p, uint32_t K) {
  uint32_t s = 0;
  for (uint32_t k = 0; k < K; k++) s += (uint32_t)(int32_t)p[k];
  return s;
}

/* what column j adds besides Σ x·w + (its lanes' bias)·Σ w and the row's correction */
static inline uint32_t col_corr(const oao_gemm *g, uint32_t j, uint32_t lane_bias) {
  uint32_t kzz = g->K * (uint32_t)g->xz * (uint32_t)g->wz;
  return (g->bias ? (uint32_t)g->bias[j] : 0u) + kzz - (lane_bias + (uint32_t)g->xz) * sum_bytes(g->w + (size_t)j * g->K, g->K);
}

#ifdef OAO_NATIVE_X86

/* ---- avx512-vnni: tiles of up to 4 rows × 4 columns, 64 k per step ---- */

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* s[v] = Σ lanes of a[v] for 16 vectors, in 45 instructions (a transposing tree instead of 16 reductions) */
static inline VNNI_TARGET __attribute__((always_inline)) __m512i hsum16(const __m512i *a) {
  __m512i p[8], q[4];
  for (int v = 0; v < 8; v++) p[v] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * v], a[2 * v + 1]), _mm512_unpackhi_epi32(a[2 * v], a[2 * v + 1]));
  for (int v = 0; v < 4; v++) q[v] = _mm512_add_epi32(_mm512_unpacklo_epi64(p[2 * v], p[2 * v + 1]), _mm512_unpackhi_epi64(p[2 * v], p[2 * v + 1]));
  /* q[v]: in each 128-bit lane, that lane's partial sums of a[4v..4v+3] */
  __m512i r0 = _mm512_add_epi32(_mm512_shuffle_i32x4(q[0], q[1], 0x88), _mm512_shuffle_i32x4(q[0], q[1], 0xdd));
  __m512i r1 = _mm512_add_epi32(_mm512_shuffle_i32x4(q[2], q[3], 0x88), _mm512_shuffle_i32x4(q[2], q[3], 0xdd));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(r0, r1, 0x88), _mm512_shuffle_i32x4(r0, r1, 0xdd));
}

/*
 * oao_rq(v, m, s) + yz, clamped to [lo, hi], on 16 lanes: the scalar gemm_store's value, lane by lane.
 * oao_rq rounds p = v·m (exact in int64, |p| < 2^62) half away from zero: p >= 0 ? (p + h) >> s :
 * -((-p + h) >> s), h = 2^(s-1). Branch-free with σ = p >> 63 (0 or -1): q = (|p| + h) >> s, then
 * (q ^ σ) - σ is q or -q; |p| + h < 2^63, so the shift may be logical. The low 32 bits are the result
 * (oao_rq's truncation); + yz wraps as the scalar uint32_t addition; lo <= hi (validated), so
 * min(max(·, lo), hi) is clampi. keeper/graph/kernel-paths.test.ts checks it against oao_rq
 * (requantCheck) besides every GEMM output.
 */
static inline VNNI_TARGET __attribute__((always_inline)) __m512i rq_even(__m512i v, __m512i m, __m512i h, __m128i s) {
  __m512i p = _mm512_mul_epi32(v, m); /* the even lanes' v·m, signed 32×32 -> 64 */
  __m512i sign = _mm512_srai_epi64(p, 63);
  __m512i q = _mm512_srl_epi64(_mm512_add_epi64(_mm512_abs_epi64(p), h), s);
  return _mm512_sub_epi64(_mm512_xor_si512(q, sign), sign);
}

/* oao_rq(v, m, s) on 16 int32 lanes (m >= 0, s in 1..62: validated attributes) */
static inline VNNI_TARGET __attribute__((always_inline)) __m512i rq16(__m512i v, int32_t m32, int32_t s32) {
  __m512i m = _mm512_set1_epi64((int64_t)m32), h = _mm512_set1_epi64((int64_t)1 << (s32 - 1));
  __m128i s = _mm_cvtsi32_si128(s32);
  __m512i even = rq_even(v, m, h, s), odd = rq_even(_mm512_srli_epi64(v, 32), m, h, s);
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

static inline VNNI_TARGET __attribute__((always_inline)) __m512i requant16(__m512i acc, const oao_gemm *g) {
  __m512i r = _mm512_add_epi32(rq16(acc, g->m, g->s), _mm512_set1_epi32(g->yz));
  return _mm512_min_epi32(_mm512_max_epi32(r, _mm512_set1_epi32(g->lo)), _mm512_set1_epi32(g->hi));
}

/* Mismatches between requant16 and the scalar requantization over n pseudo-random (v, m, s, yz, lo, hi),
   edge values among them (a self-check for the tests). */
static VNNI_TARGET uint32_t requant16_check(uint32_t n, uint32_t seed) {
  static const int32_t edges_v[] = {0, 1, -1, 2147483647, -2147483647 - 1, 65535, -65536};
  static const int32_t edges_m[] = {0, 1, 2147483647, 1 << 30};
  static const int32_t edges_s[] = {1, 2, 31, 32, 61, 62};
  uint32_t x = seed | 1, bad = 0, v[16], got[16];
#define NEXT() (x ^= x << 13, x ^= x >> 17, x ^= x << 5, x)
  for (uint32_t it = 0; it < n; it++) {
    oao_gemm g;
    memset(&g, 0, sizeof g);
    g.m = it % 3 == 0 ? edges_m[NEXT() % 4] : (int32_t)(NEXT() >> 1);
    g.s = it % 3 == 1 ? edges_s[NEXT() % 6] : (int32_t)(1 + NEXT() % 62);
    g.yz = it % 4 == 0 ? (int32_t)NEXT() : (int32_t)(NEXT() % 256) - 128;
    g.lo = it % 4 == 0 ? -2147483647 - 1 : (int32_t)(NEXT() % 129) - 128;
    g.hi = it % 4 == 0 ? 2147483647 : g.lo + (int32_t)(NEXT() % (uint32_t)(128 - g.lo));
    for (int l = 0; l < 16; l++) v[l] = l < 7 && it % 2 ? (uint32_t)edges_v[l] : NEXT();
    _mm512_storeu_si512((void *)got, requant16(_mm512_loadu_si512((const void *)v), &g));
    for (int l = 0; l < 16; l++) {
      int32_t want = clampi((int32_t)((uint32_t)oao_rq((int32_t)v[l], g.m, g.s) + (uint32_t)g.yz), g.lo, g.hi);
      bad += (int32_t)got[l] != want;
    }
  }
#undef NEXT
  return bad;
}

static inline VNNI_TARGET __attribute__((always_inline)) void vnni_tile(const oao_gemm *g, uint32_t i0, uint32_t j0, const uint32_t *cc,
                                                                         uint32_t MR, uint32_t NR) {
  const uint32_t K = g->K;
  __m512i a[16];
  for (int v = 0; v < 16; v++) a[v] = _mm512_setzero_si512();
  const uint8_t *xr = g->xu + (size_t)i0 * K;
  const int8_t *wr = g->w + (size_t)j0 * K;
  uint32_t k = 0;
  for (; k + 64 <= K; k += 64) {
    __m512i xv[4], wv[4];
    for (uint32_t r = 0; r < MR; r++) xv[r] = _mm512_loadu_si512((const void *)(xr + (size_t)r * K + k));
    for (uint32_t c = 0; c < NR; c++) wv[c] = _mm512_loadu_si512((const void *)(wr + (size_t)c * K + k));
    for (uint32_t r = 0; r < MR; r++)
      for (uint32_t c = 0; c < NR; c++) a[r * 4 + c] = _mm512_dpbusd_epi32(a[r * 4 + c], xv[r], wv[c]);
  }
  if (k < K) { /* the tail: masked-out bytes load as 0 (products 0) */
    __mmask64 mk = (__mmask64)((1ull << (K - k)) - 1); /* K - k < 64 */
    __m512i xv[4], wv[4];
    for (uint32_t r = 0; r < MR; r++) xv[r] = _mm512_maskz_loadu_epi8(mk, xr + (size_t)r * K + k);
    for (uint32_t c = 0; c < NR; c++) wv[c] = _mm512_maskz_loadu_epi8(mk, wr + (size_t)c * K + k);
    for (uint32_t r = 0; r < MR; r++)
      for (uint32_t c = 0; c < NR; c++) a[r * 4 + c] = _mm512_dpbusd_epi32(a[r * 4 + c], xv[r], wv[c]);
  }
  /* lane r·4 + c: the tile's output (r, c), its corrections added (lanes past MR, NR: unused) */
  uint32_t rc[16], out[16];
  for (uint32_t r = 0; r < 4; r++)
    for (uint32_t c = 0; c < 4; c++) rc[r * 4 + c] = cc[c] - g->row_corr[i0 + (r < MR ? r : 0)];
  __m512i acc = _mm512_add_epi32(hsum16(a), _mm512_loadu_si512((const void *)rc));
  _mm512_storeu_si512((void *)out, requant16(acc, g));
  for (uint32_t r = 0; r < MR; r++) {
    for (uint32_t c = 0; c < NR; c++) {
      size_t at = (size_t)(i0 + r) * g->N + j0 + c;
      if (g->y32) g->y32[at] = (int32_t)out[r * 4 + c];
      else g->y[at] = (int8_t)out[r * 4 + c];
    }
  }
}

#define VNNI_TILE_CASE(R, C) \
  case (R) * 8 + (C): vnni_tile(g, i0, j0, cc, R, C); break;

static VNNI_TARGET void vnni_columns(const oao_gemm *g, uint32_t j_begin, uint32_t j_end) {
  uint32_t cc[4] = {0, 0, 0, 0};
  /* The next 4 weight rows (contiguous) are prefetched while this block's row tiles run, a share per
     tile: the weights stream from memory once per product and would otherwise stall the first tile. */
  const uint32_t tiles = (g->M + 3) / 4, lines = (4 * g->K + 63) / 64, per_tile = (lines + tiles - 1) / tiles;
  for (uint32_t j0 = j_begin; j0 < j_end; j0 += 4) {
    uint32_t nc = j_end - j0 < 4 ? j_end - j0 : 4;
    for (uint32_t c = 0; c < nc; c++) cc[c] = col_corr(g, j0 + c, 128u);
    const char *next = j0 + 8 <= g->N ? (const char *)(g->w + (size_t)(j0 + 4) * g->K) : 0;
    for (uint32_t i0 = 0, t = 0; i0 < g->M; i0 += 4, t++) {
      uint32_t nr = g->M - i0 < 4 ? g->M - i0 : 4;
      if (next)
        for (uint32_t l = t * per_tile; l < (t + 1) * per_tile && l < lines; l++) _mm_prefetch(next + (size_t)l * 64, _MM_HINT_T0);
      switch (nr * 8 + nc) {
        VNNI_TILE_CASE(1, 1) VNNI_TILE_CASE(1, 2) VNNI_TILE_CASE(1, 3) VNNI_TILE_CASE(1, 4)
        VNNI_TILE_CASE(2, 1) VNNI_TILE_CASE(2, 2) VNNI_TILE_CASE(2, 3) VNNI_TILE_CASE(2, 4)
        VNNI_TILE_CASE(3, 1) VNNI_TILE_CASE(3, 2) VNNI_TILE_CASE(3, 3) VNNI_TILE_CASE(3, 4)
        VNNI_TILE_CASE(4, 1) VNNI_TILE_CASE(4, 2) VNNI_TILE_CASE(4, 3) VNNI_TILE_CASE(4, 4)
      default: break;
      }
    }
  }
}

/* ---- avx2: tiles of up to 3 rows × 4 columns, 16 k per step ---- */

#define AVX2_TARGET __attribute__((target("avx2")))

static inline AVX2_TARGET uint32_t hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return (uint32_t)_mm_cvtsi128_si32(s);
}

static inline AVX2_TARGET __attribute__((always_inline)) void avx2_tile(const oao_gemm *g, uint32_t i0, uint32_t j0, const uint32_t *cc,
                                                                         uint32_t MR, uint32_t NR) {
  const uint32_t K = g->K;
  __m256i a[12];
  for (int v = 0; v < 12; v++) a[v] = _mm256_setzero_si256();
  const int8_t *xr = g->x + (size_t)i0 * K, *wr = g->w + (size_t)j0 * K;
  uint32_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256i xv[3];
    for (uint32_t r = 0; r < MR; r++) xv[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xr + (size_t)r * K + k)));
    for (uint32_t c = 0; c < NR; c++) {
      __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wr + (size_t)c * K + k)));
      for (uint32_t r = 0; r < MR; r++) a[r * 4 + c] = _mm256_add_epi32(a[r * 4 + c], _mm256_madd_epi16(xv[r], wv));
    }
  }
  for (uint32_t r = 0; r < MR; r++) {
    for (uint32_t c = 0; c < NR; c++) {
      uint32_t t = hsum8(a[r * 4 + c]);
      for (uint32_t kk = k; kk < K; kk++) t += (uint32_t)((int32_t)xr[(size_t)r * K + kk] * (int32_t)wr[(size_t)c * K + kk]);
      gemm_store(g, i0 + r, j0 + c, t - g->row_corr[i0 + r] + cc[c]);
    }
  }
}

#define AVX2_TILE_CASE(R, C) \
  case (R) * 8 + (C): avx2_tile(g, i0, j0, cc, R, C); break;

static AVX2_TARGET void avx2_columns(const oao_gemm *g, uint32_t j_begin, uint32_t j_end) {
  uint32_t cc[4];
  for (uint32_t j0 = j_begin; j0 < j_end; j0 += 4) {
    uint32_t nc = j_end - j0 < 4 ? j_end - j0 : 4;
    for (uint32_t c = 0; c < nc; c++) cc[c] = col_corr(g, j0 + c, 0u);
    for (uint32_t i0 = 0; i0 < g->M; i0 += 3) {
      uint32_t nr = g->M - i0 < 3 ? g->M - i0 : 3;
      switch (nr * 8 + nc) {
        AVX2_TILE_CASE(1, 1) AVX2_TILE_CASE(1, 2) AVX2_TILE_CASE(1, 3) AVX2_TILE_CASE(1, 4)
        AVX2_TILE_CASE(2, 1) AVX2_TILE_CASE(2, 2) AVX2_TILE_CASE(2, 3) AVX2_TILE_CASE(2, 4)
        AVX2_TILE_CASE(3, 1) AVX2_TILE_CASE(3, 2) AVX2_TILE_CASE(3, 3) AVX2_TILE_CASE(3, 4)
      default: break;
      }
    }
  }
}
#endif /* OAO_NATIVE_X86 */

/* ---- dispatch and threads ---- */

/* the best instruction set this CPU (and OS: the cpu-support builtins check XCR0) runs */
static int gemm_best_isa(void) {
#ifdef OAO_NATIVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni"))
    return OAO_ISA_AVX512_VNNI;
  if (__builtin_cpu_supports("avx2")) return OAO_ISA_AVX2;
#endif
  return OAO_ISA_C;
}

/* settings of the process (set at load, or by setIsa / setThreads for tests and benchmarks) */
static int gemm_isa = -1;
static uint32_t gemm_threads = 1;

/*
 * The threads: a parallel loop over `chunks` pieces of work, the calling thread among its workers.
 * Helpers are a pool of threads started once (as many as the largest thread count asked for, less
 * the caller) that claim chunks from the loop's shared counter; the caller claims too, then waits
 * only for chunks a helper has claimed and not finished. A helper that the OS has not run yet (the
 * other core busy) therefore costs nothing: when it runs it finds no chunk and goes back to waiting.
 * After a loop a helper spins for about OAO_POOL_SPIN_NS on the job counter (a model's next node
 * comes within microseconds), then sleeps on a condition variable until the next loop's broadcast.
 * `ctx` is used only under a claimed chunk, so it may live on the caller's stack; the loop's
 * counters, which a late helper still reads, live on the heap until everyone is done with them (the
 * pool holds a reference to the latest loop). Loops from several JS threads (compute workers) may
 * overlap: each loop's caller finishes whatever its helpers do not take, so each is complete.
 */
typedef struct {
  void (*fn)(void *ctx, uint32_t chunk);
  void *ctx;
  uint32_t chunks;
  uint32_t helpers; /* at most this many pool threads join the loop */
  atomic_uint next, done, joined;
  atomic_int refs;
} parallel_loop;

#define OAO_POOL_SPIN_NS 100000ll

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  parallel_loop *job;  /* the latest loop (a reference), or 0 */
  uint64_t gen;        /* loops published, under mu */
  uint32_t started;    /* pool threads running */
  uint32_t sleeping;   /* pool threads waiting on `wake` */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};
static atomic_uint_fast64_t pool_gen; /* pool.gen, read without the lock while spinning */

static void parallel_unref(parallel_loop *l) {
  if (atomic_fetch_sub(&l->refs, 1) == 1) free(l);
}

static void parallel_work(parallel_loop *l) {
  for (uint32_t c; (c = atomic_fetch_add(&l->next, 1)) < l->chunks;) {
    l->fn(l->ctx, c);
    atomic_fetch_add(&l->done, 1);
  }
}

static int64_t pool_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static void *pool_thread(void *arg) {
  (void)arg;
  uint64_t seen = atomic_load(&pool_gen);
  for (;;) {
    int64_t until = pool_now_ns() + OAO_POOL_SPIN_NS;
    for (uint32_t i = 0; atomic_load_explicit(&pool_gen, memory_order_acquire) == seen; i++) {
#ifdef OAO_NATIVE_X86
      _mm_pause();
#endif
      if ((i & 255) == 255 && pool_now_ns() > until) break;
    }
    pthread_mutex_lock(&pool.mu);
    while (pool.gen == seen) {
      pool.sleeping++;
      pthread_cond_wait(&pool.wake, &pool.mu);
      pool.sleeping--;
    }
    seen = pool.gen;
    parallel_loop *l = pool.job;
    if (l) atomic_fetch_add(&l->refs, 1);
    pthread_mutex_unlock(&pool.mu);
    if (!l) continue;
    if (atomic_fetch_add(&l->joined, 1) < l->helpers) parallel_work(l);
    parallel_unref(l);
  }
  return 0;
}

/* Publishes a loop to the pool, starting pool threads up to `helpers` (fewer if the OS refuses). */
static void pool_publish(parallel_loop *l, uint32_t helpers) {
  parallel_loop *old;
  pthread_mutex_lock(&pool.mu);
  while (pool.started < helpers) {
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&tid, &attr, pool_thread, 0);
    pthread_attr_destroy(&attr);
    if (rc != 0) break;
    pool.started++;
  }
  old = pool.job;
  pool.job = l; /* the caller gave the pool its reference */
  atomic_store_explicit(&pool_gen, ++pool.gen, memory_order_release);
  if (pool.sleeping) pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  if (old) parallel_unref(old);
}

static void parallel_for(uint32_t chunks, uint32_t threads, void (*fn)(void *ctx, uint32_t chunk), void *ctx) {
  parallel_loop *l = threads > 1 && chunks > 1 ? (parallel_loop *)malloc(sizeof(parallel_loop)) : 0;
  if (!l) { /* one thread (or no memory for the counters): the loop itself */
    for (uint32_t c = 0; c < chunks; c++) fn(ctx, c);
    return;
  }
  l->fn = fn, l->ctx = ctx, l->chunks = chunks;
  l->helpers = (threads < chunks ? threads : chunks) - 1;
  atomic_init(&l->next, 0);
  atomic_init(&l->done, 0);
  atomic_init(&l->joined, 0);
  atomic_init(&l->refs, 2); /* the caller's and the pool's */
  pool_publish(l, l->helpers);
  parallel_work(l);
  while (atomic_load(&l->done) < chunks) sched_yield(); /* the chunks helpers have claimed */
  parallel_unref(l);
}

/* columns [j_begin, j_end) of the product (a multiple of 4 apart except at N) */
static void gemm_columns(const oao_gemm *g, uint32_t j_begin, uint32_t j_end) {
#ifdef OAO_NATIVE_X86
  if (gemm_isa == OAO_ISA_AVX512_VNNI) vnni_columns(g, j_begin, j_end);
  else avx2_columns(g, j_begin, j_end);
#else
  (void)g, (void)j_begin, (void)j_end;
#endif
}

/* Columns in chunks, taken as the threads come free. */
#define OAO_CHUNK_COLS 32u /* a multiple of the 4-column tiles */

static void gemm_chunk(void *ctx, uint32_t chunk) {
  const oao_gemm *g = (const oao_gemm *)ctx;
  uint32_t j = chunk * OAO_CHUNK_COLS;
  gemm_columns(g, j, g->N - j < OAO_CHUNK_COLS ? g->N : j + OAO_CHUNK_COLS);
}

/* The product over `threads` threads (from 2^23 multiply-accumulates; else the caller's alone). */
static void gemm_vector_on(oao_gemm *g, uint32_t threads) {
  uint32_t *row_corr = (uint32_t *)malloc(sizeof(uint32_t) * g->M);
  if (!row_corr) abort(); /* M·4 bytes: nothing sensible to do without them */
  for (uint32_t i = 0; i < g->M; i++)
    row_corr[i] = sum_bytes(g->x + (size_t)i * g->K, g->K) * (uint32_t)g->wz - (g->row_bias ? (uint32_t)g->row_bias[i] : 0u);
  g->row_corr = row_corr;
  uint8_t *xu = 0;
  if (gemm_isa == OAO_ISA_AVX512_VNNI) {
    size_t n = (size_t)g->M * g->K;
    if (!(xu = (uint8_t *)malloc(n ? n : 1))) abort();
    for (size_t i = 0; i < n; i++) xu[i] = (uint8_t)((uint8_t)g->x[i] ^ 0x80u);
    g->xu = xu;
  }
  uint64_t macs = (uint64_t)g->M * g->N * g->K;
  parallel_for((g->N + OAO_CHUNK_COLS - 1) / OAO_CHUNK_COLS, macs >= OAO_THREAD_MIN_MACS ? threads : 1, gemm_chunk, g);
  free(xu);
  free(row_corr);
}

/* The product over the process's threads. */
static void gemm_vector(oao_gemm *g) { gemm_vector_on(g, gemm_threads); }

/* ---- the scalar kernels over ranges of rows, in chunks over the threads ---- */

/*
 * A node whose output rows each depend only on the same rows of some inputs (`split_in`, a bit set;
 * the others, weights, are whole for every row): the kernel `run` on chunks of whole rows, each
 * call given the tensor structs with their data moved to the chunk. A row is `in_row[i]` elements
 * of input i and `out_row` of the output; `rows` rows in all.
 */
typedef struct {
  void (*run)(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n);
  const node_desc *nd;
  const oao_tensor *in;
  uint32_t n_in, split_in, rows, rows_per_chunk, out_row, in_row[OAO_MAX_INPUTS];
  int8_t *y;
} row_split;

static void row_chunk(void *ctx, uint32_t chunk) {
  const row_split *r = (const row_split *)ctx;
  uint32_t a = chunk * r->rows_per_chunk, b = r->rows - a < r->rows_per_chunk ? r->rows : a + r->rows_per_chunk;
  oao_tensor in[OAO_MAX_INPUTS];
  for (uint32_t i = 0; i < r->n_in; i++) {
    in[i] = r->in[i];
    if (r->split_in >> i & 1) {
      in[i].data = r->in[i].data + a * r->in_row[i] * (r->in[i].dtype == OAO_INT32 ? 4u : 1u);
      in[i].dims[0] = in[i].rank > 1 ? b - a : in[i].dims[0]; /* Gemm's x: its rows; the others read only their last dim */
    }
  }
  uint32_t out_size = r->nd->out_dtype == OAO_INT32 ? 4u : 1u;
  r->run(r->nd, in, r->n_in, r->y + (size_t)a * r->out_row * out_size, (b - a) * r->out_row);
}

/* Splits into chunks of about a quarter of a thread's share (some slack for a busy core), runs them. */
static void run_rows(row_split *r, uint32_t threads) {
  uint32_t want = threads > 1 ? threads * 4 : 1;
  r->rows_per_chunk = (r->rows + want - 1) / want;
  if (r->rows_per_chunk < 1) r->rows_per_chunk = 1;
  parallel_for((r->rows + r->rows_per_chunk - 1) / r->rows_per_chunk, threads, row_chunk, r);
}

/* An elementwise node or a row-wise one (`row` output elements a row, as many of each split input). */
static void run_split(void (*run)(const node_desc *, const oao_tensor *, uint32_t, int8_t *, uint32_t), const node_desc *nd, const oao_tensor *in,
                      uint32_t n_in, uint32_t split_in, int8_t *y, uint32_t rows, uint32_t row, uint32_t threads) {
  row_split r = {run, nd, in, n_in, split_in, rows, 1, row, {0}, y};
  for (uint32_t i = 0; i < n_in; i++) r.in_row[i] = row;
  run_rows(&r, threads);
}

static void gemm_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n;
  gemm(nd, in, n_in, y);
}

#ifdef OAO_NATIVE_X86
/* The wide Gemm on 16 int32 lanes (avx512 machines): 2×4 tiles of dot products x(i, ·)·w(j, ·) with vpmulld/vpaddd,
   each lane's sum modulo 2^32 and the lanes added modulo 2^32, so the same sums as wide_mm's in any order; then
   wide_mm's requantization, offset and clamp. */
static inline VNNI_TARGET __attribute__((always_inline)) uint32_t hsum32(__m512i v) { return (uint32_t)_mm512_reduce_add_epi32(v); }

static VNNI_TARGET void gemm_wide_avx512(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  const int32_t *x = (const int32_t *)(uintptr_t)in[0].data, *w = (const int32_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0;
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  int32_t m = attr(nd, 2), s = attr(nd, 3), yz = attr(nd, 4), lo = attr(nd, 5), hi = attr(nd, 6);
  for (uint32_t i0 = 0; i0 < M; i0 += 2) {
    uint32_t rows = M - i0 < 2 ? 1 : 2;
    const int32_t *x0 = x + (size_t)i0 * K, *x1 = rows == 2 ? x0 + K : x0;
    for (uint32_t j0 = 0; j0 < N; j0 += 4) {
      uint32_t cols = N - j0 < 4 ? N - j0 : 4;
      const int32_t *wc[4];
      for (uint32_t c = 0; c < 4; c++) wc[c] = w + (size_t)(j0 + (c < cols ? c : 0)) * K;
      __m512i a[8];
      for (uint32_t t = 0; t < 8; t++) a[t] = _mm512_setzero_si512();
      for (uint32_t k = 0; k < K; k += 16) {
        __mmask16 km = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
        __m512i p = _mm512_maskz_loadu_epi32(km, x0 + k), q = _mm512_maskz_loadu_epi32(km, x1 + k);
        for (uint32_t c = 0; c < 4; c++) {
          __m512i wv = _mm512_maskz_loadu_epi32(km, wc[c] + k);
          a[c] = _mm512_add_epi32(a[c], _mm512_mullo_epi32(p, wv));
          a[4 + c] = _mm512_add_epi32(a[4 + c], _mm512_mullo_epi32(q, wv));
        }
      }
      for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++) {
          uint32_t i = i0 + r, j = j0 + c, acc = (b ? (uint32_t)b[j] : 0) + hsum32(a[r * 4 + c]);
          int32_t v = clampi((int32_t)((uint32_t)oao_rq((int32_t)acc, m, s) + (uint32_t)yz), lo, hi);
          if (y32) y32[(size_t)i * N + j] = v;
          else y[(size_t)i * N + j] = (int8_t)v;
        }
    }
  }
}
#endif

static void gemm_wide_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n;
#ifdef OAO_NATIVE_X86
  if (gemm_isa == OAO_ISA_AVX512_VNNI) {
    gemm_wide_avx512(nd, in, n_in, y);
    return;
  }
#endif
  gemm_wide(nd, in, n_in, y);
}

/* The scalar kernel's gemm over row ranges (each output row depends only on its own input row). */
static void gemm_c(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
  row_split r = {gemm_part, nd, in, n_in, 1u, M, 1, N, {K}, y};
  run_rows(&r, (uint64_t)M * N * K >= OAO_THREAD_MIN_MACS ? gemm_threads : 1);
}

static oao_gemm gemm_args(const node_desc *nd, const int8_t *x, const int8_t *w, const int32_t *bias, uint32_t M, uint32_t N, uint32_t K, int8_t *y,
                          int32_t *y32) {
  oao_gemm g = {x, w, 0, bias, M, N, K, attr(nd, 0), attr(nd, 1), attr(nd, 2), attr(nd, 3), attr(nd, 4), attr(nd, 5), attr(nd, 6), y, y32, 0, 0};
  return g;
}

/* Gemm (validated): x [M, K], w [N, K], optional int32 bias [N]; int8 or int32 output. */
static void gemm_native(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y) {
  if (in[0].dtype == OAO_INT32) {
    /* the wide form over row ranges: 16 int32 lanes where the AVX-512 GEMM runs, else the kernels' own scalar loop */
    uint32_t M = in[0].dims[0], K = in[0].dims[1], N = in[1].dims[0];
    row_split r = {gemm_wide_part, nd, in, n_in, 1u, M, 1, N, {K}, y};
    run_rows(&r, (uint64_t)M * N * K >= OAO_THREAD_MIN_MACS ? gemm_threads : 1);
    return;
  }
  if (gemm_isa == OAO_ISA_C) {
    gemm_c(nd, in, n_in, y);
    return;
  }
  int32_t *y32 = nd->out_dtype == OAO_INT32 ? (int32_t *)(void *)y : 0;
  oao_gemm g = gemm_args(nd, (const int8_t *)(uintptr_t)in[0].data, (const int8_t *)(uintptr_t)in[1].data,
                         n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0, in[0].dims[0], in[1].dims[0], in[0].dims[1], y32 ? 0 : y, y32);
  gemm_vector(&g);
}

/* MatMul (validated): a [B, M, K] by b [B, N, K] (transposed) or [B, K, N], which is transposed to
   [N, K] first (K·N bytes per batch, against M·N·K multiply-accumulates). Batches too small to split
   (a GPT's per-head attention products, 64·64·64) run side by side over the threads instead, from
   2^20 multiply-accumulates in all: each batch's bytes come from one thread either way. */
#define OAO_MATMUL_BATCH_MIN_MACS (1u << 20)

typedef struct {
  const node_desc *nd;
  const int8_t *a, *bm;
  int8_t *y;
  uint32_t M, N, K, tb;
} matmul_batches;

/* batch bb of the product on the calling thread; `bt` K·N bytes of room for the transpose (or 0 when tb) */
static void matmul_batch(const matmul_batches *mb, uint32_t bb, int8_t *bt, uint32_t threads) {
  uint32_t M = mb->M, N = mb->N, K = mb->K;
  const int8_t *w = mb->bm + (size_t)bb * K * N;
  if (!mb->tb) {
    for (uint32_t k = 0; k < K; k++)
      for (uint32_t j = 0; j < N; j++) bt[(size_t)j * K + k] = w[(size_t)k * N + j];
    w = bt;
  }
  oao_gemm g = gemm_args(mb->nd, mb->a + (size_t)bb * M * K, w, 0, M, N, K, mb->y + (size_t)bb * M * N, 0);
  gemm_vector_on(&g, threads);
}

typedef struct {
  const matmul_batches *mb;
  int8_t *bts; /* per chunk: K·N bytes (chunks of one batch each) */
} matmul_split;

static void matmul_chunk(void *ctx, uint32_t chunk) {
  const matmul_split *ms = (const matmul_split *)ctx;
  int8_t *bt = ms->bts ? ms->bts + (size_t)chunk * ms->mb->K * ms->mb->N : 0;
  matmul_batch(ms->mb, chunk, bt, 1);
}

static void matmul_native(const node_desc *nd, const oao_tensor *in, int8_t *y) {
  if (in[0].dtype == OAO_INT32) {
    /* the wide form: the kernels' own scalar loop (no vector path yet) */
    matmul_wide(nd, in, y);
    return;
  }
  if (gemm_isa == OAO_ISA_C) {
    matmul(nd, in, y);
    return;
  }
  int32_t tb = attr(nd, 7);
  uint32_t B = in[0].dims[0], M = in[0].dims[1], K = in[0].dims[2], N = in[1].dims[tb ? 1 : 2];
  matmul_batches mb = {nd, (const int8_t *)(uintptr_t)in[0].data, (const int8_t *)(uintptr_t)in[1].data, y, M, N, K, (uint32_t)tb};
  uint64_t per = (uint64_t)M * N * K;
  if (gemm_threads > 1 && B > 1 && per < OAO_THREAD_MIN_MACS && per * B >= OAO_MATMUL_BATCH_MIN_MACS) {
    /* every batch's transpose room up front, so a helper never meets a failed allocation */
    int8_t *bts = tb ? 0 : (int8_t *)malloc((size_t)B * N * K);
    if (tb || bts) {
      matmul_split ms = {&mb, bts};
      parallel_for(B, gemm_threads, matmul_chunk, &ms);
      free(bts);
      return;
    }
  }
  int8_t *bt = tb ? 0 : (int8_t *)malloc((size_t)N * K);
  if (!tb && !bt) {
    matmul(nd, in, y); /* no room for the transpose: the scalar kernel, the same bytes */
    return;
  }
  for (uint32_t bb = 0; bb < B; bb++) matmul_batch(&mb, bb, bt, gemm_threads);
  free(bt);
}

/*
 * Conv2D (validated) as GEMMs, one per image and group: the group's weights [Og, L] (L = Cg·KH·KW, as
 * they lie) by the output positions' taps [P, L] (im2col), y[o][p] in the output's own layout. A tap
 * outside the input is filled with xz: it adds (xz - xz)·(w - wz) = 0, as the scalar kernel, which
 * skips it. The weights take the GEMM's left side, so the zero points swap sides and the bias is per
 * row.
 */
static void conv2d_native(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, const uint32_t *od) {
  const int8_t *x = (const int8_t *)(uintptr_t)in[0].data, *w = (const int8_t *)(uintptr_t)in[1].data;
  const int32_t *b = n_in == 3 ? (const int32_t *)(uintptr_t)in[2].data : 0;
  int32_t xz = attr(nd, 0), sh = attr(nd, 7), sw = attr(nd, 8), pt = attr(nd, 9), pl = attr(nd, 10), dh = attr(nd, 13), dw = attr(nd, 14);
  uint32_t group = (uint32_t)attr(nd, 15);
  uint32_t N = in[0].dims[0], C = in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3];
  uint32_t O = in[1].dims[0], Cg = in[1].dims[1], KH = in[1].dims[2], KW = in[1].dims[3];
  uint32_t OH = od[2], OW = od[3], Og = O / group, P = OH * OW, L = Cg * KH * KW;
  int8_t *cols = gemm_isa == OAO_ISA_C ? 0 : (int8_t *)malloc((size_t)P * L);
  if (!cols) { /* the c path, or no room for the taps: the scalar kernel, the same bytes */
    conv2d(nd, in, n_in, y, od);
    return;
  }
  for (uint32_t nn = 0; nn < N; nn++) {
    for (uint32_t gi = 0; gi < group; gi++) {
      int8_t *col = cols;
      for (uint32_t oh = 0; oh < OH; oh++) {
        for (uint32_t ow = 0; ow < OW; ow++) {
          for (uint32_t c = 0; c < Cg; c++) {
            const int8_t *xc = x + ((size_t)nn * C + gi * Cg + c) * H * W;
            for (uint32_t ki = 0; ki < KH; ki++) {
              int32_t ih = (int32_t)oh * sh - pt + (int32_t)ki * dh;
              for (uint32_t kj = 0; kj < KW; kj++) {
                int32_t iw = (int32_t)ow * sw - pl + (int32_t)kj * dw;
                *col++ = ih >= 0 && ih < (int32_t)H && iw >= 0 && iw < (int32_t)W ? xc[(uint32_t)ih * W + (uint32_t)iw] : (int8_t)xz;
              }
            }
          }
        }
      }
      oao_gemm g = gemm_args(nd, w + (size_t)gi * Og * L, cols, 0, Og, P, L, y + ((size_t)nn * O + gi * Og) * P, 0);
      g.xz = attr(nd, 1); /* the weights' zero point: they are the left operand here */
      g.wz = xz;
      g.row_bias = b ? b + gi * Og : 0;
      gemm_vector(&g);
    }
  }
  free(cols);
}

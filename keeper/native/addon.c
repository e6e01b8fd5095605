/*
 * The native graph kernels: a Node-API addon compiling the SAME keeper/guest/kernels/oao_kernels.c
 * and keccak.c for the host, with a vector, threaded int8 GEMM (gemm.h) for Gemm and MatMul. The JS
 * side (keeper/graph/native.ts) gives KernelRuntime the interface of the wasm instance: a linear
 * memory and the same exports, taking offsets into that memory.
 *
 * Memory. oao_tensor holds 32-bit addresses (the wasm and MIPS targets' pointer size), so the memory
 * is mapped below 4 GiB: an offset into it plus its base is then an address the unchanged kernels can
 * use. A run copies the tensor structs and adds the base to each data offset. Every offset and length
 * from JS is checked against the memory's size before use (wasm would trap; here it would be a write
 * anywhere). Growing works as WebAssembly.Memory.grow does for JS: the old ArrayBuffer is detached.
 * Within the mapping's capacity (a power of two) the memory grows in place; beyond it the contents
 * move to a larger mapping; a mapping stays until the last ArrayBuffer over it is collected, and its
 * capacity is reported to V8 as external memory so that dead runtimes are collected in time (the
 * 4 GiB of address space is shared by every runtime of the process).
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../guest/kernels/oao_kernels.c"

/* keccak.c's stream state is one static; here the addon is shared by every JS thread of the process
   (worker_threads), so each thread gets its own: the name becomes a call returning this thread's array. */
static uint64_t (*oao_native_stream_state(void))[25];
#define stream_state (*oao_native_stream_state())
#include "../guest/kernels/keccak.c"
#undef stream_state
static _Thread_local uint64_t native_stream_state[25];
static uint64_t (*oao_native_stream_state(void))[25] { return &native_stream_state; }

#include "gemm.h"
#ifdef OAO_NATIVE_X86
#include "ops_avx512.h"
#endif

/* ---- memory below 4 GiB ---- */

#define PAGE_BYTES 65536u
#define LOW_LIMIT (1ull << 32)
#define MIN_CAP (1ull << 20) /* capacities are powers of two from 1 MiB */
#define HEAP_BASE 4096u       /* offsets below it stay unused, as wasm's data section */

typedef struct {
  uint8_t *base;
  size_t cap;
  atomic_int refs; /* the memory's own, plus one per ArrayBuffer over it */
  napi_env env;    /* told of the capacity, so that its GC collects dead runtimes' memories */
} region;

typedef struct {
  region *r;
  size_t len;
} memory;

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0 /* a hint then; the address is checked */
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

static void *map_at(uint64_t at, size_t cap, int extra) {
  void *p = mmap((void *)(uintptr_t)at, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra, -1, 0);
  if (p == MAP_FAILED) return 0;
  if ((uint64_t)(uintptr_t)p + cap <= LOW_LIMIT) return p;
  munmap(p, cap);
  return 0;
}

/* A mapping of at least `bytes` ending below 4 GiB: where the kernel puts a MAP_32BIT one (x86-64 Linux:
   the low 2 GiB), else the first free slot of its size from 64 MiB up (address space only: pages are
   committed when touched). */
static region *region_map(napi_env env, size_t bytes) {
  size_t cap = MIN_CAP;
  while (cap < bytes && cap < LOW_LIMIT / 2) cap *= 2;
  if (cap < bytes) return 0;
  void *p = 0;
#ifdef MAP_32BIT
  p = map_at(0, cap, MAP_32BIT);
#endif
  for (uint64_t at = 64ull << 20; !p && at + cap <= LOW_LIMIT; at += cap) p = map_at(at, cap, MAP_FIXED_NOREPLACE);
  if (!p) return 0;
  region *r = (region *)malloc(sizeof(region));
  if (!r) {
    munmap(p, cap);
    return 0;
  }
  r->base = (uint8_t *)p;
  r->cap = cap;
  r->env = env;
  atomic_init(&r->refs, 1);
  int64_t total;
  napi_adjust_external_memory(env, (int64_t)cap, &total);
  return r;
}

static void region_unref(region *r) {
  if (atomic_fetch_sub(&r->refs, 1) == 1) {
    int64_t total;
    napi_adjust_external_memory(r->env, -(int64_t)r->cap, &total);
    munmap(r->base, r->cap);
    free(r);
  }
}

/* ---- N-API plumbing ---- */

#define CHECK(env, call)                                                    \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error((env), 0, "oao_native: Node-API call failed: " #call); \
      return 0;                                                             \
    }                                                                       \
  } while (0)

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, 0, msg);
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, 0, 0) != napi_ok || argc < want) {
    napi_throw_type_error(env, 0, "oao_native: too few arguments");
    return 0;
  }
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
    napi_throw_type_error(env, 0, "oao_native: expected an integer in 0..2^32-1");
    return 0;
  }
  *out = (uint32_t)d;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, 0, "oao_native: expected a number");
    return 0;
  }
  return 1;
}

static memory *get_memory(napi_env env, napi_value v) {
  void *p = 0;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, 0, "oao_native: expected a memory handle (memoryCreate)");
    return 0;
  }
  return (memory *)p;
}

/* [off, off + len) lies in the memory */
static int in_memory(const memory *m, uint64_t off, uint64_t len) { return off <= m->len && len <= m->len - off; }

static void memory_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  memory *m = (memory *)data;
  region_unref(m->r);
  free(m);
}

static void buffer_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)data;
  region_unref((region *)hint);
}

/* memoryCreate(bytes) -> handle */
static napi_value memory_create(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  uint32_t bytes;
  if (!get_args(env, info, 1, argv) || !get_u32(env, argv[0], &bytes)) return 0;
  memory *m = (memory *)malloc(sizeof(memory));
  if (!m) return throw_range(env, "oao_native: out of memory");
  m->len = ((size_t)bytes + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
  m->r = region_map(env, m->len);
  if (!m->r) {
    free(m);
    return throw_range(env, "oao_native: cannot map the kernels' memory below 4 GiB (the kernels' tensor addresses are 32-bit)");
  }
  CHECK(env, napi_create_external(env, m, memory_finalize, 0, &out));
  return out;
}

/* memoryBuffer(handle) -> an ArrayBuffer over the memory as it is now */
static napi_value memory_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  if (!get_args(env, info, 1, argv)) return 0;
  memory *m = get_memory(env, argv[0]);
  if (!m) return 0;
  atomic_fetch_add(&m->r->refs, 1);
  if (napi_create_external_arraybuffer(env, m->r->base, m->len, buffer_finalize, m->r, &out) != napi_ok) {
    region_unref(m->r);
    napi_throw_error(env, 0, "oao_native: cannot wrap the kernels' memory in an ArrayBuffer (this Node has external buffers disabled)");
    return 0;
  }
  return out;
}

/* memoryGrow(handle, pages, oldBuffer) -> the previous size in pages, or -1 (as WebAssembly.Memory.grow);
   detaches oldBuffer when the size changed */
static napi_value memory_grow(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  uint32_t pages;
  if (!get_args(env, info, 3, argv) || !get_u32(env, argv[1], &pages)) return 0;
  memory *m = get_memory(env, argv[0]);
  if (!m) return 0;
  size_t old = m->len, want = old + (size_t)pages * PAGE_BYTES;
  int32_t result = (int32_t)(old / PAGE_BYTES);
  if (want > LOW_LIMIT / 2) result = -1; /* 2 GiB: what a mapping below 4 GiB can hold here */
  else if (want > m->r->cap) {
    region *r = region_map(env, want);
    if (!r) result = -1;
    else {
      memcpy(r->base, m->r->base, old);
      region_unref(m->r);
      m->r = r;
    }
  }
  if (result >= 0 && pages > 0) {
    m->len = want;
    bool detached = false;
    CHECK(env, napi_is_detached_arraybuffer(env, argv[2], &detached));
    if (!detached) CHECK(env, napi_detach_arraybuffer(env, argv[2]));
  }
  CHECK(env, napi_create_int32(env, result, &out));
  return out;
}

/* ---- kernels ---- */

/* copies n tensor structs at off into t, checking each tensor's bytes lie in the memory, and makes
   their data offsets addresses; with check_data = 0 only the structs are checked (validate) */
static int load_structs(napi_env env, const memory *m, uint32_t off, uint32_t n, oao_tensor *t, int check_data) {
  if (n > OAO_MAX_INPUTS || !in_memory(m, off, (uint64_t)n * sizeof(oao_tensor))) {
    napi_throw_range_error(env, 0, "oao_native: tensor structs outside the kernels' memory");
    return 0;
  }
  memcpy(t, m->r->base + off, n * sizeof(oao_tensor));
  for (uint32_t i = 0; i < n; i++) {
    if (!check_data) continue;
    uint64_t count = 1;
    if (t[i].rank < 1 || t[i].rank > OAO_MAX_RANK) count = 0;
    for (uint32_t d = 0; d < t[i].rank && d < OAO_MAX_RANK && count; d++) count = t[i].dims[d] > (1ull << 32) / count ? 0 : count * t[i].dims[d];
    uint64_t bytes = count * (t[i].dtype == OAO_INT32 ? 4u : 1u);
    if (!in_memory(m, t[i].data, bytes)) {
      napi_throw_range_error(env, 0, "oao_native: a tensor lies outside the kernels' memory");
      return 0;
    }
    t[i].data += (uint32_t)(uintptr_t)m->r->base;
  }
  return 1;
}

typedef struct {
  memory *m;
  uint32_t desc, desc_len, inputs, n_in, out;
} node_args;

static int node_call_args(napi_env env, napi_callback_info info, node_args *a) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) return 0;
  if (!(a->m = get_memory(env, argv[0]))) return 0;
  if (!get_u32(env, argv[1], &a->desc) || !get_u32(env, argv[2], &a->desc_len) || !get_u32(env, argv[3], &a->inputs) ||
      !get_u32(env, argv[4], &a->n_in) || !get_u32(env, argv[5], &a->out))
    return 0;
  if (!in_memory(a->m, a->desc, a->desc_len) || !in_memory(a->m, a->out, sizeof(oao_tensor))) {
    napi_throw_range_error(env, 0, "oao_native: node description or output struct outside the kernels' memory");
    return 0;
  }
  return 1;
}

/* nodeValidate(handle, desc, len, inputs, nIn, out) -> status; fills the output struct's dtype and shape */
static napi_value node_validate(napi_env env, napi_callback_info info) {
  node_args a;
  napi_value out;
  oao_tensor in[OAO_MAX_INPUTS], o;
  if (!node_call_args(env, info, &a) || !load_structs(env, a.m, a.inputs, a.n_in, in, 0)) return 0;
  memcpy(&o, a.m->r->base + a.out, sizeof o);
  int32_t rc = oao_node_validate(a.m->r->base + a.desc, a.desc_len, in, a.n_in, &o);
  memcpy(a.m->r->base + a.out, &o, sizeof o);
  CHECK(env, napi_create_int32(env, rc, &out));
  return out;
}

/* Add and LayerNorm (each output element, or row, from the same element or row of the inputs) are split
   over the threads from this many output elements: the scalar kernels on ranges, the same bytes. */
#define OAO_SPLIT_MIN_ELEMENTS 16384u

/* Add: on 16 lanes where the AVX-512 GEMM runs (ops_avx512.h), else the kernels' own */
static void add_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n_in;
#ifdef OAO_NATIVE_X86
  if (gemm_isa == OAO_ISA_AVX512_VNNI) {
    add_vnni(nd, in, y, n);
    return;
  }
#endif
  add(nd, in, y, n);
}

/* LayerNorm: its elementwise passes on vector lanes where the AVX-512 GEMM runs (ops_avx512.h), else the kernels' own */
static void layernorm_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n_in;
#ifdef OAO_NATIVE_X86
  if (gemm_isa == OAO_ISA_AVX512_VNNI) {
    layernorm_vnni(nd, in, y, n);
    return;
  }
#endif
  layernorm(nd, in, y, n);
}

/*
 * Transpose (validated): the kernel's element order with the odometer on the outer axes only. Runs
 * along the output's last axis are copied at their input stride, a contiguous run (stride 1, as when
 * the last axis stays last) with memcpy. Data movement only: the same bytes as the kernel's.
 */
static void transpose_native(const node_desc *nd, const oao_tensor *in, uint8_t *y, const uint32_t *od) {
  const uint8_t *x = (const uint8_t *)(uintptr_t)in[0].data;
  uint32_t rank = in[0].rank, es = in[0].dtype == OAO_INT32 ? 4u : 1u;
  uint32_t in_stride[OAO_MAX_RANK], step[OAO_MAX_RANK], idx[OAO_MAX_RANK];
  uint32_t st = 1;
  for (uint32_t i = rank; i > 0; i--) {
    in_stride[i - 1] = st;
    st *= in[0].dims[i - 1];
  }
  for (uint32_t i = 0; i < rank; i++) {
    step[i] = in_stride[attr(nd, i)];
    idx[i] = 0;
  }
  uint32_t last = rank - 1, run = od[last], stride = step[last], runs = numel(od, rank) / run;
  uint32_t src = 0;
  for (uint32_t r = 0; r < runs; r++) {
    uint8_t *dst = y + (size_t)r * run * es;
    if (stride == 1) memcpy(dst, x + (size_t)src * es, (size_t)run * es);
    else if (es == 1)
      for (uint32_t j = 0; j < run; j++) dst[j] = x[src + (size_t)j * stride];
    else
      for (uint32_t j = 0; j < run; j++) memcpy(dst + 4 * j, x + 4 * (src + (size_t)j * stride), 4);
    for (uint32_t i = last; i > 0; i--) { /* the odometer over the outer axes */
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

/* Lut, elementwise: the kernels' own on ranges of elements */
static void lut_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n_in;
  lut(nd, in, y, n);
}

/* CausalSoftmax on whole [R, C] matrices (the mask depends on the row within its matrix) */
static void causal_softmax_part(const node_desc *nd, const oao_tensor *in, uint32_t n_in, int8_t *y, uint32_t n) {
  (void)n_in;
  causal_softmax(nd, in, y, n);
}

/* nodeRun(handle, desc, len, inputs, nIn, out) -> status: oao_node_run; Gemm and MatMul through gemm.h,
   Add, LayerNorm, Lut and CausalSoftmax split over the threads */
static napi_value node_run(napi_env env, napi_callback_info info) {
  node_args a;
  napi_value out;
  oao_tensor in[OAO_MAX_INPUTS], o;
  if (!node_call_args(env, info, &a) || !load_structs(env, a.m, a.inputs, a.n_in, in, 1)) return 0;
  memcpy(&o, a.m->r->base + a.out, sizeof o);
  const uint8_t *desc = a.m->r->base + a.desc;
  node_desc nd;
  int32_t rc = parse_desc(desc, a.desc_len, &nd);
  if (rc == OAO_OK) rc = validate(&nd, in, a.n_in, &o);
  if (rc == OAO_OK) {
    uint32_t n = numel(nd.out_dims, nd.out_rank);
    if (!in_memory(a.m, o.data, (uint64_t)n * (nd.out_dtype == OAO_INT32 ? 4u : 1u)))
      return throw_range(env, "oao_native: the output tensor lies outside the kernels' memory");
    o.data += (uint32_t)(uintptr_t)a.m->r->base;
    int8_t *y = (int8_t *)(uintptr_t)o.data;
    uint32_t T = n >= OAO_SPLIT_MIN_ELEMENTS ? gemm_threads : 1, D = in[0].dims[in[0].rank - 1];
    if (nd.op == OAO_OP_GEMM) gemm_native(&nd, in, a.n_in, y);
    else if (nd.op == OAO_OP_MATMUL) matmul_native(&nd, in, y);
    else if (nd.op == OAO_OP_TRANSPOSE) transpose_native(&nd, in, (uint8_t *)y, nd.out_dims);
    else if (nd.op == OAO_OP_CONV2D) conv2d_native(&nd, in, a.n_in, y, nd.out_dims);
    else if (nd.op == OAO_OP_ADD) run_split(add_part, &nd, in, a.n_in, 3u, y, n, 1, T);
    else if (nd.op == OAO_OP_LUT) run_split(lut_part, &nd, in, a.n_in, 1u, y, n, 1, T);
    else if (nd.op == OAO_OP_CAUSALSOFTMAX && in[0].rank > 2) {
      uint32_t RC = in[0].dims[in[0].rank - 1] * in[0].dims[in[0].rank - 2];
      run_split(causal_softmax_part, &nd, in, a.n_in, 1u, y, n / RC, RC, T);
    } else if (nd.op == OAO_OP_LAYERNORM) run_split(layernorm_part, &nd, in, a.n_in, 1u, y, n / D, D, in[0].rank > 1 ? T : 1);
    else rc = oao_node_run(desc, a.desc_len, in, a.n_in, &o);
  }
  CHECK(env, napi_create_int32(env, rc, &out));
  return out;
}

/* rq(v, m, s) */
static napi_value rq(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int32_t v, m, s;
  if (!get_args(env, info, 3, argv) || !get_i32(env, argv[0], &v) || !get_i32(env, argv[1], &m) || !get_i32(env, argv[2], &s)) return 0;
  CHECK(env, napi_create_int32(env, oao_rq(v, m, s), &out));
  return out;
}

/* keccak256(handle, data, len, out) */
static napi_value keccak256(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  uint32_t data, len, out;
  if (!get_args(env, info, 4, argv) || !get_u32(env, argv[1], &data) || !get_u32(env, argv[2], &len) || !get_u32(env, argv[3], &out)) return 0;
  memory *m = get_memory(env, argv[0]);
  if (!m) return 0;
  if (!in_memory(m, data, len) || !in_memory(m, out, 32)) return throw_range(env, "oao_native: keccak256 outside the kernels' memory");
  oao_keccak256(m->r->base + data, len, m->r->base + out);
  return 0;
}

static napi_value keccak_stream_begin(napi_env env, napi_callback_info info) {
  (void)env, (void)info;
  oao_keccak_stream_begin();
  return 0;
}

/* keccakStreamUpdate(handle, data, blocks) */
static napi_value keccak_stream_update(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t data, blocks;
  if (!get_args(env, info, 3, argv) || !get_u32(env, argv[1], &data) || !get_u32(env, argv[2], &blocks)) return 0;
  memory *m = get_memory(env, argv[0]);
  if (!m) return 0;
  if (!in_memory(m, data, (uint64_t)blocks * 136)) return throw_range(env, "oao_native: keccak stream outside the kernels' memory");
  oao_keccak_stream_update(m->r->base + data, blocks);
  return 0;
}

/* keccakStreamEnd(handle, data, len, out) */
static napi_value keccak_stream_end(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  uint32_t data, len, out;
  if (!get_args(env, info, 4, argv) || !get_u32(env, argv[1], &data) || !get_u32(env, argv[2], &len) || !get_u32(env, argv[3], &out)) return 0;
  memory *m = get_memory(env, argv[0]);
  if (!m) return 0;
  if (!in_memory(m, data, len) || !in_memory(m, out, 32)) return throw_range(env, "oao_native: keccak stream outside the kernels' memory");
  oao_keccak_stream_end(m->r->base + data, len, m->r->base + out);
  return 0;
}

/* ---- settings ---- */

static int isa_available(int isa) { return isa <= gemm_best_isa(); }

/* info() -> { isa, best, threads, heapBase } */
static napi_value info_get(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_string_utf8(env, OAO_ISA_NAMES[gemm_isa], NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "isa", v));
  CHECK(env, napi_create_string_utf8(env, OAO_ISA_NAMES[gemm_best_isa()], NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "best", v));
  CHECK(env, napi_create_uint32(env, gemm_threads, &v));
  CHECK(env, napi_set_named_property(env, out, "threads", v));
  CHECK(env, napi_create_uint32(env, HEAP_BASE, &v));
  CHECK(env, napi_set_named_property(env, out, "heapBase", v));
  return out;
}

/* setIsa(name): "avx512-vnni", "avx2" or "c", one this CPU runs */
static napi_value set_isa(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[32];
  size_t len;
  if (!get_args(env, info, 1, argv)) return 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, 0, "oao_native: setIsa expects a string");
    return 0;
  }
  for (int i = 0; i <= OAO_ISA_AVX512_VNNI; i++) {
    if (strcmp(name, OAO_ISA_NAMES[i]) != 0) continue;
    if (!isa_available(i)) {
      napi_throw_error(env, 0, "oao_native: this CPU does not run that instruction set");
      return 0;
    }
    gemm_isa = i;
    return 0;
  }
  napi_throw_type_error(env, 0, "oao_native: setIsa expects avx512-vnni, avx2 or c");
  return 0;
}

/* requantCheck(n, seed) -> mismatches of the vector requantization against oao_rq's (-1: not run on this CPU) */
static napi_value requant_check(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  uint32_t n, seed;
  if (!get_args(env, info, 2, argv) || !get_u32(env, argv[0], &n) || !get_u32(env, argv[1], &seed)) return 0;
  int64_t bad = -1;
#ifdef OAO_NATIVE_X86
  if (isa_available(OAO_ISA_AVX512_VNNI)) bad = requant16_check(n, seed);
#endif
  CHECK(env, napi_create_int64(env, bad, &out));
  return out;
}

/* setThreads(n): 1..16 */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint32_t n;
  if (!get_args(env, info, 1, argv) || !get_u32(env, argv[0], &n)) return 0;
  if (n < 1 || n > OAO_MAX_THREADS) return throw_range(env, "oao_native: setThreads expects 1..16");
  gemm_threads = n;
  return 0;
}

static napi_value init(napi_env env, napi_value exports) {
  if (gemm_isa < 0) {
    gemm_isa = gemm_best_isa();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    gemm_threads = cpus >= 2 ? 2 : 1;
  }
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"memoryCreate", memory_create},   {"memoryBuffer", memory_buffer},         {"memoryGrow", memory_grow},
      {"nodeValidate", node_validate},   {"nodeRun", node_run},                   {"rq", rq},
      {"keccak256", keccak256},          {"keccakStreamBegin", keccak_stream_begin}, {"keccakStreamUpdate", keccak_stream_update},
      {"keccakStreamEnd", keccak_stream_end}, {"info", info_get},                 {"setIsa", set_isa},
      {"setThreads", set_threads},       {"requantCheck", requant_check},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    CHECK(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, 0, &f));
    CHECK(env, napi_set_named_property(env, exports, fns[i].name, f));
  }
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

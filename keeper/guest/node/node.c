/*
 * The guest node program (docs/protocol.md §3, §5.3): checks one graph-state transition.
 *
 * Local inputs (§4.5): 1 = modelRoot, 2 = node index k (uint256), 3 = agreed State_{k-1},
 * 4 = claimed State_k. Everything else is fetched as keccak preimages, starting from those
 * hashes: the model descriptor, the node-description tree, the pre-state's slots and each input
 * tensor's chunk tree. Fetching by keccak key is the verification: the oracle only serves data
 * whose keccak256 is the key (§4.5). The node is recomputed with the same C kernels the keeper runs
 * as wasm (keeper/guest/kernels), its output hashed (§3.2), written into the pre-state's
 * node-output tree (§3.4), and the resulting State_k compared with the claim.
 *
 * Exit: 0 VALID (claim right), 1 INVALID (claim wrong), 2 PANIC (malformed model or pre-state,
 * which a correct game never reaches because State_0 is checked on chain).
 */
#include "oao_guest.h"
#include "../kernels/oao_kernels.c"
#include "../kernels/keccak.c"

#define CHUNK_BYTES 4096u

static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void copy32(uint8_t *dst, const uint8_t *src) {
  for (uint32_t i = 0; i < 32; i++) dst[i] = src[i];
}

static int is_zero32(const uint8_t *p) {
  uint8_t acc = 0;
  for (uint32_t i = 0; i < 32; i++) acc |= p[i];
  return acc == 0;
}

static int eq32(const uint8_t *a, const uint8_t *b) {
  uint8_t acc = 0;
  for (uint32_t i = 0; i < 32; i++) acc |= (uint8_t)(a[i] ^ b[i]);
  return acc == 0;
}

static uint32_t depth_for(uint32_t count) {
  uint32_t d = 0;
  while (d < 32 && (1u << d) < count) d++;
  return d;
}

/* Fetches the keccak preimage of `hash` into a fresh buffer; returns its length. */
static uint8_t *fetch(const uint8_t hash[32], uint32_t cap, uint32_t *len) {
  uint8_t key[32];
  copy32(key, hash);
  key[0] = OAO_KEY_KECCAK;
  uint8_t *buf = (uint8_t *)oao_alloc(cap);
  *len = oao_preimage_read(key, buf, cap);
  return buf;
}

/* Walks a depth-d tree from `root` to leaf `index`; writes the leaf and (if wanted) the siblings
   bottom-up (siblings[h] for height h). */
static void tree_leaf(const uint8_t root[32], uint32_t depth, uint32_t index, uint8_t leaf[32], uint8_t (*siblings)[32]) {
  uint8_t node[32];
  copy32(node, root);
  for (uint32_t level = depth; level > 0; level--) {
    uint32_t h = level - 1; /* height of the children */
    uint32_t len;
    uint8_t *pair = fetch(node, 64, &len);
    if (len != 64) oao_panic("tree node preimage is not 64 bytes");
    uint32_t bit = (index >> h) & 1u;
    copy32(node, pair + 32 * bit);
    if (siblings) copy32(siblings[h], pair + 32 * (1u - bit));
  }
  copy32(leaf, node);
}

/* Root from a leaf and its siblings. */
static void tree_root(const uint8_t leaf[32], uint32_t depth, uint32_t index, uint8_t (*siblings)[32], uint8_t out[32]) {
  uint8_t node[32];
  copy32(node, leaf);
  for (uint32_t h = 0; h < depth; h++) {
    if (((index >> h) & 1u) == 0) oao_keccak_pair(node, siblings[h], node);
    else oao_keccak_pair(siblings[h], node, node);
  }
  copy32(out, node);
}

/* Reads a tensor header at p (len bytes available) into t; returns its size or 0 if malformed. */
static uint32_t parse_header(const uint8_t *p, uint32_t len, oao_tensor *t) {
  if (len < 2) return 0;
  t->dtype = p[0];
  t->rank = p[1];
  if ((t->dtype != OAO_INT8 && t->dtype != OAO_INT32) || t->rank < 1 || t->rank > OAO_MAX_RANK) return 0;
  if (len < 2 + 4 * t->rank) return 0;
  for (uint32_t i = 0; i < OAO_MAX_RANK; i++) t->dims[i] = i < t->rank ? rd32(p + 2 + 4 * i) : 0;
  return 2 + 4 * t->rank;
}

static uint32_t tensor_bytes(const oao_tensor *t) {
  uint32_t n = numel(t->dims, t->rank);
  if (n == 0 || (t->dtype == OAO_INT32 && n > 0x20000000u)) oao_panic("tensor too large");
  return n * (t->dtype == OAO_INT32 ? 4u : 1u);
}

/* Fills data[0..bytes) from the chunk subtree `node` of height h covering chunks from `first`. */
static void load_chunks(const uint8_t node[32], uint32_t h, uint32_t first, uint8_t *data, uint32_t bytes) {
  uint32_t start = first * CHUNK_BYTES;
  if (start >= bytes) return; /* padding (zero[h]): no data below */
  uint32_t len;
  if (h == 0) {
    uint32_t want = bytes - start < CHUNK_BYTES ? bytes - start : CHUNK_BYTES;
    uint8_t *chunk = fetch(node, CHUNK_BYTES, &len);
    if (len != want) oao_panic("chunk has the wrong length");
    for (uint32_t i = 0; i < len; i++) data[start + i] = chunk[i];
    return;
  }
  uint8_t *pair = fetch(node, 64, &len);
  if (len != 64) oao_panic("chunk tree node is not 64 bytes");
  load_chunks(pair, h - 1, first, data, bytes);
  load_chunks(pair + 32, h - 1, first + (1u << (h - 1)), data, bytes);
}

/* Loads the tensor whose tensorHash is `hash` (§3.2) into fresh memory. */
static void load_tensor(const uint8_t hash[32], oao_tensor *t) {
  uint32_t len;
  uint8_t *pre = fetch(hash, 2 + 4 * OAO_MAX_RANK + 32, &len);
  uint32_t hsize = parse_header(pre, len, t);
  if (hsize == 0 || len != hsize + 32) oao_panic("malformed tensor header preimage");
  uint32_t bytes = tensor_bytes(t);
  uint32_t chunks = (bytes + CHUNK_BYTES - 1) / CHUNK_BYTES;
  uint8_t *data = (uint8_t *)oao_alloc(bytes);
  load_chunks(pre + hsize, depth_for(chunks), 0, data, bytes);
  t->data = (uint32_t)(uintptr_t)data; /* big-endian canonical bytes are native on MIPS */
}

/* chunk-tree root over data (§3.2) */
static void chunk_root(const uint8_t *data, uint32_t bytes, uint8_t out[32]) {
  uint32_t chunks = (bytes + CHUNK_BYTES - 1) / CHUNK_BYTES;
  uint32_t depth = depth_for(chunks);
  uint32_t width = 1u << depth;
  uint8_t(*level)[32] = (uint8_t(*)[32])oao_alloc(32 * width);
  for (uint32_t j = 0; j < chunks; j++) {
    uint32_t off = j * CHUNK_BYTES;
    oao_keccak256(data + off, bytes - off < CHUNK_BYTES ? bytes - off : CHUNK_BYTES, level[j]);
  }
  /* leaves beyond `chunks` are zero (oao_alloc zeroes) */
  for (uint32_t w = width; w > 1; w /= 2)
    for (uint32_t i = 0; i < w / 2; i++) oao_keccak_pair(level[2 * i], level[2 * i + 1], level[i]);
  copy32(out, level[0]);
}

int main(void) {
  uint8_t model_root[32], index_word[32], pre_state[32], post_claim[32];
  if (oao_local_read(OAO_LOCAL_MODEL_ROOT, model_root, 32) != 32) oao_panic("local model root is not 32 bytes");
  if (oao_local_read(OAO_LOCAL_NODE_INDEX, index_word, 32) != 32) oao_panic("local node index is not 32 bytes");
  if (oao_local_read(OAO_LOCAL_PRE_STATE, pre_state, 32) != 32) oao_panic("local pre-state is not 32 bytes");
  if (oao_local_read(OAO_LOCAL_POST_STATE, post_claim, 32) != 32) oao_panic("local post-state is not 32 bytes");
  for (uint32_t i = 0; i < 28; i++)
    if (index_word[i] != 0) oao_panic("node index does not fit 32 bits");
  uint32_t k = rd32(index_word + 28);

  /* model descriptor (§3.3) */
  uint32_t len;
  uint8_t *desc = fetch(model_root, 256, &len);
  uint32_t version = len >= 114 ? rd32(desc + 4) : 0;
  if (len < 114 || rd32(desc) != 0x4F414F4Du || (version != 1 && version != 2)) oao_panic("not a version-1 or version-2 model descriptor");
  /* version 2: one trailing inputMode byte (0 fixed, 1 text: only TokenWindow reads the request input) */
  uint32_t text = 0;
  if (version == 2) {
    uint32_t in_len = desc[112];
    if (len < 115 + in_len) oao_panic("version-2 model descriptor truncated");
    if (len != 115 + in_len + desc[113 + in_len]) oao_panic("version-2 model descriptor has the wrong length");
    if (desc[len - 1] > 1) oao_panic("model descriptor inputMode is not 0 or 1");
    text = desc[len - 1];
  }
  uint32_t n = rd32(desc + 8), w_count = rd32(desc + 12);
  const uint8_t *graph_root = desc + 16, *weights_root = desc + 48;
  if (n == 0 || k < 1 || k > n) oao_panic("node index outside 1..n");
  uint32_t dn = depth_for(n), dw = depth_for(w_count);

  /* node k's description */
  uint8_t node_hash[32];
  tree_leaf(graph_root, dn, k - 1, node_hash, 0);
  uint32_t node_len;
  uint8_t *node = fetch(node_hash, OAO_MAX_PREIMAGE_BYTES, &node_len);
  if (node_len < 2) oao_panic("node description truncated");
  uint32_t n_in = node[1];
  if (n_in > OAO_MAX_INPUTS || node_len < 2 + 4 * n_in) oao_panic("node description has bad inputs");

  /* pre-state (§3.4) */
  uint8_t *state = fetch(pre_state, 96, &len);
  if (len != 96) oao_panic("pre-state preimage is not 96 bytes");
  const uint8_t *input_hash = state, *nodes_root = state + 64;
  if (!eq32(state + 32, weights_root)) oao_panic("pre-state weightsRoot is not the model's");
  uint8_t(*siblings)[32] = (uint8_t(*)[32])oao_alloc(32 * (dn + 1));
  uint8_t slot[32];
  tree_leaf(nodes_root, dn, k - 1, slot, siblings);
  if (!is_zero32(slot)) oao_panic("pre-state already has node k's output");

  /* inputs */
  oao_tensor inputs[OAO_MAX_INPUTS];
  for (uint32_t i = 0; i < n_in; i++) {
    uint32_t ref = rd32(node + 2 + 4 * i), kind = ref >> 24, idx = ref & 0xFFFFFFu;
    uint8_t h[32];
    if (kind == 0 && idx == 0) {
      /* TokenWindow: the one op allowed to read a text model's request input (§3.3) */
      if (text && node[0] != OAO_OP_TOKENWINDOW) oao_panic("only TokenWindow reads a text model's request input");
      copy32(h, input_hash);
    }
    else if (kind == 1 && idx < w_count) tree_leaf(weights_root, dw, idx, h, 0);
    else if (kind == 2 && idx >= 1 && idx < k) {
      tree_leaf(nodes_root, dn, idx - 1, h, 0);
      if (is_zero32(h)) oao_panic("an input node's output is missing from the pre-state");
    } else oao_panic("node reads a slot that does not exist before it");
    load_tensor(h, &inputs[i]);
  }

  /* recompute */
  oao_tensor out;
  int32_t rc = oao_node_validate(node, node_len, inputs, n_in, &out);
  if (rc != OAO_OK) oao_panic("node does not validate against its inputs");
  uint32_t out_bytes = tensor_bytes(&out);
  out.data = (uint32_t)(uintptr_t)oao_alloc(out_bytes);
  rc = oao_node_run(node, node_len, inputs, n_in, &out);
  if (rc != OAO_OK) oao_panic("node run failed");

  /* tensorHash(output) = keccak(header ‖ chunkRoot) */
  uint8_t pre[2 + 4 * OAO_MAX_RANK + 32];
  pre[0] = (uint8_t)out.dtype;
  pre[1] = (uint8_t)out.rank;
  for (uint32_t i = 0; i < out.rank; i++) {
    pre[2 + 4 * i] = (uint8_t)(out.dims[i] >> 24);
    pre[3 + 4 * i] = (uint8_t)(out.dims[i] >> 16);
    pre[4 + 4 * i] = (uint8_t)(out.dims[i] >> 8);
    pre[5 + 4 * i] = (uint8_t)out.dims[i];
  }
  uint32_t hsize = 2 + 4 * out.rank;
  chunk_root((const uint8_t *)(uintptr_t)out.data, out_bytes, pre + hsize);
  uint8_t out_hash[32];
  oao_keccak256(pre, hsize + 32, out_hash);

  /* State_k = keccak(inputHash ‖ weightsRoot ‖ nodesRoot with leaf k-1 = out_hash) */
  uint8_t buf[96];
  for (uint32_t i = 0; i < 64; i++) buf[i] = state[i];
  tree_root(out_hash, dn, k - 1, siblings, buf + 64);
  uint8_t post[32];
  oao_keccak256(buf, 96, post);
  return eq32(post, post_claim) ? OAO_EXIT_VALID : OAO_EXIT_INVALID;
}

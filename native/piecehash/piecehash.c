/*
 * Shard-tree hashing (src/core/shardtree.ts) in one native call per buffer, for
 * src/storage/piecehash.ts: the same hashes as its JavaScript (tests compare them), without a
 * JavaScript call, a hash object and a digest string per 4 KiB leaf (which cost as much as
 * hashing the leaf itself).
 *
 *   leaf hash = SHA-256(0x00 || leaf)            (a leaf is 4096 bytes)
 *   node      = SHA-256(0x01 || left || right)
 *   piece     = a power of two of leaves, folded into its root (a complete subtree)
 *
 * SHA-256 is OpenSSL's, the library Node.js links (its symbols are the process's own), so it
 * uses the same CPU extensions as node:crypto. Every argument is checked here too: a bad call
 * throws a TypeError or RangeError, it never reads or writes outside the arrays given.
 */
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define LEAF 4096
#define HASH 32
#define MAX_PIECE (1 << 20)
#define MAX_LEAVES (MAX_PIECE / LEAF)

static const unsigned char LEAF_TAG = 0x00;

static void leaf_hash(const uint8_t *leaf, uint8_t *out) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, &LEAF_TAG, 1);
  SHA256_Update(&c, leaf, LEAF);
  SHA256_Final(out, &c);
}

/* Folds `count` (a power of two) hashes at `level` into their root, left at level[0 .. 32). */
static void fold(uint8_t *level, size_t count) {
  uint8_t node[1 + 2 * HASH];
  node[0] = 0x01;
  for (size_t width = count; width > 1; width >>= 1) {
    for (size_t i = 0; i < width / 2; i++) {
      memcpy(node + 1, level + 2 * i * HASH, 2 * HASH);
      SHA256(node, sizeof node, level + i * HASH);
    }
  }
}

static napi_value fail(napi_env env, int range, const char *message) {
  if (range) napi_throw_range_error(env, "ERR_PIECEHASH_RANGE", message);
  else napi_throw_type_error(env, "ERR_PIECEHASH_ARGUMENT", message);
  return NULL;
}

/* A Uint8Array (a Buffer is one) argument: its first byte and length. */
static int bytes_arg(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  void *p = NULL;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

/* A non-negative safe integer argument. */
static int count_arg(napi_env env, napi_value v, size_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(int64_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

/* leafHashes(src, offset, leaves, out, outOffset): leaf hashes of consecutive leaves. */
static napi_value leaf_hashes(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return fail(env, 0, "leafHashes(src, offset, leaves, out, outOffset)");
  uint8_t *src, *out;
  size_t srcLen, outLen, offset, leaves, outOffset;
  if (!bytes_arg(env, argv[0], &src, &srcLen) || !bytes_arg(env, argv[3], &out, &outLen)) return fail(env, 0, "src and out must be Uint8Arrays");
  if (!count_arg(env, argv[1], &offset) || !count_arg(env, argv[2], &leaves) || !count_arg(env, argv[4], &outOffset)) return fail(env, 0, "offsets and counts must be non-negative integers");
  if (offset > srcLen || leaves > (srcLen - offset) / LEAF) return fail(env, 1, "the leaves overrun src");
  if (outOffset > outLen || leaves > (outLen - outOffset) / HASH) return fail(env, 1, "the leaf hashes overrun out");
  for (size_t i = 0; i < leaves; i++) leaf_hash(src + offset + i * LEAF, out + outOffset + i * HASH);
  return NULL;
}

/* pieceRoots(src, offset, pieceSize, count, out, outOffset): roots of consecutive pieces. */
static napi_value piece_roots(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) return fail(env, 0, "pieceRoots(src, offset, pieceSize, count, out, outOffset)");
  uint8_t *src, *out;
  size_t srcLen, outLen, offset, pieceSize, count, outOffset;
  if (!bytes_arg(env, argv[0], &src, &srcLen) || !bytes_arg(env, argv[4], &out, &outLen)) return fail(env, 0, "src and out must be Uint8Arrays");
  if (!count_arg(env, argv[1], &offset) || !count_arg(env, argv[2], &pieceSize) || !count_arg(env, argv[3], &count) || !count_arg(env, argv[5], &outOffset)) {
    return fail(env, 0, "offsets, sizes and counts must be non-negative integers");
  }
  if (pieceSize < LEAF || pieceSize > MAX_PIECE || (pieceSize & (pieceSize - 1)) != 0) return fail(env, 1, "a piece is a power of two from 4096 to 1048576 bytes");
  if (offset > srcLen || count > (srcLen - offset) / pieceSize) return fail(env, 1, "the pieces overrun src");
  if (outOffset > outLen || count > (outLen - outOffset) / HASH) return fail(env, 1, "the piece roots overrun out");
  uint8_t level[MAX_LEAVES * HASH];
  size_t leaves = pieceSize / LEAF;
  for (size_t p = 0; p < count; p++) {
    const uint8_t *piece = src + offset + p * pieceSize;
    for (size_t i = 0; i < leaves; i++) leaf_hash(piece + i * LEAF, level + i * HASH);
    fold(level, leaves);
    memcpy(out + outOffset + p * HASH, level, HASH);
  }
  return NULL;
}

/* foldSubtree(hashes, offset, count): folds `count` (a power of two) hashes in place; the root ends at offset. */
static napi_value fold_subtree(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, 0, "foldSubtree(hashes, offset, count)");
  uint8_t *hashes;
  size_t len, offset, count;
  if (!bytes_arg(env, argv[0], &hashes, &len)) return fail(env, 0, "hashes must be a Uint8Array");
  if (!count_arg(env, argv[1], &offset) || !count_arg(env, argv[2], &count)) return fail(env, 0, "offset and count must be non-negative integers");
  if (count < 1 || (count & (count - 1)) != 0) return fail(env, 1, "a complete subtree has a power-of-two number of leaves");
  if (offset > len || count > (len - offset) / HASH) return fail(env, 1, "the hashes overrun the array");
  fold(hashes + offset, count);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "leafHashes", NULL, leaf_hashes, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pieceRoots", NULL, piece_roots, NULL, NULL, NULL, napi_enumerable, NULL },
    { "foldSubtree", NULL, fold_subtree, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}

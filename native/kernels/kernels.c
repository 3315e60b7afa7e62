/*
 * Storage kernels for src/storage (shard-tree hashing, segment encryption) in one native call
 * per buffer, over the OpenSSL that Node.js links (its symbols are the process's own, so the same
 * code and CPU extensions as node:crypto). The JavaScript equivalents in src/storage give the
 * same bytes (tests compare them); these exist because per-call overhead dominated there:
 *
 * - Shard trees (src/core/shardtree.ts): leaf hash = SHA-256(0x00 || 4096-byte leaf), node =
 *   SHA-256(0x01 || left || right), a piece (a power of two of leaves) folded into its root. In
 *   JavaScript a leaf costs a hash object, two updates and a digest, about as long as hashing it.
 * - AES-256-GCM over a whole segment (src/storage/crypto.ts): sealed in place, opened from its
 *   pieces straight into the caller's buffer. node:crypto's update() returns a fresh buffer per
 *   call, which made it run at half OpenSSL's speed here.
 *
 * Every argument is checked: a bad call throws a TypeError or RangeError, it never reads or
 * writes outside the arrays given.
 */
#include <node_api.h>
#include <openssl/evp.h>
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
  if (range) napi_throw_range_error(env, "ERR_KERNELS_RANGE", message);
  else napi_throw_type_error(env, "ERR_KERNELS_ARGUMENT", message);
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

#define GCM_KEY 32
#define GCM_NONCE 12
#define GCM_TAG 16
#define MAX_PARTS 256

/* Runs AES-256-GCM over `count` parts, writing part i's output to outs[i] (which may be the part
 * itself). Sealing writes the tag to `tag`; opening checks it. 1 if it worked (and, opening, the
 * tag authenticated), 0 if not, -1 if OpenSSL failed. */
static int gcm_run(int seal, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aadLen,
                   uint8_t *const *parts, const size_t *lens, uint8_t *const *outs, size_t count, uint8_t *tag) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return -1;
  int ok = -1, n = 0;
  uint8_t end[16];
  if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) != 1) goto done;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) != 1) goto done;
  if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) != 1) goto done;
  if (aadLen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadLen) != 1) goto done;
  for (size_t i = 0; i < count; i++) {
    if (lens[i] > 0 && (EVP_CipherUpdate(ctx, outs[i], &n, parts[i], (int)lens[i]) != 1 || (size_t)n != lens[i])) goto done;
  }
  if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) != 1) goto done;
  int final = EVP_CipherFinal_ex(ctx, end, &n);
  if (!seal) ok = final == 1 ? 1 : 0;
  else if (final == 1 && n == 0 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1) ok = 1;
done:
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

/* The arguments of a GCM call: the key, nonce and AAD first, the buffer it works on (data or
 * out) at `bufIndex`, the 16-byte tag last. */
typedef struct {
  napi_value argv[6];
  uint8_t *key, *nonce, *aad, *buf, *tag;
  size_t aadLen, bufLen;
} gcm_call;

/* Reads `argc` arguments into `c`; 0 (having thrown) if they are not what `usage` says. */
static int gcm_args(napi_env env, napi_callback_info info, size_t argc, size_t bufIndex, const char *usage, gcm_call *c) {
  size_t got = argc, keyLen, nonceLen, tagLen;
  if (napi_get_cb_info(env, info, &got, c->argv, NULL, NULL) != napi_ok || got != argc) return fail(env, 0, usage), 0;
  napi_value *a = c->argv;
  if (!bytes_arg(env, a[0], &c->key, &keyLen) || !bytes_arg(env, a[1], &c->nonce, &nonceLen) || !bytes_arg(env, a[2], &c->aad, &c->aadLen) ||
      !bytes_arg(env, a[bufIndex], &c->buf, &c->bufLen) || !bytes_arg(env, a[argc - 1], &c->tag, &tagLen)) {
    return fail(env, 0, usage), 0;
  }
  if (keyLen != GCM_KEY || nonceLen != GCM_NONCE || tagLen != GCM_TAG || c->aadLen > 0x7fffffff) return fail(env, 1, "an AES-256-GCM key is 32 bytes, a nonce 12, a tag 16"), 0;
  return 1;
}

/* gcmSeal(key, nonce, aad, data, tag): encrypts `data` in place and writes its 16-byte tag to `tag`. */
static napi_value gcm_seal(napi_env env, napi_callback_info info) {
  gcm_call c;
  if (!gcm_args(env, info, 5, 3, "gcmSeal(key, nonce, aad, data, tag): Uint8Arrays", &c)) return NULL;
  if (c.bufLen > 0x7fffffff) return fail(env, 1, "at most 2 GiB per call");
  if (gcm_run(1, c.key, c.nonce, c.aad, c.aadLen, &c.buf, &c.bufLen, &c.buf, 1, c.tag) != 1) napi_throw_error(env, "ERR_KERNELS_OPENSSL", "AES-256-GCM failed in OpenSSL");
  return NULL;
}

/* gcmOpen(key, nonce, aad, parts, out, tag): decrypts the parts, in order, into out (from its
 * start; out may not overlap them); true if the tag authenticates them (out is then their
 * plaintext), false if not (out's content is then unspecified). */
static napi_value gcm_open(napi_env env, napi_callback_info info) {
  gcm_call c;
  if (!gcm_args(env, info, 6, 4, "gcmOpen(key, nonce, aad, parts, out, tag): parts an array of Uint8Arrays, the rest Uint8Arrays", &c)) return NULL;
  napi_value *argv = c.argv;
  uint8_t *out = c.buf;
  size_t outLen = c.bufLen;
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[3], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[3], &count) != napi_ok) return fail(env, 0, "parts must be an array of Uint8Arrays");
  if (count > MAX_PARTS) return fail(env, 1, "at most 256 parts");
  uint8_t *parts[MAX_PARTS], *outs[MAX_PARTS];
  size_t lens[MAX_PARTS], total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value v;
    if (napi_get_element(env, argv[3], i, &v) != napi_ok || !bytes_arg(env, v, &parts[i], &lens[i])) return fail(env, 0, "parts must be an array of Uint8Arrays");
    if (lens[i] > outLen - total) return fail(env, 1, "the parts overrun out");
    outs[i] = out + total;
    total += lens[i];
  }
  if (total > 0x7fffffff) return fail(env, 1, "at most 2 GiB per call");
  int r = gcm_run(0, c.key, c.nonce, c.aad, c.aadLen, parts, lens, outs, count, c.tag);
  if (r < 0) {
    napi_throw_error(env, "ERR_KERNELS_OPENSSL", "AES-256-GCM failed in OpenSSL");
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "leafHashes", NULL, leaf_hashes, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pieceRoots", NULL, piece_roots, NULL, NULL, NULL, napi_enumerable, NULL },
    { "foldSubtree", NULL, fold_subtree, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmSeal", NULL, gcm_seal, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmOpen", NULL, gcm_open, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, 5, props) != napi_ok) return NULL;
  return exports;
}

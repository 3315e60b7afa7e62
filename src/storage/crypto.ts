/**
 * Segment encryption (the storage contract): AES-256-GCM under a random 32-byte file key, one
 * message per segment, nonce = 4 zero bytes ‖ u64be(segment index), AAD =
 * "groundwork/storage/segment/v1". A key encrypts exactly one file and the segment index is the
 * nonce, so a nonce is never reused under a key; binding the index into the nonce also means a
 * segment moved to another position fails authentication. Encryption with a given key is
 * deterministic: re-encoding the same file under its key gives the same shards and roots.
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';
import { concat, utf8, type Bytes } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { StorageError } from './errors.js';
import { nativeKernels } from './kernels.js';
import { SEGMENT_OVERHEAD } from './layout.js';

export const FILE_KEY_BYTES = 32;
export const GCM_TAG_BYTES = SEGMENT_OVERHEAD;
export const SEGMENT_AAD: Bytes = utf8('groundwork/storage/segment/v1');

/** A fresh random file key. */
export function newFileKey(): Bytes {
  return new Uint8Array(randomBytes(FILE_KEY_BYTES));
}

function assertKey(key: Bytes): void {
  if (key.length !== FILE_KEY_BYTES) throw new InvalidInputError('INVALID_FILE_KEY', `a file key is ${FILE_KEY_BYTES} bytes, not ${key.length}`);
}

/** The 12-byte GCM nonce of segment `segment`: 4 zero bytes ‖ u64be(segment). */
export function segmentNonce(segment: number): Bytes {
  if (!Number.isSafeInteger(segment) || segment < 0) throw new InvalidInputError('INVALID_SEGMENT', `segment index must be a non-negative integer, not ${segment}`);
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(segment), 4);
  return nonce;
}

/** A cipher for segment `segment` with the AAD set: update() the plaintext, then final() and getAuthTag(). */
export function segmentCipher(key: Bytes, segment: number): CipherGCM {
  assertKey(key);
  return createCipheriv('aes-256-gcm', key, segmentNonce(segment), { authTagLength: GCM_TAG_BYTES }).setAAD(SEGMENT_AAD);
}

/** A decipher for segment `segment` expecting `tag`; its final() throws if authentication fails. */
export function segmentDecipher(key: Bytes, segment: number, tag: Bytes): DecipherGCM {
  assertKey(key);
  if (tag.length !== GCM_TAG_BYTES) throw new InvalidInputError('INVALID_TAG', `a GCM tag is ${GCM_TAG_BYTES} bytes, not ${tag.length}`);
  return createDecipheriv('aes-256-gcm', key, segmentNonce(segment), { authTagLength: GCM_TAG_BYTES }).setAAD(SEGMENT_AAD).setAuthTag(tag);
}

/** Segment `segment` sealed: ciphertext ‖ 16-byte tag. */
export function encryptSegment(key: Bytes, segment: number, plaintext: Bytes): Bytes {
  const c = segmentCipher(key, segment);
  const body = c.update(plaintext);
  const end = c.final();
  return concat(body, end, c.getAuthTag());
}

export function decryptFailed(segment: number, cause?: unknown): StorageError {
  return new StorageError('DECRYPT_FAILED', `segment ${segment} failed authentication: wrong file key or tampered data`, { cause });
}

/** The plaintext of a sealed segment (ciphertext ‖ tag); StorageError DECRYPT_FAILED if it does not authenticate. */
export function decryptSegment(key: Bytes, segment: number, sealed: Bytes): Bytes {
  if (sealed.length < GCM_TAG_BYTES) throw decryptFailed(segment);
  const d = segmentDecipher(key, segment, sealed.subarray(sealed.length - GCM_TAG_BYTES));
  const body = d.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES));
  try {
    return concat(body, d.final());
  } catch (e) {
    throw decryptFailed(segment, e);
  }
}

/** Bytes per node:crypto cipher call in the fallbacks below: each call's output is a fresh buffer (larger ones came from fresh pages). */
const MAX_CIPHER_CALL = 128 * 1024;

/**
 * Seals segment `segment` in place: `data` (its plaintext) becomes its ciphertext, and its tag
 * is written to `tag` (GCM_TAG_BYTES). Same bytes as segmentCipher; one native call where the
 * storage kernels loaded (storage/kernels), node:crypto otherwise.
 */
export function sealSegmentInPlace(key: Bytes, segment: number, data: Uint8Array, tag: Uint8Array): void {
  assertKey(key);
  if (tag.length !== GCM_TAG_BYTES) throw new InvalidInputError('INVALID_TAG', `a GCM tag is ${GCM_TAG_BYTES} bytes, not ${tag.length}`);
  if (nativeKernels) nativeKernels.gcmSeal(key, segmentNonce(segment), SEGMENT_AAD, data, tag);
  else jsSealSegmentInPlace(key, segment, data, tag);
}

/** sealSegmentInPlace through node:crypto (the fallback; exported for tests). */
export function jsSealSegmentInPlace(key: Bytes, segment: number, data: Uint8Array, tag: Uint8Array): void {
  const c = segmentCipher(key, segment);
  const out = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let o = 0; o < data.length; o += MAX_CIPHER_CALL) c.update(data.subarray(o, o + MAX_CIPHER_CALL)).copy(out, o);
  c.final();
  tag.set(c.getAuthTag());
}

/**
 * Opens segment `segment`, whose ciphertext is `parts` in order (its pieces), into `out` from
 * its start (`out` must not overlap the parts); StorageError DECRYPT_FAILED if `tag` does not
 * authenticate them, and then `out` holds nothing usable. Same bytes as segmentDecipher.
 */
export function openSegmentInto(key: Bytes, segment: number, parts: readonly Uint8Array[], out: Uint8Array, tag: Bytes): void {
  assertKey(key);
  if (tag.length !== GCM_TAG_BYTES) throw new InvalidInputError('INVALID_TAG', `a GCM tag is ${GCM_TAG_BYTES} bytes, not ${tag.length}`);
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total > out.length) throw new RangeError(`${total} bytes of ciphertext do not fit in ${out.length}`);
  if (nativeKernels) {
    if (!nativeKernels.gcmOpen(key, segmentNonce(segment), SEGMENT_AAD, parts, out, tag)) throw decryptFailed(segment);
  } else jsOpenSegmentInto(key, segment, parts, out, tag);
}

/** openSegmentInto through node:crypto (the fallback; exported for tests; arguments checked by openSegmentInto). */
export function jsOpenSegmentInto(key: Bytes, segment: number, parts: readonly Uint8Array[], out: Uint8Array, tag: Bytes): void {
  const d = segmentDecipher(key, segment, tag);
  const dst = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  for (const part of parts) {
    for (let o = 0; o < part.length; o += MAX_CIPHER_CALL) at += d.update(part.subarray(o, o + MAX_CIPHER_CALL)).copy(dst, at);
  }
  try {
    d.final();
  } catch (e) {
    throw decryptFailed(segment, e);
  }
}

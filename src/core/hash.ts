/**
 * SHA-256 through node:crypto (OpenSSL, SHA-NI where the CPU has it). `crypto.hash` is the
 * one-shot API: for the small inputs Merkle trees hash it is ~40% faster than createHash().
 *
 * The digest is taken as a latin1 ('binary') string and written into a pooled Buffer: asking node:crypto
 * for a Buffer allocates a fresh ArrayBuffer per digest, which costs more than hashing a
 * 64-byte input (measured: 1.0 µs vs 0.5 µs per call).
 */
import { createHash, hash as oneShot } from 'node:crypto';
import type { Bytes } from './bytes.js';

export const HASH_LEN = 32;

function fromDigest(d: string): Bytes {
  return Buffer.from(d, 'latin1');
}

export function sha256(data: Bytes): Bytes {
  return fromDigest(oneShot('sha256', data, 'binary'));
}

/** Hash of several parts without concatenating them first. */
export function sha256Parts(...parts: Bytes[]): Bytes {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return fromDigest(h.digest('binary'));
}

/** SHA-256 of `data` written into `out` at `offset` (no allocation besides the digest string). */
export function sha256Into(data: Bytes, out: Buffer, offset: number): void {
  out.write(oneShot('sha256', data, 'binary'), offset, 'latin1');
}

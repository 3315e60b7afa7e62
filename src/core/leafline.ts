/**
 * One manifest leaf from a line in place (core/leafhash's definition): the code the inline
 * hasher, the hashing thread and a caller that hashes a line itself (core/leafworker) share.
 * It is the per-line inner loop of an epoch close, so it avoids allocation: no Buffer views,
 * short copies byte by byte, digests taken as latin1 strings and copied out with charCodeAt.
 */
import { hash } from 'node:crypto';

/**
 * Writes leaf `index` of the line src[start, end) into out[outAt, outAt + 32). `pre` holds the
 * job's prefix in [0, at) and has room for index ‖ head ‖ details hash after it.
 */
export function hashLineInto(src: Uint8Array, start: number, end: number, headLen: number, index: number, pre: Uint8Array, at: number, out: Uint8Array, outAt: number): void {
  pre[at] = index >>> 24;
  pre[at + 1] = (index >>> 16) & 0xff;
  pre[at + 2] = (index >>> 8) & 0xff;
  pre[at + 3] = index & 0xff;
  const h = at + 4;
  for (let i = 0; i < headLen; i++) pre[h + i] = src[start + i] as number;
  const d = hash('sha256', new Uint8Array(src.buffer, src.byteOffset + start + headLen, end - start - headLen), 'binary');
  const dAt = h + headLen;
  for (let i = 0; i < 32; i++) pre[dAt + i] = d.charCodeAt(i);
  const leaf = hash('sha256', pre, 'binary');
  for (let i = 0; i < 32; i++) out[outAt + i] = leaf.charCodeAt(i);
}

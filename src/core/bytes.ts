/**
 * Byte helpers shared by every layer. Everything here is pure and allocation-light: the
 * ledger's hot paths (tx decoding, Merkle hashing, store keys) go through these.
 */
import { InvalidInputError } from './errors.js';

export type Bytes = Uint8Array;

// fatal: reject invalid UTF-8; ignoreBOM: keep a leading U+FEFF as data, so decoding is lossless.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a string (a Buffer: TextEncoder costs ~10x more for short strings). */
export function utf8(s: string): Bytes {
  return Buffer.from(s, 'utf8');
}

/** Decodes UTF-8 strictly: invalid sequences throw instead of turning into U+FFFD. */
export function fromUtf8(b: Bytes): string {
  try {
    return textDecoder.decode(b);
  } catch {
    throw new InvalidInputError('INVALID_UTF8', 'bytes are not valid UTF-8');
  }
}

export function toHex(b: Bytes): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export function fromHex(s: string, what = 'hex string'): Bytes {
  const h = s.startsWith('0x') ? s.slice(2) : s;
  if (!HEX_RE.test(h)) throw new InvalidInputError('INVALID_HEX', `${what} is not valid hex: "${truncate(s)}"`);
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function toBase64(b: Bytes): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (standard alphabet, padded): Buffer.from silently skips bad characters. */
export function fromBase64(s: string, what = 'base64 string'): Bytes {
  if (!B64_RE.test(s)) throw new InvalidInputError('INVALID_BASE64', `${what} is not valid base64: "${truncate(s)}"`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * A private copy of `b` (from Node's shared allocation pool for small sizes: far cheaper than a
 * fresh ArrayBuffer per copy).
 */
export function copyBytes(b: Bytes): Bytes {
  const out = Buffer.allocUnsafe(b.length);
  out.set(b);
  return out;
}

export function concat(...parts: Bytes[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Node's Buffer methods work on any Uint8Array when called directly (no wrapper object).
const bufEquals = Buffer.prototype.equals as (this: Uint8Array, other: Uint8Array) => boolean;
const bufCompare = Buffer.prototype.compare as (this: Uint8Array, other: Uint8Array) => number;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

export function equals(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  if (a.length <= 48) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return bufEquals.call(a, b);
}

/** Lexicographic byte order (the order of keys in the store). */
export function compare(a: Bytes, b: Bytes): number {
  return bufCompare.call(a, b);
}

export function startsWith(b: Bytes, prefix: Bytes): boolean {
  if (prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/**
 * A string that preserves byte order under `<` (one char per byte), for Map keys. latin1 maps
 * every byte to the code unit of the same value, so it round-trips and sorts like the bytes.
 */
export function toKeyString(b: Bytes): string {
  return latin1Slice.call(b, 0, b.length);
}

export function fromKeyString(s: string): Bytes {
  return Buffer.from(s, 'latin1');
}

export function u64be(n: bigint | number): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Bytes, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset);
}

export function truncate(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

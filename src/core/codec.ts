/**
 * The canonical binary encoding used for transactions, state values, blocks and proofs.
 *
 * Rules (each value has exactly one encoding, and decoding rejects everything else):
 * - unsigned integers are fixed-width big-endian (u8, u16, u32, u64, u128);
 * - booleans are one byte, 0 or 1;
 * - byte strings, strings and lists are a u32 length followed by the content; strings are
 *   well-formed UTF-8 (lone surrogates are refused on encode, invalid UTF-8 on decode);
 * - an option is a 0 byte (absent) or a 1 byte followed by the value;
 * - a struct is its fields in declaration order, with no names and no padding;
 * - a union is a u8 variant index (declaration order) followed by the variant's value;
 * - `decode` refuses trailing bytes, so `encode(decode(b))` equals `b` for every accepted `b`.
 *
 * Each codec also has a JSON form (bigints as decimal strings, bytes as hex) used by the API and
 * the CLI, with validation that names the path of a bad field.
 */
import { fromHex, toHex, utf8, type Bytes } from './bytes.js';
import { CodecError, InvalidInputError } from './errors.js';

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * A string as u32 byte length + UTF-8. ASCII (the common case: names, addresses, numbers) is
   * copied char by char; anything else goes through the native encoder.
   */
  str(s: string, max: number, name: string): void {
    const n = s.length;
    this.ensure(4 + n);
    const start = this.pos + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      this.buf[start + i] = c;
    }
    let len = n;
    if (i < n) {
      if (!s.isWellFormed()) throw new CodecError(`${name} contains a lone surrogate`);
      len = Buffer.byteLength(s, 'utf8');
      this.ensure(4 + len);
      Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos + 4, len).write(s, 'utf8');
    }
    if (len > max) throw new CodecError(`${name} longer than ${max} bytes`);
    this.view.setUint32(this.pos, len);
    this.pos += 4 + len;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }
  raw(b: Bytes): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** A copy of what was written (a Buffer, so storage and hashing take it without wrapping). */
  finish(): Bytes {
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  reset(): void {
    this.pos = 0;
  }
}

/** Strict UTF-8 for non-ASCII; ASCII bytes decode directly. */
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function decodeString(b: Bytes): string {
  for (let i = 0; i < b.length; i++) {
    if ((b[i] as number) > 0x7f) return fatalDecoder.decode(b);
  }
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('latin1');
}

export class Reader {
  pos = 0;

  constructor(readonly buf: Bytes) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new CodecError(`unexpected end of input reading ${what} at byte ${this.pos} (need ${n}, have ${this.remaining})`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return ((b[p] as number) << 8) | (b[p + 1] as number);
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
  }
  u64(what = 'u64'): bigint {
    this.need(8, what);
    const hi = this.u32();
    const lo = this.u32();
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** A view (not a copy) of the next n bytes. */
  raw(n: number, what = 'bytes'): Bytes {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

export interface Codec<T, J = unknown> {
  /** Used in error messages. */
  readonly name: string;
  write(w: Writer, v: T): void;
  read(r: Reader): T;
  toJSON(v: T): J;
  /** Validates and converts the JSON form; errors name `path`. */
  fromJSON(j: unknown, path?: string): T;
}

export type Infer<C> = C extends Codec<infer T, unknown> ? T : never;
export type InferJSON<C> = C extends Codec<unknown, infer J> ? J : never;

const scratch = new Writer(1 << 16);
let scratchBusy = false;

export function encode<T>(codec: Codec<T, unknown>, v: T, sizeHint = 128): Bytes {
  // One shared scratch buffer; a nested encode (rare) gets its own writer.
  if (scratchBusy) {
    const w = new Writer(sizeHint);
    codec.write(w, v);
    return w.finish();
  }
  scratchBusy = true;
  try {
    scratch.reset();
    codec.write(scratch, v);
    return scratch.finish();
  } finally {
    scratchBusy = false;
  }
}

/** Decodes the whole of `b`; trailing bytes are an error (that is what makes it canonical). */
export function decode<T>(codec: Codec<T, unknown>, b: Bytes): T {
  const r = new Reader(b);
  const v = codec.read(r);
  if (r.remaining !== 0) throw new CodecError(`${r.remaining} trailing byte(s) after ${codec.name}`);
  return v;
}

function bad(path: string, msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_FIELD', `${path || 'value'}: ${msg}`);
}

function uint(name: string, bits: 8 | 16 | 32): Codec<number, number> {
  const max = 2 ** bits - 1;
  return {
    name,
    write(w, v) {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new CodecError(`${name} out of range: ${v}`);
      if (bits === 8) w.u8(v);
      else if (bits === 16) w.u16(v);
      else w.u32(v);
    },
    read(r) {
      return bits === 8 ? r.u8(name) : bits === 16 ? r.u16(name) : r.u32(name);
    },
    toJSON: (v) => v,
    fromJSON(j, path = '') {
      if (typeof j !== 'number' || !Number.isInteger(j) || j < 0 || j > max) {
        throw bad(path, `expected an integer from 0 to ${max}, got ${JSON.stringify(j)}`);
      }
      return j;
    },
  };
}

export const u8 = uint('u8', 8);
export const u16 = uint('u16', 16);
export const u32 = uint('u32', 32);

export const U64_MAX = (1n << 64n) - 1n;
export const U128_MAX = (1n << 128n) - 1n;

const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;

/** Parses a non-negative decimal integer string (no sign, no leading zeros, no exponent). */
export function parseBigUint(j: unknown, max: bigint, path: string): bigint {
  if (typeof j === 'number' && Number.isSafeInteger(j) && j >= 0) j = String(j);
  if (typeof j !== 'string' || !DECIMAL_RE.test(j)) {
    throw bad(path, `expected a non-negative integer as a decimal string, got ${JSON.stringify(j)}`);
  }
  const v = BigInt(j);
  if (v > max) throw bad(path, `integer ${j} exceeds the maximum ${max}`);
  return v;
}

export const u64: Codec<bigint, string> = {
  name: 'u64',
  write(w, v) {
    if (v < 0n || v > U64_MAX) throw new CodecError(`u64 out of range: ${v}`);
    w.u64(v);
  },
  read: (r) => r.u64('u64'),
  toJSON: (v) => v.toString(),
  fromJSON: (j, path = '') => parseBigUint(j, U64_MAX, path),
};

export const u128: Codec<bigint, string> = {
  name: 'u128',
  write(w, v) {
    if (v < 0n || v > U128_MAX) throw new CodecError(`u128 out of range: ${v}`);
    w.u64(v >> 64n);
    w.u64(v & U64_MAX);
  },
  read(r) {
    const hi = r.u64('u128');
    return (hi << 64n) | r.u64('u128');
  },
  toJSON: (v) => v.toString(),
  fromJSON: (j, path = '') => parseBigUint(j, U128_MAX, path),
};

export const bool: Codec<boolean, boolean> = {
  name: 'bool',
  write(w, v) {
    w.u8(v ? 1 : 0);
  },
  read(r) {
    const b = r.u8('bool');
    if (b > 1) throw new CodecError(`bool must be 0 or 1, got ${b}`);
    return b === 1;
  },
  toJSON: (v) => v,
  fromJSON(j, path = '') {
    if (typeof j !== 'boolean') throw bad(path, `expected true or false, got ${JSON.stringify(j)}`);
    return j;
  },
};

/** Variable-length bytes, at most `max` long; JSON form is hex. */
export function bytes(max: number, name = 'bytes'): Codec<Bytes, string> {
  return {
    name,
    write(w, v) {
      if (v.length > max) throw new CodecError(`${name} longer than ${max} bytes`);
      w.u32(v.length);
      w.raw(v);
    },
    read(r) {
      const n = r.u32(`${name} length`);
      if (n > max) throw new CodecError(`${name} length ${n} exceeds the maximum ${max}`);
      return r.raw(n, name);
    },
    toJSON: (v) => toHex(v),
    fromJSON(j, path = '') {
      if (typeof j !== 'string') throw bad(path, `expected a hex string, got ${JSON.stringify(j)}`);
      const b = fromHex(j, path || name);
      if (b.length > max) throw bad(path, `longer than ${max} bytes`);
      return b;
    },
  };
}

/** Exactly `len` bytes, no length prefix; JSON form is hex. */
export function fixedBytes(len: number, name = `bytes${len}`): Codec<Bytes, string> {
  return {
    name,
    write(w, v) {
      if (v.length !== len) throw new CodecError(`${name} must be ${len} bytes, got ${v.length}`);
      w.raw(v);
    },
    read: (r) => r.raw(len, name),
    toJSON: (v) => toHex(v),
    fromJSON(j, path = '') {
      if (typeof j !== 'string') throw bad(path, `expected ${len} bytes as hex, got ${JSON.stringify(j)}`);
      const b = fromHex(j, path || name);
      if (b.length !== len) throw bad(path, `expected ${len} bytes, got ${b.length}`);
      return b;
    },
  };
}

export const bytes32 = fixedBytes(32);

/** A UTF-8 string of at most `maxBytes` encoded bytes. */
export function string(maxBytes: number, name = 'string'): Codec<string, string> {
  return {
    name,
    write(w, v) {
      w.str(v, maxBytes, name);
    },
    read(r) {
      const n = r.u32(`${name} length`);
      if (n > maxBytes) throw new CodecError(`${name} length ${n} exceeds the maximum ${maxBytes}`);
      try {
        return decodeString(r.raw(n, name));
      } catch {
        throw new CodecError(`${name} is not valid UTF-8`);
      }
    },
    toJSON: (v) => v,
    fromJSON(j, path = '') {
      if (typeof j !== 'string') throw bad(path, `expected a string, got ${JSON.stringify(j)}`);
      if (!j.isWellFormed()) throw bad(path, 'contains a lone surrogate');
      if (utf8(j).length > maxBytes) throw bad(path, `longer than ${maxBytes} bytes`);
      return j;
    },
  };
}

export function list<T, J>(item: Codec<T, J>, maxLen: number, name = `list<${item.name}>`): Codec<T[], J[]> {
  return {
    name,
    write(w, v) {
      if (v.length > maxLen) throw new CodecError(`${name} has more than ${maxLen} items`);
      w.u32(v.length);
      for (const x of v) item.write(w, x);
    },
    read(r) {
      const n = r.u32(`${name} length`);
      // Every item takes at least one byte, so a count beyond the remaining bytes is a lie:
      // refuse it before looping (fuzzed input must not spin).
      if (n > maxLen || n > r.remaining) throw new CodecError(`${name} length ${n} is invalid here (max ${maxLen})`);
      const out = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = item.read(r);
      return out;
    },
    toJSON: (v) => v.map((x) => item.toJSON(x)),
    fromJSON(j, path = '') {
      if (!Array.isArray(j)) throw bad(path, `expected an array, got ${JSON.stringify(j)?.slice(0, 40)}`);
      if (j.length > maxLen) throw bad(path, `more than ${maxLen} items`);
      return j.map((x, i) => item.fromJSON(x, `${path}[${i}]`));
    },
  };
}

export function option<T, J>(item: Codec<T, J>): Codec<T | null, J | null> {
  return {
    name: `option<${item.name}>`,
    write(w, v) {
      if (v === null) w.u8(0);
      else {
        w.u8(1);
        item.write(w, v);
      }
    },
    read(r) {
      const tag = r.u8('option tag');
      if (tag === 0) return null;
      if (tag !== 1) throw new CodecError(`option tag must be 0 or 1, got ${tag}`);
      return item.read(r);
    },
    toJSON: (v) => (v === null ? null : item.toJSON(v)),
    fromJSON: (j, path = '') => (j === null || j === undefined ? null : item.fromJSON(j, path)),
  };
}

type Fields = Record<string, Codec<any, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };
export type StructJSON<F extends Fields> = { [K in keyof F]: InferJSON<F[K]> };

export function struct<F extends Fields>(name: string, fields: F): Codec<StructOf<F>, StructJSON<F>> & { fields: F } {
  const entries = Object.entries(fields);
  return {
    name,
    fields,
    write(w, v) {
      for (const [k, c] of entries) c.write(w, (v as Record<string, unknown>)[k]);
    },
    read(r) {
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.read(r);
      return out as StructOf<F>;
    },
    toJSON(v) {
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.toJSON((v as Record<string, unknown>)[k]);
      return out as StructJSON<F>;
    },
    fromJSON(j, path = '') {
      if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad(path, `expected an object`);
      const o = j as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (!(k in fields)) throw bad(path, `unknown field "${k}" (expected ${Object.keys(fields).join(', ')})`);
      }
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.fromJSON(o[k], path ? `${path}.${k}` : k);
      return out as StructOf<F>;
    },
  };
}

type Variants = Record<string, Codec<any, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type UnionOf<V extends Variants> = { [K in keyof V]: { type: K; value: Infer<V[K]> } }[keyof V];
export type UnionJSON<V extends Variants> = { [K in keyof V]: { type: K; value: InferJSON<V[K]> } }[keyof V];

/** A tagged union; the tag is the variant's index in declaration order. */
export function union<V extends Variants>(name: string, variants: V): Codec<UnionOf<V>, UnionJSON<V>> {
  const names = Object.keys(variants);
  if (names.length > 255) throw new CodecError(`${name}: too many variants`);
  const index = new Map(names.map((n, i) => [n, i]));
  return {
    name,
    write(w, v) {
      const i = index.get(v.type as string);
      if (i === undefined) throw new CodecError(`${name}: unknown variant ${String(v.type)}`);
      w.u8(i);
      (variants[v.type as string] as Codec<unknown>).write(w, v.value);
    },
    read(r) {
      const i = r.u8(`${name} tag`);
      const type = names[i];
      if (type === undefined) throw new CodecError(`${name}: unknown variant index ${i}`);
      return { type, value: (variants[type] as Codec<unknown>).read(r) } as UnionOf<V>;
    },
    toJSON: (v) => ({ type: v.type, value: (variants[v.type as string] as Codec<unknown>).toJSON(v.value) }) as UnionJSON<V>,
    fromJSON(j, path = '') {
      if (typeof j !== 'object' || j === null) throw bad(path, 'expected {"type": ..., "value": ...}');
      const { type, value } = j as { type?: unknown; value?: unknown };
      if (typeof type !== 'string' || !index.has(type)) {
        throw bad(path, `type must be one of ${names.join(', ')}, got ${JSON.stringify(type)}`);
      }
      return { type, value: (variants[type] as Codec<unknown>).fromJSON(value, `${path}.value`) } as UnionOf<V>;
    },
  };
}

/** The empty value (for union variants that carry nothing). */
export const unit: Codec<null, null> = {
  name: 'unit',
  write() {},
  read: () => null,
  toJSON: () => null,
  fromJSON: () => null,
};

/** Wraps a codec with a different in-memory type (e.g. 20 raw bytes ↔ a bech32 JSON form). */
export function refine<T, J>(
  base: Codec<T, unknown>,
  name: string,
  toJSON: (v: T) => J,
  fromJSON: (j: unknown, path: string) => T,
  check?: (v: T) => void,
): Codec<T, J> {
  return {
    name,
    write(w, v) {
      check?.(v);
      base.write(w, v);
    },
    read(r) {
      const v = base.read(r);
      check?.(v);
      return v;
    },
    toJSON,
    fromJSON: (j, path = '') => fromJSON(j, path),
  };
}

/**
 * A closed set of names (a string-literal union) as one byte: the name's index in `values`
 * (declaration order, so never reorder — only append). JSON form: the name itself.
 */
export function enumOf<const V extends readonly string[]>(name: string, values: V): Codec<V[number], V[number]> {
  return {
    name,
    write(w, v) {
      const i = values.indexOf(v);
      if (i < 0) throw new CodecError(`${name}: unknown value ${String(v)}`);
      w.u8(i);
    },
    read(r) {
      const i = r.u8(name);
      const v = values[i];
      if (v === undefined) throw new CodecError(`${name}: unknown index ${i}`);
      return v;
    },
    toJSON: (v) => v,
    fromJSON(j, path = '') {
      if (typeof j !== 'string' || !values.includes(j)) {
        throw new InvalidInputError('INVALID_FIELD', `${path || name}: expected one of ${values.join(', ')}, got ${typeof j === 'string' ? `"${j}"` : String(j)}`);
      }
      return j as V[number];
    },
  };
}

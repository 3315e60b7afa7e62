import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex } from './bytes.js';
import { CodecError } from './errors.js';
import { U128_MAX, bool, bytes, decode, encode, list, option, string, struct, u128, u16, u32, u64, u8, union, unit } from './codec.js';

const sample = struct('Sample', {
  a: u8,
  b: u16,
  c: u32,
  d: u64,
  e: u128,
  f: bool,
  g: bytes(64),
  h: string(64),
  i: list(u32, 8),
  j: option(string(8)),
  k: union('U', { x: u64, y: string(8), z: unit }),
});

const sampleArb = fc.record({
  a: fc.integer({ min: 0, max: 255 }),
  b: fc.integer({ min: 0, max: 65535 }),
  c: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  d: fc.bigInt(0n, (1n << 64n) - 1n),
  e: fc.bigInt(0n, U128_MAX),
  f: fc.boolean(),
  g: fc.uint8Array({ maxLength: 64 }),
  h: fc.string({ maxLength: 16, unit: 'binary' }), // ≤ 4 UTF-8 bytes per code point: within string(64)
  i: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 8 }),
  j: fc.option(fc.string({ maxLength: 2, unit: 'grapheme-ascii' }), { nil: null }),
  k: fc.oneof(
    fc.record({ type: fc.constant('x' as const), value: fc.bigInt(0n, (1n << 64n) - 1n) }),
    fc.record({ type: fc.constant('y' as const), value: fc.string({ maxLength: 8, unit: 'grapheme-ascii' }) }),
    fc.record({ type: fc.constant('z' as const), value: fc.constant(null) }),
  ),
});

test('codec: decode(encode(x)) = x for every value', () => {
  fc.assert(
    fc.property(sampleArb, (v) => {
      const b = encode(sample, v);
      const back = decode(sample, b);
      assert.deepEqual(JSON.parse(JSON.stringify(sample.toJSON(back))), JSON.parse(JSON.stringify(sample.toJSON(v))));
      assert.equal(back.e, v.e);
      assert.equal(back.h, v.h);
    }),
    { numRuns: 500 },
  );
});

test('codec: canonical — any bytes that decode re-encode to exactly themselves', () => {
  fc.assert(
    fc.property(sampleArb, fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(8), (v, flips, cut) => {
      const b = Uint8Array.from(encode(sample, v));
      for (const [pos, val] of flips) if (pos < b.length) b[pos] = val;
      const mutated = b.subarray(0, Math.max(0, b.length - (cut % 3)));
      let d;
      try {
        d = decode(sample, mutated);
      } catch (e) {
        assert.ok(e instanceof CodecError, `only CodecError, got ${String(e)}`);
        return;
      }
      assert.equal(toHex(encode(sample, d)), toHex(mutated));
    }),
    { numRuns: 2000 },
  );
});

test('codec: JSON form round-trips and names bad fields', () => {
  fc.assert(
    fc.property(sampleArb, (v) => {
      const j = JSON.parse(JSON.stringify(sample.toJSON(v)));
      assert.equal(toHex(encode(sample, sample.fromJSON(j))), toHex(encode(sample, v)));
    }),
  );
  assert.throws(() => sample.fromJSON({ a: 300 }), /a: expected an integer from 0 to 255/);
  assert.throws(() => u128.fromJSON('-1', 'amount'), /amount: expected a non-negative integer/);
  assert.throws(() => u128.fromJSON((1n << 128n).toString(), 'amount'), /exceeds the maximum/);
  assert.throws(() => u64.fromJSON('1e5', 'x'), /decimal string/);
  assert.throws(() => struct('S', { a: u8 }).fromJSON({ a: 1, b: 2 }), /unknown field "b"/);
});

test('codec: strictness', () => {
  assert.throws(() => decode(bool, Uint8Array.of(2)), CodecError);
  assert.throws(() => decode(u32, Uint8Array.of(0, 0, 0, 1, 0)), /trailing/);
  assert.throws(() => decode(string(4), Uint8Array.of(0, 0, 0, 5, 97, 97, 97, 97, 97)), /exceeds the maximum/);
  assert.throws(() => decode(string(8), Uint8Array.of(0, 0, 0, 2, 0xc3, 0x28)), /not valid UTF-8/);
  assert.throws(() => decode(list(u8, 4), Uint8Array.of(0xff, 0xff, 0xff, 0xff)), /invalid here/);
  assert.throws(() => encode(string(8), '\ud800'), /lone surrogate/);
  assert.throws(() => decode(option(u8), Uint8Array.of(2, 1)), /option tag/);
  // A BOM is data, not stripped: decoding is lossless.
  assert.equal(decode(string(8), encode(string(8), '\ufeffa')), '\ufeffa');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { U128_MAX, decode, encode } from '../../../core/codec.js';
import { accountCodec, decodeAccount, encodeAccount } from './keeper.js';

const account = fc.record({
  sequence: fc.oneof(fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  balance: fc.oneof(fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: U128_MAX })),
});

test('account codec fast path: the same bytes and values as accountCodec', () => {
  fc.assert(
    fc.property(account, (a) => {
      const bytes = encode(accountCodec, a);
      assert.deepEqual(Uint8Array.from(encodeAccount(a)), Uint8Array.from(bytes));
      assert.deepEqual(decodeAccount(bytes), decode(accountCodec, bytes));
    }),
    { numRuns: 1000 },
  );
});

test('account codec fast path: out-of-range values and bad encodings fail as the codec does', () => {
  for (const a of [
    { sequence: -1n, balance: 0n },
    { sequence: 1n << 64n, balance: 0n },
    { sequence: 0n, balance: -1n },
    { sequence: 0n, balance: U128_MAX + 1n },
  ]) {
    assert.throws(() => encode(accountCodec, a));
    assert.throws(() => encodeAccount(a), { message: (() => { try { encode(accountCodec, a); } catch (e) { return (e as Error).message; } return ''; })() });
  }
  for (const n of [0, 23, 25]) {
    const b = new Uint8Array(n);
    let msg = '';
    try {
      decode(accountCodec, b);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert.throws(() => decodeAccount(b), { message: msg });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode } from '../../../core/codec.js';
import { bidRecordCodec, decodeBid } from './types.js';

const u = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const bid = fc.record({
  device: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  price: fc.oneof(u(16), u(64), u(128)),
  deposit: fc.oneof(u(32), u(128)),
  height: fc.oneof(u(32), u(64)),
  repBps: fc.integer({ min: 0, max: 0xffff }),
  vetted: fc.boolean(),
});

test('decodeBid: the same record as the codec for every valid encoding', () => {
  fc.assert(
    fc.property(bid, (b) => {
      const bytes = encode(bidRecordCodec, b);
      const fast = decodeBid(bytes);
      const slow = decode(bidRecordCodec, bytes);
      assert.deepEqual({ ...fast, device: Uint8Array.from(fast.device) }, { ...slow, device: Uint8Array.from(slow.device) });
      assert.deepEqual(Object.keys(fast), Object.keys(slow));
    }),
    { numRuns: 500 },
  );
});

test('decodeBid: the device is a copy (the input may be a transient view)', () => {
  const bytes = encode(bidRecordCodec, { device: new Uint8Array(32).fill(7), price: 1n, deposit: 2n, height: 3n, repBps: 4, vetted: true });
  const b = decodeBid(bytes);
  bytes.fill(0);
  assert.deepEqual(Uint8Array.from(b.device), new Uint8Array(32).fill(7));
});

test('decodeBid: refuses what the codec refuses, with its error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
      let want: unknown;
      try {
        want = decode(bidRecordCodec, bytes);
      } catch (e) {
        assert.throws(() => decodeBid(bytes), { message: (e as Error).message });
        return;
      }
      const got = decodeBid(bytes);
      assert.deepEqual({ ...got, device: Uint8Array.from(got.device) }, { ...(want as object), device: Uint8Array.from((want as { device: Uint8Array }).device) });
    }),
    { numRuns: 500 },
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bech32 } from '@scure/base';
import { decode20, encode20 } from './bech32.js';

test('bech32 fast path: identical to @scure/base for every 20-byte payload', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.constantFrom('gw', 'gwvaloper', 'a'), (b, hrp) => {
      const ref = bech32.encode(hrp, bech32.toWords(b));
      assert.equal(encode20(hrp, b), ref);
      assert.deepEqual(Array.from(decode20(hrp, ref) ?? []), Array.from(b));
    }),
    { numRuns: 3000 },
  );
});

test('bech32 fast path: accepts exactly what @scure/base accepts (or defers)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(40), fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7lbio1Q'), (b, pos, ch) => {
      const good = bech32.encode('gw', bech32.toWords(b));
      const s = good.slice(0, pos) + ch + good.slice(pos + 1);
      let ref: Uint8Array | undefined;
      try {
        const d = bech32.decode(s as `${string}1${string}`);
        ref = d.prefix === 'gw' ? Uint8Array.from(bech32.fromWords(d.words)) : undefined;
        if (ref && ref.length !== 20) ref = undefined;
      } catch {
        ref = undefined;
      }
      const fast = decode20('gw', s);
      // The fast path may defer (undefined) on valid-but-unusual input, never disagree.
      if (fast) assert.deepEqual(Array.from(fast), Array.from(ref ?? []));
      else if (ref && s === s.toLowerCase()) assert.fail(`fast path refused a valid lower-case address ${s}`);
    }),
    { numRuns: 5000 },
  );
});

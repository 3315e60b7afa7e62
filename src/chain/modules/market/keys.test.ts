import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toKeyString } from '../../../core/bytes.js';
import * as K from './keys.js';

test('market key strings: the same bytes as the key builders, for any id and any byte part', () => {
  const id = fc.oneof(fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
  const part = fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }));
  fc.assert(
    fc.property(id, id, part, (a, b, p) => {
      assert.equal(K.orderKeyS(a), toKeyString(K.orderKey(a)));
      assert.equal(K.bidKeyS(a, p), toKeyString(K.bidKey(a, p)));
      assert.equal(K.leaseKeyS(a), toKeyString(K.leaseKey(a)));
      assert.equal(K.orderLeaseKeyS(a, b), toKeyString(K.orderLeaseKey(a, b)));
      assert.equal(K.providerKeyS(p), toKeyString(K.providerKey(p)));
      assert.equal(K.providerLeaseKeyS(p, b), toKeyString(K.providerLeaseKey(p, b)));
      assert.equal(K.providerActiveKeyS(p, b), toKeyString(K.providerActiveKey(p, b)));
      assert.equal(K.providerBidKeyS(p, a), toKeyString(K.providerBidKey(p, a)));
      assert.equal(K.openKeyS(a), toKeyString(K.openKey(a)));
      assert.equal(K.wakeKeyS(a, b), toKeyString(K.wakeKey(a, b)));
      assert.equal(K.usageKeyS(p), toKeyString(K.usageKey(p)));
    }),
    { numRuns: 500 },
  );
  assert.equal(K.NEXT_LEASE_KEY_S, toKeyString(K.NEXT_LEASE_KEY));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderedWrites } from './ordered.js';

test('OrderedWrites: ranges agree with sorting the map, through any mix of sets, deletes, clears and ranges', () => {
  const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\u0000', '\u00ff'), minLength: 1, maxLength: 4 });
  const op = fc.oneof(
    fc.record({ t: fc.constant('set' as const), k: key, v: fc.boolean() }),
    fc.record({ t: fc.constant('del' as const), k: key }),
    fc.record({ t: fc.constant('range' as const), s: key, e: fc.option(key, { nil: undefined }) }),
    fc.record({ t: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const w = new OrderedWrites(3);
      const model = new Map<string, Uint8Array | null>();
      for (const o of ops) {
        if (o.t === 'set') {
          const v = o.v ? Uint8Array.of(1) : null;
          w.set(o.k, v);
          model.set(o.k, v);
        } else if (o.t === 'del') {
          w.delete(o.k);
          model.delete(o.k);
        } else if (o.t === 'clear') {
          w.clear();
          model.clear();
        } else {
          const want = [...model].filter(([k]) => k >= o.s && (o.e === undefined || k < o.e)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          assert.deepEqual(w.range(o.s, o.e), want);
          assert.equal(w.hasIn(o.s, o.e), want.length > 0);
        }
        assert.equal(w.size, model.size);
      }
    }),
    { numRuns: 500 },
  );
});

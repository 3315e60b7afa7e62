import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderedWrites } from './ordered.js';

test('OrderedWrites: ranges agree with sorting the map, through any mix of sets, deletes, clears and ranges', () => {
  // '/' makes partitions (a key's prefix up to its second '/'): ranges inside one and across.
  const key = fc
    .tuple(fc.constantFrom('', 'a/', 'a/b/', 'a/a/', 'a/\u00ff/', 'b//'), fc.string({ unit: fc.constantFrom('a', 'b', '/', '0', '\u0000', '\u00ff'), maxLength: 4 }))
    .map(([t, k]) => t + k)
    .filter((k) => k.length > 0);
  const op = fc.oneof(
    { arbitrary: fc.record({ t: fc.constant('set' as const), k: key, v: fc.boolean() }), weight: 4 },
    fc.record({ t: fc.constant('del' as const), k: key }),
    fc.record({ t: fc.constant('range' as const), s: key, e: fc.option(key, { nil: undefined }) }),
    fc.record({ t: fc.constant('clear' as const) }),
    // A prefix scan (what the chain's table scans ask for).
    { arbitrary: fc.record({ t: fc.constant('prefix' as const), p: key }), weight: 2 },
  );
  const prefixEnd = (p: string): string | undefined => {
    for (let i = p.length - 1; i >= 0; i--) if (p.charCodeAt(i) < 0xff) return p.slice(0, i) + String.fromCharCode(p.charCodeAt(i) + 1);
    return undefined;
  };
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
          const [s, e] = o.t === 'prefix' ? [o.p, prefixEnd(o.p)] : [o.s, o.e];
          const want = [...model].filter(([k]) => k >= s && (e === undefined || k < e)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          assert.deepEqual(w.range(s, e), want);
          assert.equal(w.hasIn(s, e), want.length > 0);
        }
        assert.equal(w.size, model.size);
      }
    }),
    { numRuns: 3000 },
  );
});

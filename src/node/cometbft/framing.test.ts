import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameReader, encodeFrame } from './framing.js';

test('ABCI framing: any split of any sequence of frames reads back the same frames in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
        const r = new FrameReader();
        const got: Buffer[] = [];
        let o = 0;
        let c = 0;
        while (o < stream.length) {
          const n = cuts[c++ % cuts.length] as number;
          got.push(...r.push(Buffer.from(stream.subarray(o, o + n))));
          o += n;
        }
        assert.equal(r.pending, 0);
        assert.deepEqual(got.map((g) => Buffer.from(g).toString('hex')), payloads.map((p) => Buffer.from(p).toString('hex')));
      },
    ),
  );
});

test('ABCI framing: lengths use unsigned varints (300 → ac 02)', () => {
  const f = encodeFrame(new Uint8Array(300));
  assert.deepEqual([...f.subarray(0, 2)], [0xac, 0x02]);
  assert.equal(f.length, 302);
});

test('ABCI framing: an absurd length is refused instead of buffered', () => {
  const r = new FrameReader();
  assert.throws(() => r.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])), /exceeds/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidInputError } from '../core/errors.js';
import { LEAF_SIZE, MAX_PIECE_SIZE } from '../core/shardtree.js';
import { fileLayout, formatManifest, MAX_DATA_SHARDS, MAX_PARITY_SHARDS, parseManifest, segmentRange, type Manifest } from './layout.js';

const MiB = 1 << 20;

test('layout: the contract table (size, k → pieceSize, segments, shardBytes)', () => {
  const rows: [number, number, number, number, number][] = [
    // size, k, pieceSize, segments, shardBytes
    [0, 4, LEAF_SIZE, 1, LEAF_SIZE],
    [1, 4, LEAF_SIZE, 1, LEAF_SIZE],
    [15, 4, LEAF_SIZE, 1, LEAF_SIZE],
    [16, 4, LEAF_SIZE, 1, LEAF_SIZE],
    [17, 4, LEAF_SIZE, 1, LEAF_SIZE],
    [4 * LEAF_SIZE - 16, 4, LEAF_SIZE, 1, LEAF_SIZE], // fills one segment of 4 KiB pieces exactly
    [4 * LEAF_SIZE - 15, 4, 2 * LEAF_SIZE, 1, 2 * LEAF_SIZE], // one byte over: the piece doubles
    [4 * MiB - 16, 4, MiB, 1, MiB], // the largest one-segment file under 4+2
    [4 * MiB - 15, 4, MiB, 2, 2 * MiB], // one byte over: a second segment
    [3 * (4 * MiB - 16), 4, MiB, 3, 3 * MiB],
    [3 * (4 * MiB - 16) + 1, 4, MiB, 4, 4 * MiB],
    [1, 1, LEAF_SIZE, 1, LEAF_SIZE],
    [5000, 1, 8192, 1, 8192],
    [10 * MiB, 24, MiB / 2, 1, MiB / 2],
  ];
  for (const [size, k, pieceSize, segments, shardBytes] of rows) {
    const l = fileLayout(size, k, 2);
    assert.deepEqual([l.pieceSize, l.segments, l.shardBytes], [pieceSize, segments, shardBytes], `size ${size} k ${k}`);
    assert.equal(l.segmentCapacity, k * pieceSize - 16);
    assert.equal(l.n, k + 2);
  }
});

test('layout: segments tile the file exactly and the piece size is minimal (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: MAX_DATA_SHARDS }), fc.integer({ min: 0, max: MAX_PARITY_SHARDS }), (size, k, m) => {
      const l = fileLayout(size, k, m);
      assert.ok(l.pieceSize >= LEAF_SIZE && l.pieceSize <= MAX_PIECE_SIZE && (l.pieceSize & (l.pieceSize - 1)) === 0);
      // One segment unless the file does not fit in one of MAX_PIECE_SIZE pieces.
      if (size + 16 <= k * MAX_PIECE_SIZE) {
        assert.equal(l.segments, 1);
        assert.ok(k * l.pieceSize >= size + 16);
        if (l.pieceSize > LEAF_SIZE) assert.ok(k * (l.pieceSize / 2) < size + 16, 'a smaller piece would do');
      } else assert.equal(l.pieceSize, MAX_PIECE_SIZE);
      const last = segmentRange(l, l.segments - 1);
      assert.equal(last.end, size);
      assert.ok(last.end - last.start > 0 || size === 0);
      assert.equal(segmentRange(l, 0).start, 0);
      assert.equal(l.shardBytes, l.segments * l.pieceSize);
    }),
  );
});

test('layout: k and m bounds', () => {
  for (const [k, m] of [
    [0, 2],
    [-1, 2],
    [1.5, 2],
    [MAX_DATA_SHARDS + 1, 1],
    [4, -1],
    [4, MAX_PARITY_SHARDS + 1],
    [4, 0.5],
    [Number.NaN, 2],
  ] as const) {
    assert.throws(() => fileLayout(100, k, m), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_ERASURE_CODE', `${k}+${m}`);
  }
  assert.equal(fileLayout(100, 1, 0).n, 1);
  assert.equal(fileLayout(100, MAX_DATA_SHARDS, MAX_PARITY_SHARDS).n, 30);
  for (const size of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
    assert.throws(() => fileLayout(size, 4, 2), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_SIZE');
  }
});

const h = (c: string): string => c.repeat(64);
function manifest(): Manifest {
  return { version: 1, size: 20000, k: 4, m: 2, pieceSize: 8192, segments: 1, shardBytes: 8192, roots: ['0', '1', '2', '3', '4', '5'].map(h), key: h('a'), sha256: h('b'), name: 'notes.txt' };
}

test('manifest: format → parse round trip; hex is lower-cased; unknown fields are dropped', () => {
  const m = manifest();
  assert.deepEqual(parseManifest(formatManifest(m)), m);
  assert.deepEqual(parseManifest({ ...m }), m);
  assert.deepEqual(parseManifest({ ...m, key: h('A'), extra: 1 }), m);
  assert.deepEqual(Object.keys(JSON.parse(formatManifest(m))), ['version', 'size', 'k', 'm', 'pieceSize', 'segments', 'shardBytes', 'roots', 'key', 'sha256', 'name']);
});

test('manifest: each malformed field is named in an INVALID_MANIFEST error', () => {
  const m = manifest() as unknown as Record<string, unknown>;
  const cases: [unknown, RegExp][] = [
    ['{', /not JSON/],
    ['[]', /not a JSON object/],
    [null, /not a JSON object/],
    [{ ...m, version: 2 }, /version 2 is not supported/],
    [{ ...m, version: undefined }, /version undefined/],
    [{ ...m, size: -1 }, /size must be/],
    [{ ...m, size: '20000' }, /size must be/],
    [{ ...m, k: 0 }, /data shards \(k\)/],
    [{ ...m, m: 7 }, /parity shards \(m\)/],
    [{ ...m, pieceSize: 4096 }, /pieceSize is 4096 but a 20000-byte file under 4\+2 has 8192/],
    [{ ...m, segments: 2 }, /segments is 2/],
    [{ ...m, shardBytes: 1 }, /shardBytes is 1/],
    [{ ...m, roots: 'x' }, /roots must be an array/],
    [{ ...m, roots: (m.roots as string[]).slice(1) }, /roots has 5 entries, expected k \+ m = 6/],
    [{ ...m, roots: [...(m.roots as string[]).slice(1), 'zz'] }, /roots\[5\] must be 64 hex/],
    [{ ...m, key: h('a').slice(2) }, /key must be 64 hex/],
    [{ ...m, sha256: 5 }, /sha256 must be 64 hex/],
    [{ ...m, name: undefined }, /name must be a string/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parseManifest(input),
      (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_MANIFEST' && re.test(e.message),
      `${JSON.stringify(input)?.slice(0, 60)} → ${re}`,
    );
  }
});

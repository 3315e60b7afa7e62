import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { toHex } from '../core/bytes.js';
import { leafHash, LEAF_SIZE, MAX_PIECE_SIZE, pieceRoot, shardRoot } from '../core/shardtree.js';
import { ThreadPieceHasher } from './hashpool.js';
import { nativeKernelsProblem } from './kernels.js';
import { foldSubtree, jsPieceHash, leafHashesInto, nativePieceHash, pieceHashImplementation, pieceRootOf, pieceRootsInto, ShardRootBuilder } from './piecehash.js';

function slowRoot(piece: Uint8Array): Uint8Array {
  const leaves: Uint8Array[] = [];
  for (let o = 0; o < piece.length; o += LEAF_SIZE) leaves.push(leafHash(piece.subarray(o, o + LEAF_SIZE)));
  return pieceRoot(leaves);
}

test('piecehash: equals shardtree pieceRoot over leafHash for every piece size', () => {
  for (let size = LEAF_SIZE; size <= MAX_PIECE_SIZE; size *= 2) {
    const piece = randomBytes(size);
    assert.equal(toHex(pieceRootOf(piece)), toHex(slowRoot(piece)), `piece size ${size}`);
  }
  // Several pieces at an offset of a larger buffer, into an offset of the output.
  const buf = randomBytes(100 + 3 * 8192);
  const out = new Uint8Array(10 + 3 * 32);
  pieceRootsInto(buf, 100, 8192, 3, out, 10);
  for (let i = 0; i < 3; i++) assert.equal(toHex(out.subarray(10 + 32 * i, 42 + 32 * i)), toHex(slowRoot(buf.subarray(100 + 8192 * i, 100 + 8192 * (i + 1)))));
  assert.throws(() => pieceRootOf(new Uint8Array(5000)), RangeError);
  assert.throws(() => pieceRootsInto(buf, 100, 8192, 4, out, 0), RangeError);
});

test('piecehash: the native kernels are built and loaded on Linux (npm install builds them; GROUNDWORK_KERNELS=js turns them off)', () => {
  if (process.platform !== 'linux' || process.env.GROUNDWORK_KERNELS === 'js') return;
  assert.equal(pieceHashImplementation, 'native', `@groundwork/kernels did not load: ${nativeKernelsProblem}`);
});

test('piecehash: the native kernels give the same bytes as the JavaScript kernels, on any kind of Uint8Array', () => {
  const native = nativePieceHash;
  if (native === null) return;
  for (let size = LEAF_SIZE; size <= MAX_PIECE_SIZE; size *= 4) {
    const data = randomBytes(17 + 3 * size);
    const shared = new Uint8Array(new SharedArrayBuffer(data.length + 8), 8);
    shared.set(data);
    const plain = new Uint8Array(data);
    for (const src of [data, shared, plain]) {
      const a = new Uint8Array(5 + 3 * 32);
      const b = new Uint8Array(5 + 3 * 32);
      native.pieceRoots(src, 17, size, 3, a, 5);
      jsPieceHash.pieceRoots(src, 17, size, 3, b, 5);
      assert.deepEqual(a, b, `piece roots, piece size ${size}`);
      const leaves = (3 * size) / LEAF_SIZE;
      const la = new Uint8Array(leaves * 32);
      const lb = new Uint8Array(leaves * 32);
      native.leafHashes(src, 17, leaves, la, 0);
      jsPieceHash.leafHashes(src, 17, leaves, lb, 0);
      assert.deepEqual(la, lb, `leaf hashes, piece size ${size}`);
      assert.equal(toHex(la.subarray(32, 64)), toHex(leafHash(src.subarray(17 + LEAF_SIZE, 17 + 2 * LEAF_SIZE))));
      for (const count of [1, 2, 64, 256].filter((c) => c < leaves)) {
        const fa = new Uint8Array(la);
        const fb = new Uint8Array(la);
        native.foldSubtree(fa, 32, count);
        jsPieceHash.foldSubtree(fb, 32, count);
        assert.deepEqual(fa, fb, `fold of ${count}`);
      }
    }
  }
});

test('piecehash: the native kernels refuse calls that would read or write outside their arrays', () => {
  const native = nativePieceHash;
  if (native === null) return;
  const src = new Uint8Array(2 * 8192);
  const out = new Uint8Array(64);
  const range = { name: 'RangeError' };
  const type = { name: 'TypeError' };
  assert.throws(() => native.pieceRoots(src, 1, 8192, 2, out, 0), range);
  assert.throws(() => native.pieceRoots(src, 0, 8192, 2, out, 1), range);
  assert.throws(() => native.pieceRoots(src, 0, 8192, 1, out, 64), range);
  assert.throws(() => native.pieceRoots(src, 0, 6000, 1, out, 0), range);
  assert.throws(() => native.pieceRoots(src, 0, 2 * 1048576, 1, out, 0), range);
  assert.throws(() => native.pieceRoots(src, Number.MAX_SAFE_INTEGER, 8192, 1, out, 0), range);
  assert.throws(() => native.leafHashes(src, 0, 5, out, 0), range);
  assert.throws(() => native.leafHashes(src, 0, 3, out, 0), range);
  assert.throws(() => native.leafHashes(src, 0, 2 ** 52, out, 0), range);
  assert.throws(() => native.foldSubtree(out, 0, 3), range);
  assert.throws(() => native.foldSubtree(out, 32, 2), range);
  assert.throws(() => native.foldSubtree(out, 0, 0), range);
  assert.throws(() => native.leafHashes(src, -1, 1, out, 0), type);
  assert.throws(() => native.leafHashes(src, 0.5, 1, out, 0), type);
  assert.throws(() => native.leafHashes(src, Number.NaN, 1, out, 0), type);
  assert.throws(() => native.leafHashes(new Float64Array(2048) as unknown as Uint8Array, 0, 1, out, 0), type);
  assert.throws(() => native.leafHashes('x' as unknown as Uint8Array, 0, 1, out, 0), type);
  assert.throws(() => (native.leafHashes as (...a: unknown[]) => void)(src, 0, 1, out), type);
  // Zero work at the very end is allowed.
  native.pieceRoots(src, src.length, 8192, 0, out, 64);
  native.leafHashes(src, src.length, 0, out, 64);
});

test('piecehash: leafHashesInto and foldSubtree check their arguments whichever kernels run', () => {
  const src = randomBytes(3 * LEAF_SIZE);
  const out = new Uint8Array(3 * 32);
  leafHashesInto(src, 0, 3, out, 0);
  assert.equal(toHex(out.subarray(64)), toHex(leafHash(src.subarray(2 * LEAF_SIZE))));
  assert.throws(() => leafHashesInto(src, 1, 3, out, 0), RangeError);
  assert.throws(() => leafHashesInto(src, 0, 3, out, 1), RangeError);
  assert.throws(() => foldSubtree(out, 0, 3), RangeError);
  assert.throws(() => foldSubtree(out, 64, 2), RangeError);
  foldSubtree(out, 0, 2);
  assert.equal(toHex(out.subarray(0, 32)), toHex(pieceRoot([leafHash(src.subarray(0, LEAF_SIZE)), leafHash(src.subarray(LEAF_SIZE, 2 * LEAF_SIZE))])));
});

test('hashpool: threads give the roots the calling thread gives, also when it helps; plain memory is hashed inline', async () => {
  const pool = new ThreadPieceHasher(2);
  try {
    const P = 64 * 1024;
    const count = 40;
    const stripe = Buffer.from(new SharedArrayBuffer(count * P));
    randomBytes(count * P).copy(stripe);
    const expected = new Uint8Array(count * 32);
    pieceRootsInto(stripe, 0, P, count, expected, 0);
    for (let round = 0; round < 3; round++) {
      const out = new Uint8Array(count * 32);
      const done = pool.roots(stripe, 0, P, count, out, 0);
      if (round > 0) while (pool.helpOne());
      await done;
      assert.deepEqual(out, expected, `round ${round}`);
    }
    const plain = randomBytes(2 * P);
    const out = new Uint8Array(64);
    await pool.roots(plain, 0, P, 2, out, 0);
    assert.equal(toHex(out.subarray(32)), toHex(slowRoot(plain.subarray(P))));
    assert.equal(pool.helpOne(), false);
    pool.release(stripe);
    await assert.rejects(pool.roots(stripe, P, P, count, out, 0), RangeError);
  } finally {
    await pool.close();
  }
});

test('ShardRootBuilder: equals shardtree shardRoot for every count up to 100', () => {
  const hashes = Array.from({ length: 100 }, () => randomBytes(32));
  const b = new ShardRootBuilder();
  assert.equal(toHex(b.root()), toHex(shardRoot([])));
  for (let i = 0; i < hashes.length; i++) {
    b.push(hashes[i]!);
    assert.equal(b.size, i + 1);
    assert.equal(toHex(b.root()), toHex(shardRoot(hashes.slice(0, i + 1))), `count ${i + 1}`);
  }
});

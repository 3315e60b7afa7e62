import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { toHex } from '../core/bytes.js';
import { leafHash, LEAF_SIZE, MAX_PIECE_SIZE, pieceRoot, shardRoot } from '../core/shardtree.js';
import { ThreadPieceHasher } from './hashpool.js';
import { pieceRootOf, pieceRootsInto, ShardRootBuilder } from './piecehash.js';

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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { fromHex, toHex } from '../core/bytes.js';
import { merkleRoot } from '../core/merkle.js';
import { leafHash, leafProof, LEAF_SIZE, pieceRoot, verifyLeaf } from '../core/shardtree.js';
import { encodeFile, writeShards, type ShardSink } from './encode.js';
import { erasureCoder } from './erasure.js';
import { StorageError } from './errors.js';
import { ThreadPieceHasher } from './hashpool.js';
import { fileLayout, parseManifest } from './layout.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => i);
const pattern = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);

/** A sink keeping every piece: pieces[j][s]. */
function memory(): { sink: ShardSink; pieces: Uint8Array[][]; shard(j: number): Uint8Array } {
  const pieces: Uint8Array[][] = [];
  return {
    pieces,
    sink: {
      async write(j, piece) {
        (pieces[j] ??= []).push(Uint8Array.from(piece));
      },
    },
    shard: (j) => Buffer.concat(pieces[j] ?? []),
  };
}

/** Each piece's SHA-256 (a failed comparison of MiB arrays would print megabytes). */
const digests = (pieces: Uint8Array[][]): string[][] => pieces.map((ps) => ps.map((p) => createHash('sha256').update(p).digest('hex')));

function leafHashes(shard: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < shard.length; o += LEAF_SIZE) out.push(leafHash(shard.subarray(o, o + LEAF_SIZE)));
  return out;
}

// Data shard roots and file hashes computed independently (Python: hashlib + cryptography's
// AESGCM, following the contract's layout); parity roots are this implementation's (their bytes
// are the erasure library's code), kept to catch any change of the format.
const VECTORS = [
  {
    size: 0,
    k: 4,
    m: 2,
    data: ['4994ee878911e3c65dc104f9d4de9e788e93c277dcb1ebc3a058de2b8400b0f4', 'b587fa297299ce9c602e58292b51379402bf7b1074f6b18679c2fb871c917ca8', 'b587fa297299ce9c602e58292b51379402bf7b1074f6b18679c2fb871c917ca8', 'b587fa297299ce9c602e58292b51379402bf7b1074f6b18679c2fb871c917ca8'],
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    size: 20000,
    k: 4,
    m: 2,
    data: ['f62f21d02f1c78581478641a91adebf6f84e4440e2928ee24832c89c4cc4f688', '0037f5cb09e90ee8d2bb5d82d184b5c616362a369cb665df5b646459f0868782', '6e0d2ffbe387cbed233acde41a8fb6b7c6f2b67852ef3e01f0cc97a2e6543174', '6857d6ed1e7ef7bfc1864855457cbdecc062238080bde025ee047d1751b3b317'],
    sha256: 'ebddb17d90ee6f7f5e8e60a9569be22b2baeafd8304bd6164aeff12a6a4e2bb4',
  },
  {
    size: 3_000_000,
    k: 2,
    m: 1,
    data: ['855e465bed4f893ac7d34657f3ac4b5aa2eede4ab90bca94059a651109ae92a5', 'c35ffc897d6859381a56abeb84939ed4b8376c2d2ddaeb66bba81648270faa52'],
    sha256: '0a5d49e5dd9cc7aa647824dc6f29fbbbffe477e210f5668eed4420c51c381521',
  },
];

test('encode: data shard roots and the file hash match independently computed vectors', async () => {
  for (const v of VECTORS) {
    const man = await encodeFile(pattern(v.size), v.size, { k: v.k, m: v.m, key, name: 'v' });
    assert.deepEqual(man.roots.slice(0, v.k), v.data, `size ${v.size}`);
    assert.equal(man.sha256, v.sha256);
    assert.equal(man.key, toHex(key));
    const l = fileLayout(v.size, v.k, v.m);
    assert.deepEqual([man.pieceSize, man.segments, man.shardBytes], [l.pieceSize, l.segments, l.shardBytes]);
    assert.deepEqual(parseManifest(man), man);
  }
});

test('encode: every shard is segments × pieceSize bytes; its root is merkleRoot over all its leaf hashes; every leaf proves', async () => {
  // 3 segments of 1 MiB pieces under 1+1 (and the inline and threaded hashers agree).
  const size = 2 * (1 << 20) + 12345;
  const data = randomBytes(size);
  const a = memory();
  const man = await encodeFile(data, size, { k: 1, m: 1, key, hasher: 'inline' }, a.sink);
  const pool = new ThreadPieceHasher(1);
  try {
    const b = memory();
    assert.deepEqual(await encodeFile(data, size, { k: 1, m: 1, key, hasher: pool, depth: 2 }, b.sink), man);
    assert.deepEqual(digests(b.pieces), digests(a.pieces));
  } finally {
    await pool.close();
  }
  assert.equal(man.segments, 3);
  for (let j = 0; j < 2; j++) {
    const shard = a.shard(j);
    assert.equal(shard.length, man.shardBytes);
    assert.equal(toHex(merkleRoot(leafHashes(shard))), man.roots[j]);
  }
  // A small shard: every leaf's proof verifies, at its own index only.
  const small = memory();
  const sm = await encodeFile(randomBytes(30000), 30000, { key }, small.sink);
  assert.equal(sm.pieceSize, 8192);
  const shard = small.shard(5);
  const leaves = leafHashes(shard);
  const perPiece = sm.pieceSize / LEAF_SIZE;
  const pieceRoots = Array.from({ length: sm.segments }, (_, s) => pieceRoot(leaves.slice(s * perPiece, (s + 1) * perPiece)));
  const root = fromHex(sm.roots[5]!);
  for (let i = 0; i < leaves.length; i++) {
    const proof = leafProof(leaves.slice(Math.floor(i / perPiece) * perPiece, (Math.floor(i / perPiece) + 1) * perPiece), pieceRoots, i);
    const leaf = shard.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE);
    assert.ok(verifyLeaf(leaf, i, leaves.length, proof, root), `leaf ${i}`);
    if (leaves.length > 1) assert.equal(verifyLeaf(leaf, (i + 1) % leaves.length, leaves.length, proof, root), false);
  }
});

test('encode: the same key gives the same shards whatever the chunking; writeShards writes them without hashing', async () => {
  const size = 5 * (1 << 20) + 3;
  const data = randomBytes(size);
  const whole = memory();
  const man = await encodeFile(data, size, { key }, whole.sink);
  const chunked = memory();
  const chunks = (async function* () {
    for (let o = 0; o < size; o += 65521) yield data.subarray(o, o + 65521);
  })();
  assert.deepEqual(await encodeFile(chunks, size, { key }, chunked.sink), man);
  assert.deepEqual(digests(chunked.pieces), digests(whole.pieces));
  const again = memory();
  await writeShards(Readable.from([data.subarray(0, 100), data.subarray(100)]), man, again.sink);
  assert.deepEqual(digests(again.pieces), digests(whole.pieces));
  // Without a key, a fresh one each time.
  const k1 = (await encodeFile(data.subarray(0, 10), 10)).key;
  assert.notEqual(k1, (await encodeFile(data.subarray(0, 10), 10)).key);
});

test('encode: writes each shard in order, one piece at a time, never more than depth stripes ahead; progress reaches the size', async () => {
  const size = 6 * (4 * (1 << 20) - 16);
  const data = randomBytes(size);
  const next = new Array<number>(6).fill(0);
  let busy = 0;
  let maxBusy = 0;
  const progress: number[] = [];
  const sink: ShardSink = {
    async write(j, piece) {
      assert.equal(piece.length, 1 << 20);
      busy++;
      maxBusy = Math.max(maxBusy, busy);
      await new Promise((r) => setTimeout(r, j === 5 ? 3 : 0)); // a slow shard
      next[j]!++;
      busy--;
    },
  };
  const seen: number[][] = Array.from({ length: 6 }, () => []);
  const checking: ShardSink = {
    async write(j, piece) {
      seen[j]!.push(next[j]!);
      await sink.write(j, piece);
    },
  };
  await encodeFile(data, size, { key, depth: 2, onProgress: (b) => progress.push(b) }, checking);
  for (const s of seen) assert.deepEqual(s, [0, 1, 2, 3, 4, 5]); // each write starts after the previous one of its shard ended
  assert.ok(maxBusy <= 6, `at most one write per shard at a time (${maxBusy})`);
  assert.equal(progress.at(-1), size);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
});

test('encode: a shard\'s pieces are written in segment order even when parity finishes out of order', async () => {
  // The first stripe's parity is held back until later stripes' parity is done (a regression:
  // parity writes were queued when their parity was ready, which swapped pieces of a shard).
  const size = 4 * (3 * (1 << 20) - 16);
  const data = randomBytes(size);
  const reference = memory();
  await encodeFile(data, size, { k: 3, m: 2, key, depth: 1 }, reference.sink);
  const coder = erasureCoder(3, 2);
  const encode = coder.encode;
  let calls = 0;
  coder.encode = async (stripe, pieceSize) => {
    if (calls++ === 0) await new Promise((r) => setTimeout(r, 30));
    return encode(stripe, pieceSize);
  };
  try {
    const got = memory();
    await encodeFile(data, size, { k: 3, m: 2, key, depth: 4 }, got.sink);
    assert.equal(calls, 4);
    assert.deepEqual(digests(got.pieces), digests(reference.pieces));
  } finally {
    coder.encode = encode;
  }
});

test('encode: input shorter or longer than announced is SIZE_MISMATCH; a sink failure stops the encode', async () => {
  const isSize = (re: RegExp) => (e: unknown) => e instanceof StorageError && e.code === 'SIZE_MISMATCH' && re.test(e.message);
  await assert.rejects(encodeFile(pattern(99), 100), isSize(/ended after 99 of the 100 bytes/));
  await assert.rejects(encodeFile(pattern(101), 100), isSize(/more than the 100 bytes/));
  await assert.rejects(encodeFile(pattern(1), 0), isSize(/more than the 0 bytes/));
  await assert.rejects(encodeFile(new Uint8Array(0), 5 << 20), isSize(/ended after 0/));
  let writes = 0;
  const failing: ShardSink = {
    async write(j) {
      writes++;
      if (j === 2) throw new Error('provider gone');
    },
  };
  const big = 12 << 20;
  await assert.rejects(encodeFile(randomBytes(big), big, { depth: 1 }, failing), /provider gone/);
  assert.ok(writes <= 6, `stopped after the failing stripe (${writes} writes)`);
  const ac = new AbortController();
  ac.abort(new Error('cancelled'));
  await assert.rejects(encodeFile(pattern(10), 10, { signal: ac.signal }), /cancelled/);
});

/**
 * The shard store on real files in a temp directory: uploads stream to disk and are kept only
 * when their size and root match; capacity holds with uploads in flight; a restart keeps the
 * shards and drops leftovers; pieces and leaves come back with proofs that verify; GC deletes
 * after the grace period and frees the capacity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { alignedBuffer } from '../../core/directio.js';
import { equals, toHex, type Bytes } from '../../core/bytes.js';
import { LEAF_SIZE, leafHash, pieceRoot, shardRoot, verifyLeaf, verifyPiece } from '../../core/shardtree.js';
import { tempDir } from '../../testkit/index.js';
import { ShardStore, ShardStoreError } from './store.js';

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function bytesOf(n: number, seed: string): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0, i = 0; o < n; o += 32, i++) out.set(createHash('sha256').update(`${seed}/${i}`).digest().subarray(0, Math.min(32, n - o)), o);
  return out;
}

/** A shard of `pieces` pieces of `pieceSize` bytes and its root, by core/shardtree directly. */
function makeShard(pieceSize: number, pieces: number, seed = 'shard'): { data: Uint8Array; root: Bytes; pieceRoots: Bytes[] } {
  const data = bytesOf(pieceSize * pieces, seed);
  const pieceRoots: Bytes[] = [];
  for (let p = 0; p < pieces; p++) {
    const hashes: Bytes[] = [];
    for (let o = p * pieceSize; o < (p + 1) * pieceSize; o += LEAF_SIZE) hashes.push(leafHash(data.subarray(o, o + LEAF_SIZE)));
    pieceRoots.push(pieceRoot(hashes));
  }
  return { data, root: shardRoot(pieceRoots), pieceRoots };
}

/** Feeds `data` in chunks of odd sizes (leaves straddle chunk boundaries). */
async function feed(u: { write(c: Uint8Array): Promise<void> }, data: Uint8Array, chunk = 5000): Promise<void> {
  for (let o = 0; o < data.length; o += chunk) await u.write(data.subarray(o, Math.min(o + chunk, data.length)));
}

const tmpEntries = (dir: string) => readdirSync(join(dir, 'tmp'));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ShardStoreError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test('store: an upload streamed in odd chunks is stored under its root, with data, leaves and meta.json', async () => {
  const d = tempDir('gw-store-');
  try {
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true, now: () => 1234 });
    const sh = makeShard(8192, 5);
    const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: 8192, lease: '7' });
    assert.equal(s.reservedBytes, sh.data.length);
    await feed(u, sh.data, 3001);
    const meta = await u.commit();
    assert.deepEqual(meta, { root: toHex(sh.root), bytes: 40960, pieceSize: 8192, leases: ['7'], createdAt: 1234 });
    assert.equal(s.usedBytes, 40960);
    assert.equal(s.reservedBytes, 0);
    const dir = join(d.path, 'shards', toHex(sh.root));
    assert.deepEqual(readdirSync(dir).sort(), ['data', 'leaves', 'meta.json']);
    assert.ok(equals(readFileSync(join(dir, 'data')), sh.data));
    const leaves = readFileSync(join(dir, 'leaves'));
    assert.equal(leaves.length, (40960 / LEAF_SIZE) * 32);
    assert.ok(equals(leaves.subarray(32, 64), leafHash(sh.data.subarray(LEAF_SIZE, 2 * LEAF_SIZE))));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')), meta);
    assert.deepEqual(tmpEntries(d.path), []);
  } finally {
    d.cleanup();
  }
});

for (const buffered of [false, true]) {
  test(`store (${buffered ? 'buffered' : 'direct'} I/O): a multi-MiB upload is stored byte for byte (batches written at their own offsets while the next is hashed); ranges read back`, async () => {
    const d = tempDir('gw-store-');
    try {
      // With fsync: the data is synced in the background as it arrives (every 32 MiB) and at commit.
      const s = await ShardStore.open({ dir: d.path, capacityBytes: 64 << 20, buffered });
      assert.equal(s.direct, !buffered);
      for (const [pieceSize, pieces, chunk] of [
        [1 << 20, 40, 65_536],
        [4096, 3000, 777_777],
      ] as const) {
        const sh = makeShard(pieceSize, pieces, `big-${pieceSize}`);
        const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize, lease: String(pieceSize) });
        await feed(u, sh.data, chunk);
        await u.commit();
        const onDisk = readFileSync(join(d.path, 'shards', toHex(sh.root), 'data'));
        assert.ok(onDisk.equals(sh.data), `piece size ${pieceSize}: the data file is the upload, in order`);
        const leaves = readFileSync(join(d.path, 'shards', toHex(sh.root), 'leaves'));
        assert.ok(leaves.equals(Buffer.concat(Array.from({ length: sh.data.length / LEAF_SIZE }, (_, i) => leafHash(sh.data.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE))))));
        const r = await s.readRange(sh.root, 12_345, 3 << 20);
        assert.equal(r.total, sh.data.length);
        assert.ok(r.data.equals(sh.data.subarray(12_345, 12_345 + (3 << 20))));
        // Into an aligned buffer at whole blocks (read direct), and the last block of the shard.
        const into = alignedBuffer(4 << 20);
        for (const [start, length] of [
          [pieceSize, 2 << 20],
          [sh.data.length - 4096, 4096],
          [4096, 5000], // not whole blocks: read through the page cache
        ] as const) {
          const a = await s.readRange(sh.root, start, length, into);
          assert.ok(a.data.equals(sh.data.subarray(start, start + length)), `range ${start}+${length}`);
        }
        await rejectsWith(s.readRange(sh.root, sh.data.length - 10, 11), 'RANGE_NOT_SATISFIABLE');
        await rejectsWith(s.readRange(sh.root, 0, 0), 'RANGE_NOT_SATISFIABLE');
      }
      await rejectsWith(s.readRange(new Uint8Array(32), 0, 1), 'SHARD_NOT_FOUND');
    } finally {
      d.cleanup();
    }
  });
}

test('store: pieces and leaves come back with proofs that verify against the root', async () => {
  const d = tempDir('gw-store-');
  try {
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true });
    const sh = makeShard(4 * LEAF_SIZE, 7, 'proofs'); // 7 pieces: a promoted node in the piece tree
    const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: 4 * LEAF_SIZE, lease: '1' });
    await feed(u, sh.data);
    await u.commit();
    // The same leaves in other pieces have the same root: refused, since pieces are served as stored.
    await assert.rejects(s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '2' }), /stored with 16384-byte pieces, not 4096/);
    // A second store on the same dir has no cached piece roots: they come from the leaves file.
    for (const store of [s, await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true })]) {
      for (let i = 0; i < 7; i++) {
        const p = await store.readPiece(sh.root, i);
        assert.equal(p.pieces, 7);
        assert.ok(equals(p.data, sh.data.subarray(i * 4 * LEAF_SIZE, (i + 1) * 4 * LEAF_SIZE)));
        assert.ok(verifyPiece(sh.pieceRoots[i] as Bytes, i, 7, p.proof, sh.root));
      }
      for (const leaf of [0, 1, 5, 13, 27]) {
        const l = await store.proveLeaf(toHex(sh.root), leaf);
        assert.equal(l.leafCount, 28);
        assert.ok(verifyLeaf(l.data, leaf, 28, l.proof, sh.root), `leaf ${leaf}`);
        assert.ok(!verifyLeaf(l.data, (leaf + 1) % 28, 28, l.proof, sh.root));
      }
      await rejectsWith(store.readPiece(sh.root, 7), 'PIECE_NOT_FOUND');
      await rejectsWith(store.proveLeaf(sh.root, 28), 'LEAF_NOT_FOUND');
      await rejectsWith(store.readPiece(new Uint8Array(32), 0), 'SHARD_NOT_FOUND');
    }
  } finally {
    d.cleanup();
  }
});

test('store: a wrong root, a short or a long body, or a bad size keeps nothing and releases the reservation', async () => {
  const d = tempDir('gw-store-');
  try {
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true });
    const sh = makeShard(LEAF_SIZE, 4);
    const other = makeShard(LEAF_SIZE, 4, 'other');

    let u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    await feed(u, other.data);
    await rejectsWith(u.commit(), 'ROOT_MISMATCH');

    u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    await feed(u, sh.data.subarray(0, 3 * LEAF_SIZE));
    await rejectsWith(u.commit(), 'SIZE_MISMATCH');

    u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    await feed(u, sh.data);
    await rejectsWith(u.write(new Uint8Array(1)), 'SIZE_MISMATCH');
    await u.abort();
    await u.abort(); // twice is fine

    await rejectsWith(s.beginUpload({ root: sh.root, bytes: 5000, pieceSize: LEAF_SIZE, lease: '1' }), 'INVALID_SIZE');
    await rejectsWith(s.beginUpload({ root: sh.root, bytes: 8192, pieceSize: 6000, lease: '1' }), 'INVALID_SIZE');
    await rejectsWith(s.beginUpload({ root: sh.root, bytes: 0, pieceSize: LEAF_SIZE, lease: '1' }), 'INVALID_SIZE');

    assert.equal(s.shardCount, 0);
    assert.equal(s.usedBytes, 0);
    assert.equal(s.reservedBytes, 0);
    assert.deepEqual(tmpEntries(d.path), []);
    assert.deepEqual(readdirSync(join(d.path, 'shards')), []);
  } finally {
    d.cleanup();
  }
});

test('store: uploads in flight reserve capacity, so two cannot overfill; an abandoned one gives it back', async () => {
  const d = tempDir('gw-store-');
  try {
    const a = makeShard(LEAF_SIZE, 3, 'a');
    const b = makeShard(LEAF_SIZE, 3, 'b');
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 5 * LEAF_SIZE, noSync: true });
    const ua = await s.beginUpload({ root: a.root, bytes: a.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    // Nothing of a is written yet, but its 3 leaves are promised: b's 3 do not fit in the 2 left.
    await rejectsWith(s.beginUpload({ root: b.root, bytes: b.data.length, pieceSize: LEAF_SIZE, lease: '2' }), 'INSUFFICIENT_CAPACITY');
    assert.equal(s.freeBytes, 2 * LEAF_SIZE);
    await ua.abort();
    assert.equal(s.freeBytes, 5 * LEAF_SIZE);
    const ub = await s.beginUpload({ root: b.root, bytes: b.data.length, pieceSize: LEAF_SIZE, lease: '2' });
    await feed(ub, b.data);
    await ub.commit();
    await rejectsWith(s.beginUpload({ root: a.root, bytes: a.data.length, pieceSize: LEAF_SIZE, lease: '1' }), 'INSUFFICIENT_CAPACITY');
    assert.equal(s.usedBytes, 3 * LEAF_SIZE);
    assert.equal(s.reservedBytes, 0);
  } finally {
    d.cleanup();
  }
});

test('store: the same root for a second lease is verified, written once, and gains the lease', async () => {
  const d = tempDir('gw-store-');
  try {
    const sh = makeShard(LEAF_SIZE, 3);
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 3 * LEAF_SIZE, noSync: true });
    const u1 = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    await feed(u1, sh.data);
    await u1.commit();
    // The store is full, but a root it holds needs no room.
    const u2 = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '2' });
    assert.ok(u2.duplicate);
    await feed(u2, sh.data);
    assert.deepEqual((await u2.commit()).leases, ['1', '2']);
    // A duplicate must still hash to the root.
    const u3 = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '3' });
    await feed(u3, makeShard(LEAF_SIZE, 3, 'x').data);
    await rejectsWith(u3.commit(), 'ROOT_MISMATCH');
    assert.deepEqual(s.get(sh.root)?.leases, ['1', '2']);
    assert.equal(s.usedBytes, 3 * LEAF_SIZE);
    const again = await ShardStore.open({ dir: d.path, capacityBytes: 3 * LEAF_SIZE, noSync: true });
    assert.deepEqual(again.get(sh.root)?.leases, ['1', '2']);
  } finally {
    d.cleanup();
  }
});

test('store: a restart keeps the shards and drops leftover temp directories; broken shard directories are reported, not used', async () => {
  const d = tempDir('gw-store-');
  try {
    const sh = makeShard(2 * LEAF_SIZE, 4);
    const s1 = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20 });
    const u = await s1.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: 2 * LEAF_SIZE, lease: '9' });
    await feed(u, sh.data);
    await u.commit();
    // A crash mid-upload: half an upload left in tmp/.
    const pending = await s1.beginUpload({ root: makeShard(LEAF_SIZE, 2, 'p').root, bytes: 2 * LEAF_SIZE, pieceSize: LEAF_SIZE, lease: '3' });
    await pending.write(new Uint8Array(100));
    assert.equal(tmpEntries(d.path).length, 1);
    mkdirSync(join(d.path, 'shards', 'ab'.repeat(32)));
    writeFileSync(join(d.path, 'shards', 'ab'.repeat(32), 'meta.json'), '{"root": "nope"}');
    mkdirSync(join(d.path, 'shards', 'not-a-root'));

    const s2 = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20 });
    assert.deepEqual(tmpEntries(d.path), []);
    assert.equal(s2.shardCount, 1);
    assert.equal(s2.usedBytes, sh.data.length);
    assert.equal(s2.reservedBytes, 0);
    assert.deepEqual(s2.get(sh.root)?.leases, ['9']);
    assert.deepEqual(
      s2.problems.map((p) => p.path.split('/').pop()),
      ['ab'.repeat(32), 'not-a-root'],
    );
    const p = await s2.readPiece(sh.root, 3);
    assert.ok(equals(p.data, sh.data.subarray(3 * 2 * LEAF_SIZE)));
    await pending.abort();
  } finally {
    d.cleanup();
  }
});

test('store: a damaged copy is reported as SHARD_CORRUPT when a leaf is proven, never served as good', async () => {
  const d = tempDir('gw-store-');
  try {
    const sh = makeShard(LEAF_SIZE, 4);
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true });
    const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease: '1' });
    await feed(u, sh.data);
    await u.commit();
    const file = join(d.path, 'shards', toHex(sh.root), 'data');
    const bytes = readFileSync(file);
    bytes[2 * LEAF_SIZE + 17]! ^= 1;
    writeFileSync(file, bytes);
    await rejectsWith(s.proveLeaf(sh.root, 2), 'SHARD_CORRUPT');
    assert.ok(verifyLeaf((await s.proveLeaf(sh.root, 1)).data, 1, 4, (await s.proveLeaf(sh.root, 1)).proof, sh.root));
  } finally {
    d.cleanup();
  }
});

test('store: GC deletes a shard once none of its leases has been active for the grace period, and frees its capacity', async () => {
  const d = tempDir('gw-store-');
  try {
    const a = makeShard(LEAF_SIZE, 2, 'a');
    const b = makeShard(LEAF_SIZE, 2, 'b');
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 4 * LEAF_SIZE, noSync: true });
    for (const [sh, lease] of [
      [a, '1'],
      [b, '2'],
    ] as const) {
      const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: LEAF_SIZE, lease });
      await feed(u, sh.data);
      await u.commit();
    }
    await s.addLease(b.root, '3');
    const active = new Set(['1', '3']);
    const isActive = (l: string) => active.has(l);

    // b is kept while lease 3 is active.
    assert.deepEqual(await s.gc({ isActive, graceMs: 1000, now: 10_000 }), { deleted: [], freedBytes: 0, waiting: 0 });
    active.delete('3');
    assert.deepEqual(await s.gc({ isActive, graceMs: 1000, now: 20_000 }), { deleted: [], freedBytes: 0, waiting: 1 });
    assert.deepEqual(await s.gc({ isActive, graceMs: 1000, now: 20_999 }), { deleted: [], freedBytes: 0, waiting: 1 });
    // A lease of b active again (a new lease stored it too) clears the mark; the grace period restarts.
    active.add('2');
    await s.gc({ isActive, graceMs: 1000, now: 21_000 });
    active.delete('2');
    assert.equal((await s.gc({ isActive, graceMs: 1000, now: 21_500 })).waiting, 1);
    assert.equal((await s.gc({ isActive, graceMs: 1000, now: 22_000 })).deleted.length, 0);
    const r = await s.gc({ isActive, graceMs: 1000, now: 22_500 });
    assert.deepEqual(r, { deleted: [toHex(b.root)], freedBytes: 2 * LEAF_SIZE, waiting: 0 });
    assert.equal(existsSync(join(d.path, 'shards', toHex(b.root))), false);
    assert.deepEqual(tmpEntries(d.path), []);
    assert.equal(s.usedBytes, 2 * LEAF_SIZE);
    assert.ok(s.has(a.root));
    await rejectsWith(s.readPiece(b.root, 0), 'SHARD_NOT_FOUND');
    // The freed room takes a new shard.
    const c = makeShard(LEAF_SIZE, 2, 'c');
    const u = await s.beginUpload({ root: c.root, bytes: c.data.length, pieceSize: LEAF_SIZE, lease: '4' });
    await feed(u, c.data);
    await u.commit();
    assert.equal(s.usedBytes, 4 * LEAF_SIZE);
    // Grace 0: deleted on first sight.
    assert.deepEqual((await s.gc({ isActive: () => false, graceMs: 0, now: 30_000 })).deleted.sort(), [toHex(a.root), toHex(c.root)].sort());
    assert.equal(s.usedBytes, 0);
  } finally {
    d.cleanup();
  }
});

test('store: GC forgets a shard whose directory was already deleted by hand, and goes on to the next', async () => {
  const d = tempDir('gw-store-');
  try {
    const s = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true });
    const a = makeShard(8192, 2, 'gone');
    const b = makeShard(8192, 2, 'kept-then-collected');
    for (const [sh, lease] of [[a, '1'], [b, '2']] as const) {
      const u = await s.beginUpload({ root: sh.root, bytes: sh.data.length, pieceSize: 8192, lease });
      await feed(u, sh.data);
      await u.commit();
    }
    rmSync(join(d.path, 'shards', toHex(a.root)), { recursive: true, force: true });
    const r = await s.gc({ isActive: () => false, graceMs: 0 });
    assert.deepEqual(new Set(r.deleted), new Set([toHex(a.root), toHex(b.root)]));
    assert.equal(s.usedBytes, 0);
    assert.equal(s.shardCount, 0);
  } finally {
    d.cleanup();
  }
});

/**
 * The prover against a real shard store on disk and a fake chain: it answers what is due with
 * leaves that verify, splits answers over txs by size, never sends an answer it cannot prove
 * (a missing or damaged shard), and reports a provider that cannot be reached as `refused`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toHex, type Bytes } from '../core/bytes.js';
import { createLogger } from '../core/log.js';
import { LEAF_SIZE, leafHash, pieceRoot, shardRoot, verifyLeaf } from '../core/shardtree.js';
import type { DecodedMsg } from '../chain/tx.js';
import type { StorageChallenge } from '../client/storageViews.js';
import { tempDir } from '../testkit/index.js';
import { StorageProver } from './prover.js';
import { ShardStore } from './storage/store.js';

function bytesOf(n: number, seed: string): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0, i = 0; o < n; o += 32, i++) out.set(createHash('sha256').update(`${seed}/${i}`).digest().subarray(0, Math.min(32, n - o)), o);
  return out;
}

async function putShard(store: ShardStore, seed: string, lease: string, pieces = 4): Promise<{ root: Bytes; leafCount: number }> {
  const data = bytesOf(LEAF_SIZE * pieces, seed);
  const roots: Bytes[] = [];
  for (let p = 0; p < pieces; p++) roots.push(pieceRoot([leafHash(data.subarray(p * LEAF_SIZE, (p + 1) * LEAF_SIZE))]));
  const root = shardRoot(roots);
  const u = await store.beginUpload({ root, bytes: data.length, pieceSize: LEAF_SIZE, lease });
  await u.write(data);
  await u.commit();
  return { root, leafCount: pieces };
}

function setup(challenges: StorageChallenge[], opts: { maxTxBytes?: number; checks?: { provider: string }[] } = {}) {
  const sent: DecodedMsg[][] = [];
  const lines: string[] = [];
  return {
    sent,
    lines,
    prover: (store: ShardStore) =>
      new StorageProver({
        address: 'gw1me',
        store,
        log: createLogger({ json: true, write: (l) => lines.push(l) }),
        ...(opts.maxTxBytes !== undefined ? { maxTxBytes: opts.maxTxBytes } : {}),
        retrievalTimeoutMs: 2_000,
        chain: {
          chainId: async () => 'test-chain',
          challenges: async () => ({ period: 7n, deadline: 80n, leavesPerChallenge: 2, challenges }),
          retrievals: async () => ({
            period: 7n,
            checks: (opts.checks ?? []).map((c) => ({ order: 9n, shard: 0, leaf: 0, leafCount: 4, root: new Uint8Array(32), provider: c.provider, nonce: new Uint8Array(32) })),
          }),
          hostOf: async () => 'http://127.0.0.1:9',
          send: async (msgs) => {
            sent.push(msgs);
            return { hash: 'AB', height: 1n, events: [] };
          },
        },
      }),
  };
}

test('prover: answers every due challenge with leaves that verify, in txs that fit the size limit', async () => {
  const d = tempDir('gw-prover-');
  try {
    const store = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 24, noSync: true });
    const shards = [await putShard(store, 'a', '1'), await putShard(store, 'b', '2'), await putShard(store, 'c', '3')];
    const challenges = shards.map((s, i) => ({ order: BigInt(i + 1), shard: i, root: s.root, leafCount: s.leafCount, leaves: [i % 4, (i + 1) % 4] }));
    // Room for about one answer (two 4 KiB leaves) per tx.
    const t = setup(challenges, { maxTxBytes: 10_000 });
    await t.prover(store).tick();
    assert.equal(t.sent.length, 3, 'three txs: the answers do not fit in one');
    for (const [k, msgs] of t.sent.entries()) {
      const m = msgs[0] as { type: string; value: { period: bigint; proofs: { order: bigint; shard: number; leaves: { data: Uint8Array; path: Uint8Array[] }[] }[] } };
      assert.equal(m.type, 'storage/prove');
      assert.equal(m.value.period, 7n);
      for (const p of m.value.proofs) {
        const c = challenges[p.shard] as StorageChallenge;
        assert.equal(p.order, c.order);
        p.leaves.forEach((l, i) => assert.ok(verifyLeaf(l.data, c.leaves[i] as number, c.leafCount, l.path, c.root), `tx ${k} leaf ${i}`));
      }
    }
    // A generous limit: one tx.
    const one = setup(challenges);
    await one.prover(store).tick();
    assert.equal(one.sent.length, 1);
  } finally {
    d.cleanup();
  }
});

test('prover: a deleted or damaged shard is never answered (a miss, not a forged proof), and not retried in the period', async () => {
  const d = tempDir('gw-prover-');
  try {
    const store = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 24, noSync: true });
    const good = await putShard(store, 'good', '1');
    const gone = await putShard(store, 'gone', '2');
    const bad = await putShard(store, 'bad', '3');
    rmSync(join(d.path, 'shards', toHex(gone.root)), { recursive: true, force: true });
    // Damage the data file of `bad` (the leaves file still says what it should be).
    writeFileSync(join(d.path, 'shards', toHex(bad.root), 'data'), bytesOf(LEAF_SIZE * 4, 'other'));
    const store2 = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 24, noSync: true });
    const t = setup([
      { order: 1n, shard: 0, root: good.root, leafCount: 4, leaves: [0, 3] },
      { order: 2n, shard: 0, root: gone.root, leafCount: 4, leaves: [1, 2] },
      { order: 3n, shard: 0, root: bad.root, leafCount: 4, leaves: [1, 2] },
    ]);
    const prover = t.prover(store2);
    await prover.tick();
    assert.equal(t.sent.length, 1);
    const proofs = (t.sent[0]?.[0] as { value: { proofs: { order: bigint }[] } }).value.proofs;
    assert.deepEqual(
      proofs.map((p) => p.order),
      [1n],
      'only the shard it can prove',
    );
    const unavailable = t.lines.filter((l) => l.includes('proof-unavailable'));
    assert.equal(unavailable.length, 2, t.lines.join('\n'));
    await prover.tick();
    assert.equal(t.lines.filter((l) => l.includes('proof-unavailable')).length, 2, 'not retried within the period');
    assert.ok(readdirSync(join(d.path, 'shards')).length >= 1);
  } finally {
    d.cleanup();
  }
});

test('prover: a checked provider that cannot be reached is reported as refused', async () => {
  const d = tempDir('gw-prover-');
  try {
    const store = await ShardStore.open({ dir: d.path, capacityBytes: 1 << 20, noSync: true });
    const t = setup([], { checks: [{ provider: 'gw1other' }, { provider: 'gw1me' }] });
    await t.prover(store).tick();
    assert.equal(t.sent.length, 1, 'one report; never a check of itself');
    const m = t.sent[0]?.[0] as { type: string; value: { order: bigint; result: { type: string; value: unknown } } };
    assert.equal(m.type, 'storage/retrieval-report');
    assert.deepEqual(m.value.result, { type: 'failed', value: 'refused' });
  } finally {
    d.cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { fromHex } from '../core/bytes.js';
import type { MarketBid } from '../client/marketViews.js';
import type { PieceFetcher } from './decode.js';
import type { Manifest } from './layout.js';
import { rankRepairBids, rebuildShards, RepairError, type RebuildLayout } from './repair.js';
import { storedInMemory } from '../testkit/storage.js';

const MiB = 1 << 20;

const layoutOf = (man: Manifest): RebuildLayout => ({ k: man.k, m: man.m, pieceSize: man.pieceSize, segments: man.segments, roots: man.roots.map((r) => fromHex(r)) });

/** Rebuilds `lost` into memory: out[j] is shard j's bytes. */
async function rebuild(man: Manifest, healthy: number[], lost: number[], fetch: PieceFetcher, parallel?: number): Promise<Map<number, Buffer>> {
  const out = new Map(lost.map((j) => [j, Buffer.alloc(man.shardBytes)]));
  const seen: string[] = [];
  await rebuildShards(
    layoutOf(man),
    healthy,
    lost,
    fetch,
    async (j, s, piece) => {
      seen.push(`${j}:${s}`);
      (out.get(j) as Buffer).set(piece, s * man.pieceSize);
    },
    parallel === undefined ? {} : { parallel },
  );
  // Every rebuilt piece written once, segment by segment.
  assert.deepEqual(seen, Array.from({ length: man.segments }, (_, s) => lost.map((j) => `${j}:${s}`)).flat());
  return out;
}

const fetcher =
  (pieces: Uint8Array[][], down: (j: number, s: number) => boolean = () => false): PieceFetcher =>
  async (j, s) =>
    down(j, s) ? null : (pieces[j]?.[s] ?? null);

const shardBytes = (pieces: Uint8Array[][], j: number): Buffer => Buffer.concat(pieces[j] as Uint8Array[]);

test('repair: rebuilds lost data and parity shards byte for byte, several segments (4+2, 2 lost)', async () => {
  const data = randomBytes(9 * MiB + 777);
  const { man, pieces } = await storedInMemory(data, { k: 4, m: 2 });
  assert.ok(man.segments >= 3);
  for (const lost of [[0], [5], [1, 4], [0, 3], [4, 5]]) {
    const healthy = [0, 1, 2, 3, 4, 5].filter((j) => !lost.includes(j));
    const out = await rebuild(man, healthy, lost, fetcher(pieces), 2);
    for (const j of lost) assert.ok((out.get(j) as Buffer).equals(shardBytes(pieces, j)), `shard ${j} of ${lost}`);
  }
});

test('repair: rebuilt shards are identical for random sizes, codes and lost sets (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 * MiB }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 << 30 }), async (size, k, m, seed) => {
      const { man, pieces } = await storedInMemory(randomBytes(size), { k, m });
      const n = k + m;
      const lostCount = 1 + (seed % m);
      const lost = Array.from({ length: lostCount }, (_, i) => (seed + i * 7) % n).filter((j, i, a) => a.indexOf(j) === i);
      const healthy = Array.from({ length: n }, (_, j) => j).filter((j) => !lost.includes(j));
      const out = await rebuild(man, healthy, lost, fetcher(pieces));
      for (const j of lost) assert.ok((out.get(j) as Buffer).equals(shardBytes(pieces, j)));
    }),
    { numRuns: 25 },
  );
});

test('repair: a healthy shard that fails is replaced by another; fewer than k pieces is NOT_ENOUGH_SHARDS', async () => {
  const { man, pieces } = await storedInMemory(randomBytes(5 * MiB), { k: 2, m: 2 });
  // Shard 1 down from segment 1 on (null), shard 0 throws on segment 0: still 2 of 3 each time.
  const flaky: PieceFetcher = async (j, s) => {
    if (j === 0 && s === 0) throw new RepairError('NOT_ENOUGH_SHARDS', 'boom');
    return j === 1 && s >= 1 ? null : (pieces[j]?.[s] ?? null);
  };
  const out = await rebuild(man, [0, 1, 2], [3], flaky);
  assert.ok((out.get(3) as Buffer).equals(shardBytes(pieces, 3)));

  await assert.rejects(rebuild(man, [0], [3], fetcher(pieces)), (e: unknown) => e instanceof RepairError && e.code === 'NOT_ENOUGH_SHARDS' && /only 1 healthy shards and 2 are needed/.test(e.message));
  await assert.rejects(
    rebuild(man, [0, 1], [3], fetcher(pieces, (j, s) => j === 1 && s === 1)),
    (e: unknown) => e instanceof RepairError && e.code === 'NOT_ENOUGH_SHARDS' && /segment 1: only 1 of the 2 pieces needed .*shard 1: unavailable/.test(e.message),
  );
  await assert.rejects(rebuild(man, [0, 1], [2, 3, 1], fetcher(pieces)), (e: unknown) => e instanceof RepairError && /at most 2/.test(e.message));
});

test('repair: a rebuilt shard whose root is not the deal\'s is ROOT_MISMATCH; a code that does not reproduce a spare piece is CODE_MISMATCH', async () => {
  const { man, pieces } = await storedInMemory(randomBytes(3 * MiB), { k: 2, m: 2 });
  const wrongRoots: Manifest = { ...man, roots: man.roots.map((r, j) => (j === 3 ? man.roots[0] as string : r)) };
  await assert.rejects(rebuild(wrongRoots, [0, 1], [3], fetcher(pieces)), (e: unknown) => e instanceof RepairError && e.code === 'ROOT_MISMATCH' && /rebuilt shard 3 has root [0-9a-f]{64}, but the deal records/.test(e.message));

  // Three healthy shards for one lost: segment 0 fetches a spare (the highest index fetched, 2)
  // and rebuilds it from the others; a changed byte there is caught before anything else.
  const tampered = pieces.map((p) => p.map((x) => Uint8Array.from(x)));
  const piece = tampered[2]![0]!;
  piece[100] = (piece[100] as number) ^ 1;
  await assert.rejects(rebuild(man, [0, 1, 2], [3], fetcher(tampered)), (e: unknown) => e instanceof RepairError && e.code === 'CODE_MISMATCH' && /shard 2's verified piece 0/.test(e.message));
});

test('repair: bids from holders are never chosen; providers of lost shards come after the others; then price, height, address', () => {
  const bid = (provider: string, price: bigint, height = 5n): MarketBid => ({ order: 9n, provider, device: 'ab', price, deposit: 1n, height, status: 'standing' });
  const bids = [bid('gw1holder', 100n), bid('gw1lost', 200n), bid('gw1dear', 900n), bid('gw1cheap', 500n, 7n), bid('gw1cheap2', 500n, 6n), bid('gw1b', 300n), bid('gw1a', 300n)];
  const ranked = rankRepairBids(bids, new Set(['gw1holder']), new Set(['gw1lost']));
  assert.deepEqual(
    ranked.map((b) => b.provider),
    ['gw1a', 'gw1b', 'gw1cheap2', 'gw1cheap', 'gw1dear', 'gw1lost'],
  );
  assert.deepEqual(rankRepairBids([bid('gw1holder', 1n)], new Set(['gw1holder']), new Set()), []);
});

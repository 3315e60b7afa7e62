/**
 * The storage vertical end to end, with real processes only: a node with short challenge periods
 * (genesis params), provider agents with their storage service and prover (`groundwork provider
 * start`), real files, the `groundwork store` CLI for the customer and the SDK where a test plays
 * a provider by hand. Two networks, so that what is done to one provider does not leak into
 * another scenario's books:
 *
 * Network A, six honest providers (a 4+2 deal takes all of them):
 *   1. put/get through the CLI, byte for byte: 0 B, 1 B, the piece-size boundary (4 × 4 KiB − 16,
 *      the GCM tag), the segment boundary (4 × 1 MiB − 16, one byte more: two segments), and a
 *      1 GiB file of random bytes (generated on disk, checked with SHA-256, never in memory);
 *   2. over two challenge periods the chain verifies every shard's proof (events, the deal's
 *      proofs counter), records the storage work for the reward pool, releases the held lease
 *      earnings (the provider's `held` is 0 at the height of its proof, read with a Merkle proof);
 *   1 (continued). with m = 2 providers killed (the holders of data shards 0 and 1) the 1 GiB
 *      file and a two-segment one still come back, rebuilt from parity (last: it ends network A).
 * Network B, four providers with rising prices C < D < A < B, deal X (2+2) on all four and
 * deals Y1, Y2 (1+1) on C and D:
 *   3. A deletes its shard of X from disk: its prover cannot answer; storage.proof.missed, a fault
 *      storage-proof-missed (warning, then penalties); after missesToLose periods the shard is
 *      lost and its lease closed failed-verification (held earnings forfeited);
 *   4. B's agent is stopped and its due challenge answered with a tampered leaf, signed with B's
 *      key: storage.proof.forged, a slash of kind storage-forged-proof, B's device jailed, the
 *      shard lost, held earnings forfeited;
 *   5. C's agent is killed (nothing listens on its host) while the test keeps proving its shards
 *      from its shard directory: D's prover, the designated checker, reports the failed
 *      retrievals; after retrievalFailuresToFault of them a fault retrieval-failed; no miss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cli } from '../src/testkit/index.js';
import { answersFromStore, providerAt, startStorageNet, type StorageNet, type StorageProvider } from '../src/testkit/storage.js';
import { getDeal } from '../src/client/actions/getDeal.js';
import { getDevice } from '../src/client/actions/getDevice.js';
import { getDeviceFaults } from '../src/client/actions/getDeviceFaults.js';
import { getLease } from '../src/client/actions/getLease.js';
import { getSlashes } from '../src/client/actions/getSlashes.js';
import { getStorageChallenges } from '../src/client/actions/getStorageChallenges.js';
import { proveStorage } from '../src/client/actions/proveStorage.js';
import type { ChainEvent } from '../src/client/events.js';
import type { StorageChallenges } from '../src/client/storageViews.js';
import { toHex } from '../src/core/bytes.js';
import { verifyLeaf } from '../src/core/shardtree.js';
import { storageStatus } from '../src/storage/http.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** Plaintext of a full 4+2 segment: four 1 MiB pieces less the GCM tag. */
const SEGMENT = 4 * MiB - 16;

interface PutJson {
  order: string;
  size: number;
  sha256: string;
  k: number;
  m: number;
  shardBytes: number;
  leases: Array<{ shard: number; lease: string; provider: string; root: string }>;
  deal: { height: string };
}

interface GetJson {
  bytes: number;
  sha256: string;
  sha256Checked: boolean;
  failedShards: number[];
  repairedSegments: number;
}

/** The CLI against the network, asserting exit 0 and parsing --json; long runs for the big file. */
/** The CLI's JSON answer; with `rss`, its peak resident memory is recorded there (bytes). */
async function cliJson<T>(net: StorageNet, args: string[], timeoutMs = 60_000, rss?: { peak: number }): Promise<T> {
  const r = await cli(['--node', net.node.url, ...args, '--json'], { home: net.home, timeoutMs, peakRss: rss !== undefined });
  if (rss) rss.peak = r.peakRssBytes ?? 0;
  if (r.code !== 0) {
    // What the agents thought of the orders (skips, failed bids) tells why a put found no providers.
    const agents = net.providers.map((p) => `${p.name}: ${(p.agent?.out() ?? '').split('\n').filter((l) => /skip|bid-failed|warn|error/i.test(l)).slice(-10).join('\n  ')}`);
    throw new Error(`groundwork ${args.join(' ')} exited ${r.code}: ${r.stderr}\nagents:\n${agents.join('\n')}`);
  }
  return JSON.parse(r.stdout) as T;
}

/**
 * A 1 GiB put or get must stream: its CLI process's peak resident memory stays under half the
 * file. Measured: put ~215 MiB, get with two shards rebuilt from parity ~355 MiB — bounded
 * buffers (stripes or runs of pieces, depth × shards × piece size, whatever the file's size) plus
 * the V8 heap's headroom that NODE_FLAGS allow (a 64 MiB young generation, the old one first
 * collected at 256 MiB); holding the file would take more than a GiB.
 */
function assertStreamed(what: string, peakBytes: number): void {
  process.stderr.write(`storage-e2e: ${what} 1 GiB peak RSS ${(peakBytes / MiB).toFixed(0)} MiB\n`);
  if (process.platform !== 'linux') return;
  assert.ok(peakBytes > 0, `${what}: the peak RSS was read`);
  assert.ok(peakBytes < GiB / 2, `${what} of 1 GiB peaked at ${(peakBytes / MiB).toFixed(0)} MiB resident: it must stream`);
}

const putArgs = (path: string, key: string, code: [number, number] | [] = []) => [
  'store',
  'put',
  path,
  '--key',
  key,
  '--duration',
  '100000',
  '--max-price',
  '1000ugw',
  // Two seconds of bids: six agents sharing two cores with the puts must all see the order.
  '--bid-window',
  '8',
  ...(code.length ? ['--k', String(code[0]), '--m', String(code[1])] : []),
];

/** Writes `size` random bytes to `path` a few MiB at a time; returns their SHA-256 (hex). */
function randomFile(path: string, size: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 * MiB);
  const fd = openSync(path, 'w');
  try {
    for (let o = 0; o < size; o += buf.length) {
      const n = Math.min(buf.length, size - o);
      randomFillSync(buf, 0, n);
      h.update(buf.subarray(0, n));
      writeSync(fd, buf, 0, n);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 4 * MiB }), h);
  return h.digest('hex');
}

/** Polls `cond` every `everyMs` until it returns a value other than undefined/false. */
async function until<T>(what: string, cond: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A tx refused because the very same tx is already in the mempool. */
const isDuplicate = (e: unknown): boolean => (e as { code?: string }).code === 'mempool.DUPLICATE';

/** A tx refused because the challenge is no longer (or not) due: the period turned over. */
const isNotDue = (e: unknown): boolean => /NOT_DUE/.test(`${(e as { code?: string }).code ?? ''} ${String(e)}`);

const attrs = (e: ChainEvent | { attributes: Record<string, string> }): Record<string, string> => ('event' in e ? e.event.attributes : e.attributes);

function timed(label: string): () => void {
  const t0 = Date.now();
  return () => process.stderr.write(`storage-e2e: ${label} ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

// =============================================================================================
// Network A: six honest providers

test('storage e2e, six honest providers: CLI round trips up to 1 GiB, proofs verified and paid, a file survives m = 2 providers down', { timeout: 900_000 }, async (t) => {
  const done = timed('network A total');
  const setup = timed('network A setup');
  const PERIOD = 12n;
  const sizes = [0, 1, 4 * 4 * KiB - 16, 4 * 4 * KiB - 15, SEGMENT, SEGMENT + 1];
  const net = await startStorageNet({
    chainId: 'storage-e2e-a',
    providers: 6,
    customers: [...sizes.map((_, i) => `c${i}`), 'big'],
    blockTimeMs: 250,
    // One leaf per challenge keeps a provider's answers for all seven deals in one tx (see 2).
    params: { storage: { periodBlocks: String(PERIOD), leavesPerChallenge: 1 } },
  });
  setup();
  const files: Array<{ size: number; path: string; data: Buffer; put?: PutJson }> = [];
  let big: { path: string; sha: string; put?: PutJson } | undefined;
  try {
    await t.test('1. put/get byte-identical through the CLI: 0 B, 1 B, piece and segment boundaries, 1 GiB (4+2 on 6 providers)', async () => {
      const dir = join(net.home, 'files');
      mkdirSync(dir);
      for (const [i, size] of sizes.entries()) {
        const path = join(dir, `f${i}-${size}.bin`);
        const data = randomBytes(size);
        writeFileSync(path, data);
        files.push({ size, path, data });
      }
      // Small files in parallel (one customer key each: one account sequence per put).
      let lap = timed('put 6 small files');
      const puts = await Promise.all(files.map((f, i) => cliJson<PutJson>(net, putArgs(f.path, `c${i}`))));
      lap();
      // Shard sizes by the layout rules: one piece per shard of the smallest power of two ≥ 4 KiB
      // that holds the file + 16 over 4 shards; 1 MiB pieces beyond one segment.
      const shardBytes = [4 * KiB, 4 * KiB, 4 * KiB, 8 * KiB, MiB, 2 * MiB];
      for (const [i, p] of puts.entries()) {
        const f = files[i]!;
        f.put = p;
        assert.equal(p.size, f.size);
        assert.equal(p.sha256, toHex(createHash('sha256').update(f.data).digest()));
        assert.deepEqual([p.k, p.m], [4, 2], 'the default code is 4+2');
        assert.equal(p.shardBytes, shardBytes[i], `shard size of a ${f.size}-byte file`);
        assert.equal(p.leases.length, 6);
        assert.deepEqual(new Set(p.leases.map((l) => l.provider)), new Set(net.providers.map((x) => x.address)), 'one shard per provider');
      }

      lap = timed('write 1 GiB');
      const bigPath = join(dir, 'big.bin');
      big = { path: bigPath, sha: randomFile(bigPath, GiB) };
      lap();
      lap = timed('put 1 GiB');
      const putRss = { peak: 0 };
      const bp = await cliJson<PutJson>(net, putArgs(bigPath, 'big'), 600_000, putRss);
      lap();
      // Streams: the file never sits in memory (a file larger than RAM works the same way).
      assertStreamed('put', putRss.peak);
      big.put = bp;
      assert.equal(bp.size, GiB);
      assert.equal(bp.sha256, big.sha);
      assert.equal(bp.shardBytes, 257 * MiB, '257 segments of 4 MiB − 16 bytes, 1 MiB of each per shard');
      assert.deepEqual(new Set(bp.leases.map((l) => l.provider)), new Set(net.providers.map((x) => x.address)));

      lap = timed('get 6 small files');
      const gets = await Promise.all(files.map((f) => cliJson<GetJson>(net, ['store', 'get', f.put!.order, '-o', `${f.path}.out`])));
      lap();
      for (const [i, g] of gets.entries()) {
        const f = files[i]!;
        assert.deepEqual([g.bytes, g.failedShards, g.repairedSegments], [f.size, [], 0]);
        assert.ok(readFileSync(`${f.path}.out`).equals(f.data), `a ${f.size}-byte file comes back identical`);
      }
      // The 1 GiB file comes back in "1 (continued)", with two providers down (one download of it
      // fits the time budget; the small files cover the path where all data shards answer).
    });

    await t.test('2. honest providers: every shard proved each period, the work recorded for the storage pool, held earnings released', async () => {
      const lap = timed('scenario 2');
      const deals = [...files.map((f) => f.put!), big!.put!];
      // Every deal is challenged from the period after its creation; from `second` on, every
      // shard has been proved at least once before and is proved again.
      const lastDeal = deals.reduce((h, d) => (BigInt(d.deal.height) > h ? BigInt(d.deal.height) : h), 0n);
      const first = lastDeal / PERIOD + 1n;
      const second = first + 1n;
      const verifiedIn = (period: bigint, order: string, shard: number) => net.events.filter('storage.proof.verified', { period: String(period), order, shard: String(shard) });
      await until(
        `a verified proof of every shard of the ${deals.length} deals in periods ${first} and ${second}`,
        () => deals.every((d) => d.leases.every((l) => verifiedIn(first, d.order, l.shard).length === 1 && verifiedIn(second, d.order, l.shard).length === 1)),
        Number(3n * PERIOD * 250n) + 30_000,
      );
      assert.deepEqual(
        net.events.filter('storage.proof.missed').map((e) => attrs(e)),
        [],
        'honest providers miss nothing (not even while the 1 GiB upload kept the machine busy)',
      );
      assert.deepEqual(net.events.filter('storage.proof.forged'), []);

      for (const d of deals) {
        const deal = await getDeal(net.client, { order: d.order });
        assert.ok(deal);
        for (const s of deal.shards) {
          assert.equal(s.status, 'active');
          assert.equal(s.misses, 0);
          assert.ok(s.proofs >= 2n, `deal ${d.order} shard ${s.index}: ${s.proofs} proofs counted`);
        }
        for (const l of d.leases) {
          const v = verifiedIn(second, d.order, l.shard)[0]!;
          const va = attrs(v);
          assert.equal(va.provider, l.provider);
          const inTx = net.events.filter('rewards.contribution', {}, 0, (e) => e.txHash === v.txHash);
          const units = String(Math.ceil(d.shardBytes / MiB));
          assert.equal(va.units, units);
          assert.equal(va.rewarded, 'yes');
          const device = net.provider(l.provider).deviceHex;
          assert.ok(
            inTx.some((e) => attrs(e).reason === 'storage-proof' && attrs(e).recipient === l.provider && attrs(e).device === device && attrs(e).pool === 'storage' && attrs(e).units === units),
            `the proof of deal ${d.order} shard ${l.shard} recorded ${units} MiB of storage work for ${l.provider}: ${JSON.stringify(inTx.map(attrs))}`,
          );
          const released = net.events.filter('market.lease.released', { lease: l.lease }, 0, (e) => e.txHash === v.txHash);
          assert.equal(released.length, 1, `lease ${l.lease}'s held earnings released by its proof`);
          assert.ok(BigInt(attrs(released[0]!).amount!) > 0n);
          assert.equal(attrs(released[0]!).amount, va.released);
        }
      }
      // One tx proves all of a provider's shards (leavesPerChallenge 1: 7 answers fit), so at its
      // height nothing of the provider is held any more (a settlement later in the same block
      // pays nothing new). Read at that height with a Merkle proof.
      for (const p of net.providers) {
        const txs = new Set(net.events.filter('storage.proof.verified', { period: String(second), provider: p.address }).map((e) => e.txHash));
        assert.equal(txs.size, 1, `${p.name} proved its ${deals.length} shards in one tx`);
        const v = net.events.events.find((e) => e.txHash === [...txs][0])!;
        const rec = await providerAt(net.client, p.address, v.height);
        assert.equal(rec.held, 0n, `${p.name} holds nothing back at height ${v.height}, right after its proof`);
        assert.ok(rec.earnings > 0n || net.events.filter('market.withdraw', { provider: p.address }).length > 0, `${p.name} earned`);
      }
      lap();
    });

    await t.test('1 (continued). get with m = 2 providers killed (data shards 0 and 1): the 1 GiB file and a two-segment file come back byte-identical, rebuilt from parity', async () => {
      const bp = big!.put!;
      const victims = [0, 1].map((j) => net.provider(bp.leases.find((l) => l.shard === j)!.provider));
      await Promise.all(victims.map((v) => v.kill9()));
      const multi = files[files.length - 1]!; // SEGMENT + 1 bytes: two segments
      const g = await cliJson<GetJson>(net, ['store', 'get', multi.put!.order, '-o', `${multi.path}.down`]);
      assert.deepEqual([g.failedShards, g.repairedSegments], [[0, 1], 2]);
      assert.ok(readFileSync(`${multi.path}.down`).equals(multi.data));
      const lap = timed('get 1 GiB with 2 providers down');
      const getRss = { peak: 0 };
      const bg = await cliJson<GetJson>(net, ['store', 'get', bp.order, '-o', `${big!.path}.down`, '--verify-sha256'], 600_000, getRss);
      lap();
      assertStreamed('get', getRss.peak);
      assert.deepEqual([bg.bytes, bg.failedShards, bg.repairedSegments, bg.sha256Checked], [GiB, [0, 1], 257, true]);
      assert.equal(await sha256File(`${big!.path}.down`), big!.sha, 'the 1 GiB file comes back identical from 4 of 6 shards, 2 of them parity');
    });
  } finally {
    await net.close();
    done();
  }
});

// =============================================================================================
// Network B: providers that cheat

test('storage e2e, misbehaving providers: a deleted shard, a forged proof, a provider that does not serve', { timeout: 600_000 }, async (t) => {
  const done = timed('network B total');
  const setup = timed('network B setup');
  const PERIOD = 10n;
  const net = await startStorageNet({
    chainId: 'storage-e2e-b',
    providers: 4,
    price: (i) => BigInt(100 * (i + 1)),
    customers: ['cx', 'cy1', 'cy2'],
    blockTimeMs: 250,
    params: {
      storage: { periodBlocks: String(PERIOD), missesToLose: 3, retrievalFailuresToFault: 2 },
      // One free fault, then penalties; jail far enough that A's misses (and any failed
      // retrievals of its deleted shard) never reach it: its lease must close as failed
      // verification, not because its device left.
      penalties: { freeFaults: 1, jailFaults: 8 },
    },
  });
  setup();
  const [C, D, A, B] = net.providers as [StorageProvider, StorageProvider, StorageProvider, StorageProvider];
  const period = async () => (await net.height()) / PERIOD;
  try {
    const dir = join(net.home, 'files');
    mkdirSync(dir);
    const file = (name: string, size: number) => {
      const path = join(dir, name);
      writeFileSync(path, randomBytes(size));
      return path;
    };
    const lap = timed('network B puts and first proofs');
    const [X, Y1, Y2] = await Promise.all([
      cliJson<PutJson>(net, putArgs(file('x.bin', 300 * KiB), 'cx', [2, 2])),
      cliJson<PutJson>(net, putArgs(file('y1.bin', 50 * KiB), 'cy1', [1, 1])),
      cliJson<PutJson>(net, putArgs(file('y2.bin', 70 * KiB), 'cy2', [1, 1])),
    ]);
    assert.deepEqual(new Set(X.leases.map((l) => l.provider)), new Set([C, D, A, B].map((p) => p.address)));
    for (const y of [Y1, Y2]) assert.deepEqual(new Set(y.leases.map((l) => l.provider)), new Set([C.address, D.address]), 'the two cheapest take the 1+1 deals');
    const shardOf = (d: PutJson, p: StorageProvider) => d.leases.find((l) => l.provider === p.address)!;
    // Everyone honest first: each shard proved once.
    await until(
      'a verified proof of every shard',
      () => [X, Y1, Y2].every((d) => d.leases.every((l) => net.events.filter('storage.proof.verified', { order: d.order, shard: String(l.shard) }).length > 0)),
      Number(3n * PERIOD * 250n) + 30_000,
    );
    lap();

    await t.test('3. a provider that deleted its shard misses the next challenge: fault storage-proof-missed, then the shard is lost and its lease closed failed-verification', async () => {
      const lap = timed('scenario 3');
      const s = shardOf(X, A);
      const mark = net.events.mark;
      const deletedIn = await period();
      rmSync(join(A.storageDir, 'shards', s.root), { recursive: true });
      const missed = (n: number) => net.events.waitFor('storage.proof.missed', { provider: A.address, order: X.order, shard: String(s.shard), misses: String(n) }, { from: mark, timeoutMs: Number(3n * PERIOD * 250n) + 20_000 });

      const m1 = await missed(1);
      assert.ok(BigInt(attrs(m1).period!) <= deletedIn + 1n, `caught at the next challenge (deleted in period ${deletedIn}, missed period ${attrs(m1).period})`);
      assert.match(A.agent!.out(), new RegExp(`proof-unavailable period=[0-9]+ order=${X.order} shard=${s.shard} reason=SHARD_NOT_FOUND`), 'the prover found nothing to answer with');
      // A's faults as penalties reports them: warning, penalty (or jail), any reason. A checker
      // that drew A's deleted shard for a retrieval check may add a retrieval-failed fault.
      const faults = () => net.events.filter(['penalties.warning', 'penalties.penalty', 'penalties.jail'], { device: A.deviceHex });
      const missFault = (at: bigint) => faults().filter((e) => e.height === at && attrs(e).reason === 'storage-proof-missed');
      // The block's events arrive one by one: wait for the fault that follows the miss.
      const faultAt = (at: bigint) =>
        net.events.waitFor(['penalties.warning', 'penalties.penalty', 'penalties.jail'], { device: A.deviceHex, reason: 'storage-proof-missed' }, { from: mark, pred: (e) => e.height === at, timeoutMs: 10_000 });
      await faultAt(m1.height);
      assert.equal(missFault(m1.height).length, 1, 'the miss is a fault of the device, reason storage-proof-missed');
      const f1 = await getDeviceFaults(net.client, { device: A.deviceHex });
      assert.ok(Number(f1.total) >= 1 && f1.status === 'warned', `faults query: ${JSON.stringify(f1)}`);
      assert.equal(await getLease(net.client, { id: BigInt(s.lease) }).then((l) => l?.status), 'active', 'one miss does not lose the shard');

      const m2 = await missed(2);
      await faultAt(m2.height);
      assert.equal(missFault(m2.height).length, 1);
      const m3 = await missed(3);
      await faultAt(m3.height);
      assert.equal(missFault(m3.height).length, 1);
      // freeFaults = 1: the first fault in the window warns, the later ones are penalties that
      // take penalties.faultSlash from the operator pool; none reaches jailFaults = 8.
      const seq = faults();
      assert.deepEqual(
        seq.map((e) => e.event.type),
        ['penalties.warning', ...seq.slice(1).map(() => 'penalties.penalty')],
        `warning, then penalties: ${JSON.stringify(seq.map((e) => [String(e.height), e.event.type, attrs(e).reason]))}`,
      );
      for (const e of seq.slice(1)) assert.equal(attrs(e).slashed, '1000000');
      const lost = net.events.filter('storage.shard.lost', { order: X.order, shard: String(s.shard) }, mark);
      assert.deepEqual(lost.map((e) => [e.height, attrs(e).reason, attrs(e).provider]), [[m3.height, 'storage-proof-missed', A.address]], 'lost after missesToLose = 3 misses');
      const closed = net.events.filter('market.lease.closed', { lease: s.lease }, mark);
      assert.deepEqual(closed.map((e) => [e.height, attrs(e).reason]), [[m3.height, 'failed-verification']]);
      const forfeited = net.events.filter('market.lease.forfeited', { lease: s.lease }, mark);
      assert.equal(forfeited.length, 1, 'what the lease earned since its last proof goes back to the customer');
      assert.ok(BigInt(attrs(forfeited[0]!).amount!) > 0n);

      const lease = await getLease(net.client, { id: BigInt(s.lease) });
      assert.deepEqual([lease?.status, lease?.closeReason, lease?.held], ['closed', 'failed-verification', 0n]);
      const deal = await getDeal(net.client, { order: X.order });
      assert.deepEqual([deal?.shards[s.shard]?.status, deal?.shards[s.shard]?.misses], ['lost', 3]);
      assert.equal(deal?.status, 'active', 'the deal goes on with its other shards');
      const f3 = await getDeviceFaults(net.client, { device: A.deviceHex });
      assert.ok(Number(f3.total) >= 3 && f3.status === 'warned', `three faults, not jailed: ${JSON.stringify(f3)}`);
      const slashes = (await getSlashes(net.client, { operator: A.address })).slashes;
      assert.ok(slashes.filter((x) => x.kind === 'fault' && x.reason === 'storage-proof-missed').length >= 2, `fault slashes: ${JSON.stringify(slashes)}`);
      lap();
    });

    await t.test('4. a provider that answers with a forged leaf is slashed for fraud: device jailed, shard lost, held earnings forfeited', async () => {
      const lap = timed('scenario 4');
      const s = shardOf(X, B);
      assert.equal(await B.agent!.stop(), 0, "B's agent stops cleanly (its prover will not answer)");
      assert.equal((await getLease(net.client, { id: BigInt(s.lease) }))?.status, 'active');
      // Its due challenge, answered with a tampered leaf. Should the period turn over between the
      // query and the tx (NOT_DUE), the next period's challenge is answered instead.
      let r: Awaited<ReturnType<typeof proveStorage>> | undefined;
      for (let attempt = 0; !r; attempt++) {
        const ch = await until<StorageChallenges>(
          "B's challenge",
          async () => {
            const c = await getStorageChallenges(net.client, { provider: B.address });
            return c.challenges.length > 0 ? c : undefined;
          },
          Number(2n * PERIOD * 250n) + 15_000,
        );
        assert.deepEqual(ch.challenges.map((c) => [String(c.order), c.shard]), [[X.order, s.shard]]);
        const c = ch.challenges[0]!;
        const honest = await answersFromStore(B.storageDir, ch.challenges);
        assert.ok(
          honest[0]!.leaves.every((l, i) => verifyLeaf(l.data as Uint8Array, c.leaves[i]!, c.leafCount, l.path as Uint8Array[], c.root)),
          'B still holds the data: the honest answer would verify',
        );
        const forged = await answersFromStore(B.storageDir, ch.challenges, { tamper: 0 });
        try {
          r = await proveStorage(net.client, { signer: B.key, period: ch.period, proofs: forged });
        } catch (e) {
          if (attempt > 2 || !isNotDue(e)) throw e;
        }
      }
      assert.deepEqual([r.verified, r.forged, r.results.map((x) => x.verdict)], [0, 1, ['forged']]);
      const ev = (type: string) => r.events.filter((e) => e.type === type).map(attrs);
      assert.deepEqual(ev('storage.proof.forged').map((a) => [a.provider, a.order, a.shard]), [[B.address, X.order, String(s.shard)]]);
      const slash = ev('penalties.slash');
      assert.deepEqual(
        slash.map((a) => [a.kind, a.reason, a.operator, a.device, a.amount]),
        [['storage-forged-proof', 'forged-storage-proof', B.address, B.deviceHex, '7500000']],
        'fraudSlashBps (5%) of the 150 GW operator pool',
      );
      assert.deepEqual(ev('storage.shard.lost').map((a) => [a.order, a.shard, a.reason]), [[X.order, String(s.shard), 'forged-storage-proof']]);
      assert.deepEqual(ev('market.lease.closed').map((a) => [a.lease, a.reason]), [[s.lease, 'failed-verification']]);
      const forfeited = ev('market.lease.forfeited');
      assert.deepEqual(forfeited.map((a) => a.lease), [s.lease]);
      assert.ok(BigInt(forfeited[0]!.amount!) > 0n, 'held earnings forfeited');
      assert.ok(ev('devices.status').some((a) => a.device === B.deviceHex && a.to === 'jailed'));

      const slashes = (await getSlashes(net.client, { operator: B.address })).slashes;
      assert.deepEqual(slashes.map((x) => [x.kind, x.reason, x.device, x.amount, x.status]), [['storage-forged-proof', 'forged-storage-proof', B.deviceHex, '7500000', 'pending']]);
      assert.equal((await getDevice(net.client, { id: B.deviceHex })).device?.status, 'jailed');
      const lease = await getLease(net.client, { id: BigInt(s.lease) });
      assert.deepEqual([lease?.status, lease?.closeReason, lease?.held], ['closed', 'failed-verification', 0n]);
      assert.equal((await getDeal(net.client, { order: X.order }))?.shards[s.shard]?.status, 'lost');
      lap();
    });

    await t.test('5. a provider that proves storage but does not serve: failed retrieval checks by the designated checker, then a fault retrieval-failed', async () => {
      const lap = timed('scenario 5');
      await C.kill9();
      await assert.rejects(storageStatus(C.hostUri), 'nothing listens on C’s host any more');
      const mark = net.events.mark;
      const proofsBefore = new Map<string, bigint>();
      for (const d of [X, Y1, Y2]) proofsBefore.set(d.order, (await getDeal(net.client, { order: d.order }))!.shards[shardOf(d, C).shard]!.proofs);
      const faulted = () => net.events.filter(['penalties.warning', 'penalties.penalty'], { device: C.deviceHex, reason: 'retrieval-failed' }, mark);
      const answered = new Set<bigint>();
      let proofTxs = 0;
      // Play C's prover from its shard directory until the checkers have reported it faulty.
      await until(
        'a fault retrieval-failed for C',
        async () => {
          const ch = await getStorageChallenges(net.client, { provider: C.address });
          if (ch.challenges.length > 0 && !answered.has(ch.period)) {
            const proofs = await answersFromStore(C.storageDir, ch.challenges);
            try {
              const r = await proveStorage(net.client, { signer: C.key, period: ch.period, proofs });
              assert.deepEqual([r.verified, r.forged], [proofs.length, 0], 'answers from the shard files verify');
              answered.add(ch.period);
              proofTxs++;
            } catch (e) {
              // C's own agent may have sent these very answers just before it was killed: the
              // same signer, sequence and proofs make the same bytes (Ed25519 is deterministic),
              // so the tx is already in the mempool and answers the period.
              if (isDuplicate(e)) {
                answered.add(ch.period);
                proofTxs++;
              }
              // The period may have turned over between the query and the tx: asked again next round.
              else if (!isNotDue(e)) throw e;
            }
          }
          return faulted().length > 0;
        },
        Number(12n * PERIOD * 250n),
      );
      const [fault] = faulted();
      const failed = net.events.filter('storage.retrieval.failed', { provider: C.address }, mark);
      assert.ok(failed.length >= 2);
      for (const e of failed) {
        assert.equal(attrs(e).checker, D.address, "the designated checker is the provider of the deal's next shard, D");
        assert.equal(attrs(e).reason, 'refused', 'connection refused');
      }
      // The fault is raised by the report of a shard's second consecutive failure, in its tx.
      const second = failed.filter((e) => e.txHash === fault!.txHash);
      assert.deepEqual(second.map((e) => attrs(e).fails), ['2'], `the fault comes with a shard's second consecutive failure: ${JSON.stringify(failed.map((e) => [String(e.height), attrs(e).order, attrs(e).fails]))}`);
      const { order, shard } = attrs(second[0]!);
      assert.equal(failed.filter((e) => attrs(e).order === order && attrs(e).shard === shard && attrs(e).fails === '1').length, 1);
      const f = await getDeviceFaults(net.client, { device: C.deviceHex });
      assert.equal(f.lastReason, 'retrieval-failed', `faults query: ${JSON.stringify(f)}`);
      assert.ok(Number(f.total) >= 1);

      assert.deepEqual(net.events.filter('storage.proof.missed', { provider: C.address }, mark).map(attrs), [], 'C proved every period: no miss');
      assert.ok(proofTxs >= 1);
      for (const d of [X, Y1, Y2]) {
        const sh = (await getDeal(net.client, { order: d.order }))!.shards[shardOf(d, C).shard]!;
        assert.equal(sh.status, 'active', `C's shard of deal ${d.order} is still active: it is proved, only not served`);
        assert.ok(sh.proofs > proofsBefore.get(d.order)!, `deal ${d.order}: C's shard proved again without its agent`);
      }
      lap();
    });
  } finally {
    await net.close();
    done();
  }
});

/**
 * The storage SDK actions against a real node process (one embedded validator): the queries'
 * typed answers when nothing is stored (no deal, no deals, nothing due from a provider or for
 * a checker, latest and explicit periods), each tx action refused with the chain's own storage
 * error code, a deal's life through the SDK alone (leases bought, deal created, challenges
 * answered: one verified, one forged; a retrieval check served; the lost shard repaired onto a
 * new lease; the deal closed), and the SDK's own errors: STORAGE_UNAVAILABLE from a node without
 * the module and BAD_RESPONSE for an answer of the wrong shape (through a proxy that rewrites
 * the node's reply).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { equals, toHex, type Bytes } from '../src/core/bytes.js';
import { encodeAddress, type Ed25519Key } from '../src/core/keys.js';
import { merkleProof } from '../src/core/merkle.js';
import { LEAF_SIZE, leafHash, pieceRoot, shardRoot } from '../src/core/shardtree.js';
import { NO_CAPABILITIES, deviceSignBytes, makerSignBytes } from '../src/chain/modules/devices/types.js';
import { retrievalReceiptSignBytes, shardAckSignBytes } from '../src/chain/modules/storage/signing.js';
import { createClient, type Client } from '../src/client/client.js';
import { ApiResponseError, ClientError, TxFailedError, TxRejectedError } from '../src/client/errors.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { getStatus } from '../src/client/actions/getStatus.js';
import { createOrder } from '../src/client/actions/createOrder.js';
import { acceptBid } from '../src/client/actions/acceptBid.js';
import { placeBid } from '../src/client/actions/placeBid.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { closeDeal, createDeal, getDeal, getDeals, getRetrievalChecks, getStorageChallenges, proveStorage, repairShard, reportRetrieval } from '../src/client/index.js';
import { initHome } from '../src/devnet/init.js';
import { homePaths } from '../src/node/home.js';
import { startNode, tempDir, testKey, type NodeProcess } from '../src/testkit/index.js';

const CHAIN_ID = 'storage-sdk';
const GW = 1_000_000n;
const FUNDS = 1000n * GW;
/** storage.periodBlocks: 20 blocks of 150 ms, time to answer a period's challenges under load. */
const PERIOD = 20n;
const REPAIR_FEE = 1_000_000n;
const alice = testKey('storage-sdk-alice'); // a customer with nothing stored
const bob = testKey('storage-sdk-bob'); // an address with nothing due
const carol = testKey('storage-sdk-carol'); // the customer of the deal's life
const maker = testKey('storage-sdk-maker');
const providers = [1, 2, 3].map((i) => ({ p: testKey(`storage-sdk-p${i}`), d: testKey(`storage-sdk-d${i}`) }));
const addr = (k: Ed25519Key) => encodeAddress(k.address);
// An acknowledgment of the right shape: the deals below fail before it is checked.
const ack = { pubKey: bob.publicKey, signature: new Uint8Array(64) };
const shard = (lease: bigint) => ({ lease, root: 'ab'.repeat(32), ack });

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
let client: Client;

before(async () => {
  dir = tempDir('gw-storage-sdk-');
  initHome({
    home: dir.path,
    chainId: CHAIN_ID,
    blockIntervalMs: 150,
    apiPort: 0,
    extraBalances: [alice, bob, carol, ...providers.map((x) => x.p)].map((k) => [addr(k), FUNDS] as const),
    params: { storage: { periodBlocks: PERIOD.toString(), repairFee: REPAIR_FEE.toString() } },
  });
  // A device maker, and Data Credits for the providers' onboarding fees.
  const gPath = homePaths(dir.path).genesis;
  const g = JSON.parse(readFileSync(gPath, 'utf8')) as { app: Record<string, unknown> };
  g.app.devices = { makers: [{ name: 'acme', pubKey: toHex(maker.publicKey) }] };
  g.app.credits = { balances: providers.map((x) => ({ address: addr(x.p), amount: '100000000' })) };
  writeFileSync(gPath, JSON.stringify(g, null, 2));
  node = await startNode(dir.path);
  client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(homePaths(dir.path).genesis)) });
});

after(async () => {
  if (node) assert.equal(await node.stop(), 0, `clean shutdown\n${node.log()}`);
  dir?.cleanup();
});

/** Asserts the promise fails with the chain error `code` (refused by the mempool or failed in a block) and a message matching `re`. */
async function chainError(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TxRejectedError || e instanceof TxFailedError, `a chain error, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** A proxy in front of the node that rewrites the path it forwards and the body it answers. */
async function proxy(rewrite: { path?: (p: string) => string; body?: (path: string, body: string) => string }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = rewrite.path ? rewrite.path(req.url ?? '/') : (req.url ?? '/');
    void fetch(`${node.url}${path}`, { method: req.method ?? 'GET' }).then(async (r) => {
      const text = await r.text();
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(rewrite.body ? rewrite.body(req.url ?? '/', text) : text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

test('storage queries with nothing stored: no deal, no deals, nothing due (latest and explicit period)', { timeout: 30_000 }, async () => {
  assert.equal(await getDeal(client, { order: 999n }), null);
  assert.equal(await getDeal(client, { order: '1' }), null);
  assert.deepEqual(await getDeals(client, { customer: addr(alice) }), { deals: [] });

  // Before the first period boundary the latest period is 0; wait for period 1's draw.
  const deadline = Date.now() + 15_000;
  while (BigInt((await getStatus(client)).height) < PERIOD && Date.now() < deadline) await new Promise((r) => setTimeout(r, 150));
  const c = await getStorageChallenges(client, { provider: addr(bob) });
  assert.equal(typeof c.period, 'bigint');
  assert.ok(c.period >= 1n, `period ${c.period}`);
  assert.equal(c.deadline, (c.period + 1n) * PERIOD);
  assert.equal(c.leavesPerChallenge, 2);
  assert.deepEqual(c.challenges, []);
  assert.deepEqual(await getStorageChallenges(client, { provider: addr(bob), period: 0n }), { period: 0n, deadline: PERIOD, leavesPerChallenge: 2, challenges: [] });

  const r = await getRetrievalChecks(client, { checker: addr(bob) });
  assert.equal(typeof r.period, 'bigint');
  assert.ok(r.period >= 1n);
  assert.deepEqual(r.checks, []);
  assert.deepEqual(await getRetrievalChecks(client, { checker: addr(alice), period: 3 }), { period: 3n, checks: [] });

  // The node's argument checks come back as its errors.
  await assert.rejects(getDeals(client, { customer: 'gw1nope' }), (e: unknown) => e instanceof ApiResponseError && e.status === 400 && e.code === 'INVALID_ADDRESS');
  await assert.rejects(getDeal(client, { order: 0n }), (e: unknown) => e instanceof ApiResponseError && e.code === 'INVALID_ARGUMENT');
});

test('storage txs refused with the chain error: unknown order or deal, not the customer, not a lease of the order, not due', { timeout: 30_000 }, async () => {
  const balance = async (k: Ed25519Key) => (await getAccount(client, { address: addr(k) })).balance;
  const deal = { size: 1000n, k: 1, m: 1, pieceSize: 4096, segments: 1n };

  await chainError(createDeal(client, { signer: alice, order: 999n, ...deal, shards: [shard(1n), shard(2n)] }), 'storage.INVALID_DEAL', /no order 999/);
  await chainError(closeDeal(client, { signer: alice, order: 999n }), 'storage.DEAL_NOT_FOUND', /no storage deal for order 999/);
  await chainError(repairShard(client, { signer: bob, order: 999n, shard: 0, lease: 1n, ack }), 'storage.DEAL_NOT_FOUND');
  await chainError(proveStorage(client, { signer: bob, period: 1_000_000n, proofs: [{ order: 999n, shard: 0, leaves: [] }] }), 'storage.NOT_DUE', /not started/);
  await chainError(reportRetrieval(client, { signer: bob, period: 1_000_000n, order: 999n, result: { type: 'failed', value: 'timeout' } }), 'storage.NOT_DUE');

  // A real storage order of alice's, no leases yet.
  const { orderId } = await createOrder(client, { signer: alice, spec: { type: 'storage', value: { bytes: 1n << 20n, durationBlocks: 1000n } }, replicas: 2, maxPrice: 10n, deposit: 100_000n, bidWindowBlocks: 600n });
  const before = await balance(bob);
  await chainError(createDeal(client, { signer: bob, order: orderId, ...deal, shards: [shard(1n), shard(2n)] }), 'storage.NOT_CUSTOMER');
  await chainError(createDeal(client, { signer: alice, order: orderId, ...deal, shards: [shard(998n), shard(999n)] }), 'storage.INVALID_DEAL', /lease 998 is not a lease of order/);
  await chainError(createDeal(client, { signer: alice, order: orderId, ...deal, shards: [shard(1n)] }), 'storage.INVALID_DEAL', /has 2 shards, got 1/);
  assert.equal(await balance(bob), before, 'refused by the mempool: no fee spent');
  assert.equal(await getDeal(client, { order: orderId }), null);
  assert.deepEqual((await getDeals(client, { customer: addr(alice) })).deals, []);
});

interface Shard {
  data: Bytes;
  leafHashes: Bytes[];
  root: Bytes;
}

/** A shard of `segments` one-leaf pieces of random bytes. */
function makeShard(segments: number): Shard {
  const data = new Uint8Array(randomBytes(segments * LEAF_SIZE));
  const leafHashes: Bytes[] = [];
  for (let i = 0; i < data.length; i += LEAF_SIZE) leafHashes.push(leafHash(data.subarray(i, i + LEAF_SIZE)));
  return { data, leafHashes, root: shardRoot(leafHashes.map((h) => pieceRoot([h]))) };
}

const leafOf = (s: Shard, i: number) => Uint8Array.from(s.data.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE));

test('a deal through the SDK: create, read back, prove (verified and forged), retrieval served, repair, close', { timeout: 60_000 }, async () => {
  const [p1, p2, p3] = providers as [(typeof providers)[number], (typeof providers)[number], (typeof providers)[number]];
  const ackOf = (k: Ed25519Key, lease: bigint, root: Bytes, bytes: bigint) => ({ pubKey: k.publicKey, signature: k.sign(shardAckSignBytes(CHAIN_ID, lease, root, bytes)) });

  // Three providers on chain: a storage device, stake, registration (one tx each, side by side).
  await Promise.all(
    providers.map(({ p, d }) =>
      signAndSend(client, {
        signer: p,
        msgs: [
          {
            type: 'devices/onboard',
            value: {
              kind: 'storage',
              deviceKey: d.publicKey,
              maker: 'acme',
              makerSignature: maker.sign(makerSignBytes(CHAIN_ID, 'storage', d.publicKey)),
              deviceSignature: d.sign(deviceSignBytes(CHAIN_ID, p.address)),
              capabilities: { ...NO_CAPABILITIES, capacityBytes: 1n << 40n, bandwidthMbps: 1000 },
            },
          },
          { type: 'staking/delegate', value: { operator: p.address, amount: 200n * GW } },
          { type: 'market/register-provider', value: { hostUri: 'http://127.0.0.1:8700', attributes: [] } },
        ],
      }),
    ),
  );
  /** A storage order of carol's with one lease per provider given (bids accepted at once). */
  const buy = async (who: Array<(typeof providers)[number]>) => {
    const { orderId } = await createOrder(client, { signer: carol, spec: { type: 'storage', value: { bytes: 1n << 20n, durationBlocks: 1000n } }, replicas: who.length, maxPrice: 1000n, deposit: 1_000_000n * BigInt(who.length), bidWindowBlocks: 600n });
    await Promise.all(who.map((x, i) => placeBid(client, { signer: x.p, order: orderId, device: x.d.publicKey, price: 100n + BigInt(i) })));
    const leases: bigint[] = [];
    for (const x of who) leases.push((await acceptBid(client, { signer: carol, order: orderId, provider: addr(x.p) })).leaseId);
    return { order: orderId, leases };
  };
  const { order, leases } = await buy([p1, p2]);
  const [l1, l2] = leases as [bigint, bigint];

  // A 1+1 deal of two one-leaf segments (a file of 5000 bytes: more than one segment's 4080).
  const SEGMENTS = 2;
  const shardBytes = BigInt(SEGMENTS * LEAF_SIZE);
  const shards = [makeShard(SEGMENTS), makeShard(SEGMENTS)] as [Shard, Shard];
  const created = await createDeal(client, {
    signer: carol,
    order,
    size: 5000n,
    k: 1,
    m: 1,
    pieceSize: LEAF_SIZE,
    segments: BigInt(SEGMENTS),
    shards: [
      { lease: l1, root: shards[0].root, ack: ackOf(p1.p, l1, shards[0].root, shardBytes) },
      { lease: l2, root: toHex(shards[1].root), ack: { pubKey: toHex(p2.p.publicKey), signature: toHex(p2.p.sign(shardAckSignBytes(CHAIN_ID, l2, shards[1].root, shardBytes))) } },
    ],
  });
  assert.equal(created.shardBytes, shardBytes);
  assert.equal(created.reserve, REPAIR_FEE, 'one repair fee per parity shard');
  await chainError(createDeal(client, { signer: carol, order, size: 5000n, k: 1, m: 1, pieceSize: LEAF_SIZE, segments: 2n, shards: [] }), 'storage.DEAL_EXISTS');

  const deal = await getDeal(client, { order });
  assert.ok(deal);
  assert.deepEqual(
    { order: deal.order, customer: deal.customer, size: deal.size, k: deal.k, m: deal.m, pieceSize: deal.pieceSize, segments: deal.segments, shardBytes: deal.shardBytes, status: deal.status, endedHeight: deal.endedHeight, reserve: deal.reserve, repairs: deal.repairs },
    { order, customer: addr(carol), size: 5000n, k: 1, m: 1, pieceSize: LEAF_SIZE, segments: 2n, shardBytes, status: 'active', endedHeight: 0n, reserve: REPAIR_FEE, repairs: 0 },
  );
  assert.equal(deal.createdHeight, BigInt(created.height));
  assert.deepEqual(
    deal.shards.map((s) => [s.index, s.lease, s.provider, s.device, s.status, s.misses, s.proofs]),
    [
      [0, l1, addr(p1.p), toHex(p1.d.publicKey), 'active', 0, 0n],
      [1, l2, addr(p2.p), toHex(p2.d.publicKey), 'active', 0, 0n],
    ],
  );
  assert.ok(deal.shards.every((s, j) => s.root instanceof Uint8Array && equals(s.root, shards[j as 0 | 1].root)));
  assert.deepEqual((await getDeals(client, { customer: addr(carol) })).deals, [deal]);

  // The next period's draw challenges both shards (fewer than challengesPerProvider each); wait
  // for one with most of its blocks left, so the answers land in it.
  let c1: Awaited<ReturnType<typeof getStorageChallenges>> | undefined;
  let c2: typeof c1;
  for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const height = BigInt((await getStatus(client)).height);
    [c1, c2] = await Promise.all([getStorageChallenges(client, { provider: addr(p1.p) }), getStorageChallenges(client, { provider: addr(p2.p) })]);
    if (c1.challenges.length && c2.challenges.length && c1.period === c2.period && c1.deadline - height >= PERIOD / 2n) break;
    c1 = undefined;
  }
  assert.ok(c1 && c2, 'both providers challenged in one period');
  const period = c1.period;
  assert.equal(c1.deadline, (period + 1n) * PERIOD);
  const [q1] = c1.challenges;
  const [q2] = c2.challenges;
  assert.ok(q1 && q2);
  assert.deepEqual([q1.order, q1.shard, q1.leafCount, q1.leaves.length], [order, 0, SEGMENTS, c1.leavesPerChallenge]);
  assert.ok(equals(q1.root, shards[0].root));
  assert.deepEqual([q2.order, q2.shard], [order, 1]);

  // The retrieval check of this period, as the customer sees it.
  const checks = await getRetrievalChecks(client, { checker: addr(carol), period });
  assert.equal(checks.period, period);
  assert.equal(checks.checks.length, 1);
  const check = checks.checks[0]!;
  assert.equal(check.order, order);
  const target = shards[check.shard as 0 | 1];
  assert.ok(equals(check.root, target.root));
  assert.equal(check.provider, addr(providers[check.shard]!.p));
  assert.equal(check.nonce.length, 32);

  // p1 answers truly, p2 forges (a flipped byte), carol reports the check served: side by side.
  const answer = (s: Shard, shard: number, leaves: number[], forge: boolean) => ({
    order,
    shard,
    leaves: leaves.map((i) => {
      const data = leafOf(s, i);
      if (forge) data[0] = data[0]! ^ 1;
      return { data, path: merkleProof(s.leafHashes, i) };
    }),
  });
  const lh = target.leafHashes[check.leaf]!;
  const provKey = providers[check.shard]!.p;
  const receipt = { pubKey: provKey.publicKey, signature: provKey.sign(retrievalReceiptSignBytes(CHAIN_ID, target.root, check.leaf, lh, check.nonce)), leafHash: lh, path: merkleProof(target.leafHashes, check.leaf) };
  const [ok, forged, served] = await Promise.all([
    proveStorage(client, { signer: p1.p, period, proofs: [answer(shards[0], 0, q1.leaves, false)] }),
    proveStorage(client, { signer: p2.p, period, proofs: [answer(shards[1], 1, q2.leaves, true)] }),
    reportRetrieval(client, { signer: carol, period, order, result: { type: 'served', value: receipt } }),
  ]);
  assert.deepEqual([ok.verified, ok.forged, ok.results], [1, 0, [{ order, shard: 0, verdict: 'verified', units: 1n, rewarded: ok.results[0]?.rewarded }]]);
  assert.deepEqual([forged.verified, forged.forged, forged.results], [0, 1, [{ order, shard: 1, verdict: 'forged', units: 0n, rewarded: false }]]);
  assert.deepEqual([served.served, served.shard, served.provider, served.fails, served.faulted], [true, check.shard, addr(provKey), 0, false]);
  await chainError(proveStorage(client, { signer: p1.p, period, proofs: [answer(shards[0], 0, q1.leaves, false)] }), 'storage.NOT_DUE', /already answered/);
  await chainError(reportRetrieval(client, { signer: carol, period, order, result: { type: 'failed', value: 'timeout' } }), 'storage.NOT_DUE');

  const after1 = (await getDeal(client, { order }))!;
  assert.deepEqual(after1.shards.map((s) => [s.status, s.proofs]), [['active', 1n], ['lost', 0n]]);

  // The lost shard, rebuilt byte for byte, goes to p3 on a new lease; the repairer (carol) earns the fee.
  await chainError(repairShard(client, { signer: carol, order, shard: 0, lease: l1, ack: ackOf(p1.p, l1, shards[0].root, shardBytes) }), 'storage.SHARD_NOT_LOST');
  const { leases: [l3] } = await buy([p3]);
  const repaired = await repairShard(client, { signer: carol, order, shard: 1, lease: l3!, ack: ackOf(p3.p, l3!, shards[1].root, shardBytes) });
  assert.deepEqual([repaired.from, repaired.to, repaired.fee], [addr(p2.p), addr(p3.p), REPAIR_FEE]);
  const after2 = (await getDeal(client, { order }))!;
  assert.deepEqual([after2.repairs, after2.reserve, after2.shards[1]?.lease, after2.shards[1]?.provider, after2.shards[1]?.status], [1, 0n, l3, addr(p3.p), 'active']);

  // Closed by a stranger: no; by carol: both leases close, the (spent) reserve returns nothing.
  await chainError(closeDeal(client, { signer: bob, order }), 'storage.NOT_CUSTOMER');
  const closed = await closeDeal(client, { signer: carol, order });
  assert.equal(closed.refunded, 0n);
  assert.deepEqual([...closed.leasesClosed].sort(), [l1, l3!].sort());
  const ended = (await getDeal(client, { order }))!;
  assert.equal(ended.status, 'ended');
  assert.equal(ended.endedHeight, BigInt(closed.height));
  await chainError(closeDeal(client, { signer: carol, order }), 'storage.DEAL_ENDED');
});

test('storage SDK errors: STORAGE_UNAVAILABLE from a node without the module, BAD_RESPONSE for a malformed answer', { timeout: 30_000 }, async () => {
  // An older node: its modules have no "storage" (the node's own 404, with the name put back).
  const old = await proxy({ path: (p) => p.replace('/v1/q/storage/', '/v1/q/nostorage/'), body: (_p, b) => b.replace(', storage,', ',').replace('nostorage', 'storage') });
  try {
    const c = createClient({ url: old.url });
    const queries = [() => getDeal(c, { order: 1n }), () => getDeals(c, { customer: addr(alice) }), () => getStorageChallenges(c, { provider: addr(bob) }), () => getRetrievalChecks(c, { checker: addr(bob) })];
    for (const q of queries) {
      await assert.rejects(q(), (e: unknown) => e instanceof ClientError && e.code === 'STORAGE_UNAVAILABLE' && /has no storage module/.test(e.message));
    }
  } finally {
    old.server.close();
  }
  // A node that answers the wrong shape: a clear error naming the field, never NaN or a cast.
  const liar = await proxy({
    body: (p, b) => {
      if (p.startsWith('/v1/q/storage/challenges')) return b.replace(/"period":"[0-9]+"/, '"period":"soon"');
      if (p.startsWith('/v1/q/storage/retrievals')) return JSON.stringify({ period: '1', checks: [{ order: '1', shard: 0, leaf: 0, leafCount: 4, root: 'ab', provider: addr(bob), nonce: '00'.repeat(32) }] });
      if (p.startsWith('/v1/q/storage/deals')) return '{"deals":null}';
      return b;
    },
  });
  try {
    const c = createClient({ url: liar.url });
    const badResponse = (re: RegExp) => (e: unknown) => e instanceof ClientError && e.code === 'BAD_RESPONSE' && re.test(e.message);
    await assert.rejects(getStorageChallenges(c, { provider: addr(bob) }), badResponse(/invalid period: "soon"/));
    await assert.rejects(getRetrievalChecks(c, { checker: addr(bob) }), badResponse(/invalid checks\[0\]\.root/));
    await assert.rejects(getDeals(c, { customer: addr(alice) }), badResponse(/invalid deals/));
  } finally {
    liar.server.close();
  }
});

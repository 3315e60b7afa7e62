import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { toHex, type Bytes } from '../../../core/bytes.js';
import { encodeAddress, type Ed25519Key } from '../../../core/keys.js';
import { merkleProof } from '../../../core/merkle.js';
import { LEAF_SIZE, leafHash, shardRoot, pieceRoot } from '../../../core/shardtree.js';
import { testKey } from '../../../testkit/index.js';
import { testChain, type TestChain } from '../../../testkit/chain.js';
import type { Event } from '../../events.js';
import { getAccount } from '../bank/keeper.js';
import { getCredits } from '../credits/keeper.js';
import { NO_CAPABILITIES, deviceSignBytes, makerSignBytes } from '../devices/types.js';
import { getDevice } from '../devices/keeper.js';
import { MARKET_EARNINGS, getLease, getOrder, getProvider, leaseIdsOf } from '../market/keeper.js';
import { challengeLeaves, challengesOf, getDeal, retrievalNonce, retrievalsFor, STORAGE_RESERVE } from './keeper.js';
import { retrievalReceiptSignBytes, shardAckSignBytes } from './signing.js';
import { getSeed } from './keeper.js';

const GW = 1_000_000n;
const CHAIN = 'test-chain';
const customer = testKey('st-customer');
const acme = testKey('st-maker');
const providers = [1, 2, 3, 4].map((i) => ({ p: testKey(`st-p${i}`), d: testKey(`st-d${i}`) }));
const PIECE = 4096;
const PERIOD = 20n;
const SEGMENTS = 2n;
const SHARD_BYTES = SEGMENTS * BigInt(PIECE);

interface Shard {
  data: Bytes;
  leafHashes: Bytes[];
  root: Bytes;
}

function makeShard(): Shard {
  const data = new Uint8Array(randomBytes(Number(SHARD_BYTES)));
  const leafHashes: Bytes[] = [];
  for (let i = 0; i < data.length; i += LEAF_SIZE) leafHashes.push(leafHash(data.subarray(i, i + LEAF_SIZE)));
  // One leaf per piece here: piece roots are the leaf hashes.
  return { data, leafHashes, root: shardRoot(leafHashes.map((h) => pieceRoot([h]))) };
}

const attr = (e: Event, k: string): string | undefined => e.attributes.find((a) => a.key === k)?.value;
const ofType = (ev: Event[], t: string): Event[] => ev.filter((e) => e.type === t);

async function setup(extra: Record<string, unknown> = {}): Promise<TestChain> {
  const c = await testChain({
    chainId: CHAIN,
    fee: 200_000n,
    balances: [customer, ...providers.map((x) => x.p)].map((k) => [k, 10_000n * GW] as [Ed25519Key, bigint]),
    app: {
      devices: { makers: [{ name: 'acme', pubKey: toHex(acme.publicKey) }] },
      credits: { balances: [customer, ...providers.map((x) => x.p)].map((k) => ({ address: encodeAddress(k.address), amount: '100000000' })) },
      storage: { params: { periodBlocks: PERIOD.toString(), leavesPerChallenge: 2, missesToLose: 2, retrievalFailuresToFault: 2 } },
      ...extra,
    },
  });
  for (const { p, d } of providers) {
    await c.ok(p, 'devices/onboard', {
      kind: 'storage',
      deviceKey: d.publicKey,
      maker: 'acme',
      makerSignature: acme.sign(makerSignBytes(CHAIN, 'storage', d.publicKey)),
      deviceSignature: d.sign(deviceSignBytes(CHAIN, p.address)),
      capabilities: { ...NO_CAPABILITIES, capacityBytes: 1n << 40n, bandwidthMbps: 1000 },
    });
    await c.ok(p, 'staking/delegate', { operator: p.address, amount: 200n * GW });
    await c.ok(p, 'market/register-provider', { hostUri: 'http://127.0.0.1:8700', attributes: [] });
  }
  return c;
}

/** A storage order of `replicas` leases, bid on by `bidders` (in that price order) and matched; returns order id and lease ids. */
async function buyLeases(c: TestChain, bidders: number[], denom: 'ugw' | 'dc' = 'ugw'): Promise<{ order: bigint; leases: bigint[] }> {
  const r = await c.ok(customer, 'market/create-order', {
    spec: { type: 'storage', value: { bytes: 1n << 20n, durationBlocks: 200n } },
    replicas: bidders.length,
    region: [],
    attributes: [],
    minReputationBps: 0,
    maxPrice: 1000n,
    denom,
    deposit: 1_000_000n,
    bidWindowBlocks: 6n,
  });
  const order = BigInt(attr(r.events.find((e) => e.type === 'market.order.created') as Event, 'order') as string);
  for (const [i, b] of bidders.entries()) {
    const x = providers[b] as { p: Ed25519Key; d: Ed25519Key };
    await c.ok(x.p, 'market/bid', { order, device: x.d.publicKey, price: 100n + BigInt(i) });
  }
  await c.until(c.height + 7n);
  const leases = leaseIdsOf(c.app.state, order);
  assert.equal(leases.length, bidders.length);
  // Lease order = the bidders' order (ids are given in rank order).
  return { order, leases };
}

function ack(k: Ed25519Key, lease: bigint, root: Bytes, bytes = SHARD_BYTES) {
  return { pubKey: k.publicKey, signature: k.sign(shardAckSignBytes(CHAIN, lease, root, bytes)) };
}

/** `storage/create-deal` of a 2+1 deal: shard j on lease j, acked by provider j (unless `acks` are given). */
function dealMsg(order: bigint, leases: bigint[], shards: Shard[], acks = leases.map((l, j) => ack((providers[j] as { p: Ed25519Key }).p, l, (shards[j] as Shard).root))) {
  return {
    order,
    size: 10_000n,
    k: 2,
    m: 1,
    pieceSize: PIECE,
    segments: SEGMENTS,
    shards: leases.map((lease, j) => ({ lease, root: (shards[j] as Shard).root, ack: acks[j] })),
  };
}

function answer(c: TestChain, s: Shard, order: bigint, shard: number, period: bigint, forge = false) {
  const seed = getSeed(c.app.state, period) as Bytes;
  const leafCount = s.leafHashes.length;
  const indices = challengeLeaves(seed, order, shard, 2, leafCount);
  return {
    order,
    shard,
    leaves: indices.map((i) => {
      const data = Uint8Array.from(s.data.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE));
      if (forge) data[0] = (data[0] as number) ^ 1;
      return { data, path: merkleProof(s.leafHashes, i) };
    }),
  };
}

async function toPeriodStart(c: TestChain): Promise<{ period: bigint; events: Event[] }> {
  const next = (c.height / PERIOD + 1n) * PERIOD;
  const events = await c.until(next);
  return { period: next / PERIOD, events };
}

test('storage deal: create, challenges answered, missed and forged proofs punished, retrieval checks, repair, close', async () => {
  const c = await setup();
  try {
    const { order, leases } = await buyLeases(c, [0, 1, 2]);
    const shards = [makeShard(), makeShard(), makeShard()];
    const deal = (acks?: ReturnType<typeof ack>[]) => dealMsg(order, leases, shards, acks);
    // Bad deals: each refused with its reason.
    const wrongSigner = leases.map((l, j) => ack((providers[(j + 1) % 3] as { p: Ed25519Key }).p, l, (shards[j] as Shard).root));
    await c.fails(customer, 'storage/create-deal', deal(wrongSigner), 'storage.INVALID_ACK', /not the lease's provider/);
    const wrongRoot = leases.map((l, j) => ack((providers[j] as { p: Ed25519Key }).p, l, (shards[(j + 1) % 3] as Shard).root));
    await c.fails(customer, 'storage/create-deal', deal(wrongRoot), 'storage.INVALID_ACK', /does not cover/);
    await c.fails((providers[3] as { p: Ed25519Key }).p, 'storage/create-deal', deal(), 'storage.NOT_CUSTOMER');
    await c.fails(customer, 'storage/create-deal', { ...deal(), k: 3, m: 1 }, 'storage.INVALID_DEAL', /4 shards/);
    await c.fails(customer, 'storage/create-deal', { ...deal(), size: 100_000n }, 'storage.INVALID_DEAL', /do not hold/);
    const before = getAccount(c.app.state, customer.address).balance;
    await c.ok(customer, 'storage/create-deal', deal());
    await c.fails(customer, 'storage/create-deal', deal(), 'storage.DEAL_EXISTS');
    const d0 = getDeal(c.app.state, order);
    assert.equal(d0?.status, 'active');
    assert.equal(d0?.reserve, 1_000_000n, 'one repair fee per parity shard is held');
    assert.equal(getAccount(c.app.state, STORAGE_RESERVE).balance, 1_000_000n);
    assert.ok(before > 0n);

    // Period 1: everyone is challenged (fewer shards than challengesPerProvider). p0 answers,
    // p1 stays silent, p2 forges.
    const { period } = await toPeriodStart(c);
    const q = challengesOf(c.app.state, (providers[0] as { p: Ed25519Key }).p.address, period);
    assert.equal(q.length, 1);
    assert.deepEqual(q[0]?.leaves, challengeLeaves(getSeed(c.app.state, period) as Bytes, order, 0, 2, 2));
    assert.ok(leases.every((l) => getLease(c.app.state, l)?.gated), 'the deal gates its leases: payments held until verified');
    // p1 takes what it earned before the deal; what it earned since is held.
    const w = await c.ok((providers[1] as { p: Ed25519Key }).p, 'market/withdraw', {});
    assert.equal(ofType(w.events, 'market.withdraw').length, 1);
    assert.ok(BigInt(attr(ofType(w.events, 'market.withdraw')[0] as Event, 'held') as string) > 0n);
    await c.fails((providers[1] as { p: Ed25519Key }).p, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW', /held until its storage proofs verify/);
    const ok = await c.ok((providers[0] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[0] as Shard, order, 0, period)] });
    assert.equal(ofType(ok.events, 'storage.proof.verified').length, 1);
    const released = ofType(ok.events, 'market.lease.released');
    assert.equal(released.length, 1, 'a verified proof releases the held payments');
    assert.ok(BigInt(attr(released[0] as Event, 'amount') as string) > 0n);
    assert.equal(getProvider(c.app.state, (providers[0] as { p: Ed25519Key }).p.address)?.held, 0n);
    assert.equal(ofType(ok.events, 'rewards.contribution').length, 1, 'verified storage counts for the storage pool');
    await c.fails((providers[0] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[0] as Shard, order, 0, period)] }, 'storage.NOT_DUE', /already answered/);
    await c.fails((providers[3] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[1] as Shard, order, 1, period)] }, 'storage.NOT_DUE');
    const bad = answer(c, shards[2] as Shard, order, 2, period);
    await c.fails((providers[2] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [{ ...bad, leaves: bad.leaves.slice(0, 1) }] }, 'storage.MALFORMED_PROOF');
    const forged = await c.ok((providers[2] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[2] as Shard, order, 2, period, true)] });
    assert.equal(ofType(forged.events, 'storage.proof.forged').length, 1);
    assert.equal(ofType(forged.events, 'penalties.slash').length, 1, 'a forged proof is slashed');
    const forfeited = ofType(forged.events, 'market.lease.forfeited');
    assert.equal(forfeited.length, 1, "the forger's held payments go back to the customer");
    assert.ok(BigInt(attr(forfeited[0] as Event, 'amount') as string) > 0n);
    assert.equal(getLease(c.app.state, leases[2] as bigint)?.held, 0n);
    assert.equal(getProvider(c.app.state, (providers[2] as { p: Ed25519Key }).p.address)?.held, 0n);
    assert.equal(getDevice(c.app.state, (providers[2] as { d: Ed25519Key }).d.publicKey)?.status, 'jailed');
    assert.equal(getLease(c.app.state, leases[2] as bigint)?.closeReason, 'failed-verification');
    assert.equal(getDeal(c.app.state, order)?.shards[2]?.status, 'lost');

    // The retrieval check of this period: served with a valid receipt (or reported failed).
    const rq = retrievalsFor(c.app.state, customer.address, period);
    assert.equal(rq.length, 1);
    const check = { shard: rq[0]?.due.shard as number, leaf: rq[0]?.due.leaf as number, nonce: toHex(rq[0]?.nonce as Bytes) };
    const target = shards[check.shard] as Shard;
    const lh = target.leafHashes[check.leaf] as Bytes;
    const seed = getSeed(c.app.state, period) as Bytes;
    assert.equal(toHex(retrievalNonce(seed, order)), check.nonce);
    const signer = (providers[check.shard] as { p: Ed25519Key }).p;
    const receipt = { pubKey: signer.publicKey, signature: signer.sign(retrievalReceiptSignBytes(CHAIN, target.root, check.leaf, lh, retrievalNonce(seed, order))), leafHash: lh, path: merkleProof(target.leafHashes, check.leaf) };
    const wrongLeaf = { ...receipt, leafHash: target.leafHashes[1 - check.leaf] as Bytes };
    await c.fails(customer, 'storage/retrieval-report', { period, order, result: { type: 'served', value: wrongLeaf } }, 'storage.INVALID_RECEIPT');
    await c.fails((providers[3] as { p: Ed25519Key }).p, 'storage/retrieval-report', { period, order, result: { type: 'failed', value: 'timeout' } }, 'storage.NOT_CHECKER');
    const served = await c.ok(customer, 'storage/retrieval-report', { period, order, result: { type: 'served', value: receipt } });
    assert.equal(ofType(served.events, 'storage.retrieval.served').length, 1);

    // Period end: p1's silence is a fault (a warning: free faults first).
    const p2 = await toPeriodStart(c);
    const missed = ofType(p2.events, 'storage.proof.missed');
    assert.equal(missed.length, 1);
    assert.equal(attr(missed[0] as Event, 'provider'), encodeAddress((providers[1] as { p: Ed25519Key }).p.address));
    assert.equal(ofType(p2.events, 'penalties.warning').length, 1);
    // p0 answers again; p1 misses a second time: its shard is lost (missesToLose 2).
    await c.ok((providers[0] as { p: Ed25519Key }).p, 'storage/prove', { period: p2.period, proofs: [answer(c, shards[0] as Shard, order, 0, p2.period)] });
    const p3 = await toPeriodStart(c);
    assert.equal(ofType(p3.events, 'storage.shard.lost').length, 1);
    assert.equal(getLease(c.app.state, leases[1] as bigint)?.closeReason, 'failed-verification');
    const d1 = getDeal(c.app.state, order);
    assert.deepEqual(d1?.shards.map((s) => s.status), ['active', 'lost', 'lost']);

    // Repair shard 2 onto p3 (provider index 3) through a new lease; the ack must carry the same root.
    const { leases: [newLease] } = await buyLeases(c, [3]);
    const p4 = (providers[3] as { p: Ed25519Key }).p;
    await c.fails(customer, 'storage/repair', { order, shard: 0, lease: newLease, ack: ack(p4, newLease as bigint, (shards[0] as Shard).root) }, 'storage.SHARD_NOT_LOST');
    await c.fails(customer, 'storage/repair', { order, shard: 2, lease: newLease, ack: ack(p4, newLease as bigint, (shards[0] as Shard).root) }, 'storage.INVALID_ACK');
    const fixed = await c.ok(customer, 'storage/repair', { order, shard: 2, lease: newLease, ack: ack(p4, newLease as bigint, (shards[2] as Shard).root) });
    assert.equal(ofType(fixed.events, 'storage.shard.repaired').length, 1);
    const d2 = getDeal(c.app.state, order);
    assert.equal(d2?.shards[2]?.status, 'active');
    assert.equal(d2?.reserve, 0n, 'the repair fee came out of the reserve');
    await c.fails(customer, 'storage/repair', { order, shard: 1, lease: newLease, ack: ack(p4, newLease as bigint, (shards[1] as Shard).root) }, 'storage.INVALID_REPAIR');

    // The books after release and forfeit: the earnings account holds exactly the providers'
    // unwithdrawn earnings, and every order's deposits are paid, refunded or still in escrow.
    const earnings = providers.reduce((a, x) => a + (getProvider(c.app.state, x.p.address)?.earnings ?? 0n), 0n);
    assert.equal(getAccount(c.app.state, MARKET_EARNINGS).balance, earnings);
    for (let id = 1n; getOrder(c.app.state, id); id++) {
      const o = getOrder(c.app.state, id) as { deposited: bigint; paid: bigint; refunded: bigint; escrow: bigint };
      assert.equal(o.deposited, o.paid + o.refunded + o.escrow, `order ${id} books`);
    }

    // The customer closes the deal: the active shards' leases close, the deal ends.
    await c.fails(p4, 'storage/close-deal', { order }, 'storage.NOT_CUSTOMER');
    const closed = await c.ok(customer, 'storage/close-deal', { order });
    assert.equal(ofType(closed.events, 'storage.deal.ended').length, 1);
    assert.equal(getLease(c.app.state, leases[0] as bigint)?.closeReason, 'customer');
    assert.equal(getLease(c.app.state, newLease as bigint)?.status, 'closed');
    assert.equal(getDeal(c.app.state, order)?.status, 'ended');
    await c.fails(customer, 'storage/close-deal', { order }, 'storage.DEAL_ENDED');
    // No more challenges for it.
    const p5 = await toPeriodStart(c);
    assert.equal(attr(ofType(p5.events, 'storage.period')[0] as Event, 'challenges'), '0');
  } finally {
    await c.close();
  }
});

test('storage: a failing retrieval check twice in a row is a fault of the provider', async () => {
  const c = await setup();
  try {
    const { order, leases } = await buyLeases(c, [0]);
    const shards = [makeShard()];
    await c.ok(customer, 'storage/create-deal', {
      order,
      size: 5_000n,
      k: 1,
      m: 0,
      pieceSize: PIECE,
      segments: SEGMENTS,
      shards: leases.map((lease, j) => ({ lease, root: (shards[j] as Shard).root, ack: ack((providers[j] as { p: Ed25519Key }).p, lease, (shards[j] as Shard).root) })),
    });
    const faults: Event[] = [];
    for (let i = 0; i < 2; i++) {
      const { period } = await toPeriodStart(c);
      const r = await c.ok(customer, 'storage/retrieval-report', { period, order, result: { type: 'failed', value: 'timeout' } });
      assert.equal(ofType(r.events, 'storage.retrieval.failed').length, 1);
      faults.push(...r.events.filter((e) => e.type.startsWith('penalties.')));
    }
    assert.equal(faults.length, 1, 'the second consecutive failure is a fault');
  } finally {
    await c.close();
  }
});

test('storage: the miss that loses a shard closes its lease as failed-verification even when its fault jails the device', async () => {
  const c = await setup({
    penalties: { params: { freeFaults: 2, jailFaults: 3 } },
    storage: { params: { periodBlocks: PERIOD.toString(), leavesPerChallenge: 2, missesToLose: 3, retrievalFailuresToFault: 2 } },
  });
  try {
    const { order, leases } = await buyLeases(c, [0]);
    const shard = makeShard();
    const lease = leases[0] as bigint;
    await c.ok(customer, 'storage/create-deal', { order, size: 5_000n, k: 1, m: 0, pieceSize: PIECE, segments: SEGMENTS, shards: [{ lease, root: shard.root, ack: ack((providers[0] as { p: Ed25519Key }).p, lease, shard.root) }] });
    // Three periods without an answer: faults 1 and 2 warn, fault 3 jails; miss 3 loses the shard.
    for (let i = 0; i < 4; i++) await toPeriodStart(c);
    assert.equal(getDevice(c.app.state, (providers[0] as { d: Ed25519Key }).d.publicKey)?.status, 'jailed');
    assert.equal(getLease(c.app.state, lease)?.closeReason, 'failed-verification');
    assert.equal(getDeal(c.app.state, order)?.shards[0]?.status, 'lost');
  } finally {
    await c.close();
  }
});

test('storage deal paid in DC: payments stay escrowed while held; a verified proof burns them as storage work, a lost shard returns them to the order', async () => {
  const c = await setup();
  try {
    const { order, leases } = await buyLeases(c, [0, 1, 2], 'dc');
    const shards = [makeShard(), makeShard(), makeShard()];
    await c.ok(customer, 'storage/create-deal', dealMsg(order, leases, shards));
    assert.ok(leases.every((l) => getLease(c.app.state, l)?.gated));
    const { period } = await toPeriodStart(c);
    // Settled to now: what each lease was paid since the deal is held, not burned, not work yet.
    await c.ok(customer, 'market/topup', { order, amount: 1n });
    const held = leases.map((l) => getLease(c.app.state, l)?.held ?? 0n);
    assert.ok(held.every((h) => h > 0n), `held DC on every lease: ${held.join(', ')}`);
    const o0 = getOrder(c.app.state, order);
    assert.equal(o0?.deposited, (o0?.paid ?? 0n) + (o0?.refunded ?? 0n) + (o0?.escrow ?? 0n), 'deposited = paid (held included) + refunded + escrow');
    // p0 proves: its held DC are burned and count as its storage work, with what accrued since.
    const ok = await c.ok((providers[0] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[0] as Shard, order, 0, period)] });
    const released = BigInt(attr(ofType(ok.events, 'market.lease.released')[0] as Event, 'amount') as string);
    assert.ok(released >= (held[0] as bigint));
    const work = ofType(ok.events, 'rewards.contribution').filter((e) => attr(e, 'recipient') === encodeAddress((providers[0] as { p: Ed25519Key }).p.address));
    assert.ok(work.length >= 1, 'the released DC count as storage work');
    assert.equal(getLease(c.app.state, leases[0] as bigint)?.held, 0n);
    // p2 forges: its held DC go back into the order's escrow (no work, nothing burned).
    const escrowBefore = getOrder(c.app.state, order)?.escrow ?? 0n;
    const forged = await c.ok((providers[2] as { p: Ed25519Key }).p, 'storage/prove', { period, proofs: [answer(c, shards[2] as Shard, order, 2, period, true)] });
    const back = BigInt(attr(ofType(forged.events, 'market.lease.forfeited')[0] as Event, 'amount') as string);
    assert.ok(back >= (held[2] as bigint));
    assert.equal(ofType(forged.events, 'rewards.contribution').filter((e) => attr(e, 'recipient') === encodeAddress((providers[2] as { p: Ed25519Key }).p.address)).length, 0, 'no work for a forger');
    const o1 = getOrder(c.app.state, order);
    assert.ok((o1?.escrow ?? 0n) >= escrowBefore + back - 1000n * 3n, 'the forfeited DC are back in the escrow (less this block\'s payments)');
    assert.equal(o1?.deposited, (o1?.paid ?? 0n) + (o1?.refunded ?? 0n) + (o1?.escrow ?? 0n));
    // The customer ends it: the rest of the escrow comes back as DC.
    const dcBefore = getCredits(c.app.state, customer.address);
    await c.ok(customer, 'market/close-order', { order });
    const o2 = getOrder(c.app.state, order);
    assert.equal(o2?.status, 'closed');
    assert.equal(getCredits(c.app.state, customer.address), dcBefore + (o1?.escrow ?? 0n) - ((o2?.paid ?? 0n) - (o1?.paid ?? 0n)), 'the unspent DC are back');
  } finally {
    await c.close();
  }
});

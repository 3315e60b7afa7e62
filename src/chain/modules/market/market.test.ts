import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latLngToCell, cellToParent } from 'h3-js';
import { compare as compareBytes, toHex } from '../../../core/bytes.js';
import type { Ed25519Key } from '../../../core/keys.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { testKey } from '../../../testkit/index.js';
import { testChain, type TestChain } from '../../../testkit/chain.js';
import { getAccount, getSupply } from '../bank/keeper.js';
import { getCredits } from '../credits/keeper.js';
import { NO_CAPABILITIES, deviceSignBytes, makerSignBytes, type Capabilities } from '../devices/types.js';
import { TREASURY } from '../rewards/keeper.js';
import { MARKET_EARNINGS, MARKET_ESCROW, MAX_RECLAIM, MAX_RECLAIM_SCAN, activeLeaseIdsOf, bidsOf, getLease, getOrder, getProvider, leaseIdsOf, reputationOf } from './keeper.js';
import { ORDER_PREFIX, PROVIDER_BIDS_PREFIX, range, readU64b } from './keys.js';
import { marketParams } from './params.js';
import type { LeaseRecord, OrderRecord } from './types.js';

const GW = 1_000_000n;
const GiB = 1n << 30n;
const TiB = 1n << 40n;
const customer = testKey('market-customer');
const p1 = testKey('market-p1');
const p2 = testKey('market-p2');
const p3 = testKey('market-p3');
const acme = testKey('maker-acme');
const d1 = testKey('market-d1');
const d2 = testKey('market-d2');
const d3 = testKey('market-d3');
const paris = latLngToCell(48.8566, 2.3522, 10);
const france = cellToParent(paris, 3);
const tokyo = latLngToCell(35.68, 139.69, 10);

const storageCaps: Capabilities = { ...NO_CAPABILITIES, capacityBytes: 4n * TiB, bandwidthMbps: 1000 };

async function setup(marketParams: Record<string, string> = {}): Promise<TestChain> {
  const c = await testChain({
    chainId: 'test-chain',
    balances: [customer, p1, p2, p3].map((k) => [k, 10_000n * GW] as [Ed25519Key, bigint]),
    app: {
      devices: { makers: [{ name: 'acme', pubKey: toHex(acme.publicKey) }] },
      credits: { balances: [customer, p1, p2, p3].map((k) => ({ address: encodeAddress(k.address), amount: '100000000' })) },
      market: { params: marketParams },
    },
  });
  // Two providers with a storage device each (p1 in Paris, p2 in Tokyo), stake, registration.
  await addProvider(c, p1, d1, paris);
  await addProvider(c, p2, d2, tokyo);
  return c;
}

/** `devices/onboard` of storage device `d` (made by acme) for `p`. */
function onboardMsg(p: Ed25519Key, d: Ed25519Key, capabilities: Capabilities = storageCaps) {
  return {
    kind: 'storage',
    deviceKey: d.publicKey,
    maker: 'acme',
    makerSignature: acme.sign(makerSignBytes('test-chain', 'storage', d.publicKey)),
    deviceSignature: d.sign(deviceSignBytes('test-chain', p.address)),
    capabilities,
  };
}

/** A provider with a storage device (located in `cell`), self-bonded stake and a registration. */
async function addProvider(c: TestChain, p: Ed25519Key, d: Ed25519Key, cell?: string): Promise<void> {
  await c.ok(p, 'devices/onboard', onboardMsg(p, d));
  if (cell) await c.ok(p, 'devices/assert-location', { device: d.publicKey, cell });
  await c.ok(p, 'staking/delegate', { operator: p.address, amount: 200n * GW });
  await c.ok(p, 'market/register-provider', { hostUri: 'http://127.0.0.1:8700', attributes: [{ key: 'tier', value: 'home' }] });
}

function orderMsg(o: Partial<{ bytes: bigint; duration: bigint; replicas: number; region: string[]; attrs: { key: string; value: string }[]; minRep: number; maxPrice: bigint; denom: 'ugw' | 'dc'; deposit: bigint; window: bigint }> = {}) {
  return {
    spec: { type: 'storage', value: { bytes: o.bytes ?? GiB, durationBlocks: o.duration ?? 100n } },
    replicas: o.replicas ?? 1,
    region: o.region ?? [],
    attributes: o.attrs ?? [],
    minReputationBps: o.minRep ?? 0,
    maxPrice: o.maxPrice ?? 1000n,
    denom: o.denom ?? 'ugw',
    deposit: o.deposit ?? 100_000n,
    bidWindowBlocks: o.window ?? 3n,
  };
}

function lastOrderId(store: KVReader): bigint {
  let id = 0n;
  const [s, e] = range(ORDER_PREFIX);
  for (const [k] of store.iterate(s, e)) id = readU64b(k, s.length);
  return id;
}

/**
 * The market's books balance: per order deposited = paid + refunded + escrow; the escrow
 * account holds every ugw escrow, standing bid deposit and active lease deposit; the earnings
 * account holds every provider's unwithdrawn earnings; active-lease counters agree with leases.
 */
function checkBooks(store: KVReader): void {
  let escrowUgw = 0n;
  let deposits = 0n;
  let earnings = 0n;
  const providers = new Set<string>();
  const bidIndex: string[] = [];
  const [s, e] = range(ORDER_PREFIX);
  for (const [k] of store.iterate(s, e)) {
    const id = readU64b(k, s.length);
    const o = getOrder(store, id) as OrderRecord;
    assert.equal(o.deposited, o.paid + o.refunded + o.escrow, `order ${id}: deposited = paid + refunded + escrow`);
    if (o.denom === 'ugw') escrowUgw += o.escrow;
    const bids = bidsOf(store, id);
    assert.equal(bids.length, o.bids, `order ${id}: bid count`);
    for (const b of bids) {
      deposits += b.deposit;
      bidIndex.push(`${toHex(b.provider)}/${id}`);
    }
    if (o.status === 'closed') assert.equal(bids.length, 0, `order ${id}: a closed order keeps no bid`);
    let active = 0;
    let rate = 0n;
    let paid = 0n;
    for (const lid of leaseIdsOf(store, id)) {
      const l = getLease(store, lid) as LeaseRecord;
      providers.add(toHex(l.provider));
      paid += l.paid;
      if (l.status === 'active') {
        active++;
        rate += l.price;
        deposits += l.deposit;
      }
    }
    assert.equal(active, o.activeLeases, `order ${id}: active leases`);
    assert.equal(rate, o.rate, `order ${id}: rate`);
    assert.equal(paid, o.paid, `order ${id}: paid = sum of its leases' paid`);
    if (o.status === 'closed') assert.equal(o.escrow, 0n, `order ${id}: a closed order keeps no escrow`);
  }
  // Every stored bid, standing or lost, is in its provider's bid index, and nothing else is.
  const [ps, pe] = range(PROVIDER_BIDS_PREFIX);
  const indexed = [...store.iterate(ps, pe)].map(([k]) => `${toHex(k.subarray(ps.length, ps.length + 20))}/${readU64b(k, ps.length + 20)}`);
  assert.deepEqual(indexed.sort(), bidIndex.sort(), 'provider bid index = stored bids');
  for (const p of [p1, p2, p3]) {
    const r = getProvider(store, p.address);
    if (r) {
      earnings += r.earnings;
      assert.equal(activeLeaseIdsOf(store, p.address).length, r.activeLeases, 'provider active leases');
    }
  }
  assert.equal(getAccount(store, MARKET_ESCROW).balance, escrowUgw + deposits, 'escrow account = ugw escrows + deposits');
  assert.equal(getAccount(store, MARKET_EARNINGS).balance, earnings, 'earnings account = providers’ earnings');
}

test('market: order → bids → the cheaper eligible bid wins at the window’s end → paid per block → runs dry → closes with its reason, refund, withdraw', async () => {
  const c = await setup({ standbyBlocks: '2' });
  try {
    const customerBefore = getAccount(c.app.state, customer.address).balance;
    const supply0 = getSupply(c.app.state);
    // 10 blocks at 800 + the take... the deposit covers 12 blocks at 800 plus 400.
    const r = await c.ok(customer, 'market/create-order', orderMsg({ maxPrice: 1000n, deposit: 10_000n, window: 3n }));
    const id = lastOrderId(c.app.state);
    assert.equal(id, 1n);
    const created = r.events.find((e) => e.type === 'market.order.created');
    assert.ok(created, 'order event');
    const o0 = getOrder(c.app.state, id) as OrderRecord;
    assert.equal(o0.status, 'open');
    await c.ok(p1, 'market/bid', { order: id, device: d1.publicKey, price: 900n });
    await c.ok(p2, 'market/bid', { order: id, device: d2.publicKey, price: 800n });
    checkBooks(c.app.state);
    await c.until(o0.bidWindowEnd);
    const o1 = getOrder(c.app.state, id) as OrderRecord;
    assert.equal(o1.status, 'active');
    assert.equal(o1.activeLeases, 1);
    const [lid] = leaseIdsOf(c.app.state, id);
    const l = getLease(c.app.state, lid as bigint) as LeaseRecord;
    assert.equal(encodeAddress(l.provider), encodeAddress(p2.address), 'the cheaper bid won');
    assert.equal(l.price, 800n);
    // The losing bid stays (matching does no work per loser): for market.standbyBlocks (2 here)
    // it is the order's standby, which the customer may take to replace a lease, so its provider
    // cannot take the deposit back yet; after that its provider's withdraw does.
    assert.deepEqual(bidsOf(c.app.state, id).map((b) => encodeAddress(b.provider)), [encodeAddress(p1.address)], 'the losing bid stays, lost');
    checkBooks(c.app.state);
    await c.fails(p1, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW', /1 lost bid is still its order's standby/);
    assert.equal(bidsOf(c.app.state, id).length, 1, 'still there at the standby time’s last block but one');
    await c.until(o1.bidWindowEnd + 2n);
    const p1Before = getAccount(c.app.state, p1.address).balance;
    const w1 = await c.ok(p1, 'market/withdraw', {});
    const deposit = marketParams.defaults.bidDeposit;
    assert.equal(getAccount(c.app.state, p1.address).balance, p1Before + deposit - 50_000n, 'the deposit back, minus the tx fee');
    assert.equal(bidsOf(c.app.state, id).length, 0);
    assert.deepEqual(
      w1.events.filter((e) => e.type === 'market.bid.removed' || e.type === 'market.withdraw').map((e) => [e.type, e.attributes.find((a) => a.key === (e.type === 'market.withdraw' ? 'deposits' : 'reason'))?.value]),
      [['market.bid.removed', 'lost'], ['market.withdraw', deposit.toString()]],
    );
    await c.fails(p1, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW', /no lost bid/);
    checkBooks(c.app.state);
    // Paid per block, settled lazily: a withdraw settles to now.
    await c.until(o1.bidWindowEnd + 5n);
    await c.ok(p2, 'market/withdraw', {});
    const l5 = getLease(c.app.state, lid as bigint) as LeaseRecord;
    assert.equal(l5.paid, 800n * 6n, 'six blocks paid (the withdraw block included)');
    assert.equal(l5.earned, 800n * 6n - (800n * 6n * 1000n) / 10_000n, 'minus the 10% take');
    checkBooks(c.app.state);
    // The escrow runs dry at 12 blocks: the lease closes by itself with insufficient-funds.
    await c.until(o1.bidWindowEnd + 14n);
    const l2 = getLease(c.app.state, lid as bigint) as LeaseRecord;
    assert.equal(l2.status, 'closed');
    assert.equal(l2.closeReason, 'insufficient-funds');
    assert.equal(l2.closedHeight, o1.bidWindowEnd + 12n);
    assert.equal(l2.paid, 9_600n);
    const o2 = getOrder(c.app.state, id) as OrderRecord;
    assert.equal(o2.status, 'closed');
    assert.equal(o2.closeReason, 'insufficient-funds');
    assert.equal(o2.refunded, 400n);
    checkBooks(c.app.state);
    // The provider's share reached its earnings; withdraw pays it out; a second withdraw has nothing.
    const p2Before = getAccount(c.app.state, p2.address).balance;
    const earned = (getProvider(c.app.state, p2.address) as { earnings: bigint }).earnings;
    assert.ok(earned > 0n);
    await c.ok(p2, 'market/withdraw', {});
    assert.equal(getAccount(c.app.state, p2.address).balance, p2Before + earned - 50_000n, 'earnings minus the tx fee');
    await c.fails(p2, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW');
    // The customer paid 9,600 + its fees; the take went to the treasury and burn.
    const fees = 1n * 50_000n;
    assert.equal(getAccount(c.app.state, customer.address).balance, customerBefore - 9_600n - fees);
    const take = 960n;
    assert.equal(getSupply(c.app.state) <= supply0, true);
    assert.ok(getAccount(c.app.state, TREASURY).balance >= take / 2n);
    // An expired lease is a success for the provider's reputation; running dry is no evidence.
    assert.equal(reputationOf(getProvider(c.app.state, p2.address) as { alpha: bigint; beta: bigint }), 10_000n);
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});

test('market: a lost bid is its order\'s standby (its provider cannot withdraw it for market.standbyBlocks); the customer takes it to replace a lease it closed (and not while the order has all its leases)', async () => {
  const c = await setup();
  try {
    // A third provider, so a 2-lease order has a loser.
    await addProvider(c, p3, d3);
    await c.ok(customer, 'market/create-order', orderMsg({ replicas: 2, duration: 50n }));
    const id = lastOrderId(c.app.state);
    await c.ok(p1, 'market/bid', { order: id, device: d1.publicKey, price: 300n });
    await c.ok(p2, 'market/bid', { order: id, device: d2.publicKey, price: 200n });
    await c.ok(p3, 'market/bid', { order: id, device: d3.publicKey, price: 400n });
    await c.until((getOrder(c.app.state, id) as OrderRecord).bidWindowEnd);
    const o1 = getOrder(c.app.state, id) as OrderRecord;
    assert.deepEqual([o1.status, o1.activeLeases, o1.bids], ['active', 2, 1], 'p1 and p2 won; p3 lost and its bid stays');
    checkBooks(c.app.state);
    const full = await c.fails(customer, 'market/accept-bid', { order: id, provider: p3.address }, 'market.ORDER_NOT_OPEN');
    assert.match(full.log, /with all 2 of its leases running/);
    // p3's agent withdraws right after the match (as it does every 100 blocks): the standby stays.
    await c.fails(p3, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW', /1 lost bid is still its order's standby/);
    // p1's upload failed, say: the customer closes its lease and takes p3's lost bid instead.
    const [l1] = leaseIdsOf(c.app.state, id).filter((lid) => encodeAddress((getLease(c.app.state, lid) as LeaseRecord).provider) === encodeAddress(p1.address));
    await c.ok(customer, 'market/close-lease', { lease: l1 as bigint, reason: null });
    assert.equal((getOrder(c.app.state, id) as OrderRecord).activeLeases, 1);
    await c.fails(p2, 'market/accept-bid', { order: id, provider: p3.address }, 'market.NOT_CUSTOMER');
    await c.fails(customer, 'market/accept-bid', { order: id, provider: p1.address }, 'market.BID_NOT_FOUND');
    const r = await c.ok(customer, 'market/accept-bid', { order: id, provider: p3.address });
    const created = r.events.find((e) => e.type === 'market.lease.created');
    assert.ok(created, 'a lease for p3');
    const o2 = getOrder(c.app.state, id) as OrderRecord;
    assert.deepEqual([o2.status, o2.activeLeases, o2.bids, o2.rate], ['active', 2, 0, 600n], 'two leases again, at 200 + 400');
    checkBooks(c.app.state);
    await c.fails(customer, 'market/accept-bid', { order: id, provider: p3.address }, 'market.ORDER_NOT_OPEN');
    // The replacement is paid per block like the others.
    await c.block();
    await c.block();
    await c.ok(customer, 'market/topup', { order: id, amount: 1n });
    const l3 = BigInt(created.attributes.find((a) => a.key === 'lease')?.value ?? '0');
    const lr = getLease(c.app.state, l3) as LeaseRecord;
    assert.equal(lr.paid, 400n * (BigInt(c.app.height) - lr.startHeight), 'every block since its start at 400');
    assert.ok(lr.paid > 0n);
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});

test('market: one withdraw does bounded work: MAX_RECLAIM lost bids taken back (more: withdraw again), MAX_RECLAIM_SCAN bid-index entries looked at', { timeout: 120_000 }, async () => {
  const c = await setup({ standbyBlocks: '1' });
  try {
    /** One block with `msgs` from `from`, 32 to a tx; every tx must succeed. */
    const inBlock = async (from: Ed25519Key, msgs: { type: string; value: unknown }[]): Promise<void> => {
      const txs = [];
      for (let i = 0; i < msgs.length; i += 32) txs.push(c.tx(from, msgs.slice(i, i + 32)));
      const r = await c.block(txs);
      for (const t of r.txResults) assert.equal(t.code, 0, `${t.codespace}.${t.error} ${t.log}`);
    };
    const orders = async (count: number, window: bigint): Promise<bigint[]> => {
      const first = lastOrderId(c.app.state) + 1n;
      await inBlock(customer, Array.from({ length: count }, () => ({ type: 'market/create-order', value: orderMsg({ window }) })));
      return Array.from({ length: count }, (_, i) => first + BigInt(i));
    };
    const bid = (ids: bigint[], d: Ed25519Key, price: bigint) => ids.map((order) => ({ type: 'market/bid', value: { order, device: d.publicKey, price } }));
    const withdrawn = async (): Promise<{ lostBids: string; more: string }> => {
      const r = await c.ok(p1, 'market/withdraw', {});
      const at = (key: string) => r.events.find((e) => e.type === 'market.withdraw')?.attributes.find((a) => a.key === key)?.value ?? '';
      return { lostBids: at('lostBids'), more: at('more') };
    };

    // MAX_RECLAIM + 1 orders lost to p2: two withdraws, the first saying more wait.
    const lostTo = await orders(MAX_RECLAIM + 1, 2n);
    await inBlock(p1, bid(lostTo, d1, 900n));
    await inBlock(p2, bid(lostTo, d2, 800n));
    await c.until((getOrder(c.app.state, lostTo.at(-1) as bigint) as OrderRecord).bidWindowEnd + 2n);
    assert.deepEqual(await withdrawn(), { lostBids: String(MAX_RECLAIM), more: '1' });
    assert.deepEqual(await withdrawn(), { lostBids: '1', more: '0' });
    checkBooks(c.app.state);

    // MAX_RECLAIM_SCAN standing bids on open orders, then a lost one: it lies beyond what a withdraw looks at...
    const open = await orders(MAX_RECLAIM_SCAN, 500n);
    await inBlock(p1, bid(open, d1, 900n));
    const [late] = await orders(1, 2n);
    await c.ok(p1, 'market/bid', { order: late, device: d1.publicKey, price: 900n });
    await c.ok(p2, 'market/bid', { order: late, device: d2.publicKey, price: 800n });
    await c.until((getOrder(c.app.state, late as bigint) as OrderRecord).bidWindowEnd + 2n);
    assert.equal((getOrder(c.app.state, late as bigint) as OrderRecord).status, 'active');
    await c.fails(p1, 'market/withdraw', {}, 'market.NOTHING_TO_WITHDRAW');
    // ...until one bid before it goes (cancelled here; taken back or closed, in time).
    await c.ok(p1, 'market/cancel-bid', { order: open[0] as bigint });
    assert.deepEqual(await withdrawn(), { lostBids: '1', more: '0' });
    assert.equal(bidsOf(c.app.state, late as bigint).length, 0);
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});

test('market: region, attributes, replicas across providers, early accept, customer close with refund, lease expiry, DC escrow', async () => {
  const c = await setup();
  try {
    // Region France: only p1 (Paris) can serve; p2 (Tokyo) is refused with OUTSIDE_REGION.
    await c.ok(customer, 'market/create-order', orderMsg({ region: [france] }));
    const fr = lastOrderId(c.app.state);
    const refused = await c.fails(p2, 'market/bid', { order: fr, device: d2.publicKey, price: 500n }, 'market.INELIGIBLE');
    assert.match(refused.log, /OUTSIDE_REGION/);
    await c.ok(p1, 'market/bid', { order: fr, device: d1.publicKey, price: 700n });
    // Early accept: the lease starts now, the order is fully leased.
    await c.ok(customer, 'market/accept-bid', { order: fr, provider: p1.address });
    assert.equal((getOrder(c.app.state, fr) as OrderRecord).status, 'active');
    checkBooks(c.app.state);
    // The customer closes: paid to now, the rest refunded, reason customer.
    await c.block();
    await c.ok(customer, 'market/close-order', { order: fr });
    const o = getOrder(c.app.state, fr) as OrderRecord;
    assert.equal(o.status, 'closed');
    assert.equal(o.closeReason, 'customer');
    assert.equal(o.paid, 1400n);
    assert.equal(o.refunded, 100_000n - 1400n);
    await c.fails(customer, 'market/close-order', { order: fr }, 'market.ORDER_CLOSED');
    checkBooks(c.app.state);

    // Replicas: two leases on two providers; attribute tier=home both have.
    await c.ok(customer, 'market/create-order', orderMsg({ replicas: 2, duration: 4n, attrs: [{ key: 'tier', value: 'home' }] }));
    const rep = lastOrderId(c.app.state);
    await c.ok(p1, 'market/bid', { order: rep, device: d1.publicKey, price: 300n });
    await c.ok(p2, 'market/bid', { order: rep, device: d2.publicKey, price: 200n });
    const or = getOrder(c.app.state, rep) as OrderRecord;
    await c.until(or.bidWindowEnd);
    assert.equal((getOrder(c.app.state, rep) as OrderRecord).activeLeases, 2);
    // Both run their 4 blocks and expire.
    await c.until(or.bidWindowEnd + 5n);
    const done = getOrder(c.app.state, rep) as OrderRecord;
    assert.equal(done.status, 'closed');
    assert.equal(done.closeReason, 'expired');
    assert.equal(done.paid, 4n * 500n);
    for (const lid of leaseIdsOf(c.app.state, rep)) assert.equal((getLease(c.app.state, lid) as LeaseRecord).closeReason, 'expired');
    checkBooks(c.app.state);

    // An attribute nobody has: no eligible bid; the window closes the order with no-eligible-bids.
    await c.ok(customer, 'market/create-order', orderMsg({ attrs: [{ key: 'tier', value: 'datacenter' }] }));
    const none = lastOrderId(c.app.state);
    const miss = await c.fails(p1, 'market/bid', { order: none, device: d1.publicKey, price: 100n }, 'market.INELIGIBLE');
    assert.match(miss.log, /MISSING_ATTRIBUTE/);
    await c.until((getOrder(c.app.state, none) as OrderRecord).bidWindowEnd);
    assert.equal((getOrder(c.app.state, none) as OrderRecord).closeReason, 'no-eligible-bids');
    checkBooks(c.app.state);

    // Paid in Data Credits: DC leave the balance into escrow, burn as they stream, the rest comes back.
    const dc0 = getCredits(c.app.state, customer.address);
    await c.ok(customer, 'market/create-order', orderMsg({ denom: 'dc', maxPrice: 50n, deposit: 1_000n, duration: 5n }));
    const dcOrder = lastOrderId(c.app.state);
    assert.equal(getCredits(c.app.state, customer.address), dc0 - 1_000n);
    await c.ok(p1, 'market/bid', { order: dcOrder, device: d1.publicKey, price: 40n });
    await c.until((getOrder(c.app.state, dcOrder) as OrderRecord).bidWindowEnd + 6n);
    const dcDone = getOrder(c.app.state, dcOrder) as OrderRecord;
    assert.equal(dcDone.status, 'closed');
    assert.equal(dcDone.paid, 200n);
    assert.equal(getCredits(c.app.state, customer.address), dc0 - 200n, 'unused DC came back');
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});

test('market: bad input is refused with a clear error and changes nothing', async () => {
  const c = await setup();
  try {
    await c.ok(customer, 'market/create-order', orderMsg({ maxPrice: 1000n, window: 40n }));
    const id = lastOrderId(c.app.state);
    const snapshot = (): string => JSON.stringify([getOrder(c.app.state, id), bidsOf(c.app.state, id)], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v));
    const before = snapshot();
    await c.fails(p1, 'market/bid', { order: id, device: d1.publicKey, price: 1001n }, 'market.PRICE_ABOVE_MAX');
    await c.fails(p1, 'market/bid', { order: id, device: d1.publicKey, price: 0n }, 'market.INVALID_PRICE');
    await c.fails(p1, 'market/bid', { order: 99n, device: d1.publicKey, price: 10n }, 'market.ORDER_NOT_FOUND');
    await c.fails(p1, 'market/bid', { order: id, device: d2.publicKey, price: 10n }, 'market.NOT_PROVIDER');
    await c.fails(p3, 'market/bid', { order: id, device: d3.publicKey, price: 10n }, 'market.PROVIDER_NOT_REGISTERED');
    assert.equal(snapshot(), before, 'refused bids change nothing');
    // A provider without stake.
    await c.ok(p3, 'market/register-provider', { hostUri: 'http://127.0.0.1:8701', attributes: [] });
    await c.ok(p3, 'devices/onboard', onboardMsg(p3, d3, { ...storageCaps, capacityBytes: 2n * GiB }));
    await c.fails(p3, 'market/bid', { order: id, device: d3.publicKey, price: 10n }, 'market.INSUFFICIENT_STAKE');
    await c.ok(p3, 'staking/delegate', { operator: p3.address, amount: 200n * GW });
    // Capacity: 2 GiB free; an order for 3 GiB cannot be served.
    await c.ok(customer, 'market/create-order', orderMsg({ bytes: 3n * GiB, window: 40n }));
    const big = lastOrderId(c.app.state);
    const cap = await c.fails(p3, 'market/bid', { order: big, device: d3.publicKey, price: 10n }, 'market.INELIGIBLE');
    assert.match(cap.log, /INSUFFICIENT_CAPACITY/);
    await c.ok(p1, 'market/bid', { order: id, device: d1.publicKey, price: 10n });
    await c.fails(p1, 'market/bid', { order: id, device: d1.publicKey, price: 9n }, 'market.DUPLICATE_BID');
    // Orders: bad terms.
    await c.fails(customer, 'market/create-order', orderMsg({ deposit: 999n, maxPrice: 1000n }), 'market.INSUFFICIENT_DEPOSIT');
    await c.fails(customer, 'market/create-order', orderMsg({ window: 0n }), 'market.INVALID_ORDER');
    await c.fails(customer, 'market/create-order', orderMsg({ replicas: 0 }), 'market.INVALID_ORDER');
    await c.fails(customer, 'market/create-order', orderMsg({ maxPrice: 0n }), 'market.INVALID_PRICE');
    await c.fails(customer, 'market/create-order', orderMsg({ deposit: 100_000_000n * GW }), 'bank.INSUFFICIENT_FUNDS');
    // The window closes; bidding after it is refused; the lease is closed twice → refused.
    await c.until((getOrder(c.app.state, id) as OrderRecord).bidWindowEnd);
    await c.fails(p2, 'market/bid', { order: id, device: d2.publicKey, price: 5n }, 'market.ORDER_NOT_OPEN');
    const [lid] = leaseIdsOf(c.app.state, id);
    await c.fails(p2, 'market/close-lease', { lease: lid, reason: null }, 'market.NOT_CUSTOMER');
    await c.fails(p1, 'market/close-lease', { lease: lid, reason: 'customer' }, 'market.INVALID_REASON');
    await c.ok(p1, 'market/close-lease', { lease: lid, reason: 'provider-unstable' });
    await c.fails(customer, 'market/close-lease', { lease: lid, reason: null }, 'market.LEASE_CLOSED');
    await c.fails(customer, 'market/topup', { order: id, amount: 10n }, 'market.ORDER_CLOSED');
    await c.fails(p1, 'market/topup', { order: big, amount: 10n }, 'market.NOT_CUSTOMER');
    await c.fails(customer, 'market/topup', { order: big, amount: 0n }, 'market.INVALID_AMOUNT');
    // The provider-caused close is failure evidence for its reputation.
    assert.ok(reputationOf(getProvider(c.app.state, p1.address) as { alpha: bigint; beta: bigint }) < 10_000n);
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});


test('market property: any sequence of orders, bids, accepts, top-ups, closes, withdraws and blocks keeps the books balanced, escrows non-negative, and never pays a lease beyond its time', async () => {
  const action = fc.oneof(
    fc.record({ t: fc.constant('order' as const), replicas: fc.integer({ min: 1, max: 2 }), maxPrice: fc.bigInt(1n, 500n), blocks: fc.bigInt(1n, 12n), duration: fc.bigInt(1n, 15n), window: fc.bigInt(3n, 8n), dc: fc.boolean() }),
    { weight: 4, arbitrary: fc.record({ t: fc.constant('bid' as const), who: fc.integer({ min: 0, max: 1 }), pct: fc.bigInt(1n, 120n) }) },
    fc.record({ t: fc.constant('accept' as const), who: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ t: fc.constant('topup' as const), amount: fc.bigInt(1n, 3000n) }),
    fc.record({ t: fc.constant('closeOrder' as const) }),
    fc.record({ t: fc.constant('closeLease' as const), byProvider: fc.boolean() }),
    fc.record({ t: fc.constant('withdraw' as const), who: fc.integer({ min: 0, max: 1 }) }),
    { weight: 3, arbitrary: fc.record({ t: fc.constant('blocks' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  );
  const c = await setup({ standbyBlocks: '3' });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const provs = [p1, p2];
        const devs = [d1, d2];
        for (const a of actions) {
          const last = lastOrderId(c.app.state);
          const lastLease = last > 0n ? leaseIdsOf(c.app.state, last).at(-1) : undefined;
          // Any outcome is fine (refusals included); the books must balance after each block.
          if (a.t === 'order') {
            await c.run(customer, 'market/create-order', {
              ...orderMsg({ replicas: a.replicas, maxPrice: a.maxPrice, duration: a.duration, window: a.window, denom: a.dc ? 'dc' : 'ugw' }),
              deposit: a.maxPrice * BigInt(a.replicas) * a.blocks,
            });
          } else if (a.t === 'bid') {
            const max = getOrder(c.app.state, last)?.maxPrice ?? 100n;
            const price = (max * a.pct) / 100n;
            await c.run(provs[a.who] as Ed25519Key, 'market/bid', { order: last, device: (devs[a.who] as Ed25519Key).publicKey, price: price > 0n ? price : 1n });
          }
          else if (a.t === 'accept') await c.run(customer, 'market/accept-bid', { order: last, provider: (provs[a.who] as Ed25519Key).address });
          else if (a.t === 'topup') await c.run(customer, 'market/topup', { order: last, amount: a.amount });
          else if (a.t === 'closeOrder') await c.run(customer, 'market/close-order', { order: last });
          else if (a.t === 'closeLease' && lastLease !== undefined) {
            const l = getLease(c.app.state, lastLease) as LeaseRecord;
            const who = a.byProvider ? [p1, p2].find((k) => toHex(k.address) === toHex(l.provider)) : customer;
            await c.run(who as Ed25519Key, 'market/close-lease', { lease: lastLease, reason: a.byProvider ? 'provider-unstable' : null });
          } else if (a.t === 'withdraw') {
            const r = await c.run(provs[a.who] as Ed25519Key, 'market/withdraw', {});
            // A lost bid is taken back only once its order's standby time (3 blocks) is over.
            for (const e of r.events.filter((x) => x.type === 'market.bid.removed' && x.attributes.some((y) => y.key === 'reason' && y.value === 'lost'))) {
              const o = getOrder(c.app.state, BigInt(e.attributes.find((y) => y.key === 'order')?.value ?? '0')) as OrderRecord;
              assert.ok(c.height > o.bidWindowEnd + 3n, `a lost bid on order with window end ${o.bidWindowEnd} reclaimed at ${c.height}`);
            }
          }
          else if (a.t === 'blocks') for (let i = 0; i < a.n; i++) await c.block();
          checkBooks(c.app.state);
          // No lease is paid for more blocks than it ran.
          const [s, e] = range(ORDER_PREFIX);
          for (const [k] of c.app.state.iterate(s, e)) {
            const id = readU64b(k, s.length);
            for (const lid of leaseIdsOf(c.app.state, id)) {
              const l = getLease(c.app.state, lid) as LeaseRecord;
              const until = l.status === 'closed' ? l.closedHeight : c.height;
              const ran = (until < l.endHeight ? until : l.endHeight) - l.startHeight;
              assert.ok(l.paid <= l.price * (ran > 0n ? ran : 0n), `lease ${lid} paid ${l.paid} for ${ran} blocks at ${l.price}`);
              assert.ok(l.earned <= l.paid);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
    // The runs really made and ended leases (not only refusals).
    let leases = 0;
    let closed = 0;
    const [s, e] = range(ORDER_PREFIX);
    for (const [k] of c.app.state.iterate(s, e)) {
      for (const lid of leaseIdsOf(c.app.state, readU64b(k, s.length))) {
        leases++;
        if ((getLease(c.app.state, lid) as LeaseRecord).status === 'closed') closed++;
      }
    }
    assert.ok(leases >= 5 && closed >= 3, `${leases} leases, ${closed} closed`);
  } finally {
    await c.close();
  }
});

test('market: the end of a block does at most market.maxLeasesPerBlock of due work; the rest waits a block and is paid and closed exactly as if on time', async () => {
  const c = await setup({ maxLeasesPerBlock: '1' });
  try {
    // Two orders whose windows close in the same block, one bid each: one matches at the
    // window's end, the other one block later.
    const txs = [c.tx(customer, [{ type: 'market/create-order', value: orderMsg({ window: 4n, duration: 5n, deposit: 100_000n }) }, { type: 'market/create-order', value: orderMsg({ window: 4n, duration: 5n, deposit: 100_000n }) }])];
    await c.block(txs);
    const a = lastOrderId(c.app.state) - 1n;
    const b = a + 1n;
    await c.ok(p1, 'market/bid', { order: a, device: d1.publicKey, price: 100n });
    await c.ok(p2, 'market/bid', { order: b, device: d2.publicKey, price: 100n });
    const end = (getOrder(c.app.state, a) as OrderRecord).bidWindowEnd;
    await c.until(end);
    assert.equal((getOrder(c.app.state, a) as OrderRecord).status, 'active');
    assert.equal((getOrder(c.app.state, b) as OrderRecord).status, 'open', 'over budget: waits a block');
    await c.block();
    assert.equal((getOrder(c.app.state, b) as OrderRecord).status, 'active');
    const la = getLease(c.app.state, leaseIdsOf(c.app.state, a)[0] as bigint) as LeaseRecord;
    const lb = getLease(c.app.state, leaseIdsOf(c.app.state, b)[0] as bigint) as LeaseRecord;
    assert.equal(lb.startHeight, la.startHeight + 1n);
    // Both expire at their own end heights with exactly duration × price paid, even though one of
    // the two settlements runs a block late.
    await c.until(lb.endHeight + 2n);
    for (const [id, l] of [
      [a, la],
      [b, lb],
    ] as const) {
      const done = getLease(c.app.state, leaseIdsOf(c.app.state, id)[0] as bigint) as LeaseRecord;
      assert.equal(done.closeReason, 'expired');
      assert.equal(done.closedHeight, l.endHeight);
      assert.equal(done.paid, 500n);
    }
    checkBooks(c.app.state);
  } finally {
    await c.close();
  }
});

test('market queries: providers and explain page one provider at a time (next = the last address, after continues), explain ?provider= judges one', async () => {
  const c = await setup();
  try {
    await addProvider(c, p3, d3);
    await c.ok(customer, 'market/create-order', orderMsg());
    const id = lastOrderId(c.app.state);
    const q = c.app.modules.find((m) => m.name === 'market')?.queries as Record<string, (store: KVReader, args: Record<string, string>) => unknown>;
    const walk = (name: string, field: string, args: Record<string, string>, key: string): string[] => {
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const r = q[name]?.(c.app.state, { ...args, limit: '1', ...(after ? { after } : {}) }) as Record<string, unknown>;
        const items = r[field] as Array<Record<string, string>>;
        seen.push(...items.map((x) => x[key] as string));
        if (r.next === null) return seen;
        assert.equal(r.next, items[items.length - 1]?.[key], 'next is the last item of the page');
        after = r.next as string;
      }
      throw new Error('paging did not end');
    };
    // In address-byte order, each once.
    const all = [p1, p2, p3].sort((a, b) => compareBytes(a.address, b.address)).map((k) => encodeAddress(k.address));
    assert.deepEqual(walk('providers', 'providers', {}, 'address'), all);
    assert.deepEqual(walk('explain', 'providers', { order: String(id) }, 'provider'), all);
    const one = q.explain?.(c.app.state, { order: String(id), provider: encodeAddress(p3.address) }) as { providers: Array<{ provider: string; eligible: boolean; device: string }>; next: null };
    assert.deepEqual(one.providers.map((x) => [x.provider, x.eligible, x.device]), [[encodeAddress(p3.address), true, toHex(d3.publicKey)]]);
    assert.throws(() => q.explain?.(c.app.state, { order: String(id), provider: encodeAddress(customer.address) }), /is not a registered provider/);
  } finally {
    await c.close();
  }
});

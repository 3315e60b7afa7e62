/**
 * The agent's event handling against a fake chain (a substitute for the MarketChain interface;
 * the integration test runs the real one): bid once per order, take and release leases from
 * block events, reconcile after a reconnect, a hung pricing script skips with SCRIPT_TIMEOUT,
 * a burst of orders bid on in one tx (a refused batch retried bid by bid), a lost bid forgotten at
 * the match and its deposit taken back by a withdraw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../core/log.js';
import { TxFailedError } from '../client/errors.js';
import { tempDir } from '../testkit/index.js';
import { BID_BATCH, ProviderAgent } from './agent.js';
import type { MarketChain } from './chain.js';
import { providerMetrics } from './metrics.js';
import { createPricing } from './pricing.js';
import { memoryStateStore } from './state.js';
import type { BidView, ChainEvent, LeaseView, OrderView } from './views.js';

const ME = 'gw1me';
const DEV = 'cd'.repeat(32);

function fakeChain() {
  const c = {
    height: 10n,
    orders: new Map<string, OrderView>(),
    bids: new Map<string, BidView>(),
    leases: new Map<string, LeaseView>(),
    events: new Map<bigint, ChainEvent[]>(),
    sent: [] as string[],
    /** Each tx sent, as its messages (`bid:<order>` for bids). */
    txs: [] as string[][],
    /** Orders whose bids the chain refuses (ORDER_NOT_OPEN). */
    refuse: new Set<string>(),
  };
  const chain: MarketChain = {
    address: ME,
    chainId: async () => 'fake',
    height: async () => c.height,
    provider: async () => ({ address: ME, hostUri: 'http://p:1', attributes: [], registeredHeight: '1', reputationBps: 5000, vetted: false, outcomes: '0', successes: '0', earnings: '0', activeLeases: 0 }),
    activeLeases: async () => [...c.leases.values()].filter((l) => l.status === 'active'),
    lease: async (id) => c.leases.get(id) ?? null,
    order: async (id) => {
      const o = c.orders.get(id);
      return o ? { ...o, bids: c.bids.has(id) ? [c.bids.get(id) as BidView] : [], leases: [...c.leases.values()].filter((l) => l.order === id) } : null;
    },
    providerBids: async () => [...c.bids.values()],
    openOrders: async () => [...c.orders.values()].filter((o) => o.status === 'open'),
    explain: async (order) => ({ provider: ME, eligible: true, device: DEV, reasons: [], bid: c.bids.get(order) ?? null }),
    blockEvents: async (h) => c.events.get(h) ?? [],
    send: async (msgs) => {
      const ms = msgs as Array<{ type: string; value: { order?: bigint; price?: bigint } }>;
      c.txs.push(ms.map((m) => (m.type === 'market/bid' ? `bid:${m.value.order}` : m.type)));
      // All or nothing, like the chain: one refused bid fails the whole tx.
      const refused = ms.find((m) => m.type === 'market/bid' && c.refuse.has(String(m.value.order)));
      if (refused) throw new TxFailedError('AB', c.height, 'market', 7, 'ORDER_NOT_OPEN', `order ${refused.value.order} is not open`);
      for (const m of ms) {
        c.sent.push(m.type);
        if (m.type === 'market/withdraw') {
          // Like the chain: the lost bids whose standby time is over go.
          for (const [k, b] of c.bids) if (b.status === 'lost' && b.reclaimableFrom !== null && BigInt(b.reclaimableFrom) <= c.height + 1n) c.bids.delete(k);
        }
        if (m.type !== 'market/bid') continue;
        const order = String(m.value.order);
        c.bids.set(order, { order, provider: ME, device: DEV, price: String(m.value.price), deposit: '1', height: String(c.height), reputationBps: 10_000, vetted: true, status: 'standing', reclaimableFrom: null });
        const o = c.orders.get(order);
        if (o) o.bidCount = 1;
      }
      return { hash: 'AB', height: c.height, events: [] };
    },
  };
  return { c, chain };
}

const order = (id: string, maxPrice = '1000'): OrderView => ({
  id,
  customer: 'gw1cust',
  kind: 'storage',
  spec: { type: 'storage', value: { bytes: '1', durationBlocks: '10' } },
  replicas: 1,
  region: [],
  attributes: [],
  minReputationBps: 0,
  maxPrice,
  denom: 'ugw',
  status: 'open',
  closeReason: null,
  createdHeight: '11',
  bidWindowEnd: '20',
  bidCount: 0,
  activeLeases: 0,
});

function agentWith(chain: MarketChain, pricing = createPricing({ type: 'fixed', price: 900n }), withdrawEveryBlocks = 0) {
  const metrics = providerMetrics();
  const store = memoryStateStore();
  let handlers: { onBlock(h: bigint): void; onReconnect(): void } | undefined;
  const agent = new ProviderAgent(
    { desired: { hostUri: 'http://p:1', attributes: [] }, kinds: ['storage'], denoms: ['ugw'], devices: [], withdrawEveryBlocks, reconcileEveryBlocks: 1000 },
    { chain, pricing, store, log: silentLogger, metrics, watcher: (h) => ((handlers = h), { start() {}, stop: async () => {}, connected: true }) },
  );
  return { agent, metrics, store, block: (h: bigint) => handlers?.onBlock(h), reconnect: () => handlers?.onReconnect() };
}

test('agent: bids once per order from the block event, takes and releases the lease from events', async () => {
  const { c, chain } = fakeChain();
  const a = agentWith(chain);
  await a.agent.start();
  c.orders.set('1', order('1'));
  c.events.set(11n, [{ type: 'market.order.created', attributes: { order: '1' } }]);
  // The same order announced again (a replayed block) and found by a reconcile: still one bid.
  c.events.set(12n, [{ type: 'market.order.created', attributes: { order: '1' } }]);
  c.height = 12n;
  a.block(12n);
  await a.agent.idle();
  await a.agent.reconcileNow();
  assert.deepEqual(c.sent, ['market/bid']);
  assert.equal(a.metrics.bids.get(), 1n);
  assert.deepEqual(Object.keys(a.store.current?.bids ?? {}), ['1']);

  const lease: LeaseView = { id: '5', order: '1', provider: ME, customer: 'gw1cust', device: DEV, price: '900', denom: 'ugw', kind: 'storage', startHeight: '20', endHeight: '29', status: 'active', closeReason: null, closedHeight: '0', paid: '0', earned: '0', deposit: '1' };
  c.leases.set('5', lease);
  c.bids.delete('1');
  c.events.set(13n, [{ type: 'market.lease.created', attributes: { lease: '5', order: '1', provider: ME } }]);
  c.events.set(14n, [{ type: 'market.lease.created', attributes: { lease: '6', order: '9', provider: 'gw1other' } }]);
  c.height = 14n;
  a.block(14n);
  await a.agent.idle();
  assert.deepEqual(Object.keys(a.store.current?.leases ?? {}), ['5']);
  assert.deepEqual(a.store.current?.bids, {});
  assert.equal(a.metrics.leasesActive.get(), 1n);

  c.leases.set('5', { ...lease, status: 'closed', closeReason: 'insufficient-funds', closedHeight: '15' });
  c.events.set(15n, [{ type: 'market.lease.closed', attributes: { lease: '5', order: '1', provider: ME, reason: 'insufficient-funds' } }]);
  c.height = 15n;
  a.block(15n);
  await a.agent.idle();
  assert.deepEqual(a.store.current?.leases, {});
  assert.equal(a.metrics.leasesClosed.get({ reason: 'insufficient-funds' }), 1n);
  assert.equal(a.agent.status().height, '15');
  await a.agent.stop();
});

test('agent: a reconnect triggers a reconciliation that finds what the events missed', async () => {
  const { c, chain } = fakeChain();
  const a = agentWith(chain);
  await a.agent.start();
  assert.equal(a.metrics.reconciles.get(), 1n);
  // While the socket was down: an order appeared and a lease was made (no events seen).
  c.orders.set('3', order('3'));
  c.leases.set('8', { id: '8', order: '2', provider: ME, customer: 'gw1cust', device: DEV, price: '900', denom: 'ugw', kind: 'storage', startHeight: '12', endHeight: '99', status: 'active', closeReason: null, closedHeight: '0', paid: '0', earned: '0', deposit: '1' });
  c.height = 13n;
  a.reconnect();
  await a.agent.idle();
  assert.equal(a.metrics.wsReconnects.get(), 1n);
  assert.equal(a.metrics.reconciles.get(), 2n);
  assert.deepEqual(Object.keys(a.store.current?.leases ?? {}), ['8']);
  assert.deepEqual(c.sent, ['market/bid']);
  await a.agent.stop();
});

test('agent: a pricing script that hangs is killed and the order skipped with SCRIPT_TIMEOUT, once', async () => {
  const d = tempDir('gw-agent-script-');
  try {
    const path = join(d.path, 'hang.js');
    writeFileSync(path, 'setInterval(() => {}, 1000);\n');
    const { c, chain } = fakeChain();
    const a = agentWith(chain, createPricing({ type: 'script', path, timeoutMs: 200 }));
    c.orders.set('4', order('4'));
    await a.agent.start(); // the reconcile finds order 4 open
    await a.agent.reconcileNow(); // and does not decide it again
    assert.deepEqual(c.sent, []);
    assert.equal(a.metrics.skipped.get({ reason: 'SCRIPT_TIMEOUT' }), 1n);
    assert.deepEqual(a.store.current?.skipped, { '4': 'SCRIPT_TIMEOUT' });
    await a.agent.stop();
  } finally {
    d.cleanup();
  }
});

test('agent: the orders of one block are bid on in one tx; a batch the chain refuses is retried bid by bid, each order with its own verdict', async () => {
  const { c, chain } = fakeChain();
  const a = agentWith(chain);
  await a.agent.start();
  const ids = Array.from({ length: BID_BATCH + 2 }, (_, i) => String(20 + i));
  for (const id of ids) c.orders.set(id, order(id));
  c.events.set(11n, ids.map((id) => ({ type: 'market.order.created', attributes: { order: id } })));
  c.height = 11n;
  a.block(11n);
  await a.agent.idle();
  assert.deepEqual(c.txs.map((t) => t.length), [BID_BATCH, 2], 'BID_BATCH bids per tx');
  assert.deepEqual(c.txs.flat().sort(), ids.map((id) => `bid:${id}`).sort());
  assert.equal(a.metrics.bids.get(), BigInt(ids.length));
  assert.deepEqual(Object.keys(a.store.current?.bids ?? {}).sort(), [...ids].sort());

  // Three more orders, one of which the chain refuses: the batch fails, then each bid alone.
  c.txs.length = 0;
  for (const id of ['40', '41', '42']) c.orders.set(id, order(id));
  c.refuse.add('41');
  c.events.set(12n, ['40', '41', '42'].map((id) => ({ type: 'market.order.created', attributes: { order: id } })));
  c.height = 12n;
  a.block(12n);
  await a.agent.idle();
  assert.deepEqual(c.txs, [['bid:40', 'bid:41', 'bid:42'], ['bid:40'], ['bid:41'], ['bid:42']]);
  assert.ok(a.store.current?.bids['40'] && a.store.current.bids['42']);
  assert.equal(a.store.current?.bids['41'], undefined);
  assert.equal(a.store.current?.skipped['41'], 'WINDOW_CLOSED');
  assert.equal(a.metrics.skipped.get({ reason: 'WINDOW_CLOSED' }), 1n);
  await a.agent.stop();
});

test('agent: a bid that lost is forgotten when its order matches; a withdraw takes its deposit back once its standby time is over', async () => {
  const { c, chain } = fakeChain();
  const a = agentWith(chain, undefined, 1);
  await a.agent.start();
  c.orders.set('1', order('1'));
  c.events.set(11n, [{ type: 'market.order.created', attributes: { order: '1' } }]);
  c.height = 11n;
  a.block(11n);
  await a.agent.idle();
  assert.deepEqual(c.sent, ['market/bid'], 'a standing bid, no earnings: nothing to withdraw');
  // The window closes and another provider wins: the bid stays on chain, lost.
  (c.orders.get('1') as OrderView).status = 'active';
  // It is the order's standby until block 14 (reclaimable from 15).
  c.bids.set('1', { ...(c.bids.get('1') as BidView), status: 'lost', reclaimableFrom: '15' });
  c.events.set(12n, [
    { type: 'market.lease.created', attributes: { lease: '7', order: '1', provider: 'gw1other' } },
    { type: 'market.order.matched', attributes: { order: '1', leases: '1', lost: '1' } },
  ]);
  c.height = 12n;
  a.block(12n);
  await a.agent.idle();
  assert.deepEqual(a.store.current?.bids, {});
  assert.deepEqual(c.sent, ['market/bid'], 'a standby: no withdraw yet');
  c.height = 14n; // a withdraw sent now lands in block 15
  a.block(14n);
  await a.agent.idle();
  assert.deepEqual(c.sent, ['market/bid', 'market/withdraw']);
  await a.agent.stop();
});

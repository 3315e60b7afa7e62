import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile, leaseFromView, type ChainSnapshot, type DesiredProvider } from './reconcile.js';
import { emptyState, type LocalState } from './state.js';
import type { BidView, LeaseView, OrderView, ProviderView } from './views.js';

const ME = 'gw1me';
const OTHER = 'gw1other';
const DEV = 'ab'.repeat(32);
const desired: DesiredProvider = { hostUri: 'http://p.example:8700', attributes: [{ key: 'region', value: 'eu' }] };

const providerView = (over: Partial<ProviderView> = {}): ProviderView => ({
  address: ME,
  hostUri: desired.hostUri,
  attributes: [{ key: 'region', value: 'eu' }],
  registeredHeight: '2',
  reputationBps: 5000,
  vetted: false,
  outcomes: '0',
  successes: '0',
  earnings: '0',
  activeLeases: 0,
  ...over,
});

const lease = (id: string, over: Partial<LeaseView> = {}): LeaseView => ({
  id,
  order: `10${id}`,
  provider: ME,
  customer: 'gw1cust',
  device: DEV,
  price: '900',
  denom: 'ugw',
  kind: 'storage',
  startHeight: '20',
  endHeight: '119',
  status: 'active',
  closeReason: null,
  closedHeight: '0',
  paid: '0',
  earned: '0',
  deposit: '500000',
  ...over,
});

const order = (id: string, over: Partial<OrderView> = {}): OrderView => ({
  id,
  customer: 'gw1cust',
  kind: 'storage',
  spec: { type: 'storage', value: { bytes: '1073741824', durationBlocks: '100' } },
  replicas: 1,
  region: [],
  attributes: [],
  minReputationBps: 0,
  maxPrice: '1000',
  denom: 'ugw',
  status: 'open',
  closeReason: null,
  createdHeight: '40',
  bidWindowEnd: '60',
  bidCount: 0,
  activeLeases: 0,
  ...over,
});

const bid = (orderId: string, provider = ME, price = '900'): BidView => ({ order: orderId, provider, device: DEV, price, deposit: '500000', height: '45', reputationBps: 10_000, vetted: true, status: 'standing', reclaimableFrom: null });

const snap = (over: Partial<ChainSnapshot> = {}): ChainSnapshot => ({
  height: 50n,
  provider: providerView(),
  activeLeases: [],
  otherLeases: {},
  bidOrders: {},
  openOrders: [],
  ...over,
});

const local = (over: Partial<LocalState> = {}): LocalState => ({ ...emptyState('c', ME), ...over });

test('reconcile: a fresh agent on a chain with nothing of its own registers and considers the open orders', () => {
  const r = reconcile(snap({ provider: null, openOrders: [{ order: order('7'), myBid: null }] }), local(), desired);
  assert.deepEqual(
    r.actions.map((a) => a.type),
    ['register', 'consider-order'],
  );
  assert.deepEqual(r.actions[0], { type: 'register', reason: 'missing' });
  assert.equal(r.state.height, '50');
});

test('reconcile: re-registers when the host or the attributes differ (attribute order does not matter)', () => {
  assert.deepEqual(reconcile(snap({ provider: providerView({ hostUri: 'http://old' }) }), local(), desired).actions, [{ type: 'register', reason: 'host-uri-changed' }]);
  assert.deepEqual(reconcile(snap({ provider: providerView({ attributes: [] }) }), local(), desired).actions, [{ type: 'register', reason: 'attributes-changed' }]);
  const two = { ...desired, attributes: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] };
  const chainOrder = providerView({ attributes: [{ key: 'b', value: '2' }, { key: 'a', value: '1' }] });
  assert.deepEqual(reconcile(snap({ provider: chainOrder }), local(), two).actions, []);
});

test('reconcile: a lease active on chain but not local is adopted (crash after the lease was made)', () => {
  const r = reconcile(snap({ activeLeases: [lease('4'), lease('2')] }), local(), desired);
  assert.deepEqual(r.actions, [
    { type: 'adopt-lease', lease: leaseFromView(lease('2')) },
    { type: 'adopt-lease', lease: leaseFromView(lease('4')) },
  ]);
  assert.deepEqual(Object.keys(r.state.leases).sort(), ['2', '4']);
  // Someone else's lease in the list (a buggy node) is not adopted.
  assert.deepEqual(reconcile(snap({ activeLeases: [lease('5', { provider: OTHER })] }), local(), desired).actions, []);
});

test('reconcile: a local lease closed on chain while the agent was down is released with its reason', () => {
  const l4 = leaseFromView(lease('4'));
  const l9 = leaseFromView(lease('9'));
  const r = reconcile(
    snap({ otherLeases: { '4': lease('4', { status: 'closed', closeReason: 'insufficient-funds', closedHeight: '48' }), '9': null } }),
    local({ leases: { '4': l4, '9': l9 } }),
    desired,
  );
  assert.deepEqual(r.actions, [
    { type: 'release-lease', lease: l4, reason: 'insufficient-funds', closedHeight: '48' },
    { type: 'release-lease', lease: l9, reason: 'unknown', closedHeight: '0' },
  ]);
  assert.deepEqual(r.state.leases, {});
});

test('reconcile: bids — kept while standing, forgotten when won, lost or the order closed; adopted when only the chain has them', () => {
  const b = (o: string) => ({ order: o, device: DEV, price: '900', height: '45' });
  const l = local({ bids: { '1': b('1'), '2': b('2'), '3': b('3'), '4': b('4'), '5': b('5'), '6': b('6') } });
  const r = reconcile(
    snap({
      activeLeases: [lease('30', { order: '2' })],
      bidOrders: {
        '1': { status: 'open', bids: [bid('1'), bid('1', OTHER)], leases: [] },
        '2': { status: 'active', bids: [], leases: [lease('30', { order: '2' })] },
        // Lost: the bid stays stored (its deposit comes back on withdraw) but the order took no more bids.
        '3': { status: 'active', bids: [{ ...bid('3'), status: 'lost' }], leases: [lease('31', { order: '3', provider: OTHER })] },
        '4': { status: 'closed', bids: [], leases: [] },
        '5': null,
        // '6' not looked at: kept as is
      },
      openOrders: [
        { order: order('1', { bidCount: 2 }), myBid: bid('1') },
        { order: order('8', { bidCount: 1 }), myBid: bid('8', ME, '800') },
      ],
    }),
    l,
    desired,
  );
  assert.deepEqual(
    r.actions.map((a) => (a.type === 'forget-bid' ? `forget ${a.bid.order} ${a.reason}` : a.type === 'adopt-bid' ? `adopt-bid ${a.bid.order}` : a.type === 'adopt-lease' ? `adopt-lease ${a.lease.id}` : a.type)),
    ['adopt-lease 30', 'forget 2 won', 'forget 3 lost', 'forget 4 order-closed', 'forget 5 gone', 'adopt-bid 8'],
  );
  assert.deepEqual(Object.keys(r.state.bids).sort(), ['1', '6', '8']);
  assert.equal(r.state.bids['8']?.price, '800');
});

test('reconcile: open orders already bid on or passed on are not considered again; passes are forgotten once the order stops taking bids', () => {
  const r = reconcile(
    snap({ openOrders: [{ order: order('1'), myBid: null }, { order: order('2'), myBid: null }, { order: order('3', { bidWindowEnd: '49' }), myBid: null }] }),
    local({ skipped: { '1': 'PRICE_ABOVE_MAX', '77': 'INELIGIBLE' } }),
    desired,
  );
  assert.deepEqual(
    r.actions.map((a) => (a.type === 'consider-order' ? a.order.id : a.type)),
    ['2'],
  );
  assert.deepEqual(r.state.skipped, { '1': 'PRICE_ABOVE_MAX' });
});

test('reconcile is idempotent: the state it produces is a fixed point, with no lease or bid action the second time', () => {
  const s = snap({
    provider: providerView({ hostUri: 'http://old' }),
    activeLeases: [lease('4'), lease('6')],
    otherLeases: { '5': lease('5', { status: 'closed', closeReason: 'expired', closedHeight: '49' }) },
    bidOrders: { '11': { status: 'open', bids: [bid('11')], leases: [] }, '12': { status: 'closed', bids: [], leases: [] } },
    openOrders: [
      { order: order('11', { bidCount: 1 }), myBid: bid('11') },
      { order: order('13', { bidCount: 1 }), myBid: bid('13') },
      { order: order('14'), myBid: null },
    ],
  });
  const start = local({
    height: '30',
    leases: { '4': leaseFromView(lease('4')), '5': leaseFromView(lease('5')) },
    bids: { '11': { order: '11', device: DEV, price: '900', height: '45' }, '12': { order: '12', device: DEV, price: '900', height: '44' } },
  });
  const first = reconcile(s, start, desired);
  assert.deepEqual(
    first.actions.map((a) => a.type),
    ['register', 'adopt-lease', 'release-lease', 'forget-bid', 'adopt-bid', 'consider-order'],
  );
  const second = reconcile(s, first.state, desired);
  assert.deepEqual(second.state, first.state);
  // Only the work the agent itself carries out (register, decide on order 14) is still asked for.
  assert.deepEqual(
    second.actions.map((a) => a.type),
    ['register', 'consider-order'],
  );
  // The input state is not mutated.
  assert.deepEqual(Object.keys(start.leases), ['4', '5']);
  // A height never goes backwards (a lagging node answered the snapshot).
  assert.equal(reconcile(snap({ height: 10n }), local({ height: '30' }), desired).state.height, '30');
});

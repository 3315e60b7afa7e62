/**
 * market keeper: orders, bids, matching, leases, escrow settlement, reputation.
 *
 * Flow: a customer posts an order (escrow funded) → registered providers bid with one of their
 * devices until the window closes (block `bidWindowEnd`, inclusive) → at the end of that block the
 * cheapest eligible bids win (matchOrder: tie-break below) and become leases → each lease is paid
 * its price per block from the order's escrow, settled lazily (settleOrder; arithmetic in
 * settlement.ts) whenever anyone touches the order and at its wake height (the next lease end, or
 * the last block the escrow pays for) → a lease closes with a reason code; the order closes when
 * its last lease does, refunding what is left of the escrow.
 *
 * Bids that lose stay where they are: matching does no work per losing bid (no write, no
 * transfer, no event), so a window's close costs the same however many bids an order drew. A
 * losing bid is the order's standby for market.standbyBlocks after the window closes: the
 * customer may accept it to replace a lease (acceptBid). After that its deposit goes back when
 * its provider withdraws (market/withdraw takes back the deposits of its reclaimable lost bids,
 * up to MAX_RECLAIM per tx, found through the provider's bid index market/pb/), and in any case
 * when the order closes — the provider's own tx pays for the work, not the block's unmetered end.
 *
 * Tokens: order escrows and bid deposits sit in the MARKET_ESCROW account; the provider's share of
 * each payment moves to MARKET_EARNINGS (withdrawn by the provider), the protocol's take goes to
 * the treasury and is partly burned (rewards.payWithTake). Orders paid in Data Credits escrow DC
 * (credits.escrowCredits); a payment burns them and records the provider's delivered work for the
 * epoch's reward pool of the resource (Helium's model: DC are burned, providers earn emission).
 * Invariant per order: deposited = paid + refunded + escrow.
 */
import { compare, equals, toHex, type Bytes } from '../../../core/bytes.js';
import { decode, encode, u64 } from '../../../core/codec.js';
import { sha256 } from '../../../core/hash.js';
import { encodeAddress, moduleAddress } from '../../../core/keys.js';
import { scanRange, type Key, type KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams } from '../../module.js';
import { DEVICE_KIND_FOR, NO_USAGE, POOL_OF, addUsage, deviceReasons, isCell, providerReasons, usageOf, type Reason } from './eligibility.js';
import { MarketErrors } from './errors.js';
import type { MarketDeps } from './expected.js';
import {
  NEXT_LEASE_KEY_S,
  NEXT_ORDER_KEY,
  bidKeyS,
  customerOrderKey,
  leaseKeyS,
  openKeyS,
  orderBidsPrefix,
  orderKeyS,
  orderLeaseKeyS,
  orderLeasesPrefix,
  providerActiveKeyS,
  providerActivePrefix,
  providerBidKeyS,
  providerBidsPrefix,
  providerKeyS,
  providerLeaseKeyS,
  range,
  readU64b,
  usageKeyS,
  wakeHeightPrefix,
  wakeKeyS,
} from './keys.js';
import { BPS, marketParams, type MarketParams } from './params.js';
import { START_ALPHA, START_BETA, recordOutcome, scoreBps } from './reputation.js';
import { nextWake, settle, type SettleLease } from './settlement.js';
import {
  PROVIDER_CLOSE_REASONS,
  bidRecordCodec,
  decodeBid,
  deviceUsageCodec,
  leaseRecordCodec,
  orderRecordCodec,
  providerRecordCodec,
  type BidRecord,
  type CloseReason,
  type DeviceUsage,
  type LeaseRecord,
  type MsgBid,
  type MsgCreateOrder,
  type MsgRegisterProvider,
  type OrderRecord,
  type ProviderRecord,
} from './types.js';

/**
 * The value of index entries (open orders, wakes, an order's and a provider's leases): one
 * shared array instead of one per entry (~200 bytes each, kept until the block commits). State
 * values are never mutated in place.
 */
const MARK = Uint8Array.of(1);

export const MARKET_ESCROW = moduleAddress('market_escrow');
export const MARKET_EARNINGS = moduleAddress('market_earnings');
const ATTR_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const URI_RE = /^https?:\/\/[^\s/?#]+(:[0-9]{1,5})?(\/[^\s]*)?$/;

export const params = (store: KVReader): MarketParams => getParams(store, 'market', marketParams);

// ---------------------------------------------------------------------------------------------
// Records

export function getOrder(store: KVReader, id: bigint): OrderRecord | undefined {
  const b = store.get(orderKeyS(id));
  return b ? decode(orderRecordCodec, b) : undefined;
}

function mustOrder(store: KVReader, id: bigint): OrderRecord {
  const o = getOrder(store, id);
  if (!o) throw MarketErrors.ORDER_NOT_FOUND(`no order ${id} on this chain (see groundwork market order list)`);
  return o;
}

function putOrder(ctx: Context, id: bigint, o: OrderRecord): void {
  ctx.store.set(orderKeyS(id), encode(orderRecordCodec, o, 256));
}

export function getLease(store: KVReader, id: bigint): LeaseRecord | undefined {
  const b = store.get(leaseKeyS(id));
  return b ? decode(leaseRecordCodec, b) : undefined;
}

function putLease(ctx: Context, id: bigint, l: LeaseRecord): void {
  ctx.store.set(leaseKeyS(id), encode(leaseRecordCodec, l, 256));
}

export function getProvider(store: KVReader, who: Bytes): ProviderRecord | undefined {
  const b = store.get(providerKeyS(who));
  return b ? decode(providerRecordCodec, b) : undefined;
}

function putProvider(ctx: Context, who: Bytes, p: ProviderRecord): void {
  ctx.store.set(providerKeyS(who), encode(providerRecordCodec, p, 256));
}

export function getBid(store: KVReader, order: bigint, provider: Bytes): BidRecord | undefined {
  const b = store.get(bidKeyS(order, provider));
  return b ? decode(bidRecordCodec, b) : undefined;
}

/** An order's standing bids, in provider address order. */
export function bidsOf(store: KVReader, order: bigint): Array<BidRecord & { provider: Bytes }> {
  const [s, e] = range(orderBidsPrefix(order));
  const out: Array<BidRecord & { provider: Bytes }> = [];
  // A scan (transient keys and values, copied here): no buffer per entry from the store.
  scanRange(store, s, e, (k, v) => {
    const b = decodeBid(v) as BidRecord & { provider: Bytes };
    b.provider = Buffer.from(k.subarray(s.length));
    out.push(b);
  });
  return out;
}

/** Ids of an order's leases (all, in id order). */
export function leaseIdsOf(store: KVReader, order: bigint): bigint[] {
  const [s, e] = range(orderLeasesPrefix(order));
  const out: bigint[] = [];
  for (const [k] of store.iterate(s, e)) out.push(readU64b(k, s.length));
  return out;
}

/** Ids of a provider's active leases. */
export function activeLeaseIdsOf(store: KVReader, provider: Bytes): bigint[] {
  const [s, e] = range(providerActivePrefix(provider));
  const out: bigint[] = [];
  for (const [k] of store.iterate(s, e)) out.push(readU64b(k, s.length));
  return out;
}

export function getUsage(store: KVReader, device: Bytes): DeviceUsage {
  const b = store.get(usageKeyS(device));
  return b ? decode(deviceUsageCodec, b) : NO_USAGE;
}

function nextId(ctx: Context, key: Key): bigint {
  const b = ctx.store.get(key);
  const id = b ? decode(u64, b) : 1n;
  ctx.store.set(key, encode(u64, id + 1n));
  return id;
}

export function reputationOf(p: Pick<ProviderRecord, 'alpha' | 'beta'>): bigint {
  return scoreBps(p.alpha, p.beta);
}

export function isVetted(store: KVReader, p: Pick<ProviderRecord, 'successes'>): boolean {
  return p.successes >= params(store).vettingSuccesses;
}

// ---------------------------------------------------------------------------------------------
// Providers

export function registerProvider(ctx: Context, sender: Bytes, m: MsgRegisterProvider): void {
  if (!URI_RE.test(m.hostUri)) throw MarketErrors.INVALID_PROVIDER(`hostUri must be an http(s) URL such as http://203.0.113.5:8700, got "${m.hostUri.slice(0, 80)}"`);
  const keys = new Set<string>();
  for (const a of m.attributes) {
    if (!ATTR_RE.test(a.key)) throw MarketErrors.INVALID_PROVIDER(`attribute key "${a.key}" must be 1-32 characters of a-z, 0-9, "_", "." or "-"`);
    if (a.value.length === 0) throw MarketErrors.INVALID_PROVIDER(`attribute ${a.key} has an empty value`);
    if (keys.has(a.key)) throw MarketErrors.INVALID_PROVIDER(`attribute ${a.key} is given twice`);
    keys.add(a.key);
  }
  const attributes = [...m.attributes].sort((a, b) => (a.key < b.key ? -1 : 1));
  const prev = getProvider(ctx.store, sender);
  putProvider(
    ctx,
    sender,
    prev
      ? { ...prev, hostUri: m.hostUri, attributes }
      : { hostUri: m.hostUri, attributes, registeredHeight: ctx.block.height, alpha: START_ALPHA, beta: START_BETA, outcomes: 0n, successes: 0n, earnings: 0n, held: 0n, activeLeases: 0 },
  );
  ctx.emit('market.provider', () => ({ provider: encodeAddress(sender), hostUri: m.hostUri }));
}

/**
 * Records a verified outcome for a provider's reputation (a lease's end, a vertical's verdict).
 * Providers that are not registered are ignored.
 */
export function recordProviderOutcome(ctx: Context, provider: Bytes, success: boolean): void {
  const p = getProvider(ctx.store, provider);
  if (!p) return;
  const r = recordOutcome(p.alpha, p.beta, success, params(ctx.store).repDecayBps);
  putProvider(ctx, provider, { ...p, ...r, outcomes: p.outcomes + 1n, successes: p.successes + (success ? 1n : 0n) });
}

/** Reputation evidence of each close reason: success, failure, or none. */
const OUTCOME: Readonly<Record<CloseReason, boolean | undefined>> = {
  expired: true,
  customer: undefined,
  'insufficient-funds': undefined,
  'no-eligible-bids': undefined,
  'provider-decommission': false,
  'provider-unstable': false,
  'failed-verification': false,
  'device-gone': false,
};

// ---------------------------------------------------------------------------------------------
// Eligibility

export interface Eligibility {
  readonly providerReasons: Reason[];
  readonly deviceReasons: Reason[];
  /** The provider's record (undefined: not registered). */
  readonly provider: ProviderRecord | undefined;
  /** The device's usage, when the device is the provider's (what a new lease adds to). */
  readonly usage?: DeviceUsage;
}

/** Why `provider` with `device` cannot serve order `o` (both lists empty: it can). */
export function eligibility(store: KVReader, deps: MarketDeps, o: OrderRecord, provider: Bytes, device: Bytes, record?: ProviderRecord, prm?: MarketParams): Eligibility {
  const p = record ?? getProvider(store, provider);
  const op = p ? deps.stake.operator(store, provider) : undefined;
  const pr = p
    ? providerReasons(o, {
        attributes: p.attributes,
        reputationBps: reputationOf(p),
        stake: op?.tokens ?? 0n,
        minStake: (prm ?? params(store)).minProviderStake,
        jailed: op?.jailed ?? false,
      })
    : [];
  const d = deps.devices.get(store, device);
  if (!d) return { providerReasons: pr, deviceReasons: [{ code: 'NO_DEVICE', message: `no device ${Buffer.from(device).toString('hex')}` }], provider: p };
  if (!equals(d.owner, provider)) {
    return { providerReasons: pr, deviceReasons: [{ code: 'NO_DEVICE', message: `device ${Buffer.from(device).toString('hex')} belongs to ${encodeAddress(d.owner)}` }], provider: p };
  }
  const usage = getUsage(store, device);
  return { providerReasons: pr, deviceReasons: deviceReasons(o, d, usage), provider: p, usage };
}

function reasonsText(e: Eligibility): string {
  return [...e.providerReasons, ...e.deviceReasons].map((r) => `${r.code}: ${r.message}`).join('; ');
}

// ---------------------------------------------------------------------------------------------
// Orders

export function createOrder(ctx: Context, deps: MarketDeps, customer: Bytes, m: MsgCreateOrder): bigint {
  const p = params(ctx.store);
  const bad = (msg: string): never => {
    throw MarketErrors.INVALID_ORDER(msg);
  };
  const s = m.spec;
  const duration = s.value.durationBlocks;
  if (duration < 1n || duration > p.maxLeaseBlocks) bad(`durationBlocks must be 1 to ${p.maxLeaseBlocks} (market.maxLeaseBlocks), got ${duration}`);
  if (s.type === 'storage' && s.value.bytes < 1n) bad('a storage order must ask for at least 1 byte');
  if (s.type === 'compute') {
    if (s.value.cpuCores < 1) bad('a compute order must ask for at least 1 CPU core');
    if (s.value.gpuCount > 0 && s.value.gpuModel.length === 0) bad('gpuCount > 0 needs a gpuModel');
    if (s.value.gpuCount === 0 && s.value.gpuModel.length > 0) bad('a gpuModel needs gpuCount > 0');
  }
  if (s.type === 'coverage' && s.value.volumeBytes < 1n) bad('a coverage order must ask for at least 1 byte of volume');
  if (m.replicas < 1 || BigInt(m.replicas) > p.maxReplicas) bad(`replicas must be 1 to ${p.maxReplicas} (market.maxReplicas), got ${m.replicas}`);
  if (m.minReputationBps > 10_000) bad(`minReputationBps must be at most 10000, got ${m.minReputationBps}`);
  if (m.bidWindowBlocks < p.minBidWindow || m.bidWindowBlocks > p.maxBidWindow) {
    bad(`bidWindowBlocks must be ${p.minBidWindow} to ${p.maxBidWindow} (market.minBidWindow..maxBidWindow), got ${m.bidWindowBlocks}`);
  }
  if (m.maxPrice <= 0n) throw MarketErrors.INVALID_PRICE(`maxPrice must be greater than zero, got ${m.maxPrice}`);
  for (const c of m.region) if (!isCell(c)) bad(`region cell ${c} is not a valid H3 cell`);
  const keys = new Set<string>();
  for (const a of m.attributes) {
    if (keys.has(a.key)) bad(`attribute ${a.key} is given twice`);
    keys.add(a.key);
  }
  const oneBlock = m.maxPrice * BigInt(m.replicas);
  if (m.deposit < oneBlock) {
    throw MarketErrors.INSUFFICIENT_DEPOSIT(`deposit ${m.deposit} ${m.denom} is below maxPrice × replicas = ${oneBlock} ${m.denom}, one block of every lease at the highest price`);
  }
  fund(ctx, deps, m.denom, customer, m.deposit, 'market/create-order');
  const id = nextId(ctx, NEXT_ORDER_KEY);
  const h = ctx.block.height;
  const o: OrderRecord = {
    customer,
    spec: s,
    replicas: m.replicas,
    region: m.region,
    attributes: [...m.attributes].sort((a, b) => (a.key < b.key ? -1 : 1)),
    minReputationBps: m.minReputationBps,
    maxPrice: m.maxPrice,
    denom: m.denom,
    status: 'open',
    closeReason: null,
    createdHeight: h,
    bidWindowEnd: h + m.bidWindowBlocks,
    closedHeight: 0n,
    escrow: m.deposit,
    deposited: m.deposit,
    paid: 0n,
    refunded: 0n,
    settledHeight: h,
    rate: 0n,
    activeLeases: 0,
    leases: 0,
    bids: 0,
    wakeHeight: 0n,
  };
  ctx.store.set(customerOrderKey(customer, id), MARK);
  ctx.store.set(openKeyS(id), MARK);
  setWake(ctx, id, o, o.bidWindowEnd);
  putOrder(ctx, id, o);
  ctx.emit('market.order.created', () => ({
    order: id,
    customer: encodeAddress(customer),
    kind: s.type,
    replicas: m.replicas,
    maxPrice: m.maxPrice,
    denom: m.denom,
    bidWindowEnd: o.bidWindowEnd,
  }));
  return id;
}

/** The order's status, read fresh (TypeScript narrows `o.status` across calls that mutate it). */
function statusOf(o: OrderRecord): OrderRecord['status'] {
  return o.status;
}

function fund(ctx: Context, deps: MarketDeps, denom: OrderRecord['denom'], from: Bytes, amount: bigint, reason: string): void {
  if (denom === 'ugw') deps.bank.transfer(ctx, from, MARKET_ESCROW, amount);
  else deps.credits.escrowCredits(ctx, from, amount, reason);
}

function refund(ctx: Context, deps: MarketDeps, o: OrderRecord, amount: bigint): void {
  if (amount === 0n) return;
  if (o.denom === 'ugw') deps.bank.transfer(ctx, MARKET_ESCROW, o.customer, amount);
  else deps.credits.releaseCredits(ctx, o.customer, amount);
}

function setWake(ctx: Context, id: bigint, o: OrderRecord, height: bigint): void {
  if (o.wakeHeight !== 0n) ctx.store.delete(wakeKeyS(o.wakeHeight, id));
  // Never at or before the current height: the end of this block may already have collected
  // its due orders. A lease whose next block is unpaid closes at that next look, at the height it
  // was last paid for (settlement reports it), so nothing is lost by looking one block later.
  const h = height === 0n ? 0n : height <= ctx.block.height ? ctx.block.height + 1n : height;
  if (h !== 0n) ctx.store.set(wakeKeyS(h, id), MARK);
  o.wakeHeight = h;
}

export function topupOrder(ctx: Context, deps: MarketDeps, sender: Bytes, id: bigint, amount: bigint): OrderRecord {
  if (amount <= 0n) throw MarketErrors.INVALID_AMOUNT(`top-up amount must be greater than zero, got ${amount}`);
  const o = mustOrder(ctx.store, id);
  if (!equals(o.customer, sender)) throw MarketErrors.NOT_CUSTOMER(`order ${id} belongs to ${encodeAddress(o.customer)}`);
  if (o.status === 'closed') throw MarketErrors.ORDER_CLOSED(`order ${id} closed at height ${o.closedHeight} (${o.closeReason}); post a new order`);
  settleOrder(ctx, deps, id, o);
  // Settling may have closed it (the escrow had run dry): the top-up fails and nothing changes.
  if (statusOf(o) === 'closed') throw MarketErrors.ORDER_CLOSED(`order ${id} ran dry and closed at height ${o.closedHeight} (${o.closeReason}); post a new order`);
  fund(ctx, deps, o.denom, sender, amount, 'market/topup');
  o.escrow += amount;
  o.deposited += amount;
  rewake(ctx, deps, id, o);
  putOrder(ctx, id, o);
  return o;
}

export function closeOrder(ctx: Context, deps: MarketDeps, sender: Bytes, id: bigint): OrderRecord {
  const o = mustOrder(ctx.store, id);
  if (!equals(o.customer, sender)) throw MarketErrors.NOT_CUSTOMER(`order ${id} belongs to ${encodeAddress(o.customer)}`);
  if (o.status === 'closed') throw MarketErrors.ORDER_CLOSED(`order ${id} already closed at height ${o.closedHeight} (${o.closeReason})`);
  settleOrder(ctx, deps, id, o);
  if (statusOf(o) !== 'closed') {
    for (const lid of leaseIdsOf(ctx.store, id)) {
      const l = getLease(ctx.store, lid) as LeaseRecord;
      if (l.status === 'active') endLease(ctx, deps, lid, l, o, 'customer');
    }
    finishOrder(ctx, deps, id, o, 'customer');
  }
  putOrder(ctx, id, o);
  return o;
}

/** Closes an order with no active lease left: bids refunded, escrow refunded. */
function finishOrder(ctx: Context, deps: MarketDeps, id: bigint, o: OrderRecord, reason: CloseReason): void {
  for (const b of bidsOf(ctx.store, id)) removeBid(ctx, deps, id, o, b.provider, b, 'order-closed');
  const refunded = o.escrow;
  refund(ctx, deps, o, refunded);
  o.refunded += refunded;
  o.escrow = 0n;
  o.status = 'closed';
  o.closeReason = reason;
  o.closedHeight = ctx.block.height;
  ctx.store.delete(openKeyS(id));
  setWake(ctx, id, o, 0n);
  ctx.emit('market.order.closed', () => ({ order: id, customer: encodeAddress(o.customer), reason, refunded }));
}

// ---------------------------------------------------------------------------------------------
// Bids

export function placeBid(ctx: Context, deps: MarketDeps, provider: Bytes, m: MsgBid): void {
  const o = mustOrder(ctx.store, m.order);
  if (o.status !== 'open' || ctx.block.height > o.bidWindowEnd) {
    throw MarketErrors.ORDER_NOT_OPEN(`order ${m.order} is ${o.status === 'open' ? 'past its bid window' : o.status} (bids were taken until height ${o.bidWindowEnd})`);
  }
  if (m.price <= 0n) throw MarketErrors.INVALID_PRICE(`a bid's price must be greater than zero, got ${m.price}`);
  if (m.price > o.maxPrice) throw MarketErrors.PRICE_ABOVE_MAX(`price ${m.price} ${o.denom} per block is above order ${m.order}'s maximum ${o.maxPrice}`);
  const p = getProvider(ctx.store, provider);
  if (!p) throw MarketErrors.PROVIDER_NOT_REGISTERED(`${encodeAddress(provider)} is not a registered provider; register with market/register-provider (groundwork market provider register)`);
  if (getBid(ctx.store, m.order, provider)) throw MarketErrors.DUPLICATE_BID(`${encodeAddress(provider)} already bid on order ${m.order}; cancel it first to bid again`);
  const d = deps.devices.get(ctx.store, m.device);
  if (!d || !equals(d.owner, provider)) throw MarketErrors.NOT_PROVIDER(`device ${Buffer.from(m.device).toString('hex')} is not ${d ? `owned by ${encodeAddress(provider)}` : 'registered'}`);
  const e = eligibility(ctx.store, deps, o, provider, m.device);
  if (e.providerReasons.some((r) => r.code === 'INSUFFICIENT_STAKE')) {
    throw MarketErrors.INSUFFICIENT_STAKE(`${reasonsText(e)}; bond stake to yourself as an operator (groundwork staking delegate <key> self <amount>)`);
  }
  if (e.providerReasons.length > 0 || e.deviceReasons.length > 0) throw MarketErrors.INELIGIBLE(reasonsText(e));
  const prm = params(ctx.store);
  if (BigInt(o.bids) >= prm.maxBidsPerOrder) {
    // Full: the dearest bid (latest on a tie) makes room for a cheaper one.
    let worst: (BidRecord & { provider: Bytes }) | undefined;
    for (const b of bidsOf(ctx.store, m.order)) if (!worst || b.price > worst.price || (b.price === worst.price && b.height > worst.height)) worst = b;
    if (!worst || m.price >= worst.price) {
      throw MarketErrors.BID_NOT_COMPETITIVE(`order ${m.order} holds ${o.bids} bids (market.maxBidsPerOrder); bid below its dearest, ${worst?.price ?? 0n} ${o.denom}`);
    }
    removeBid(ctx, deps, m.order, o, worst.provider, worst, 'outbid');
  }
  deps.bank.transfer(ctx, provider, MARKET_ESCROW, prm.bidDeposit);
  const bid = { device: m.device, price: m.price, deposit: prm.bidDeposit, height: ctx.block.height, repBps: Number(reputationOf(p)), vetted: p.successes >= prm.vettingSuccesses };
  ctx.store.set(bidKeyS(m.order, provider), encode(bidRecordCodec, bid));
  ctx.store.set(providerBidKeyS(provider, m.order), MARK);
  o.bids++;
  putOrder(ctx, m.order, o);
  ctx.emit('market.bid', () => ({ order: m.order, provider: encodeAddress(provider), device: Buffer.from(m.device).toString('hex'), price: m.price }));
}

function removeBid(ctx: Context, deps: MarketDeps, order: bigint, o: OrderRecord, provider: Bytes, b: BidRecord, reason: string, refundDeposit = true): void {
  ctx.store.delete(bidKeyS(order, provider));
  ctx.store.delete(providerBidKeyS(provider, order));
  if (refundDeposit && b.deposit > 0n) deps.bank.transfer(ctx, MARKET_ESCROW, provider, b.deposit);
  o.bids--;
  ctx.emit('market.bid.removed', () => ({ order, provider: encodeAddress(provider), reason }));
}

export function cancelBid(ctx: Context, deps: MarketDeps, provider: Bytes, order: bigint): void {
  const o = mustOrder(ctx.store, order);
  if (o.status !== 'open') throw MarketErrors.ORDER_NOT_OPEN(`order ${order} is ${o.status}`);
  const b = getBid(ctx.store, order, provider);
  if (!b) throw MarketErrors.BID_NOT_FOUND(`${encodeAddress(provider)} has no bid on order ${order}`);
  removeBid(ctx, deps, order, o, provider, b, 'cancelled');
  putOrder(ctx, order, o);
}

export function acceptBid(ctx: Context, deps: MarketDeps, sender: Bytes, order: bigint, provider: Bytes): bigint {
  const o = mustOrder(ctx.store, order);
  if (!equals(o.customer, sender)) throw MarketErrors.NOT_CUSTOMER(`order ${order} belongs to ${encodeAddress(o.customer)}`);
  // An active order short of its leases (the customer closed one) takes a lost bid as a replacement.
  const replacing = o.status === 'active' && o.activeLeases < o.replicas;
  if (o.status !== 'open' && !replacing) {
    throw MarketErrors.ORDER_NOT_OPEN(`order ${order} is ${o.status}${o.status === 'active' ? ` with all ${o.replicas} of its leases running` : ''}: it takes no more leases`);
  }
  const b = getBid(ctx.store, order, provider);
  if (!b) throw MarketErrors.BID_NOT_FOUND(`${encodeAddress(provider)} has no bid on order ${order}`);
  const e = eligibility(ctx.store, deps, o, provider, b.device);
  if (e.providerReasons.length > 0 || e.deviceReasons.length > 0) throw MarketErrors.INELIGIBLE(`the bid can no longer win: ${reasonsText(e)}`);
  settleOrder(ctx, deps, order, o);
  const lease = startLease(ctx, order, o, provider, b);
  if (o.status === 'open' && o.activeLeases >= o.replicas) {
    o.status = 'active';
    ctx.store.delete(openKeyS(order));
    emitMatched(ctx, order, o);
  }
  rewake(ctx, deps, order, o);
  putOrder(ctx, order, o);
  return lease;
}

/** A deterministic draw per order, in basis points: whether it is open to unvetted providers. Public (derived from the order id), which is harmless: it only limits how much new providers win. */
export function vettingDraw(order: bigint): bigint {
  const h = sha256(vettingInput(order));
  return BigInt(((h[0] as number) * 0x1000000 + (((h[1] as number) << 16) | ((h[2] as number) << 8) | (h[3] as number))) >>> 0) % BPS;
}

const VETTING_TAG = Buffer.from('groundwork/market/vetting/');
/** The tag then the order id (u64, big-endian), in one reused buffer (hashed before it is reused). */
const vettingBuf = Buffer.alloc(VETTING_TAG.length + 8);
VETTING_TAG.copy(vettingBuf, 0);
function vettingInput(order: bigint): Bytes {
  vettingBuf.writeBigUInt64BE(order, VETTING_TAG.length);
  return vettingBuf;
}

/**
 * The bid window closed: the cheapest eligible bids win, one lease per provider, until the order
 * has `replicas` leases. Order of preference: price (lower first), then reputation (higher
 * first), then bid height (earlier first), then provider address (bytes, lower first). An
 * unvetted provider's bid ranks after every vetted one unless the order's vetting draw is below
 * market.vettingShareBps (then price decides alone); with no vetted bid, unvetted bids win anyway.
 * A bid that would win but cannot any more (its device went, its stake fell...) is passed over
 * (event reason `ineligible`) and the next one is considered.
 */
export function matchOrder(ctx: Context, deps: MarketDeps, id: bigint, o: OrderRecord): void {
  const prm = params(ctx.store);
  const open = vettingDraw(id) < prm.vettingShareBps;
  // Rank on the bids alone (each carries its bidder's reputation and vetting when it bid);
  // eligibility (stake, jail, device, capacity, region, minimum reputation) is re-checked only
  // for the bids that would win, in rank order, until the order has its leases: a bid that
  // ranks below them loses whether or not it is still eligible.
  const ranked = bidsOf(ctx.store, id);
  ranked.sort((a, b) => {
    if (!open && a.vetted !== b.vetted) return a.vetted ? -1 : 1;
    if (a.price !== b.price) return a.price < b.price ? -1 : 1;
    if (a.repBps !== b.repBps) return a.repBps > b.repBps ? -1 : 1;
    if (a.height !== b.height) return a.height < b.height ? -1 : 1;
    return compare(a.provider, b.provider);
  });
  settleOrder(ctx, deps, id, o);
  const before = o.activeLeases;
  const started: SettleLease[] = [];
  const now = ctx.block.height;
  for (const b of ranked) {
    // The rest lose and stay (see the top of this file): their deposits go back on withdraw.
    if (o.activeLeases >= o.replicas) break;
    const e = eligibility(ctx.store, deps, o, b.provider, b.device, undefined, prm);
    if (e.providerReasons.length > 0 || e.deviceReasons.length > 0) removeBid(ctx, deps, id, o, b.provider, b, 'ineligible');
    else started.push({ id: startLease(ctx, id, o, b.provider, b, e), price: b.price, end: now + o.spec.value.durationBlocks, endReason: 'expired' });
  }
  ctx.store.delete(openKeyS(id));
  if (o.activeLeases === 0) finishOrder(ctx, deps, id, o, o.leases === 0 ? 'no-eligible-bids' : 'expired');
  else {
    o.status = 'active';
    emitMatched(ctx, id, o);
    // Only new leases (the usual case): their wake is known without reading them back.
    if (before === 0) setWake(ctx, id, o, nextWake(started, o.escrow, o.settledHeight) ?? 0n);
    else rewake(ctx, deps, id, o);
  }
}

/** The order stopped taking bids with its leases: `lost` bids stay until their providers withdraw. */
function emitMatched(ctx: Context, id: bigint, o: OrderRecord): void {
  ctx.emit('market.order.matched', () => ({ order: id, leases: o.activeLeases, lost: o.bids }));
}

// ---------------------------------------------------------------------------------------------
// Leases

/** A bid becomes a lease at this height (the order settled to now first): paid from the next block. */
/** `read`: what eligibility just read of this provider and device (nothing between wrote them). */
function startLease(ctx: Context, order: bigint, o: OrderRecord, provider: Bytes, b: BidRecord, read?: Eligibility): bigint {
  const id = nextId(ctx, NEXT_LEASE_KEY_S);
  const h = ctx.block.height;
  const l: LeaseRecord = {
    order,
    provider,
    customer: o.customer,
    device: b.device,
    price: b.price,
    denom: o.denom,
    kind: POOL_OF[o.spec.type],
    startHeight: h,
    endHeight: h + o.spec.value.durationBlocks,
    status: 'active',
    closeReason: null,
    closedHeight: 0n,
    paid: 0n,
    earned: 0n,
    deposit: b.deposit,
    reserved: true,
    gated: false,
    held: 0n,
  };
  ctx.store.delete(bidKeyS(order, provider));
  ctx.store.delete(providerBidKeyS(provider, order));
  o.bids--;
  putLease(ctx, id, l);
  ctx.store.set(orderLeaseKeyS(order, id), MARK);
  ctx.store.set(providerLeaseKeyS(provider, id), MARK);
  ctx.store.set(providerActiveKeyS(provider, id), MARK);
  ctx.store.set(usageKeyS(b.device), encode(deviceUsageCodec, addUsage(read?.usage ?? getUsage(ctx.store, b.device), usageOf(o), 1)));
  const p = read?.provider ?? (getProvider(ctx.store, provider) as ProviderRecord);
  putProvider(ctx, provider, { ...p, activeLeases: p.activeLeases + 1 });
  if (o.activeLeases === 0) o.settledHeight = h;
  o.activeLeases++;
  o.leases++;
  o.rate += b.price;
  ctx.emit('market.lease.created', () => ({
    lease: id,
    order,
    provider: encodeAddress(provider),
    customer: encodeAddress(o.customer),
    device: Buffer.from(b.device).toString('hex'),
    price: b.price,
    denom: o.denom,
  }));
  return id;
}

/** Closes an active lease (already settled): resources and the bid deposit go back, reputation notes the outcome. */
function endLease(ctx: Context, deps: MarketDeps, id: bigint, l: LeaseRecord, o: OrderRecord, reason: CloseReason, height = ctx.block.height): void {
  l.status = 'closed';
  l.closeReason = reason;
  l.closedHeight = height;
  if (l.reserved) {
    ctx.store.set(usageKeyS(l.device), encode(deviceUsageCodec, addUsage(getUsage(ctx.store, l.device), usageOf(o), -1)));
    l.reserved = false;
  }
  if (l.deposit > 0n) deps.bank.transfer(ctx, MARKET_ESCROW, l.provider, l.deposit);
  putLease(ctx, id, l);
  ctx.store.delete(providerActiveKeyS(l.provider, id));
  // One read and write of the provider: its active count and, if the close is evidence, its reputation.
  const p = getProvider(ctx.store, l.provider) as ProviderRecord;
  const outcome = OUTCOME[reason];
  const rep = outcome === undefined ? undefined : recordOutcome(p.alpha, p.beta, outcome, params(ctx.store).repDecayBps);
  putProvider(
    ctx,
    l.provider,
    rep === undefined
      ? { ...p, activeLeases: p.activeLeases - 1 }
      : { ...p, ...rep, activeLeases: p.activeLeases - 1, outcomes: p.outcomes + 1n, successes: p.successes + (outcome ? 1n : 0n) },
  );
  o.activeLeases--;
  o.rate -= l.price;
  ctx.emit('market.lease.closed', () => ({ lease: id, order: l.order, provider: encodeAddress(l.provider), customer: encodeAddress(l.customer), reason, paid: l.paid }));
}

export function closeLease(ctx: Context, deps: MarketDeps, sender: Bytes, id: bigint, reason: CloseReason | null): LeaseRecord {
  const l0 = getLease(ctx.store, id);
  if (!l0) throw MarketErrors.LEASE_NOT_FOUND(`no lease ${id} on this chain (see groundwork lease list)`);
  const isCustomer = equals(l0.customer, sender);
  const isProvider = equals(l0.provider, sender);
  if (!isCustomer && !isProvider) throw MarketErrors.NOT_CUSTOMER(`lease ${id} is between ${encodeAddress(l0.customer)} and ${encodeAddress(l0.provider)}`);
  const why: CloseReason = reason ?? (isCustomer ? 'customer' : 'provider-decommission');
  if (isProvider && !isCustomer && !PROVIDER_CLOSE_REASONS.includes(why)) {
    throw MarketErrors.INVALID_REASON(`a provider closes its lease with ${PROVIDER_CLOSE_REASONS.join(' or ')}, not ${why}`);
  }
  if (isCustomer && !isProvider && why !== 'customer') throw MarketErrors.INVALID_REASON(`a customer closes a lease with reason customer, not ${why}`);
  return closeLeaseFor(ctx, deps, id, why);
}

/**
 * Closes lease `id` with `why` on a module's authority (a vertical's verifier: failed-verification):
 * the order is settled to now first. Throws LEASE_NOT_FOUND or LEASE_CLOSED.
 */
export function closeLeaseFor(ctx: Context, deps: MarketDeps, id: bigint, why: CloseReason): LeaseRecord {
  const l0 = getLease(ctx.store, id);
  if (!l0) throw MarketErrors.LEASE_NOT_FOUND(`no lease ${id} on this chain (see groundwork lease list)`);
  if (l0.status === 'closed') throw MarketErrors.LEASE_CLOSED(`lease ${id} closed at height ${l0.closedHeight} (${l0.closeReason})`);
  const o = mustOrder(ctx.store, l0.order);
  settleOrder(ctx, deps, l0.order, o);
  const l = getLease(ctx.store, id) as LeaseRecord;
  if (l.status === 'active') {
    endLease(ctx, deps, id, l, o, why);
    if (o.activeLeases === 0 && o.status === 'active') finishOrder(ctx, deps, l0.order, o, why);
    else rewake(ctx, deps, l0.order, o);
  }
  putOrder(ctx, l0.order, o);
  return l;
}

/** The leases of an order that are active, as settlement sees them. */
function settleInputs(store: KVReader, deps: MarketDeps, order: bigint): Array<{ id: bigint; lease: LeaseRecord; s: SettleLease }> {
  const out: Array<{ id: bigint; lease: LeaseRecord; s: SettleLease }> = [];
  for (const id of leaseIdsOf(store, order)) {
    const l = getLease(store, id) as LeaseRecord;
    if (l.status !== 'active') continue;
    const d = deps.devices.get(store, l.device);
    const gone = !d || d.status === 'jailed' || d.status === 'retired' || !equals(d.owner, l.provider);
    const goneAt = gone ? (d && d.statusHeight > l.startHeight ? d.statusHeight : l.startHeight) : undefined;
    const s: SettleLease =
      goneAt !== undefined && goneAt < l.endHeight ? { id, price: l.price, end: goneAt, endReason: 'device-gone' } : { id, price: l.price, end: l.endHeight, endReason: 'expired' };
    out.push({ id, lease: l, s });
  }
  return out;
}

/**
 * Settles every active lease of order `id` to the current height (settlement.ts), pays what it
 * owes (tokens: provider share to earnings, take to treasury/burn; DC: burned and recorded as
 * the provider's work), closes the leases that ended or ran dry, and closes the order when none
 * is left. Idempotent: settling twice at one height pays nothing the second time. Mutates `o`;
 * the caller stores it.
 */
export function settleOrder(ctx: Context, deps: MarketDeps, id: bigint, o: OrderRecord): void {
  if (o.activeLeases === 0) return;
  const now = ctx.block.height;
  const inputs = settleInputs(ctx.store, deps, id);
  const r = settle(
    inputs.map((x) => x.s),
    o.escrow,
    o.settledHeight,
    now,
  );
  // Payments: the leases that close now are stored once, by endLease.
  const closing = new Set(r.closes.map((c) => c.id));
  let total = 0n;
  const paidIdx: number[] = [];
  r.paid.forEach((amount, i) => {
    if (amount === 0n) return;
    const lease = (inputs[i] as { lease: LeaseRecord }).lease;
    total += amount;
    lease.paid += amount;
    paidIdx.push(i);
  });
  if (o.denom === 'ugw') {
    // One batch of bank moves for the order; each payment split as on its own.
    const shares = deps.rewards.payWithTakeMany(
      ctx,
      MARKET_ESCROW,
      MARKET_EARNINGS,
      paidIdx.map((i) => r.paid[i] as bigint),
    );
    const earned = new Map<string, { who: Bytes; amount: bigint; held: bigint }>();
    paidIdx.forEach((i, k) => {
      const lease = (inputs[i] as { lease: LeaseRecord }).lease;
      const share = shares[k] as bigint;
      lease.earned += share;
      if (lease.gated) lease.held += share;
      const key = toHex(lease.provider);
      const e = earned.get(key);
      if (e) {
        e.amount += share;
        if (lease.gated) e.held += share;
      } else earned.set(key, { who: lease.provider, amount: share, held: lease.gated ? share : 0n });
    });
    for (const { who, amount, held } of earned.values()) {
      const p = getProvider(ctx.store, who) as ProviderRecord;
      putProvider(ctx, who, { ...p, earnings: p.earnings + amount, held: p.held + held });
    }
  } else {
    for (const i of paidIdx) {
      const lease = (inputs[i] as { lease: LeaseRecord }).lease;
      const amount = r.paid[i] as bigint;
      lease.earned += amount;
      // A gated lease's DC stay escrowed, held, until verification releases (burns) or forfeits them.
      if (lease.gated) lease.held += amount;
      else burnAsWork(ctx, deps, lease, amount);
    }
  }
  for (const i of paidIdx) {
    const x = inputs[i] as { id: bigint; lease: LeaseRecord };
    if (!closing.has(x.id)) putLease(ctx, x.id, x.lease);
  }
  o.escrow = r.escrowLeft;
  o.paid += total;
  o.settledHeight = r.settledTo;
  if (total > 0n) ctx.emit('market.settled', () => ({ order: id, height: now, amount: total }));
  let lastReason: CloseReason | undefined;
  for (const c of r.closes) {
    const x = inputs.find((i) => i.id === c.id) as { id: bigint; lease: LeaseRecord };
    endLease(ctx, deps, x.id, x.lease, o, c.reason, c.height);
    lastReason = c.reason;
  }
  if (o.activeLeases === 0 && o.status === 'active') finishOrder(ctx, deps, id, o, lastReason ?? 'expired');
  else if (o.status === 'closed') setWake(ctx, id, o, 0n);
  else {
    // The leases still active are exactly r.active: their wake needs no second read.
    let w = nextWake(r.active, o.escrow, o.settledHeight) ?? 0n;
    if (o.status === 'open' && (w === 0n || o.bidWindowEnd < w)) w = o.bidWindowEnd;
    setWake(ctx, id, o, w);
  }
}

/** Recomputes when the chain must next look at the order. */
function rewake(ctx: Context, deps: MarketDeps, id: bigint, o: OrderRecord): void {
  if (o.status === 'closed') return setWake(ctx, id, o, 0n);
  const active = o.activeLeases > 0 ? settleInputs(ctx.store, deps, id).map((x) => x.s) : [];
  let w = nextWake(active, o.escrow, o.settledHeight) ?? 0n;
  if (o.status === 'open' && (w === 0n || o.bidWindowEnd < w)) w = o.bidWindowEnd;
  setWake(ctx, id, o, w);
}

/** End of block: every order due now is matched (its window closed) and/or settled. */
export function processWakes(ctx: Context, deps: MarketDeps): void {
  const h = ctx.block.height;
  const [s, e] = range(wakeHeightPrefix(h));
  const due: bigint[] = [];
  for (const [k] of ctx.store.iterate(s, e)) due.push(readU64b(k, s.length));
  const budget = params(ctx.store).maxLeasesPerBlock;
  let spent = 0n;
  for (const id of due) {
    const o = getOrder(ctx.store, id) as OrderRecord;
    ctx.store.delete(wakeKeyS(h, id));
    o.wakeHeight = 0n;
    if (spent >= budget) {
      // Over this block's budget: the next block's end takes it (setWake moves it to h + 1).
      setWake(ctx, id, o, h);
      putOrder(ctx, id, o);
      continue;
    }
    const bids = BigInt(o.bids);
    spent += o.status === 'open' ? (bids > 0n ? bids : 1n) : BigInt(o.activeLeases > 0 ? o.activeLeases : 1);
    if (o.status === 'open' && h >= o.bidWindowEnd) matchOrder(ctx, deps, id, o);
    else settleOrder(ctx, deps, id, o);
    if (o.status !== 'closed' && o.wakeHeight === 0n) rewake(ctx, deps, id, o);
    putOrder(ctx, id, o);
  }
}

/** The provider settles its active leases and takes its earnings. Returns the amount paid out. */
export function withdraw(ctx: Context, deps: MarketDeps, provider: Bytes): bigint {
  if (!getProvider(ctx.store, provider)) throw MarketErrors.PROVIDER_NOT_REGISTERED(`${encodeAddress(provider)} is not a registered provider`);
  const orders = new Set<bigint>();
  for (const lid of activeLeaseIdsOf(ctx.store, provider)) orders.add((getLease(ctx.store, lid) as LeaseRecord).order);
  for (const oid of [...orders].sort((a, b) => (a < b ? -1 : 1))) {
    const o = getOrder(ctx.store, oid) as OrderRecord;
    settleOrder(ctx, deps, oid, o);
    putOrder(ctx, oid, o);
  }
  const lost = reclaimLostBids(ctx, deps, provider);
  const p = getProvider(ctx.store, provider) as ProviderRecord;
  const free = p.earnings - p.held;
  if (free === 0n && lost.bids === 0) {
    throw MarketErrors.NOTHING_TO_WITHDRAW(
      p.held > 0n
        ? `${encodeAddress(provider)}'s ${p.held} ugw of earnings are held until its storage proofs verify (the next challenge period)`
        : `${encodeAddress(provider)} has no earnings to withdraw and no lost bid's deposit to take back${lost.standby > 0 ? ` (${lost.standby} lost bid${lost.standby === 1 ? ' is' : 's are'} still its order's standby for market.standbyBlocks after the bid window; "groundwork market bid list --provider" shows from which block)` : ''} (leases paid in DC earn through the reward pools)`,
    );
  }
  if (free > 0n) {
    deps.bank.transfer(ctx, MARKET_EARNINGS, provider, free);
    putProvider(ctx, provider, { ...p, earnings: p.held });
  }
  ctx.emit('market.withdraw', () => ({ provider: encodeAddress(provider), amount: free, held: p.held, deposits: lost.deposits, lostBids: lost.bids, more: lost.more ? 1 : 0 }));
  return free;
}

/** Lost bids one withdraw takes back (a provider with more sends another; the tx's work stays bounded). */
export const MAX_RECLAIM = 256;
/**
 * Entries of its bid index one withdraw looks at, at most: bids on open orders and standbys are
 * passed over, and without a cap a provider holding many of them would make every withdraw walk
 * them all. The index runs by order id, oldest first, and older orders' bids are reclaimable
 * first, so a lost bid beyond the cap waits until the ones before it are taken back or cancelled
 * (or its order closes, which returns it anyway).
 */
export const MAX_RECLAIM_SCAN = 4 * MAX_RECLAIM;

/**
 * The first height at which a lost bid on `o` may be taken back: its window closed and its
 * standby time (market.standbyBlocks) is over. Undefined while the order takes bids.
 */
export function reclaimableFrom(o: Pick<OrderRecord, 'status' | 'bidWindowEnd'>, standbyBlocks: bigint): bigint | undefined {
  return o.status === 'open' ? undefined : o.bidWindowEnd + standbyBlocks + 1n;
}

/**
 * Removes up to MAX_RECLAIM of the provider's lost bids whose standby time is over, among the
 * first MAX_RECLAIM_SCAN entries of its bid index, each with a `market.bid.removed` event (reason
 * `lost`), and returns their deposits in one transfer. `standby`: lost bids seen still bound as
 * standbys (their deposits come back later); `more`: another withdraw would take back more now.
 */
function reclaimLostBids(ctx: Context, deps: MarketDeps, provider: Bytes): { bids: number; deposits: bigint; more: boolean; standby: number } {
  const [s, e] = range(providerBidsPrefix(provider));
  const { standbyBlocks } = params(ctx.store);
  const orders: bigint[] = [];
  let more = false;
  let standby = 0;
  let scanned = 0;
  for (const [k] of ctx.store.iterate(s, e)) {
    if (++scanned > MAX_RECLAIM_SCAN) break;
    const id = readU64b(k, s.length);
    const from = reclaimableFrom(getOrder(ctx.store, id) as OrderRecord, standbyBlocks);
    if (from === undefined) continue;
    if (ctx.block.height < from) {
      standby++;
      continue;
    }
    if (orders.length === MAX_RECLAIM) {
      more = true;
      break;
    }
    orders.push(id);
  }
  let deposits = 0n;
  for (const id of orders) {
    const o = getOrder(ctx.store, id) as OrderRecord;
    const b = getBid(ctx.store, id, provider) as BidRecord;
    removeBid(ctx, deps, id, o, provider, b, 'lost', false);
    deposits += b.deposit;
    putOrder(ctx, id, o);
  }
  if (deposits > 0n) deps.bank.transfer(ctx, MARKET_ESCROW, provider, deposits);
  return { bids: orders.length, deposits, more, standby };
}

// ---------------------------------------------------------------------------------------------
// Verified leases: earnings held until a vertical's verification releases them

/** A vertical takes over verifying lease `id` (active): from now on its earnings are held. The order is settled first. */
export function gateLease(ctx: Context, deps: MarketDeps, id: bigint): void {
  const l0 = getLease(ctx.store, id);
  if (!l0 || l0.status !== 'active') throw MarketErrors.LEASE_CLOSED(`lease ${id} is not active`);
  const o = mustOrder(ctx.store, l0.order);
  settleOrder(ctx, deps, l0.order, o);
  putOrder(ctx, l0.order, o);
  const l = getLease(ctx.store, id) as LeaseRecord;
  if (l.status === 'active' && !l.gated) putLease(ctx, id, { ...l, gated: true });
}

/** DC paid for a lease: burned, and recorded as the provider's work in the resource's reward pool (the device named while it is live). */
function burnAsWork(ctx: Context, deps: MarketDeps, lease: LeaseRecord, amount: bigint): void {
  deps.credits.burnEscrowedCredits(ctx, amount, 'market/lease');
  const d = deps.devices.get(ctx.store, lease.device);
  const live = d && (d.status === 'active' || d.status === 'warned');
  deps.rewards.recordWork(ctx, { recipient: lease.provider, pool: lease.kind, units: amount, reason: 'market-lease', ...(live ? { device: lease.device } : {}) });
}

/**
 * Verification passed (or the lease ended normally): what lease `id` earned up to now is
 * released — ugw become withdrawable; DC are burned and count as the provider's work. Returns
 * the amount released (in the order's denomination).
 */
export function releaseLease(ctx: Context, deps: MarketDeps, id: bigint): bigint {
  const l0 = getLease(ctx.store, id);
  if (!l0 || !l0.gated) return 0n;
  if (l0.status === 'active') {
    const o = mustOrder(ctx.store, l0.order);
    settleOrder(ctx, deps, l0.order, o);
    putOrder(ctx, l0.order, o);
  }
  const l = getLease(ctx.store, id) as LeaseRecord;
  if (l.held === 0n) return 0n;
  if (l.denom === 'ugw') {
    const p = getProvider(ctx.store, l.provider) as ProviderRecord;
    putProvider(ctx, l.provider, { ...p, held: p.held - l.held });
  } else burnAsWork(ctx, deps, l, l.held);
  putLease(ctx, id, { ...l, held: 0n });
  ctx.emit('market.lease.released', () => ({ lease: id, provider: encodeAddress(l.provider), amount: l.held }));
  return l.held;
}

/**
 * Verification failed for lease `id` (closed first by the caller): what it earned since its
 * last release goes back to the customer — into the order's escrow, or to the customer when the
 * order has closed. The take already paid stays paid. Returns the amount forfeited.
 */
export function forfeitLease(ctx: Context, deps: MarketDeps, id: bigint): bigint {
  const l = getLease(ctx.store, id);
  if (!l || l.held === 0n) return 0n;
  const amount = l.held;
  const dc = l.denom !== 'ugw';
  if (!dc) {
    const p = getProvider(ctx.store, l.provider) as ProviderRecord;
    putProvider(ctx, l.provider, { ...p, earnings: p.earnings - amount, held: p.held - amount });
  }
  putLease(ctx, id, { ...l, held: 0n, earned: l.earned - amount, paid: l.paid - amount });
  const o = mustOrder(ctx.store, l.order);
  o.paid -= amount;
  if (o.status === 'closed') {
    // DC never left the credits escrow: released back to the customer's balance.
    if (dc) deps.credits.releaseCredits(ctx, o.customer, amount);
    else deps.bank.transfer(ctx, MARKET_EARNINGS, o.customer, amount);
    o.refunded += amount;
  } else {
    if (!dc) deps.bank.transfer(ctx, MARKET_EARNINGS, MARKET_ESCROW, amount);
    o.escrow += amount;
    rewake(ctx, deps, l.order, o);
  }
  putOrder(ctx, l.order, o);
  ctx.emit('market.lease.forfeited', () => ({ lease: id, provider: encodeAddress(l.provider), customer: encodeAddress(o.customer), amount }));
  return amount;
}

/** What settling order `id` now would pay, and when its escrow runs dry at the current rate (a read-only preview). */
export function previewSettlement(store: KVReader, deps: MarketDeps, id: bigint, now: bigint): { owed: bigint; escrow: bigint; dryHeight: bigint | null } {
  const o = mustOrder(store, id);
  if (o.activeLeases === 0) return { owed: 0n, escrow: o.escrow, dryHeight: null };
  const inputs = settleInputs(store, deps, id).map((x) => x.s);
  const r = settle(inputs, o.escrow, o.settledHeight, now > o.settledHeight ? now : o.settledHeight);
  const owed = r.paid.reduce((a, b) => a + b, 0n);
  const rate = r.active.reduce((a, l) => a + l.price, 0n);
  return { owed, escrow: r.escrowLeft, dryHeight: rate === 0n ? null : r.settledTo + r.escrowLeft / rate };
}

export { DEVICE_KIND_FOR };

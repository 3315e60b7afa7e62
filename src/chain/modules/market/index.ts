/**
 * market: one generic marketplace for every resource kind (storage, compute, coverage).
 * Customers post orders with an escrow; registered providers bid with a device; the cheapest
 * eligible bids win when the window closes (or when the customer accepts one early); leases
 * stream payment per block from the escrow, settled lazily and closed with a reason code.
 * The flow and the token accounting: keeper.ts; the arithmetic: settlement.ts; who can serve
 * what, and why not: eligibility.ts; reputation: reputation.ts.
 */
import { toHex, type Bytes } from '../../../core/bytes.js';
import { U64_MAX } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { msg, type Module } from '../../module.js';
import { queryHeight } from '../oracle/index.js';
import { fmtBps } from './eligibility.js';
import type { MarketDeps } from './expected.js';
import {
  acceptBid,
  bidsOf,
  cancelBid,
  closeLease,
  closeOrder,
  createOrder,
  eligibility,
  getBid,
  getLease,
  getOrder,
  getProvider,
  isVetted,
  leaseIdsOf,
  placeBid,
  previewSettlement,
  params,
  processWakes,
  registerProvider,
  reclaimableFrom,
  reputationOf,
  topupOrder,
  withdraw,
} from './keeper.js';
import { CUSTOMER_ORDERS_PREFIX, OPEN_PREFIX, ORDER_PREFIX, PROVIDER_PREFIX, customerOrdersPrefix, providerActivePrefix, providerBidsPrefix, providerKey, providerLeasesPrefix, range, readU64b } from './keys.js';
import { marketParams, type MarketParams } from './params.js';
import {
  acceptBidMsgCodec,
  bidMsgCodec,
  cancelBidMsgCodec,
  closeLeaseMsgCodec,
  closeOrderMsgCodec,
  createOrderMsgCodec,
  registerProviderMsgCodec,
  specCodec,
  topupMsgCodec,
  withdrawMsgCodec,
  type BidRecord,
  type LeaseRecord,
  type OrderRecord,
  type ProviderRecord,
} from './types.js';

export { MARKET_EARNINGS, MARKET_ESCROW, recordProviderOutcome } from './keeper.js';
export { marketParams, type MarketParams } from './params.js';

// ---------------------------------------------------------------------------------------------
// JSON views (CONTRACTS: OrderView, BidView, LeaseView, ProviderView)

export function orderView(id: bigint, o: OrderRecord) {
  return {
    id: id.toString(),
    customer: encodeAddress(o.customer),
    kind: o.spec.type,
    spec: specCodec.toJSON(o.spec),
    replicas: o.replicas,
    region: o.region,
    attributes: o.attributes,
    minReputationBps: o.minReputationBps,
    maxPrice: o.maxPrice.toString(),
    denom: o.denom,
    status: o.status,
    closeReason: o.closeReason,
    createdHeight: o.createdHeight.toString(),
    bidWindowEnd: o.bidWindowEnd.toString(),
    closedHeight: o.closedHeight.toString(),
    escrow: o.escrow.toString(),
    deposited: o.deposited.toString(),
    paid: o.paid.toString(),
    refunded: o.refunded.toString(),
    settledHeight: o.settledHeight.toString(),
    rate: o.rate.toString(),
    activeLeases: o.activeLeases,
    leaseCount: o.leases,
    bidCount: o.bids,
    wakeHeight: o.wakeHeight.toString(),
  };
}

/**
 * A bid on order `o` (its status and window). A stored bid on an order no longer taking bids lost:
 * `reclaimableFrom` is the first block at which its provider's withdraw takes its deposit back
 * (until then it is the order's standby, see market.standbyBlocks).
 */
export function bidView(order: bigint, b: BidRecord & { provider: Bytes }, o: Pick<OrderRecord, 'status' | 'bidWindowEnd'>, standbyBlocks: bigint) {
  const from = reclaimableFrom(o, standbyBlocks);
  return {
    order: order.toString(),
    provider: encodeAddress(b.provider),
    device: toHex(b.device),
    price: b.price.toString(),
    deposit: b.deposit.toString(),
    height: b.height.toString(),
    reputationBps: b.repBps,
    vetted: b.vetted,
    status: from === undefined ? 'standing' : 'lost',
    reclaimableFrom: from === undefined ? null : from.toString(),
  };
}

export function leaseView(id: bigint, l: LeaseRecord) {
  return {
    id: id.toString(),
    order: l.order.toString(),
    provider: encodeAddress(l.provider),
    customer: encodeAddress(l.customer),
    device: toHex(l.device),
    price: l.price.toString(),
    denom: l.denom,
    kind: (['storage', 'compute', 'coverage'] as const)[l.kind] ?? 'storage',
    startHeight: l.startHeight.toString(),
    endHeight: l.endHeight.toString(),
    status: l.status,
    closeReason: l.closeReason,
    closedHeight: l.closedHeight.toString(),
    paid: l.paid.toString(),
    earned: l.earned.toString(),
    deposit: l.deposit.toString(),
    gated: l.gated,
    held: l.held.toString(),
  };
}

export function providerView(store: KVReader, who: Bytes, p: ProviderRecord) {
  const rep = reputationOf(p);
  return {
    address: encodeAddress(who),
    hostUri: p.hostUri,
    attributes: p.attributes,
    registeredHeight: p.registeredHeight.toString(),
    reputationBps: Number(rep),
    /** The same, for people ("97.50%"). */
    reputation: fmtBps(rep),
    vetted: isVetted(store, p),
    outcomes: p.outcomes.toString(),
    successes: p.successes.toString(),
    earnings: p.earnings.toString(),
    held: p.held.toString(),
    activeLeases: p.activeLeases,
  };
}

// ---------------------------------------------------------------------------------------------
// Query arguments

type Args = Readonly<Record<string, string>>;

function argId(args: Args, name: string): bigint {
  const v = args[name];
  if (v === undefined || !/^[1-9][0-9]{0,19}$/.test(v) || BigInt(v) > U64_MAX) throw new InvalidInputError('INVALID_ARGUMENT', `give ?${name}= as a positive integer${v === undefined ? '' : `, got "${v}"`}`);
  return BigInt(v);
}

function argAddr(args: Args, name: string): Bytes {
  const v = args[name];
  if (v === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `give ?${name}=gw1...`);
  return decodeAddress(v);
}

function argLimit(args: Args): number {
  const v = args.limit;
  if (v === undefined) return 50;
  if (!/^[1-9][0-9]{0,2}$/.test(v) || Number(v) > 100) throw new InvalidInputError('INVALID_ARGUMENT', `limit must be 1-100, got "${v}"`);
  return Number(v);
}

function argOneOf<T extends string>(args: Args, name: string, values: readonly T[]): T | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw new InvalidInputError('INVALID_ARGUMENT', `${name} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

function mustOrderView(store: KVReader, id: bigint): OrderRecord {
  const o = getOrder(store, id);
  if (!o) throw new InvalidInputError('NOT_FOUND', `no order ${id}`);
  return o;
}

/** Pages over ids under `prefix` (8-byte big-endian suffix at `at`), starting after `after`. */
function pageIds(store: KVReader, prefix: Bytes, at: number, after: bigint | undefined, keep: (id: bigint) => boolean, limit: number): { ids: bigint[]; next: string | null } {
  const [s, e] = range(prefix);
  const start = after === undefined ? s : Buffer.concat([Buffer.from(s), Buffer.from(u64(after + 1n))]);
  const ids: bigint[] = [];
  for (const [k] of store.iterate(start, e)) {
    const id = readU64b(k, at);
    if (!keep(id)) continue;
    if (ids.length === limit) return { ids, next: (ids[ids.length - 1] as bigint).toString() };
    ids.push(id);
  }
  return { ids, next: null };
}

/**
 * One page of the registered providers in address order (`?after=<address>`, `?limit=`), each
 * mapped by `f`; `next` is the last address of a full page (null at the end).
 */
function pageProviders<T>(store: KVReader, args: Readonly<Record<string, string>>, f: (who: Bytes) => T): { items: T[]; next: string | null } {
  const limit = argLimit(args);
  const [s, e] = range(PROVIDER_PREFIX);
  const start = args.after === undefined ? s : Buffer.concat([Buffer.from(providerKey(argAddr(args, 'after'))), Buffer.from([0])]);
  const items: T[] = [];
  let last: Bytes | undefined;
  for (const [k] of store.iterate(start, e)) {
    if (items.length === limit) return { items, next: last ? encodeAddress(last) : null };
    last = Uint8Array.from(k.subarray(PROVIDER_PREFIX.length));
    items.push(f(last));
  }
  return { items, next: null };
}

function u64(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v);
  return b;
}

/** Devices judged per provider: in a page of the explain list (bounded work per query), and for one provider (?provider=). */
const EXPLAIN_LIST_MAX_DEVICES = 64;
const EXPLAIN_ONE_MAX_DEVICES = 100_000;

const ORDER_STATUS = ['open', 'active', 'closed'] as const;
const LEASE_STATUS = ['active', 'closed'] as const;
const KINDS = ['storage', 'compute', 'coverage'] as const;

// ---------------------------------------------------------------------------------------------

export function marketModule(deps: MarketDeps): Module<null, MarketParams> {
  return {
    name: 'market',
    params: marketParams,
    indexedAttributes: [
      'market.order.created.customer',
      'market.bid.provider',
      'market.lease.created.provider',
      'market.lease.created.customer',
      'market.lease.closed.provider',
      'market.lease.closed.customer',
    ],
    msgs: [
      msg('market/register-provider', registerProviderMsgCodec, (ctx, m) => registerProvider(ctx, ctx.sender as Bytes, m)),
      msg('market/create-order', createOrderMsgCodec, (ctx, m) => {
        createOrder(ctx, deps, ctx.sender as Bytes, m);
      }),
      msg('market/bid', bidMsgCodec, (ctx, m) => placeBid(ctx, deps, ctx.sender as Bytes, m)),
      msg('market/cancel-bid', cancelBidMsgCodec, (ctx, m) => cancelBid(ctx, deps, ctx.sender as Bytes, m.order)),
      msg('market/accept-bid', acceptBidMsgCodec, (ctx, m) => {
        acceptBid(ctx, deps, ctx.sender as Bytes, m.order, m.provider);
      }),
      msg('market/close-order', closeOrderMsgCodec, (ctx, m) => {
        closeOrder(ctx, deps, ctx.sender as Bytes, m.order);
      }),
      msg('market/close-lease', closeLeaseMsgCodec, (ctx, m) => {
        closeLease(ctx, deps, ctx.sender as Bytes, m.lease, m.reason);
      }),
      msg('market/topup', topupMsgCodec, (ctx, m) => {
        topupOrder(ctx, deps, ctx.sender as Bytes, m.order, m.amount);
      }),
      msg('market/withdraw', withdrawMsgCodec, (ctx) => {
        withdraw(ctx, deps, ctx.sender as Bytes);
      }),
    ],
    endBlock(ctx) {
      processWakes(ctx, deps);
    },
    queries: {
      order(store, args) {
        const id = argId(args, 'id');
        const o = mustOrderView(store, id);
        return {
          ...orderView(id, o),
          bids: bidsOf(store, id).map((b) => bidView(id, b, o, params(store).standbyBlocks)),
          leases: leaseIdsOf(store, id).map((lid) => leaseView(lid, getLease(store, lid) as LeaseRecord)),
        };
      },
      orders(store, args) {
        const status = argOneOf(args, 'status', ORDER_STATUS);
        const limit = argLimit(args);
        const after = args.after === undefined ? undefined : argId(args, 'after');
        const keep = (id: bigint): boolean => status === undefined || getOrder(store, id)?.status === status;
        const page = args.customer
          ? pageIds(store, customerOrdersPrefix(argAddr(args, 'customer')), CUSTOMER_ORDERS_PREFIX.length + 20, after, keep, limit)
          : pageIds(store, ORDER_PREFIX, ORDER_PREFIX.length, after, keep, limit);
        return { orders: page.ids.map((id) => orderView(id, getOrder(store, id) as OrderRecord)), next: page.next };
      },
      'open-orders'(store, args) {
        const kind = argOneOf(args, 'kind', KINDS);
        const limit = argLimit(args);
        const after = args.after === undefined ? undefined : argId(args, 'after');
        const page = pageIds(store, OPEN_PREFIX, OPEN_PREFIX.length, after, (id) => kind === undefined || getOrder(store, id)?.spec.type === kind, limit);
        return { orders: page.ids.map((id) => orderView(id, getOrder(store, id) as OrderRecord)), next: page.next };
      },
      bids(store, args) {
        if (args.provider !== undefined) {
          // A provider's bids (standing and lost), through its bid index, by order id.
          const p = argAddr(args, 'provider');
          const after = args.after === undefined ? undefined : argId(args, 'after');
          const page = pageIds(store, providerBidsPrefix(p), providerBidsPrefix(p).length, after, () => true, argLimit(args));
          const { standbyBlocks } = params(store);
          const bids = page.ids.map((id) => {
            const b = getBid(store, id, p) as BidRecord;
            return bidView(id, { ...b, provider: p }, getOrder(store, id) as OrderRecord, standbyBlocks);
          });
          return { bids, next: page.next };
        }
        const id = argId(args, 'order');
        const o = mustOrderView(store, id);
        return { bids: bidsOf(store, id).map((b) => bidView(id, b, o, params(store).standbyBlocks)) };
      },
      lease(store, args) {
        const id = argId(args, 'id');
        const l = getLease(store, id);
        if (!l) throw new InvalidInputError('NOT_FOUND', `no lease ${id}`);
        return leaseView(id, l);
      },
      leases(store, args) {
        const status = argOneOf(args, 'status', LEASE_STATUS);
        const limit = argLimit(args);
        const after = args.after === undefined ? undefined : argId(args, 'after');
        const keepLease = (id: bigint): boolean => status === undefined || getLease(store, id)?.status === status;
        let ids: bigint[];
        let next: string | null = null;
        if (args.order !== undefined) {
          ids = leaseIdsOf(store, argId(args, 'order')).filter((id) => (after === undefined || id > after) && keepLease(id));
          if (ids.length > limit) {
            ids = ids.slice(0, limit);
            next = (ids[ids.length - 1] as bigint).toString();
          }
        } else if (args.provider !== undefined) {
          const p = argAddr(args, 'provider');
          if (status === 'active') {
            const page = pageIds(store, providerActivePrefix(p), providerActivePrefix(p).length, after, () => true, limit);
            ids = page.ids;
            next = page.next;
          } else {
            const page = pageIds(store, providerLeasesPrefix(p), providerLeasesPrefix(p).length, after, keepLease, limit);
            ids = page.ids;
            next = page.next;
          }
        } else if (args.customer !== undefined) {
          const c = argAddr(args, 'customer');
          ids = [];
          for (const oid of pageIds(store, customerOrdersPrefix(c), CUSTOMER_ORDERS_PREFIX.length + 20, undefined, () => true, 100_000).ids) {
            for (const lid of leaseIdsOf(store, oid)) if ((after === undefined || lid > after) && keepLease(lid)) ids.push(lid);
          }
          ids.sort((a, b) => (a < b ? -1 : 1));
          if (ids.length > limit) {
            ids = ids.slice(0, limit);
            next = (ids[ids.length - 1] as bigint).toString();
          }
        } else throw new InvalidInputError('INVALID_ARGUMENT', 'give ?order=, ?provider= or ?customer=');
        return { leases: ids.map((id) => leaseView(id, getLease(store, id) as LeaseRecord)), next };
      },
      provider(store, args) {
        const a = argAddr(args, 'address');
        const p = getProvider(store, a);
        if (!p) throw new InvalidInputError('NOT_FOUND', `${encodeAddress(a)} is not a registered provider`);
        return providerView(store, a, p);
      },
      providers(store, args) {
        const page = pageProviders(store, args, (who) => providerView(store, who, getProvider(store, who) as ProviderRecord));
        return { providers: page.items, next: page.next };
      },
      explain(store, args) {
        const id = argId(args, 'order');
        const o = mustOrderView(store, id);
        const head = { order: id.toString(), status: o.status, bidWindowEnd: o.bidWindowEnd.toString() };
        /** One provider's verdict: on the device it bid with, else its best (fewest problems) device of the right kind among the first `maxDevices`. */
        const judge = (who: Bytes, bid: (BidRecord & { provider: Bytes }) | undefined, maxDevices: number) => {
          const candidates = bid ? [bid.device] : deps.devices.of(store, who, maxDevices).map((d) => d.id);
          let best: { device: Bytes | null; reasons: { code: string; message: string }[] } | undefined;
          for (const dev of candidates) {
            const el = eligibility(store, deps, o, who, dev);
            const reasons = [...el.providerReasons, ...el.deviceReasons];
            const wrongKind = el.deviceReasons.some((r) => r.code === 'WRONG_KIND');
            if (!wrongKind && (!best || reasons.length < best.reasons.length)) best = { device: dev, reasons };
            if (best?.reasons.length === 0) break;
          }
          if (!best) {
            const el = eligibility(store, deps, o, who, new Uint8Array(32));
            best = { device: null, reasons: [...el.providerReasons, { code: 'NO_DEVICE', message: `no ${o.spec.type === 'coverage' ? 'hotspot' : o.spec.type} device owned by the provider` }] };
          }
          return { provider: encodeAddress(who), eligible: best.reasons.length === 0, device: best.device ? toHex(best.device) : null, reasons: best.reasons, bid: bid ? bidView(id, bid, o, params(store).standbyBlocks) : null };
        };
        if (args.provider !== undefined) {
          // One provider (what its agent asks before bidding): every device it owns is considered.
          const who = argAddr(args, 'provider');
          if (!getProvider(store, who)) throw new InvalidInputError('NOT_FOUND', `${encodeAddress(who)} is not a registered provider`);
          const b = getBid(store, id, who);
          return { ...head, providers: [judge(who, b ? { ...b, provider: who } : undefined, EXPLAIN_ONE_MAX_DEVICES)], next: null };
        }
        const bids = new Map(bidsOf(store, id).map((b) => [encodeAddress(b.provider), b]));
        const page = pageProviders(store, args, (who) => judge(who, bids.get(encodeAddress(who)), EXPLAIN_LIST_MAX_DEVICES));
        return { ...head, providers: page.items, next: page.next };
      },
      'settle-preview'(store, args) {
        const id = argId(args, 'order');
        mustOrderView(store, id);
        const h = queryHeight(store, args);
        const p = previewSettlement(store, deps, id, h);
        return { order: id.toString(), height: h.toString(), owed: p.owed.toString(), escrow: p.escrow.toString(), dryHeight: p.dryHeight === null ? null : p.dryHeight.toString() };
      },
    },
  };
}

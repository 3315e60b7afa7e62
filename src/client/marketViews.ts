/**
 * The market module's query answers in the SDK: the JSON the node sends (`*View`, amounts and
 * heights as decimal strings) and the typed values the market actions return (bigints parsed,
 * the spec decoded by the chain's own codec). Shared by the market query actions.
 */
import { specCodec, type Attribute, type CloseReason, type Denom, type LeaseStatus, type OrderStatus, type ResourceKind, type ResourceSpec } from '../chain/modules/market/types.js';
import type { Client } from './client.js';
import type { SignAndSendReturnType } from './actions/signAndSend.js';
import { ClientError } from './errors.js';
import { verticalQuery } from './actions/moduleQuery.js';

// ---------------------------------------------------------------------------------------------
// JSON as the node answers

export interface OrderView {
  id: string;
  customer: string;
  kind: ResourceKind;
  spec: unknown;
  replicas: number | string;
  region: string[];
  attributes: Attribute[];
  minReputationBps: number | string;
  maxPrice: string;
  denom: Denom;
  status: OrderStatus;
  closeReason: CloseReason | null;
  createdHeight: string;
  bidWindowEnd: string;
  closedHeight: string;
  escrow: string;
  deposited: string;
  paid: string;
  refunded: string;
  settledHeight: string;
  rate: string;
  activeLeases: number | string;
  leaseCount: number | string;
  bidCount: number | string;
  wakeHeight: string;
}

export interface BidView {
  order: string;
  provider: string;
  device: string;
  price: string;
  deposit: string;
  height: string;
  /** The bidder's reputation (basis points) when it bid: the bid's rank after price. */
  reputationBps: number;
  /** Whether the bidder was vetted when it bid (unvetted bidders win only drawn orders). */
  vetted: boolean;
  /** standing: the order takes bids; lost: it stopped without this bid winning (the deposit goes back on the provider's withdraw from `reclaimableFrom`, or when the order closes). */
  status: 'standing' | 'lost';
  /** A lost bid: the first block a withdraw takes its deposit back (until then it is the order's standby, market.standbyBlocks); null while standing. */
  reclaimableFrom: string | null;
}

export interface LeaseView {
  id: string;
  order: string;
  provider: string;
  customer: string;
  device: string;
  price: string;
  denom: Denom;
  kind: ResourceKind | number;
  startHeight: string;
  endHeight: string;
  status: LeaseStatus;
  closeReason: CloseReason | null;
  closedHeight: string;
  paid: string;
  earned: string;
  deposit: string;
  gated?: boolean;
  held?: string;
}

export interface ProviderView {
  address: string;
  hostUri: string;
  attributes: Attribute[];
  registeredHeight: string;
  reputationBps: number | string;
  vetted: boolean;
  outcomes: string;
  successes: string;
  earnings: string;
  held?: string;
  activeLeases: number | string;
}

// ---------------------------------------------------------------------------------------------
// Typed

/** An order (OrderView with bigints; `spec` decoded: e.g. {type:'storage', value:{bytes, durationBlocks}}). */
export interface MarketOrder {
  id: bigint;
  customer: string;
  kind: ResourceKind;
  spec: ResourceSpec;
  replicas: number;
  /** H3 cells a device must be in; empty: anywhere. */
  region: string[];
  attributes: Attribute[];
  minReputationBps: number;
  /** Per block per lease, in `denom`. */
  maxPrice: bigint;
  denom: Denom;
  status: OrderStatus;
  closeReason: CloseReason | null;
  createdHeight: bigint;
  bidWindowEnd: bigint;
  closedHeight: bigint;
  /** What is left in escrow, and the totals (deposited = paid + refunded + escrow). */
  escrow: bigint;
  deposited: bigint;
  paid: bigint;
  refunded: bigint;
  settledHeight: bigint;
  /** Sum of the active leases' prices, per block. */
  rate: bigint;
  activeLeases: number;
  leaseCount: number;
  bidCount: number;
  wakeHeight: bigint;
}

export interface MarketBid {
  order: bigint;
  provider: string;
  /** Device id (public key), lowercase hex. */
  device: string;
  price: bigint;
  /** ugw held while the bid is stored: back when it is cancelled or outbid, or, once lost, on the provider's first withdraw from `reclaimableFrom` (or when the order closes). */
  deposit: bigint;
  height: bigint;
  /** standing: the order takes bids; lost: the order stopped taking bids without this one winning. */
  status: 'standing' | 'lost';
  /** A lost bid: the first block its provider's withdraw takes the deposit back (before, the customer may still accept it as a replacement); undefined while standing. */
  reclaimableFrom?: bigint;
}

export interface MarketLease {
  id: bigint;
  order: bigint;
  provider: string;
  customer: string;
  device: string;
  price: bigint;
  denom: Denom;
  kind: ResourceKind | number;
  startHeight: bigint;
  endHeight: bigint;
  status: LeaseStatus;
  closeReason: CloseReason | null;
  closedHeight: bigint;
  /** As of the order's last settlement (see previewSettlement for now). */
  paid: bigint;
  earned: bigint;
  deposit: bigint;
  /** A vertical verifies the lease (storage proofs): its earnings are held until verified. */
  gated: boolean;
  /** Earned and held (not withdrawable until released). */
  held: bigint;
}

export interface MarketProvider {
  address: string;
  hostUri: string;
  attributes: Attribute[];
  registeredHeight: bigint;
  reputationBps: number;
  vetted: boolean;
  outcomes: bigint;
  successes: bigint;
  /** ugw earned and not yet withdrawn. */
  earnings: bigint;
  /** The part of earnings held until storage proofs verify (withdrawable: earnings − held). */
  held: bigint;
  activeLeases: number;
}

// ---------------------------------------------------------------------------------------------
// Parsing: the node's word is checked for shape, so a wrong answer is a clear error, not NaN.

function bad(path: string, v: unknown): ClientError {
  return new ClientError('BAD_RESPONSE', `the node's answer has an invalid ${path}: ${JSON.stringify(v)}`);
}

/** A decimal string (or a safe integer) as a bigint. */
export function big(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw bad(path, v);
}

/** A small integer (u16/u32 fields), sent as a number or a decimal string. */
export function num(v: unknown, path: string): number {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  throw bad(path, v);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, v);
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw bad(path, v);
  return v;
}

export function parseOrder(j: unknown): MarketOrder {
  const o = obj(j, 'order');
  let spec: ResourceSpec;
  try {
    spec = specCodec.fromJSON(o.spec, 'order.spec');
  } catch (e) {
    throw new ClientError('BAD_RESPONSE', `the node's order.spec does not decode: ${(e as Error).message}`, { cause: e });
  }
  return {
    id: big(o.id, 'order.id'),
    customer: String(o.customer),
    kind: (o.kind ?? spec.type) as ResourceKind,
    spec,
    replicas: num(o.replicas, 'order.replicas'),
    region: arr(o.region ?? [], 'order.region').map(String),
    attributes: arr(o.attributes ?? [], 'order.attributes') as Attribute[],
    minReputationBps: num(o.minReputationBps, 'order.minReputationBps'),
    maxPrice: big(o.maxPrice, 'order.maxPrice'),
    denom: o.denom as Denom,
    status: o.status as OrderStatus,
    closeReason: (o.closeReason ?? null) as CloseReason | null,
    createdHeight: big(o.createdHeight, 'order.createdHeight'),
    bidWindowEnd: big(o.bidWindowEnd, 'order.bidWindowEnd'),
    closedHeight: big(o.closedHeight ?? '0', 'order.closedHeight'),
    escrow: big(o.escrow, 'order.escrow'),
    deposited: big(o.deposited, 'order.deposited'),
    paid: big(o.paid, 'order.paid'),
    refunded: big(o.refunded, 'order.refunded'),
    settledHeight: big(o.settledHeight, 'order.settledHeight'),
    rate: big(o.rate, 'order.rate'),
    activeLeases: num(o.activeLeases, 'order.activeLeases'),
    leaseCount: num(o.leaseCount ?? o.leases, 'order.leaseCount'),
    bidCount: num(o.bidCount ?? o.bids, 'order.bidCount'),
    wakeHeight: big(o.wakeHeight ?? '0', 'order.wakeHeight'),
  };
}

export function parseBid(j: unknown): MarketBid {
  const b = obj(j, 'bid');
  return {
    order: big(b.order, 'bid.order'),
    provider: String(b.provider),
    device: String(b.device),
    price: big(b.price, 'bid.price'),
    deposit: big(b.deposit, 'bid.deposit'),
    height: big(b.height, 'bid.height'),
    status: b.status === 'lost' ? 'lost' : 'standing',
    ...(b.reclaimableFrom === undefined || b.reclaimableFrom === null ? {} : { reclaimableFrom: big(b.reclaimableFrom, 'bid.reclaimableFrom') }),
  };
}

export function parseLease(j: unknown): MarketLease {
  const l = obj(j, 'lease');
  return {
    id: big(l.id, 'lease.id'),
    order: big(l.order, 'lease.order'),
    provider: String(l.provider),
    customer: String(l.customer),
    device: String(l.device),
    price: big(l.price, 'lease.price'),
    denom: l.denom as Denom,
    kind: l.kind as ResourceKind | number,
    startHeight: big(l.startHeight, 'lease.startHeight'),
    endHeight: big(l.endHeight, 'lease.endHeight'),
    status: l.status as LeaseStatus,
    closeReason: (l.closeReason ?? null) as CloseReason | null,
    closedHeight: big(l.closedHeight ?? '0', 'lease.closedHeight'),
    paid: big(l.paid, 'lease.paid'),
    earned: big(l.earned, 'lease.earned'),
    deposit: big(l.deposit, 'lease.deposit'),
    gated: l.gated === true,
    held: big(l.held ?? '0', 'lease.held'),
  };
}

export function parseProvider(j: unknown): MarketProvider {
  const p = obj(j, 'provider');
  return {
    address: String(p.address),
    hostUri: String(p.hostUri),
    attributes: arr(p.attributes ?? [], 'provider.attributes') as Attribute[],
    registeredHeight: big(p.registeredHeight, 'provider.registeredHeight'),
    reputationBps: num(p.reputationBps, 'provider.reputationBps'),
    vetted: p.vetted === true,
    outcomes: big(p.outcomes, 'provider.outcomes'),
    successes: big(p.successes, 'provider.successes'),
    earnings: big(p.earnings, 'provider.earnings'),
    held: big(p.held ?? '0', 'provider.held'),
    activeLeases: num(p.activeLeases, 'provider.activeLeases'),
  };
}

export function parseList<T>(j: unknown, field: string, item: (x: unknown) => T): { items: T[]; next: string | null } {
  const o = obj(j, 'answer');
  const next = o.next;
  return { items: arr(o[field], field).map(item), next: typeof next === 'string' && next !== '' ? next : null };
}

/** An id-like argument (bigint, number or decimal string) as the query's decimal string. */
export function idArg(v: bigint | number | string): string {
  return String(v);
}

/**
 * A market query. A node without the market module is a clear error (MARKET_UNAVAILABLE), not a
 * 404 that reads like a missing order; `notFound` turns the query's own NOT_FOUND into a value.
 */
export function marketQuery<T>(client: Client, query: string, args: Record<string, string | bigint | number | undefined>, notFound?: () => T): Promise<T> {
  return verticalQuery<T>(client, 'market', query, args, notFound);
}

/** The attributes of the first `type` event a committed market tx emitted (BAD_RESPONSE when missing). */
export function txEvent(t: SignAndSendReturnType, type: string): Record<string, string> {
  const ev = t.events.find((e) => e.type === type);
  if (!ev) throw new ClientError('BAD_RESPONSE', `tx ${t.hash} succeeded but carries no ${type} event`);
  return ev.attributes;
}

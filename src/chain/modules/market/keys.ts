/**
 * market state keys (also listed in src/chain/keys.ts). Numbers are big-endian so keys sort
 * numerically; addresses are 20 bytes, device ids 32.
 */
import { concat, toKeyString, utf8, type Bytes } from '../../../core/bytes.js';
import { prefixEnd } from '../../keys.js';

export const NEXT_ORDER_KEY = utf8('market/next/order');
export const NEXT_LEASE_KEY = utf8('market/next/lease');
export const ORDER_PREFIX = utf8('market/o/');
export const BID_PREFIX = utf8('market/b/');
export const LEASE_PREFIX = utf8('market/l/');
export const ORDER_LEASES_PREFIX = utf8('market/ol/');
export const PROVIDER_PREFIX = utf8('market/p/');
export const PROVIDER_LEASES_PREFIX = utf8('market/pl/');
export const PROVIDER_ACTIVE_PREFIX = utf8('market/pa/');
export const PROVIDER_BIDS_PREFIX = utf8('market/pb/');
export const CUSTOMER_ORDERS_PREFIX = utf8('market/co/');
export const OPEN_PREFIX = utf8('market/open/');
export const WAKE_PREFIX = utf8('market/w/');
export const USAGE_PREFIX = utf8('market/u/');

export function u64b(v: bigint): Bytes {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v);
  return b;
}

export function readU64b(k: Bytes, at: number): bigint {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(at);
}

export const orderKey = (id: bigint): Bytes => concat(ORDER_PREFIX, u64b(id));
export const bidKey = (order: bigint, provider: Bytes): Bytes => concat(BID_PREFIX, u64b(order), provider);
export const orderBidsPrefix = (order: bigint): Bytes => concat(BID_PREFIX, u64b(order));
export const leaseKey = (id: bigint): Bytes => concat(LEASE_PREFIX, u64b(id));
export const orderLeaseKey = (order: bigint, lease: bigint): Bytes => concat(ORDER_LEASES_PREFIX, u64b(order), u64b(lease));
export const orderLeasesPrefix = (order: bigint): Bytes => concat(ORDER_LEASES_PREFIX, u64b(order));
export const providerKey = (provider: Bytes): Bytes => concat(PROVIDER_PREFIX, provider);
export const providerLeaseKey = (provider: Bytes, lease: bigint): Bytes => concat(PROVIDER_LEASES_PREFIX, provider, u64b(lease));
export const providerLeasesPrefix = (provider: Bytes): Bytes => concat(PROVIDER_LEASES_PREFIX, provider);
export const providerActiveKey = (provider: Bytes, lease: bigint): Bytes => concat(PROVIDER_ACTIVE_PREFIX, provider, u64b(lease));
export const providerActivePrefix = (provider: Bytes): Bytes => concat(PROVIDER_ACTIVE_PREFIX, provider);
export const providerBidKey = (provider: Bytes, order: bigint): Bytes => concat(PROVIDER_BIDS_PREFIX, provider, u64b(order));
export const providerBidsPrefix = (provider: Bytes): Bytes => concat(PROVIDER_BIDS_PREFIX, provider);
export const customerOrderKey = (customer: Bytes, order: bigint): Bytes => concat(CUSTOMER_ORDERS_PREFIX, customer, u64b(order));
export const customerOrdersPrefix = (customer: Bytes): Bytes => concat(CUSTOMER_ORDERS_PREFIX, customer);
export const openKey = (order: bigint): Bytes => concat(OPEN_PREFIX, u64b(order));
export const wakeKey = (height: bigint, order: bigint): Bytes => concat(WAKE_PREFIX, u64b(height), u64b(order));
export const wakeHeightPrefix = (height: bigint): Bytes => concat(WAKE_PREFIX, u64b(height));
export const usageKey = (device: Bytes): Bytes => concat(USAGE_PREFIX, device);

// The same keys as latin1 strings (state/overlay's Key), built in one reused buffer: the
// keeper's hot paths skip a buffer per part and the string conversion per access.
const kb = Buffer.allocUnsafe(128);
const latin1 = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, start: number, end: number): string }).latin1Slice;

function put(n: number, part: Bytes | bigint): number {
  if (typeof part === 'bigint') {
    // Ids and heights fit in 32 bits for a long while: skip writeBigUInt64BE's bigint arithmetic.
    if (part < 0n || part > 0xffff_ffffn) return kb.writeBigUInt64BE(part, n);
    kb.writeUInt32BE(0, n);
    return kb.writeUInt32BE(Number(part), n + 4);
  }
  kb.set(part, n);
  return n + part.length;
}

const partLength = (p: Bytes | bigint | undefined): number => (p === undefined ? 0 : typeof p === 'bigint' ? 8 : p.length);

function keyS(prefix: Bytes, a: Bytes | bigint, b?: Bytes | bigint): string {
  if (prefix.length + partLength(a) + partLength(b) > kb.length) {
    // Longer than any key the keeper builds (addresses 20 bytes, devices 32): the slow path.
    const parts = [prefix, a, ...(b === undefined ? [] : [b])].map((p) => (typeof p === 'bigint' ? u64b(p) : p));
    return toKeyString(concat(...parts));
  }
  kb.set(prefix, 0);
  let n = put(prefix.length, a);
  if (b !== undefined) n = put(n, b);
  return latin1.call(kb, 0, n);
}

export const NEXT_LEASE_KEY_S = 'market/next/lease';
export const orderKeyS = (id: bigint): string => keyS(ORDER_PREFIX, id);
export const bidKeyS = (order: bigint, provider: Bytes): string => keyS(BID_PREFIX, order, provider);
export const leaseKeyS = (id: bigint): string => keyS(LEASE_PREFIX, id);
export const orderLeaseKeyS = (order: bigint, lease: bigint): string => keyS(ORDER_LEASES_PREFIX, order, lease);
export const providerKeyS = (provider: Bytes): string => keyS(PROVIDER_PREFIX, provider);
export const providerLeaseKeyS = (provider: Bytes, lease: bigint): string => keyS(PROVIDER_LEASES_PREFIX, provider, lease);
export const providerActiveKeyS = (provider: Bytes, lease: bigint): string => keyS(PROVIDER_ACTIVE_PREFIX, provider, lease);
export const providerBidKeyS = (provider: Bytes, order: bigint): string => keyS(PROVIDER_BIDS_PREFIX, provider, order);
export const openKeyS = (order: bigint): string => keyS(OPEN_PREFIX, order);
export const wakeKeyS = (height: bigint, order: bigint): string => keyS(WAKE_PREFIX, height, order);
export const usageKeyS = (device: Bytes): string => keyS(USAGE_PREFIX, device);

export function range(prefix: Bytes): [Bytes, Bytes | undefined] {
  return [prefix, prefixEnd(prefix)];
}

/** storage state keys (also listed in src/chain/keys.ts). Numbers big-endian, addresses 20 bytes. */
import { concat, utf8, type Bytes } from '../../../core/bytes.js';
import { u64b } from '../market/keys.js';

/** The latest period whose challenges were drawn (u64). */
export const PERIOD_KEY = utf8('storage/period');
export const DEAL_PREFIX = utf8('storage/d/');
export const ACTIVE_PREFIX = utf8('storage/active/');
export const CUSTOMER_DEALS_PREFIX = utf8('storage/cd/');
export const PROVIDER_SHARDS_PREFIX = utf8('storage/ps/');
export const SEED_PREFIX = utf8('storage/seed/');
export const DUE_PREFIX = utf8('storage/due/');
export const RDUE_PREFIX = utf8('storage/rdue/');

export const dealKey = (order: bigint): Bytes => concat(DEAL_PREFIX, u64b(order));
export const activeKey = (order: bigint): Bytes => concat(ACTIVE_PREFIX, u64b(order));
export const customerDealKey = (customer: Bytes, order: bigint): Bytes => concat(CUSTOMER_DEALS_PREFIX, customer, u64b(order));
export const customerDealsPrefix = (customer: Bytes): Bytes => concat(CUSTOMER_DEALS_PREFIX, customer);
/** A provider's active shards: provider, order, shard index → 1. */
export const providerShardKey = (provider: Bytes, order: bigint, shard: number): Bytes => concat(PROVIDER_SHARDS_PREFIX, provider, u64b(order), Uint8Array.of(shard));
export const providerShardsPrefix = (provider: Bytes): Bytes => concat(PROVIDER_SHARDS_PREFIX, provider);
export const seedKey = (period: bigint): Bytes => concat(SEED_PREFIX, u64b(period));
/** A storage challenge due: period, provider, order, shard → 1 (deleted when answered). */
export const dueKey = (period: bigint, provider: Bytes, order: bigint, shard: number): Bytes => concat(DUE_PREFIX, u64b(period), provider, u64b(order), Uint8Array.of(shard));
export const duePeriodPrefix = (period: bigint): Bytes => concat(DUE_PREFIX, u64b(period));
export const dueProviderPrefix = (period: bigint, provider: Bytes): Bytes => concat(DUE_PREFIX, u64b(period), provider);
/** A retrieval check due: period, order → RetrievalDue. */
export const rdueKey = (period: bigint, order: bigint): Bytes => concat(RDUE_PREFIX, u64b(period), u64b(order));
export const rduePeriodPrefix = (period: bigint): Bytes => concat(RDUE_PREFIX, u64b(period));

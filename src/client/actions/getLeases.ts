import type { LeaseStatus } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { marketQuery, parseLease, parseList, type MarketLease } from '../marketViews.js';

export interface GetLeasesParameters {
  /** Filter by one of provider, customer (bech32) or order. */
  provider?: string;
  customer?: string;
  order?: bigint | number | string;
  status?: LeaseStatus;
  after?: bigint | string;
  /** 1–100. */
  limit?: number;
}

export interface GetLeasesReturnType {
  leases: MarketLease[];
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetLeasesErrorType = ClientError;

/** Leases by id: all, or one provider's, customer's or order's (the node's word, not proven). */
export async function getLeases(client: Client, p: GetLeasesParameters = {}): Promise<GetLeasesReturnType> {
  const j = await marketQuery<unknown>(client, 'leases', {
    provider: p.provider,
    customer: p.customer,
    order: p.order === undefined ? undefined : String(p.order),
    status: p.status,
    after: p.after === undefined ? undefined : String(p.after),
    limit: p.limit,
  });
  const { items, next } = parseList(j, 'leases', parseLease);
  return { leases: items, next };
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { parseDeals, storageQuery, type StorageDeal } from '../storageViews.js';

export interface GetDealsParameters {
  /** The customer (bech32). */
  customer: string;
}

export interface GetDealsReturnType {
  /** Newest first, at most 100 (ended deals included). */
  deals: StorageDeal[];
}

/** NodeUnreachableError / ApiResponseError (INVALID_ADDRESS...) / ClientError STORAGE_UNAVAILABLE, BAD_RESPONSE. */
export type GetDealsErrorType = ClientError;

/** A customer's storage deals (the node's word, not proven). */
export async function getDeals(client: Client, p: GetDealsParameters): Promise<GetDealsReturnType> {
  const j = await storageQuery<unknown>(client, 'deals', { customer: p.customer });
  return { deals: parseDeals(j) };
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { idArg } from '../marketViews.js';
import { parseDeal, storageQuery, type StorageDeal } from '../storageViews.js';

export interface GetDealParameters {
  /** The deal's id: the market order that bought the space. */
  order: bigint | number | string;
}

export type GetDealReturnType = StorageDeal | null;

/** NodeUnreachableError / ApiResponseError / ClientError STORAGE_UNAVAILABLE, BAD_RESPONSE. */
export type GetDealErrorType = ClientError;

/** A storage deal with its shards and their standing, or null when the order has no deal (the node's word, not proven). */
export async function getDeal(client: Client, p: GetDealParameters): Promise<GetDealReturnType> {
  const j = await storageQuery<unknown>(client, 'deal', { order: idArg(p.order) }, () => null);
  return j === null ? null : parseDeal(j);
}

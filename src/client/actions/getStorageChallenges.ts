import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { parseChallenges, storageQuery, type StorageChallenges } from '../storageViews.js';

export interface GetStorageChallengesParameters {
  /** The provider (bech32). */
  provider: string;
  /** Challenge period; default the latest one drawn (the one being answered now). */
  period?: bigint | number;
}

export type GetStorageChallengesReturnType = StorageChallenges;

/** NodeUnreachableError / ApiResponseError (INVALID_ADDRESS...) / ClientError STORAGE_UNAVAILABLE, BAD_RESPONSE. */
export type GetStorageChallengesErrorType = ClientError;

/**
 * The storage challenges due from a provider in a period, with the leaf indices each asks and
 * the deadline (answer them all in one proveStorage before it). Empty when nothing is due, or
 * when the period's challenges were not drawn (yet) (the node's word, not proven).
 */
export async function getStorageChallenges(client: Client, p: GetStorageChallengesParameters): Promise<GetStorageChallengesReturnType> {
  const j = await storageQuery<unknown>(client, 'challenges', { provider: p.provider, period: p.period === undefined ? undefined : String(p.period) });
  return parseChallenges(j);
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { parseRetrievals, storageQuery, type RetrievalChecks } from '../storageViews.js';

export interface GetRetrievalChecksParameters {
  /** The checker (bech32): a designated checker (the provider of the deal's next shard) or the deal's customer. */
  checker: string;
  /** Challenge period; default the latest one drawn. */
  period?: bigint | number;
}

export type GetRetrievalChecksReturnType = RetrievalChecks;

/** NodeUnreachableError / ApiResponseError (INVALID_ADDRESS...) / ClientError STORAGE_UNAVAILABLE, BAD_RESPONSE. */
export type GetRetrievalChecksErrorType = ClientError;

/**
 * The retrieval checks an address may report in a period (see reportRetrieval): which leaf of
 * which shard to fetch, from whom, and the nonce the provider's receipt must sign (the node's
 * word, not proven).
 */
export async function getRetrievalChecks(client: Client, p: GetRetrievalChecksParameters): Promise<GetRetrievalChecksReturnType> {
  const j = await storageQuery<unknown>(client, 'retrievals', { checker: p.checker, period: p.period === undefined ? undefined : String(p.period) });
  return parseRetrievals(j);
}

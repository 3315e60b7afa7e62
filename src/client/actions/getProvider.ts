import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { marketQuery, parseProvider, type MarketProvider } from '../marketViews.js';

export interface GetProviderParameters {
  /** The provider's (operator's) address, bech32. */
  address: string;
}

export type GetProviderReturnType = MarketProvider | null;

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetProviderErrorType = ClientError;

/** A registered provider (host URI, attributes, reputation, earnings), or null when the address is not registered. */
export async function getProvider(client: Client, p: GetProviderParameters): Promise<GetProviderReturnType> {
  const j = await marketQuery<unknown>(client, 'provider', { address: p.address }, () => null);
  return j === null ? null : parseProvider(j);
}

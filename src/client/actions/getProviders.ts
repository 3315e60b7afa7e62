import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { marketQuery, parseList, parseProvider, type MarketProvider } from '../marketViews.js';

export interface GetProvidersParameters {
  /** Continue after this address (the previous page's `next`). */
  after?: string;
  /** 1–100. */
  limit?: number;
}

export interface GetProvidersReturnType {
  providers: MarketProvider[];
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetProvidersErrorType = ClientError;

/** Registered providers in address order. */
export async function getProviders(client: Client, p: GetProvidersParameters = {}): Promise<GetProvidersReturnType> {
  const j = await marketQuery<unknown>(client, 'providers', { after: p.after, limit: p.limit });
  const { items, next } = parseList(j, 'providers', parseProvider);
  return { providers: items, next };
}

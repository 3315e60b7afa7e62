import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { idArg, marketQuery, parseList, parseBid, type MarketBid } from '../marketViews.js';

/** One order's bids, or one provider's (by order id, a page at a time). */
export type GetBidsParameters = { order: bigint | number | string } | { provider: string; after?: bigint | number | string; limit?: number };

export interface GetBidsReturnType {
  bids: MarketBid[];
  /** A provider's list goes on after this order id (pass it as `after`); null at the end. */
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError (market.ORDER_NOT_FOUND, INVALID_ARGUMENT) / ClientError MARKET_UNAVAILABLE. */
export type GetBidsErrorType = ClientError;

/**
 * The bids stored on an order now (standing while it takes bids; lost after), or a provider's
 * bids on every order (`provider`): the lost ones hold deposits its next withdraw takes back.
 */
export async function getBids(client: Client, p: GetBidsParameters): Promise<GetBidsReturnType> {
  const args: Record<string, string | undefined> =
    'order' in p ? { order: idArg(p.order) } : { provider: p.provider, after: p.after === undefined ? undefined : idArg(p.after), limit: p.limit === undefined ? undefined : String(p.limit) };
  const r = parseList(await marketQuery<unknown>(client, 'bids', args), 'bids', parseBid);
  return { bids: r.items, next: r.next };
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { idArg, marketQuery, parseList, parseBid, type MarketBid } from '../marketViews.js';

export interface GetBidsParameters {
  order: bigint | number | string;
}

export interface GetBidsReturnType {
  bids: MarketBid[];
}

/** NodeUnreachableError / ApiResponseError (market.ORDER_NOT_FOUND) / ClientError MARKET_UNAVAILABLE. */
export type GetBidsErrorType = ClientError;

/** The bids standing on an order now. */
export async function getBids(client: Client, p: GetBidsParameters): Promise<GetBidsReturnType> {
  const j = await marketQuery<unknown>(client, 'bids', { order: idArg(p.order) });
  return { bids: parseList(j, 'bids', parseBid).items };
}

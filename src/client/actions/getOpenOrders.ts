import type { ResourceKind } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { marketQuery, parseList, parseOrder, type MarketOrder } from '../marketViews.js';

export interface GetOpenOrdersParameters {
  /** Only orders for this kind of resource. */
  kind?: ResourceKind;
  after?: bigint | string;
  /** 1–100. */
  limit?: number;
}

export interface GetOpenOrdersReturnType {
  orders: MarketOrder[];
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetOpenOrdersErrorType = ClientError;

/** Orders taking bids now (their window is open), in id order: what a provider's bidder scans. */
export async function getOpenOrders(client: Client, p: GetOpenOrdersParameters = {}): Promise<GetOpenOrdersReturnType> {
  const j = await marketQuery<unknown>(client, 'open-orders', { kind: p.kind, after: p.after === undefined ? undefined : String(p.after), limit: p.limit });
  const { items, next } = parseList(j, 'orders', parseOrder);
  return { orders: items, next };
}

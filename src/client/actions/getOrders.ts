import type { OrderStatus } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { marketQuery, parseList, parseOrder, type MarketOrder } from '../marketViews.js';

export interface GetOrdersParameters {
  /** Only this customer's orders (bech32). */
  customer?: string;
  status?: OrderStatus;
  /** Continue after this order id (the previous page's `next`). */
  after?: bigint | string;
  /** 1–100. */
  limit?: number;
}

export interface GetOrdersReturnType {
  orders: MarketOrder[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetOrdersErrorType = ClientError;

/** Orders by id, all or one customer's, optionally of one status (the node's word, not proven). */
export async function getOrders(client: Client, p: GetOrdersParameters = {}): Promise<GetOrdersReturnType> {
  const j = await marketQuery<unknown>(client, 'orders', { customer: p.customer, status: p.status, after: p.after === undefined ? undefined : String(p.after), limit: p.limit });
  const { items, next } = parseList(j, 'orders', parseOrder);
  return { orders: items, next };
}

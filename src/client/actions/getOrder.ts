import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { idArg, marketQuery, parseBid, parseLease, parseOrder, type MarketBid, type MarketLease, type MarketOrder } from '../marketViews.js';

export interface GetOrderParameters {
  id: bigint | number | string;
}

export interface GetOrderReturnType {
  order: MarketOrder;
  /** Bids standing now (while the window is open). */
  bids: MarketBid[];
  /** Every lease made for the order, active and closed. */
  leases: MarketLease[];
}

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetOrderErrorType = ClientError;

/** An order with its bids and leases, or null when there is none with this id (the node's word, not proven). */
export async function getOrder(client: Client, p: GetOrderParameters): Promise<GetOrderReturnType | null> {
  const j = await marketQuery<Record<string, unknown> | null>(client, 'order', { id: idArg(p.id) }, () => null);
  if (j === null) return null;
  const { bids, leases, ...order } = j;
  return { order: parseOrder(order), bids: ((bids ?? []) as unknown[]).map(parseBid), leases: ((leases ?? []) as unknown[]).map(parseLease) };
}

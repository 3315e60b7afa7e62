import type { OrderStatus } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { big, idArg, marketQuery, parseBid, type MarketBid } from '../marketViews.js';

export interface ExplainOrderParameters {
  order: bigint | number | string;
  /** Continue after this provider address (the previous page's `next`). */
  after?: string;
  limit?: number;
  /** Only this provider (bech32), judged on every device it owns; NOT_FOUND if it is not registered. */
  provider?: string;
}

/** Why a provider can or cannot win the order. */
export interface ProviderEligibility {
  provider: string;
  eligible: boolean;
  /** The provider's best device for the order (hex), or null when it has none of the kind. */
  device: string | null;
  /**
   * Empty when eligible. Codes: PROVIDER_JAILED, INSUFFICIENT_STAKE, LOW_REPUTATION,
   * MISSING_ATTRIBUTE, NO_DEVICE, DEVICE_NOT_ACTIVE, NO_LOCATION, OUTSIDE_REGION,
   * INSUFFICIENT_CAPACITY, GPU_MISMATCH (and any the chain adds).
   */
  reasons: Array<{ code: string; message: string }>;
  /** Its bid on the order, if it placed one. */
  bid: MarketBid | null;
}

export interface ExplainOrderReturnType {
  order: bigint;
  status: OrderStatus;
  bidWindowEnd: bigint;
  providers: ProviderEligibility[];
  next: string | null;
}

/** NodeUnreachableError / ApiResponseError (market.ORDER_NOT_FOUND) / ClientError MARKET_UNAVAILABLE. */
export type ExplainOrderErrorType = ClientError;

/**
 * For every registered provider (a page at a time; each judged on its first 64 devices of the
 * kind), or for one (`provider`, every device): whether it can win this order and, when not,
 * every reason with a code — so a customer whose order got no bids sees why instead of silence.
 */
export async function explainOrder(client: Client, p: ExplainOrderParameters): Promise<ExplainOrderReturnType> {
  const j = await marketQuery<Record<string, unknown>>(client, 'explain', { order: idArg(p.order), after: p.after, limit: p.limit, provider: p.provider });
  if (!Array.isArray(j.providers)) throw new ClientError('BAD_RESPONSE', "the node's explain answer has no providers list");
  return {
    order: big(j.order, 'explain.order'),
    status: j.status as OrderStatus,
    bidWindowEnd: big(j.bidWindowEnd, 'explain.bidWindowEnd'),
    providers: (j.providers as Array<Record<string, unknown>>).map((x) => ({
      provider: String(x.provider),
      eligible: x.eligible === true,
      device: typeof x.device === 'string' ? x.device : null,
      reasons: Array.isArray(x.reasons) ? (x.reasons as Array<{ code: string; message: string }>).map((r) => ({ code: String(r.code), message: String(r.message) })) : [],
      bid: x.bid ? parseBid(x.bid) : null,
    })),
    next: typeof j.next === 'string' && j.next !== '' ? j.next : null,
  };
}

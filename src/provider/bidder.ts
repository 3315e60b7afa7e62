/**
 * The bidder's decision for one order: bid (with which device, at what price) or skip, with a
 * reason code. Guards first — cheap checks, then the chain's own eligibility verdict (the
 * `explain` query: the same rules the chain applies when matching, so the agent never pays a
 * fee and a bid deposit for a bid the chain would refuse), then the pricing strategy, and last
 * the order's maxPrice: the agent never bids above it.
 */
import type { Denom, ResourceKind } from '../chain/modules/market/types.js';
import { TxFailedError, TxRejectedError } from '../client/errors.js';
import type { MarketChain } from './chain.js';
import type { PriceDecision, PricingStrategy, SkipReason } from './pricing.js';
import type { OrderView } from './views.js';

export type BidDecision = { bid: true; device: string; price: bigint } | { bid: false; reason: SkipReason; detail: string };

export interface BidPolicy {
  kinds: readonly ResourceKind[];
  denoms: readonly Denom[];
  /** Devices the operator allows (hex); empty: any. */
  devices: readonly string[];
}

export async function decideBid(order: OrderView, ctx: { address: string; height: bigint }, policy: BidPolicy, chain: Pick<MarketChain, 'explain'>, pricing: PricingStrategy): Promise<BidDecision> {
  if (!policy.kinds.includes(order.kind)) return { bid: false, reason: 'KIND_NOT_OFFERED', detail: `kind ${order.kind} is not in the config's kinds` };
  if (!policy.denoms.includes(order.denom)) return { bid: false, reason: 'DENOM_NOT_ACCEPTED', detail: `denomination ${order.denom} is not in the config's denoms` };
  if (order.customer === ctx.address) return { bid: false, reason: 'OWN_ORDER', detail: 'the order is the operator\'s own' };
  // A bid sent now lands in the next block at the earliest; the window must still be open then.
  if (order.status !== 'open' || BigInt(order.bidWindowEnd) <= ctx.height) {
    return { bid: false, reason: 'WINDOW_CLOSED', detail: `the bid window ends at ${order.bidWindowEnd} (height ${ctx.height}, status ${order.status})` };
  }
  const ex = await chain.explain(order.id, ctx.address);
  if (!ex) return { bid: false, reason: 'NOT_REGISTERED', detail: 'the chain does not list this provider (not registered)' };
  if (ex.bid) return { bid: false, reason: 'ALREADY_BID', detail: `bid standing at ${ex.bid.price}` };
  if (!ex.eligible || !ex.device) {
    const codes = ex.reasons.map((r) => r.code).join(',') || 'UNKNOWN';
    return { bid: false, reason: 'INELIGIBLE', detail: `${codes}${ex.reasons[0] ? `: ${ex.reasons[0].message}` : ''}` };
  }
  if (policy.devices.length > 0 && !policy.devices.includes(ex.device.toLowerCase())) {
    return { bid: false, reason: 'DEVICE_NOT_CONFIGURED', detail: `the chain's best device ${ex.device} is not in the config's devices` };
  }
  let priced: PriceDecision;
  try {
    priced = await pricing.price(order, { provider: ctx.address, height: ctx.height });
  } catch (e) {
    return { bid: false, reason: 'SCRIPT_ERROR', detail: `pricing failed: ${(e as Error).message}` };
  }
  if (!priced.bid) return priced;
  if (priced.price > BigInt(order.maxPrice)) return { bid: false, reason: 'PRICE_ABOVE_MAX', detail: `price ${priced.price} > maxPrice ${order.maxPrice}` };
  return { bid: true, device: ex.device.toLowerCase(), price: priced.price };
}

/** The skip reason for a bid the chain refused (the market's error kinds; others: BID_REJECTED). */
export function bidFailureReason(e: unknown): { reason: SkipReason; detail: string } | undefined {
  if (!(e instanceof TxFailedError || e instanceof TxRejectedError)) return undefined;
  const kind = e.code.slice(e.code.indexOf('.') + 1);
  const map: Record<string, SkipReason> = {
    DUPLICATE_BID: 'ALREADY_BID',
    BID_NOT_COMPETITIVE: 'BID_NOT_COMPETITIVE',
    ORDER_NOT_OPEN: 'WINDOW_CLOSED',
    ORDER_CLOSED: 'WINDOW_CLOSED',
    PRICE_ABOVE_MAX: 'PRICE_ABOVE_MAX',
    INELIGIBLE: 'INELIGIBLE',
    INSUFFICIENT_STAKE: 'INELIGIBLE',
    PROVIDER_NOT_REGISTERED: 'NOT_REGISTERED',
  };
  return { reason: map[kind] ?? 'BID_REJECTED', detail: `${e.code}: ${e.message}` };
}

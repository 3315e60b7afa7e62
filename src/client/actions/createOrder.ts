import type { Attribute, Denom, ResourceSpec } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CreateOrderParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** What each lease provides, e.g. {type: 'storage', value: {bytes: 10n << 30n, durationBlocks: 1000n}}. */
  spec: ResourceSpec;
  /** Leases wanted, each with a different provider; default 1. */
  replicas?: number;
  /** H3 cells a device must be located in (any resolution); default anywhere. */
  region?: string[];
  /** Provider attributes required (key = value). */
  attributes?: Attribute[];
  /** Minimum provider reputation, basis points (9000 = 90%); default 0. */
  minReputationBps?: number;
  /** Highest price accepted, per block per lease, in `denom`. */
  maxPrice: bigint;
  /** "ugw" (tokens, default) or "dc" (Data Credits). */
  denom?: Denom;
  /** Escrow funded now, in `denom`: at least maxPrice × replicas. */
  deposit: bigint;
  /** Blocks the order takes bids (market.minBidWindow..maxBidWindow). */
  bidWindowBlocks: bigint;
  timeoutMs?: number;
}

export interface CreateOrderReturnType extends SignAndSendReturnType {
  /** The new order's id. */
  orderId: bigint;
  /** Last height at which bids are taken; matching happens at the end of it. */
  bidWindowEnd: bigint;
}

/**
 * TxRejectedError / TxFailedError (market.INVALID_ORDER, market.INSUFFICIENT_DEPOSIT,
 * bank.INSUFFICIENT_FUNDS, credits insufficient) / TimeoutError / NodeUnreachableError.
 */
export type CreateOrderErrorType = ClientError;

/** Posts an order and funds its escrow (`market/create-order`); returns the order id from the tx's event. */
export async function createOrder(client: Client, p: CreateOrderParameters): Promise<CreateOrderReturnType> {
  const { spec, replicas = 1, region = [], attributes = [], minReputationBps = 0, maxPrice, denom = 'ugw', deposit, bidWindowBlocks, ...rest } = p;
  const t = await signAndSend(client, {
    ...rest,
    msgs: [{ type: 'market/create-order', value: { spec, replicas, region, attributes, minReputationBps, maxPrice, denom, deposit, bidWindowBlocks } }],
  });
  const a = txEvent(t, 'market.order.created');
  return { ...t, orderId: big(a.order, 'market.order.created.order'), bidWindowEnd: big(a.bidWindowEnd, 'market.order.created.bidWindowEnd') };
}

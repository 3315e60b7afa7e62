import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface TopupOrderParameters extends Omit<PrepareTxParameters, 'msgs'> {
  order: bigint;
  /** Added to the escrow, in the order's denomination (ugw or DC). */
  amount: bigint;
  timeoutMs?: number;
}

export type TopupOrderReturnType = SignAndSendReturnType;

/**
 * TxRejectedError / TxFailedError (market.ORDER_NOT_FOUND, NOT_CUSTOMER, ORDER_CLOSED,
 * bank.INSUFFICIENT_FUNDS or insufficient credits) / TimeoutError.
 */
export type TopupOrderErrorType = ClientError;

/** Adds to an order's escrow (`market/topup`), so its leases run longer before it runs dry. */
export function topupOrder(client: Client, p: TopupOrderParameters): Promise<TopupOrderReturnType> {
  const { order, amount, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'market/topup', value: { order, amount } }] });
}

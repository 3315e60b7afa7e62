import { fromHex, type Bytes } from '../../core/bytes.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface PlaceBidParameters extends Omit<PrepareTxParameters, 'msgs'> {
  order: bigint;
  /** The device that would serve the lease (its public key, hex or bytes); the signer must own it. */
  device: string | Bytes;
  /** Per block per lease, in the order's denomination; 0 < price ≤ the order's maxPrice. */
  price: bigint;
  timeoutMs?: number;
}

export type PlaceBidReturnType = SignAndSendReturnType;

/**
 * TxRejectedError / TxFailedError (market.ORDER_NOT_FOUND, ORDER_NOT_OPEN, INVALID_PRICE,
 * PRICE_ABOVE_MAX, PROVIDER_NOT_REGISTERED, INSUFFICIENT_STAKE, NOT_PROVIDER, INELIGIBLE,
 * DUPLICATE_BID, BID_NOT_COMPETITIVE; bank.INSUFFICIENT_FUNDS for the bid deposit) / TimeoutError.
 */
export type PlaceBidErrorType = ClientError;

/** Bids on an open order with one of the signer's devices (`market/bid`); locks the bid deposit. */
export function placeBid(client: Client, p: PlaceBidParameters): Promise<PlaceBidReturnType> {
  const { order, device, price, ...rest } = p;
  const d = typeof device === 'string' ? fromHex(device.replace(/^0x/i, ''), 'device id') : device;
  return signAndSend(client, { ...rest, msgs: [{ type: 'market/bid', value: { order, device: d, price } }] });
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CancelBidParameters extends Omit<PrepareTxParameters, 'msgs'> {
  order: bigint;
  timeoutMs?: number;
}

export type CancelBidReturnType = SignAndSendReturnType;

/** TxRejectedError / TxFailedError (market.ORDER_NOT_FOUND, ORDER_NOT_OPEN, BID_NOT_FOUND) / TimeoutError. */
export type CancelBidErrorType = ClientError;

/** Withdraws the signer's bid on an order while its window is open (`market/cancel-bid`); the deposit comes back. */
export function cancelBid(client: Client, p: CancelBidParameters): Promise<CancelBidReturnType> {
  const { order, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'market/cancel-bid', value: { order } }] });
}

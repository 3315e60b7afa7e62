import { decodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface AcceptBidParameters extends Omit<PrepareTxParameters, 'msgs'> {
  order: bigint;
  /** The bidding provider (bech32). */
  provider: string;
  timeoutMs?: number;
}

export interface AcceptBidReturnType extends SignAndSendReturnType {
  /** The lease made from the bid. */
  leaseId: bigint;
}

/** TxRejectedError / TxFailedError (market.ORDER_NOT_FOUND, NOT_CUSTOMER, ORDER_NOT_OPEN, BID_NOT_FOUND) / TimeoutError. */
export type AcceptBidErrorType = ClientError;

/** The customer takes a provider's bid before the window closes (`market/accept-bid`): a lease starts now. */
export async function acceptBid(client: Client, p: AcceptBidParameters): Promise<AcceptBidReturnType> {
  const { order, provider, ...rest } = p;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'market/accept-bid', value: { order, provider: decodeAddress(provider) } }] });
  return { ...t, leaseId: big(txEvent(t, 'market.lease.created').lease, 'market.lease.created.lease') };
}

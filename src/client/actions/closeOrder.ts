import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CloseOrderParameters extends Omit<PrepareTxParameters, 'msgs'> {
  order: bigint;
  timeoutMs?: number;
}

export interface CloseOrderReturnType extends SignAndSendReturnType {
  /** Escrow returned to the customer (in the order's denomination). */
  refunded: bigint;
  /** Leases closed by it. */
  leasesClosed: bigint[];
}

/** TxRejectedError / TxFailedError (market.ORDER_NOT_FOUND, NOT_CUSTOMER, ORDER_CLOSED) / TimeoutError. */
export type CloseOrderErrorType = ClientError;

/**
 * Closes the signer's order (`market/close-order`): an open one is cancelled (bids refunded); an
 * active one closes every lease (settled up to now) and the rest of the escrow is refunded.
 */
export async function closeOrder(client: Client, p: CloseOrderParameters): Promise<CloseOrderReturnType> {
  const { order, ...rest } = p;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'market/close-order', value: { order } }] });
  const closed = t.events.find((e) => e.type === 'market.order.closed');
  return {
    ...t,
    refunded: closed ? big(closed.attributes.refunded ?? '0', 'market.order.closed.refunded') : 0n,
    leasesClosed: t.events.filter((e) => e.type === 'market.lease.closed').map((e) => big(e.attributes.lease, 'market.lease.closed.lease')),
  };
}

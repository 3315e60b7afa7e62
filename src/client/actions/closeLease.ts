import type { CloseReason } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CloseLeaseParameters extends Omit<PrepareTxParameters, 'msgs'> {
  lease: bigint;
  /** The customer gives none (or "customer"); the provider "provider-decommission" or "provider-unstable". */
  reason?: CloseReason | null;
  timeoutMs?: number;
}

export interface CloseLeaseReturnType extends SignAndSendReturnType {
  /** Paid to the lease over its life. */
  paid: bigint;
  /** Whether the order closed with it (its last lease), and the escrow refunded then. */
  orderClosed: boolean;
  refunded: bigint;
}

/**
 * TxRejectedError / TxFailedError (market.LEASE_NOT_FOUND, LEASE_CLOSED, NOT_CUSTOMER,
 * NOT_PROVIDER, INVALID_REASON) / TimeoutError.
 */
export type CloseLeaseErrorType = ClientError;

/** Closes one lease (`market/close-lease`), settled up to now; the order closes when its last lease does. */
export async function closeLease(client: Client, p: CloseLeaseParameters): Promise<CloseLeaseReturnType> {
  const { lease, reason = null, ...rest } = p;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'market/close-lease', value: { lease, reason } }] });
  const a = txEvent(t, 'market.lease.closed');
  const o = t.events.find((e) => e.type === 'market.order.closed');
  return { ...t, paid: big(a.paid ?? '0', 'market.lease.closed.paid'), orderClosed: o !== undefined, refunded: o ? big(o.attributes.refunded ?? '0', 'market.order.closed.refunded') : 0n };
}

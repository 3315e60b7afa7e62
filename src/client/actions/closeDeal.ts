import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CloseDealParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The deal (its order id); the signer must be its customer. */
  order: bigint;
  timeoutMs?: number;
}

export interface CloseDealReturnType extends SignAndSendReturnType {
  /** The repair reserve returned to the customer. */
  refunded: bigint;
  /** The shards' leases closed with it (reason customer). */
  leasesClosed: bigint[];
}

/** TxRejectedError / TxFailedError (storage.DEAL_NOT_FOUND, NOT_CUSTOMER, DEAL_ENDED) / TimeoutError. */
export type CloseDealErrorType = ClientError;

/** Ends a deal (`storage/close-deal`): every active shard's lease closes, settled up to now, and the repair reserve comes back. */
export async function closeDeal(client: Client, p: CloseDealParameters): Promise<CloseDealReturnType> {
  const { order, ...rest } = p;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'storage/close-deal', value: { order } }] });
  const a = txEvent(t, 'storage.deal.ended');
  const leasesClosed = t.events.filter((e) => e.type === 'market.lease.closed').map((e) => big(e.attributes.lease, 'market.lease.closed.lease'));
  return { ...t, refunded: big(a.refunded ?? '0', 'storage.deal.ended.refunded'), leasesClosed };
}

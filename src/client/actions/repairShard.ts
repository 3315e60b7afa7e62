import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { ackArg, type ShardAckInput } from '../storageViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface RepairShardParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The deal (its order id). */
  order: bigint;
  /** The lost shard's index. */
  shard: number;
  /** The new lease holding the rebuilt shard: active, a storage lease large enough, paid by the deal's customer or the signer, on a provider not already holding a shard of the deal. */
  lease: bigint;
  /** The new lease's provider's acknowledgment of the shard's (unchanged) root. */
  ack: ShardAckInput;
  timeoutMs?: number;
}

export interface RepairShardReturnType extends SignAndSendReturnType {
  /** The provider that lost the shard, and the one holding it now. */
  from: string;
  to: string;
  /** ugw paid to the signer from the deal's reserve (0 when the reserve is spent). */
  fee: bigint;
}

/**
 * TxRejectedError / TxFailedError (storage.DEAL_NOT_FOUND, DEAL_ENDED, SHARD_NOT_LOST,
 * INVALID_REPAIR: no such shard, lease not active / not storage / too small / paid by someone
 * else / already used, provider already holds a shard; storage.INVALID_ACK) / TimeoutError.
 */
export type RepairShardErrorType = ClientError;

/** Records a lost shard rebuilt onto a new lease (`storage/repair`); anyone may send it and earns the repair fee. */
export async function repairShard(client: Client, p: RepairShardParameters): Promise<RepairShardReturnType> {
  const { order, shard, lease, ack, ...rest } = p;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'storage/repair', value: { order, shard, lease, ack: ackArg(ack, 'acknowledgment') } }] });
  const a = txEvent(t, 'storage.shard.repaired');
  const { from, to } = a;
  if (!from || !to) throw new ClientError('BAD_RESPONSE', `tx ${t.hash} succeeded but its storage.shard.repaired event names no providers`);
  return { ...t, from, to, fee: big(a.fee ?? '0', 'storage.shard.repaired.fee') };
}

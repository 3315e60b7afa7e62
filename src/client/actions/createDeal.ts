import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { ackArg, bytesArg, type HexOrBytes, type ShardAckInput } from '../storageViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface CreateDealShard {
  /** A lease of the order, each shard on its own lease and provider. */
  lease: bigint;
  /** The shard's Merkle root (core/shardtree), 32 bytes. */
  root: HexOrBytes;
  /** The lease's provider's acknowledgment that it holds this root (from the upload). */
  ack: ShardAckInput;
}

export interface CreateDealParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The storage order that bought the space (its customer signs); it becomes the deal's id. */
  order: bigint;
  /** Plaintext bytes of the file. */
  size: bigint;
  /** Data and parity shards: 1 ≤ k, k + m ≤ 32. */
  k: number;
  m: number;
  /** Bytes per shard per segment: a power of two from the leaf size to 1 MiB. */
  pieceSize: number;
  /** Segments the file was cut into (each holds k × pieceSize − 16 bytes). */
  segments: bigint;
  /** k + m shards, data first, in order. */
  shards: CreateDealShard[];
  timeoutMs?: number;
}

export interface CreateDealReturnType extends SignAndSendReturnType {
  /** Bytes per shard (segments × pieceSize). */
  shardBytes: bigint;
  /** ugw moved from the customer to the repair reserve (storage.repairFee × m). */
  reserve: bigint;
}

/**
 * TxRejectedError / TxFailedError (storage.INVALID_DEAL: no such order, not a storage order, bad
 * k/m/pieceSize/segments, a lease not of the order or not active, shared lease or provider;
 * storage.DEAL_EXISTS, NOT_CUSTOMER, INVALID_ACK; bank.INSUFFICIENT_FUNDS for the reserve) /
 * TimeoutError / NodeUnreachableError.
 */
export type CreateDealErrorType = ClientError;

/** Records a stored file on chain (`storage/create-deal`): its layout and every shard's root and provider acknowledgment. */
export async function createDeal(client: Client, p: CreateDealParameters): Promise<CreateDealReturnType> {
  const { order, size, k, m, pieceSize, segments, shards, ...rest } = p;
  const value = {
    order,
    size,
    k,
    m,
    pieceSize,
    segments,
    shards: shards.map((s, j) => ({ lease: s.lease, root: bytesArg(s.root, `shard ${j} root`), ack: ackArg(s.ack, `shard ${j} acknowledgment`) })),
  };
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'storage/create-deal', value }] });
  const a = txEvent(t, 'storage.deal.created');
  return { ...t, shardBytes: big(a.shardBytes, 'storage.deal.created.shardBytes'), reserve: big(a.reserve ?? '0', 'storage.deal.created.reserve') };
}

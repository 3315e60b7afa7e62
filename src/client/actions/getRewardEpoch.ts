import { decode } from '../../core/codec.js';
import { epochRecordCodec, type EpochRecord } from '../../chain/modules/rewards/keeper.js';
import { epochKey } from '../../chain/modules/rewards/keys.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { getState } from './getState.js';
import { getStatus } from './getStatus.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetRewardEpochParameters {
  epoch: bigint | number;
  /** Block height to read at; latest by default. */
  height?: bigint | number;
}

/**
 * A closed epoch's record: the manifest root and line count, the emission and each pool's
 * allocation, units and what was paid, the eligible stake, the treasury's share and what was
 * never issued.
 */
export interface GetRewardEpochReturnType extends EpochRecord {
  /** Height the record was proven at. */
  readonly height: bigint;
}

/** NodeUnreachableError / ApiResponseError / VerificationError. */
export type GetRewardEpochErrorType = ClientError;

/**
 * The reward record of a closed epoch, verified (Merkle proof of rewards/e/<epoch> against a
 * signed header); undefined while the epoch has not closed.
 */
export async function getRewardEpoch(client: Client, p: GetRewardEpochParameters): Promise<GetRewardEpochReturnType | undefined> {
  const epoch = BigInt(p.epoch);
  const v = await getState(client, { key: epochKey(epoch), ...(p.height !== undefined ? { height: p.height } : {}) });
  return v.value ? { ...decode(epochRecordCodec, v.value), height: v.height } : undefined;
}

/** The running epoch as the node reports it (unverified; for messages and display). */
export interface CurrentEpochView {
  epoch: bigint;
  startHeight: bigint;
  endHeight: bigint;
  /** The node's latest height. */
  height: bigint;
  blocksLeft: bigint;
}

export async function getCurrentEpoch(client: Client): Promise<CurrentEpochView> {
  const [cur, status] = await Promise.all([moduleQuery<{ epoch: string; startHeight: string; endHeight: string }>(client, 'epochs', 'current'), getStatus(client)]);
  const height = BigInt(status.height);
  const endHeight = BigInt(cur.endHeight);
  return { epoch: BigInt(cur.epoch), startHeight: BigInt(cur.startHeight), endHeight, height, blocksLeft: endHeight > height ? endHeight - height : 0n };
}

/** The epoch's record, or EPOCH_NOT_CLOSED saying which epoch runs now and how many blocks it has left. */
export async function requireRewardEpoch(client: Client, epoch: bigint | number): Promise<GetRewardEpochReturnType> {
  const r = await getRewardEpoch(client, { epoch });
  if (r) return r;
  const cur = await getCurrentEpoch(client);
  if (BigInt(epoch) >= cur.epoch) {
    throw new ClientError(
      'EPOCH_NOT_CLOSED',
      `epoch ${epoch} has not closed yet: the current epoch is ${cur.epoch}, it closes at height ${cur.endHeight} (${cur.blocksLeft} blocks left)`,
    );
  }
  throw new ClientError('EPOCH_NOT_FOUND', `epoch ${epoch} has no reward record on this chain`);
}

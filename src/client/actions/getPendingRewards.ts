import { decodeAddress, encodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getCurrentEpoch } from './getRewardEpoch.js';
import { getRewardLine, isRewardClaimed, type RewardLineView } from './getRewardLine.js';

export interface GetPendingRewardsParameters {
  /** The recipient (bech32). */
  address: string;
  /** First epoch to look at; default: 100 epochs before the last closed one. */
  fromEpoch?: bigint | number;
  /** Last epoch to look at; default (and at most): the last closed epoch. */
  toEpoch?: bigint | number;
}

export interface PendingReward {
  epoch: bigint;
  index: number;
  /** ugw. */
  amount: bigint;
  /** The verified line (ready to claim). */
  line: RewardLineView;
}

export interface GetPendingRewardsReturnType {
  address: string;
  fromEpoch: bigint;
  toEpoch: bigint;
  pending: PendingReward[];
  /** Sum of the pending amounts (ugw). */
  total: bigint;
  /** Epochs in the range where the address has a line that was already claimed. */
  claimed: bigint[];
}

/** NodeUnreachableError / ApiResponseError / VerificationError. */
export type GetPendingRewardsErrorType = ClientError;

/** Default number of closed epochs looked back at. */
export const PENDING_LOOKBACK = 100n;

/**
 * The closed epochs in a range where `address` has a reward line not yet claimed. Every line
 * is verified against its epoch's committed root, and "not claimed" is a verified read.
 */
export async function getPendingRewards(client: Client, p: GetPendingRewardsParameters): Promise<GetPendingRewardsReturnType> {
  const address = encodeAddress(decodeAddress(p.address));
  const cur = await getCurrentEpoch(client);
  const lastClosed = cur.epoch - 1n;
  const toEpoch = p.toEpoch === undefined || BigInt(p.toEpoch) > lastClosed ? lastClosed : BigInt(p.toEpoch);
  const fromEpoch = p.fromEpoch !== undefined ? BigInt(p.fromEpoch) : toEpoch - PENDING_LOOKBACK + 1n > 0n ? toEpoch - PENDING_LOOKBACK + 1n : 0n;
  const pending: PendingReward[] = [];
  const claimed: bigint[] = [];
  for (let e = fromEpoch; e <= toEpoch; e++) {
    const { line } = await getRewardLine(client, { epoch: e, address });
    if (!line) continue;
    if (await isRewardClaimed(client, { epoch: e, index: line.index })) claimed.push(e);
    else pending.push({ epoch: e, index: line.index, amount: line.amount, line });
  }
  return { address, fromEpoch, toEpoch, pending, claimed, total: pending.reduce((a, x) => a + x.amount, 0n) };
}

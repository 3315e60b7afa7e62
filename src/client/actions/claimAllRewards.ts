import { encodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { claimMsg } from './claimReward.js';
import { getPendingRewards, type PendingReward } from './getPendingRewards.js';
import { signAndSend, type PrepareTxParameters } from './signAndSend.js';

export interface ClaimAllRewardsParameters extends Omit<PrepareTxParameters, 'msgs' | 'sequence'> {
  /** Whose lines to claim (bech32); the signer's own by default. */
  recipient?: string;
  /** Range of epochs (see getPendingRewards for the defaults). */
  fromEpoch?: bigint | number;
  toEpoch?: bigint | number;
  /** Claims per tx (default 8; a tx carries at most auth.maxMsgs messages and auth.maxTxBytes bytes). */
  perTx?: number;
  timeoutMs?: number;
}

export interface ClaimAllRewardsReturnType {
  recipient: string;
  fromEpoch: bigint;
  toEpoch: bigint;
  /** What was claimed, with the tx that paid it. */
  claimed: (Omit<PendingReward, 'line'> & { hash: string; height: string })[];
  /** ugw paid in all. */
  total: bigint;
  /** Fees paid (ugw). */
  fees: bigint;
  /** Epochs whose lines were already claimed before this call. */
  alreadyClaimed: bigint[];
}

/** NodeUnreachableError, VerificationError, TxRejectedError, TxFailedError, TimeoutError. */
export type ClaimAllRewardsErrorType = ClientError;

/**
 * Claims every closed epoch's line of `recipient` not yet claimed, within a range: the lines are
 * verified against their roots, then claimed several per tx.
 */
export async function claimAllRewards(client: Client, p: ClaimAllRewardsParameters): Promise<ClaimAllRewardsReturnType> {
  const { recipient: recipientArg, fromEpoch, toEpoch, perTx = 8, ...rest } = p;
  const recipient = recipientArg ?? encodeAddress(p.signer.address);
  const found = await getPendingRewards(client, { address: recipient, ...(fromEpoch !== undefined ? { fromEpoch } : {}), ...(toEpoch !== undefined ? { toEpoch } : {}) });
  const claimed: ClaimAllRewardsReturnType['claimed'] = [];
  let fees = 0n;
  for (let i = 0; i < found.pending.length; i += Math.max(1, perTx)) {
    const batch = found.pending.slice(i, i + Math.max(1, perTx));
    const t = await signAndSend(client, { ...rest, msgs: batch.map((x) => claimMsg(x.line)) });
    fees += t.fee;
    for (const x of batch) claimed.push({ epoch: x.epoch, index: x.index, amount: x.amount, hash: t.hash, height: t.height });
  }
  return { recipient, fromEpoch: found.fromEpoch, toEpoch: found.toEpoch, claimed, total: claimed.reduce((a, x) => a + x.amount, 0n), fees, alreadyClaimed: found.claimed };
}

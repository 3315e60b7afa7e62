import { encodeAddress } from '../../core/keys.js';
import type { DecodedMsg } from '../../chain/tx.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { getRewardLine, isRewardClaimed, type RewardLineView } from './getRewardLine.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface ClaimRewardParameters extends Omit<PrepareTxParameters, 'msgs'> {
  epoch: bigint | number;
  /** Whose line to claim (bech32); the signer's own by default. Anyone may submit a claim: the tokens always go to the line's recipient. */
  recipient?: string;
  timeoutMs?: number;
}

export interface ClaimRewardReturnType extends SignAndSendReturnType {
  epoch: bigint;
  index: number;
  recipient: string;
  /** ugw paid to the recipient. */
  amount: bigint;
}

/**
 * NO_REWARD_LINE (the recipient earned nothing that epoch), ALREADY_CLAIMED (the line was paid
 * already: checked with a verified read before anything is sent), EPOCH_NOT_CLOSED,
 * VerificationError, TxRejectedError, TxFailedError, NodeUnreachableError, TimeoutError.
 */
export type ClaimRewardErrorType = ClientError;

/** The rewards/claim message for a verified line. */
export function claimMsg(line: RewardLineView): DecodedMsg {
  return {
    type: 'rewards/claim',
    value: { epoch: line.epoch, index: line.index, recipient: line.recipient, amount: line.amount, detailsHash: line.detailsHash, proof: line.proof },
  };
}

/**
 * Claims a reward line: fetches the line and its proof, verifies them against the committed
 * epoch root, checks (verified) that the line is not paid yet, then submits rewards/claim and
 * waits for the block.
 */
export async function claimReward(client: Client, p: ClaimRewardParameters): Promise<ClaimRewardReturnType> {
  const { epoch: epochArg, recipient: recipientArg, ...rest } = p;
  const recipient = recipientArg ?? encodeAddress(p.signer.address);
  const epoch = BigInt(epochArg);
  const got = await getRewardLine(client, { epoch, address: recipient });
  const line = got.line;
  if (!line) throw new ClientError('NO_REWARD_LINE', got.reason ?? `${recipient} has no reward line in epoch ${epoch}`);
  if (await isRewardClaimed(client, { epoch, index: line.index })) {
    throw new ClientError('ALREADY_CLAIMED', `the reward of ${recipient} for epoch ${epoch} (line ${line.index}, ${line.amount} ugw) was already claimed`);
  }
  const t = await signAndSend(client, { ...rest, msgs: [claimMsg(line)] });
  return { ...t, epoch, index: line.index, recipient, amount: line.amount };
}

import type { VoteOption } from '../../chain/modules/gov/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type VoteProposalParameters = Omit<PrepareTxParameters, 'msgs'> & {
  id: bigint;
  option: VoteOption;
  timeoutMs?: number;
};

export type VoteProposalReturnType = SignAndSendReturnType;

/** TxRejectedError / TxFailedError (gov.PROPOSAL_NOT_FOUND, gov.VOTING_CLOSED, gov.NO_VOTING_POWER) / TimeoutError. */
export type VoteProposalErrorType = ClientError;

/**
 * Votes on a proposal (`gov/vote`); voting again replaces the earlier vote. The vote weighs the
 * signer's bonded stake when voting ends, not when it was cast.
 */
export function voteProposal(client: Client, params: VoteProposalParameters): Promise<VoteProposalReturnType> {
  const { id, option, ...rest } = params;
  return signAndSend(client, { ...rest, msgs: [{ type: 'gov/vote', value: { id, option } }] });
}

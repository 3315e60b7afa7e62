import type { VoteOption } from '../../chain/modules/gov/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { moduleQuery } from './moduleQuery.js';

export interface VoteView {
  voter: string;
  option: VoteOption;
  /** ugw: the weight counted at the tally (final), or the voter's voting power now. */
  weight: string;
  final: boolean;
}

export interface GetProposalVotesReturnType {
  id: string;
  status: string;
  votes: VoteView[];
}

/** NodeUnreachableError / ApiResponseError (NOT_FOUND). */
export type GetProposalVotesErrorType = ClientError;

/** The votes cast on a proposal, in voter address order (unverified module query `gov/votes`). */
export function getProposalVotes(client: Client, params: { id: bigint }): Promise<GetProposalVotesReturnType> {
  return moduleQuery<GetProposalVotesReturnType>(client, 'gov', 'votes', { id: params.id });
}

import type { ProposalStatus } from '../../chain/modules/gov/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { moduleQuery } from './moduleQuery.js';

export interface ProposalSummaryView {
  id: string;
  title: string;
  kind: string;
  proposer: string;
  status: ProposalStatus;
  /** Why it ended so ('' while voting): executed, execution-failed, quorum-not-met, vetoed, threshold-not-met. */
  reason: string;
  /** ugw. */
  deposit: string;
  depositState: 'held' | 'refunded' | 'burned';
  submitHeight: string;
  votingEndHeight: string;
}

export interface GetProposalsParameters {
  status?: ProposalStatus;
  /** First id to list (default 1). */
  from?: bigint;
  /** At most this many (default 100, at most 1000). */
  limit?: number;
}

export interface GetProposalsReturnType {
  proposals: ProposalSummaryView[];
  /** Last committed height. */
  height?: string;
}

/** NodeUnreachableError / ApiResponseError. */
export type GetProposalsErrorType = ClientError;

/** Governance proposals in id order (unverified module query `gov/proposals`). */
export function getProposals(client: Client, params: GetProposalsParameters = {}): Promise<GetProposalsReturnType> {
  return moduleQuery<GetProposalsReturnType>(client, 'gov', 'proposals', { status: params.status, from: params.from, limit: params.limit });
}

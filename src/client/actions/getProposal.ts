import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import type { ProposalSummaryView } from './getProposals.js';
import { moduleQuery } from './moduleQuery.js';

export interface TallyView {
  /** Voting power in ugw. */
  yes: string;
  no: string;
  abstain: string;
  veto: string;
  totalBonded: string;
}

export interface ProposalView extends ProposalSummaryView {
  description: string;
  /** The content in JSON form: {type, value}. */
  content: { type: string; value: unknown };
  /** For params proposals: each parameter that would change, against the parameters in force now. */
  paramChanges?: Array<{ key: string; from: unknown; to: unknown }> | null;
  /** The execution error of a failed proposal. */
  error: string;
  /** Final for a closed proposal; for an open one, with voting power as of now. */
  tally: TallyView | null;
  tallyFinal: boolean;
  /** For an open proposal: the outcome if voting ended now. */
  outcomeIfEndedNow?: string;
  /** Last committed height and the blocks until the tally. */
  height?: string;
  blocksLeft?: string;
  params: { quorumBps: string; thresholdBps: string; vetoBps: string };
}

/** NodeUnreachableError / ApiResponseError (NOT_FOUND). */
export type GetProposalErrorType = ClientError;

/** One proposal with its current (or final) tally (unverified module query `gov/proposal`). */
export function getProposal(client: Client, params: { id: bigint }): Promise<ProposalView> {
  return moduleQuery<ProposalView>(client, 'gov', 'proposal', { id: params.id });
}

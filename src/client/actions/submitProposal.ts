import type { ProposalContent } from '../../chain/modules/gov/types.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { getParams } from './getParams.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type SubmitProposalParameters = Omit<PrepareTxParameters, 'msgs'> & {
  title: string;
  description?: string;
  /** What the proposal does; for parameter changes build it with buildParamsChange. */
  content: ProposalContent;
  /** ugw put down in escrow; gov.minDeposit by default. */
  deposit?: bigint;
  timeoutMs?: number;
};

export interface SubmitProposalReturnType extends SignAndSendReturnType {
  proposalId: bigint;
  /** Votes are accepted through this height; the tally runs at the end of its block. */
  votingEndHeight: bigint;
  deposit: bigint;
}

/**
 * TxRejectedError / TxFailedError (gov.INSUFFICIENT_DEPOSIT, gov.UNKNOWN_MODULE,
 * gov.INVALID_PARAMS, gov.PARAMS_UNCHANGED, gov.INVALID_AMOUNT, gov.INVALID_MAKER_NAME,
 * gov.INVALID_TITLE, gov.NOT_SUPPORTED, bank.INSUFFICIENT_FUNDS) / TimeoutError.
 */
export type SubmitProposalErrorType = ClientError;

/** Submits a governance proposal (`gov/submit`), waits for its block and returns its id. */
export async function submitProposal(client: Client, params: SubmitProposalParameters): Promise<SubmitProposalReturnType> {
  const { title, description, content, deposit: given, ...rest } = params;
  const deposit = given ?? BigInt((((await getParams(client)).gov ?? {}) as { minDeposit?: string }).minDeposit ?? '0');
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'gov/submit', value: { title, description: description ?? '', content, deposit } }] });
  const ev = t.events.find((e) => e.type === 'gov.submit');
  if (!ev) throw new ClientError('BAD_RESPONSE', `tx ${t.hash} succeeded but carries no gov.submit event`);
  return { ...t, proposalId: BigInt(ev.attributes.id ?? '0'), votingEndHeight: BigInt(ev.attributes.votingEndHeight ?? '0'), deposit };
}

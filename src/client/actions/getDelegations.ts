import type { ClientError } from '../errors.js';
import type { Client } from '../client.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetDelegationsParameters {
  delegator: string;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type GetDelegationsErrorType = ClientError;

export interface GetDelegationsReturnType {
  delegator: string;
  /** Amounts as decimal strings (ugw); tokens = what the shares are worth now. */
  delegations: Array<{ operator: string; shares: string; tokens: string }>;
  /** Tokens on their way back, and the height they arrive at. */
  unbonding: Array<{ operator: string; amount: string; completionHeight: string }>;
}

/** A delegator's delegations and unbonding entries (the node's word: module queries are not proven). */
export function getDelegations(client: Client, p: GetDelegationsParameters): Promise<GetDelegationsReturnType> {
  return moduleQuery<GetDelegationsReturnType>(client, 'staking', 'delegations', { delegator: p.delegator });
}

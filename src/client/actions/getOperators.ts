import type { ClientError } from '../errors.js';
import type { OperatorView } from '../../chain/modules/staking/index.js';
import type { Client } from '../client.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetOperatorsParameters {
  /** Start after this operator address (paging); from the first when omitted. */
  after?: string;
  /** At most this many (1–1000, default 100). */
  limit?: number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type GetOperatorsErrorType = ClientError;

export interface GetOperatorsReturnType {
  /** Amounts as decimal strings (ugw); `power` is the voting power in the current set ("0": not a validator). */
  operators: OperatorView[];
  /** Pass as `after` for the next page; null at the end. */
  next: string | null;
}

/** All operators in address order (the node's word: module queries are not proven). */
export function getOperators(client: Client, p: GetOperatorsParameters = {}): Promise<GetOperatorsReturnType> {
  return moduleQuery<GetOperatorsReturnType>(client, 'staking', 'operators', { after: p.after, limit: p.limit });
}

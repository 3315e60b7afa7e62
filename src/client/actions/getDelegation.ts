import type { ClientError } from '../errors.js';
import { decode } from '../../core/codec.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { delegationCodec, operatorCodec, tokensOfShares } from '../../chain/modules/staking/keeper.js';
import { delegationKey, operatorKey } from '../../chain/modules/staking/keys.js';
import type { Client } from '../client.js';
import { getState } from './getState.js';

export interface GetDelegationParameters {
  delegator: string;
  operator: string;
  height?: bigint | number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type GetDelegationErrorType = ClientError;

export interface GetDelegationReturnType {
  delegator: string;
  operator: string;
  shares: bigint;
  /** What the shares are worth now (ugw, rounded down). */
  tokens: bigint;
  height: bigint;
}

/** One delegation and what it is worth, verified (delegation and pool proven at the same height); undefined if none. */
export async function getDelegation(client: Client, p: GetDelegationParameters): Promise<GetDelegationReturnType | undefined> {
  const delegator = decodeAddress(p.delegator);
  const operator = decodeAddress(p.operator);
  const d = await getState(client, { key: delegationKey(delegator, operator), ...(p.height !== undefined ? { height: p.height } : {}) });
  if (!d.value) return undefined;
  const op = await getState(client, { key: operatorKey(operator), height: d.height });
  const shares = decode(delegationCodec, d.value).shares;
  const tokens = op.value ? tokensOfShares(decode(operatorCodec, op.value), shares) : 0n;
  return { delegator: encodeAddress(delegator), operator: encodeAddress(operator), shares, tokens, height: d.height };
}

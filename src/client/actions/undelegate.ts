import type { ClientError } from '../errors.js';
import { decodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface UndelegateParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The operator (bech32) to unbond from. */
  operator: string;
  /** ugw; at most what the delegation is worth. */
  amount: bigint;
  timeoutMs?: number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type UndelegateErrorType = ClientError;

export type UndelegateReturnType = SignAndSendReturnType;

/**
 * Starts unbonding `amount` ugw from `operator` (staking/undelegate). The tokens return to the
 * signer `staking.unbondingBlocks` blocks later (the tx's `staking.undelegate` event has the
 * completion height).
 */
export function undelegate(client: Client, p: UndelegateParameters): Promise<UndelegateReturnType> {
  const { operator, amount, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'staking/undelegate', value: { operator: decodeAddress(operator), amount } }] });
}

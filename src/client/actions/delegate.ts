import type { ClientError } from '../errors.js';
import { decodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface DelegateParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The operator (bech32) to bond to; the signer's own address self-bonds (and creates the operator). */
  operator: string;
  /** ugw. */
  amount: bigint;
  timeoutMs?: number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type DelegateErrorType = ClientError;

export type DelegateReturnType = SignAndSendReturnType;

/** Bonds `amount` ugw of the signer's tokens to `operator` (staking/delegate) and waits for the block. */
export function delegate(client: Client, p: DelegateParameters): Promise<DelegateReturnType> {
  const { operator, amount, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'staking/delegate', value: { operator: decodeAddress(operator), amount } }] });
}

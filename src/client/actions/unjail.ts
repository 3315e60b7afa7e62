import type { ClientError } from '../errors.js';
import type { Client } from '../client.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface UnjailParameters extends Omit<PrepareTxParameters, 'msgs'> {
  timeoutMs?: number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type UnjailErrorType = ClientError;

export type UnjailReturnType = SignAndSendReturnType;

/** Lets the signer's jailed operator back into the running (staking/unjail), once its jail has ended. */
export function unjail(client: Client, p: UnjailParameters): Promise<UnjailReturnType> {
  return signAndSend(client, { ...p, msgs: [{ type: 'staking/unjail', value: {} }] });
}

import type { ClientError } from '../errors.js';
import { fromHex, type Bytes } from '../../core/bytes.js';
import type { Client } from '../client.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface SetValidatorParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The operator's consensus (CometBFT) Ed25519 public key: 32 bytes, or hex. */
  pubKey: Bytes | string;
  /** A display name (at most 64 bytes). */
  moniker?: string;
  timeoutMs?: number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type SetValidatorErrorType = ClientError;

export type SetValidatorReturnType = SignAndSendReturnType;

/**
 * Declares (or changes) the signer's consensus key (staking/set-validator). The signer must be
 * an operator (self-bonded); with enough stake it joins the validator set at the end of the block.
 */
export function setValidator(client: Client, p: SetValidatorParameters): Promise<SetValidatorReturnType> {
  const { pubKey, moniker, ...rest } = p;
  const key = typeof pubKey === 'string' ? fromHex(pubKey, 'pubKey') : pubKey;
  return signAndSend(client, { ...rest, msgs: [{ type: 'staking/set-validator', value: { pubKey: key, moniker: moniker ?? '' } }] });
}

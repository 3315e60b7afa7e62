import type { Attribute } from '../../chain/modules/market/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface RegisterProviderParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** Where customers and agents reach the provider, e.g. "http://203.0.113.5:8700" (≤ 256 bytes). */
  hostUri: string;
  /** At most 32 distinct keys (region=eu-west, tier=datacenter...); orders may require some. */
  attributes?: Attribute[];
  timeoutMs?: number;
}

export type RegisterProviderReturnType = SignAndSendReturnType;

/** TxRejectedError / TxFailedError (market.INVALID_PROVIDER) / TimeoutError / NodeUnreachableError. */
export type RegisterProviderErrorType = ClientError;

/**
 * Registers the signer as a market provider, or updates its host URI and attributes
 * (`market/register-provider`; reputation and earnings are kept). Bidding also needs bonded
 * stake of at least market.minProviderStake and a device of the order's kind.
 */
export function registerProvider(client: Client, p: RegisterProviderParameters): Promise<RegisterProviderReturnType> {
  const { hostUri, attributes = [], ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'market/register-provider', value: { hostUri, attributes } }] });
}

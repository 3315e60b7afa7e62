import { decode, u128 } from '../../core/codec.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { creditsBalanceKey } from '../../chain/modules/credits/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getState } from './getState.js';

export interface GetCreditsParameters {
  /** bech32 address. */
  address: string;
  height?: bigint | number;
}

export interface GetCreditsReturnType {
  address: string;
  /** Data Credits held. */
  credits: bigint;
  /** Height the balance was proven at. */
  height: bigint;
}

/** NodeUnreachableError / ApiResponseError / VerificationError. */
export type GetCreditsErrorType = ClientError;

/** A Data Credit balance, verified (Merkle proof of credits/bal/<address> against a signed header). */
export async function getCredits(client: Client, params: GetCreditsParameters): Promise<GetCreditsReturnType> {
  const addr = decodeAddress(params.address);
  const v = await getState(client, { key: creditsBalanceKey(addr), ...(params.height !== undefined ? { height: params.height } : {}) });
  return { address: encodeAddress(addr), credits: v.value ? decode(u128, v.value) : 0n, height: v.height };
}

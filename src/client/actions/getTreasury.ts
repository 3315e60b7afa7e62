import { TREASURY_ADDRESS } from '../../chain/modules/gov/keeper.js';
import { encodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getAccount } from './getAccount.js';

export interface GetTreasuryReturnType {
  /** moduleAddress('treasury'), bech32. */
  address: string;
  /** ugw. */
  balance: bigint;
  /** Height the balance was proven at. */
  height: bigint;
}

/** NodeUnreachableError / ApiResponseError / VerificationError. */
export type GetTreasuryErrorType = ClientError;

/**
 * The treasury's balance, verified (a Merkle proof of the treasury's bank account against a
 * signed header). It pays out only through passed treasury-spend proposals.
 */
export async function getTreasury(client: Client, params: { height?: bigint | number } = {}): Promise<GetTreasuryReturnType> {
  const a = await getAccount(client, { address: encodeAddress(TREASURY_ADDRESS), ...(params.height !== undefined ? { height: params.height } : {}) });
  return { address: a.address, balance: a.balance, height: a.height };
}

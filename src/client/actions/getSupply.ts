import { decode, u128 } from '../../core/codec.js';
import { BANK_SUPPLY_KEY } from '../../chain/keys.js';
import type { Client } from '../client.js';
import { getState } from './getState.js';

export interface GetSupplyReturnType {
  /** Total native tokens in existence, ugw (genesis + minted − burned). */
  supply: bigint;
  /** Height the value was proven at. */
  height: bigint;
}

/** The native token's total supply, verified against a signed header. */
export async function getSupply(client: Client, params: { height?: bigint | number } = {}): Promise<GetSupplyReturnType> {
  const v = await getState(client, { key: BANK_SUPPLY_KEY, ...(params.height !== undefined ? { height: params.height } : {}) });
  return { supply: v.value ? decode(u128, v.value) : 0n, height: v.height };
}

import { decode } from '../../core/codec.js';
import { creditTotalsCodec } from '../../chain/modules/credits/keeper.js';
import { CREDITS_TOTAL_KEY, creditsEpochKey } from '../../chain/modules/credits/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getState } from './getState.js';

export interface GetCreditTotalsParameters {
  /** An epoch's totals; the totals since genesis when omitted. */
  epoch?: bigint | number;
  height?: bigint | number;
}

export interface GetCreditTotalsReturnType {
  epoch: bigint | null;
  /** Tokens burned for Data Credits, ugw. */
  tokensBurned: bigint;
  dcMinted: bigint;
  /** Data Credits spent on the chain's services. */
  dcBurned: bigint;
  height: bigint;
}

export type GetCreditTotalsErrorType = ClientError;

/** Burn-and-mint totals of an epoch (or since genesis), verified against a signed header. */
export async function getCreditTotals(client: Client, params: GetCreditTotalsParameters = {}): Promise<GetCreditTotalsReturnType> {
  const key = params.epoch === undefined ? CREDITS_TOTAL_KEY : creditsEpochKey(BigInt(params.epoch));
  const v = await getState(client, { key, ...(params.height !== undefined ? { height: params.height } : {}) });
  const t = v.value ? decode(creditTotalsCodec, v.value) : { tokensBurned: 0n, dcMinted: 0n, dcBurned: 0n };
  return { epoch: params.epoch === undefined ? null : BigInt(params.epoch), ...t, height: v.height };
}

import { decodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type MintCreditsParameters = Omit<PrepareTxParameters, 'msgs'> & {
  /** Tokens to burn, ugw. */
  amount: bigint;
  /** Who receives the Data Credits (bech32); the signer by default. */
  to?: string;
  timeoutMs?: number;
};

export interface MintCreditsReturnType extends SignAndSendReturnType {
  /** Data Credits received. */
  dc: bigint;
  /** Tokens burned, ugw. */
  burned: bigint;
  /** The minting price used, micro-USD per GW. */
  price: bigint;
  recipient: string;
  epoch: bigint;
}

/**
 * TxRejectedError / TxFailedError (credits.AMOUNT_TOO_SMALL, credits.INVALID_AMOUNT,
 * oracle.NO_PRICE, oracle.PRICE_STALE, oracle.PRICE_UNCERTAIN, bank.INSUFFICIENT_FUNDS) /
 * TimeoutError.
 */
export type MintCreditsErrorType = ClientError;

/**
 * Burns `amount` ugw of the signer for Data Credits (`credits/mint`), waits for the block, and
 * returns what the chain did (from the tx's `credits.mint` event).
 */
export async function mintCredits(client: Client, params: MintCreditsParameters): Promise<MintCreditsReturnType> {
  const { amount, to, ...rest } = params;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'credits/mint', value: { amount, to: to === undefined ? null : decodeAddress(to) } }] });
  const ev = t.events.find((e) => e.type === 'credits.mint');
  if (!ev) throw new ClientError('BAD_RESPONSE', `tx ${t.hash} succeeded but carries no credits.mint event`);
  const a = ev.attributes;
  return {
    ...t,
    dc: BigInt(a.dc ?? '0'),
    burned: BigInt(a.burned ?? '0'),
    price: BigInt(a.price ?? '0'),
    recipient: a.recipient ?? '',
    epoch: BigInt(a.epoch ?? '0'),
  };
}

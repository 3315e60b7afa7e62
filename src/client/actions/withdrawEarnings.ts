import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface WithdrawEarningsParameters extends Omit<PrepareTxParameters, 'msgs'> {
  timeoutMs?: number;
}

export interface WithdrawEarningsReturnType extends SignAndSendReturnType {
  /** ugw of earnings paid to the provider's balance. */
  amount: bigint;
  /** ugw of lost bids' deposits taken back, and how many bids. */
  deposits: bigint;
  lostBids: number;
  /** More lost bids wait (one withdraw takes back at most 256): withdraw again. */
  more: boolean;
}

/** TxRejectedError / TxFailedError (market.PROVIDER_NOT_REGISTERED, NOTHING_TO_WITHDRAW) / TimeoutError. */
export type WithdrawEarningsErrorType = ClientError;

/**
 * Settles every active lease of the signer (a provider), pays its earnings to its balance and
 * takes back the deposits of its lost bids (`market/withdraw`).
 */
export async function withdrawEarnings(client: Client, p: WithdrawEarningsParameters): Promise<WithdrawEarningsReturnType> {
  const t = await signAndSend(client, { ...p, msgs: [{ type: 'market/withdraw', value: {} }] });
  const ev = txEvent(t, 'market.withdraw');
  return {
    ...t,
    amount: big(ev.amount, 'market.withdraw.amount'),
    deposits: big(ev.deposits ?? '0', 'market.withdraw.deposits'),
    lostBids: Number(ev.lostBids ?? '0'),
    more: ev.more === '1',
  };
}

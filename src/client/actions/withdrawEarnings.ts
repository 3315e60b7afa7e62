import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, txEvent } from '../marketViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface WithdrawEarningsParameters extends Omit<PrepareTxParameters, 'msgs'> {
  timeoutMs?: number;
}

export interface WithdrawEarningsReturnType extends SignAndSendReturnType {
  /** ugw paid to the provider's balance. */
  amount: bigint;
}

/** TxRejectedError / TxFailedError (market.PROVIDER_NOT_REGISTERED, NOTHING_TO_WITHDRAW) / TimeoutError. */
export type WithdrawEarningsErrorType = ClientError;

/** Settles every active lease of the signer (a provider) and pays its earnings to its balance (`market/withdraw`). */
export async function withdrawEarnings(client: Client, p: WithdrawEarningsParameters): Promise<WithdrawEarningsReturnType> {
  const t = await signAndSend(client, { ...p, msgs: [{ type: 'market/withdraw', value: {} }] });
  return { ...t, amount: big(txEvent(t, 'market.withdraw').amount, 'market.withdraw.amount') };
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type ReportPriceParameters = Omit<PrepareTxParameters, 'msgs'> & {
  /** The token price in micro-USD per GW (420000 = $0.42); parseUsd turns "$0.42" into it. */
  price: bigint;
  timeoutMs?: number;
};

export type ReportPriceReturnType = SignAndSendReturnType;

/** TxRejectedError / TxFailedError (e.g. oracle.NOT_REPORTER, oracle.INVALID_PRICE) / TimeoutError. */
export type ReportPriceErrorType = ClientError;

/** Sends `oracle/report {price}` as the signer (who must be in oracle.reporters) and waits for it. */
export function reportPrice(client: Client, params: ReportPriceParameters): Promise<ReportPriceReturnType> {
  const { price, ...rest } = params;
  return signAndSend(client, { ...rest, msgs: [{ type: 'oracle/report', value: { price } }] });
}

import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { idArg, marketQuery, parseLease, type MarketLease } from '../marketViews.js';

export interface GetLeaseParameters {
  id: bigint | number | string;
}

export type GetLeaseReturnType = MarketLease | null;

/** NodeUnreachableError / ApiResponseError / ClientError MARKET_UNAVAILABLE. */
export type GetLeaseErrorType = ClientError;

/** A lease, or null when there is none with this id (paid/earned as of the order's last settlement; see previewSettlement). */
export async function getLease(client: Client, p: GetLeaseParameters): Promise<GetLeaseReturnType> {
  const j = await marketQuery<unknown>(client, 'lease', { id: idArg(p.id) }, () => null);
  return j === null ? null : parseLease(j);
}

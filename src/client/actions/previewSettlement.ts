import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, idArg, marketQuery } from '../marketViews.js';

export interface PreviewSettlementParameters {
  order: bigint | number | string;
}

export interface PreviewSettlementReturnType {
  order: bigint;
  /** The latest height, which the preview settles up to. */
  height: bigint;
  /** What settling now would pay out of escrow (all active leases, since the order's last settlement). */
  owed: bigint;
  /** The escrow before paying `owed`. */
  escrow: bigint;
  /** The height at which the escrow can no longer pay the next block at today's rate; null: never (no active lease). */
  dryHeight: bigint | null;
}

/** NodeUnreachableError / ApiResponseError (market.ORDER_NOT_FOUND) / ClientError MARKET_UNAVAILABLE. */
export type PreviewSettlementErrorType = ClientError;

/** What settling an order now would pay, and when its escrow runs dry (nothing is changed). */
export async function previewSettlement(client: Client, p: PreviewSettlementParameters): Promise<PreviewSettlementReturnType> {
  const j = await marketQuery<Record<string, unknown>>(client, 'settle-preview', { order: idArg(p.order) });
  const dry = j.dryHeight === null || j.dryHeight === undefined ? null : big(j.dryHeight, 'settle-preview.dryHeight');
  return {
    order: big(j.order, 'settle-preview.order'),
    height: big(j.height, 'settle-preview.height'),
    owed: big(j.owed, 'settle-preview.owed'),
    escrow: big(j.escrow, 'settle-preview.escrow'),
    dryHeight: dry === 0n ? null : dry,
  };
}

import type { SlashStatus } from '../../chain/modules/penalties/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetSlashesParameters {
  /** Only this operator's slashes (gw1...). */
  operator?: string;
  status?: SlashStatus;
  /** Continue after this slash id (the previous page's `next`). */
  after?: bigint | string;
  /** 1-1000, default 100. */
  limit?: number;
}

/** A slash record in JSON form (amounts and heights as decimal strings, bytes as hex, addresses bech32). */
export interface SlashView {
  id: string;
  operator: string;
  device: string;
  amount: string;
  reason: string;
  /** "fault" (operational-fault penalty) or the evidence kind. */
  kind: string;
  evidenceHash: string;
  evidence: string;
  evidenceBytes: number;
  reporter: string | null;
  height: string;
  releaseHeight: string;
  status: SlashStatus;
  statusHeight: string;
  counterEvidence: string | null;
  note: string;
  restoredToAccount: boolean;
}

export interface GetSlashesReturnType {
  slashes: SlashView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
  height?: string;
}

/** NodeUnreachableError / ApiResponseError. */
export type GetSlashesErrorType = ClientError;

/** Slashes by id, all or one operator's, a page at a time (the node's answer, not proven; see getSlash). */
export function getSlashes(client: Client, params: GetSlashesParameters = {}): Promise<GetSlashesReturnType> {
  return moduleQuery<GetSlashesReturnType>(client, 'penalties', 'slashes', {
    operator: params.operator,
    status: params.status,
    after: params.after === undefined ? undefined : String(params.after),
    limit: params.limit,
  });
}

export interface GetSlashEscrowReturnType {
  /** moduleAddress('slash_escrow'), bech32. */
  address: string;
  /** ugw held for slashes in their dispute window. */
  balance: string;
  /** The evidence kinds this chain's verticals verify. */
  evidenceKinds: string[];
}

/** The slash escrow's balance and the evidence kinds the chain verifies (the node's answer; read the escrow's account with getAccount for a proof). */
export function getSlashEscrow(client: Client): Promise<GetSlashEscrowReturnType> {
  return moduleQuery<GetSlashEscrowReturnType>(client, 'penalties', 'escrow');
}

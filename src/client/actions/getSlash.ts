import { decode } from '../../core/codec.js';
import { slashKey } from '../../chain/modules/penalties/keys.js';
import { slashRecordCodec, type Slash } from '../../chain/modules/penalties/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getState } from './getState.js';

export interface GetSlashParameters {
  id: bigint;
  /** Block height to read at; latest by default. */
  height?: bigint | number;
}

export interface GetSlashReturnType {
  /** The slash record, or null when there is no slash with this id (proven absent). */
  slash: Slash | null;
  /** Height the value was proven at. */
  height: bigint;
}

/** NodeUnreachableError / ApiResponseError / VerificationError. */
export type GetSlashErrorType = ClientError;

/**
 * A slash record (operator, device, amount, reason code, evidence, release height, status,
 * counter-evidence), verified: read with a Merkle proof against a header signed by the trusted
 * validators.
 */
export async function getSlash(client: Client, params: GetSlashParameters): Promise<GetSlashReturnType> {
  const v = await getState(client, { key: slashKey(params.id), ...(params.height !== undefined ? { height: params.height } : {}) });
  return { slash: v.value ? { id: params.id, ...decode(slashRecordCodec, v.value) } : null, height: v.height };
}

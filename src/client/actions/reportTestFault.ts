import { fromHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type ReportTestFaultParameters = Omit<PrepareTxParameters, 'msgs'> & {
  /** The device id (its public key), 64 hex characters. */
  device: string;
  /** A reason code, e.g. "missed-challenge". */
  reason: string;
  timeoutMs?: number;
};

export interface ReportTestFaultReturnType extends SignAndSendReturnType {
  /** What penalties did: a warning, a penalty (slash), a jail, or nothing (device jailed or retired). */
  action: 'warning' | 'penalty' | 'jail' | 'ignored';
  /** Faults in the device's window, this one included. */
  count: number;
  /** ugw taken into the slash escrow. */
  slashed: bigint;
  slashId: bigint | null;
}

/** TxRejectedError / TxFailedError (testvertical.NOT_AUTHORITY, penalties.UNKNOWN_DEVICE, penalties.INVALID_REASON) / TimeoutError. */
export type ReportTestFaultErrorType = ClientError;

/**
 * Reports an operational fault of a device through the test vertical (`testvertical/fault`);
 * only testvertical.authority may. A test-only stand-in: real verticals detect faults from
 * their own challenges.
 */
export async function reportTestFault(client: Client, params: ReportTestFaultParameters): Promise<ReportTestFaultReturnType> {
  const { device, reason, ...rest } = params;
  const id = fromHex(device, 'device id');
  if (id.length !== 32) throw new InvalidInputError('INVALID_DEVICE_ID', `a device id is its 32-byte public key (64 hex characters), got ${id.length} bytes`);
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'testvertical/fault', value: { device: id, reason } }] });
  const find = (type: string) => t.events.find((e) => e.type === type)?.attributes;
  const w = find('penalties.warning');
  const p = find('penalties.penalty');
  const action = w ? 'warning' : p ? (find('penalties.jail') ? 'jail' : 'penalty') : 'ignored';
  const count = Number((w ?? p)?.count ?? '0');
  return { ...t, action, count, slashed: BigInt(p?.slashed ?? '0'), slashId: p?.slashId !== undefined ? BigInt(p.slashId) : null };
}

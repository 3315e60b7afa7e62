import { fromHex } from '../../core/bytes.js';
import { cellCodec } from '../../chain/modules/devices/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface AssertDeviceLocationParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** Device id (public key), hex. */
  device: string;
  /** H3 cell index, e.g. "8a1fb46622dffff" (h3-js latLngToCell makes one from coordinates). */
  cell: string;
  timeoutMs?: number;
}

/** TxRejectedError / TxFailedError (devices.INVALID_CELL, devices.RESOLUTION_OUT_OF_RANGE, devices.LOCATION_UNCHANGED,
 * devices.NOT_OWNER, devices.DEVICE_RETIRED, credits.INSUFFICIENT_CREDITS) / TimeoutError. */
export type AssertDeviceLocationErrorType = ClientError;

/**
 * Asserts where the signer's device is (`devices/assert-location`). The first assertion is in
 * the onboarding fee; later ones burn devices.locationFeeDc.
 */
export function assertDeviceLocation(client: Client, p: AssertDeviceLocationParameters): Promise<SignAndSendReturnType> {
  const { device, cell, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'devices/assert-location', value: { device: fromHex(device, 'device id'), cell: cellCodec.fromJSON(cell, 'cell') } }] });
}

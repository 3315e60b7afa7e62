import { fromHex } from '../../core/bytes.js';
import { decodeAddress } from '../../core/keys.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface TransferDeviceParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** Device id (public key), hex. */
  device: string;
  /** The new owner (gw1...). */
  newOwner: string;
  timeoutMs?: number;
}

/** TxRejectedError / TxFailedError (devices.NOT_OWNER, devices.SELF_TRANSFER, devices.DEVICE_RETIRED, devices.INSUFFICIENT_STAKE) / TimeoutError. */
export type TransferDeviceErrorType = ClientError;

/** Hands the signer's device (with its status and location) to a new owner (`devices/transfer`). */
export function transferDevice(client: Client, p: TransferDeviceParameters): Promise<SignAndSendReturnType> {
  const { device, newOwner, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'devices/transfer', value: { device: fromHex(device, 'device id'), newOwner: decodeAddress(newOwner) } }] });
}

import { fromHex } from '../../core/bytes.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface RetireDeviceParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** Device id (public key), hex. */
  device: string;
  timeoutMs?: number;
}

/** TxRejectedError / TxFailedError (devices.NOT_OWNER, devices.DEVICE_RETIRED) / TimeoutError. */
export type RetireDeviceErrorType = ClientError;

/** Retires the signer's device for good (`devices/retire`): no more status, location or owner changes. */
export function retireDevice(client: Client, p: RetireDeviceParameters): Promise<SignAndSendReturnType> {
  const { device, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'devices/retire', value: { device: fromHex(device, 'device id') } }] });
}

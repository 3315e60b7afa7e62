import { fromHex } from '../../core/bytes.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface UnjailDeviceParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** Device id (public key), hex. */
  device: string;
  timeoutMs?: number;
}

/** TxRejectedError / TxFailedError (devices.NOT_OWNER, devices.NOT_JAILED, devices.JAIL_NOT_OVER, devices.DEVICE_RETIRED) / TimeoutError. */
export type UnjailDeviceErrorType = ClientError;

/** Takes the signer's jailed device back to active once devices.jailBlocks have passed (`devices/unjail`). */
export function unjailDevice(client: Client, p: UnjailDeviceParameters): Promise<SignAndSendReturnType> {
  const { device, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'devices/unjail', value: { device: fromHex(device, 'device id') } }] });
}

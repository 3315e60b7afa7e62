import { fromHex } from '../../core/bytes.js';
import { decode } from '../../core/codec.js';
import { InvalidInputError } from '../../core/errors.js';
import { deviceKey } from '../../chain/modules/devices/keys.js';
import { deviceRecordCodec, type Device } from '../../chain/modules/devices/types.js';
import type { Client } from '../client.js';
import { getState } from './getState.js';

export interface GetDeviceParameters {
  /** The device's public key (its id), 64 hex characters. */
  id: string;
  /** Block height to read at; latest by default. */
  height?: bigint | number;
}

export interface GetDeviceReturnType {
  /** The device, or null when no device has this key (proven absent). */
  device: Device | null;
  /** Height the value was proven at. */
  height: bigint;
}

/**
 * A device (owner, kind, maker, capabilities, location, status), verified: the record is read
 * with a Merkle proof checked against a header signed by the trusted validators.
 */
export async function getDevice(client: Client, params: GetDeviceParameters): Promise<GetDeviceReturnType> {
  const id = fromHex(params.id, 'device id');
  if (id.length !== 32) throw new InvalidInputError('INVALID_DEVICE_ID', `a device id is its 32-byte public key (64 hex characters), got ${id.length} bytes`);
  const v = await getState(client, { key: deviceKey(id), ...(params.height !== undefined ? { height: params.height } : {}) });
  return { device: v.value ? { id, ...decode(deviceRecordCodec, v.value) } : null, height: v.height };
}

/**
 * devices state keys (ASCII prefix, then binary parts, so an owner's devices and the makers
 * iterate in a useful order).
 *
 * | prefix                                  | value                                                  |
 * | --------------------------------------- | ------------------------------------------------------ |
 * | devices/dev/<device pubkey 32B>         | DeviceRecord (owner, kind, maker, capabilities, ...)   |
 * | devices/owner/<owner 20B><device 32B>   | kind (u8): the owner index, for listing                |
 * | devices/count/<owner 20B>               | u64: the owner's devices that are not retired          |
 * | devices/maker/<name>                    | MakerRecord {pubKey, approvedHeight, revokedHeight, devices} |
 */
import { concat, toKeyString, utf8, type Bytes } from '../../../core/bytes.js';

export const DEVICE_PREFIX = utf8('devices/dev/');
export const DEVICE_OWNER_PREFIX = utf8('devices/owner/');
export const DEVICE_COUNT_PREFIX = utf8('devices/count/');
export const MAKER_PREFIX = utf8('devices/maker/');

const DEVICE_PREFIX_S = 'devices/dev/';
const DEVICE_COUNT_PREFIX_S = 'devices/count/';

/** The record of a device (its id is its public key), as bytes (for verified reads through getState). */
export function deviceKey(id: Bytes): Bytes {
  return concat(DEVICE_PREFIX, id);
}

/** The same key as a latin1 key string (the store's fast path). */
export function deviceKeyS(id: Bytes): string {
  return DEVICE_PREFIX_S + toKeyString(id);
}

/** One entry of the owner index. */
export function deviceOwnerKey(owner: Bytes, id: Bytes): Bytes {
  return concat(DEVICE_OWNER_PREFIX, owner, id);
}

/** Where an owner's entries of the owner index start. */
export function deviceOwnerPrefix(owner: Bytes): Bytes {
  return concat(DEVICE_OWNER_PREFIX, owner);
}

export function deviceCountKey(owner: Bytes): Bytes {
  return concat(DEVICE_COUNT_PREFIX, owner);
}

export function deviceCountKeyS(owner: Bytes): string {
  return DEVICE_COUNT_PREFIX_S + toKeyString(owner);
}

/** A maker's key; the name is 1-64 bytes of [a-z0-9-], checked before any key is built. */
export function makerKey(name: string): Bytes {
  return concat(MAKER_PREFIX, utf8(name));
}

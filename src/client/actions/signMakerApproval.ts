import { fromHex, toHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import type { Signer } from '../../core/keys.js';
import { makerSignBytes, isDeviceKind, DEVICE_KINDS, type DeviceKind } from '../../chain/modules/devices/types.js';

export interface SignMakerApprovalParameters {
  /** The chain the device will be onboarded on. */
  chainId: string;
  kind: DeviceKind;
  /** The device's public key, hex (64 characters). */
  deviceKey: string;
}

/**
 * A manufacturer's approval of one device (offline: no node needed): the maker key's signature
 * over (chain id, kind, device key). Returns the signature as hex, for `devices/onboard`.
 */
export function signMakerApproval(maker: Signer, params: SignMakerApprovalParameters): string {
  if (!isDeviceKind(params.kind)) throw new InvalidInputError('INVALID_KIND', `kind must be one of ${DEVICE_KINDS.join(', ')}, got "${params.kind}"`);
  const device = fromHex(params.deviceKey, 'device key');
  if (device.length !== 32) throw new InvalidInputError('INVALID_DEVICE_KEY', `a device key is 32 bytes (64 hex characters), got ${device.length} bytes`);
  return toHex(maker.sign(makerSignBytes(params.chainId, params.kind, device)));
}

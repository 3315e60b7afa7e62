import { toHex } from '../../core/bytes.js';
import { decodeAddress, type Signer } from '../../core/keys.js';
import { deviceSignBytes } from '../../chain/modules/devices/types.js';

export interface SignDeviceConsentParameters {
  chainId: string;
  /** The owner-to-be (gw1...). */
  owner: string;
}

/**
 * The device's consent to be onboarded by `owner` (run where the device key lives): its
 * signature over (chain id, owner address). Returns the signature as hex.
 */
export function signDeviceConsent(device: Signer, params: SignDeviceConsentParameters): string {
  return toHex(device.sign(deviceSignBytes(params.chainId, decodeAddress(params.owner))));
}

import { fromHex, toHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { encodeAddress, type Signer } from '../../core/keys.js';
import { NO_CAPABILITIES, type Capabilities, type DeviceKind } from '../../chain/modules/devices/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';
import { signDeviceConsent } from './signDeviceConsent.js';

export interface OnboardDeviceParameters extends Omit<PrepareTxParameters, 'msgs'> {
  kind: DeviceKind;
  /**
   * The device: its key (the consent is signed here), or its public key and the consent it
   * signed elsewhere (signDeviceConsent), both hex.
   */
  device: Signer | { publicKey: string; consent: string };
  /** The approved maker's name, and its signature over the device (signMakerApproval), hex. */
  maker: string;
  makerSignature: string;
  capabilities?: Partial<Capabilities>;
  timeoutMs?: number;
}

export interface OnboardDeviceReturnType extends SignAndSendReturnType {
  /** The device id (its public key), hex. */
  device: string;
  /** Data Credits burned for the onboarding. */
  feeDc: bigint;
}

/** TxRejectedError / TxFailedError (devices.BAD_MAKER_SIGNATURE, devices.BAD_DEVICE_SIGNATURE, devices.MAKER_NOT_FOUND,
 * devices.MAKER_REVOKED, devices.DEVICE_EXISTS, devices.INVALID_CAPABILITIES,
 * devices.INSUFFICIENT_STAKE, credits.INSUFFICIENT_CREDITS) / TimeoutError. */
export type OnboardDeviceErrorType = ClientError;

/**
 * Onboards a device owned by the signer (`devices/onboard`); burns the kind's onboarding fee in
 * Data Credits. Throws TxFailedError with the chain's reason (BAD_MAKER_SIGNATURE,
 * INSUFFICIENT_CREDITS, DEVICE_EXISTS...).
 */
export async function onboardDevice(client: Client, p: OnboardDeviceParameters): Promise<OnboardDeviceReturnType> {
  const { kind, device, maker, makerSignature, capabilities, ...rest } = p;
  const { chainId } = (await client.trust()).genesis;
  const owner = encodeAddress(p.signer.address);
  const deviceKey = 'sign' in device ? device.publicKey : fromHex(device.publicKey, 'device public key');
  if (deviceKey.length !== 32) throw new InvalidInputError('INVALID_DEVICE_KEY', 'a device public key is 32 bytes (64 hex characters)');
  const consent = 'sign' in device ? signDeviceConsent(device, { chainId, owner }) : device.consent;
  const value = {
    kind,
    deviceKey,
    maker,
    makerSignature: fromHex(makerSignature, 'maker signature'),
    deviceSignature: fromHex(consent, 'device signature'),
    capabilities: { ...NO_CAPABILITIES, ...capabilities },
  };
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'devices/onboard', value }] });
  const fee = t.events.find((e) => e.type === 'devices.onboard')?.attributes.feeDc;
  return { ...t, device: toHex(deviceKey), feeDc: BigInt(fee ?? '0') };
}

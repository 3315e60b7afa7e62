import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetDeviceFaultsParameters {
  /** The device id (its public key), 64 hex characters. */
  device: string;
}

export interface GetDeviceFaultsReturnType {
  device: string;
  owner: string;
  status: 'active' | 'warned' | 'jailed' | 'retired';
  statusReason: string;
  /** Faults in the device's current window (0 once the window is over). */
  count: number;
  freeFaults: number;
  /** Faults left in the window that only warn. */
  freeLeft: number;
  /** The count at which the device is jailed. */
  jailFaults: number;
  windowStart: string | null;
  /** First height after the window (null: no live window). */
  windowEnd: string | null;
  /** The window ended; it resets (and a warned device goes back to active) when the device is next seen. */
  windowOver: boolean;
  /** Faults ever reported. */
  total: string;
  lastReason: string | null;
  lastHeight: string | null;
  height?: string;
}

/** NodeUnreachableError / ApiResponseError (NOT_FOUND: no such device). */
export type GetDeviceFaultsErrorType = ClientError;

/** A device's fault window: faults counted, free faults left, when the window ends (the node's answer). */
export function getDeviceFaults(client: Client, params: GetDeviceFaultsParameters): Promise<GetDeviceFaultsReturnType> {
  return moduleQuery<GetDeviceFaultsReturnType>(client, 'penalties', 'faults', { device: params.device });
}

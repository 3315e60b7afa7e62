import type { Client } from '../client.js';
import { moduleQuery } from './moduleQuery.js';

export interface GetDevicesOfParameters {
  /** Owner address (gw1...). */
  owner: string;
  /** Continue after this device id (the previous page's `next`). */
  after?: string;
  /** 1-1000, default 100. */
  limit?: number;
}

/** A device in JSON form (amounts and sizes as decimal strings, keys as hex, addresses bech32). */
export interface DeviceView {
  id: string;
  owner: string;
  kind: 'storage' | 'compute' | 'hotspot' | 'sensor';
  maker: string;
  capabilities: { capacityBytes: string; cpuCores: number; memoryBytes: string; gpuModel: string; gpuCount: number; bandwidthMbps: number };
  /** H3 cell index, null until asserted. */
  location: string | null;
  locationHeight: string;
  locationAssertions: number;
  status: 'active' | 'warned' | 'jailed' | 'retired';
  statusReason: string;
  statusHeight: string;
  jailedUntil: string;
  onboardedHeight: string;
}

export interface GetDevicesOfReturnType {
  owner: string;
  /** Devices the owner holds that are not retired. */
  count: string;
  /** This page, by device id (retired devices included). */
  devices: DeviceView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** The devices of an owner, a page at a time (the node's answer, not proven; see getDevice). */
export function getDevicesOf(client: Client, params: GetDevicesOfParameters): Promise<GetDevicesOfReturnType> {
  return moduleQuery<GetDevicesOfReturnType>(client, 'devices', 'devices', { owner: params.owner, after: params.after, limit: params.limit });
}

export interface GetAllDevicesParameters {
  after?: string;
  limit?: number;
}

/** Every device, by device id, a page at a time (the node's answer, not proven). */
export function getAllDevices(client: Client, params: GetAllDevicesParameters = {}): Promise<{ devices: DeviceView[]; next: string | null }> {
  return moduleQuery(client, 'devices', 'all', { after: params.after, limit: params.limit });
}

/**
 * What the test vertical needs from other modules, as narrow interfaces (src/chain/index.ts
 * passes the real keepers; tests may pass their own). These are the interfaces every vertical
 * (storage, compute, coverage) uses: the device registry, rewards' recordContribution and
 * penalties' reportFault / refreshDevice.
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';

export interface VerticalDevices {
  getDevice(store: KVReader, id: Bytes): { readonly owner: Bytes; readonly status: 'active' | 'warned' | 'jailed' | 'retired'; readonly jailedUntil: bigint } | undefined;
}

/** A verified contribution: who earns, from which pool, how many units, why, by which device. */
export interface VerticalContribution {
  readonly recipient: Bytes;
  /** 0 storage, 1 compute, 2 coverage. */
  readonly pool: number;
  readonly units: bigint;
  readonly reason: string;
  readonly device: Bytes;
}

export interface VerticalRewards {
  /** Records verified work for the current epoch (rewards.recordContribution); returns the weighted units. */
  recordContribution(ctx: Context, c: VerticalContribution): bigint;
}

export interface VerticalPenalties {
  /** An honest operational fault of the device (penalties.reportFault). */
  reportFault(ctx: Context, device: Bytes, reason: string, evidence: Bytes): unknown;
  /** Rolls the device's fault window lazily (penalties.refreshDevice). */
  refreshDevice(ctx: Context, device: Bytes): void;
}

export interface TestverticalDeps {
  readonly devices: VerticalDevices;
  readonly rewards: VerticalRewards;
  readonly penalties: VerticalPenalties;
}

/** What rewards needs from other modules, as narrow interfaces (wired in src/chain/index.ts). */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';

export interface StakeSource {
  /** Every delegation, in (delegator, operator) key order. */
  iterateDelegations(store: KVReader): Iterable<{ delegator: Bytes; operator: Bytes; tokens: bigint }>;
  isJailed(store: KVReader, operator: Bytes): boolean;
}

export interface DeviceSource {
  /** The device's status, or undefined when no such device exists. */
  statusOf(store: KVReader, device: Bytes): 'active' | 'warned' | 'jailed' | 'retired' | undefined;
}

/**
 * What devices needs from other modules, as narrow interfaces (src/chain/index.ts passes the
 * real credits and staking keepers; tests may pass their own).
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';

export interface CreditsSpender {
  /**
   * Burns `amount` Data Credits held by `from` (counted in the epoch totals); throws the
   * credits module's INSUFFICIENT_CREDITS ChainError when `from` holds fewer.
   */
  spendCredits(ctx: Context, from: Bytes, amount: bigint, reason: string): void;
}

export interface StakeLookup {
  /** The ugw `owner` has bonded (all its delegations), for devices.minStakePerDevice. */
  stakeOf(store: KVReader, owner: Bytes): bigint;
}

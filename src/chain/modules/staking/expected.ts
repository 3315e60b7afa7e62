/**
 * What staking needs from other parts of the chain, as narrow interfaces. The keeper uses the
 * bank keeper's functions through `StakingBank` only: moving tokens between accounts (never
 * minting or burning: staking leaves the supply unchanged).
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';

export interface StakingBank {
  balanceOf(store: KVReader, address: Bytes): bigint;
  /** Moves `amount` (> 0) from one account to another; throws bank's INSUFFICIENT_FUNDS. */
  transfer(ctx: Context, from: Bytes, to: Bytes, amount: bigint): void;
}

/**
 * What credits needs from other modules, as narrow interfaces (tests may substitute them).
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';

export interface PriceSource {
  /** The conservative token price in micro-USD per GW; throws the oracle's error when there is none. */
  mintingPrice(store: KVReader, height: bigint): bigint;
}

export interface TokenBurner {
  /** Destroys `amount` ugw held by `from` (supply drops); throws when the balance is too low. */
  burn(ctx: Context, from: Bytes, amount: bigint): void;
}

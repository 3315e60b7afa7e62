/**
 * What bank needs from other parts of the chain, as narrow interfaces (so tests, and later the
 * staking module or CometBFT's validator set, can supply their own).
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';

export interface ValidatorLookup {
  /** Where the fees of a block proposed by `proposer` go; undefined: not a known validator. */
  rewardAddressOf(store: KVReader, proposer: Bytes): Bytes | undefined;
}

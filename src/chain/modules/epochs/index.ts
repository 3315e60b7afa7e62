/**
 * epochs: the chain's reward period. An epoch is `blocksPerEpoch` consecutive blocks; epoch 0
 * starts at height 1. The current epoch and its first height live in state (epochs/state), so
 * a governance change of `blocksPerEpoch` takes effect from the next epoch on and never
 * renumbers past epochs.
 *
 * At the end block of an epoch's last height every `onEpochEnd` listener runs (in the order
 * given: rewards closes the epoch's manifest), then the
 * next epoch begins. This module must run last among the modules' endBlocks, so an epoch's
 * last block is entirely inside that epoch.
 */
import { decode, encode, struct, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { utf8 } from '../../../core/bytes.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams, type Module, type ParamsDef } from '../../module.js';

export const EPOCH_STATE_KEY = utf8('epochs/state');

export const epochsParamsCodec = struct('EpochsParams', { blocksPerEpoch: u64 });
export type EpochsParams = Infer<typeof epochsParamsCodec>;

export const epochsParams: ParamsDef<EpochsParams> = {
  codec: epochsParamsCodec,
  // 24 h at 1 s blocks would be 86,400; a devnet wants to see epochs close in a minute.
  defaults: { blocksPerEpoch: 60n },
  validate(p) {
    if (p.blocksPerEpoch < 1n || p.blocksPerEpoch > 10_000_000n) {
      throw new InvalidInputError('INVALID_PARAM', 'epochs.blocksPerEpoch must be between 1 and 10,000,000');
    }
  },
};

export const epochStateCodec = struct('EpochState', { epoch: u64, startHeight: u64 });
export type EpochState = Infer<typeof epochStateCodec>;

const INITIAL: EpochState = Object.freeze({ epoch: 0n, startHeight: 1n });

export function getEpochState(store: KVReader): EpochState {
  const b = store.get(EPOCH_STATE_KEY);
  return b ? decode(epochStateCodec, b) : INITIAL;
}

function setEpochState(store: KVStore, s: EpochState): void {
  store.set(EPOCH_STATE_KEY, encode(epochStateCodec, s));
}

/** The epoch of the block being executed (or, outside a block, of the next block). */
export function currentEpoch(store: KVReader): bigint {
  return getEpochState(store).epoch;
}

export function epochStartHeight(store: KVReader): bigint {
  return getEpochState(store).startHeight;
}

/** The last height of the current epoch, with the parameters in force now. */
export function epochEndHeight(store: KVReader): bigint {
  const s = getEpochState(store);
  return s.startHeight + getParams(store, 'epochs', epochsParams).blocksPerEpoch - 1n;
}

export type EpochEndListener = (ctx: Context, epoch: bigint) => void;

export function epochsModule(deps: { onEpochEnd: readonly EpochEndListener[] }): Module<null, EpochsParams> {
  return {
    name: 'epochs',
    params: epochsParams,
    queries: {
      current(store) {
        const s = getEpochState(store);
        return { epoch: s.epoch.toString(), startHeight: s.startHeight.toString(), endHeight: epochEndHeight(store).toString() };
      },
    },
    endBlock(ctx) {
      const s = getEpochState(ctx.store);
      const end = s.startHeight + getParams(ctx.store, 'epochs', epochsParams).blocksPerEpoch - 1n;
      if (ctx.block.height < end) return;
      for (const l of deps.onEpochEnd) l(ctx, s.epoch);
      setEpochState(ctx.store, { epoch: s.epoch + 1n, startHeight: ctx.block.height + 1n });
      ctx.emit('epochs.end', () => ({ epoch: s.epoch, startHeight: s.startHeight, endHeight: ctx.block.height }));
    },
  };
}

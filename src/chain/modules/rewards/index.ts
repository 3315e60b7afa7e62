/**
 * rewards: epochs' emission, reward pools, the verifiable reward manifest and claims, and the
 * protocol take on customer payments. See keeper.ts for the flow and manifest.ts for the
 * manifest's format; params.ts for the economic math and its rounding.
 */
import type { LeafHasher } from '../../../core/leafhash.js';
import { bytes32, list, struct, u128, u32, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, encodeAddress } from '../../../core/keys.js';
import { getParams, msg, type Module } from '../../module.js';
import type { EpochEndListener } from '../epochs/index.js';
import { currentEpoch } from '../epochs/index.js';
import type { DeviceSource, StakeSource } from './expected.js';
import {
  REWARDS_POOL,
  TREASURY,
  claim,
  closeEpoch,
  getEmitted,
  getEpochRecord,
  isClaimed,
  pruneContributions,
  workTotals,
  type EpochRecord,
} from './keeper.js';
import { POOLS, epochEmission, rewardsParams, type RewardsParams } from './params.js';
import { MAX_PROOF_HASHES } from './manifest.js';
import { getAccount } from '../bank/keeper.js';

export const claimMsgCodec = struct('MsgClaim', {
  epoch: u64,
  index: u32,
  recipient: address,
  amount: u128,
  detailsHash: bytes32,
  proof: list(bytes32, MAX_PROOF_HASHES, 'proof'),
});
export type MsgClaim = Infer<typeof claimMsgCodec>;

/** Contribution entries deleted per block at most when pruning old epochs. */
const PRUNE_BUDGET = 2_000;

export function epochRecordJSON(r: EpochRecord): Record<string, unknown> {
  return {
    epoch: r.epoch.toString(),
    closedHeight: r.closedHeight.toString(),
    root: Buffer.from(r.root).toString('hex'),
    lines: r.count,
    emission: r.emission.toString(),
    pools: r.pools.map((p, i) => ({ pool: POOLS[i], alloc: p.alloc.toString(), units: p.units.toString(), paid: p.paid.toString() })),
    stake: r.stake.toString(),
    minted: r.minted.toString(),
    treasury: r.treasury.toString(),
    unissued: r.unissued.toString(),
  };
}

function epochArg(args: Readonly<Record<string, string>>): bigint {
  const e = args.epoch;
  if (e === undefined || !/^[0-9]{1,19}$/.test(e)) throw new InvalidInputError('INVALID_ARGUMENT', 'epoch must be a non-negative integer (?epoch=N)');
  return BigInt(e);
}

export function rewardsModule(deps: { stake: StakeSource; devices: DeviceSource; leafHasher?: LeafHasher | undefined }): Module<null, RewardsParams> & { onEpochEnd: EpochEndListener } {
  return {
    name: 'rewards',
    params: rewardsParams,
    indexedAttributes: ['rewards.claim.recipient'],
    msgs: [msg('rewards/claim', claimMsgCodec, (ctx, m) => claim(ctx, m))],
    onEpochEnd(ctx, epoch) {
      closeEpoch(ctx, deps.stake, epoch, deps.leafHasher);
    },
    endBlock(ctx) {
      pruneContributions(ctx, PRUNE_BUDGET);
    },
    queries: {
      epoch(store, args) {
        const e = epochArg(args);
        const r = getEpochRecord(store, e);
        if (!r) {
          const cur = currentEpoch(store);
          throw new InvalidInputError('NOT_FOUND', e >= cur ? `epoch ${e} has not closed yet (current epoch: ${cur})` : `epoch ${e} has no record`);
        }
        return epochRecordJSON(r);
      },
      current(store) {
        const e = currentEpoch(store);
        const p = getParams(store, 'rewards', rewardsParams);
        const units = workTotals(store, e);
        return {
          epoch: e.toString(),
          expectedEmission: epochEmission(p, e, getEmitted(store)).toString(),
          workUnits: Object.fromEntries(units.map((u, i) => [POOLS[i], u.toString()])),
          emittedTotal: getEmitted(store).toString(),
          rewardsPool: getAccount(store, REWARDS_POOL).balance.toString(),
          treasury: getAccount(store, TREASURY).balance.toString(),
        };
      },
      claimed(store, args) {
        const e = epochArg(args);
        const i = Number(args.index);
        if (!Number.isSafeInteger(i) || i < 0) throw new InvalidInputError('INVALID_ARGUMENT', 'index must be a non-negative integer');
        return { epoch: e.toString(), index: i, claimed: isClaimed(store, e, i) };
      },
      pools() {
        return { rewardsPool: encodeAddress(REWARDS_POOL), treasury: encodeAddress(TREASURY) };
      },
    },
  };
}


/**
 * rewards parameters and the pure economic math over them: the emission schedule, the split of
 * an epoch's emission into pools, and the protocol take on customer payments. Every division
 * rounds toward zero; each function says where the remainder goes.
 */
import { struct, u128, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { ParamsDef } from '../../module.js';

/** Reward pools. Work pools (storage, compute, coverage) are paid by contribution units. */
export const POOLS = ['storage', 'compute', 'coverage', 'stakers', 'treasury'] as const;
export type PoolName = (typeof POOLS)[number];
export const WORK_POOLS = 3;
export const POOL_STAKERS = 3;
export const POOL_TREASURY = 4;

export function poolIndex(name: string): number {
  const i = (POOLS as readonly string[]).indexOf(name);
  if (i < 0 || i >= WORK_POOLS) {
    throw new InvalidInputError('INVALID_POOL', `"${name}" is not a work pool; use one of ${POOLS.slice(0, WORK_POOLS).join(', ')}`);
  }
  return i;
}

export const BPS = 10_000n;

export const rewardsParamsCodec = struct('RewardsParams', {
  /** Emission of epoch 0 (ugw). */
  initialEpochEmission: u128,
  /** Emission halves every this many epochs (0: never). */
  halvingEpochs: u64,
  /** Emission never drops below this per epoch (ugw), while under the cap. */
  tailEpochEmission: u128,
  /** Total emission ever (ugw; 0: no cap). */
  emissionCap: u128,
  storageBps: u64,
  computeBps: u64,
  coverageBps: u64,
  stakersBps: u64,
  treasuryBps: u64,
  /** Share of a customer payment the protocol takes. */
  takeRateBps: u64,
  /** Share of the take that is burned (the rest goes to the treasury). */
  takeBurnBps: u64,
  /** Reward weight of a warned device's units (active: 10,000). */
  warnedMultiplierBps: u64,
  /** Contributions of this many closed epochs are kept for `rewards explain` (0: forever). */
  keepEpochs: u64,
});
export type RewardsParams = Infer<typeof rewardsParamsCodec>;

const GW = 1_000_000n;

export const rewardsParams: ParamsDef<RewardsParams> = {
  codec: rewardsParamsCodec,
  defaults: {
    initialEpochEmission: 100_000n * GW,
    // Helium halves every 2 years of daily epochs (730); with the devnet's minute-long epochs
    // that would be 730 minutes, which is fine for watching a halving happen.
    halvingEpochs: 730n,
    tailEpochEmission: 1_000n * GW,
    emissionCap: 0n,
    storageBps: 3_000n,
    computeBps: 2_500n,
    coverageBps: 2_000n,
    stakersBps: 1_500n,
    treasuryBps: 1_000n,
    takeRateBps: 1_000n,
    takeBurnBps: 5_000n,
    warnedMultiplierBps: 5_000n,
    keepEpochs: 1_000n,
  },
  validate(p) {
    const bad = (m: string): never => {
      throw new InvalidInputError('INVALID_PARAM', `rewards.${m}`);
    };
    const sum = p.storageBps + p.computeBps + p.coverageBps + p.stakersBps + p.treasuryBps;
    if (sum !== BPS) bad(`storageBps + computeBps + coverageBps + stakersBps + treasuryBps must be 10000, got ${sum}`);
    if (p.takeRateBps > BPS) bad('takeRateBps must be at most 10000');
    if (p.takeBurnBps > BPS) bad('takeBurnBps must be at most 10000');
    if (p.warnedMultiplierBps > BPS) bad('warnedMultiplierBps must be at most 10000');
    if (p.tailEpochEmission > p.initialEpochEmission) bad('tailEpochEmission must not exceed initialEpochEmission');
  },
};

/**
 * Emission of `epoch`, given what was emitted before it: initial >> (epoch / halvingEpochs)
 * (halving = exact integer shift, rounds toward zero), never below the tail, and clipped so
 * the total never exceeds the cap.
 */
export function epochEmission(p: RewardsParams, epoch: bigint, emittedBefore: bigint): bigint {
  let e = p.initialEpochEmission;
  if (p.halvingEpochs > 0n) {
    const halvings = epoch / p.halvingEpochs;
    e = halvings >= 128n ? 0n : e >> halvings;
  }
  if (e < p.tailEpochEmission) e = p.tailEpochEmission;
  if (p.emissionCap > 0n) {
    const left = p.emissionCap > emittedBefore ? p.emissionCap - emittedBefore : 0n;
    if (e > left) e = left;
  }
  return e;
}

/**
 * Splits an epoch's emission into the five pools by their bps (each rounds toward zero); the
 * rounding remainder (< 5 ugw) goes to the treasury pool.
 */
export function splitEmission(p: RewardsParams, emission: bigint): bigint[] {
  const bps = [p.storageBps, p.computeBps, p.coverageBps, p.stakersBps, p.treasuryBps];
  const out = bps.map((b) => (emission * b) / BPS);
  const dust = emission - out.reduce((a, b) => a + b, 0n);
  out[POOL_TREASURY] = (out[POOL_TREASURY] as bigint) + dust;
  return out;
}

/**
 * The protocol's take on a customer payment: take = amount × takeRate (rounds toward zero, in
 * the provider's favour); of the take, burn = take × takeBurn (rounds toward zero), the rest
 * goes to the treasury. provider + burn + treasury == amount exactly.
 */
export function splitPayment(p: RewardsParams, amount: bigint): { provider: bigint; burn: bigint; treasury: bigint } {
  const take = (amount * p.takeRateBps) / BPS;
  const burn = (take * p.takeBurnBps) / BPS;
  return { provider: amount - take, burn, treasury: take - burn };
}

/**
 * devices parameters (changed only through governance).
 *
 * Fees are in Data Credits (1 DC = $0.00001). Helium's figures are the defaults for hotspots:
 * onboarding a full hotspot costs 4,000,000 DC ($40), a location assertion 500,000 DC ($5).
 * The others scale with what a device of the kind can earn: a compute node as a hotspot, a
 * storage node half of it, a sensor as Helium's data-only hotspot ($10).
 */
import { struct, u128, u64, u8, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { ParamsDef } from '../../module.js';

export const onboardFeesCodec = struct('OnboardFeesDc', { storage: u128, compute: u128, hotspot: u128, sensor: u128 });

export const devicesParamsCodec = struct('DevicesParams', {
  /** Data Credits burned to onboard a device, per kind. */
  onboardFeeDc: onboardFeesCodec,
  /** Data Credits burned per location assertion after the first (the first is in the onboarding fee). */
  locationFeeDc: u128,
  /** The H3 resolutions a location may be asserted at (inclusive; 0 is coarsest, 15 finest). */
  minResolution: u8,
  maxResolution: u8,
  /** Blocks a jailed device stays jailed before its owner may unjail it. */
  jailBlocks: u64,
  /** ugw the owner must have bonded per device it holds (0: no stake needed). */
  minStakePerDevice: u128,
});
export type DevicesParams = Infer<typeof devicesParamsCodec>;

function bad(field: string, msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_PARAM', `devices.${field} ${msg}`);
}

export const devicesParams: ParamsDef<DevicesParams> = {
  codec: devicesParamsCodec,
  defaults: {
    onboardFeeDc: { storage: 2_000_000n, compute: 4_000_000n, hotspot: 4_000_000n, sensor: 1_000_000n },
    locationFeeDc: 500_000n,
    // r8 ≈ 0.74 km² (a neighbourhood) to r12 ≈ 300 m² (a building): fine enough for coverage,
    // coarse enough that nobody must publish their door.
    minResolution: 8,
    maxResolution: 12,
    jailBlocks: 3_600n, // one hour at 1-second blocks
    minStakePerDevice: 0n,
  },
  validate(p) {
    if (p.maxResolution > 15) throw bad('maxResolution', `must be at most 15 (H3's finest), got ${p.maxResolution}`);
    if (p.minResolution > p.maxResolution) throw bad('minResolution', `(${p.minResolution}) must not exceed devices.maxResolution (${p.maxResolution})`);
    if (p.jailBlocks < 1n || p.jailBlocks > 100_000_000n) throw bad('jailBlocks', `must be between 1 and 100,000,000, got ${p.jailBlocks}`);
  },
};

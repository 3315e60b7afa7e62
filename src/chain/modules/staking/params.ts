import { struct, u128, u32, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { ParamsDef } from '../../module.js';

/** The most validators a set may hold (the chain's validator-set codec's limit). */
export const MAX_VALIDATORS_LIMIT = 1_000;

export const stakingParamsCodec = struct('StakingParams', {
  /** Blocks between an undelegation and the tokens' return to the delegator. */
  unbondingBlocks: u64,
  /** Size of the validator set: the top operators by bonded tokens. */
  maxValidators: u32,
  /** Tokens (ugw) an operator's pool needs to be in the validator set. */
  minValidatorBond: u128,
  /** ugw per unit of consensus voting power: power = tokens / powerReduction, rounded down. */
  powerReduction: u128,
});
export type StakingParams = Infer<typeof stakingParamsCodec>;

export const stakingParams: ParamsDef<StakingParams> = {
  codec: stakingParamsCodec,
  defaults: {
    // One day at 1-second blocks. Unbonding tokens cannot be slashed, so governance must keep
    // this longer than any window in which a fault can still be proven (penalties' dispute
    // window); production chains use weeks (the Cosmos Hub: 21 days).
    unbondingBlocks: 86_400n,
    maxValidators: 100,
    minValidatorBond: 1_000_000n, // 1 GW
    powerReduction: 1_000_000n, // 1 GW = power 1
  },
  validate(p) {
    if (p.unbondingBlocks < 1n) throw new InvalidInputError('INVALID_PARAM', 'staking.unbondingBlocks must be at least 1');
    if (p.maxValidators < 1 || p.maxValidators > MAX_VALIDATORS_LIMIT) {
      throw new InvalidInputError('INVALID_PARAM', `staking.maxValidators must be between 1 and ${MAX_VALIDATORS_LIMIT}`);
    }
    if (p.powerReduction < 1n) throw new InvalidInputError('INVALID_PARAM', 'staking.powerReduction must be at least 1');
    // Every operator that qualifies by bond then has a voting power of at least 1.
    if (p.minValidatorBond < p.powerReduction) {
      throw new InvalidInputError('INVALID_PARAM', 'staking.minValidatorBond must be at least staking.powerReduction (so a validator has power >= 1)');
    }
  },
};

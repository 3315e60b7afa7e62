import { defineErrors } from '../../../core/errors.js';

export const StakingErrors = defineErrors('staking', {
  INVALID_AMOUNT: [1, 'amount must be greater than zero'],
  UNKNOWN_OPERATOR: [2, 'no such operator; an operator is created by delegating to itself (self-bond)'],
  INSUFFICIENT_DELEGATION: [3, 'undelegating more than the delegation is worth'],
  AMOUNT_TOO_SMALL: [4, 'amount too small to convert into any share of the pool'],
  POOL_EMPTY: [5, "the operator's pool was slashed to zero; it takes no delegations until restored"],
  KEY_IN_USE: [6, 'this consensus key belongs to another operator'],
  INVALID_PUBKEY: [7, 'not a valid Ed25519 public key'],
  NOT_JAILED: [8, 'the operator is not jailed'],
  STILL_JAILED: [9, 'the jail period has not ended yet'],
  NO_DELEGATORS: [10, 'the operator has no delegators left to restore tokens to'],
  INVALID_MONIKER: [11, 'the moniker may not contain control characters'],
});

import { defineErrors } from '../../../core/errors.js';

export const RewardsErrors = defineErrors('rewards', {
  UNKNOWN_EPOCH: [1, 'that epoch has not closed yet (no reward manifest)'],
  BAD_PROOF: [2, 'the reward line does not verify against the epoch root'],
  ALREADY_CLAIMED: [3, 'this reward line was already claimed'],
  INVALID_CONTRIBUTION: [4, 'a contribution report is malformed'],
  DEVICE_INELIGIBLE: [5, 'the device cannot earn rewards in its current status'],
  INVALID_AMOUNT: [6, 'amount must be greater than zero'],
});

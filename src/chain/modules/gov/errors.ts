import { defineErrors } from '../../../core/errors.js';

export const GovErrors = defineErrors('gov', {
  PROPOSAL_NOT_FOUND: [1, 'no proposal with this id; see "groundwork gov list"'],
  VOTING_CLOSED: [2, 'voting on this proposal has ended'],
  INSUFFICIENT_DEPOSIT: [3, 'the deposit is below gov.minDeposit'],
  INVALID_TITLE: [4, 'a proposal title is 1-140 bytes'],
  UNKNOWN_MODULE: [5, 'no module with parameters by that name'],
  INVALID_PARAMS: [6, 'the proposed parameters do not decode or do not validate'],
  PARAMS_UNCHANGED: [7, 'the proposed parameters equal the current ones: nothing to change'],
  INVALID_AMOUNT: [8, 'amount must be greater than zero'],
  INVALID_MAKER_NAME: [9, 'maker names are 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit'],
  NO_VOTING_POWER: [10, 'the voter has no bonded stake: delegate first (votes weigh the stake bonded when voting ends)'],
  NOT_SUPPORTED: [11, 'this kind of proposal needs a module this chain does not run'],
  INSUFFICIENT_TREASURY: [12, 'the treasury holds less than the proposal spends'],
});

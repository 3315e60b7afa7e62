import { defineErrors } from '../../../core/errors.js';

export const OracleErrors = defineErrors('oracle', {
  NOT_REPORTER: [1, 'the sender is not in the governance-set reporter list (oracle.reporters)'],
  INVALID_PRICE: [2, 'price must be greater than zero (micro-USD per GW)'],
  NO_PRICE: [3, 'no price: no listed reporter has reported yet'],
  PRICE_STALE: [4, 'price is stale: fewer than oracle.minReports reports are recent enough (oracle.maxAgeBlocks)'],
  PRICE_UNCERTAIN: [5, 'the conservative price is zero: the reports disagree too much (haircut and confidence exceed the price)'],
});

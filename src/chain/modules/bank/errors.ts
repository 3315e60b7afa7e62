import { defineErrors } from '../../../core/errors.js';

export const BankErrors = defineErrors('bank', {
  INSUFFICIENT_FUNDS: [1, 'balance too low for this transfer'],
  INVALID_AMOUNT: [2, 'amount must be greater than zero'],
  SEND_DISABLED: [3, 'transfers are disabled by governance (bank.sendEnabled)'],
  OVERFLOW: [4, 'balance would exceed the largest amount'],
});

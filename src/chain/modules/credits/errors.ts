import { defineErrors } from '../../../core/errors.js';

export const CreditsErrors = defineErrors('credits', {
  INVALID_AMOUNT: [1, 'amount of tokens to burn must be greater than zero'],
  AMOUNT_TOO_SMALL: [2, 'the tokens burned would buy less than one Data Credit at the current price'],
  INSUFFICIENT_CREDITS: [3, 'Data Credit balance too low'],
  OVERFLOW: [4, 'a Data Credit balance or total would exceed 2^128-1'],
});

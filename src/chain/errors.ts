/**
 * Errors of the tx pipeline (codespace "tx"). A module's own errors live in its folder. Codes
 * are stable: clients match on (codespace, code).
 */
import { defineErrors } from '../core/errors.js';

export const TxErrors = defineErrors('tx', {
  TX_DECODE: [1, 'tx bytes do not decode'],
  TX_TOO_LARGE: [2, 'tx is larger than auth.maxTxBytes'],
  WRONG_CHAIN_ID: [3, 'tx is for another chain'],
  BAD_SIGNATURE: [4, 'signature does not verify against the signer key'],
  SEQUENCE_REUSED: [5, 'sequence already used (replay)'],
  SEQUENCE_GAP: [6, 'sequence skips ahead of the account sequence'],
  FEE_TOO_LOW: [7, 'fee below the minimum for this tx size'],
  INSUFFICIENT_FEE_FUNDS: [8, 'balance does not cover the fee'],
  NO_MSGS: [9, 'tx carries no messages'],
  TOO_MANY_MSGS: [10, 'tx carries more messages than auth.maxMsgs'],
  MEMO_TOO_LONG: [11, 'memo longer than auth.maxMemoBytes'],
  TX_EXPIRED: [12, 'tx timeout height has passed'],
  INVALID_MSG: [13, 'a message failed validation'],
  INTERNAL: [99, 'internal error while running the tx'],
});

export const MempoolErrors = defineErrors('mempool', {
  DUPLICATE: [1, 'tx is already in the mempool'],
  FULL: [2, 'mempool is full'],
  ALREADY_COMMITTED: [3, 'tx was already committed'],
});

import { defineErrors } from '../../../core/errors.js';

export const PenaltiesErrors = defineErrors('penalties', {
  UNKNOWN_DEVICE: [1, 'no device with this key; check the device id (its public key, hex)'],
  INVALID_REASON: [2, 'a reason code is 1-32 characters of a-z, 0-9, "_" or "-"'],
  EVIDENCE_TOO_LARGE: [3, 'evidence and counter-evidence are at most 8 KiB'],
  UNKNOWN_EVIDENCE_KIND: [4, 'no vertical verifies evidence of this kind'],
  INVALID_EVIDENCE: [5, 'the evidence does not prove fraud'],
  EVIDENCE_USED: [6, 'this evidence was already used for a slash'],
  OFFENCE_PUNISHED: [7, 'this offence was already punished'],
  SLASH_NOT_FOUND: [8, 'no slash with this id; see "groundwork penalties list"'],
  NOT_OPERATOR: [9, 'only the slashed operator can dispute a slash'],
  DISPUTE_CLOSED: [10, 'the dispute window of this slash is over'],
  ALREADY_DISPUTED: [11, 'this slash is already disputed'],
  NOT_REVERSIBLE: [12, 'only a pending or disputed slash can be reversed'],
});

import { defineErrors } from '../../../core/errors.js';

export const StorageErrors = defineErrors('storage', {
  DEAL_NOT_FOUND: [1, 'no such deal'],
  DEAL_EXISTS: [2, 'the order already has a deal'],
  NOT_CUSTOMER: [3, 'only the deal’s customer may do this'],
  INVALID_DEAL: [4, 'invalid deal'],
  INVALID_ACK: [5, 'a provider acknowledgment does not verify'],
  NOT_DUE: [6, 'no such challenge is due'],
  NOT_CHECKER: [8, 'the sender is not a designated checker of this retrieval'],
  INVALID_RECEIPT: [9, 'the retrieval receipt does not verify'],
  SHARD_NOT_LOST: [10, 'the shard is not awaiting repair'],
  INVALID_REPAIR: [11, 'invalid repair'],
  DEAL_ENDED: [12, 'the deal has ended'],
  MALFORMED_PROOF: [13, 'the proof does not answer the challenge asked'],
});

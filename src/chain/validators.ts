/**
 * The validator set, kept in state (chain/validators) so that every node, and every light
 * client, agrees on who may sign blocks. Genesis sets it; staking will change it later.
 */
import { equals, type Bytes } from '../core/bytes.js';
import { decode, encode, list, string, struct, u64, type Infer } from '../core/codec.js';
import { sha256 } from '../core/hash.js';
import { address, pubKey } from '../core/keys.js';
import type { KVReader, KVStore } from '../state/overlay.js';
import { VALIDATORS_KEY } from './keys.js';
import type { ValidatorLookup } from './modules/bank/expected.js';

export const validatorCodec = struct('Validator', {
  name: string(64, 'validator name'),
  pubKey,
  power: u64,
  /** Where this validator's fees and rewards are paid. */
  rewardAddress: address,
});
export type Validator = Infer<typeof validatorCodec>;
export const validatorSetCodec = list(validatorCodec, 1_000, 'validators');

export function getValidators(store: KVReader): Validator[] {
  const b = store.get(VALIDATORS_KEY);
  return b ? decode(validatorSetCodec, b) : [];
}

export function setValidators(store: KVStore, vals: Validator[]): void {
  store.set(VALIDATORS_KEY, encode(validatorSetCodec, vals));
}

/** Commits to a validator set; block headers carry it so light clients can tell which set signed. */
export function validatorSetHash(vals: Validator[]): Bytes {
  return sha256(encode(validatorSetCodec, vals));
}

export const validatorLookup: ValidatorLookup = {
  rewardAddressOf(store, proposer) {
    return getValidators(store).find((v) => equals(v.pubKey, proposer))?.rewardAddress;
  },
};

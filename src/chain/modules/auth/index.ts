/**
 * auth: the rules every transaction must satisfy before its messages run (size, message count,
 * memo length, minimum fee). The checks themselves are in ../../ante.ts; this module owns their
 * parameters so governance can tune them.
 *
 * Minimum fee = feeBase + feePerByte × tx size in bytes (in ugw). Fees are taken before the
 * messages run and are kept even if a message fails; see bank's fee distribution for where
 * they go.
 */
import { struct, u128, u32, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { Module, ParamsDef } from '../../module.js';
import { ABSOLUTE_MAX_TX_BYTES, MAX_MSGS } from '../../tx.js';

export const authParamsCodec = struct('AuthParams', {
  maxTxBytes: u32,
  maxMsgs: u32,
  maxMemoBytes: u32,
  feeBase: u128,
  feePerByte: u128,
});
export type AuthParams = Infer<typeof authParamsCodec>;

export const authParams: ParamsDef<AuthParams> = {
  codec: authParamsCodec,
  defaults: { maxTxBytes: 65_536, maxMsgs: 32, maxMemoBytes: 256, feeBase: 1_000n, feePerByte: 10n },
  validate(p) {
    if (p.maxTxBytes < 256 || p.maxTxBytes > ABSOLUTE_MAX_TX_BYTES) {
      throw new InvalidInputError('INVALID_PARAM', `auth.maxTxBytes must be between 256 and ${ABSOLUTE_MAX_TX_BYTES}`);
    }
    if (p.maxMsgs < 1 || p.maxMsgs > MAX_MSGS) throw new InvalidInputError('INVALID_PARAM', `auth.maxMsgs must be between 1 and ${MAX_MSGS}`);
    if (p.maxMemoBytes > 1024) throw new InvalidInputError('INVALID_PARAM', 'auth.maxMemoBytes must be at most 1024');
  },
};

export function minFee(p: AuthParams, txBytes: number): bigint {
  return p.feeBase + p.feePerByte * BigInt(txBytes);
}

export const authModule: Module<null, AuthParams> = { name: 'auth', params: authParams };

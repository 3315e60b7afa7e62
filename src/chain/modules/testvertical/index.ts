/**
 * testvertical: a test vertical that exercises the narrow interfaces every vertical uses (see
 * keeper.ts).
 *
 *   testvertical/report {device, seq, pool, units, reason, signature}   anyone (the device signs)
 *   testvertical/fault {device, reason}                                  testvertical.authority only
 *
 * It registers the `double-signed-report` evidence verifier with penalties
 * (testverticalVerifiers, wired in src/chain/index.ts).
 */
import { fromHex, toHex } from '../../../core/bytes.js';
import { parseBigUint, U64_MAX } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { msg, type Module } from '../../module.js';
import type { EvidenceVerifier } from '../penalties/expected.js';
import type { TestverticalDeps } from './expected.js';
import { lastSeqOf, reportHashOf, reportTestFault, submitReport, verifyDoubleSign } from './keeper.js';
import { DOUBLE_SIGN_KIND, faultMsgCodec, reportMsgCodec, testverticalParams, type TestverticalParams } from './types.js';

export * from './types.js';
export { TestverticalErrors } from './errors.js';
export { verifyDoubleSign } from './keeper.js';
export type { TestverticalDeps } from './expected.js';

/** The evidence verifiers this vertical registers with penalties. */
export const testverticalVerifiers: ReadonlyMap<string, EvidenceVerifier> = new Map([[DOUBLE_SIGN_KIND, verifyDoubleSign]]);

function deviceArg(args: Readonly<Record<string, string>>): Uint8Array {
  const s = args.device;
  if (s === undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'missing ?device=<device public key, 64 hex characters>');
  const b = fromHex(s, 'device');
  if (b.length !== 32) throw new InvalidInputError('INVALID_ARGUMENT', `device must be 32 bytes (64 hex characters), got ${b.length} bytes`);
  return b;
}

export function testverticalModule(deps: TestverticalDeps): Module<null, TestverticalParams> {
  return {
    name: 'testvertical',
    params: testverticalParams,
    indexedAttributes: ['testvertical.report.device', 'testvertical.report.owner'],
    msgs: [
      msg('testvertical/report', reportMsgCodec, (ctx, m) => {
        submitReport(ctx, deps, m);
      }),
      msg('testvertical/fault', faultMsgCodec, (ctx, m) => reportTestFault(ctx, deps, ctx.sender as Uint8Array, m.device, m.reason)),
    ],
    queries: {
      /** ?device=<hex>[&seq=N]: the device's last accepted seq, and the hash of report N. */
      device(store, args) {
        const device = deviceArg(args);
        const last = lastSeqOf(store, device);
        const seq = args.seq === undefined ? last : parseBigUint(args.seq, U64_MAX, 'seq');
        const hash = seq === undefined ? undefined : reportHashOf(store, device, seq);
        return { device: toHex(device), lastSeq: last === undefined ? null : last.toString(), ...(seq !== undefined ? { seq: seq.toString(), reportHash: hash ? toHex(hash) : null } : {}) };
      },
    },
  };
}

/**
 * testvertical: value types, the exact bytes a device signs, and pure helpers to build and sign
 * reports and double-sign evidence (shared by the state machine, the SDK, the CLI and tests).
 */
import { concat, equals, utf8, type Bytes } from '../../../core/bytes.js';
import { decode, encode, option, string, struct, u128, u64, type Infer, enumOf } from '../../../core/codec.js';
import { address, pubKey, signature, type Signer } from '../../../core/keys.js';
import type { ParamsDef } from '../../module.js';

/** The work pools a report may credit (rewards' pools 0, 1, 2). */
export const REPORT_POOLS = ['storage', 'compute', 'coverage'] as const;
export type ReportPool = (typeof REPORT_POOLS)[number];

/** The evidence kind the test vertical verifies for the penalties module. */
export const DOUBLE_SIGN_KIND = 'double-signed-report';

/** A string enum: one byte (the value's index) in binary, the name in JSON. */

export const reportPoolCodec = enumOf('ReportPool', REPORT_POOLS);

export function isReportPool(s: string): s is ReportPool {
  return (REPORT_POOLS as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------------------------
// Parameters

export const testverticalParamsCodec = struct('TestverticalParams', {
  /**
   * The only address that may send testvertical/fault (a test-only stand-in for a vertical's
   * own fault detection). Null: nobody can.
   */
  authority: option(address),
});
export type TestverticalParams = Infer<typeof testverticalParamsCodec>;

export const testverticalParams: ParamsDef<TestverticalParams> = {
  codec: testverticalParamsCodec,
  defaults: { authority: null },
  validate() {},
};

// ---------------------------------------------------------------------------------------------
// Reports and what devices sign

/** The report as the device signs it (with the chain id, so it counts on one chain only). */
const reportBodyCodec = struct('TestReportBody', {
  chainId: string(64, 'chain id'),
  device: pubKey,
  seq: u64,
  pool: reportPoolCodec,
  units: u128,
  reason: string(32, 'reason'),
});

/** A signed report: the testvertical/report message, and the canonical encoding of a report. */
export const reportMsgCodec = struct('MsgTestReport', {
  /** The device's public key (its id). */
  device: pubKey,
  /** Strictly greater than the device's last accepted report's. */
  seq: u64,
  pool: reportPoolCodec,
  units: u128,
  /** A reason code for the reward line (e.g. "test-work"). */
  reason: string(32, 'reason'),
  /** The device's signature over reportSignBytes(chainId, report). */
  signature,
});
export type TestReport = Infer<typeof reportMsgCodec>;
export type UnsignedTestReport = Omit<TestReport, 'signature'>;

export const faultMsgCodec = struct('MsgTestFault', { device: pubKey, reason: string(32, 'reason') });
export type MsgTestFault = Infer<typeof faultMsgCodec>;

/** Double-sign evidence: two signed reports of one device with one seq and different content. */
export const doubleSignEvidenceCodec = struct('DoubleSignEvidence', { a: reportMsgCodec, b: reportMsgCodec });
export type DoubleSignEvidence = Infer<typeof doubleSignEvidenceCodec>;

export const REPORT_SIGN_DOMAIN = utf8('groundwork/testvertical/report/v1\n');

/** What a device signs: the domain, then the canonical encoding of (chain id, device, seq, pool, units, reason). */
export function reportSignBytes(chainId: string, r: UnsignedTestReport): Bytes {
  return concat(REPORT_SIGN_DOMAIN, encode(reportBodyCodec, { chainId, device: r.device, seq: r.seq, pool: r.pool, units: r.units, reason: r.reason }));
}

/** Builds and signs a report with the device key (pure). */
export function signTestReport(device: Signer, chainId: string, r: { seq: bigint; pool: ReportPool; units: bigint; reason: string }): TestReport {
  const unsigned: UnsignedTestReport = { device: Uint8Array.from(device.publicKey), seq: r.seq, pool: r.pool, units: r.units, reason: r.reason };
  return { ...unsigned, signature: device.sign(reportSignBytes(chainId, unsigned)) };
}

/** The canonical encoding of a signed report. */
export function encodeTestReport(r: TestReport): Bytes {
  return encode(reportMsgCodec, r);
}

export function decodeTestReport(b: Bytes): TestReport {
  return decode(reportMsgCodec, b);
}

/** The evidence bytes for penalties/evidence of kind double-signed-report. */
export function encodeDoubleSignEvidence(a: TestReport, b: TestReport): Bytes {
  return encode(doubleSignEvidenceCodec, { a, b }, 512);
}

/** Whether two reports say the same thing (signature aside). */
export function sameReportContent(a: UnsignedTestReport, b: UnsignedTestReport): boolean {
  return equals(a.device, b.device) && a.seq === b.seq && a.pool === b.pool && a.units === b.units && a.reason === b.reason;
}

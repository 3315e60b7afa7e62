import type { Signer } from '../../core/keys.js';
import { signTestReport as sign, type ReportPool, type TestReport } from '../../chain/modules/testvertical/types.js';

export interface SignTestReportParameters {
  chainId: string;
  /** Strictly greater than the device's last accepted report's seq. */
  seq: bigint;
  pool: ReportPool;
  units: bigint;
  /** A reason code (1-32 characters of a-z, 0-9, "_" or "-"). */
  reason: string;
}

/**
 * A test-vertical report signed by the device key (run where the device key lives); pure. Submit
 * it with submitTestReport; two different reports with one seq are double-sign evidence
 * (encodeDoubleSignEvidence).
 */
export function signTestReport(device: Signer, params: SignTestReportParameters): TestReport {
  return sign(device, params.chainId, { seq: params.seq, pool: params.pool, units: params.units, reason: params.reason });
}

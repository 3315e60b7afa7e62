import type { TestReport } from '../../chain/modules/testvertical/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type SubmitTestReportParameters = Omit<PrepareTxParameters, 'msgs'> & {
  /** The signed report (signTestReport); the tx signer may be anyone. */
  report: TestReport;
  timeoutMs?: number;
};

export interface SubmitTestReportReturnType extends SignAndSendReturnType {
  /** Units credited to the device owner after rewards' status weighting (warned devices earn less). */
  weighted: bigint;
}

/**
 * TxRejectedError / TxFailedError (testvertical.UNKNOWN_DEVICE, testvertical.BAD_SIGNATURE,
 * testvertical.REPLAYED, testvertical.DEVICE_NOT_ACTIVE, testvertical.INVALID_REPORT) / TimeoutError.
 */
export type SubmitTestReportErrorType = ClientError;

/** Submits a signed test-vertical report (`testvertical/report`): the device owner is credited. */
export async function submitTestReport(client: Client, params: SubmitTestReportParameters): Promise<SubmitTestReportReturnType> {
  const { report, ...rest } = params;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'testvertical/report', value: report }] });
  const weighted = t.events.find((e) => e.type === 'testvertical.report')?.attributes.weighted;
  return { ...t, weighted: BigInt(weighted ?? '0') };
}

import type { Bytes } from '../../core/bytes.js';
import type { Client } from '../client.js';
import { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type SubmitEvidenceParameters = Omit<PrepareTxParameters, 'msgs'> & {
  /** The evidence kind a vertical verifies, e.g. "double-signed-report". */
  kind: string;
  /** The evidence bytes (at most 8 KiB), e.g. encodeDoubleSignEvidence(a, b). */
  evidence: Bytes;
  timeoutMs?: number;
};

export interface SubmitEvidenceReturnType extends SignAndSendReturnType {
  slashId: bigint;
  /** ugw taken into the slash escrow. */
  amount: bigint;
  /** The escrow burns at the end of this block unless disputed or reversed. */
  releaseHeight: bigint;
}

/**
 * TxRejectedError / TxFailedError (penalties.UNKNOWN_EVIDENCE_KIND, penalties.INVALID_EVIDENCE,
 * penalties.EVIDENCE_USED, penalties.OFFENCE_PUNISHED, penalties.UNKNOWN_DEVICE,
 * penalties.EVIDENCE_TOO_LARGE) / TimeoutError.
 */
export type SubmitEvidenceErrorType = ClientError;

/** Submits fraud evidence (`penalties/evidence`); anyone may. Returns the slash it caused. */
export async function submitEvidence(client: Client, params: SubmitEvidenceParameters): Promise<SubmitEvidenceReturnType> {
  const { kind, evidence, ...rest } = params;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'penalties/evidence', value: { kind, evidence } }] });
  const ev = t.events.find((e) => e.type === 'penalties.slash');
  if (!ev) throw new ClientError('BAD_RESPONSE', `tx ${t.hash} succeeded but carries no penalties.slash event`);
  return { ...t, slashId: BigInt(ev.attributes.id ?? '0'), amount: BigInt(ev.attributes.amount ?? '0'), releaseHeight: BigInt(ev.attributes.releaseHeight ?? '0') };
}

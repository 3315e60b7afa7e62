import type { Bytes } from '../../core/bytes.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type DisputeSlashParameters = Omit<PrepareTxParameters, 'msgs'> & {
  id: bigint;
  /** What shows the slash is wrong (at most 8 KiB), kept with the slash for governance to read. */
  counterEvidence: Bytes;
  note?: string;
  timeoutMs?: number;
};

export interface DisputeSlashReturnType extends SignAndSendReturnType {
  /** The extended release height: a slash-reverse proposal must end before it. */
  releaseHeight: bigint;
}

/**
 * TxRejectedError / TxFailedError (penalties.SLASH_NOT_FOUND, penalties.NOT_OPERATOR,
 * penalties.ALREADY_DISPUTED, penalties.DISPUTE_CLOSED, penalties.INVALID_EVIDENCE) / TimeoutError.
 */
export type DisputeSlashErrorType = ClientError;

/**
 * The slashed operator disputes a slash (`penalties/dispute`) within its window: the slash is
 * marked disputed and its release height moves penalties.disputeExtensionBlocks later, so
 * governance can vote on reversing it.
 */
export async function disputeSlash(client: Client, params: DisputeSlashParameters): Promise<DisputeSlashReturnType> {
  const { id, counterEvidence, note, ...rest } = params;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'penalties/dispute', value: { id, counterEvidence, note: note ?? '' } }] });
  const release = t.events.find((e) => e.type === 'penalties.dispute')?.attributes.releaseHeight;
  return { ...t, releaseHeight: BigInt(release ?? '0') };
}

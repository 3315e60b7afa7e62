import type { ReceiptSig, RETRIEVAL_FAILURES } from '../../chain/modules/storage/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { num } from '../marketViews.js';
import { bytesArg, type HexOrBytes } from '../storageViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export type RetrievalFailure = (typeof RETRIEVAL_FAILURES)[number];

/** The provider's signed receipt for the leaf it served (see storage/signing.ts retrievalReceiptSignBytes). */
export interface RetrievalReceiptInput {
  /** The provider's account public key. */
  pubKey: HexOrBytes;
  signature: HexOrBytes;
  /** SHA-256 leaf hash (core/shardtree leafHash) of the leaf served. */
  leafHash: HexOrBytes;
  /** Its Merkle path to the shard's root. */
  path: HexOrBytes[];
}

export type RetrievalResultInput = { type: 'served'; value: RetrievalReceiptInput } | { type: 'failed'; value: RetrievalFailure };

export interface ReportRetrievalParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The current period (getRetrievalChecks' `period`). */
  period: bigint;
  order: bigint;
  /** served with the receipt, or failed with a reason (timeout, refused, bad-data). */
  result: RetrievalResultInput;
  timeoutMs?: number;
}

export interface ReportRetrievalReturnType extends SignAndSendReturnType {
  served: boolean;
  /** The shard checked and its provider; null for a failure on a shard no longer active (nothing counted). */
  shard: number | null;
  provider: string | null;
  /** The shard's consecutive failed checks with this one (0 when served). */
  fails: number;
  /** Whether this failure made the failures count as a fault of the provider's device (penalties). */
  faulted: boolean;
}

/**
 * TxRejectedError / TxFailedError (storage.NOT_DUE: another period, or no check of this deal
 * due (already reported?); storage.DEAL_NOT_FOUND; storage.NOT_CHECKER: the signer is neither
 * the designated checker nor the customer; storage.INVALID_RECEIPT: not signed by the shard's
 * provider, leaf hash not on the path, or signature not over this check) / TimeoutError.
 */
export type ReportRetrievalErrorType = ClientError;

/** Reports a retrieval check of the current period (`storage/retrieval-report`): served with the provider's receipt, or failed. */
export async function reportRetrieval(client: Client, p: ReportRetrievalParameters): Promise<ReportRetrievalReturnType> {
  const { period, order, result, ...rest } = p;
  const r =
    result.type === 'served'
      ? {
          type: 'served',
          value: {
            pubKey: bytesArg(result.value.pubKey, 'receipt public key'),
            signature: bytesArg(result.value.signature, 'receipt signature'),
            leafHash: bytesArg(result.value.leafHash, 'receipt leaf hash'),
            path: result.value.path.map((h) => bytesArg(h, 'receipt Merkle path')),
          } satisfies ReceiptSig,
        }
      : result;
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'storage/retrieval-report', value: { period, order, result: r } }] });
  const ev = t.events.find((e) => e.type === 'storage.retrieval.served' || e.type === 'storage.retrieval.failed');
  const faulted = t.events.some((e) => e.type.startsWith('penalties.') && e.attributes.reason === 'retrieval-failed');
  return {
    ...t,
    served: result.type === 'served',
    shard: ev ? num(ev.attributes.shard, `${ev.type}.shard`) : null,
    provider: ev?.attributes.provider ?? null,
    fails: ev?.type === 'storage.retrieval.failed' ? num(ev.attributes.fails, `${ev.type}.fails`) : 0,
    faulted,
  };
}

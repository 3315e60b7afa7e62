import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { big, num } from '../marketViews.js';
import { bytesArg, type HexOrBytes } from '../storageViews.js';
import { signAndSend, type PrepareTxParameters, type SignAndSendReturnType } from './signAndSend.js';

export interface ProofAnswer {
  order: bigint;
  shard: number;
  /** One per leaf the challenge asks, in its order: the leaf's bytes and its Merkle path to the shard's root. */
  leaves: Array<{ data: HexOrBytes; path: HexOrBytes[] }>;
}

export interface ProveStorageParameters extends Omit<PrepareTxParameters, 'msgs'> {
  /** The current period (getStorageChallenges' `period`); answers are due before its deadline. */
  period: bigint;
  /** Every challenge answered, each once (1–64). */
  proofs: ProofAnswer[];
  timeoutMs?: number;
}

export interface ProofResult {
  order: bigint;
  shard: number;
  /** verified: the miss count resets and the work counts; forged: fraud, the shard is lost. */
  verdict: 'verified' | 'forged';
  /** Work units recorded (MiB of the shard); 0 when forged. */
  units: bigint;
  /** Whether the storage reward pool took the work this epoch. */
  rewarded: boolean;
}

export interface ProveStorageReturnType extends SignAndSendReturnType {
  verified: number;
  forged: number;
  results: ProofResult[];
}

/**
 * TxRejectedError / TxFailedError (storage.NOT_DUE: another period, or a challenge not due
 * from the signer or already answered; storage.MALFORMED_PROOF: no answers, one answered
 * twice, the wrong number of leaves; storage.DEAL_NOT_FOUND) / TimeoutError. A wrong answer of
 * the right shape is no error: it is forged (see `results`), and punished.
 */
export type ProveStorageErrorType = ClientError;

/** Answers the signer's storage challenges of the current period (`storage/prove`), checked on chain against each shard's root. */
export async function proveStorage(client: Client, p: ProveStorageParameters): Promise<ProveStorageReturnType> {
  const { period, proofs, ...rest } = p;
  const value = {
    period,
    proofs: proofs.map((x) => ({
      order: x.order,
      shard: x.shard,
      leaves: x.leaves.map((l, i) => ({ data: bytesArg(l.data, `leaf ${i} of deal ${x.order} shard ${x.shard}`), path: l.path.map((h) => bytesArg(h, `Merkle path of deal ${x.order} shard ${x.shard}`)) })),
    })),
  };
  const t = await signAndSend(client, { ...rest, msgs: [{ type: 'storage/prove', value }] });
  const results: ProofResult[] = [];
  for (const e of t.events) {
    if (e.type !== 'storage.proof.verified' && e.type !== 'storage.proof.forged') continue;
    const a = e.attributes;
    const verified = e.type === 'storage.proof.verified';
    results.push({
      order: big(a.order, `${e.type}.order`),
      shard: num(a.shard, `${e.type}.shard`),
      verdict: verified ? 'verified' : 'forged',
      units: verified ? big(a.units ?? '0', `${e.type}.units`) : 0n,
      rewarded: verified && a.rewarded === 'yes',
    });
  }
  const verified = results.filter((r) => r.verdict === 'verified').length;
  return { ...t, verified, forged: results.length - verified, results };
}

/**
 * The storage prover: answers the chain's storage challenges and does the retrieval checks the
 * chain designates this provider for.
 *
 * Every `pollMs` it asks the node what is due (the challenges of the latest period still
 * unanswered, the retrieval checks it may report) and:
 *   - proves: reads each challenged leaf and its Merkle path from the shard store, checks the
 *     answer against the shard's root itself (a leaf that does not verify is never sent: a
 *     wrong answer is punished as fraud, a missing one only as a fault), and sends the answers
 *     in as few `storage/prove` txs as fit the size limit;
 *   - checks: fetches the drawn leaf from the checked provider over HTTP, verifies it and its
 *     signed receipt, and reports `served` with the receipt or `failed` with the reason.
 * Txs go through `send`, which the agent runs on its serial queue (one account sequence).
 *
 * Log lines (reason-coded):
 *   proved period=7 shards=3 txs=1
 *   proof-unavailable period=7 order=4 shard=1 reason=SHARD_NOT_FOUND
 *   retrieval-checked period=7 order=4 provider=gw1… result=served|timeout|refused|bad-data
 */
import { errorMessage, GroundworkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { LEAF_SIZE, leafHash, verifyLeaf } from '../core/shardtree.js';
import type { DecodedMsg } from '../chain/tx.js';
import type { RetrievalChecks, StorageChallenges } from '../client/storageViews.js';
import { fetchLeaf, ProviderHttpError } from '../storage/http.js';
import type { SentTx } from './chain.js';
import type { ShardStore } from './storage/store.js';

export interface ProverChain {
  chainId(): Promise<string>;
  /** The challenges due from `provider` in the latest period. */
  challenges(provider: string): Promise<StorageChallenges>;
  /** The retrieval checks `checker` may report in the latest period. */
  retrievals(checker: string): Promise<RetrievalChecks>;
  /** A provider's registered host URI (null: not registered). */
  hostOf(provider: string): Promise<string | null>;
  /** Signs and sends (on the agent's queue). */
  send(msgs: DecodedMsg[]): Promise<SentTx>;
}

export interface ProverOptions {
  /** The operator's address (bech32). */
  address: string;
  store: ShardStore;
  chain: ProverChain;
  log: Logger;
  pollMs?: number;
  /** Largest proof tx to build (bytes); the chain's auth.maxTxBytes default is 65,536. */
  maxTxBytes?: number;
  /** How long a checked provider has to serve a leaf. */
  retrievalTimeoutMs?: number;
  onProved?(period: bigint, count: number): void;
}

type FailedReason = 'timeout' | 'refused' | 'bad-data';

/** Why a retrieval failed, in the chain's words. */
export function retrievalFailure(e: unknown): FailedReason {
  if (e instanceof ProviderHttpError) {
    if (e.code === 'PROVIDER_TIMEOUT') return 'timeout';
    if (e.code === 'BAD_RESPONSE') return 'bad-data';
  }
  return 'refused';
}

interface Answer {
  order: bigint;
  shard: number;
  leaves: { data: Uint8Array; path: Uint8Array[] }[];
}

/** Encoded size of an answer in a storage/prove message, with room for the framing. */
function answerBytes(a: Answer): number {
  return 16 + a.leaves.reduce((n, l) => n + LEAF_SIZE + 8 + 32 * l.path.length, 0);
}

export class StorageProver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** (period/order/shard) already found unprovable, and retrieval checks done, by period. */
  private readonly unprovable = new Set<string>();
  private readonly checked = new Set<string>();
  private period = -1n;

  constructor(private readonly opts: ProverOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.opts.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round: prove what is due, then do the retrieval checks. Never throws (logs). */
  async tick(): Promise<void> {
    const { log } = this.opts;
    try {
      await this.prove();
    } catch (e) {
      log.warn('prove-failed', { error: errorMessage(e) });
    }
    try {
      await this.checkRetrievals();
    } catch (e) {
      log.warn('retrieval-check-failed', { error: errorMessage(e) });
    }
  }

  private newPeriod(period: bigint): void {
    if (period === this.period) return;
    this.period = period;
    this.unprovable.clear();
    this.checked.clear();
  }

  private async prove(): Promise<void> {
    const { chain, store, log, address } = this.opts;
    const due = await chain.challenges(address);
    this.newPeriod(due.period);
    const answers: Answer[] = [];
    for (const c of due.challenges) {
      const tag = `${c.order}/${c.shard}`;
      if (this.unprovable.has(tag)) continue;
      try {
        const leaves: Answer['leaves'] = [];
        for (const i of c.leaves) {
          const p = await store.proveLeaf(c.root, i);
          if (!verifyLeaf(p.data, i, c.leafCount, p.proof, c.root)) throw new GroundworkError('SHARD_CORRUPT', `leaf ${i} does not verify against the shard's root`);
          leaves.push({ data: p.data, path: p.proof });
        }
        answers.push({ order: c.order, shard: c.shard, leaves });
      } catch (e) {
        this.unprovable.add(tag);
        const reason = (e as { code?: string }).code ?? 'SHARD_CORRUPT';
        log.warn('proof-unavailable', { period: due.period, order: c.order, shard: c.shard, reason, detail: errorMessage(e) });
      }
    }
    if (answers.length === 0) return;
    const limit = (this.opts.maxTxBytes ?? 60_000) - 1_024;
    const batches: Answer[][] = [[]];
    let size = 0;
    for (const a of answers) {
      const n = answerBytes(a);
      const cur = batches[batches.length - 1] as Answer[];
      if (cur.length > 0 && (size + n > limit || cur.length >= 64)) {
        batches.push([a]);
        size = n;
      } else {
        cur.push(a);
        size += n;
      }
    }
    for (const b of batches) await chain.send([{ type: 'storage/prove', value: { period: due.period, proofs: b } }]);
    log.info('proved', { period: due.period, shards: answers.length, txs: batches.length });
    this.opts.onProved?.(due.period, answers.length);
  }

  private async checkRetrievals(): Promise<void> {
    const { chain, log, address } = this.opts;
    const due = await chain.retrievals(address);
    this.newPeriod(due.period);
    for (const c of due.checks) {
      const tag = `${c.order}`;
      if (this.checked.has(tag) || c.provider === address) continue;
      this.checked.add(tag);
      let result: { type: 'served'; value: { pubKey: Uint8Array; signature: Uint8Array; leafHash: Uint8Array; path: Uint8Array[] } } | { type: 'failed'; value: FailedReason };
      try {
        const host = await chain.hostOf(c.provider);
        if (!host) throw new ProviderHttpError('PROVIDER_UNREACHABLE', `${c.provider} has no registered host`, c.provider);
        const r = await fetchLeaf(host, c.root, c.leaf, c.nonce, {
          chainId: await chain.chainId(),
          expectedProvider: c.provider,
          leafCount: c.leafCount,
          timeoutMs: this.opts.retrievalTimeoutMs ?? 10_000,
        });
        result = { type: 'served', value: { pubKey: r.receipt.pubKey, signature: r.receipt.signature, leafHash: leafHash(r.data), path: r.proof } };
      } catch (e) {
        result = { type: 'failed', value: retrievalFailure(e) };
        log.warn('retrieval-fetch-failed', { period: due.period, order: c.order, provider: c.provider, detail: errorMessage(e) });
      }
      await chain.send([{ type: 'storage/retrieval-report', value: { period: due.period, order: c.order, result } }]);
      log.info('retrieval-checked', { period: due.period, order: c.order, shard: c.shard, provider: c.provider, result: result.type === 'served' ? 'served' : result.value });
    }
  }
}

/**
 * The mempool admits only txs that would execute: well-formed, under the size limit, for this
 * chain, correctly signed, with the next sequence of their account, a sufficient fee and funds
 * for everything they do (they run against the check state: committed state plus every tx
 * already admitted). Each rejection is a specific error.
 *
 * Admission is a pipeline: decode and cheap checks on arrival, signatures verified in batches
 * on the worker pool, then the stateful check, strictly in arrival order (a later batch waits
 * for an earlier one), so txs from one account can be sent back to back.
 *
 * Txs leave in arrival order (FIFO). After each block the check state is rebuilt from the new
 * committed state. A remaining tx that would read the same values as when it was admitted is
 * still admissible: its recorded writes are replayed; only the others are re-checked
 * (signatures are never verified twice). Admission never credits third parties (fees,
 * recipients), so pending txs rarely depend on each other.
 */
import { toHex, type Bytes } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import type { App, CheckTrace, TxResult } from '../chain/app.js';
import { MempoolErrors, TxErrors } from '../chain/errors.js';
import { ABSOLUTE_MAX_TX_BYTES, type DecodedTx } from '../chain/tx.js';
import type { SignatureVerifier } from './sigpool.js';

export interface MempoolEntry {
  readonly hash: Bytes;
  readonly key: string;
  readonly bytes: Bytes;
  readonly decoded: DecodedTx;
  /** What its admission read and wrote in the check state. */
  trace: CheckTrace | undefined;
}

export interface SubmitResult {
  /** Tx hash, upper-case hex (empty if the bytes could not even be hashed). */
  readonly hash: string;
  readonly code: number;
  readonly codespace: string;
  readonly error: string;
  readonly log: string;
}

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 100_000, maxBytes: 128 << 20 };

function failure(hash: string, e: ChainError): SubmitResult {
  return { hash, code: e.abciCode, codespace: e.codespace, error: e.kind, log: e.message };
}

function asError(r: TxResult): ChainError {
  return new ChainError(r.codespace, r.code, r.error, r.log);
}

function fromResult(hash: string, r: TxResult): SubmitResult {
  return { hash, code: r.code, codespace: r.codespace, error: r.error, log: r.log };
}

export class Mempool {
  /** Insertion-ordered: iteration is FIFO. */
  private readonly entries = new Map<string, MempoolEntry>();
  private bytes = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly app: App,
    private readonly verifier: SignatureVerifier,
    private readonly isCommitted: (hash: Bytes) => boolean,
    private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  has(hashHex: string): boolean {
    return this.entries.has(hashHex);
  }

  /** Checks and admits txs; one result per input, in order. */
  async submit(txs: readonly Bytes[]): Promise<SubmitResult[]> {
    const results: (SubmitResult | undefined)[] = new Array(txs.length);
    const candidates: { i: number; d: DecodedTx; key: string }[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < txs.length; i++) {
      const bytes = txs[i] as Bytes;
      if (bytes.length > ABSOLUTE_MAX_TX_BYTES) {
        results[i] = failure('', TxErrors.TX_TOO_LARGE(`tx is ${bytes.length} bytes`));
        continue;
      }
      let d: DecodedTx;
      try {
        d = this.app.decode(bytes);
      } catch (e) {
        if (!(e instanceof ChainError)) throw e;
        results[i] = failure('', e);
        continue;
      }
      const key = toHex(d.hash).toUpperCase();
      if (this.entries.has(key) || seen.has(key)) {
        results[i] = failure(key, MempoolErrors.DUPLICATE(`tx ${key} is already in the mempool`));
        continue;
      }
      seen.add(key);
      candidates.push({ i, d, key });
    }
    const sigs = this.verifier.verify(
      candidates.map(({ d }) => ({ publicKey: d.tx.body.signer, message: d.signBytes, signature: d.tx.signature })),
    );
    // Stateful checks run in arrival order across concurrent submissions.
    const prev = this.tail;
    const done = (async () => {
      const valid = await sigs.catch(() => candidates.map(() => false));
      await prev;
      candidates.forEach(({ i, d, key }, n) => {
        if (!valid[n]) {
          results[i] = failure(key, TxErrors.BAD_SIGNATURE('signature does not verify: the tx was altered after signing or signed with another key'));
          return;
        }
        results[i] = this.admit(d, key);
      });
    })();
    this.tail = done.catch(() => undefined);
    await done;
    return results as SubmitResult[];
  }

  private admit(d: DecodedTx, key: string): SubmitResult {
    if (this.entries.has(key)) return failure(key, MempoolErrors.DUPLICATE(`tx ${key} is already in the mempool`));
    if (this.entries.size >= this.limits.maxTxs || this.bytes + d.bytes.length > this.limits.maxBytes) {
      return failure(key, MempoolErrors.FULL(`mempool is full (${this.entries.size} txs, ${this.bytes} bytes); retry after the next block`));
    }
    const r = this.app.checkTx({ bytes: d.bytes, decoded: d, signatureChecked: true }, { trace: true });
    if (r.code !== 0) {
      // A reused sequence is most often a resubmitted tx: say so when it is in a block already.
      if (TxErrors.SEQUENCE_REUSED.is(asError(r)) && this.isCommitted(d.hash)) {
        return failure(key, MempoolErrors.ALREADY_COMMITTED(`tx ${key} is already in a block; query it with "groundwork query tx ${key}"`));
      }
      return fromResult(key, r);
    }
    this.entries.set(key, { hash: d.hash, key, bytes: d.bytes, decoded: d, trace: r.trace });
    this.bytes += d.bytes.length;
    return fromResult(key, r);
  }

  /** Oldest txs first, within the block limits. They stay in the mempool until `update`. */
  reap(maxBytes: number, maxTxs: number): MempoolEntry[] {
    const out: MempoolEntry[] = [];
    let bytes = 0;
    for (const e of this.entries.values()) {
      if (out.length >= maxTxs || bytes + e.bytes.length > maxBytes) break;
      out.push(e);
      bytes += e.bytes.length;
    }
    return out;
  }

  /**
   * After a block is committed (app.committed() started a fresh check state from it): drop its
   * txs, then rebuild the check state from what is left, in order. A tx whose admission read
   * the same values it would read now is still admissible as it was: its recorded writes are
   * replayed. The others are re-checked (never their signatures) and evicted if they no longer
   * apply.
   */
  update(committed: readonly MempoolEntry[]): { evicted: number; rechecked: number } {
    for (const e of committed) {
      if (this.entries.delete(e.key)) this.bytes -= e.bytes.length;
    }
    let evicted = 0;
    let rechecked = 0;
    for (const e of [...this.entries.values()]) {
      if (e.trace && this.app.replayCheck(e.trace)) continue;
      rechecked++;
      const r = this.app.checkTx({ bytes: e.bytes, decoded: e.decoded, signatureChecked: true }, { trace: true });
      if (r.code !== 0) {
        this.entries.delete(e.key);
        this.bytes -= e.bytes.length;
        evicted++;
        continue;
      }
      e.trace = r.trace;
    }
    return { evicted, rechecked };
  }
}

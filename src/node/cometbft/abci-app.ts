/**
 * The Groundwork state machine as an ABCI 2.0 application (CometBFT v0.38). The same `App` the
 * embedded node runs; this file only translates.
 *
 * - Two state views: CheckTx runs on the app's check state (committed state + admitted txs),
 *   FinalizeBlock on a fresh overlay of the committed state; Commit persists and switches.
 * - Signatures are verified once per process: CheckTx verifies on the worker pool and
 *   remembers the tx hash; FinalizeBlock (and rechecks) skip txs already verified and verify
 *   the rest in one parallel batch.
 * - FinalizeBlock does not persist; Commit does (one LMDB transaction), so Info always reports
 *   a height whose state is on disk, and CometBFT's handshake replays whatever is missing.
 * - FinalizeBlock returns, as validator updates, the difference between the app's validator set
 *   before and after the block (staking changes it); CometBFT applies them at height + 2.
 * - Query "/state" (data = raw key, height 0 = latest) returns the value and a Merkle proof
 *   (op type "groundwork/jmt") against the app hash of that height, which CometBFT puts in the
 *   header of the next height.
 */
import type {
  Event as AbciEvent,
  ExecTxResult,
  RequestCheckTx,
  RequestFinalizeBlock,
  RequestInfo,
  RequestInitChain,
  RequestPrepareProposal,
  RequestProcessProposal,
  RequestQuery,
  ResponseCheckTx,
  ResponseCommit,
  ResponseFinalizeBlock,
  ResponseInfo,
  ResponseInitChain,
  ResponsePrepareProposal,
  ResponseProcessProposal,
  ResponseQuery,
  ValidatorUpdate,
} from 'cosmjs-types/tendermint/abci/types';
import { CheckTxType, ResponseProcessProposal_ProposalStatus } from 'cosmjs-types/tendermint/abci/types';
import { equals, fromHex, toHex } from '../../core/bytes.js';
import { ChainError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import { addressFromPublicKey } from '../../core/keys.js';
import type { Logger } from '../../core/log.js';
import type { App, BlockTx } from '../../chain/app.js';
import { TxErrors } from '../../chain/errors.js';
import { parseGenesis } from '../../chain/genesis.js';
import { getParams } from '../../chain/module.js';
import { authParams } from '../../chain/modules/auth/index.js';
import { standardModules } from '../../chain/index.js';
import type { Event } from '../../chain/events.js';
import type { DecodedTx } from '../../chain/tx.js';
import type { Validator } from '../../chain/validators.js';
import { encodeProof } from '../../state/proof.js';
import type { StateStore } from '../../state/store.js';
import type { SigItem, SignatureVerifier } from '../sigpool.js';
import { VERSION } from '../../version.js';

/** Bounded set of tx hashes whose signature this process has verified as valid. */
class VerifiedSet {
  private young = new Set<string>();
  private old = new Set<string>();
  constructor(private readonly limit: number) {}
  has(k: string): boolean {
    return this.young.has(k) || this.old.has(k);
  }
  add(k: string): void {
    this.young.add(k);
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Set();
    }
  }
}

/** Only the attributes modules declare worth an index are marked for CometBFT's tx indexer. */
function abciEvents(indexed: ReadonlySet<string>): (e: Event) => AbciEvent {
  return (e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: indexed.has(`${e.type}.${a.key}`) })) });
}

function timestampMs(t: { seconds: bigint; nanos: number } | undefined): bigint {
  return t ? t.seconds * 1000n + BigInt(Math.floor(t.nanos / 1e6)) : 0n;
}

/** Protobuf size CometBFT counts for a tx inside a block's data (field tag + varint length). */
function protoTxSize(n: number): number {
  let v = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 128)) v++;
  return 1 + v + n;
}

/**
 * Collects single signature checks made in the same event-loop turn (CometBFT pipelines many
 * CheckTx requests per TCP read) into one batch for the worker pool: one message round trip per
 * batch instead of per tx.
 */
class BatchingVerifier {
  private queue: Array<{ item: SigItem; resolve: (ok: boolean) => void }> = [];
  constructor(private readonly inner: SignatureVerifier) {}
  verifyOne(item: SigItem): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ item, resolve });
    });
  }
  private flush(): void {
    const q = this.queue;
    this.queue = [];
    this.inner.verify(q.map((x) => x.item)).then(
      (r) => q.forEach((x, i) => x.resolve(r[i] === true)),
      () => q.forEach((x) => x.resolve(false)),
    );
  }
}

/**
 * What CometBFT must change to go from validator set `before` to `after`: every key whose power
 * changed or that is new, with its new power, and every key that left, with power 0 (sorted by
 * key, so every node returns the same list). CometBFT applies them at height + 2.
 */
export function validatorUpdates(before: readonly Validator[], after: readonly Validator[]): ValidatorUpdate[] {
  const old = new Map(before.map((v) => [toHex(v.pubKey), v.power]));
  const now = new Map(after.map((v) => [toHex(v.pubKey), v.power]));
  const out: Array<[string, bigint]> = [];
  for (const [k, p] of now) if (old.get(k) !== p) out.push([k, p]);
  for (const k of old.keys()) if (!now.has(k)) out.push([k, 0n]);
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return out.map(([k, power]) => ({ pubKey: { ed25519: fromHex(k) }, power }));
}

/** The answer to every accepted CheckTx (one shared object, so the server can reuse its bytes). */
export const CHECK_TX_OK: ResponseCheckTx = Object.freeze({ code: 0, data: new Uint8Array(0), log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: '' });

export interface AbciAppOptions {
  readonly app: App;
  readonly store: StateStore;
  readonly verifier: SignatureVerifier;
  readonly logger: Logger;
}

export class AbciApp {
  private readonly app: App;
  private readonly store: StateStore;
  private readonly verifier: SignatureVerifier;
  private readonly log: Logger;
  private readonly verified = new VerifiedSet(100_000);
  /**
   * Txs decoded by CheckTx, by SHA-256 of their bytes: ProcessProposal, FinalizeBlock and
   * rechecks see the same bytes again and skip decoding (two generations, bounded).
   */
  private decodedYoung = new Map<string, DecodedTx>();
  private decodedOld = new Map<string, DecodedTx>();
  private readonly batcher: BatchingVerifier;
  /** Stateful CheckTx steps run in arrival order even though signature checks overlap. */
  private checkTail: Promise<unknown> = Promise.resolve();
  private chainIdValue: string | undefined;
  private readonly toAbciEvent: (e: Event) => AbciEvent;

  constructor(o: AbciAppOptions) {
    this.app = o.app;
    this.store = o.store;
    this.verifier = o.verifier;
    this.batcher = new BatchingVerifier(o.verifier);
    this.toAbciEvent = abciEvents(new Set(['tx.signer', ...o.app.modules.flatMap((m) => m.indexedAttributes ?? [])]));
    this.log = o.logger;
  }

  info(_req: RequestInfo): ResponseInfo {
    const h = this.store.version;
    return {
      data: 'groundwork',
      version: VERSION,
      appVersion: 1n,
      lastBlockHeight: BigInt(Math.max(0, h)),
      lastBlockAppHash: h > 0 ? this.store.rootHash : new Uint8Array(0),
    };
  }

  async initChain(req: RequestInitChain): Promise<ResponseInitChain> {
    const g = parseGenesis(JSON.parse(Buffer.from(req.appStateBytes).toString('utf8')) as unknown, standardModules());
    if (g.chainId !== req.chainId) {
      throw new ChainError('abci', 1, 'CHAIN_ID_MISMATCH', `app_state is for chain "${g.chainId}" but CometBFT's genesis says "${req.chainId}"`);
    }
    // CometBFT's genesis validators and the app's must be the same set with the same powers.
    const comet = new Map(req.validators.map((v) => [toHex(v.pubKey.ed25519 ?? new Uint8Array(0)), v.power]));
    const ours = new Map(g.validators.map((v) => [toHex(v.pubKey), v.power]));
    const same = comet.size === ours.size && [...ours].every(([k, p]) => comet.get(k) === p);
    if (!same) throw new ChainError('abci', 2, 'VALIDATOR_MISMATCH', "the validators in app_state differ from CometBFT's genesis validators");
    if (this.store.version >= 0) {
      // Already initialized (a crash between our write and CometBFT's): same genesis, same hash.
      return { validators: [], appHash: this.store.rootHashAt(0) ?? new Uint8Array(0) };
    }
    const appHash = await this.app.initChain(g);
    this.chainIdValue = g.chainId;
    this.log.info('initialized chain from genesis', { chainId: g.chainId, appHash: toHex(appHash).toUpperCase() });
    return { validators: [], appHash };
  }

  /**
   * Decodes (or recalls) a tx; throws the decode error as a ChainError. The size limit is checked
   * every time against the committed parameters, so a recalled tx is judged like a fresh one.
   */
  private decode(tx: Uint8Array): DecodedTx {
    const max = getParams(this.app.state, 'auth', authParams).maxTxBytes;
    if (tx.length > max) throw TxErrors.TX_TOO_LARGE(`tx is ${tx.length} bytes, the limit is ${max}`);
    const k = sha256(tx);
    const ks = toHex(k);
    const hit = this.decodedYoung.get(ks) ?? this.decodedOld.get(ks);
    if (hit) return hit;
    const d = this.app.decode(tx);
    this.decodedYoung.set(ks, d);
    if (this.decodedYoung.size >= 20_000) {
      this.decodedOld = this.decodedYoung;
      this.decodedYoung = new Map();
    }
    return d;
  }

  private get chainId(): string {
    this.chainIdValue ??= this.app.chainId;
    return this.chainIdValue;
  }

  /** Returns the CheckTx answer; txs arriving together have their signatures checked in parallel. */
  checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    let decoded: DecodedTx | undefined;
    let failure: ResponseCheckTx | undefined;
    try {
      decoded = this.decode(req.tx);
    } catch (e) {
      failure = this.errorResponse(e);
    }
    const key = decoded ? toHex(decoded.hash) : '';
    const known = decoded !== undefined && this.verified.has(key);
    const sig =
      decoded && !known
        ? this.batcher.verifyOne({ publicKey: decoded.tx.body.signer, message: decoded.signBytes, signature: decoded.tx.signature })
        : Promise.resolve(known);
    const prev = this.checkTail;
    const run = (async (): Promise<ResponseCheckTx> => {
      const ok = await sig.catch(() => false);
      await prev;
      if (failure || !decoded) return failure as ResponseCheckTx;
      if (ok) this.verified.add(key);
      // A tx whose signature failed runs with signatureChecked=false, so ante reports BAD_SIGNATURE.
      const r = this.app.checkTx({ bytes: req.tx, decoded, signatureChecked: ok });
      if (r.code === 0) return CHECK_TX_OK;
      if (req.type === CheckTxType.RECHECK) this.log.debug('recheck evicted a tx', { hash: key, error: r.error });
      return { code: r.code, data: new Uint8Array(0), log: r.log, info: r.error, gasWanted: 0n, gasUsed: 0n, events: [], codespace: r.codespace };
    })();
    this.checkTail = run.catch(() => undefined);
    return run;
  }

  private errorResponse(e: unknown): ResponseCheckTx {
    if (e instanceof ChainError) return { code: e.abciCode, data: new Uint8Array(0), log: e.message, info: e.kind, gasWanted: 0n, gasUsed: 0n, events: [], codespace: e.codespace };
    throw e;
  }

  prepareProposal(req: RequestPrepareProposal): ResponsePrepareProposal {
    const txs: Uint8Array[] = [];
    let size = 0;
    for (const tx of req.txs) {
      const n = protoTxSize(tx.length);
      if (size + n > Number(req.maxTxBytes)) break;
      size += n;
      txs.push(tx);
    }
    return { txs };
  }

  /** Deterministic: accept exactly when every tx decodes (invalid-but-decodable txs fail in FinalizeBlock). */
  processProposal(req: RequestProcessProposal): ResponseProcessProposal {
    for (const tx of req.txs) {
      try {
        this.decode(tx);
      } catch {
        return { status: ResponseProcessProposal_ProposalStatus.REJECT };
      }
    }
    return { status: ResponseProcessProposal_ProposalStatus.ACCEPT };
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    const decoded: (DecodedTx | undefined)[] = req.txs.map((tx) => {
      try {
        return this.decode(tx);
      } catch {
        return undefined;
      }
    });
    // Verify, in one parallel batch, the signatures this process has not seen yet.
    const unseen: number[] = [];
    decoded.forEach((d, i) => {
      if (d && !this.verified.has(toHex(d.hash))) unseen.push(i);
    });
    const ok = await this.verifier.verify(
      unseen.map((i) => {
        const d = decoded[i] as DecodedTx;
        return { publicKey: d.tx.body.signer, message: d.signBytes, signature: d.tx.signature };
      }),
    );
    unseen.forEach((i, n) => {
      if (ok[n]) this.verified.add(toHex((decoded[i] as DecodedTx).hash));
    });
    const txs: BlockTx[] = req.txs.map((bytes, i) => {
      const d = decoded[i];
      return d ? { bytes, decoded: d, signatureChecked: this.verified.has(toHex(d.hash)) } : { bytes };
    });
    const proposer = this.app.validators().find((v) => equals(addressFromPublicKey(v.pubKey), req.proposerAddress))?.pubKey ?? new Uint8Array(32);
    const res = this.app.finalizeBlock({ chainId: this.chainId, height: req.height, time: timestampMs(req.time), proposer }, txs);
    const txResults: ExecTxResult[] = res.txResults.map((r) => ({
      code: r.code,
      data: new Uint8Array(0),
      log: r.log,
      info: r.error,
      gasWanted: 0n,
      gasUsed: 0n,
      events: r.events.map(this.toAbciEvent),
      codespace: r.codespace,
    }));
    // The app's committed set is still the one before this block (nothing is committed yet).
    const updates = res.validators ? validatorUpdates(this.app.validators(), res.validators) : [];
    if (updates.length > 0) this.log.info('validator set changes (CometBFT applies them at height + 2)', { height: res.height, updates: updates.length });
    return {
      events: [...res.beginEvents, ...res.endEvents].map(this.toAbciEvent),
      txResults,
      validatorUpdates: updates,
      appHash: res.appHash,
    };
  }

  async commit(): Promise<ResponseCommit> {
    await this.store.db.write(this.app.commitOps());
    this.app.committed();
    return { retainHeight: 0n };
  }

  query(req: RequestQuery): ResponseQuery {
    const height = req.height === 0n ? this.store.version : Number(req.height);
    const base = { code: 0, log: '', info: '', index: 0n, key: req.data, value: new Uint8Array(0), height: BigInt(height), codespace: '' };
    if (req.path !== '/state') return { ...base, code: 1, codespace: 'abci', log: `unknown query path "${req.path}"; use "/state" with the raw key as data` };
    const p = this.store.proveAt(req.data, height);
    if (!p) return { ...base, code: 2, codespace: 'abci', log: `height ${height} is not available (pruned or in the future)` };
    return {
      ...base,
      value: p.value ?? new Uint8Array(0),
      info: p.value === null ? 'absent' : 'present',
      proofOps: { ops: [{ type: 'groundwork/jmt', key: sha256(req.data), data: encodeProof(p.proof) }] },
    };
  }
}

/**
 * The deterministic state machine. The embedded node and the CometBFT ABCI server drive the
 * same App through the same calls:
 *
 *   initChain(genesis)            → state version 0 and its app hash
 *   checkTx(tx)                   → admit to the mempool or say why not (runs on a check state)
 *   finalizeBlock(block, txs)     → one result per tx, block events, the new app hash
 *   commit()                      → persist (with any block-store writes, atomically)
 *   query(key, height)            → value + Merkle proof against that height's app hash
 *
 * Everything here is synchronous and depends only on state and the block: no clock, no
 * randomness, no I/O besides the store.
 */
import { equals, type Bytes } from '../core/bytes.js';
import { decode, encode, string } from '../core/codec.js';
import { ChainError, CodecError, InvariantError } from '../core/errors.js';
import type { WriteOp } from '../state/db.js';
import { Overlay, type KVReader } from '../state/overlay.js';
import type { PreparedCommit, StateStore } from '../state/store.js';
import { ante } from './ante.js';
import { Context, type Artifact, type BlockInfo } from './context.js';
import { TxErrors } from './errors.js';
import type { Event } from './events.js';
import type { Genesis } from './genesis.js';
import { CHAIN_ID_KEY, VALIDATORS_KEY } from './keys.js';
import { getParams, setParams, type MsgHandler, type Module } from './module.js';
import { authParams } from './modules/auth/index.js';
import { decodeTx, type DecodedTx, type MsgRegistry } from './tx.js';
import { getValidators, setValidators, validatorSetCodec, type Validator } from './validators.js';

export interface TxResult {
  /** 0 on success; otherwise the error code within `codespace`. */
  readonly code: number;
  readonly codespace: string;
  /** The error kind (e.g. INSUFFICIENT_FUNDS), empty on success. */
  readonly error: string;
  readonly log: string;
  readonly events: Event[];
}

export interface BlockTx {
  readonly bytes: Bytes;
  /** Already decoded by the caller (saves decoding twice). */
  readonly decoded?: DecodedTx | undefined;
  /** The caller verified the signature already (e.g. in the mempool's worker pool). */
  readonly signatureChecked?: boolean | undefined;
}

export interface BlockResult {
  readonly height: number;
  readonly txResults: TxResult[];
  readonly beginEvents: Event[];
  readonly endEvents: Event[];
  readonly appHash: Bytes;
  /** The validator set after this block, present only when the block changed it (staking). */
  readonly validators?: Validator[] | undefined;
}

/** What an admitted tx touched in the check state (see Mempool.update). */
export interface CheckTrace {
  /** Each key the tx read from outside itself, with the value it saw (null: absent). */
  readonly reads: ReadonlyMap<string, Bytes | null>;
  readonly writes: ReadonlyMap<string, Bytes | null>;
  /** The result depended on the block's height, time or proposer. */
  readonly usedBlock: boolean;
}

export interface CheckResult extends TxResult {
  readonly tx?: DecodedTx;
  readonly trace?: CheckTrace;
}

export type InternalErrorHook = (e: unknown, where: string) => void;

const OK_CODESPACE = '';
const ZERO_KEY = new Uint8Array(32);
/** Entries of the check state's read cache carried from block to block, at most. */
const READ_CACHE_LIMIT = 100_000;

function resultOf(e: unknown, events: Event[], onInternal: InternalErrorHook | undefined, where: string): TxResult {
  if (e instanceof ChainError) return { code: e.abciCode, codespace: e.codespace, error: e.kind, log: e.message, events };
  // Not a ChainError: a bug. Same code on every node keeps it deterministic; the hook logs it.
  onInternal?.(e, where);
  const err = TxErrors.INTERNAL(`internal error: ${e instanceof Error ? e.message : String(e)}`);
  return { code: err.abciCode, codespace: err.codespace, error: err.kind, log: err.message, events };
}

export class App implements MsgRegistry {
  private readonly handlers = new Map<string, MsgHandler<unknown>>();
  private checkState: Overlay;
  private pending: { info: BlockInfo; prepared: PreparedCommit; artifacts: Artifact[] } | undefined;
  private _chainId: string | undefined;
  /** Called with bugs caught while running a tx (they become INTERNAL results). */
  onInternalError: InternalErrorHook | undefined;
  /** Time of the last committed block (the node sets it on start); check mode runs "as of" it. */
  lastBlockTime = 0n;

  constructor(
    readonly store: StateStore,
    readonly modules: readonly Module[],
  ) {
    for (const m of modules) {
      for (const h of m.msgs ?? []) {
        if (this.handlers.has(h.type)) throw new InvariantError(`message type ${h.type} registered twice`);
        this.handlers.set(h.type, h as MsgHandler<unknown>);
      }
    }
    this.checkState = new Overlay(store, { cacheReads: true });
  }

  msgType(type: string): MsgHandler<unknown> | undefined {
    return this.handlers.get(type);
  }

  /** Height of the last committed block (0 after genesis, -1 before). */
  get height(): number {
    return this.store.version;
  }

  get appHash(): Bytes {
    return this.store.rootHash;
  }

  get chainId(): string {
    if (this._chainId === undefined) {
      const b = this.store.get(CHAIN_ID_KEY);
      if (!b) throw new InvariantError('chain not initialized (no genesis)');
      this._chainId = decode(string(64), b);
    }
    return this._chainId;
  }

  /** Committed state (latest height), for reads outside consensus. */
  get state(): KVReader {
    return this.store;
  }

  validators(): Validator[] {
    return getValidators(this.store);
  }

  /** Writes the genesis state as version 0. */
  async initChain(g: Genesis, extra: WriteOp[] = []): Promise<Bytes> {
    if (this.store.version >= 0) throw new InvariantError('chain already initialized');
    const overlay = new Overlay(this.store);
    const ctx = new Context({ chainId: g.chainId, height: 0n, time: g.genesisTime, proposer: new Uint8Array(32) }, overlay);
    overlay.set(CHAIN_ID_KEY, encode(string(64), g.chainId));
    setValidators(overlay, g.validators);
    for (const m of this.modules) {
      const mg = g.modules.get(m.name);
      if (m.params) setParams(overlay, m.name, m.params, mg?.params ?? m.params.defaults);
      if (m.genesis && mg) m.genesis.init(ctx, mg.state);
    }
    const prepared = this.store.prepare(0, overlay.changes);
    await this.store.db.write([...prepared.ops, ...extra]);
    this.store.committed(prepared);
    this.lastBlockTime = g.genesisTime;
    this.resetCheckState();
    return prepared.rootHash;
  }

  /** Decodes tx bytes, mapping codec failures to TX_DECODE / TX_TOO_LARGE. */
  decode(bytes: Bytes): DecodedTx {
    return this.decodeAt(this.checkState, bytes);
  }

  /**
   * Runs a tx against the check state (committed state plus the txs admitted since). On
   * success the tx's effects stay in the check state, so the next tx from the same account
   * must carry the next sequence and can only spend what is left.
   */
  checkTx(tx: BlockTx, opts: { trace?: boolean } = {}): CheckResult {
    const info: BlockInfo = { chainId: this.chainId, height: BigInt(this.height + 1), time: this.lastBlockTime, proposer: ZERO_KEY };
    const state = this.checkState;
    let decoded: DecodedTx | undefined;
    try {
      decoded = tx.decoded ?? this.decode(tx.bytes);
    } catch (e) {
      return resultOf(e, [], this.onInternalError, 'checkTx');
    }
    const cp = state.checkpoint();
    if (opts.trace) state.beginTrace();
    try {
      const ctx = new Context(info, state, undefined, true);
      ante(ctx, decoded, getParams(state, 'auth', authParams), tx.signatureChecked === true);
      const msgCtx = new Context(info, state, decoded.signerAddress, true);
      for (const m of decoded.msgs) {
        const h = this.handlers.get(m.type) as MsgHandler<unknown>;
        if (h.admit) h.admit(msgCtx, m.value);
        else h.handle(msgCtx, m.value);
      }
      state.release(cp);
      const t = opts.trace ? state.endTrace() : undefined;
      return {
        code: 0,
        codespace: OK_CODESPACE,
        error: '',
        log: '',
        events: [],
        tx: decoded,
        ...(t ? { trace: { reads: t.reads, writes: t.writes, usedBlock: ctx.usedBlock || msgCtx.usedBlock } } : {}),
      };
    } catch (e) {
      if (opts.trace) state.endTrace();
      state.revert(cp);
      return { ...resultOf(e, [], this.onInternalError, 'checkTx'), tx: decoded };
    }
  }

  /**
   * If every value an admitted tx read is still what it is in the check state now (and it did
   * not depend on the block), its admission stands: apply its recorded writes and return true.
   * Admission is a function of the values read, so this is exact, not a heuristic.
   */
  replayCheck(trace: CheckTrace): boolean {
    if (trace.usedBlock) return false;
    for (const [k, v] of trace.reads) {
      const now = this.checkState.get(k) ?? null;
      if (now === v) continue;
      if (now === null || v === null || !equals(now, v)) return false;
    }
    this.checkState.replay(trace.writes);
    return true;
  }

  /** Drops the check state's pending effects (after a commit, before re-checking the mempool). */
  resetCheckState(): void {
    this.checkState = new Overlay(this.store, { cacheReads: true });
  }

  /** Executes a block on top of the last committed state. Nothing is persisted until commit(). */
  finalizeBlock(blockInfo: BlockInfo, txs: readonly BlockTx[]): BlockResult {
    const info: BlockInfo = { ...blockInfo, seed: this.store.rootHash };
    const height = Number(info.height);
    if (height !== this.height + 1) throw new InvariantError(`block ${height} does not follow committed height ${this.height}`);
    // Same committed version as the check state: share what it already read.
    const overlay = new Overlay(this.store, { reads: this.checkState.readCache ?? new Map() });
    const beginCtx = new Context(info, overlay);
    for (const m of this.modules) m.beginBlock?.(beginCtx);
    const txResults = txs.map((tx) => this.deliverTx(info, overlay, tx));
    const endCtx = new Context(info, overlay);
    for (const m of this.modules) m.endBlock?.(endCtx);
    const valsBefore = this.store.get(VALIDATORS_KEY);
    const valsAfter = overlay.get(VALIDATORS_KEY);
    const validators = valsAfter && !(valsBefore && equals(valsBefore, valsAfter)) ? decode(validatorSetCodec, valsAfter) : undefined;
    const prepared = this.store.prepare(height, overlay.changes, (ks) => overlay.parentHad(ks));
    this.pending = { info, prepared, artifacts: beginCtx.artifacts.concat(endCtx.artifacts) };
    return { height, txResults, beginEvents: beginCtx.events, endEvents: endCtx.events, appHash: prepared.rootHash, ...(validators ? { validators } : {}) };
  }

  /**
   * One tx in the block: ante in a checkpoint (an invalid tx changes nothing), then the
   * messages in a nested one (a failing message undoes all messages, but the fee and sequence
   * stay spent).
   */
  private deliverTx(info: BlockInfo, block: Overlay, tx: BlockTx): TxResult {
    let decoded: DecodedTx;
    try {
      decoded = tx.decoded ?? this.decodeAt(block, tx.bytes);
    } catch (e) {
      return resultOf(e, [], this.onInternalError, 'deliverTx');
    }
    const ctx = new Context(info, block);
    const anteCp = block.checkpoint();
    try {
      ante(ctx, decoded, getParams(block, 'auth', authParams), tx.signatureChecked === true);
    } catch (e) {
      block.revert(anteCp);
      return resultOf(e, [], this.onInternalError, 'deliverTx');
    }
    const msgCtx = new Context(info, block, decoded.signerAddress);
    const msgCp = block.checkpoint();
    try {
      for (const m of decoded.msgs) (this.handlers.get(m.type) as MsgHandler<unknown>).handle(msgCtx, m.value);
    } catch (e) {
      block.revert(msgCp);
      block.release(anteCp);
      return resultOf(e, ctx.events, this.onInternalError, 'deliverTx');
    }
    block.release(msgCp);
    block.release(anteCp);
    return { code: 0, codespace: OK_CODESPACE, error: '', log: '', events: ctx.events.concat(msgCtx.events) };
  }

  private decodeAt(store: KVReader, bytes: Bytes): DecodedTx {
    const auth = getParams(store, 'auth', authParams);
    if (bytes.length > auth.maxTxBytes) throw TxErrors.TX_TOO_LARGE(`tx is ${bytes.length} bytes, the limit is ${auth.maxTxBytes}`);
    try {
      return decodeTx(bytes, this);
    } catch (e) {
      if (e instanceof CodecError) throw TxErrors.TX_DECODE(`malformed tx: ${e.message}`);
      throw e;
    }
  }

  /** The writes that persist the last finalized block (state and artifacts), plus `extra` (the caller's block store). */
  commitOps(extra: readonly WriteOp[] = []): WriteOp[] {
    if (!this.pending) throw new InvariantError('commit without a finalized block');
    const { prepared, artifacts } = this.pending;
    if (artifacts.length === 0 && extra.length === 0) return prepared.ops;
    const table = this.store.db.table('artifacts');
    return [...prepared.ops, ...artifacts.map((a) => ({ table, key: a.key, value: a.value })), ...extra];
  }

  /** An artifact a committed block wrote (see Artifact), or undefined. */
  artifact(key: Bytes): Bytes | undefined {
    const b = this.store.db.table('artifacts').get(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
    return b ? Uint8Array.from(b) : undefined;
  }

  /**
   * Call once the commitOps writes are durable: the block's state becomes the committed state
   * and the check state starts over from it. Synchronous on purpose: together with the
   * mempool's re-check right after, no admission ever sees a half-switched view.
   */
  committed(): ReadonlyMap<string, Bytes | null> {
    if (!this.pending) throw new InvariantError('committed without a finalized block');
    const { prepared, info } = this.pending;
    this.store.committed(prepared);
    this.lastBlockTime = info.time;
    this.pending = undefined;
    // The read cache held values of the previous version; with the block's writes laid over
    // it, it holds values of the new one (unchanged keys kept their value). Carrying it over
    // saves the mempool re-check and the next block from reading hot accounts from disk again.
    let reads = this.checkState.readCache;
    if (reads && reads.size + prepared.changes.size <= READ_CACHE_LIMIT) {
      for (const [k, v] of prepared.changes) reads.set(k, v);
    } else reads = new Map();
    this.checkState = new Overlay(this.store, { reads });
    return prepared.changes;
  }

  /** Writes and marks committed in one call (for callers with no block store of their own). */
  async commit(extra: readonly WriteOp[] = []): Promise<void> {
    await this.store.db.write(this.commitOps(extra));
    this.committed();
  }

  /** Drops a finalized but uncommitted block. */
  abortBlock(): void {
    this.pending = undefined;
  }
}

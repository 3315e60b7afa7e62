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
import type { Bytes } from '../core/bytes.js';
import { decode, encode, string } from '../core/codec.js';
import { ChainError, CodecError, InvariantError } from '../core/errors.js';
import type { WriteOp } from '../state/db.js';
import { Overlay, type KVReader } from '../state/overlay.js';
import type { PreparedCommit, StateStore } from '../state/store.js';
import { ante } from './ante.js';
import { Context, type BlockInfo } from './context.js';
import { TxErrors } from './errors.js';
import type { Event } from './events.js';
import type { Genesis } from './genesis.js';
import { CHAIN_ID_KEY } from './keys.js';
import { getParams, setParams, type MsgHandler, type Module } from './module.js';
import { authParams } from './modules/auth/index.js';
import { decodeTx, type DecodedTx, type MsgRegistry } from './tx.js';
import { getValidators, setValidators, type Validator } from './validators.js';

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
}

export interface CheckResult extends TxResult {
  readonly tx?: DecodedTx;
}

export type InternalErrorHook = (e: unknown, where: string) => void;

const OK_CODESPACE = '';

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
  private pending: { info: BlockInfo; prepared: PreparedCommit } | undefined;
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
    this.checkState = new Overlay(store);
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
  checkTx(tx: BlockTx): CheckResult {
    const info: BlockInfo = { chainId: this.chainId, height: BigInt(this.height + 1), time: this.lastBlockTime, proposer: new Uint8Array(32) };
    const layer = new Overlay(this.checkState);
    const ctx = new Context(info, layer);
    let decoded: DecodedTx | undefined;
    try {
      decoded = tx.decoded ?? this.decode(tx.bytes);
      this.runMsgs(ctx, layer, decoded, tx.signatureChecked === true);
      layer.mergeInto(this.checkState);
      return { code: 0, codespace: OK_CODESPACE, error: '', log: '', events: ctx.events, tx: decoded };
    } catch (e) {
      return decoded ? { ...resultOf(e, [], this.onInternalError, 'checkTx'), tx: decoded } : resultOf(e, [], this.onInternalError, 'checkTx');
    }
  }

  /** Drops the check state's pending effects (after a commit, before re-checking the mempool). */
  resetCheckState(): void {
    this.checkState = new Overlay(this.store);
  }

  /** Executes a block on top of the last committed state. Nothing is persisted until commit(). */
  finalizeBlock(info: BlockInfo, txs: readonly BlockTx[]): BlockResult {
    const height = Number(info.height);
    if (height !== this.height + 1) throw new InvariantError(`block ${height} does not follow committed height ${this.height}`);
    const overlay = new Overlay(this.store);
    const beginCtx = new Context(info, overlay);
    for (const m of this.modules) m.beginBlock?.(beginCtx);
    const txResults = txs.map((tx) => this.deliverTx(info, overlay, tx));
    const endCtx = new Context(info, overlay);
    for (const m of this.modules) m.endBlock?.(endCtx);
    const prepared = this.store.prepare(height, overlay.changes);
    this.pending = { info, prepared };
    return { height, txResults, beginEvents: beginCtx.events, endEvents: endCtx.events, appHash: prepared.rootHash };
  }

  private deliverTx(info: BlockInfo, block: Overlay, tx: BlockTx): TxResult {
    const anteLayer = new Overlay(block);
    const ctx = new Context(info, anteLayer);
    let decoded: DecodedTx;
    try {
      decoded = tx.decoded ?? this.decodeAt(block, tx.bytes);
    } catch (e) {
      return resultOf(e, [], this.onInternalError, 'deliverTx');
    }
    try {
      ante(ctx, decoded, getParams(anteLayer, 'auth', authParams), tx.signatureChecked === true);
    } catch (e) {
      return resultOf(e, [], this.onInternalError, 'deliverTx'); // nothing charged: the tx was invalid
    }
    const msgLayer = new Overlay(anteLayer);
    const msgCtx = ctx.withStore(msgLayer, decoded.signerAddress);
    try {
      for (const m of decoded.msgs) (this.handlers.get(m.type) as MsgHandler<unknown>).handle(msgCtx, m.value);
    } catch (e) {
      anteLayer.mergeInto(block); // the fee and the sequence are spent even though the msgs failed
      return resultOf(e, ctx.events, this.onInternalError, 'deliverTx');
    }
    msgLayer.mergeInto(anteLayer);
    anteLayer.mergeInto(block);
    return { code: 0, codespace: OK_CODESPACE, error: '', log: '', events: [...ctx.events, ...msgCtx.events] };
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

  /** Ante + messages in `layer`, all or nothing (check mode: a failing message rejects the tx). */
  private runMsgs(ctx: Context, layer: Overlay, d: DecodedTx, signatureChecked: boolean): void {
    ante(ctx, d, getParams(layer, 'auth', authParams), signatureChecked);
    const msgCtx = ctx.withStore(layer, d.signerAddress);
    for (const m of d.msgs) (this.handlers.get(m.type) as MsgHandler<unknown>).handle(msgCtx, m.value);
  }

  /** The writes that persist the last finalized block (the caller adds its own and writes them). */
  pendingCommit(): PreparedCommit {
    if (!this.pending) throw new InvariantError('commit without a finalized block');
    return this.pending.prepared;
  }

  /** Persists the finalized block's state together with `extra` writes, atomically. */
  async commit(extra: readonly WriteOp[] = []): Promise<void> {
    const prepared = this.pendingCommit();
    await this.store.db.write(extra.length ? [...prepared.ops, ...extra] : prepared.ops);
    this.store.committed(prepared);
    this.lastBlockTime = (this.pending as { info: BlockInfo }).info.time;
    this.pending = undefined;
    this.resetCheckState();
  }

  /** Drops a finalized but uncommitted block. */
  abortBlock(): void {
    this.pending = undefined;
  }
}

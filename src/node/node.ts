/**
 * The embedded node: one validator that turns the mempool into signed blocks at a fixed
 * interval and persists each block together with the state it produces, in one LMDB
 * transaction. A block is announced (API, WebSocket, tx waiters) only after that transaction
 * is durable, so `kill -9` at any moment loses nothing that was reported committed, and a
 * restart resumes at the same height and app hash.
 */
import { workerLeafHasher } from '../core/leafworker.js';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { equals, toHex, utf8, type Bytes } from '../core/bytes.js';
import { GroundworkError, InvariantError } from '../core/errors.js';
import type { Ed25519Key } from '../core/keys.js';
import { silentLogger, type Logger } from '../core/log.js';
import { App } from '../chain/app.js';
import { getParams } from '../chain/module.js';
import { consensusParams } from '../chain/modules/consensus/index.js';
import { standardModules } from '../chain/index.js';
import { validatorSetHash, type Validator } from '../chain/validators.js';
import { Database, fromBuffer, toBuffer, type WriteOp } from '../state/db.js';
import { StateStore } from '../state/store.js';
import { encodeResults, headerHash, signHeader, txsHash, type Block, type BlockResults, type Header } from './block.js';
import { BlockStore, type StoredTx } from './blockstore.js';
import { homePaths, type LoadedGenesis, type NodeConfig } from './home.js';
import { Mempool, type SubmitResult } from './mempool.js';
import { SignaturePool, type SignatureVerifier } from './sigpool.js';

const GENESIS_HASH_KEY = utf8('genesis_hash');

export interface CommittedBlock {
  readonly height: number;
  readonly hash: Bytes;
  readonly block: Block;
  readonly txHashes: readonly Bytes[];
  readonly results: BlockResults;
}

export interface NodeOptions {
  readonly home: string;
  readonly config: NodeConfig;
  readonly genesis: LoadedGenesis;
  readonly validatorKey: Ed25519Key;
  readonly logger?: Logger;
  /** Defaults to a worker pool with one thread per core. */
  readonly verifier?: SignatureVerifier;
  /** Skip fsync (tests only). */
  readonly noSync?: boolean;
}

export interface NodeEvents {
  block: [CommittedBlock];
  /** Block production failed (disk full, I/O error): the node has stopped producing. */
  fatal: [unknown];
}

export class EmbeddedNode extends EventEmitter<NodeEvents> {
  readonly app: App;
  readonly blocks: BlockStore;
  readonly mempool: Mempool;
  readonly chainId: string;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private producing: Promise<void> | undefined;
  private stopped = false;
  private lastHash: Bytes;
  private lastTime: bigint;
  private readonly waiters = new Map<string, Set<(tx: StoredTx | undefined) => void>>();
  private closed = false;
  private blocksSincePrune = 0;

  private constructor(
    private readonly db: Database,
    readonly store: StateStore,
    private readonly verifier: SignatureVerifier,
    readonly opts: NodeOptions,
  ) {
    super();
    this.log = opts.logger ?? silentLogger;
    this.app = new App(store, standardModules({ leafHasher: workerLeafHasher() }));
    this.app.onInternalError = (e, where) => this.log.error('internal error in tx execution (a bug)', { where, error: e instanceof Error ? e.stack : String(e) });
    const indexed = new Set(['tx.signer', ...this.app.modules.flatMap((m) => m.indexedAttributes ?? [])]);
    this.blocks = new BlockStore(db, indexed);
    this.mempool = new Mempool(this.app, verifier, (h) => this.blocks.hasTx(h), opts.config.mempool);
    this.chainId = opts.genesis.chainId;
    this.lastHash = new Uint8Array(32);
    this.lastTime = opts.genesis.genesisTime;
  }

  /** Opens (and on first start initializes) the node's data; does not produce blocks yet. */
  static async open(opts: NodeOptions): Promise<EmbeddedNode> {
    const dataDir = homePaths(opts.home).data;
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(dataDir, { noSync: opts.noSync ?? false });
    const meta = db.table('node.meta');
    const store = new StateStore(db, { nodeCacheSize: opts.config.cache.treeNodes });
    const node = new EmbeddedNode(db, store, opts.verifier ?? new SignaturePool(), opts);
    try {
      await node.init(meta);
    } catch (e) {
      await node.verifier.close();
      await db.close();
      throw e;
    }
    return node;
  }

  private async init(meta: ReturnType<Database['table']>): Promise<void> {
    const g = this.opts.genesis;
    if (this.store.version < 0) {
      this.log.info('initializing chain from genesis', { chainId: g.chainId, genesisHash: toHex(g.hash) });
      await this.app.initChain(g.parse(), [{ table: meta, key: GENESIS_HASH_KEY, value: g.hash }]);
    } else {
      const stored = meta.get(toBuffer(GENESIS_HASH_KEY));
      if (!stored || !equals(fromBuffer(stored), g.hash)) {
        throw new GroundworkError(
          'GENESIS_MISMATCH',
          `genesis.json does not match the genesis this node's data was created with; restore the original genesis.json or start from an empty data directory (${homePaths(this.opts.home).data})`,
        );
      }
    }
    const height = this.store.version;
    this.blocks.visibleHeight = Math.max(height, 0);
    if (height > 0) {
      const sh = this.blocks.signedHeader(height);
      if (!sh) throw new InvariantError(`block ${height} missing from the block store`);
      if (!equals(sh.header.appHash, this.store.rootHash)) throw new InvariantError(`stored state does not match block ${height}'s app hash`);
      this.lastHash = headerHash(sh.header);
      this.lastTime = sh.header.time;
      this.app.lastBlockTime = sh.header.time;
    }
    // Clients trust the genesis validators' signatures (see client/verify.ts): the key must be one.
    const key = this.opts.validatorKey.publicKey;
    if (!g.parse().validators.some((v) => equals(v.pubKey, key)) && !this.app.validators().some((v) => equals(v.pubKey, key))) {
      throw new GroundworkError('NOT_A_VALIDATOR', "this node's validator key is not in the chain's validator set; check validator_key.json and genesis.json");
    }
    this.checkVotingPower(this.app.validators());
    const warmed = this.store.warmCache();
    this.log.info('state loaded', { height, appHash: toHex(this.store.rootHash).toUpperCase(), cachedTreeNodes: warmed });
  }

  /**
   * The embedded node is the only block producer, so its key must hold more than 2/3 of the
   * voting power for its headers to mean what they claim. Staking computes the validator set
   * from stake; should other operators' stake reach 1/3 of the power (the devnet genesis makes
   * that take more tokens than exist outside the validator, see devnetSelfBond), blocks keep
   * coming, signed by this key and accepted by clients that trust the genesis validator, but
   * the state's validator set no longer describes who signs: say so loudly.
   */
  private checkVotingPower(vals: readonly Validator[]): void {
    const total = vals.reduce((n, v) => n + v.power, 0n);
    const mine = vals.find((v) => equals(v.pubKey, this.opts.validatorKey.publicKey))?.power ?? 0n;
    if (mine * 3n > total * 2n) return;
    this.log.error("the chain's validator set no longer gives this node's key more than 2/3 of the voting power", {
      power: mine.toString(),
      totalPower: total.toString(),
      hint: 'the embedded node is a single-validator chain and keeps signing every block alone; run a CometBFT network (groundwork testnet) for a validator set chosen by stake',
    });
  }

  get height(): number {
    return this.store.version;
  }

  get lastBlockHash(): Bytes {
    return this.lastHash;
  }

  /** Starts producing blocks. */
  start(): void {
    if (this.stopped) throw new InvariantError('node was stopped');
    // A new chain gets its first block (the first header to prove state against) at once.
    this.schedule(this.store.version === 0 ? 0 : this.opts.config.blockIntervalMs);
    this.log.info('producing blocks', { intervalMs: this.opts.config.blockIntervalMs });
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.producing = this.produceBlock()
        .then(() => undefined)
        .catch((e: unknown) => {
          // A failed write leaves the store at the previous block; nothing can continue safely.
          this.log.error('block production failed; stopping the node', { error: e instanceof Error ? e.stack : String(e) });
          this.stopped = true;
          process.exitCode = 1;
          this.emit('fatal', e);
        })
        .finally(() => {
          this.producing = undefined;
          this.schedule(Math.max(0, this.opts.config.blockIntervalMs - (Date.now() - started)));
        });
    }, delay);
  }

  /** Builds, executes, signs and commits one block from the mempool. */
  async produceBlock(): Promise<CommittedBlock> {
    const params = getParams(this.app.state, 'consensus', consensusParams);
    const entries = this.mempool.reap(params.maxBlockBytes, params.maxBlockTxs);
    const height = this.store.version + 1;
    const now = BigInt(Date.now());
    const time = now > this.lastTime ? now : this.lastTime + 1n;
    const key = this.opts.validatorKey;
    const info = { chainId: this.chainId, height: BigInt(height), time, proposer: key.publicKey };
    const t0 = performance.now();
    const res = this.app.finalizeBlock(
      info,
      entries.map((e) => ({ bytes: e.bytes, decoded: e.decoded, signatureChecked: true })),
    );
    const t1 = performance.now();
    const txHashes = entries.map((e) => e.hash);
    const txs = entries.map((e) => e.bytes);
    const results: BlockResults = { txResults: res.txResults, beginEvents: res.beginEvents, endEvents: res.endEvents };
    const encoded = encodeResults(results);
    const header: Header = {
      chainId: this.chainId,
      height: BigInt(height),
      time,
      lastBlockHash: this.lastHash,
      txsHash: txsHash(txHashes),
      resultsHash: encoded.hash,
      appHash: res.appHash,
      validatorsHash: validatorSetHash(this.app.validators()),
      proposer: key.publicKey,
    };
    const hash = headerHash(header);
    const block: Block = { header, signature: signHeader(header, key), txs };
    const writes: WriteOp[] = this.blocks.writesFor(block, hash, txHashes, results, encoded);
    const t2 = performance.now();
    await this.db.write(this.app.commitOps(writes));
    const t3 = performance.now();
    // From here to the end of mempool.update nothing awaits: no admission can interleave.
    this.app.committed();
    this.blocks.visibleHeight = height;
    if (res.validators) this.checkVotingPower(res.validators);
    this.lastHash = hash;
    this.lastTime = time;
    const { evicted, rechecked } = this.mempool.update(entries);
    const committed: CommittedBlock = { height, hash, block, txHashes, results };
    const ms = (a: number, b: number) => Math.round(b - a);
    this.log.debug('committed block', {
      height,
      txs: txs.length,
      evicted,
      rechecked,
      appHash: toHex(res.appHash).slice(0, 16),
      ms: { execute: ms(t0, t1), encode: ms(t1, t2), write: ms(t2, t3), mempool: ms(t3, performance.now()) },
    });
    if (txs.length > 0) this.log.info('committed block', { height, txs: txs.length });
    this.notifyWaiters(committed);
    this.emit('block', committed);
    await this.maybePrune(height);
    return committed;
  }

  private async maybePrune(height: number): Promise<void> {
    const keep = this.opts.config.pruning.keepRecent;
    if (keep === 0 || ++this.blocksSincePrune < 100) return;
    this.blocksSincePrune = 0;
    const removed = await this.store.prune(height - keep + 1);
    if (removed > 0) this.log.debug('pruned tree nodes', { removed, keepFrom: height - keep + 1 });
  }

  private notifyWaiters(b: CommittedBlock): void {
    if (this.waiters.size === 0) return;
    b.txHashes.forEach((h) => {
      const key = toHex(h).toUpperCase();
      const ws = this.waiters.get(key);
      if (!ws) return;
      this.waiters.delete(key);
      const tx = this.blocks.tx(h);
      if (tx) for (const w of ws) w(tx);
    });
  }

  /** Resolves with the committed tx, or undefined after `timeoutMs`. */
  waitForTx(hash: Bytes, timeoutMs: number): Promise<StoredTx | undefined> {
    const found = this.blocks.tx(hash);
    if (found || timeoutMs <= 0) return Promise.resolve(found);
    const key = toHex(hash).toUpperCase();
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      const done = (tx: StoredTx | undefined): void => {
        clearTimeout(t);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve(tx);
      };
      const t = setTimeout(() => done(undefined), timeoutMs);
      set.add(done);
      this.waiters.set(key, set);
    });
  }

  submit(txs: readonly Bytes[]): Promise<SubmitResult[]> {
    return this.mempool.submit(txs);
  }

  /** Stops producing, lets an in-flight block finish committing, then closes everything. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.producing) await this.producing;
    for (const ws of [...this.waiters.values()]) for (const w of [...ws]) w(undefined);
    this.waiters.clear();
    await this.verifier.close();
    await this.db.close();
    this.log.info('node stopped', { height: this.store.version });
  }
}

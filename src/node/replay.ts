/**
 * `groundwork node replay`: re-executes every stored block from genesis on a fresh state (in a
 * temporary directory) and checks, block by block, the header signature, the chain of block
 * hashes, the tx root, the results root and the app hash; finally that the replayed state
 * equals the node's. Signatures are verified on the worker pool, one block ahead.
 */
import { workerLeafHasher } from '../core/leafworker.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { equals, toHex, type Bytes } from '../core/bytes.js';
import { GroundworkError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { App } from '../chain/app.js';
import { standardModules } from '../chain/index.js';
import type { DecodedTx } from '../chain/tx.js';
import { Database } from '../state/db.js';
import { StateStore } from '../state/store.js';
import { headerHash, resultsHash, txsHash, verifyHeaderSignature, type Block } from './block.js';
import { BlockStore } from './blockstore.js';
import { homePaths, type LoadedGenesis } from './home.js';
import { SignaturePool, type SignatureVerifier } from './sigpool.js';

export interface ReplayProgress {
  height: number;
  target: number;
  txs: number;
}

export interface ReplayResult {
  blocks: number;
  txs: number;
  appHash: Bytes;
  seconds: number;
}

export class ReplayMismatchError extends GroundworkError {
  override name = 'ReplayMismatchError';
  constructor(readonly height: number, what: string) {
    super('REPLAY_MISMATCH', `block ${height}: ${what}`);
  }
}

export async function replayChain(
  home: string,
  genesis: LoadedGenesis,
  opts: { onProgress?: (p: ReplayProgress) => void; verifier?: SignatureVerifier; toHeight?: number } = {},
): Promise<ReplayResult> {
  const started = performance.now();
  const live = new Database(homePaths(home).data);
  const liveState = new StateStore(live);
  const target = Math.min(opts.toHeight ?? liveState.version, liveState.version);
  if (target < 0) {
    await live.close();
    throw new GroundworkError('NOTHING_TO_REPLAY', `no chain data in ${homePaths(home).data}; start the node first`);
  }
  const blocks = new BlockStore(live, new Set());
  const tmp = mkdtempSync(join(tmpdir(), 'gw-replay-'));
  const db = new Database(tmp, { noSync: true });
  const app = new App(new StateStore(db), standardModules({ leafHasher: workerLeafHasher() }));
  const verifier = opts.verifier ?? new SignaturePool();
  let txCount = 0;
  try {
    const parsedGenesis = genesis.parse();
    const genesisKeys = parsedGenesis.validators.map((v) => v.pubKey);
    await app.initChain(parsedGenesis);
    let lastHash: Bytes = new Uint8Array(32);
    // Decode and verify signatures of block h+1 while block h executes.
    const prepare = async (b: Block): Promise<{ decoded: (DecodedTx | undefined)[]; valid: boolean[] }> => {
      const decoded = b.txs.map((t) => {
        try {
          return app.decode(t);
        } catch {
          return undefined; // the app will record the decode failure as the tx's result
        }
      });
      const items = decoded.flatMap((d) => (d ? [{ publicKey: d.tx.body.signer, message: d.signBytes, signature: d.tx.signature }] : []));
      const ok = await verifier.verify(items);
      let k = 0;
      return { decoded, valid: decoded.map((d) => (d ? (ok[k++] as boolean) : false)) };
    };
    let next = target >= 1 ? blocks.block(1) : undefined;
    let pending = next ? prepare(next) : undefined;
    for (let h = 1; h <= target; h++) {
      const b = next;
      if (!b || !pending) throw new ReplayMismatchError(h, 'block missing from the block store');
      const { decoded, valid } = await pending;
      next = h < target ? blocks.block(h + 1) : undefined;
      pending = next ? prepare(next) : undefined;
      const hd = b.header;
      if (Number(hd.height) !== h) throw new ReplayMismatchError(h, `stored header says height ${hd.height}`);
      if (!verifyHeaderSignature(hd, b.signature)) throw new ReplayMismatchError(h, 'header signature does not verify');
      // The embedded node signs with a genesis validator's key even if stake has since moved the set (see EmbeddedNode).
      if (!app.validators().some((v) => equals(v.pubKey, hd.proposer)) && !genesisKeys.some((k) => equals(k, hd.proposer))) {
        throw new ReplayMismatchError(h, 'proposer is not in the validator set');
      }
      if (!equals(hd.lastBlockHash, lastHash)) throw new ReplayMismatchError(h, 'last block hash does not link to the previous block');
      if (!equals(hd.txsHash, txsHash(b.txs.map((t) => sha256(t))))) throw new ReplayMismatchError(h, 'tx root does not match the txs');
      const res = app.finalizeBlock(
        { chainId: hd.chainId, height: hd.height, time: hd.time, proposer: hd.proposer },
        b.txs.map((bytes, i) => ({ bytes, decoded: decoded[i], signatureChecked: valid[i] === true })),
      );
      if (!equals(res.appHash, hd.appHash)) {
        throw new ReplayMismatchError(h, `app hash ${toHex(res.appHash).toUpperCase()} differs from the header's ${toHex(hd.appHash).toUpperCase()}`);
      }
      if (!equals(resultsHash(res.txResults), hd.resultsHash)) throw new ReplayMismatchError(h, 'tx results differ from the stored results hash');
      await app.commit();
      app.resetCheckState();
      lastHash = headerHash(hd);
      txCount += b.txs.length;
      opts.onProgress?.({ height: h, target, txs: txCount });
    }
    if (target === liveState.version && !equals(app.appHash, liveState.rootHash)) {
      throw new ReplayMismatchError(target, "replayed state differs from the node's stored state");
    }
    return { blocks: target, txs: txCount, appHash: app.appHash, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (!opts.verifier) await verifier.close();
    await db.close();
    await live.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * An in-process chain for module tests: the standard modules (or the given ones) on a real
 * LMDB store in a temp dir, blocks finalized and committed one at a time, txs really signed.
 */
import assert from 'node:assert/strict';
import { toHex, type Bytes } from '../core/bytes.js';
import type { Ed25519Key } from '../core/keys.js';
import { Database } from '../state/db.js';
import { StateStore } from '../state/store.js';
import { App, type BlockResult, type TxResult } from '../chain/app.js';
import { parseGenesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';
import type { Module } from '../chain/module.js';
import { buildTx, type DecodedMsg } from '../chain/tx.js';
import { tempDir, testGenesis, testKey, type GenesisOpts } from './index.js';

export interface TestChainOptions extends GenesisOpts {
  modules?: Module[];
  /** Fee per tx (ugw). */
  fee?: bigint;
}

export type TestChain = Awaited<ReturnType<typeof testChain>>;

export async function testChain(o: TestChainOptions = {}) {
  const chainId = o.chainId ?? 'test-chain';
  const validator = o.validator ?? testKey('validator');
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const app = new App(new StateStore(db), o.modules ?? standardModules());
  await app.initChain(parseGenesis(testGenesis({ ...o, chainId, validator }), app.modules));
  let time = 1_767_225_600_000n;
  const seq = new Map<string, bigint>();
  const fee = o.fee ?? 50_000n;
  const c = {
    app,
    get height(): bigint {
      return BigInt(app.height);
    },
    tx(from: Ed25519Key, msgs: DecodedMsg[]): Bytes {
      const k = toHex(from.address);
      const s = seq.get(k) ?? 0n;
      seq.set(k, s + 1n);
      return buildTx(app, from, { chainId, sequence: s, fee, msgs });
    },
    async block(txs: Bytes[] = []): Promise<BlockResult> {
      time += 1000n;
      const r = app.finalizeBlock({ chainId, height: BigInt(app.height + 1), time, proposer: validator.publicKey }, txs.map((bytes) => ({ bytes })));
      await app.commit();
      app.resetCheckState();
      return r;
    },
    /** Advances to height `h` with empty blocks. */
    async until(h: bigint): Promise<void> {
      while (BigInt(app.height) < h) await c.block();
    },
    async run(from: Ed25519Key, type: string, value: unknown): Promise<TxResult> {
      const r = await c.block([c.tx(from, [{ type, value }])]);
      return r.txResults[0] as TxResult;
    },
    async ok(from: Ed25519Key, type: string, value: unknown): Promise<TxResult> {
      const r = await c.run(from, type, value);
      assert.equal(r.code, 0, `${type}: ${r.codespace}.${r.error} ${r.log}`);
      return r;
    },
    async fails(from: Ed25519Key, type: string, value: unknown, codespaceKind: string): Promise<TxResult> {
      const r = await c.run(from, type, value);
      assert.equal(`${r.codespace}.${r.error}`, codespaceKind, `${type}: ${r.log}`);
      assert.ok(r.log.length > 20, `the error says what to do: ${r.log}`);
      return r;
    },
    async close(): Promise<void> {
      await db.close();
      dir.cleanup();
    },
  };
  return c;
}

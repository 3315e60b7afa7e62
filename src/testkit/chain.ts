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
import type { Event } from '../chain/events.js';
import type { KVReader } from '../state/overlay.js';
import { buildTx, type DecodedMsg } from '../chain/tx.js';
import { tempDir, testGenesis, testKey, type GenesisOpts } from './index.js';

export interface TestChainOptions extends GenesisOpts {
  modules?: Module[];
  /** Fee per tx (ugw). */
  fee?: bigint;
  /** The state a refused tx must leave as it was (`fails` compares it before and after). */
  snapshot?: (state: KVReader) => string;
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
    /** The height the next block will have (what a tx sent now sees). */
    get next(): bigint {
      return BigInt(app.height + 1);
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
    /** Advances to height `h` with empty blocks; returns their end-block events. */
    async until(h: bigint): Promise<Event[]> {
      const ev: Event[] = [];
      while (BigInt(app.height) < h) ev.push(...(await c.block()).endEvents);
      return ev;
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
    /** A tx that must fail with `codespace.kind` (its log matching `match`, when given) and, with a snapshot, change nothing. */
    async fails(from: Ed25519Key, type: string, value: unknown, codespaceKind: string, match?: RegExp): Promise<TxResult> {
      const before = o.snapshot?.(app.state);
      const r = await c.run(from, type, value);
      assert.equal(`${r.codespace}.${r.error}`, codespaceKind, `${type}: ${r.log}`);
      assert.ok(r.log.length > 20, `the error says what to do: ${r.log}`);
      if (match) assert.match(r.log, match);
      if (o.snapshot) assert.equal(o.snapshot(app.state), before, `${type} refused with ${codespaceKind} changed no state`);
      return r;
    },
    async close(): Promise<void> {
      await db.close();
      dir.cleanup();
    },
  };
  return c;
}

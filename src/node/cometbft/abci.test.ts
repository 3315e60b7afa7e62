/**
 * The ABCI server and app over a real socket, driven the way CometBFT drives them (no CometBFT
 * process needed): pipelined CheckTx answered in order with specific codes, FinalizeBlock results
 * and app hash, Commit, Info, Query with a proof against the app hash, and two fresh apps fed the
 * same requests agreeing on every app hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Request, Response, type Request as Req } from 'cosmjs-types/tendermint/abci/types';
import { toHex, utf8 } from '../../core/bytes.js';
import { silentLogger } from '../../core/log.js';
import { bankAccountKey } from '../../chain/keys.js';
import { App } from '../../chain/app.js';
import { standardModules } from '../../chain/index.js';
import { buildTx } from '../../chain/tx.js';
import { Database } from '../../state/db.js';
import { StateStore } from '../../state/store.js';
import { checkProof, decodeProof } from '../../state/proof.js';
import { tempDir, testGenesis, testKey } from '../../testkit/index.js';
import { inlineVerifier } from '../sigpool.js';
import { AbciApp } from './abci-app.js';
import { AbciServer } from './abci-server.js';
import { FrameReader, encodeFrame } from './framing.js';

const validator = testKey('abci-validator');
const alice = testKey('abci-alice');
const bob = testKey('abci-bob');
const genesis = testGenesis({ chainId: 'abci-test', validator, balances: [[alice, 10_000_000n]] });

async function startApp() {
  const dir = tempDir('gw-abci-');
  const db = new Database(dir.path, { noSync: true });
  const store = new StateStore(db);
  const app = new App(store, standardModules());
  const server = new AbciServer(new AbciApp({ app, store, verifier: inlineVerifier, logger: silentLogger }), silentLogger);
  const port = await server.listen(0);
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const reader = new FrameReader();
  const pending: Array<(r: Response) => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) (pending.shift() as (r: Response) => void)(Response.decode(f));
  });
  /** Sends requests in one write (pipelined) and resolves with the responses in order. */
  const call = (reqs: Req[]): Promise<Response[]> => {
    const out = Promise.all(reqs.map(() => new Promise<Response>((r) => pending.push(r))));
    socket.write(Buffer.concat(reqs.map((q) => encodeFrame(Request.encode(Request.fromPartial(q)).finish()))));
    return out;
  };
  const close = async () => {
    socket.destroy();
    await server.close();
    await db.close();
    dir.cleanup();
  };
  return { call, close, app };
}

const initChain = (): Req =>
  Request.fromPartial({
    initChain: {
      chainId: 'abci-test',
      time: { seconds: 1_767_225_600n, nanos: 0 },
      validators: [{ pubKey: { ed25519: validator.publicKey }, power: 1n }],
      appStateBytes: utf8(JSON.stringify(genesis)),
      initialHeight: 1n,
    },
  });

test('abci: pipelined CheckTx in order, FinalizeBlock, Commit, Info, Query with proof; two apps agree', async () => {
  const registry = { msgType: (t: string) => standardModules().flatMap((m) => m.msgs ?? []).find((h) => h.type === t) };
  const send = (seq: bigint, amount: bigint, chainId = 'abci-test') =>
    buildTx(registry, alice, { chainId, sequence: seq, fee: 5_000n, msgs: [{ type: 'bank/send', value: { to: bob.address, amount } }] });
  const good0 = send(0n, 100n);
  const good1 = send(1n, 200n);
  const badSig = Uint8Array.from(send(2n, 1n));
  badSig[badSig.length - 3] = (badSig[badSig.length - 3] as number) ^ 1;
  const wrongChain = send(2n, 1n, 'other-chain');
  const gap = send(5n, 1n);
  const garbage = Uint8Array.of(1, 2, 3);

  const a = await startApp();
  const b = await startApp();
  try {
    const [init] = await a.call([initChain()]);
    const [initB] = await b.call([initChain()]);
    assert.equal(toHex(init?.initChain?.appHash ?? new Uint8Array()), toHex(initB?.initChain?.appHash ?? new Uint8Array()));

    // One write, six CheckTx: answers in request order, each with its specific code.
    const checks = await a.call([good0, badSig, good1, wrongChain, gap, garbage].map((tx) => ({ checkTx: { tx, type: 0 } })));
    const got = checks.map((r) => [r.checkTx?.codespace, r.checkTx?.info]);
    assert.deepEqual(got, [
      ['', ''],
      ['tx', 'BAD_SIGNATURE'],
      ['', ''],
      ['tx', 'WRONG_CHAIN_ID'],
      ['tx', 'SEQUENCE_GAP'],
      ['tx', 'TX_DECODE'],
    ]);

    // A block with the two good txs and a bad one, on both apps.
    const block = (height: bigint, txs: Uint8Array[]): Req => ({
      finalizeBlock: { txs, height, time: { seconds: 1_767_225_601n + height, nanos: 0 }, proposerAddress: validator.address, hash: new Uint8Array(32), decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(32) },
    });
    const [fa] = await a.call([block(1n, [good0, good1, badSig])]);
    const [fb] = await b.call([block(1n, [good0, good1, badSig])]);
    const results = fa?.finalizeBlock?.txResults ?? [];
    assert.deepEqual(results.map((r) => r.code), [0, 0, 4], 'one result per tx, in order; the forged tx fails');
    assert.ok(results[0]?.events.some((e) => e.type === 'bank.transfer' && e.attributes.some((x) => x.key === 'recipient' && x.index)));
    const appHash = fa?.finalizeBlock?.appHash as Uint8Array;
    assert.equal(toHex(appHash), toHex(fb?.finalizeBlock?.appHash ?? new Uint8Array()), 'same block, same app hash');

    // Info reports the last *committed* height: FinalizeBlock alone persists nothing.
    const [info0] = await a.call([{ info: { version: '', blockVersion: 0n, p2pVersion: 0n, abciVersion: '' } }]);
    assert.equal(info0?.info?.lastBlockHeight, 0n);
    await a.call([{ commit: {} }]);
    await b.call([{ commit: {} }]);
    const [info1] = await a.call([{ info: { version: '', blockVersion: 0n, p2pVersion: 0n, abciVersion: '' } }]);
    assert.equal(info1?.info?.lastBlockHeight, 1n);
    assert.equal(toHex(info1?.info?.lastBlockAppHash ?? new Uint8Array()), toHex(appHash));

    // Query with a proof against the committed app hash; a wrong path is a clear error.
    const key = bankAccountKey(bob.address);
    const [q] = await a.call([{ query: { data: key, path: '/state', height: 0n, prove: true } }]);
    const proof = decodeProof(q?.query?.proofOps?.ops[0]?.data ?? new Uint8Array());
    assert.deepEqual(checkProof(appHash, key, q?.query?.value ?? null, proof), { ok: true });
    const [bad] = await a.call([{ query: { data: key, path: '/nope', height: 0n, prove: true } }]);
    assert.notEqual(bad?.query?.code, 0);
    assert.match(bad?.query?.log ?? '', /unknown query path/);

    // After the commit the check state follows: sequence 2 is next, 0 is a replay.
    const [replay, next] = await a.call([{ checkTx: { tx: good0, type: 0 } }, { checkTx: { tx: send(2n, 1n), type: 0 } }]);
    assert.equal(replay?.checkTx?.info, 'SEQUENCE_REUSED');
    assert.equal(next?.checkTx?.code, 0);

    // ProcessProposal rejects a proposal with undecodable bytes, accepts decodable ones.
    const [p1, p2] = await a.call([
      { processProposal: { txs: [good0, garbage], proposedLastCommit: { round: 0, votes: [] }, misbehavior: [], hash: new Uint8Array(32), height: 2n, time: { seconds: 1_767_225_700n, nanos: 0 }, nextValidatorsHash: new Uint8Array(32), proposerAddress: validator.address } },
      { processProposal: { txs: [good0], proposedLastCommit: { round: 0, votes: [] }, misbehavior: [], hash: new Uint8Array(32), height: 2n, time: { seconds: 1_767_225_700n, nanos: 0 }, nextValidatorsHash: new Uint8Array(32), proposerAddress: validator.address } },
    ]);
    assert.equal(p1?.processProposal?.status, 2, 'REJECT');
    assert.equal(p2?.processProposal?.status, 1, 'ACCEPT');
  } finally {
    await a.close();
    await b.close();
  }
});

/**
 * Random bytes at the tx decoder and random requests at the API: only clean rejections, no
 * crash, no 5xx, and the node stays up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toBase64 } from '../src/core/bytes.js';
import { ChainError, CodecError } from '../src/core/errors.js';
import { encode } from '../src/core/codec.js';
import { standardModules, standardRegistry } from '../src/chain/index.js';
import { decodeTx, txCodec, type MsgRegistry } from '../src/chain/tx.js';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

const registry: MsgRegistry = standardRegistry();

test('fuzz: the tx decoder rejects random bytes with CodecError only, and accepted bytes are canonical', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      try {
        const d = decodeTx(b, registry);
        assert.equal(Buffer.compare(encode(txCodec, d.tx), b), 0);
      } catch (e) {
        assert.ok(e instanceof CodecError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 20_000 },
  );
});

test('fuzz: the API answers random input with 2xx/4xx, never 5xx, and stays up', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-fuzz-');
  const init = await cli(['init', '--chain-id', 'fuzz-chain', '--block-time', '200'], { home: dir.path });
  assert.equal(init.code, 0, init.stderr);
  const node = await startNode(dir.path);
  try {
    const paths = ['/v1/txs', '/v1/txs/', '/v1/state/', '/v1/accounts/', '/v1/blocks/', '/v1/headers/', '/v1/txs?event=', '/v1/blocks/latest', '/v1/nothing/'];
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'application/octet-stream', body: b as Uint8Array | string })),
      fc.json().map((j) => ({ type: 'application/json', body: j as Uint8Array | string })),
      fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'application/json', body: JSON.stringify({ tx: toBase64(b) }) as Uint8Array | string })),
      fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/json', body: s as Uint8Array | string })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.string({ maxLength: 80 }), fc.boolean(), bodies, async (path, suffix, isPost, b) => {
        const url = `${node.url}${path}${encodeURIComponent(suffix)}`;
        const res = isPost
          ? await fetch(url, { method: 'POST', headers: { 'content-type': b.type }, body: b.body })
          : await fetch(url);
        const text = await res.text();
        assert.ok(res.status < 500, `${isPost ? 'POST' : 'GET'} ${url} → ${res.status} ${text.slice(0, 200)}`);
        if (res.status >= 400) assert.match(JSON.parse(text).error.code, /^[A-Za-z_.]+$/);
      }),
      { numRuns: 600 },
    );
    // Still alive and producing blocks.
    const s1 = (await (await fetch(`${node.url}/v1/status`)).json()) as { height: string };
    await new Promise((r) => setTimeout(r, 500));
    const s2 = (await (await fetch(`${node.url}/v1/status`)).json()) as { height: string };
    assert.ok(BigInt(s2.height) > BigInt(s1.height));
  } finally {
    await node.kill9();
    dir.cleanup();
  }
});

test('fuzz: the app turns any tx bytes into a ChainError result, never a throw', async () => {
  const { Database } = await import('../src/state/db.js');
  const { StateStore } = await import('../src/state/store.js');
  const { createApp } = await import('../src/chain/index.js');
  const { parseGenesis } = await import('../src/chain/genesis.js');
  const { testGenesis } = await import('../src/testkit/index.js');
  const dir = tempDir('gw-fuzz-app-');
  const db = new Database(dir.path, { noSync: true });
  const app = createApp(new StateStore(db));
  await app.initChain(parseGenesis(testGenesis(), standardModules()));
  try {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const r = app.checkTx({ bytes: b });
        assert.notEqual(r.code, 0);
        assert.ok(r.codespace === 'tx', r.log);
        assert.notEqual(r.error, 'INTERNAL');
      }),
      { numRuns: 5000 },
    );
    assert.throws(() => app.decode(new Uint8Array([1])), ChainError);
  } finally {
    await db.close();
    dir.cleanup();
  }
});

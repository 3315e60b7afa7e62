/**
 * Every kind of bad input gets a specific error code and message, the node keeps running and
 * committed state does not change.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { concat, toBase64, type Bytes } from '../src/core/bytes.js';
import { U128_MAX } from '../src/core/codec.js';
import { Keyring } from '../src/client/keyring.js';
import { createClient } from '../src/client/client.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { prepareTx } from '../src/client/actions/signAndSend.js';
import { getStatus } from '../src/client/actions/getStatus.js';
import { encodeAddress } from '../src/core/keys.js';
import { buildTx } from '../src/chain/tx.js';
import { cli, startNode, tempDir, testKey, type NodeProcess } from '../src/testkit/index.js';
import { homePaths } from '../src/node/home.js';

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
let faucetSeq = 0n;
const key = testKey('bad-input-recipient');

async function post(url: string, body: string | Bytes, contentType = 'application/json') {
  const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
}

/**
 * Announces a 40 MiB body and sends only its start: the node must refuse from the length alone
 * (a client streaming the whole body may see the connection closed before it reads the 413).
 */
function oversizePost(url: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(40 << 20) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 }));
        req.destroy();
      });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.write(new Uint8Array(1024));
  });
}

before(async () => {
  dir = tempDir('gw-bad-');
  const r = await cli(['init', '--chain-id', 'bad-chain', '--block-time', '200'], { home: dir.path });
  assert.equal(r.code, 0, r.stderr);
  node = await startNode(dir.path);
});

after(async () => {
  await node?.kill9();
  dir?.cleanup();
});

test('bad txs: each is rejected with its own code, the node keeps running, state is unchanged', { timeout: 120_000 }, async () => {
  const client = createClient({ url: node.url });
  const faucet = new Keyring(homePaths(dir.path).keyring).signer('faucet');
  // One good transfer so the faucet's next sequence is 1.
  const first = await prepareTx(client, { signer: faucet, msgs: [{ type: 'bank/send', value: { to: key.address, amount: 5n } }] });
  assert.equal((await post(node.url, JSON.stringify({ tx: toBase64(first.tx) }))).status, 202);
  faucetSeq = 1n;
  // Wait until it is committed so the state we compare against is settled.
  for (let i = 0; i < 50 && (await getAccount(client, { address: encodeAddress(faucet.address) })).sequence < 1n; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = await getStatus(client);
  const mk = (o: { sequence?: bigint; chainId?: string; fee?: bigint; amount?: bigint; memo?: string }) =>
    buildTx(client.registry, faucet, {
      chainId: o.chainId ?? 'bad-chain',
      sequence: o.sequence ?? faucetSeq,
      fee: o.fee ?? 100_000n,
      memo: o.memo ?? '',
      msgs: [{ type: 'bank/send', value: { to: key.address, amount: o.amount ?? 1n } }],
    });
  const good = mk({});
  const tampered = Uint8Array.from(good);
  tampered[tampered.length - 80] = (tampered[tampered.length - 80] as number) ^ 0xff;
  const badSig = Uint8Array.from(good);
  badSig[badSig.length - 1] = (badSig[badSig.length - 1] as number) ^ 1;
  const cases: Array<[string, Bytes, string]> = [
    ['malformed bytes', Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), 'tx.TX_DECODE'],
    ['trailing garbage', concat(good, Uint8Array.of(0)), 'tx.TX_DECODE'],
    ['tampered body', tampered, 'tx.BAD_SIGNATURE'],
    ['bad signature', badSig, 'tx.BAD_SIGNATURE'],
    ['wrong chain id', mk({ chainId: 'other-chain' }), 'tx.WRONG_CHAIN_ID'],
    ['reused sequence', mk({ sequence: 0n }), 'tx.SEQUENCE_REUSED'],
    ['skipped sequence', mk({ sequence: 9n }), 'tx.SEQUENCE_GAP'],
    ['fee too low', mk({ fee: 1n }), 'tx.FEE_TOO_LOW'],
    ['insufficient funds', mk({ amount: U128_MAX }), 'bank.INSUFFICIENT_FUNDS'],
    ['oversize memo', mk({ memo: 'x'.repeat(600) }), 'tx.MEMO_TOO_LONG'],
    ['oversize tx', new Uint8Array(70_000), 'tx.TX_TOO_LARGE'],
  ];
  for (const [name, bytes, code] of cases) {
    const r = await post(node.url, JSON.stringify({ tx: toBase64(bytes) }));
    assert.equal(r.status, 422, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error?.code, code, `${name}: ${r.body.error?.message}`);
    assert.ok((r.body.error?.message.length ?? 0) > 15, `${name} explains itself`);
  }
  // The same through the batch endpoint: one result per tx, in order.
  const batch = await post(node.url, JSON.stringify({ txs: cases.map(([, b]) => toBase64(b)) }));
  assert.equal(batch.status, 200);
  assert.deepEqual(
    (batch.body.results as Array<{ codespace: string; error: string }>).map((x) => `${x.codespace}.${x.error}`),
    cases.map(([, , c]) => c),
  );
  // Duplicate submission of an accepted tx.
  const ok = await post(node.url, JSON.stringify({ tx: toBase64(good) }));
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  const dup = await post(node.url, JSON.stringify({ tx: toBase64(good) }));
  assert.ok(['mempool.DUPLICATE', 'mempool.ALREADY_COMMITTED'].includes(dup.body.error?.code ?? ''), JSON.stringify(dup.body));

  // State: only the one good tx changed anything.
  await new Promise((r) => setTimeout(r, 600));
  const acct = await getAccount(client, { address: encodeAddress(key.address) });
  assert.equal(acct.balance, 6n);
  const after = await getStatus(client);
  assert.ok(BigInt(after.height) > BigInt(before.height), 'the node kept producing blocks');
});

test('bad HTTP requests get 4xx JSON errors, never a crash', { timeout: 60_000 }, async () => {
  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    ['malformed JSON', () => fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tx": "abc' }), 400, 'INVALID_JSON'],
    ['wrong shape', () => fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nope": 1}' }), 400, 'INVALID_REQUEST'],
    ['bad base64', () => fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tx": "***"}' }), 400, 'INVALID_BASE64'],
    ['wrong content type', () => fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['truncated binary batch', () => fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Uint8Array.of(0, 0, 0, 9, 1) }), 400, 'INVALID_BATCH'],
    ['body too large', () => oversizePost(`${node.url}/v1/txs`), 413, 'BODY_TOO_LARGE'],
    ['unknown route', () => fetch(`${node.url}/v1/nope`), 404, 'NOT_FOUND'],
    ['bad tx hash', () => fetch(`${node.url}/v1/txs/xyz`), 400, 'INVALID_REQUEST'],
    ['unknown tx', () => fetch(`${node.url}/v1/txs/${'AB'.repeat(32)}`), 404, 'TX_NOT_FOUND'],
    ['bad address', () => fetch(`${node.url}/v1/accounts/gw1notanaddress`), 400, 'INVALID_ADDRESS'],
    ['future height', () => fetch(`${node.url}/v1/blocks/99999999`), 404, 'HEIGHT_NOT_REACHED'],
    ['bad height', () => fetch(`${node.url}/v1/accounts/${'gw1w6m06ktu0pp8vptujp3wgzpsv2zaujcfg2tgt2'}?height=-1`), 400, 'INVALID_REQUEST'],
    ['bad state key', () => fetch(`${node.url}/v1/state/zz`), 400, 'INVALID_REQUEST'],
  ];
  for (const [name, call, status, code] of cases) {
    const res = await call();
    const body = (await res.json()) as { error?: { code: string; message: string } };
    assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
    assert.equal(body.error?.code, code, `${name}: ${JSON.stringify(body)}`);
  }
  assert.equal((await fetch(`${node.url}/health`)).status, 200);
});

test('CLI: user mistakes print one line and exit non-zero', { timeout: 60_000 }, async () => {
  const home = dir.path;
  const n = ['--node', node.url];
  const cases: Array<[string[], RegExp]> = [
    [[...n, 'bank', 'send', 'faucet', 'gw1xyz', '1gw'], /not a valid address/],
    [[...n, 'bank', 'send', 'faucet', 'faucet', '10'], /has no unit/],
    [[...n, 'bank', 'send', 'faucet', 'faucet', '1.0000001gw'], /more than 6 decimals/],
    [[...n, 'bank', 'send', 'faucet', 'faucet', `${(1n << 128n).toString()}ugw`], /exceeds the largest amount/],
    [[...n, 'bank', 'send', 'nobody', 'faucet', '1gw'], /no key named "nobody"/],
    [[...n, 'query', 'tx', 'abc'], /not a tx hash/],
    [['--node', 'http://127.0.0.1:1', 'query', 'balance', 'faucet'], /cannot reach the node/],
    [['keys', 'add', 'x y'], /key name "x y" is invalid/],
    [['keys', 'add', 'secret'], /needs a passphrase|passphrase is needed/],
    [['init'], /already initialized/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args, { home });
    assert.equal(r.code, 1, `${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const usage = await cli(['bank', 'send', 'only-one-arg'], { home });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing required argument/);
  const json = await cli([...n, '--json', 'query', 'tx', 'abc'], { home });
  assert.equal(JSON.parse(json.stderr).error.code, 'INVALID_HASH');
});

/**
 * The binary batch endpoint (POST /v1/txs, application/octet-stream: repeated u32 big-endian
 * length + tx bytes) against a real node process: valid and invalid txs in one batch are told
 * apart per index with their specific error, only the valid ones are committed, and malformed
 * framing is a 4xx JSON error that leaves the node running.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type Bytes } from '../src/core/bytes.js';
import { encodeAddress, type Ed25519Key } from '../src/core/keys.js';
import { buildTx, txHashHex } from '../src/chain/tx.js';
import { createClient, type Client } from '../src/client/client.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { getTx, waitForTx } from '../src/client/actions/getTx.js';
import { initHome } from '../src/devnet/init.js';
import { homePaths } from '../src/node/home.js';
import { startNode, tempDir, testKey, type NodeProcess } from '../src/testkit/index.js';
import { encodeTxBatch } from '../src/api/server.js';

const CHAIN_ID = 'batch-chain';
const FUNDS = 1_000_000_000n;
const FEE = 10_000n;
const alice = testKey('batch-alice');
const bob = testKey('batch-bob');
const carol = testKey('batch-carol'); // recipient only, never funded
const dave = testKey('batch-dave'); // recipient only, never funded

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
let client: Client;

interface Rejected {
  index: number;
  hash: string;
  code: number;
  codespace: string;
  error: string;
  log: string;
}
interface BatchReply {
  accepted?: number;
  rejected?: Rejected[];
  error?: { code: string; message: string };
}

const frame = encodeTxBatch;


async function postBatch(body: Uint8Array): Promise<{ status: number; type: string; body: BatchReply }> {
  const res = await fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as BatchReply };
}

function send(from: Ed25519Key, to: Ed25519Key, sequence: bigint, amount: bigint, chainId = CHAIN_ID): Bytes {
  return buildTx(client.registry, from, { chainId, sequence, fee: FEE, msgs: [{ type: 'bank/send', value: { to: to.address, amount } }] });
}

const account = (k: Ed25519Key) => getAccount(client, { address: encodeAddress(k.address) });

before(async () => {
  dir = tempDir('gw-batch-');
  initHome({
    home: dir.path,
    chainId: CHAIN_ID,
    blockIntervalMs: 200,
    apiPort: 0,
    extraBalances: [
      [encodeAddress(alice.address), FUNDS],
      [encodeAddress(bob.address), FUNDS],
    ],
  });
  node = await startNode(dir.path);
  client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(homePaths(dir.path).genesis)) });
});

after(async () => {
  if (node) assert.equal(await node.stop(), 0, `clean shutdown\n${node.log()}`);
  dir?.cleanup();
});

test('binary batch: valid txs are accepted and committed, each invalid one is rejected with its index and error', { timeout: 60_000 }, async () => {
  const a0 = send(alice, carol, 0n, 1_000n);
  const a1 = send(alice, dave, 1n, 2_000n);
  const b0 = send(bob, carol, 0n, 30_000n);
  const a2 = send(alice, carol, 2n, 4_000n);

  const badSig = Uint8Array.from(send(bob, dave, 1n, 777n));
  badSig[badSig.length - 10] = (badSig[badSig.length - 10] as number) ^ 0x01; // inside the 64-byte signature
  const wrongChain = send(bob, dave, 1n, 555n, 'some-other-chain');
  const reusedSeq = send(alice, dave, 0n, 999n); // alice's sequence 0 is taken by a0 earlier in this batch
  const garbage = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]);
  const empty = new Uint8Array(0);

  // Order matters: a0 before a1 before a2 (same sender), reusedSeq after a0.
  const batch: Array<{ tx: Bytes; expect: string | null }> = [
    { tx: a0, expect: null },
    { tx: badSig, expect: 'tx.BAD_SIGNATURE' },
    { tx: a1, expect: null },
    { tx: wrongChain, expect: 'tx.WRONG_CHAIN_ID' },
    { tx: b0, expect: null },
    { tx: reusedSeq, expect: 'tx.SEQUENCE_REUSED' },
    { tx: garbage, expect: 'tx.TX_DECODE' },
    { tx: a0, expect: 'mempool.DUPLICATE' },
    { tx: empty, expect: 'tx.TX_DECODE' },
    { tx: a2, expect: null },
  ];
  const r = await postBatch(frame(batch.map((b) => b.tx)));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.type, /application\/json/);
  const valid = batch.filter((b) => b.expect === null);
  assert.equal(r.body.accepted, valid.length, JSON.stringify(r.body));
  const rejected = r.body.rejected ?? [];
  assert.deepEqual(
    rejected.map((x) => [x.index, `${x.codespace}.${x.error}`]),
    batch.flatMap((b, i) => (b.expect === null ? [] : [[i, b.expect]])),
    JSON.stringify(rejected),
  );
  for (const x of rejected) {
    const sent = batch[x.index]!.tx;
    assert.notEqual(x.code, 0, `index ${x.index} has a non-zero ABCI code`);
    assert.ok(x.log.length > 10, `index ${x.index} explains itself: "${x.log}"`);
    // Bytes that decode are identified by their hash; bytes that do not have none.
    assert.equal(x.hash, x.error === 'TX_DECODE' ? '' : txHashHex(sent), `index ${x.index} hash`);
  }

  // Every accepted tx is committed, successfully.
  for (const { tx } of valid) {
    const t = await waitForTx(client, { hash: txHashHex(tx), timeoutMs: 15_000 });
    assert.equal(t.code, 0, `${t.hash}: ${t.log}`);
  }
  // None of the rejected ones is (those that have a hash at all), save a0's duplicate.
  for (const x of rejected) {
    if (x.hash === '' || x.error === 'DUPLICATE') continue;
    assert.equal(await getTx(client, { hash: x.hash }), undefined, `rejected tx at index ${x.index} must not be committed`);
  }

  // Balances and sequences (proof-verified by the SDK) reflect exactly the valid txs.
  const [a, b, c, d] = await Promise.all([account(alice), account(bob), account(carol), account(dave)]);
  assert.equal(a.sequence, 3n);
  assert.equal(a.balance, FUNDS - (1_000n + 2_000n + 4_000n) - 3n * FEE);
  assert.equal(b.sequence, 1n);
  assert.equal(b.balance, FUNDS - 30_000n - FEE);
  assert.equal(c.balance, 1_000n + 30_000n + 4_000n);
  assert.equal(d.balance, 2_000n, 'neither the bad-signature, wrong-chain nor reused-sequence transfer to dave was applied');
});

test('binary batch: malformed framing is a 4xx JSON error, the node keeps running', { timeout: 60_000 }, async () => {
  const before = await account(bob);
  const next = send(bob, dave, before.sequence, 123n);
  const framed = frame([next]);
  const cases: Array<[string, Uint8Array]> = [
    ['length prefix longer than the body', Uint8Array.of(0, 0, 0, 9, 1, 2, 3)],
    ['length prefix claiming 4 GiB', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1)],
    ['truncated length prefix', Uint8Array.of(0, 0)],
    ['valid tx then a truncated one', Buffer.concat([framed, Uint8Array.of(0, 0, 1, 0, 7)])],
    ['valid tx then half a prefix', Buffer.concat([framed, Uint8Array.of(0, 0, 0)])],
    ['valid tx with its last byte cut off', framed.subarray(0, framed.length - 1)],
  ];
  for (const [name, body] of cases) {
    const r = await postBatch(body);
    assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
    assert.match(r.type, /application\/json/, name);
    assert.equal(r.body.error?.code, 'INVALID_BATCH', `${name}: ${JSON.stringify(r.body)}`);
    assert.ok((r.body.error?.message.length ?? 0) > 10, `${name} explains itself`);
    assert.equal(r.body.accepted, undefined, `${name}: nothing was submitted`);
  }
  // An empty body frames zero txs: a no-op, not an error.
  const empty = await postBatch(new Uint8Array(0));
  assert.equal(empty.status, 200, JSON.stringify(empty.body));
  assert.deepEqual(empty.body, { accepted: 0, rejected: [] });

  assert.equal((await fetch(`${node.url}/health`)).status, 200);
  // A malformed batch is refused as a whole: the valid tx framed in front of the bad part was
  // not admitted, so the same tx is accepted now (not a DUPLICATE).
  const ok = await postBatch(framed);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { accepted: 1, rejected: [] });
  const t = await waitForTx(client, { hash: txHashHex(next), timeoutMs: 15_000 });
  assert.equal(t.code, 0, t.log);
  const after = await account(bob);
  assert.equal(after.sequence, before.sequence + 1n);
  assert.equal(after.balance, before.balance - 123n - FEE);
});

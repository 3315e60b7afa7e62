/**
 * The WebSocket stream, and the SDK refusing what a lying node says.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { createClient } from '../src/client/client.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { transfer } from '../src/client/actions/signAndSend.js';
import { NodeUnreachableError, VerificationError } from '../src/client/errors.js';
import { subscribeEvents, type ChainEvent } from '../src/client/events.js';
import { Keyring } from '../src/client/keyring.js';
import { encodeAddress } from '../src/core/keys.js';
import { homePaths } from '../src/node/home.js';
import { cli, startNode, tempDir, testKey, type NodeProcess } from '../src/testkit/index.js';

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
const recipient = encodeAddress(testKey('ws-recipient').address);

before(async () => {
  dir = tempDir('gw-ws-');
  assert.equal((await cli(['init', '--chain-id', 'ws-chain', '--block-time', '200'], { home: dir.path })).code, 0);
  node = await startNode(dir.path);
});
after(async () => {
  await node?.kill9();
  dir?.cleanup();
});

function genesisBytes(): Uint8Array {
  return new Uint8Array(readFileSync(homePaths(dir.path).genesis));
}

test('websocket: blocks and filtered txs stream after commit; bad commands get an error', { timeout: 60_000 }, async () => {
  const ws = new WebSocket(`${node.url.replace('http', 'ws')}/v1/ws`);
  const msgs: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise((r) => ws.once('open', r));
  ws.send('not json');
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'nope' }));
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'blocks' }));
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'txs', filter: `bank.transfer.recipient=${recipient}` }));
  const client = createClient({ url: node.url, genesis: genesisBytes() });
  const faucet = new Keyring(homePaths(dir.path).keyring).signer('faucet');
  const sent = await transfer(client, { signer: faucet, to: recipient, amount: 42n });
  const deadline = Date.now() + 5000;
  while (!msgs.some((m) => m.channel === 'txs') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ws.close();
  assert.equal((msgs[0]?.error as { code: string }).code, 'INVALID_JSON');
  assert.equal((msgs[1]?.error as { code: string }).code, 'INVALID_COMMAND');
  assert.ok(msgs.some((m) => m.channel === 'blocks'), 'block events');
  const tx = msgs.find((m) => m.channel === 'txs')?.tx as { hash: string; code: number } | undefined;
  assert.equal(tx?.hash, sent.hash);
  assert.equal(tx?.code, 0);
});

test('websocket: the events channel delivers each matching committed event once; other filters get nothing', { timeout: 60_000 }, async () => {
  const other = encodeAddress(testKey('ws-nobody').address);
  const client = createClient({ url: node.url, genesis: genesisBytes() });
  // The SDK helper, filtered on this recipient.
  const got: ChainEvent[] = [];
  const sub = subscribeEvents(client, `bank.transfer.recipient=${recipient}`, (e) => got.push(e));
  // A raw socket whose filter matches nothing, and one with a type-only filter.
  const raw = new WebSocket(`${node.url.replace('http', 'ws')}/v1/ws`);
  const rawMsgs: Array<Record<string, unknown>> = [];
  raw.on('message', (d) => rawMsgs.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise((r) => raw.once('open', r));
  raw.send(JSON.stringify({ op: 'subscribe', channel: 'events', filter: `bank.transfer.recipient=${other}` }));
  raw.send(JSON.stringify({ op: 'subscribe', channel: 'events', filter: 7 }));
  await sub.ready;
  const faucet = new Keyring(homePaths(dir.path).keyring).signer('faucet');
  const sent = await transfer(client, { signer: faucet, to: recipient, amount: 7n });
  const deadline = Date.now() + 5000;
  while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // A moment more: nothing else may arrive for this filter, and nothing for the other one.
  const h = BigInt(sent.height);
  await new Promise((r) => setTimeout(r, 600));
  sub.close();
  raw.close();
  assert.equal(got.length, 1, JSON.stringify(got, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  const e = got[0] as ChainEvent;
  assert.equal(e.source, 'tx');
  assert.equal(e.txHash, sent.hash);
  assert.equal(e.height, h);
  assert.equal(e.event.type, 'bank.transfer');
  assert.equal(e.event.attributes.recipient, recipient);
  assert.equal(e.event.attributes.amount, '7');
  assert.deepEqual(rawMsgs[0], { ok: true, op: 'subscribe', subscription: 'events' });
  assert.equal((rawMsgs[1]?.error as { code: string }).code, 'INVALID_COMMAND');
  assert.equal(rawMsgs.filter((m) => m.channel === 'events').length, 0, 'a filter that matches nothing delivers nothing');
  // An unreachable node rejects `ready` with a typed error.
  const dead = subscribeEvents('http://127.0.0.1:9', undefined, () => undefined);
  await assert.rejects(dead.ready, NodeUnreachableError);
});

test('websocket: an unfiltered events subscription sees begin/end-block events and tx events in block order', { timeout: 60_000 }, async () => {
  const client = createClient({ url: node.url, genesis: genesisBytes() });
  const got: ChainEvent[] = [];
  const sub = subscribeEvents(client, '', (e) => got.push(e));
  await sub.ready;
  const faucet = new Keyring(homePaths(dir.path).keyring).signer('faucet');
  const sent = await transfer(client, { signer: faucet, to: recipient, amount: 3n });
  const deadline = Date.now() + 5000;
  while (!got.some((e) => e.txHash === sent.hash) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // the block's end events follow its tx events
  sub.close();
  const inBlock = got.filter((e) => e.height === BigInt(sent.height));
  assert.ok(inBlock.some((e) => e.source === 'tx' && e.txHash === sent.hash && e.event.type === 'bank.transfer'), 'the transfer event');
  // Within a block: begin events, then tx events (in tx order), then end events.
  const rank = { begin: 0, tx: 1, end: 2 } as const;
  for (let i = 1; i < inBlock.length; i++) assert.ok(rank[(inBlock[i - 1] as ChainEvent).source] <= rank[(inBlock[i] as ChainEvent).source], 'block order');
});

/** An HTTP proxy to the node that rewrites account responses. */
async function lyingProxy(rewrite: (body: Record<string, unknown>) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const upstream = await fetch(`${node.url}${req.url}`);
    const buf = Buffer.from(await upstream.arrayBuffer());
    let out: Buffer = buf;
    if (req.url?.startsWith('/v1/accounts/')) {
      const body = JSON.parse(buf.toString()) as Record<string, unknown>;
      rewrite(body);
      out = Buffer.from(JSON.stringify(body));
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

test('sdk: a node that lies about state is caught by proof verification', { timeout: 60_000 }, async () => {
  const faucet = new Keyring(homePaths(dir.path).keyring).get('faucet');
  const honest = await getAccount(createClient({ url: node.url, genesis: genesisBytes() }), { address: faucet.address });
  assert.ok(honest.balance > 0n);
  const lies: Array<[string, (b: Record<string, unknown>) => void, RegExp]> = [
    ['inflated value', (b) => {
      const p = b.proof as { value: string };
      p.value = `${p.value.slice(0, -2)}ff`;
    }, /different value|does not lead/],
    ['flipped proof byte', (b) => {
      const p = b.proof as { proof: string };
      const raw = Buffer.from(p.proof, 'base64');
      raw[raw.length - 40] = (raw[raw.length - 40] as number) ^ 1;
      p.proof = raw.toString('base64');
    }, /proof|root|decode/],
    ['claims absence', (b) => {
      (b.proof as { value: string | null }).value = null;
    }, /present|absent|does not lead/],
    ['forged header', (b) => {
      const p = b.proof as { header: string };
      const raw = Buffer.from(p.header, 'base64');
      raw[30] = (raw[30] as number) ^ 1;
      p.header = raw.toString('base64');
    }, /signature|header/],
  ];
  for (const [name, rewrite, re] of lies) {
    const proxy = await lyingProxy(rewrite);
    try {
      await assert.rejects(getAccount(createClient({ url: proxy.url, genesis: genesisBytes() }), { address: faucet.address }), (e: unknown) => {
        assert.ok(e instanceof VerificationError, `${name}: ${String(e)}`);
        assert.match(e.message, re, name);
        return true;
      });
    } finally {
      proxy.server.close();
    }
  }
  // A client that trusts another chain refuses this node's answers.
  const other = JSON.parse(Buffer.from(genesisBytes()).toString()) as { chainId: string };
  other.chainId = 'another-chain';
  await assert.rejects(getAccount(createClient({ url: node.url, genesis: other }), { address: faucet.address }), /another-chain/);
  // Pinning the genesis hash: the right one works, a wrong one is refused.
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256').update(genesisBytes()).digest('hex');
  assert.equal((await getAccount(createClient({ url: node.url, genesisHash: h }), { address: faucet.address })).address, faucet.address);
  await assert.rejects(getAccount(createClient({ url: node.url, genesisHash: 'ab'.repeat(32) }), { address: faucet.address }), VerificationError);
});

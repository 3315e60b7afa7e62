/**
 * The storage client against providers that lie, stall or are not there: every answer that does
 * not verify is a ProviderHttpError BAD_RESPONSE (never a value), a stalled provider a
 * PROVIDER_TIMEOUT, a missing one PROVIDER_UNREACHABLE. The lying providers are plain node:http
 * servers on loopback answering what each test needs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { toBase64, toHex, type Bytes } from '../core/bytes.js';
import { encodeAddress } from '../core/keys.js';
import { LEAF_SIZE, leafHash, leafProof, pieceProof, pieceRoot, shardRoot } from '../core/shardtree.js';
import { retrievalReceiptSignBytes, shardAckSignBytes } from '../chain/modules/storage/signing.js';
import { freePort, testKey } from '../testkit/index.js';
import { fetchLeaf, fetchPiece, pieceRootOf, ProviderHttpError, storageStatus, uploadShard, verifyPieceData } from './http.js';

const CHAIN = 'http-test';
const provider = testKey('http-provider');
const other = testKey('http-other');
const customer = testKey('http-customer');

/** A 4-piece shard of 2-leaf pieces. */
function shard() {
  const pieceSize = 2 * LEAF_SIZE;
  const data = new Uint8Array(randomBytes(4 * pieceSize));
  const leaves: Bytes[] = [];
  for (let o = 0; o < data.length; o += LEAF_SIZE) leaves.push(leafHash(data.subarray(o, o + LEAF_SIZE)));
  const pieceRoots = [0, 1, 2, 3].map((p) => pieceRoot(leaves.slice(2 * p, 2 * p + 2)));
  return { data, pieceSize, leaves, pieceRoots, root: shardRoot(pieceRoots) };
}

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

async function serve(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<string> {
  const s = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(parts)));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => {
    s.closeAllConnections();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function bad(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ProviderHttpError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, /at http:\/\/127\.0\.0\.1:[0-9]+ failed/);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('http: verifyPieceData accepts the piece at its index and nothing else', () => {
  const s = shard();
  const piece = s.data.subarray(s.pieceSize, 2 * s.pieceSize);
  const proof = pieceProof(s.pieceRoots, 1);
  assert.deepEqual(pieceRootOf(piece), s.pieceRoots[1]);
  assert.ok(verifyPieceData(piece, 1, 4, proof, s.root));
  assert.ok(!verifyPieceData(piece, 2, 4, proof, s.root));
  assert.ok(!verifyPieceData(piece, 1, 5, proof, s.root));
  const flipped = Uint8Array.from(piece);
  flipped[100]! ^= 1;
  assert.ok(!verifyPieceData(flipped, 1, 4, proof, s.root));
  assert.ok(!verifyPieceData(piece.subarray(0, 5000), 1, 4, proof, s.root));
});

test('http: a piece that does not verify, or lies about the piece count or size, is BAD_RESPONSE', async (t) => {
  const s = shard();
  let mode = 'good';
  const url = await serve(t, (req, res) => {
    const i = Number(req.url?.split('/').pop());
    const data = Buffer.from(s.data.subarray(i * s.pieceSize, (i + 1) * s.pieceSize));
    if (mode === 'flip') data[7]! ^= 1;
    const proof = pieceProof(s.pieceRoots, i).map((h) => toHex(h)).join('');
    res.writeHead(200, { 'x-gw-proof': proof, 'x-gw-pieces': mode === 'count' ? '5' : '4', 'content-type': 'application/octet-stream' });
    res.end(mode === 'long' ? Buffer.concat([data, data]) : data);
  });
  assert.equal((await fetchPiece(url, s.root, 2, { pieces: 4, pieceSize: s.pieceSize })).data.length, s.pieceSize);
  mode = 'flip';
  await bad(fetchPiece(url, s.root, 2), 'BAD_RESPONSE', /does not verify/);
  mode = 'count';
  await bad(fetchPiece(url, s.root, 2, { pieces: 4 }), 'BAD_RESPONSE', /5 pieces/);
  await bad(fetchPiece(url, s.root, 2), 'BAD_RESPONSE', /does not verify/);
  mode = 'long';
  await bad(fetchPiece(url, s.root, 2, { pieceSize: s.pieceSize }), 'BAD_RESPONSE', /8192 bytes/);
});

test('http: a leaf or receipt that does not verify, or a receipt by another key, is BAD_RESPONSE', async (t) => {
  const s = shard();
  let mode = 'good';
  const url = await serve(t, (req, res) => {
    const u = new URL(req.url ?? '', 'http://x');
    const i = Number(u.pathname.split('/').pop());
    const nonce = Buffer.from(u.searchParams.get('nonce') ?? '', 'hex');
    const data = Buffer.from(s.data.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE));
    const signer = mode === 'other' ? other : provider;
    const sig = signer.sign(retrievalReceiptSignBytes(CHAIN, s.root, i, leafHash(data), nonce));
    if (mode === 'flip') data[0]! ^= 1;
    const proof = leafProof(s.leaves.slice(Math.floor(i / 2) * 2, Math.floor(i / 2) * 2 + 2), s.pieceRoots, i).map((h) => toHex(h));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: toBase64(data), proof, leafCount: 8, receipt: { pubKey: toHex(signer.publicKey), signature: toHex(sig) } }));
  });
  const nonce = randomBytes(32);
  const ok = await fetchLeaf(url, s.root, 5, nonce, { chainId: CHAIN, expectedProvider: encodeAddress(provider.address), leafCount: 8 });
  assert.equal(ok.leafCount, 8);
  await bad(fetchLeaf(url, s.root, 5, nonce, { chainId: CHAIN, leafCount: 16 }), 'BAD_RESPONSE', /8 leaves/);
  await bad(fetchLeaf(url, s.root, 5, nonce, { chainId: 'elsewhere' }), 'BAD_RESPONSE', /receipt/);
  mode = 'flip';
  await bad(fetchLeaf(url, s.root, 5, nonce, { chainId: CHAIN }), 'BAD_RESPONSE', /leaf does not verify/);
  mode = 'other';
  await bad(fetchLeaf(url, s.root, 5, nonce, { chainId: CHAIN, expectedProvider: encodeAddress(provider.address) }), 'BAD_RESPONSE', /not by/);
  await bad(fetchLeaf(url, s.root, 5, new Uint8Array(8), { chainId: CHAIN }), 'INVALID_ARGUMENT');
});

test('http: an ack for other bytes, with a bad signature, or by another provider is BAD_RESPONSE', async (t) => {
  const s = shard();
  let mode = 'good';
  let received = 0;
  const url = await serve(t, (req, res, body) => {
    received = body.length;
    const lease = BigInt(req.url?.split('/')[3] ?? '0');
    const bytes = BigInt(mode === 'bytes' ? body.length - s.pieceSize : body.length);
    const signer = mode === 'other' ? other : provider;
    let sig = signer.sign(shardAckSignBytes(CHAIN, lease, s.root, bytes));
    if (mode === 'sig') sig = randomBytes(64);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ root: toHex(s.root), bytes: bytes.toString(), pubKey: toHex(signer.publicKey), signature: toHex(sig) }));
  });
  const up = (over: Record<string, unknown> = {}) =>
    uploadShard(url, { lease: 12n, root: s.root, bytes: s.data.length, pieceSize: s.pieceSize, key: customer, chainId: CHAIN, body: chunks(s.data.subarray(0, 5000), s.data.subarray(5000)), expectedProvider: encodeAddress(provider.address), ...over });
  const ack = await up();
  assert.equal(received, s.data.length);
  assert.equal(ack.provider, encodeAddress(provider.address));
  mode = 'bytes';
  await bad(up(), 'BAD_RESPONSE', /not the/);
  mode = 'sig';
  await bad(up(), 'BAD_RESPONSE', /signature/);
  mode = 'other';
  await bad(up(), 'BAD_RESPONSE', /not by the lease's provider/);
  // Without an expected provider any valid signer passes, and is named.
  assert.equal((await up({ expectedProvider: undefined })).provider, encodeAddress(other.address));
  await bad(up({ pieceSize: 5000 }), 'INVALID_ARGUMENT');
  await bad(up({ bytes: s.data.length + 1 }), 'INVALID_ARGUMENT');
});

test('http: refusals carry the provider code and a hint; a non-JSON error, a stall, no provider are reported as such', async (t) => {
  let mode = 'refuse';
  const url = await serve(t, (_req, res) => {
    if (mode === 'refuse') res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'INSUFFICIENT_CAPACITY', message: 'full' }));
    else if (mode === 'html') res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    // 'stall': never answers
  });
  await assert.rejects(storageStatus(url), (e: unknown) => {
    assert.ok(e instanceof ProviderHttpError);
    assert.equal(e.code, 'INSUFFICIENT_CAPACITY');
    assert.equal(e.status, 413);
    assert.equal(e.provider, url);
    assert.match(e.message, /full; the provider is full: use another provider/);
    return true;
  });
  mode = 'html';
  await bad(storageStatus(url), 'BAD_RESPONSE', /HTTP 502/);
  mode = 'stall';
  await bad(fetchPiece(url, randomBytes(32), 0, { timeoutMs: 200 }), 'PROVIDER_TIMEOUT');
  const s = shard();
  await bad(
    uploadShard(url, { lease: 1n, root: s.root, bytes: s.data.length, pieceSize: s.pieceSize, key: customer, chainId: CHAIN, body: chunks(s.data), idleTimeoutMs: 200 }),
    'PROVIDER_TIMEOUT',
  );
  const nobody = `http://127.0.0.1:${await freePort()}`;
  await bad(storageStatus(nobody), 'PROVIDER_UNREACHABLE', /is the provider online/);
});

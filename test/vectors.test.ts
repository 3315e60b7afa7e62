/**
 * Committed test vectors for the canonical encodings: a tx, its sign bytes and hash; an
 * account value; a block header; a state proof. Any change to an encoding breaks these on
 * purpose. Regenerate (only for an intended format change) with:
 *   GROUNDWORK_WRITE_VECTORS=1 node --test dist/test/vectors.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex, utf8 } from '../src/core/bytes.js';
import { decode, encode } from '../src/core/codec.js';
import { sha256 } from '../src/core/hash.js';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { standardRegistry } from '../src/chain/index.js';
import { buildTx, decodeTx, signBytesOf, txCodec, txHashHex, txToJSON, type MsgRegistry } from '../src/chain/tx.js';
import { accountCodec } from '../src/chain/modules/bank/keeper.js';
import { headerCodec, headerHash } from '../src/node/block.js';
import { updateTree, prove, decodeNode, type Change } from '../src/state/jmt.js';
import { checkProof, decodeProof, encodeProof } from '../src/state/proof.js';
import { REPO } from '../src/testkit/index.js';
import { compare, toKeyString } from '../src/core/bytes.js';

const file = join(REPO, 'test', 'vectors', 'encoding.json');
const registry: MsgRegistry = standardRegistry();

function compute() {
  const signer = Ed25519Key.fromSeed(sha256(utf8('groundwork vector signer')));
  const to = sha256(utf8('groundwork vector recipient')).subarray(0, 20);
  const tx = buildTx(registry, signer, {
    chainId: 'groundwork-vectors',
    sequence: 7n,
    fee: 3100n,
    timeoutHeight: 1000n,
    memo: 'héllo ✓',
    msgs: [
      { type: 'bank/send', value: { to, amount: 1_500_000n } },
      { type: 'bank/send', value: { to: signer.address, amount: (1n << 100n) + 1n } },
    ],
  });
  const account = encode(accountCodec, { sequence: 3n, balance: 123_456_789n });
  const header = {
    chainId: 'groundwork-vectors',
    height: 42n,
    time: 1_767_225_600_000n,
    lastBlockHash: sha256(utf8('last')),
    txsHash: sha256(utf8('txs')),
    resultsHash: sha256(utf8('results')),
    appHash: sha256(utf8('app')),
    validatorsHash: sha256(utf8('vals')),
    proposer: signer.publicKey,
  };
  // A small tree: keys k0..k9 with values v0..v9; proofs of k3 (present) and "absent".
  const nodes = new Map<string, Uint8Array>();
  const changes: Change[] = [...Array(10).keys()]
    .map((i) => ({ key: utf8(`k${i}`), keyHash: sha256(utf8(`k${i}`)), value: utf8(`v${i}`) }))
    .sort((a, b) => compare(a.keyHash, b.keyHash));
  const u = updateTree({ getNode: () => undefined }, null, 1, changes);
  for (const n of u.newNodes) nodes.set(toKeyString(n.nodeKey), n.encoded);
  const reader = { getNode: (k: Uint8Array) => { const b = nodes.get(toKeyString(k)); return b ? decodeNode(b) : undefined; } };
  return {
    tx: {
      signerPublicKey: toHex(signer.publicKey),
      signerAddress: encodeAddress(signer.address),
      hex: toHex(tx),
      hash: txHashHex(tx),
      signBytes: toHex(signBytesOf(tx)),
      json: txToJSON(decodeTx(tx, registry), registry),
    },
    account: toHex(account),
    header: { hex: toHex(encode(headerCodec, header)), hash: toHex(headerHash(header)) },
    tree: {
      root: toHex(u.rootHash),
      presentProof: toHex(encodeProof(prove(reader, u.root, utf8('k3')).proof)),
      absentProof: toHex(encodeProof(prove(reader, u.root, utf8('absent')).proof)),
    },
  };
}

test('encoding vectors match the committed ones', () => {
  const got = compute();
  if (process.env.GROUNDWORK_WRITE_VECTORS || !existsSync(file)) {
    writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
    if (!process.env.GROUNDWORK_WRITE_VECTORS) assert.fail(`wrote ${file}; commit it and run again`);
  }
  const want = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof compute>;
  assert.deepEqual(got, want);
});

test('vectors decode to what they encode, and proofs verify', () => {
  const v = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof compute>;
  const tx = fromHex(v.tx.hex);
  const d = decodeTx(tx, registry);
  assert.equal(toHex(encode(txCodec, d.tx)), v.tx.hex, 'decode then encode gives the same bytes');
  assert.equal(d.tx.body.memo, 'héllo ✓');
  assert.equal(encodeAddress(d.signerAddress), v.tx.signerAddress);
  assert.deepEqual(decode(accountCodec, fromHex(v.account)), { sequence: 3n, balance: 123_456_789n });
  const root = fromHex(v.tree.root);
  assert.deepEqual(checkProof(root, utf8('k3'), utf8('v3'), decodeProof(fromHex(v.tree.presentProof))), { ok: true });
  assert.deepEqual(checkProof(root, utf8('absent'), null, decodeProof(fromHex(v.tree.absentProof))), { ok: true });
  assert.equal(checkProof(root, utf8('k3'), utf8('v4'), decodeProof(fromHex(v.tree.presentProof))).ok, false);
});

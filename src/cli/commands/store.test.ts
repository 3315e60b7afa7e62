import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testkit/index.js';
import { encodeFile } from '../../storage/encode.js';
import { statInput } from '../../storage/put.js';
import { manifestPath, parseK, parseM, readRecord, saveRecord, storeDir } from './store.js';

test('store CLI: --k is 1-24 and --m 0-6 (the Reed-Solomon library), whole numbers only', () => {
  assert.deepEqual(['1', '4', '24'].map(parseK), [1, 4, 24]);
  assert.deepEqual(['0', '2', '6'].map(parseM), [0, 2, 6]);
  for (const v of ['0', '25', '-1', '2.5', 'four', '']) assert.throws(() => parseK(v), /--k \(data shards\) must be a whole number from 1 to 24/, v);
  for (const v of ['7', '-1', '1.5', 'x']) assert.throws(() => parseM(v), /--m \(parity shards\) must be a whole number from 0 to 6/, v);
});

test('store CLI: a manifest is saved as <home>/store/<order>.json, owner-only, and reads back with its deal record', async () => {
  const dir = tempDir('gw-store-unit-');
  try {
    const manifest = await encodeFile(new Uint8Array([1, 2, 3]), 3, { k: 2, m: 1, name: 'abc.bin' });
    const meta = { order: '7', chainId: 'c', customer: 'gw1x', height: '9', storedAt: '2026-01-01T00:00:00.000Z', source: '/tmp/abc.bin' };
    const path = saveRecord(dir.path, 7n, manifest, meta);
    assert.equal(path, manifestPath(dir.path, 7n));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(storeDir(dir.path)).mode & 0o777, 0o700);
    const back = readRecord(path);
    assert.deepEqual(back.manifest, manifest);
    assert.deepEqual(back.meta, meta);
    writeFileSync(join(storeDir(dir.path), '8.json'), '{"version":1}');
    assert.throws(() => readRecord(join(storeDir(dir.path), '8.json')), /8\.json: invalid manifest/);
    writeFileSync(join(storeDir(dir.path), '9.json'), 'nope');
    assert.throws(() => readRecord(join(storeDir(dir.path), '9.json')), /is not a manifest \(not JSON\)/);
  } finally {
    dir.cleanup();
  }
});

test('store put: the input must be an existing regular file', async () => {
  const dir = tempDir('gw-store-unit-');
  try {
    await assert.rejects(statInput(join(dir.path, 'nope')), (e: Error & { code?: string }) => e.code === 'FILE_NOT_FOUND' && /nope does not exist/.test(e.message));
    await assert.rejects(statInput(dir.path), (e: Error & { code?: string }) => e.code === 'NOT_A_FILE' && /a directory/.test(e.message));
    writeFileSync(join(dir.path, 'f'), 'hello');
    assert.equal((await statInput(join(dir.path, 'f'))).size, 5);
  } finally {
    dir.cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { decryptSegment, encryptSegment, newFileKey, segmentNonce } from './crypto.js';
import { StorageError } from './errors.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => i);

// Computed independently with Python's `cryptography` (AESGCM(key).encrypt(nonce, pt, aad)).
const VECTORS: [number, string, string][] = [
  [0, '', '15c0d794bbc1adfa15e40b5e017af22b'],
  [1, toHex(utf8('groundwork')), '72a4d0892a9047717c459ac812292f1c1cbb0de88a99a2d9d46e'],
  [258, toHex(Uint8Array.from({ length: 40 }, (_, i) => i)), '0d291295609916562e15630eb70d3977f307ba9db8509f228cc1827f7a2a1ed2ff8e80f2d3d135f3bcca97ff47b7d2ff8068c99bfa2658ca'],
];

test('segment crypto: AES-256-GCM vectors (nonce 0⁴ ‖ u64be(segment), the contract AAD)', () => {
  for (const [s, pt, sealed] of VECTORS) {
    assert.equal(toHex(encryptSegment(key, s, fromHex(pt))), sealed, `segment ${s}`);
    assert.equal(toHex(decryptSegment(key, s, fromHex(sealed))), pt);
  }
  assert.equal(toHex(segmentNonce(258)), '000000000000000000000102');
});

test('segment crypto: a wrong key, another segment index or any flipped bit fails with DECRYPT_FAILED', () => {
  const pt = utf8('a segment of a file');
  const sealed = encryptSegment(key, 7, pt);
  const isDecryptFailed = (e: unknown) => e instanceof StorageError && e.code === 'DECRYPT_FAILED' && /segment 7 failed authentication/.test(e.message);
  assert.throws(() => decryptSegment(newFileKey(), 7, sealed), isDecryptFailed);
  assert.throws(() => decryptSegment(key, 8, sealed), (e: unknown) => e instanceof StorageError && e.code === 'DECRYPT_FAILED');
  for (let i = 0; i < sealed.length; i++) {
    const bad = Uint8Array.from(sealed);
    bad[i]! ^= 0x10;
    assert.throws(() => decryptSegment(key, 7, bad), isDecryptFailed, `byte ${i}`);
  }
  assert.throws(() => decryptSegment(key, 7, sealed.subarray(0, 10)), isDecryptFailed);
});

test('segment crypto: keys are 32 random bytes; bad keys and indices are input errors', () => {
  const a = newFileKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, newFileKey());
  assert.throws(() => encryptSegment(key.subarray(1), 0, utf8('x')), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_FILE_KEY');
  assert.throws(() => segmentNonce(-1), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_SEGMENT');
});

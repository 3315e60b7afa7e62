import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { randomBytes } from 'node:crypto';
import { decryptSegment, encryptSegment, jsOpenSegmentInto, jsSealSegmentInPlace, newFileKey, openSegmentInto, sealSegmentInPlace, SEGMENT_AAD, segmentNonce } from './crypto.js';
import { nativeKernels } from './kernels.js';
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

/** Splits `b` into parts of the given sizes (views), the rest as a last part. */
function split(b: Uint8Array, sizes: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) {
    parts.push(b.subarray(at, at + n));
    at += n;
  }
  parts.push(b.subarray(at));
  return parts;
}

test('segment crypto: sealing in place and opening from pieces give encryptSegment\'s bytes, native and node:crypto alike', () => {
  const impls = [
    { name: 'dispatching', seal: sealSegmentInPlace, open: openSegmentInto },
    { name: 'node:crypto', seal: jsSealSegmentInPlace, open: jsOpenSegmentInto },
  ];
  for (const [s, pt, sealed] of VECTORS) {
    for (const { name, seal, open } of impls) {
      const data = Buffer.from(fromHex(pt));
      const tag = new Uint8Array(16);
      seal(key, s, data, tag);
      assert.equal(toHex(data) + toHex(tag), sealed, `${name} seal, segment ${s}`);
      const out = new Uint8Array(data.length + 3);
      open(key, s, split(data, [1, 0, 5]).filter((p, i) => i < 3 || p.length > 0), out, tag);
      assert.equal(toHex(out.subarray(0, data.length)), pt, `${name} open, segment ${s}`);
    }
  }
  // Megabytes, in pieces of any sizes, some in shared memory (the decoder's run buffers).
  for (const size of [1, 4095, 1 << 20, 4 * (1 << 20) - 16]) {
    const pt = randomBytes(size);
    const expected = encryptSegment(key, 9, pt);
    for (const { name, seal, open } of impls) {
      const data = Buffer.from(new SharedArrayBuffer(size));
      pt.copy(data);
      const tag = new Uint8Array(16);
      seal(key, 9, data, tag);
      assert.ok(Buffer.concat([data, tag]).equals(expected), `${name} seal of ${size} bytes`);
      const out = Buffer.alloc(size);
      open(key, 9, split(data, [Math.floor(size / 3), Math.floor(size / 3)]), out, tag);
      assert.ok(out.equals(pt), `${name} open of ${size} bytes`);
    }
  }
});

test('segment crypto: opening refuses a flipped bit, a wrong tag, index or key, and parts that do not fit', () => {
  const pt = randomBytes(100_000);
  const sealed = Buffer.from(encryptSegment(key, 3, pt));
  const ct = sealed.subarray(0, pt.length);
  const tag = sealed.subarray(pt.length);
  const out = Buffer.alloc(pt.length);
  const failed = (e: unknown) => e instanceof StorageError && e.code === 'DECRYPT_FAILED';
  for (const open of [openSegmentInto, jsOpenSegmentInto]) {
    const flipped = Buffer.from(ct);
    flipped[77_777] = (flipped[77_777] as number) ^ 1;
    assert.throws(() => open(key, 3, [flipped], out, tag), failed);
    const badTag = Buffer.from(tag);
    badTag[15] = (badTag[15] as number) ^ 0x80;
    assert.throws(() => open(key, 3, [ct], out, badTag), failed);
    assert.throws(() => open(key, 4, [ct], out, tag), failed);
    assert.throws(() => open(newFileKey(), 3, [ct], out, tag), failed);
    assert.throws(() => open(key, 3, [ct.subarray(0, 1000)], out, tag), failed); // truncated
  }
  assert.throws(() => openSegmentInto(key, 3, [ct, ct], out, tag), RangeError);
  assert.throws(() => openSegmentInto(key, 3, [ct], out, tag.subarray(1)), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_TAG');
  assert.throws(() => sealSegmentInPlace(key.subarray(1), 3, Buffer.from(pt), new Uint8Array(16)), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_FILE_KEY');
});

test('segment crypto: the native GCM kernels refuse calls that would read or write outside their arrays', () => {
  const native = nativeKernels;
  if (native === null) return;
  const nonce = segmentNonce(1);
  const tag = new Uint8Array(16);
  const data = new Uint8Array(64);
  const type = { name: 'TypeError' };
  const range = { name: 'RangeError' };
  assert.throws(() => native.gcmSeal(key.subarray(1), nonce, SEGMENT_AAD, data, tag), range);
  assert.throws(() => native.gcmSeal(key, nonce.subarray(1), SEGMENT_AAD, data, tag), range);
  assert.throws(() => native.gcmSeal(key, nonce, SEGMENT_AAD, data, tag.subarray(1)), range);
  assert.throws(() => native.gcmSeal(key, nonce, 'aad' as unknown as Uint8Array, data, tag), type);
  assert.throws(() => native.gcmOpen(key, nonce, SEGMENT_AAD, [data, data], new Uint8Array(100), tag), range);
  assert.throws(() => native.gcmOpen(key, nonce, SEGMENT_AAD, data as unknown as Uint8Array[], new Uint8Array(100), tag), type);
  assert.throws(() => native.gcmOpen(key, nonce, SEGMENT_AAD, [data, 5 as unknown as Uint8Array], new Uint8Array(200), tag), type);
  assert.throws(() => native.gcmOpen(key, nonce, SEGMENT_AAD, Array.from({ length: 257 }, () => data.subarray(0, 0)), new Uint8Array(0), tag), range);
  assert.throws(() => (native.gcmOpen as (...a: unknown[]) => unknown)(key, nonce, SEGMENT_AAD, [data], data), type);
  // No parts, no AAD: still a valid (empty) message.
  native.gcmSeal(key, nonce, new Uint8Array(0), new Uint8Array(0), tag);
  assert.equal(native.gcmOpen(key, nonce, new Uint8Array(0), [], new Uint8Array(0), tag), true);
});
